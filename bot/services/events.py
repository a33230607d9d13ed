"""Finding events for a person and picking the text they can read."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.records import Counts, EventRecord, RsvpRecord, TextRecord
from storage.repositories import (
    CatalogRepository,
    EventRepository,
    OutboxRepository,
    RsvpRepository,
)

STATEWIDE = "saxony"
NEW_EVENT = "new_event"


@dataclass(frozen=True)
class EventView:
    """An event as one person sees it: with the counts and that person's own answer."""

    event: EventRecord
    counts: Counts
    mine: RsvpRecord | None = None
    waitlist_position: int | None = None

    @property
    def seats_left(self) -> int | None:
        if self.event.capacity is None:
            return None
        return max(self.event.capacity - self.counts.going, 0)


@dataclass(frozen=True)
class EventPage:
    views: list[EventView]
    total: int
    offset: int
    filtered: bool


def pick_text(texts: dict[str, TextRecord], order: Sequence[str]) -> TextRecord | None:
    """The first text in the reader's order of languages, else any text the event has."""
    for code in order:
        if code in texts:
            return texts[code]
    return next(iter(sorted(texts.values(), key=lambda t: t.locale)), None)


class EventService:
    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock

    async def page(
        self, user_id: int | None, *, everything: bool, offset: int, limit: int
    ) -> EventPage:
        """Upcoming events, filtered by the person's topics and regions unless ``everything``."""
        async with self.db.transaction() as s:
            catalog, events = CatalogRepository(s), EventRepository(s)
            categories: set[int] | None = None
            regions: set[int] | None = None
            if user_id is not None and not everything:
                categories = await catalog.subscribed(user_id) or None
                regions = await catalog.chosen_regions(user_id) or None
                statewide = await catalog.region_id(STATEWIDE)
                if regions is not None and statewide is not None:
                    # Events for all of Saxony concern everyone; choosing it means every region.
                    regions = None if statewide in regions else regions | {statewide}
            records, total = await events.upcoming(
                self.clock(),
                category_ids=categories,
                region_ids=regions,
                offset=offset,
                limit=limit,
            )
            counts = await events.counts([e.id for e in records])
            views = [await self._view(s, e, counts[e.id], user_id) for e in records]
        return EventPage(views, total, offset, categories is not None or regions is not None)

    async def publish(
        self,
        *,
        organisation_id: int,
        category_id: int,
        region_id: int,
        locale: str,
        title: str,
        description: str,
        starts_at: datetime,
        ends_at: datetime | None,
        place: str | None,
        online_url: str | None,
        capacity: int | None,
        registration_deadline: datetime | None,
        timezone: str,
    ) -> tuple[int, int]:
        """Create a published event and queue one notice per matching subscriber, at once."""
        async with self.db.transaction() as s:
            event_id = await EventRepository(s).add(
                organisation_id=organisation_id,
                category_id=category_id,
                region_id=region_id,
                starts_at=starts_at,
                ends_at=ends_at,
                texts=[TextRecord(locale, title, description)],
                place=place,
                online_url=online_url,
                capacity=capacity,
                registration_deadline=registration_deadline,
                timezone=timezone,
            )
            told = await self._notify_subscribers(s, event_id, category_id, region_id)
        return event_id, told

    @staticmethod
    async def _notify_subscribers(
        s: AsyncSession, event_id: int, category_id: int, region_id: int
    ) -> int:
        outbox = OutboxRepository(s)
        told = 0
        for user_id in await CatalogRepository(s).subscribers(category_id, region_id):
            told += await outbox.add(NEW_EVENT, str(event_id), user_id, {"event_id": event_id})
        return told

    async def view(self, event_id: int, user_id: int | None) -> EventView | None:
        async with self.db.transaction() as s:
            event = await EventRepository(s).get(event_id)
            if event is None:
                return None
            counts = (await EventRepository(s).counts([event_id]))[event_id]
            return await self._view(s, event, counts, user_id)

    @staticmethod
    async def _view(
        s: AsyncSession, event: EventRecord, counts: Counts, user_id: int | None
    ) -> EventView:
        if user_id is None:
            return EventView(event, counts)
        rsvps = RsvpRepository(s)
        mine = await rsvps.get(event.id, user_id)
        position = None
        if mine is not None and mine.status == "waitlisted" and mine.waitlist_seq is not None:
            position = await rsvps.waitlist_position(event.id, mine.waitlist_seq)
        return EventView(event, counts, mine, position)
