"""Time zones of a file: TZIDs to IANA zones, by name or by the offsets of its VTIMEZONE."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from icalendar import Calendar, Timezone
from icalendar.timezone import tzp
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from bot.calendar.ical.source import MAX_ZONES, IcalError, prop
from bot.calendar.ical.text import quote
from bot.calendar.zones import UTC_NAMES


@dataclass(frozen=True)
class Window:
    """The span of time, in UTC, whose events are imported."""

    start: datetime
    end: datetime

    @property
    def days(self) -> int:
        """The span's length in whole days."""
        return round((self.end - self.start) / timedelta(days=1))


@cache
def _iana_names() -> frozenset[str]:
    return frozenset(available_timezones())


def zone_by_name(name: str) -> ZoneInfo | None:
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


def is_utc(value: datetime) -> bool:
    """Whether ``value`` is given in UTC itself (not merely a zone at offset zero)."""
    return value.tzinfo is UTC or getattr(value.tzinfo, "key", None) in UTC_NAMES


def instant(value: date, zone: ZoneInfo) -> datetime:
    """The UTC instant of a date-time, or of a date's midnight; floating ones read in ``zone``."""
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(UTC)
    return datetime.combine(value, time(), tzinfo=zone).astimezone(UTC)


class Zones:
    """Resolves TZIDs once per file, without icalendar's process-wide cache of VTIMEZONEs.

    That cache keeps the first definition of a custom TZID it ever saw, so another file
    could change how this one is read; here every TZID is looked up by name, or matched
    against the IANA zones by the offsets this file's own VTIMEZONE gives.
    """

    def __init__(self, calendar: Calendar, window: Window, preferred: list[str]) -> None:
        self._definitions: dict[str, Timezone] = {}
        for component in calendar.walk("VTIMEZONE"):
            tzid = str(prop(component, "TZID", "")).strip()
            if tzid and isinstance(component, Timezone):
                self._definitions.setdefault(tzid, component)
        self._window = window
        self._preferred = preferred
        self._resolved: dict[str, ZoneInfo | None] = {}

    def resolve(self, tzid: str) -> ZoneInfo | None:
        """The IANA zone a TZID stands for, or None if it is neither known nor defined."""
        if tzid not in self._resolved:
            if len(self._resolved) >= MAX_ZONES:
                raise IcalError(f"the file uses more than {MAX_ZONES} different time zones")
            zone = zone_by_name(tzid)
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
            raise IcalError(f"the VTIMEZONE {quote(tzid, 60)} cannot be read") from None
        # Fixed offsets read best as Etc/GMT-5, and Europe's zones are the likely ones here.
        names = sorted(_iana_names(), key=lambda name: (not name.startswith("Etc/"), name))
        for name in [*self._preferred, *(n for n in names if n.startswith("Europe/")), *names]:
            zone = ZoneInfo(name)
            if all(
                sample.astimezone(zone).utcoffset() == offset
                for sample, offset in zip(samples, offsets, strict=True)
            ):
                return zone
        raise IcalError(f"the VTIMEZONE {quote(tzid, 60)} matches no known time zone")
