"""Safe text building: templates are trusted, every value put into them is escaped."""

from __future__ import annotations

import html
import re
import unicodedata

from markupsafe import Markup, escape

from bot.i18n import strip_bidi_controls

_TAG = re.compile(r"<[^>]+>")
# Control characters other than tab and newline, and lone surrogates (PostgreSQL refuses NUL,
# and a surrogate cannot be encoded at all).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
# Characters that show nothing: Unicode's default-ignorable code points (Hangul fillers,
# soft hyphen, variation selectors, tags …) and the blank Braille pattern. Together with
# spaces and the format and control categories, a text made only of them is blank.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f"
    "\u202a-\u202e\u2060-\u206f\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zs", "Zl", "Zp"})
# Letters that Unicode does not decompose into ASCII, spelled as German and Nordic writers do.
_TRANSLITERATION = str.maketrans(
    {
        "ä": "ae",
        "ö": "oe",
        "ü": "ue",
        "ß": "ss",
        "Ä": "Ae",
        "Ö": "Oe",
        "Ü": "Ue",
        "ẞ": "SS",
        "æ": "ae",
        "Æ": "Ae",
        "œ": "oe",
        "Œ": "Oe",
        "ø": "o",
        "Ø": "O",
        "å": "aa",
        "Å": "Aa",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "Ð": "D",
        "þ": "th",
        "Þ": "Th",
        "ı": "i",
    }
)


def fmt(template: str, **values: object) -> Markup:
    """Fill a translated template; values are escaped, never used as a format string."""
    return Markup(template).format(**values)  # noqa: S704 - templates are ours, values escaped


def bold(value: object) -> Markup:
    return Markup("<b>{}</b>").format(value)


def link(url: str, label: str | None = None) -> Markup:
    return Markup('<a href="{}">{}</a>').format(url, label or url)


def join(parts: list[Markup], sep: str = "\n") -> Markup:
    return Markup(sep).join(p for p in parts if p)  # noqa: S704 - a separator of ours


def plain(text: str) -> str:
    """The same text without markup, for transports and logs that show plain text."""
    return html.unescape(_TAG.sub("", str(text)))


def shorten(value: str, limit: int, *, keep_lines: bool = False) -> str:
    """Cut at a word boundary and add an ellipsis; never more than ``limit`` characters.

    Runs of spaces collapse; line breaks collapse too unless ``keep_lines``.
    """
    if keep_lines:
        lines = (" ".join(line.split()) for line in value.strip().splitlines())
        value = re.sub(r"\n{3,}", "\n\n", "\n".join(lines))
    else:
        value = " ".join(value.split())
    if len(value) <= limit:
        return value
    cut = value[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,.;:") + "…"


def chunks(value: str, size: int) -> list[str]:
    """Split a long text into parts of at most ``size`` characters, at spaces where possible."""
    parts: list[str] = []
    rest = value.strip()
    while len(rest) > size:
        cut = rest.rfind(" ", size // 2, size)
        cut = cut if cut > 0 else size
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        parts.append(rest)
    return parts


def clean_input(value: str) -> str:
    """Text from outside (typed, pressed, imported) made safe to store and show.

    Line breaks become ``\\n``; other control characters but tab, lone surrogates and bidi
    embedding, override and isolate controls go; the rest is NFC and trimmed.
    """
    value = _UNSAFE.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    return strip_bidi_controls(unicodedata.normalize("NFC", value)).strip()


def slug(value: str, limit: int) -> str:
    """Lower-case ASCII words joined by "-", at most ``limit`` long: "Müßiggang" → "muessiggang".

    Empty when no Latin letter or digit is left (an Arabic or Cyrillic name, say); the caller
    chooses what to use then.
    """
    ascii_text = (
        unicodedata.normalize("NFKD", value.translate(_TRANSLITERATION))
        .encode("ascii", "ignore")
        .decode("ascii")
    )
    result = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(result) > limit:
        cut = result[: limit + 1]
        # Prefer ending at a word boundary unless that throws away most of the name.
        boundary = cut.rfind("-")
        result = (cut[:boundary] if boundary > limit // 2 else cut[:limit]).strip("-")
    return result


def is_blank(value: str) -> bool:
    """Nothing a reader can see: empty, or only spaces and invisible characters."""
    return all(
        char.isspace()
        or unicodedata.category(char) in _INVISIBLE_CATEGORIES
        or _INVISIBLE.match(char) is not None
        for char in value
    )


__all__ = [
    "Markup",
    "bold",
    "chunks",
    "clean_input",
    "escape",
    "fmt",
    "is_blank",
    "join",
    "link",
    "plain",
    "shorten",
    "slug",
]
