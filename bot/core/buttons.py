"""Typed button data: one small codec per kind of button, packed and unpacked side by side.

A kind of button is a frozen dataclass that names its ``prefix`` and declares its fields::

    @dataclass(frozen=True)
    class Answer(ButtonData, prefix="r"):
        event: RowId
        answer: Literal["g", "m", "n"]

``Answer(12, "g").pack()`` gives ``"r:12:g"``; ``Answer.unpack("r:12:g")`` gives it back, and
anything else (another prefix, a missing part, ``"r:12:x"``, ``"r:-1:g"``) raises
:class:`StaleButton`. Field types: ``int`` (0 … 2³¹−1), ``Annotated[int, Between(low, high)]``,
``bool`` (``1``/``0``), ``Literal[…]`` of strings or ints, ``Annotated[str, Matches(regex)]``,
a :class:`Part` class packed into one part by itself, and any of these ``| None`` (``-``).
"""

from __future__ import annotations

import dataclasses
import re
import types
from collections.abc import Callable
from dataclasses import dataclass
from typing import (
    Annotated,
    Any,
    ClassVar,
    Literal,
    Protocol,
    Self,
    Union,
    get_args,
    get_origin,
    get_type_hints,
    runtime_checkable,
)

from bot.core.chat import MAX_BUTTON_DATA_BYTES
from bot.core.errors import StaleButton

SEP = ":"
NONE = "-"
MAX_INT = 2**31 - 1
_PREFIX = re.compile(r"[a-z][a-z0-9]*(?::[a-z][a-z0-9]*)*")


@dataclass(frozen=True)
class Between:
    """The numbers an ``int`` field accepts, both ends included."""

    low: int
    high: int


@dataclass(frozen=True)
class Matches:
    """The pattern a ``str`` field must match in full (it can never hold ``:``)."""

    pattern: str


RowId = Annotated[int, Between(1, MAX_INT)]  # a database id
Locale = Annotated[str, Matches(r"[a-z]{2,3}(?:_[A-Z]{2})?")]


@runtime_checkable
class Part(Protocol):
    """A value with its own one-part encoding (say ``a30`` for "all events, from the 31st")."""

    def pack_part(self) -> str: ...

    @classmethod
    def unpack_part(cls, raw: str) -> Self: ...


_Codec = tuple[Callable[[Any], str], Callable[[str], Any]]  # encode, decode


@dataclass(frozen=True)
class _Field:
    name: str
    encode: Callable[[Any], str]
    decode: Callable[[str], Any]


def _number(low: int, high: int) -> _Codec:
    def decode(raw: str) -> int:
        if not raw.isascii() or not raw.isdigit() or len(raw) > len(str(high)):
            raise StaleButton("not a number")
        value = int(raw)
        if not low <= value <= high:
            raise StaleButton("out of range")
        return value

    return str, decode


def _choice(values: tuple[Any, ...]) -> _Codec:
    by_text = {str(value): value for value in values}

    def decode(raw: str) -> Any:
        if raw not in by_text:
            raise StaleButton("unknown choice")
        return by_text[raw]

    return str, decode


def _matching(pattern: str) -> _Codec:
    compiled = re.compile(pattern)

    def decode(raw: str) -> str:
        if not compiled.fullmatch(raw):
            raise StaleButton("malformed text")
        return raw

    return str, decode


def _optional(inner: _Codec) -> _Codec:
    encode, decode = inner
    return (
        lambda value: NONE if value is None else encode(value),
        lambda raw: None if raw == NONE else decode(raw),
    )


def _codec(hint: Any, where: str) -> _Codec:
    """The encoder and decoder of one field type; an unsupported type is a programming error."""
    origin, args = get_origin(hint), get_args(hint)
    if origin in (types.UnionType, Union):
        rest = [a for a in args if a is not type(None)]
        if len(args) == 2 and len(rest) == 1:
            return _optional(_codec(rest[0], where))
    elif origin is Annotated:
        base, marks = args[0], args[1:]
        if base is int and len(marks) == 1 and isinstance(marks[0], Between):
            return _number(marks[0].low, marks[0].high)
        if base is str and len(marks) == 1 and isinstance(marks[0], Matches):
            return _matching(marks[0].pattern)
    elif origin is Literal:
        if all(type(a) in (str, int) and SEP not in str(a) and str(a) != NONE for a in args):
            return _choice(args)
    elif hint is bool:
        return _flag_text, _flag
    elif hint is int:
        return _number(0, MAX_INT)
    elif isinstance(hint, type) and issubclass(hint, Part):
        return (lambda value: value.pack_part()), hint.unpack_part
    raise TypeError(f"{where}: a button field cannot be of type {hint!r}")


