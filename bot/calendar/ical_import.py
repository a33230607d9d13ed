"""Read an iCalendar file (a WordPress, Google, Outlook or Nextcloud export) into events.

A pure parser: bytes in, :class:`ImportedEvent` values out, nothing stored. A file is
taken whole or not at all: anything broken or hostile raises :class:`IcalError` with a
message in plain English that names the problem and, where it can, the line.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, available_timezones

import recurring_ical_events  # type: ignore[import-untyped, unused-ignore]
from dateutil.rrule import rrulestr  # type: ignore[import-untyped, unused-ignore]
from icalendar import Calendar, Component, Timezone, vBroken, vDDDLists, vDDDTypes
from icalendar.parser import Contentline
from icalendar.timezone import tzp
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

__all__ = ["IcalError", "ImportedEvent", "parse_calendar"]

_content_line: Callable[[str], Any] = Contentline

TITLE_MAX = 300
DESCRIPTION_MAX = 10_000
PLACE_MAX = 300
URL_MAX = 2_000

# Bounds that keep a hostile file cheap; real calendars stay far below them.
_MAX_DEPTH = 10
_MAX_ZONES = 20
_MAX_RULE_STEPS = 100_000
# A rule repeats its pattern every 400 Gregorian years. Probed from its start moved by a
# multiple of 400 years to 9499-9898, dateutil gives up at year 9999 after at most 500
# years, instead of searching 8000 years when a rule like "every 30 February" never matches.
_PROBE_FROM_YEAR = 9_499

_UTC_KEYS = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Zulu"})
_BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
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
_DATE_PROPERTIES = ("DTSTART", "DTEND", "RECURRENCE-ID", "RDATE", "EXDATE")
_CHECKED_PROPERTIES = frozenset({*_DATE_PROPERTIES, "UID", "DURATION", "RRULE", "SEQUENCE"})
_SINGLE_PROPERTIES = ("UID", "DTSTART", "DTEND", "DURATION", "RECURRENCE-ID", "SEQUENCE")


class IcalError(ValueError):
    """The file cannot be imported; the message says why, for the person who sent it."""


@dataclass(frozen=True)
class ImportedEvent:
    """One upcoming event, or one occurrence of a recurring event, ready to store."""

    uid: str
    title: str
    description: str
    place: str | None
    url: str | None
    starts_at: datetime
    ends_at: datetime | None
    all_day: bool
    timezone: str
    cancelled: bool
    sequence: int
    fingerprint: str


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
    fallback = _zone_by_name(default_tz)
    if fallback is None:
        raise ValueError(f"default_tz {default_tz!r} is not an IANA time zone")
    text = _decode(data, max_bytes)
    layout = _Layout.scan(text)
    calendar = _parse(text, layout)
    window = _Window(now.astimezone(UTC), now.astimezone(UTC) + timedelta(days=horizon_days))
    reader = _Reader(calendar, layout, window, fallback, max_events)
    return reader.read()


# -- bytes to text --------------------------------------------------------------------------


def _decode(data: bytes, max_bytes: int) -> str:
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
class _Block:
    """Where one VEVENT and its properties are in the file, for error messages."""

    begin: int
    lines: list[tuple[int, str]] = field(default_factory=list)  # number, property name

    def line_of(self, name: str) -> int:
        for number, prop in self.lines:
            if prop == name:
                return number
        return self.begin


@dataclass
class _Layout:
    """The file's content lines with their line numbers (icalendar does not keep them)."""

    lines: list[tuple[int, str]]
    events: list[_Block]

    @classmethod
    def scan(cls, text: str) -> _Layout:
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
                f"with BEGIN:VCALENDAR, not {_quote(first, 40)}"
            )
        events: list[_Block] = []
        depth = 0
        current: _Block | None = None
        for number, line in lines:
            name = re.split("[;:]", line, maxsplit=1)[0].strip().upper()
            value = line.partition(":")[2].strip().upper()
            if name == "BEGIN":
                if depth == 0 and number != lines[0][0]:
                    raise IcalError(f"line {number}: the file holds more than one calendar")
                depth += 1
                if depth > _MAX_DEPTH:
                    raise IcalError(f"line {number}: components are nested too deeply")
                if value == "VEVENT":
                    current = _Block(number)
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
        if zones > _MAX_ZONES:
            raise IcalError(f"the file defines {zones} time zones; at most {_MAX_ZONES} are read")
        return cls(lines, events)

    def broken_line(self) -> tuple[int, str] | None:
        """The first content line icalendar cannot split into name, parameters and value."""
        for number, line in self.lines:
            try:
                _content_line(line).parts()
            except Exception:
                return number, line
        return None


