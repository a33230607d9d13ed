"""Planning by the wall clock of a time zone, always ending in a UTC instant.

"A day before" an event at 10:00 is 10:00 the day before, also across a change of the clocks
(23 or 25 hours earlier); hours and minutes before are exact durations. A wall-clock time that
falls into the spring gap is read as the same distance after the gap (02:30 → 03:30), and one
that happens twice in autumn as its first occurrence: every planned instant is exactly one.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 24 * 60


def instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time (see the module's rule for gaps and folds)."""
    local = datetime.combine(day, at, tzinfo=tz).replace(fold=0)
    return local.astimezone(UTC)


def before(start: datetime, minutes: int, tz: ZoneInfo) -> datetime:
    """``minutes`` before ``start``: whole days by the wall clock of ``tz``, the rest exact."""
    days, rest = divmod(minutes, MINUTES_PER_DAY)
    moment = start
    if days:
        local = start.astimezone(tz)
        moment = instant(local.date() - timedelta(days=days), local.time().replace(tzinfo=None), tz)
    return moment - timedelta(minutes=rest)


def quiet_end(
    moment: datetime, tz: ZoneInfo, start: int | None, end: int | None
) -> datetime | None:
    """When the quiet hours (``start`` to ``end`` o'clock in ``tz``) around ``moment`` end, or
    None when ``moment`` is not in them (or there are none)."""
    if start is None or end is None or start == end:
        return None
    local = moment.astimezone(tz)
    hour = local.hour
    overnight = start > end
    quiet = (hour >= start or hour < end) if overnight else (start <= hour < end)
    if not quiet:
        return None
    day = local.date()
    if overnight and hour >= start:
        day += timedelta(days=1)
    return instant(day, time(end), tz)


def next_at(after: datetime, hour: int, tz: ZoneInfo, weekday: int | None = None) -> datetime:
    """The first instant strictly after ``after`` that is ``hour`` o'clock in ``tz`` (on
    ``weekday``, 0 = Monday, when given)."""
    day = after.astimezone(tz).date()
    for offset in range(0, 9):
        candidate_day = day + timedelta(days=offset)
        if weekday is not None and candidate_day.weekday() != weekday:
            continue
        candidate = instant(candidate_day, time(hour), tz)
        if candidate > after:
            return candidate
    raise AssertionError("a week always has the day")  # pragma: no cover