def _flag_text(value: Any) -> str:
    return "1" if value else "0"


def _flag(raw: str) -> bool:
    if raw not in ("0", "1"):
        raise StaleButton("not a flag")
    return raw == "1"


class ButtonData:
    """The base of every kind of button: ``prefix`` first, then one part per field."""

    prefix: ClassVar[str]
    _fields: ClassVar[tuple[_Field, ...]]

    def __init_subclass__(cls, *, prefix: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not _PREFIX.fullmatch(prefix):
            raise ValueError(f"{cls.__name__}: bad button prefix {prefix!r}")
        cls.prefix = prefix

    @classmethod
    def fields(cls) -> tuple[_Field, ...]:
        """The fields in order with their codecs, worked out once per class."""
        cached: tuple[_Field, ...] | None = cls.__dict__.get("_fields")
        if cached is not None:
            return cached
        params = getattr(cls, "__dataclass_params__", None)
        if "__dataclass_fields__" not in cls.__dict__ or params is None or not params.frozen:
            raise TypeError(f"{cls.__name__} must be a frozen dataclass")
        hints = get_type_hints(cls, include_extras=True)
        found = []
        for spec in dataclasses.fields(cls):  # type: ignore[arg-type]
            where = f"{cls.__name__}.{spec.name}"
            found.append(_Field(spec.name, *_codec(hints[spec.name], where)))
        cls._fields = tuple(found)
        return cls._fields

    @classmethod
    def prefix_parts(cls) -> int:
        """How many parts the prefix takes (``bc:v`` takes two)."""
        return cls.prefix.count(SEP) + 1

    def pack(self) -> str:
        """The data to put on a button; a value it could not carry back is a ``ValueError``."""
        parts = [self.prefix]
        for spec in self.fields():
            part = spec.encode(getattr(self, spec.name))
            if not part or SEP in part:
                raise ValueError(f"{type(self).__name__}.{spec.name} packs to {part!r}")
            parts.append(part)
        data = SEP.join(parts)
        if len(data.encode("utf-8")) > MAX_BUTTON_DATA_BYTES:
            raise ValueError(f"{type(self).__name__} packs to more than 64 bytes")
        try:
            unpacked = self.unpack(data)
        except StaleButton as exc:
            raise ValueError(f"{type(self).__name__} packs a value it refuses: {exc}") from exc
        if unpacked != self:
            raise ValueError(f"{type(self).__name__} does not come back as it was packed")
        return data

    @classmethod
    def unpack(cls, data: str) -> Self:
        """The button behind ``data``; StaleButton for anything this kind never packs."""
        if not data.isprintable():
            raise StaleButton("not printable")
        if not 0 < len(data.encode("utf-8")) <= MAX_BUTTON_DATA_BYTES:
            raise StaleButton("wrong size")
        parts = data.split(SEP)
        head, values = parts[: cls.prefix_parts()], parts[cls.prefix_parts() :]
        if SEP.join(head) != cls.prefix:
            raise StaleButton("another kind of button")
        specs = cls.fields()
        if len(values) != len(specs):
            raise StaleButton("wrong number of parts")
        decoded = {spec.name: spec.decode(raw) for spec, raw in zip(specs, values, strict=True)}
        return cls(**decoded)


@dataclass(frozen=True)
class EventsPage(ButtonData, prefix="ev"):
    """A page of upcoming events: ``s`` for my topics, ``a`` for all, from ``offset``.

    The core itself offers this one: every stale button's answer leads on to the events."""

    mode: Literal["s", "a"]
    offset: Annotated[int, Between(0, 99_999)]