def _parse(text: str, layout: _Layout) -> Calendar:
    try:
        # Bytes, not str: icalendar reads a str without line breaks as a file path.
        calendar = Calendar.from_ical(text.encode("utf-8"))
    except Exception as exc:
        broken = layout.broken_line()
        if broken is not None:
            raise IcalError(
                f"line {broken[0]}: cannot read {_quote(broken[1], 60)}; "
                "expected NAME:value or NAME;PARAMETER=x:value"
            ) from None
        raise IcalError(f"the calendar cannot be read: {_quote(str(exc), 120)}") from None
    if calendar.name != "VCALENDAR":
        raise IcalError("not an iCalendar file; the outermost component must be VCALENDAR")
    return calendar


# -- time zones -----------------------------------------------------------------------------


@cache
def _iana_names() -> frozenset[str]:
    return frozenset(available_timezones())


def _zone_by_name(name: str) -> ZoneInfo | None:
    """An IANA zone for a TZID: IANA names, Windows names, and vendor-prefixed IDs."""
    cleaned = name.strip().strip('"').strip()
    bare = cleaned.strip("/")
    candidates = [cleaned, bare]
    if bare in WINDOWS_TO_OLSON:
        candidates.append(WINDOWS_TO_OLSON[bare])
    if cleaned.startswith("/"):
        # Globally unique TZIDs such as /mozilla.org/20050126_1/Europe/Berlin.
        parts = bare.split("/")
        candidates.extend("/".join(parts[start:]) for start in range(1, len(parts)))
    for candidate in candidates:
        if candidate in _iana_names():
            return ZoneInfo(candidate)
    return None


def _is_utc(value: datetime) -> bool:
    return value.tzinfo is UTC or getattr(value.tzinfo, "key", None) in _UTC_KEYS


@dataclass(frozen=True)
class _Window:
    start: datetime
    end: datetime


class _Zones:
    """Resolves TZIDs once per file, without icalendar's process-wide cache of VTIMEZONEs.

    That cache keeps the first definition of a custom TZID it ever saw, so another file
    could change how this one is read; here every TZID is looked up by name, or matched
    against the IANA zones by the offsets this file's own VTIMEZONE gives.
    """

    def __init__(self, calendar: Calendar, window: _Window, preferred: list[str]) -> None:
        self._definitions: dict[str, Timezone] = {}
        for component in calendar.walk("VTIMEZONE"):
            tzid = str(_get(component, "TZID", "")).strip()
            if tzid and isinstance(component, Timezone):
                self._definitions.setdefault(tzid, component)
        self._window = window
        self._preferred = preferred
        self._resolved: dict[str, ZoneInfo | None] = {}

    def resolve(self, tzid: str) -> ZoneInfo | None:
        if tzid not in self._resolved:
            if len(self._resolved) >= _MAX_ZONES:
                raise IcalError(f"the file uses more than {_MAX_ZONES} different time zones")
            zone = _zone_by_name(tzid)
            if zone is None and tzid.strip() in self._definitions:
                zone = self._match(tzid, self._definitions[tzid.strip()])
            self._resolved[tzid] = zone
        return self._resolved[tzid]

    def _match(self, tzid: str, definition: Timezone) -> ZoneInfo:
        try:
            custom: tzinfo = definition.to_tz(tzp, lookup_tzid=False)
            first = self._window.start - timedelta(days=7)
            days = (self._window.end - first).days + 14
            samples = [first + timedelta(days=day) for day in range(0, days, 2)]
            offsets = [sample.astimezone(custom).utcoffset() for sample in samples]
        except Exception:
            raise IcalError(f"the VTIMEZONE {_quote(tzid, 60)} cannot be read") from None
        # Fixed offsets read best as Etc/GMT-5, and Europe's zones are the likely ones here.
        names = sorted(_iana_names(), key=lambda name: (not name.startswith("Etc/"), name))
        for name in [*self._preferred, *(n for n in names if n.startswith("Europe/")), *names]:
            zone = ZoneInfo(name)
            if all(
                sample.astimezone(zone).utcoffset() == offset
                for sample, offset in zip(samples, offsets, strict=True)
            ):
                return zone
        raise IcalError(f"the VTIMEZONE {_quote(tzid, 60)} matches no known time zone")


