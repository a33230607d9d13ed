"""How a notice reaches people: through the outbox, and not in their quiet hours.

Every notice to people other than the one pressing a button is queued here, in the unit of
work of the change it reports. A person in their quiet hours (by default 22:00–08:00 in their
own time zone) gets it when they end; only what would be useless by then is pushed at once (a
reminder of an event that starts before the quiet hours end, a seat offer that expires before).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.calendar.wallclock import quiet_end
from storage.repositories import NoticeRepository, OutboxRepository, Select, Session

FALLBACK_ZONE = "Europe/Berlin"
# News of an event waits for the end of people's quiet hours only if it then still comes at
# least this long before the event begins; otherwise it is sent at once.
BEFORE_START = timedelta(hours=1)


def zone(name: str | None) -> ZoneInfo:
    """A person's time zone; a name this machine does not know reads as Berlin's."""
    try:
        return ZoneInfo(name or FALLBACK_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(FALLBACK_ZONE)


def _held_until(
    now: datetime, setting: tuple[str, int | None, int | None], useful_until: datetime | None
) -> datetime | None:
    """Until when a notice waits for the quiet hours (time zone, from, until) to end: None
    for at once, also when by then it would be of no use."""
    timezone, start, end = setting
    until = quiet_end(now, zone(timezone), start, end)
    if until is not None and useful_until is not None and until >= useful_until:
        return None
    return until


async def queue_selected(
    s: Session,
    kind: str,
    ref: str,
    people: Select[int],
    payload: dict[str, Any],
    *,
    now: datetime,
    useful_until: datetime | None = None,
    complete: bool = False,
) -> int:
    """:func:`queue` for a whole audience given as a query (a broadcast to 100,000 people, a
    reminder to everyone coming): set-based, one INSERT … SELECT per distinct quiet-hours
    setting among them (time zone, from, until: a handful), never a statement or a Python
    object per person.

    ``complete``: one more INSERT … SELECT for anyone the settings read missed (on PostgreSQL
    a person may change their quiet hours between that read and the inserts): they get it at
    once. A reminder must reach everyone; a broadcast to 100,000 skips it (0.5 s more)."""
    settings = await NoticeRepository(s).quiet_settings(people)
    held: dict[datetime | None, list[tuple[str, int | None, int | None]]] = {}
    for key in settings:
        held.setdefault(_held_until(now, key, useful_until), []).append(key)
    added = 0
    outbox, notices = OutboxRepository(s), NoticeRepository(s)
    for until, keys in held.items():
        selected = notices.with_quiet_settings(people, keys)
        added += await outbox.add_selected(kind, ref, selected, payload, not_before=until)
    if complete:
        added += await outbox.add_selected(kind, ref, people, payload)
    return added


async def queue(
    s: Session,
    kind: str,
    ref: str,
    user_ids: Iterable[int],
    payload: dict[str, Any],
    *,
    now: datetime,
    urgent: bool = False,
    useful_until: datetime | None = None,
) -> int:
    """Queue the notice to each person, once; returns how many were new.

    Without ``urgent``, people in their quiet hours get it when these end, unless that is at
    or after ``useful_until``: then it goes at once (it would be of no use later)."""
    ids = list(dict.fromkeys(user_ids))
    if not ids:
        return 0
    outbox = OutboxRepository(s)
    if urgent:
        return await outbox.add_many(kind, ref, ids, payload)
    ends: dict[tuple[str, int | None, int | None], datetime | None] = {}
    held: dict[datetime | None, list[int]] = {}
    for person in await NoticeRepository(s).quiet(ids):
        key = (person.timezone, person.quiet_from, person.quiet_until)
        if key not in ends:
            ends[key] = _held_until(now, key, useful_until)
        held.setdefault(ends[key], []).append(person.user_id)
    added = 0
    for until, people in held.items():
        added += await outbox.add_many(kind, ref, people, payload, not_before=until)
    return added
