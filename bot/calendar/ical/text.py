"""Plain, safe text from what a calendar gave: HTML gone, NFC, no controls, bounded length."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from icalendar import vBroken

from bot.i18n import strip_bidi_controls
from bot.i18n.text import clean_input

URL_MAX = 2_000

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_MANY_NEWLINES = re.compile(r"\n{3,}")
_TAG_AT = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)([^<>]*)>")
_HREF = re.compile(r"""href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.IGNORECASE)
# fmt: off
_INLINE_TAGS = frozenset({
    "a", "b", "i", "u", "s", "em", "strong", "span", "font", "small", "big", "sup", "sub",
    "code", "abbr", "cite", "mark", "img",
})
_BLOCK_TAGS = frozenset({
    "p", "div", "br", "hr", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table",
    "thead", "tbody", "tr", "td", "th", "blockquote", "pre", "figure", "figcaption",
    "section", "article", "header", "footer", "center", "dl", "dt", "dd",
})
# fmt: on
_SKIPPED_TAGS = frozenset({"script", "style"})


def text_of(value: object) -> str:
    """A text property's value; empty when missing or unreadable."""
    if value is None or isinstance(value, vBroken):
        return ""
    if isinstance(value, list):  # a property given twice: the first counts
        return text_of(value[0]) if value else ""
    return str(value)


def quote(value: str, limit: int) -> str:
    """A value from the file, quoted on one line for an error message."""
    value = " ".join(strip_bidi_controls(_CONTROL.sub(" ", value)).split())
    return "'" + (value if len(value) <= limit else value[: limit - 1] + "…") + "'"


def clean_text(value: str, limit: int) -> str:
    """Plain text from what a calendar gave: HTML gone, cleaned as typed text is, trimmed."""
    value = clean_input(_html_to_text(value[: limit * 4])).replace("\t", " ")
    lines = (_SPACES.sub(" ", line).strip() for line in value.split("\n"))
    value = _MANY_NEWLINES.sub("\n\n", "\n".join(lines)).strip()
    return _truncate(value, limit)


def clean_line(value: str, limit: int) -> str:
    """Like :func:`clean_text`, on one line."""
    return _truncate(" ".join(clean_text(value, limit * 4).split()), limit)


def clean_url(value: object) -> str | None:
    """An http(s) address without spaces or controls, or None."""
    url = text_of(value).strip()
    if not url or len(url) > URL_MAX or any(char.isspace() or ord(char) < 32 for char in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def _truncate(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def _html_to_text(value: str) -> str:
    """Text from the HTML that WordPress and Google put into descriptions.

    Only known HTML tags are removed, so "<https://example.org>" in plain text stays.
    Where block tags set the line breaks, the source's own line breaks are just spaces.
    A scanner rather than one big regex keeps the work linear on hostile input.
    """
    if "<" not in value and "&" not in value:
        return value
    out: list[str] = []
    link: tuple[str, int] | None = None
    lowered = value.lower()
    blocks = any(
        (match := _TAG_AT.match(value, index)) is not None and match.group(2).lower() in _BLOCK_TAGS
        for index in _positions(value, "<")
    )
    position = 0
    while position < len(value):
        opening = value.find("<", position)
        text = value[position : len(value) if opening < 0 else opening]
        out.append(" ".join(text.split("\n")) if blocks else text)
        if opening < 0:
            break
        if value.startswith("<!--", opening):
            closing = value.find("-->", opening + 4)
            position = len(value) if closing < 0 else closing + 3
            continue
        match = _TAG_AT.match(value, opening)
        tag = match.group(2).lower() if match else ""
        if match is None or tag not in _INLINE_TAGS | _BLOCK_TAGS | _SKIPPED_TAGS:
            out.append("<")
            position = opening + 1
            continue
        position = match.end()
        closing_tag = bool(match.group(1))
        if tag in _SKIPPED_TAGS and not closing_tag:
            end = lowered.find(f"</{tag}", position)
            position = len(value) if end < 0 else end
        elif tag == "a" and not closing_tag:
            href = _HREF.search(match.group(3))
            groups = [group for group in href.groups() if group is not None] if href else []
            link = (groups[0], len(out)) if groups else None
        elif tag == "a" and link is not None:
            target = html.unescape(link[0]).strip()
            label = html.unescape("".join(out[link[1] :])).strip()
            if clean_url(target) and target not in label:
                out.append(f" ({target})" if label else target)
            link = None
        elif tag == "li":
            out.append("" if closing_tag else "\n• ")
        elif tag == "p":
            out.append("\n\n")
        elif tag in ("td", "th"):
            out.append(" ")
        elif tag in _BLOCK_TAGS:
            out.append("\n")
    return html.unescape("".join(out))


def _positions(value: str, char: str) -> Iterator[int]:
    index = value.find(char)
    while index >= 0:
        yield index
        index = value.find(char, index + 1)
