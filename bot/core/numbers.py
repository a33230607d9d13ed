"""Numbers people type, after a command or as an answer: digits within a range, or None.

``str.isdigit()`` takes "²" for a digit that ``int()`` then refuses, and thirty nines make a
number no database column holds: every number a person types (an id after a command, an
answer in a conversation, a numbered button in the console or on Matrix) is read here.
Besides ASCII digits, the Arabic-Indic ones (٠–٩) and the Persian ones (۰–۹) are read, as
Arabic and Persian keyboards type them; any other character makes it no number.
"""

from __future__ import annotations

from bot.core.buttons import MAX_INT

# Arabic-Indic and Persian (extended Arabic-Indic) digits, each to its ASCII digit.
_EASTERN_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "0123456789" * 2)


def parse_number(text: str, low: int, high: int) -> int | None:
    """The number ``text`` spells in digits and nothing else, if within ``low``..``high``;
    else None."""
    text = text.translate(_EASTERN_DIGITS)
    if not text.isascii() or not text.isdigit():
        return None
    digits = text.lstrip("0") or "0"
    if len(digits) > len(str(high)):  # and int() never reads thousands of digits
        return None
    value = int(digits)
    return value if low <= value <= high else None


def parse_id(text: str) -> int | None:
    """A row's number (an event, an organisation) as typed: 1 … 2³¹−1, else None."""
    return parse_number(text, 1, MAX_INT)