# -- reading events -------------------------------------------------------------------------


@dataclass
class _Source:
    """One VEVENT of the file with what is known about it before expansion."""

    component: Component
    block: _Block
    title: str


class _Reader:
    """Checks every VEVENT of a calendar, then expands them into upcoming events."""

    def __init__(
        self,
        calendar: Calendar,
        layout: _Layout,
        window: _Window,
        fallback: ZoneInfo,
        max_events: int,
    ) -> None:
        self._calendar = calendar
        self._layout = layout
        self._window = window
        self._max_events = max_events
        wr_timezone = calendar.get("X-WR-TIMEZONE")
        self._calendar_has_zone = wr_timezone is not None
        if wr_timezone is not None:
            zone = _zone_by_name(str(wr_timezone))
            if zone is None:
                raise IcalError(
                    f"X-WR-TIMEZONE {_quote(str(wr_timezone), 60)} is not a known time zone"
                )
            fallback = zone
        self._zone = fallback
        self._zones = _Zones(calendar, window, [fallback.key])
        self._recurring: set[str] = set()
        self._moves: dict[tuple[str, datetime], timedelta] = {}

    def read(self) -> list[ImportedEvent]:
        components = list(self._calendar.walk("VEVENT"))
        blocks = self._layout.events
        if len(blocks) != len(components):  # unbalanced BEGIN/END; keep messages honest
            blocks = [_Block(0) for _ in components]
        for component, block in zip(components, blocks, strict=True):
            self._check(component, block)
            uid = str(_get(component, "UID")).strip()
            if {"RRULE", "RDATE", "RECURRENCE-ID"} & set(component):
                self._recurring.add(uid)
            recurrence_id = _get(component, "RECURRENCE-ID")
            if (
                recurrence_id is not None
                and str(recurrence_id.params.get("RANGE", "")).upper() == "THISANDFUTURE"
            ):
                start = _get(component, "DTSTART").dt
                key = (uid, self._instant(recurrence_id.dt, self._zone))
                self._moves[key] = start - _same_kind(recurrence_id.dt, start)
        # Times are now all aware and in their real zones; the library must not move them.
        self._calendar.pop("X-WR-TIMEZONE", None)
        events: dict[str, ImportedEvent] = {}
        for occurrence in self._expand():
            event = self._event(occurrence)
            if event is None:
                continue
            known = events.get(event.uid)
            if known is None or (known.sequence, known.fingerprint) < (
                event.sequence,
                event.fingerprint,
            ):
                events[event.uid] = event
            if len(events) > self._max_events:
                raise IcalError(
                    f"the calendar has more than {self._max_events} events in the next "
                    f"{self._horizon_days} days"
                )
        return sorted(events.values(), key=lambda event: (event.starts_at, event.uid))

    @property
    def _horizon_days(self) -> int:
        return round((self._window.end - self._window.start) / timedelta(days=1))

    # -- checks and normalisation of one VEVENT --

    def _check(self, component: Component, block: _Block) -> None:
        """Refuse a broken VEVENT, and give all its times their real zones."""
        title = _clean_line(_text(_get(component, "SUMMARY")), 60)
        source = _Source(component, block, title)
        for name, message in getattr(component, "errors", []):
            if name in _CHECKED_PROPERTIES:
                raise self._error(source, name, f"{name} cannot be read ({message})")
        for name in _SINGLE_PROPERTIES:
            if isinstance(_get(component, name), list):
                raise self._error(source, name, f"{name} appears more than once")
        uid = _get(component, "UID")
        if uid is None or not str(uid).strip():
            raise self._error(source, "", "UID is missing")
        if "DTSTART" not in component:
            raise self._error(source, "", "DTSTART is missing")
        for name in _DATE_PROPERTIES:
            self._localize(source, name)
        self._check_span(source)
        self._check_rules(source)

    def _error(self, source: _Source, name: str, problem: str) -> IcalError:
        line = source.block.line_of(name) if name else source.block.begin
        label = source.title or str(_get(source.component, "UID", "")).strip()
        where = f" in VEVENT {_quote(label, 60)}" if label else " in a VEVENT"
        prefix = f"line {line}: " if line else ""
        return IcalError(f"{prefix}{problem}{where}")

    def _localize(self, source: _Source, name: str) -> None:
        """Give every date-time its real zone: TZID, UTC, or the calendar's zone if floating."""
        value = _get(source.component, name)
        if value is None:
            return
        for prop in value if isinstance(value, list) else [value]:
            tzid = prop.params.get("TZID")
            zone = None
            if tzid is not None:
                zone = self._zones.resolve(str(tzid))
                if zone is None:
                    raise self._error(
                        source,
                        name,
                        f"unknown time zone {_quote(str(tzid), 60)} in {name} "
                        "(neither an IANA name like Europe/Berlin nor defined by a VTIMEZONE)",
                    )
                prop.params["TZID"] = zone.key
            if isinstance(prop, vDDDLists):
                items = prop.dts
            elif isinstance(prop, vDDDTypes) and name in ("DTSTART", "DTEND", "RECURRENCE-ID"):
                items = [prop]
            else:
                raise self._error(source, name, f"{name} is not a date or date-time")
            for item in items:
                if isinstance(item.dt, tuple):
                    item.dt = tuple(self._moved(part, zone) for part in item.dt)
                else:
                    item.dt = self._moved(item.dt, zone)

    def _moved(self, value: Any, zone: ZoneInfo | None) -> Any:
        if not isinstance(value, datetime):
            return value
        if zone is not None:
            return value.replace(tzinfo=zone)
        if value.tzinfo is None:
            return value.replace(tzinfo=self._zone)
        if _is_utc(value) and self._calendar_has_zone:
            # Google writes UTC and means the calendar's zone, also for repeating rules.
            return value.astimezone(self._zone)
        return value

    def _check_span(self, source: _Source) -> None:
        component = source.component
        start = _get(component, "DTSTART").dt
        if not isinstance(start, date):
            raise self._error(source, "DTSTART", "DTSTART is not a date or date-time")
        if "DTEND" in component:
            end = _get(component, "DTEND").dt
            if isinstance(start, datetime) != isinstance(end, datetime):
                raise self._error(
                    source, "DTEND", "DTEND and DTSTART must both be dates or both date-times"
                )
        elif "DURATION" in component:
            duration = _get(component, "DURATION").dt
            if not isinstance(duration, timedelta):
                raise self._error(source, "DURATION", "DURATION is not a duration")
            try:
                end = start + duration
            except OverflowError:
                raise self._error(source, "DURATION", "DURATION is out of range") from None
        else:
            return
        if end < start:
            raise self._error(
                source,
                "DTEND" if "DTEND" in component else "DURATION",
                f"DTEND ({_show(end)}) is before DTSTART ({_show(start)})",
            )

    def _check_rules(self, source: _Source) -> None:
        """Refuse rules that would make the expansion huge or slow, before expanding."""
        component = source.component
        rdates = _get(component, "RDATE", [])
        count = sum(len(prop.dts) for prop in (rdates if isinstance(rdates, list) else [rdates]))
        if count > _MAX_RULE_STEPS:
            raise self._error(source, "RDATE", f"RDATE lists more than {_MAX_RULE_STEPS} dates")
        rules = _get(component, "RRULE", [])
        for rule in rules if isinstance(rules, list) else [rules]:
            self._check_rule(source, rule)

    def _check_rule(self, source: _Source, rule: Any) -> None:
        start = _get(source.component, "DTSTART").dt
        zone: tzinfo = start.tzinfo if isinstance(start, datetime) and start.tzinfo else self._zone
        wall_start = start.replace(tzinfo=None) if isinstance(start, datetime) else _midnight(start)
        text = rule.to_ical().decode("utf-8", "replace")
        shown = _quote(text, 80)
        until: datetime | None = None
        for value in rule.get("UNTIL", [])[:1]:
            if isinstance(value, datetime):
                until = value.astimezone(zone).replace(tzinfo=None) if value.tzinfo else value
            elif isinstance(value, date):
                until = datetime.combine(value, time.max)
        parts = [part for part in text.split(";") if not part.upper().startswith("UNTIL=")]
        if not any(part.upper().startswith("FREQ=") for part in parts):
            raise self._error(source, "RRULE", f"RRULE {shown} has no FREQ")
        try:
            parsed = rrulestr(";".join(parts), dtstart=wall_start, cache=False)
            shift = 400 * math.ceil((_PROBE_FROM_YEAR - wall_start.year) / 400)
            probe = parsed.replace(
                dtstart=wall_start.replace(year=wall_start.year + shift), count=None, until=None
            )
            first = next(iter(probe), None)
        except Exception as exc:
            raise self._error(
                source, "RRULE", f"RRULE {shown} is not a valid recurrence rule ({exc})"
            ) from None
        if first is None:
            raise self._error(source, "RRULE", f"RRULE {shown} never produces a date")
        window_end = self._window.end.astimezone(zone).replace(tzinfo=None)
        last = window_end + timedelta(days=2)
        begin = self._window.start.astimezone(zone).replace(tzinfo=None) - timedelta(days=2)
        in_window = 0
        for steps, occurrence in enumerate(parsed, start=1):
            if occurrence > last or (until is not None and occurrence > until):
                break
            if steps > _MAX_RULE_STEPS:
                raise self._error(
                    source,
                    "RRULE",
                    f"RRULE {shown} repeats more than {_MAX_RULE_STEPS} times between "
                    f"DTSTART and {window_end:%Y-%m-%d}",
                )
            if occurrence >= begin:
                in_window += 1
                if in_window > self._max_events:
                    raise self._error(
                        source,
                        "RRULE",
                        f"RRULE {shown} would expand beyond {self._max_events} occurrences "
                        f"in the next {self._horizon_days} days",
                    )

    # -- expansion --

    def _expand(self) -> Iterator[Component]:
        margin = timedelta(days=2)  # the library compares all-day dates loosely
        try:
            query = recurring_ical_events.of(self._calendar)
            occurrences = query.between(self._window.start - margin, self._window.end + margin)
        except Exception as exc:
            raise IcalError(
                f"the recurring events cannot be expanded: {_quote(str(exc), 120)}"
            ) from None
        yield from occurrences

    def _event(self, component: Component) -> ImportedEvent | None:
        start = _get(component, "DTSTART").dt
        end = _get(component, "DTEND").dt if "DTEND" in component else None
        all_day = not isinstance(start, datetime)
        zone = self._zone
        if not all_day and not _is_utc(start) and isinstance(start.tzinfo, ZoneInfo):
            zone = start.tzinfo
        starts_at = self._instant(start, zone)
        ends_at = None if end is None else self._instant(end, zone)
        if ends_at is not None and ends_at <= starts_at:
            ends_at = starts_at + timedelta(days=1) if all_day else None
        if (ends_at or starts_at) <= self._window.start or starts_at >= self._window.end:
            return None
        uid = str(_get(component, "UID")).strip()
        if uid in self._recurring:
            recurrence_id = self._instant(_get(component, "RECURRENCE-ID").dt, self._zone)
            move = self._moves.get((uid, recurrence_id))
            if move is not None:
                # The library copies a RANGE=THISANDFUTURE override's RECURRENCE-ID onto
                # every later occurrence; each needs its own, so undo the move instead.
                recurrence_id = self._instant(start - move, self._zone)
            uid = f"{uid}#{recurrence_id:%Y%m%dT%H%M%SZ}"
        url = _clean_url(_get(component, "URL"))
        fields: dict[str, Any] = {
            "uid": uid,
            "title": _clean_line(_text(_get(component, "SUMMARY")), TITLE_MAX),
            "description": _clean_text(_text(_get(component, "DESCRIPTION")), DESCRIPTION_MAX),
            "place": _clean_line(_text(_get(component, "LOCATION")), PLACE_MAX) or None,
            "url": url,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "all_day": all_day,
            "timezone": zone.key,
            "cancelled": str(_get(component, "STATUS", "")).strip().upper() == "CANCELLED",
        }
        sequence = _get(component, "SEQUENCE", 0)
        return ImportedEvent(
            **fields,
            sequence=int(sequence) if isinstance(sequence, int) else 0,
            fingerprint=_fingerprint(fields),
        )

    @staticmethod
    def _instant(value: date, zone: ZoneInfo) -> datetime:
        if isinstance(value, datetime):
            return (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(UTC)
        return datetime.combine(value, time(), tzinfo=zone).astimezone(UTC)


def _same_kind(value: date, like: date) -> date:
    """``value`` as a date or a date-time, whichever ``like`` is, to subtract one from the other."""
    if isinstance(like, datetime) and not isinstance(value, datetime):
        return datetime.combine(value, time(), tzinfo=like.tzinfo)
    if not isinstance(like, datetime) and isinstance(value, datetime):
        return value.date()
    if isinstance(like, datetime) and isinstance(value, datetime) and like.tzinfo:
        return value.astimezone(like.tzinfo)
    return value


def _get(component: Component, name: str, default: Any = None) -> Any:
    """A property as icalendar parsed it; any name can hold any value type, so typed loosely."""
    return component.get(name, default)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time())


