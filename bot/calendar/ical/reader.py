"""The import from bytes to events: read the file, check every VEVENT, then expand them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from icalendar import Calendar

from bot.calendar.ical.checks import Checker
from bot.calendar.ical.events import ImportedEvent, to_event
from bot.calendar.ical.series import Series, expand
from bot.calendar.ical.source import Block, IcalError, Layout, Source, decode, parse, prop
from bot.calendar.ical.text import clean_line, quote, text_of
from bot.calendar.ical.timezones import Window, Zones, zone_by_name


def parse_calendar(
    data: bytes,
    *,
    now: datetime,
    horizon_days: int = 120,
    default_tz: str = "Europe/Berlin",
    max_bytes: int = 2_000_000,
    max_events: int = 2_000,
) -> list[ImportedEvent]:
    """The events of ``data`` that end after ``now`` and start within ``horizon_days``.

    Recurring events are expanded into one event per occurrence. Sorted by
    (starts_at, uid). Raises :class:`IcalError` for a file that cannot be imported.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    fallback = zone_by_name(default_tz)
    if fallback is None:
        raise ValueError(f"default_tz {default_tz!r} is not an IANA time zone")
    text = decode(data, max_bytes)
    layout = Layout.scan(text)
    calendar = parse(text, layout)
    window = Window(now.astimezone(UTC), now.astimezone(UTC) + timedelta(days=horizon_days))
    wr_timezone = calendar.get("X-WR-TIMEZONE")
    zone = fallback
    if wr_timezone is not None:
        named = zone_by_name(str(wr_timezone))
        if named is None:
            raise IcalError(f"X-WR-TIMEZONE {quote(str(wr_timezone), 60)} is not a known time zone")
        zone = named
    checker = Checker(
        Zones(calendar, window, [zone.key]),
        zone,
        utc_means_zone=wr_timezone is not None,
        window=window,
        max_events=max_events,
    )
    series = Series(zone)
    _check_all(calendar, layout, checker, series)
    # Times are now all aware and in their real zones; the library must not move them.
    calendar.pop("X-WR-TIMEZONE", None)
    events: dict[str, ImportedEvent] = {}
    for occurrence in expand(calendar, window):
        event = to_event(occurrence, zone=zone, window=window, series=series)
        if event is None:
            continue
        known = events.get(event.uid)
        if known is None or (known.sequence, known.fingerprint) < (
            event.sequence,
            event.fingerprint,
        ):
            events[event.uid] = event
        if len(events) > max_events:
            raise IcalError(
                f"the calendar has more than {max_events} events in the next {window.days} days"
            )
    return sorted(events.values(), key=lambda event: (event.starts_at, event.uid))


def _check_all(calendar: Calendar, layout: Layout, checker: Checker, series: Series) -> None:
    components = list(calendar.walk("VEVENT"))
    blocks = layout.events
    if len(blocks) != len(components):  # unbalanced BEGIN/END; keep messages honest
        blocks = [Block(0) for _ in components]
    for component, block in zip(components, blocks, strict=True):
        title = clean_line(text_of(prop(component, "SUMMARY")), 60)
        checker.check(Source(component, block, title))
        series.note(component)
