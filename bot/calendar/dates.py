"""Dates as organisers type them ("05.12.2026 18:00", "18.11. 12-18 Uhr"), made exact.

Wall-clock times are turned into UTC instants in the event's zone. A time that does not exist
(clocks go forward) or happens twice (clocks go back) is reported, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_DATE = r"(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4}|\d{2})?"
_ISO = r"(?P<iy>\d{4})-(?P<im>\d{2})-(?P<id>\d{2})"
_TIME = r"(?P<{n}h>\d{{1,2}})(?:[:.](?P<{n}min>\d{{2}}))?"
_PATTERN = re.compile(
    rf"^(?:{_DATE}|{_ISO})\s*,?\s*(?:(?:um|at|ab|from)\s+)?"
    rf"(?:{_TIME.format(n='a')})?"
    rf"(?:\s*(?:-|–|bis|to|until)\s*{_TIME.format(n='b')})?"
    r"\s*(?:uhr|h)?\s*(?P<zone>mesz|mez|cest|cet)?\s*$",
    re.IGNORECASE,
)


FAR_YEARS = 5  # a date further ahead than this is a typing error
LONG_AGO_YEARS = 100  # and one this far back, too (a report may well look years back)


class DateProblem(ValueError):
    """Why a typed date cannot be used; ``kind`` selects the translated explanation."""

    def __init__(self, kind: str, **details: object) -> None:
        super().__init__(kind)
        self.kind = kind
        self.details = details


# Which of a wall-clock time that happens twice is meant: summer time first, winter time second.
_FOLDS = {"mesz": 0, "cest": 0, "mez": 1, "cet": 1}


@dataclass(frozen=True)
class Typed:
    """What was typed: a day, an optional start time and an optional end time (wall clock),
    and ``fold`` when a zone was named (CEST/MESZ 0, CET/MEZ 1) for a time that happens twice."""

    day: date
    start: time | None
    end: time | None
    fold: int | None = None


def parse(text: str, today: date) -> Typed:
    """Read a typed date; a date without a year is the next such day from ``today`` on.

    Years more than :data:`FAR_YEARS` ahead of ``today`` ("far") or :data:`LONG_AGO_YEARS`
    before it ("long_ago") are refused: they are typing errors, and near the ends of the
    calendar (01.01.0001, 31.12.9999) they cannot even be computed with.
    """
    match = _PATTERN.match(text.strip())
    if not match:
        raise DateProblem("format")
    try:
        if match.group("iy"):
            day = date(int(match.group("iy")), int(match.group("im")), int(match.group("id")))
        else:
            d, m, y = int(match.group("d")), int(match.group("m")), match.group("y")
            if y is None:
                day = date(today.year, m, d)
                if day < today:
                    day = date(today.year + 1, m, d)
            else:
                day = date(int(y) + (2000 if len(y) == 2 else 0), m, d)
        start = _time(match.group("ah"), match.group("amin"))
        end = _time(match.group("bh"), match.group("bmin"))
    except ValueError as exc:
        raise DateProblem("impossible") from exc
    if day.year > today.year + FAR_YEARS:
        raise DateProblem("far")
    if day.year < today.year - LONG_AGO_YEARS:
        raise DateProblem("long_ago")
    if end is not None and start is None:
        raise DateProblem("format")
    zone = match.group("zone")
    return Typed(day, start, end, _FOLDS[zone.lower()] if zone else None)


_CLOCK = re.compile(
    r"^(?P<h>\d{1,2})[:.](?P<min>\d{2})\s*(?:uhr|h)?\s*(?P<zone>mesz|mez|cest|cet)?\s*$",
    re.IGNORECASE,
)


def parse_clock(text: str) -> tuple[time, int | None] | None:
    """A bare time of day ("20:00", "02:30 CET") and its fold, or None if it is not one."""
    match = _CLOCK.match(text.strip())
    if not match:
        return None
    try:
        at = _time(match.group("h"), match.group("min"))
    except ValueError as exc:
        raise DateProblem("clock") from exc
    assert at is not None
    zone = match.group("zone")
    return at, _FOLDS[zone.lower()] if zone else None


def _time(hours: str | None, minutes: str | None) -> time | None:
    if hours is None:
        return None
    h, m = int(hours), int(minutes or 0)
    if h == 24 and m == 0:
        return time(23, 59)
    return time(h, m)


def exact(day: date, at: time, tz: ZoneInfo, fold: int | None = None) -> datetime:
    """The UTC instant of a wall-clock time; DateProblem "gap" or "twice" if not unique."""
    first = datetime.combine(day, at, tzinfo=tz).replace(fold=0)
    second = first.replace(fold=1)
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=tz) != first:
        raise DateProblem("gap", time=at.strftime("%H:%M"))
    if first.utcoffset() != second.utcoffset():
        if fold is None:
            raise DateProblem("twice", time=at.strftime("%H:%M"))
        return (second if fold else first).astimezone(UTC)
    return first.astimezone(UTC)


def end_after(
    start: datetime, day: date, at: time, tz: ZoneInfo, fold: int | None = None
) -> datetime:
    """An end time on the start's day, or the next day when it is earlier (a night event);
    ``fold`` settles an end that happens twice (CEST 0, CET 1), as for :func:`exact`."""
    end = exact(day, at, tz, fold)
    if end <= start:
        end = exact(day + timedelta(days=1), at, tz, fold)
    return end