def _show(value: date) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") + (f" {value.tzname()}" if value.tzinfo else "")
    return value.isoformat()


def _fingerprint(fields: dict[str, Any]) -> str:
    canonical = {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in fields.items()
    }
    encoded = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


# -- text -----------------------------------------------------------------------------------


def _text(value: object) -> str:
    if value is None or isinstance(value, vBroken):
        return ""
    if isinstance(value, list):  # a property given twice: the first counts
        return _text(value[0]) if value else ""
    return str(value)


def _quote(value: str, limit: int) -> str:
    value = " ".join(_CONTROL.sub(" ", value).translate(_BIDI_CONTROLS).split())
    return "'" + (value if len(value) <= limit else value[: limit - 1] + "…") + "'"


def _clean_text(value: str, limit: int) -> str:
    """Plain text from what a calendar gave: HTML gone, NFC, no bidi overrides, trimmed."""
    value = _html_to_text(value[: limit * 4])
    value = unicodedata.normalize("NFC", value).translate(_BIDI_CONTROLS)
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    value = _CONTROL.sub("", value)
    lines = (_SPACES.sub(" ", line).strip() for line in value.split("\n"))
    value = _MANY_NEWLINES.sub("\n\n", "\n".join(lines)).strip()
    return _truncate(value, limit)


def _clean_line(value: str, limit: int) -> str:
    return _truncate(" ".join(_clean_text(value, limit * 4).split()), limit)


def _truncate(value: str, limit: int) -> str:
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def _clean_url(value: object) -> str | None:
    url = _text(value).strip()
    if not url or len(url) > URL_MAX or any(char.isspace() or ord(char) < 32 for char in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


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
            if _clean_url(target) and target not in label:
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
