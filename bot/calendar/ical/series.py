"""Recurring series: rules bounded before expansion, occurrences expanded and named.

Each occurrence of a series becomes its own event with the UID ``uid#YYYYMMDDTHHMMSSZ`` of
its RECURRENCE-ID, so an override and the occurrence it replaces share one name.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import recurring_ical_events  # type: ignore[import-untyped, unused-ignore]
from dateutil.rrule import rrulestr  # type: ignore[import-untyped, unused-ignore]
from icalendar import Calendar, Component

from bot.calendar.ical.source import IcalError, Source, prop
from bot.calendar.ical.text import quote
from bot.calendar.ical.timezones import Window, instant

MAX_RULE_STEPS = 100_000
# A rule repeats its pattern every 400 Gregorian years. Probed from its start moved by a
# multiple of 400 years to 9499-9898, dateutil gives up at year 9999 after at most 500
# years, instead of searching 8000 years when a rule like "every 30 February" never matches.
_PROBE_FROM_YEAR = 9_499


def check_rules(source: Source, zone: ZoneInfo, window: Window, max_events: int) -> None:
    """Refuse rules that would make the expansion huge or slow, before expanding."""
    component = source.component
    rdates = prop(component, "RDATE", [])
    count = sum(len(item.dts) for item in (rdates if isinstance(rdates, list) else [rdates]))
    if count > MAX_RULE_STEPS:
        raise source.error("RDATE", f"RDATE lists more than {MAX_RULE_STEPS} dates")
    rules = prop(component, "RRULE", [])
    for rule in rules if isinstance(rules, list) else [rules]:
        _check_rule(source, rule, zone, window, max_events)


def _check_rule(
    source: Source, rule: Any, fallback: ZoneInfo, window: Window, max_events: int
) -> None:
    start = prop(source.component, "DTSTART").dt
    zone: tzinfo = start.tzinfo if isinstance(start, datetime) and start.tzinfo else fallback
    if isinstance(start, datetime):
        wall_start = start.replace(tzinfo=None)
    else:
        wall_start = datetime.combine(start, time())
    text = rule.to_ical().decode("utf-8", "replace")
    shown = quote(text, 80)
    until: datetime | None = None
    for value in rule.get("UNTIL", [])[:1]:
        if isinstance(value, datetime):
            until = value.astimezone(zone).replace(tzinfo=None) if value.tzinfo else value
        elif isinstance(value, date):
            until = datetime.combine(value, time.max)
    parts = [part for part in text.split(";") if not part.upper().startswith("UNTIL=")]
    if not any(part.upper().startswith("FREQ=") for part in parts):
        raise source.error("RRULE", f"RRULE {shown} has no FREQ")
    try:
        parsed = rrulestr(";".join(parts), dtstart=wall_start, cache=False)
        shift = 400 * math.ceil((_PROBE_FROM_YEAR - wall_start.year) / 400)
        probe = parsed.replace(
            dtstart=wall_start.replace(year=wall_start.year + shift), count=None, until=None
        )
        first = next(iter(probe), None)
    except Exception as exc:
        raise source.error(
            "RRULE", f"RRULE {shown} is not a valid recurrence rule ({exc})"
        ) from None
    if first is None:
        raise source.error("RRULE", f"RRULE {shown} never produces a date")
    window_end = window.end.astimezone(zone).replace(tzinfo=None)
    last = window_end + timedelta(days=2)
    begin = window.start.astimezone(zone).replace(tzinfo=None) - timedelta(days=2)
    in_window = 0
    for steps, occurrence in enumerate(parsed, start=1):
        if occurrence > last or (until is not None and occurrence > until):
            break
        if steps > MAX_RULE_STEPS:
            raise source.error(
                "RRULE",
                f"RRULE {shown} repeats more than {MAX_RULE_STEPS} times between "
                f"DTSTART and {window_end:%Y-%m-%d}",
            )
        if occurrence >= begin:
            in_window += 1
            if in_window > max_events:
                raise source.error(
                    "RRULE",
                    f"RRULE {shown} would expand beyond {max_events} occurrences "
                    f"in the next {window.days} days",
                )


def expand(calendar: Calendar, window: Window) -> Iterator[Component]:
    """Every event and occurrence of ``calendar`` around ``window``, overrides applied."""
    margin = timedelta(days=2)  # the library compares all-day dates loosely
    try:
        query = recurring_ical_events.of(calendar)
        occurrences = query.between(window.start - margin, window.end + margin)
    except Exception as exc:
        raise IcalError(
            f"the recurring events cannot be expanded: {quote(str(exc), 120)}"
        ) from None
    yield from occurrences


class Series:
    """Which UIDs repeat, and how far RANGE=THISANDFUTURE overrides moved their occurrences."""

    def __init__(self, zone: ZoneInfo) -> None:
        self._zone = zone
        self._recurring: set[str] = set()
        self._moves: dict[tuple[str, datetime], timedelta] = {}

    def note(self, component: Component) -> None:
        """Remember a checked VEVENT's part in a series, before the library expands it."""
        uid = str(prop(component, "UID")).strip()
        if {"RRULE", "RDATE", "RECURRENCE-ID"} & set(component):
            self._recurring.add(uid)
        recurrence_id = prop(component, "RECURRENCE-ID")
        if (
            recurrence_id is not None
            and str(recurrence_id.params.get("RANGE", "")).upper() == "THISANDFUTURE"
        ):
            start = prop(component, "DTSTART").dt
            key = (uid, instant(recurrence_id.dt, self._zone))
            self._moves[key] = start - _same_kind(recurrence_id.dt, start)

    def uid(self, occurrence: Component) -> str:
        """The UID of an expanded event: its own, or with its occurrence's time if it repeats."""
        uid = str(prop(occurrence, "UID")).strip()
        if uid not in self._recurring:
            return uid
        recurrence_id = instant(prop(occurrence, "RECURRENCE-ID").dt, self._zone)
        move = self._moves.get((uid, recurrence_id))
        if move is not None:
            # The library copies a RANGE=THISANDFUTURE override's RECURRENCE-ID onto
            # every later occurrence; each needs its own, so undo the move instead.
            start = prop(occurrence, "DTSTART").dt
            recurrence_id = instant(start - move, self._zone)
        return f"{uid}#{recurrence_id:%Y%m%dT%H%M%SZ}"


def _same_kind(value: date, like: date) -> date:
    """``value`` as a date or a date-time, whichever ``like`` is, to subtract one from the other."""
    if isinstance(like, datetime) and not isinstance(value, datetime):
        return datetime.combine(value, time(), tzinfo=like.tzinfo)
    if not isinstance(like, datetime) and isinstance(value, datetime):
        return value.date()
    if isinstance(like, datetime) and isinstance(value, datetime) and like.tzinfo:
        return value.astimezone(like.tzinfo)
    return value
