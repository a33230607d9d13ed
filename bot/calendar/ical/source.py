"""The file itself, read safely: size, encoding, structure and nesting limits, line numbers.

icalendar does not keep line numbers, so the content lines are scanned here first; every
refusal is an :class:`IcalError` that names the line where it can.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from icalendar import Calendar, Component
from icalendar.parser import Contentline

from bot.calendar.ical.text import quote

# Bounds that keep a hostile file cheap; real calendars stay far below them.
MAX_DEPTH = 10
MAX_ZONES = 20

_content_line: Callable[[str], Any] = Contentline


class IcalError(ValueError):
    """The file cannot be imported; the message says why, for the person who sent it."""


def prop(component: Component, name: str, default: Any = None) -> Any:
    """A property as icalendar parsed it; any name can hold any value type, so typed loosely."""
    return component.get(name, default)


def decode(data: bytes, max_bytes: int) -> str:
    """The file's text: at most ``max_bytes``, UTF-8 (with or without BOM), no NUL bytes."""
    if len(data) > max_bytes:
        raise IcalError(
            f"the file is {_size(len(data))}, larger than the limit of {_size(max_bytes)}"
        )
    if not data.strip():
        raise IcalError("the file is empty")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise IcalError(
            f"line {line}: the text is not UTF-8 (byte 0x{data[exc.start]:02X}); "
            "export or save the calendar as UTF-8"
        ) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise IcalError(f"line {line}: the file contains NUL bytes; it is not a text file")
    return text


def _size(count: int) -> str:
    return f"{count / 1_000_000:.1f} MB" if count >= 100_000 else f"{count:,} bytes"


@dataclass
class Block:
    """Where one VEVENT and its properties are in the file, for error messages."""

    begin: int
    lines: list[tuple[int, str]] = field(default_factory=list)  # number, property name

    def line_of(self, name: str) -> int:
        """The line of the VEVENT's first ``name`` property, or of its BEGIN."""
        for number, prop_name in self.lines:
            if prop_name == name:
                return number
        return self.begin


@dataclass
class Layout:
    """The file's content lines with their line numbers (icalendar does not keep them)."""

    lines: list[tuple[int, str]]
    events: list[Block]

    @classmethod
    def scan(cls, text: str) -> Layout:
        """Unfold the lines and check the structure: one calendar, nesting and zone limits."""
        lines: list[tuple[int, str]] = []
        for number, raw in enumerate(text.split("\n"), start=1):
            line = raw.removesuffix("\r")
            if line[:1] in (" ", "\t") and lines:
                lines[-1] = (lines[-1][0], lines[-1][1] + line[1:])
            elif line.strip():
                lines.append((number, line))
        if not lines or lines[0][1].strip().upper() != "BEGIN:VCALENDAR":
            first = lines[0][1].strip() if lines else ""
            if first.startswith("<"):
                raise IcalError(
                    "this is an HTML or XML page, not an iCalendar file; "
                    "check that the address points to the calendar export (.ics)"
                )
            raise IcalError(
                f"line {lines[0][0] if lines else 1}: not an iCalendar file; it must start "
                f"with BEGIN:VCALENDAR, not {quote(first, 40)}"
            )
        events: list[Block] = []
        depth = 0
        current: Block | None = None
        for number, line in lines:
            name = re.split("[;:]", line, maxsplit=1)[0].strip().upper()
            value = line.partition(":")[2].strip().upper()
            if name == "BEGIN":
                if depth == 0 and number != lines[0][0]:
                    raise IcalError(f"line {number}: the file holds more than one calendar")
                depth += 1
                if depth > MAX_DEPTH:
                    raise IcalError(f"line {number}: components are nested too deeply")
                if value == "VEVENT":
                    current = Block(number)
                    events.append(current)
            elif name == "END":
                depth -= 1
                if value == "VEVENT":
                    current = None
            elif current is not None:
                current.lines.append((number, name))
        if depth > 0:
            raise IcalError(
                f"the file ends before END:VCALENDAR ({depth} component(s) not closed); "
                "was the download cut off?"
            )
        zones = sum(1 for _, line in lines if line.strip().upper() == "BEGIN:VTIMEZONE")
        if zones > MAX_ZONES:
            raise IcalError(f"the file defines {zones} time zones; at most {MAX_ZONES} are read")
        return cls(lines, events)

    def broken_line(self) -> tuple[int, str] | None:
        """The first content line icalendar cannot split into name, parameters and value."""
        for number, line in self.lines:
            try:
                _content_line(line).parts()
            except Exception:
                return number, line
        return None


def parse(text: str, layout: Layout) -> Calendar:
    """The calendar icalendar reads from ``text``; a broken line is named by its number."""
    try:
        # Bytes, not str: icalendar reads a str without line breaks as a file path.
        calendar = Calendar.from_ical(text.encode("utf-8"))
    except Exception as exc:
        broken = layout.broken_line()
        if broken is not None:
            raise IcalError(
                f"line {broken[0]}: cannot read {quote(broken[1], 60)}; "
                "expected NAME:value or NAME;PARAMETER=x:value"
            ) from None
        raise IcalError(f"the calendar cannot be read: {quote(str(exc), 120)}") from None
    if calendar.name != "VCALENDAR":
        raise IcalError("not an iCalendar file; the outermost component must be VCALENDAR")
    return calendar


@dataclass
class Source:
    """One VEVENT of the file with where it is, for error messages that name it."""

    component: Component
    block: Block
    title: str

    def error(self, name: str, problem: str) -> IcalError:
        """``problem`` with the line of property ``name`` and the VEVENT's title or UID."""
        line = self.block.line_of(name) if name else self.block.begin
        label = self.title or str(prop(self.component, "UID", "")).strip()
        where = f" in VEVENT {quote(label, 60)}" if label else " in a VEVENT"
        prefix = f"line {line}: " if line else ""
        return IcalError(f"{prefix}{problem}{where}")
