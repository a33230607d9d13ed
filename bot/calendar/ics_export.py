"""Calendar files (RFC 5545) that people can add to their own calendar.

Times are written in the event's own zone (``DTSTART;TZID=Europe/Berlin:…``) together with a
``VTIMEZONE`` that describes that zone for the years the events fall in, so calendars that do not
know the zone name still place the event at the right instant.

The ``VTIMEZONE`` is built here from :mod:`zoneinfo` rather than with icalendar's
``Timezone.from_tzinfo`` / ``Calendar.add_missing_timezones``: icalendar 7.3 writes the onset of
daylight saving time in the new offset (``DTSTART:…T030000`` with ``TZOFFSETFROM:+0100`` for
Berlin), which RFC 5545 §3.6.5 reads as one hour too late. Here every onset is the wall-clock
time in ``TZOFFSETFROM``, as the RFC requires.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard

from bot.calendar.zones import UTC_NAMES
from bot.i18n.text import slug
from storage.records import EventRecord

PRODID = "-//Treffpunkt//Treffpunkt 0.1//EN"
DEFAULT_DURATION = timedelta(hours=2)
MAX_FILENAME = 60

_SCAN_STEP = timedelta(days=1)
_ZERO = timedelta(0)


def event_ics(
    event: EventRecord,
    *,
    title: str,
    description: str,
    url: str | None = None,
    now: datetime,
) -> bytes:
    """One event as a calendar file (``text/calendar``, UTF-8, CRLF line endings)."""
    calendar = _calendar()
    _add_events(calendar, [(event, title, description, url)], now)
    return bytes(calendar.to_ical())


def calendar_ics(items: list[tuple[EventRecord, str, str]], *, name: str, now: datetime) -> bytes:
    """Several events, each given as ``(event, title, description)``, as one calendar file."""
    calendar = _calendar()
    calendar.add("NAME", name)
    calendar.add("X-WR-CALNAME", name)
    _add_events(calendar, [(event, title, text, None) for event, title, text in items], now)
    return bytes(calendar.to_ical())


def ics_filename(title: str) -> str:
    """A safe ASCII file name for a calendar file, such as ``offener-treff-der-werkstatt.ics``."""
    return f"{slug(title, MAX_FILENAME - len('.ics')) or 'event'}.ics"


def _calendar() -> Calendar:
    calendar = Calendar()
    calendar.add("PRODID", PRODID)
    calendar.add("VERSION", "2.0")
    calendar.add("CALSCALE", "GREGORIAN")
    calendar.add("METHOD", "PUBLISH")
    return calendar


def _add_events(
    calendar: Calendar,
    items: list[tuple[EventRecord, str, str, str | None]],
    now: datetime,
) -> None:
    stamp = _as_utc(now)
    spans: dict[str, tuple[ZoneInfo, datetime, datetime]] = {}
    for event, *_ in items:
        zone = _zone(event.timezone)
        if zone is not None:
            start, end = _span(event)
            _, first, last = spans.get(zone.key, (zone, start, end))
            spans[zone.key] = (zone, min(first, start), max(last, end))
    for zone, first, last in spans.values():
        calendar.add_component(_vtimezone(zone, first, last))
    for event, title, description, url in items:
        calendar.add_component(_vevent(event, title, description, url, stamp=stamp))


def _span(event: EventRecord) -> tuple[datetime, datetime]:
    """Start and end as UTC instants; an event without a (sensible) end lasts two hours."""
    start = _as_utc(event.starts_at)
    end = _as_utc(event.ends_at) if event.ends_at is not None else None
    if end is None or end <= start:
        end = start + DEFAULT_DURATION
    return start, end


def _vevent(
    event: EventRecord, title: str, description: str, url: str | None, *, stamp: datetime
) -> Event:
    zone = _zone(event.timezone)
    start, end = _span(event)
    link = url or event.online_url
    location = event.place or (event.online_url if event.online_url != link else None)
    lines = [description.strip()]
    if event.online_url and event.online_url not in (link, location):
        lines.append(event.online_url)
    lines.append(event.organisation_name)

    vevent = Event()
    vevent.add("UID", f"treffpunkt-event-{event.id}@treffpunkt")
    vevent.add("DTSTAMP", stamp)
    days = _all_day(start, end, zone)
    if days is not None:
        # Dates, not midnights: calendars show the event on its days, in every time zone.
        vevent.add("DTSTART", days[0])
        vevent.add("DTEND", days[1])
    else:
        vevent.add("DTSTART", _local(start, zone))
        vevent.add("DTEND", _local(end, zone))
    vevent.add("SUMMARY", title)
    vevent.add("DESCRIPTION", "\n\n".join(line for line in lines if line))
    if location:
        vevent.add("LOCATION", location)
    if link:
        vevent.add("URL", link)
    vevent.add("STATUS", "CANCELLED" if event.status == "cancelled" else "CONFIRMED")
    return vevent


def _all_day(start: datetime, end: datetime, zone: ZoneInfo | None) -> tuple[date, date] | None:
    """The first day and the day after the last (iCal's DTEND for dates) of an event that
    runs from midnight to midnight in its zone, or None for an event with times."""
    if zone is None:
        return None
    first, after = start.astimezone(zone), end.astimezone(zone)
    if first.time() != time(0) or after.time() != time(0) or after.date() <= first.date():
        return None
    return first.date(), after.date()


def _local(instant: datetime, zone: ZoneInfo | None) -> datetime:
    """``instant`` in the event's zone, so calendars show the zone — except in the hour that
    repeats when clocks go back: RFC 5545 §3.3.5 reads such a local time as its first
    occurrence, so an instant in the second one is written in UTC instead."""
    if zone is None:
        return instant
    local = instant.astimezone(zone)
    if local.fold and local.replace(fold=0).utcoffset() != local.utcoffset():
        return instant
    return local


def _as_utc(moment: datetime) -> datetime:
    """Stored instants are UTC; a naive one is read as UTC too."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _zone(name: str) -> ZoneInfo | None:
    """The IANA zone, or ``None`` (times then go out in UTC) for UTC or an unknown name."""
    if name in UTC_NAMES:  # "…Z" times need no VTIMEZONE
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


_Observance = tuple[timedelta, timedelta, str]  # UTC offset, DST part, abbreviation


def _observance(zone: ZoneInfo, instant: datetime) -> _Observance:
    local = instant.astimezone(zone)
    offset = local.utcoffset() or _ZERO
    return offset, local.dst() or _ZERO, local.tzname() or _offset_name(offset)


def _offset_name(offset: timedelta) -> str:
    minutes = int(offset.total_seconds()) // 60
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"


def _transitions(
    zone: ZoneInfo, first: datetime, last: datetime
) -> Iterable[tuple[datetime, _Observance, _Observance]]:
    """Each change of observance in [first, last) as (UTC instant, before, after)."""
    moment, current = first, _observance(zone, first)
    while moment < last:
        step = min(moment + _SCAN_STEP, last)
        after = _observance(zone, step)
        if after != current:
            low, high = moment, step
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) // 2
                middle = middle.replace(microsecond=0)
                if _observance(zone, middle) == current:
                    low = middle
                else:
                    high = middle
            after = _observance(zone, high)
            yield high, current, after
            current = after
            step = high
        moment = step


