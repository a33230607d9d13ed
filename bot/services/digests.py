"""How people hear of new events: each at once, or together in a daily or weekly digest.

New events for a person who reads digests are kept (``digest_items``) and sent as one message
with a list at the hour (and on the day) they chose, in their time zone; the next run is stored
with the person (``users.digest_next_at``). Many new events at once (a calendar import) reach a
person who wants them at once as one message with a list, never one message each.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime

from bot.calendar.wallclock import next_at
from bot.services.notify import queue, zone
from storage.db import Database
from storage.records import UserRecord
from storage.repositories import (
    CatalogRepository,
    DigestRepository,
    EventRepository,
    NoticeRepository,
    Session,
    UserRepository,
)

NEW_EVENT = "new_event"
NEW_EVENTS = "new_events"
DIGEST = "digest"


def next_digest(user: UserRecord, after: datetime) -> datetime | None:
    """When the person's next digest is due, None for news at once."""
    if user.news_mode == "instant":
        return None
    weekday = user.digest_weekday if user.news_mode == "weekly" else None
    return next_at(after, user.digest_hour, zone(user.timezone), weekday)


def list_ref(event_ids: Sequence[int]) -> str:
    """One reference for one list of events (a retried import writes the same)."""
    joined = ",".join(str(i) for i in sorted(event_ids))
    return "list:" + hashlib.sha256(joined.encode()).hexdigest()[:24]


async def announce(s: Session, fresh: Sequence[tuple[int, int, int]], now: datetime) -> int:
    """Tell the followers of each new event (id, category, region) about it, once: one
    message per person for all of the events they follow, or their digest keeps them.
    Returns how many people hear of them."""
    catalog = CatalogRepository(s)
    wanted: dict[int, list[int]] = {}
    for event_id, category_id, region_id in fresh:
        for user_id in await catalog.subscribers(category_id, region_id):
            wanted.setdefault(user_id, []).append(event_id)
    if not wanted:
        return 0
    later = await NoticeRepository(s).digest_readers(wanted)
    await DigestRepository(s).keep(((u, e) for u in later for e in wanted[u]), now)
    lists: dict[tuple[int, ...], list[int]] = {}
    for user_id, event_ids in wanted.items():
        if user_id not in later:
            lists.setdefault(tuple(sorted(event_ids)), []).append(user_id)
    for listed, people in lists.items():
        if len(listed) == 1:
            await queue(s, NEW_EVENT, str(listed[0]), people, {"event_id": listed[0]}, now=now)
        else:
            payload = {"event_ids": list(listed)}
            await queue(s, NEW_EVENTS, list_ref(listed), people, payload, now=now)
    return len(wanted)


class DigestService:
    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock

    async def run_due(self) -> int:
        """Send every digest that is due, each person in a unit of work; returns how many
        people were handled (a digest with nothing new sends nothing)."""
        handled = 0
        while True:
            # Looking takes no write lock: an alarm that finds nothing due blocks nobody.
            async with self.db.unit_of_work(write=False) as unit:
                due = await DigestRepository(unit.session).due(self.clock(), 1)
            if not due:
                return handled
            async with self.db.unit_of_work() as unit:
                await self._send(unit.session, *due[0])
            handled += 1

    async def _send(self, s: Session, user_id: int, due_at: datetime) -> None:
        now = self.clock()
        user = await UserRepository(s).get(user_id, lock=True)
        digests = DigestRepository(s)
        if user is None or await digests.next_of(user_id) != due_at:
            return  # sent by another process, or the settings changed meanwhile
        await flush(s, user, now, kind=DIGEST, ref=f"{user_id}:{int(due_at.timestamp())}")
        await digests.set_next(user_id, next_digest(user, now))

    async def next_due(self) -> datetime | None:
        async with self.db.reading() as s:
            return await DigestRepository(s).next_due()

    async def waiting(self, user_id: int) -> int:
        async with self.db.reading() as s:
            return await DigestRepository(s).waiting(user_id)


async def flush(
    s: Session, user: UserRecord, now: datetime, *, kind: str, ref: str | None = None
) -> int:
    """Send the events kept for the person's digest now (those still ahead), as one message
    (``ref``: the digest's own reference); returns how many events it lists."""
    kept = await DigestRepository(s).take(user.id)
    events = EventRepository(s)
    ahead = []
    for event_id in kept:
        event = await events.get(event_id)
        if event is not None and event.status == "published" and event.starts_at > now:
            ahead.append(event_id)
    if not ahead:
        return 0
    ref = ref or f"{user.id}:{int(now.timestamp())}"
    await queue(s, kind, ref, [user.id], {"event_ids": ahead}, now=now, urgent=kind == DIGEST)
    return len(ahead)
