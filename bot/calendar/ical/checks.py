"""One VEVENT checked before anything is expanded, and its times given their real zones.

Refused are a missing or repeated UID or DTSTART, dates that cannot be read, an end before
the start and rules that would expand too far; floating times get the calendar's zone.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import vDDDLists, vDDDTypes

from bot.calendar.ical.series import check_rules
from bot.calendar.ical.source import Source, prop
from bot.calendar.ical.text import quote
from bot.calendar.ical.timezones import Window, Zones, is_utc

_DATE_PROPERTIES = ("DTSTART", "DTEND", "RECURRENCE-ID", "RDATE", "EXDATE")
_CHECKED_PROPERTIES = frozenset({*_DATE_PROPERTIES, "UID", "DURATION", "RRULE", "SEQUENCE"})
_SINGLE_PROPERTIES = ("UID", "DTSTART", "DTEND", "DURATION", "RECURRENCE-ID", "SEQUENCE")


class Checker:
    """Refuses a broken VEVENT, and gives all its times their real zones."""

    def __init__(
        self,
        zones: Zones,
        zone: ZoneInfo,
        *,
        utc_means_zone: bool,
        window: Window,
        max_events: int,
    ) -> None:
        self._zones = zones
        self._zone = zone
        self._utc_means_zone = utc_means_zone
        self._window = window
        self._max_events = max_events

    def check(self, source: Source) -> None:
        """Raise :class:`IcalError` for a VEVENT that cannot be imported; else localise it."""
        component = source.component
        for name, message in getattr(component, "errors", []):
            if name in _CHECKED_PROPERTIES:
                raise source.error(name, f"{name} cannot be read ({message})")
        for name in _SINGLE_PROPERTIES:
            if isinstance(prop(component, name), list):
                raise source.error(name, f"{name} appears more than once")
        uid = prop(component, "UID")
        if uid is None or not str(uid).strip():
            raise source.error("", "UID is missing")
        if "DTSTART" not in component:
            raise source.error("", "DTSTART is missing")
        for name in _DATE_PROPERTIES:
            self._localize(source, name)
        _check_span(source)
        check_rules(source, self._zone, self._window, self._max_events)

    def _localize(self, source: Source, name: str) -> None:
        """Give every date-time its real zone: TZID, UTC, or the calendar's zone if floating."""
        value = prop(source.component, name)
        if value is None:
            return
        for item in value if isinstance(value, list) else [value]:
            tzid = item.params.get("TZID")
            zone = None
            if tzid is not None:
                zone = self._zones.resolve(str(tzid))
                if zone is None:
                    raise source.error(
                        name,
                        f"unknown time zone {quote(str(tzid), 60)} in {name} "
                        "(neither an IANA name like Europe/Berlin nor defined by a VTIMEZONE)",
                    )
                item.params["TZID"] = zone.key
            if isinstance(item, vDDDLists):
                items = item.dts
            elif isinstance(item, vDDDTypes) and name in ("DTSTART", "DTEND", "RECURRENCE-ID"):
                items = [item]
            else:
                raise source.error(name, f"{name} is not a date or date-time")
            for part in items:
                if isinstance(part.dt, tuple):
                    part.dt = tuple(self._moved(moment, zone) for moment in part.dt)
                else:
                    part.dt = self._moved(part.dt, zone)

    def _moved(self, value: Any, zone: ZoneInfo | None) -> Any:
        if not isinstance(value, datetime):
            return value
        if zone is not None:
            return value.replace(tzinfo=zone)
        if value.tzinfo is None:
            return value.replace(tzinfo=self._zone)
        if is_utc(value) and self._utc_means_zone:
            # Google writes UTC and means the calendar's zone, also for repeating rules.
            return value.astimezone(self._zone)
        return value


def _check_span(source: Source) -> None:
    component = source.component
    start = prop(component, "DTSTART").dt
    if not isinstance(start, date):
        raise source.error("DTSTART", "DTSTART is not a date or date-time")
    if "DTEND" in component:
        end = prop(component, "DTEND").dt
        if isinstance(start, datetime) != isinstance(end, datetime):
            raise source.error("DTEND", "DTEND and DTSTART must both be dates or both date-times")
    elif "DURATION" in component:
        duration = prop(component, "DURATION").dt
        if not isinstance(duration, timedelta):
            raise source.error("DURATION", "DURATION is not a duration")
        try:
            end = start + duration
        except OverflowError:
            raise source.error("DURATION", "DURATION is out of range") from None
    else:
        return
    if end < start:
        raise source.error(
            "DTEND" if "DTEND" in component else "DURATION",
            f"DTEND ({_show(end)}) is before DTSTART ({_show(start)})",
        )


def _show(value: date) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M") + (f" {value.tzname()}" if value.tzinfo else "")
    return value.isoformat()