def _vtimezone(zone: ZoneInfo, first_event: datetime, last_event: datetime) -> Timezone:
    """A VTIMEZONE for ``zone`` covering the whole calendar years of the given UTC instants."""
    first = datetime(first_event.astimezone(zone).year, 1, 1, tzinfo=zone).astimezone(UTC)
    last = datetime(last_event.astimezone(zone).year + 1, 1, 1, tzinfo=zone).astimezone(UTC)
    initial = _observance(zone, first)
    # (is daylight, offset from, offset to, name) → local onsets, in TZOFFSETFROM wall-clock time.
    onsets: dict[tuple[bool, timedelta, timedelta, str], list[datetime]] = {
        (initial[1] != _ZERO, initial[0], initial[0], initial[2]): [
            (first + initial[0]).replace(tzinfo=None)
        ]
    }
    for instant, before, after in _transitions(zone, first, last):
        key = (after[1] != _ZERO, before[0], after[0], after[2])
        onsets.setdefault(key, []).append((instant + before[0]).replace(tzinfo=None))

    vtimezone = Timezone()
    vtimezone.add("TZID", zone.key)
    for (daylight, offset_from, offset_to, name), starts in onsets.items():
        part = TimezoneDaylight() if daylight else TimezoneStandard()
        part.DTSTART = starts[0]
        if len(starts) > 1:
            part.add("RDATE", starts[1:])
        part.TZOFFSETFROM = offset_from
        part.TZOFFSETTO = offset_to
        part.add("TZNAME", name)
        vtimezone.add_component(part)
    return vtimezone
