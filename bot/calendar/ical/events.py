"""An expanded VEVENT as an :class:`ImportedEvent`: UTC times, a zone, clean text, a fingerprint."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Component

from bot.calendar.ical.series import Series
from bot.calendar.ical.source import prop
from bot.calendar.ical.text import clean_line, clean_text, clean_url, text_of
from bot.calendar.ical.timezones import Window, instant, is_utc

TITLE_MAX = 300
DESCRIPTION_MAX = 10_000
PLACE_MAX = 300


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


def to_event(
    component: Component, *, zone: ZoneInfo, window: Window, series: Series
) -> ImportedEvent | None:
    """The event, in ``zone`` unless it has its own; None if it is not inside ``window``."""
    start = prop(component, "DTSTART").dt
    end = prop(component, "DTEND").dt if "DTEND" in component else None
    all_day = not isinstance(start, datetime)
    if not all_day and not is_utc(start) and isinstance(start.tzinfo, ZoneInfo):
        zone = start.tzinfo
    starts_at = instant(start, zone)
    ends_at = None if end is None else instant(end, zone)
    if ends_at is not None and ends_at <= starts_at:
        ends_at = starts_at + timedelta(days=1) if all_day else None
    if (ends_at or starts_at) <= window.start or starts_at >= window.end:
        return None
    fields: dict[str, Any] = {
        "uid": series.uid(component),
        "title": clean_line(text_of(prop(component, "SUMMARY")), TITLE_MAX),
        "description": clean_text(text_of(prop(component, "DESCRIPTION")), DESCRIPTION_MAX),
        "place": clean_line(text_of(prop(component, "LOCATION")), PLACE_MAX) or None,
        "url": clean_url(prop(component, "URL")),
        "starts_at": starts_at,
        "ends_at": ends_at,
        "all_day": all_day,
        "timezone": zone.key,
        "cancelled": str(prop(component, "STATUS", "")).strip().upper() == "CANCELLED",
    }
    sequence = prop(component, "SEQUENCE", 0)
    return ImportedEvent(
        **fields,
        sequence=int(sequence) if isinstance(sequence, int) else 0,
        fingerprint=_fingerprint(fields),
    )


def _fingerprint(fields: dict[str, Any]) -> str:
    canonical = {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in fields.items()
    }
    encoded = json.dumps(canonical, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()
