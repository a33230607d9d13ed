"""Finding events for a person and picking the text they can read."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.services import reminders
from bot.services.digests import NEW_EVENT, announce
from bot.services.interpreting import on_event_cancelled, on_event_changed
from bot.services.jobs import JobQueue
from bot.services.notify import BEFORE_START, queue
from bot.services.seats import Seats
from storage.db import Database
from storage.records import Counts, EventRecord, OfferRecord, RsvpRecord, TextRecord
from storage.repositories import (
    CatalogRepository,
    EventRepository,
    InterpreterRepository,
    OfferRepository,
    ReminderRepository,
    RsvpRepository,
    Session,
)

__all__ = ["NEW_EVENT", "EventService", "EventView", "pick_text", "tell_attendees"]

STATEWIDE = "saxony"
# How long the counts of an event read for a notice serve its next recipients.
NOTICE_VIEW_SECONDS = 2.0
CHANGED = "event_changed"
LINK_ADDED = "event_link"
CANCELLED = "event_cancelled"
TRANSLATE_EVENT = "translate_event"


@dataclass(frozen=True)
class EventView:
    """An event as one person sees it: with the counts and that person's own answer."""

    event: EventRecord
    counts: Counts
    mine: RsvpRecord | None = None
    waitlist_position: int | None = None
    # Seats held by open offers, and the open offer to this person, if any.
    held: int = 0
    offer: OfferRecord | None = None

    @property
    def seats_left(self) -> int | None:
        if self.event.capacity is None:
            return None
        return max(self.event.capacity - self.counts.going - self.held, 0)


@dataclass(frozen=True)
class EventPage:
    views: list[EventView]
    total: int
    offset: int
    filtered: bool


def interpreter_counts(counts: dict[tuple[str, str | None, str], int]) -> str:
    """Requests for interpreters per language, variety and outcome, as a report cell:
    ``ar-levantine:confirmed=2 fa-dari:unfilled=1``."""
    return " ".join(
        f"{language}{'-' + variety if variety else ''}:{status}={n}"
        for (language, variety, status), n in sorted(
            counts.items(), key=lambda item: (item[0][0], item[0][1] or "", item[0][2])
        )
    )


async def counselling_counts(
    db: Database, organisation_ids: Collection[int], first: datetime, last: datetime
) -> dict[int, str]:
    """Per organisation, its requests for interpreters for counselling hours (no event)."""
    async with db.transaction() as s:
        found = await InterpreterRepository(s).counts_without_event(organisation_ids, first, last)
    return {organisation: interpreter_counts(counts) for organisation, counts in found.items()}


def pick_text(texts: dict[str, TextRecord], order: Sequence[str]) -> TextRecord | None:
    """The first text in the reader's order of languages, else any text the event has."""
    for code in order:
        if code in texts:
            return texts[code]
    return next(iter(sorted(texts.values(), key=lambda t: t.locale)), None)


async def tell_attendees(
    s: Session, event_id: int, kind: str, ref: str, changed: list[str], *, now: datetime
) -> int:
    """Queue a notice (changed, cancelled) to everyone who answered going, maybe or waits."""
    events = EventRepository(s)
    attendees = await events.attendees(event_id)
    event = await events.get(event_id)
    useful_until = event.starts_at - BEFORE_START if event is not None else None
    payload = {"event_id": event_id, "changed": changed}
    return await queue(s, kind, ref, attendees, payload, now=now, useful_until=useful_until)


async def cancel_event(s: Session, event_id: int, seats: Seats, now: datetime) -> int:
    """Cancel an event: no more reminders or offers, and everyone who answered is told (in
    their quiet hours only if the end of these would be too late). Returns how many."""
    events = EventRepository(s)
    if not await events.change(event_id, status="cancelled"):
        return 0
    await reminders.call_off(s, event_id)
    await seats.withdraw_all(s, event_id)
    await on_event_cancelled(s, event_id, now)
    event = await events.get(event_id)
    attendees = await events.attendees(event_id)
    payload = {"event_id": event_id, "changed": []}
    useful_until = event.starts_at - BEFORE_START if event is not None else None
    return await queue(
        s, CANCELLED, str(event_id), attendees, payload, now=now, useful_until=useful_until
    )


class EventService:
    def __init__(
        self, db: Database, clock: Callable[[], datetime], jobs: JobQueue, seats: Seats
    ) -> None:
        self.db = db
        self.clock = clock
        self.jobs = jobs
        self.seats = seats
        # event id → (when read, counts, seats held): see notice_view.
        self._notice_counts: dict[int, tuple[float, Counts, int]] = {}

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
            views = await self._views(s, records, user_id)
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
        interpretation: bool = False,
        more_texts: Sequence[TextRecord] = (),
        translate_to: Sequence[str] = (),
    ) -> tuple[int, int]:
        """Create a published event and queue one notice per matching subscriber, once.

        ``translate_to``: languages to fill by machine translation first; the notices then
        wait for that job, which runs after this transaction commits. (event id, subscribers)
        """
        async with self.db.transaction() as s:
            event_id = await EventRepository(s).add(
                organisation_id=organisation_id,
                category_id=category_id,
                region_id=region_id,
                starts_at=starts_at,
                ends_at=ends_at,
                texts=[TextRecord(locale, title, description), *more_texts],
                place=place,
                online_url=online_url,
                capacity=capacity,
                registration_deadline=registration_deadline,
                timezone=timezone,
                interpretation=interpretation,
            )
            now = self.clock()
            await reminders.plan(s, event_id, starts_at, timezone, now)
            if not translate_to:
                return event_id, await announce(s, [(event_id, category_id, region_id)], now)
            payload = {
                "event_id": event_id,
                "source": locale,
                "targets": [code for code in translate_to if code != locale],
                "notify": [category_id, region_id],
            }
            await self.jobs.enqueue(TRANSLATE_EVENT, str(event_id), payload)
            told = len(await CatalogRepository(s).subscribers(category_id, region_id))
        return event_id, told

    async def change(
        self,
        event_id: int,
        *,
        locale: str | None = None,
        title: str | None = None,
        description: str | None = None,
        **fields: object,
    ) -> tuple[list[str], int]:
        """Change an event and tell the people it concerns, each once. (changed, told)

        New seats move people up and fewer seats move the last to take one back to the
        waitlist: those people are told, nobody else. A link for an online event that had
        none goes to everyone going. Everyone else who answered hears what else changed.
        """
        async with self.db.transaction() as s:
            events = EventRepository(s)
            event = await events.get(event_id, lock=True)
            if event is None:
                raise LookupError(event_id)
            changed = await events.change(event_id, **fields) if fields else []
            if locale is not None and (title is not None or description is not None):
                text = event.texts.get(locale)
                changed += await events.set_text(
                    event_id,
                    locale,
                    title if title is not None else (text.title if text else ""),
                    description if description is not None else (text.description if text else ""),
                )
            if not changed:
                return [], 0
            now = self.clock()
            refreshed = await events.get(event_id)
            assert refreshed is not None
            if {"starts_at", "timezone"} & set(changed):
                await reminders.plan(s, event_id, refreshed.starts_at, refreshed.timezone, now)
            await on_event_changed(s, event_id, changed, now)
            # One reference per change: two edits within a second are two notices. A retried
            # update draws a new one, but its first try committed nothing.
            ref = f"{event_id}:{uuid.uuid4().hex[:16]}"
            told: set[int] = set()
            if {"capacity", "registration_deadline", "starts_at"} & set(changed):
                # New seats, or a new time that lets an offer be made: the waitlist moves.
                told.update(await self.seats.fit(s, refreshed))
            if event.online_url is None and fields.get("online_url"):
                going = await RsvpRepository(s).user_ids(event_id, "going")
                news = {"event_id": event_id}
                await queue(
                    s,
                    LINK_ADDED,
                    ref,
                    set(going) - told,
                    news,
                    now=now,
                    useful_until=refreshed.starts_at,
                )
                told.update(going)
            news_for_all = [name for name in changed if name not in ("capacity", "interpretation")]
            if news_for_all:
                others = [u for u in await events.attendees(event_id) if u not in told]
                payload = {"event_id": event_id, "changed": news_for_all}
                useful_until = refreshed.starts_at - BEFORE_START
                await queue(s, CHANGED, ref, others, payload, now=now, useful_until=useful_until)
                told.update(others)
        return changed, len(told)

    async def cancel(self, event_id: int) -> int:
        """Cancel an event; everyone who answered is told. Returns how many."""
        async with self.db.transaction() as s:
            return await cancel_event(s, event_id, self.seats, self.clock())

    async def answers(self, event_id: int) -> list[tuple[object, ...]]:
        """Answers for an organiser: a number per person, never a name or an account id."""
        async with self.db.transaction() as s:
            participants = await RsvpRepository(s).participants(event_id)
        return [
            (
                number,
                p.status,
                p.waitlist_seq or "",
                p.locale,
                p.platform or "",
                p.updated_at.isoformat(timespec="minutes"),
            )
            for number, p in enumerate(participants, start=1)
        ]

    async def report(
        self, organisation_ids: Collection[int], first: datetime, last: datetime
    ) -> dict[int, list[tuple[object, ...]]]:
        """Per organisation, per event in the period: answers per status and the languages of
        participants. The same few queries for any number of events."""
        async with self.db.transaction() as s:
            records = await EventRepository(s).report(organisation_ids, first, last)
            reminded = await ReminderRepository(s).totals([r.event_id for r in records])
            interpreting = await InterpreterRepository(s).counts([r.event_id for r in records])
        result: dict[int, list[tuple[object, ...]]] = {}
        for r in records:
            sent, cant_come = reminded.get(r.event_id, (0, 0))
            result.setdefault(r.organisation_id, []).append(
                (
                    r.event_id,
                    r.title,
                    r.starts_at.isoformat(timespec="minutes"),
                    r.counts.going,
                    r.counts.maybe,
                    r.counts.not_going,
                    r.counts.waitlisted,
                    " ".join(f"{k}:{v}" for k, v in sorted(r.languages.items())),
                    sent,
                    cant_come,
                    interpreter_counts(interpreting.get(r.event_id, {})),
                )
            )
        return result

    async def view(self, event_id: int, user_id: int | None) -> EventView | None:
        async with self.db.reading() as s:
            event = await EventRepository(s).get(event_id)
            if event is None:
                return None
            return (await self._views(s, [event], user_id))[0]

    async def notice_view(self, event_id: int, user_id: int) -> EventView | None:
        """:meth:`view` for a notice on its way to one of many recipients (a reminder run to
        thousands): the event and the person's own answer and offer are read each time, the
        counts and the seats offers hold once every NOTICE_VIEW_SECONDS for all of them.
        Counting every answer per recipient made a run quadratic in its size."""
        now = time.monotonic()
        async with self.db.reading() as s:
            event = await EventRepository(s).get(event_id)
            if event is None:
                return None
            cached = self._notice_counts.get(event_id)
            if cached is None or now - cached[0] > NOTICE_VIEW_SECONDS:
                counts = (await EventRepository(s).counts([event_id]))[event_id]
                held = (await OfferRepository(s).open_counts([event_id])).get(event_id, 0)
                if len(self._notice_counts) >= 1_000:
                    self._notice_counts.clear()
                cached = self._notice_counts[event_id] = (now, counts, held)
            _at, counts, held = cached
            rsvps = RsvpRepository(s)
            mine = (await rsvps.of_user_for(user_id, [event_id])).get(event_id)
            waiting = mine is not None and mine.status == "waitlisted"
            position = (
                (await rsvps.waitlist_positions(user_id, [event_id])).get(event_id)
                if waiting
                else None
            )
            offered = None
            if held or waiting:  # a seat offered a moment ago may not be in the counts yet
                offered = next(iter(await OfferRepository(s).open_to(user_id, [event_id])), None)
        return EventView(event, counts, mine, position, held, offered)

    async def notice_views(self, event_id: int, user_ids: Collection[int]) -> dict[int, EventView]:
        """:meth:`view` of one event for each of many people at once (the recipients of a
        reminder batch), in one read of a handful of queries; empty when the event is gone."""
        async with self.db.reading() as s:
            event = await EventRepository(s).get(event_id)
            if event is None:
                return {}
            counts = (await EventRepository(s).counts([event_id]))[event_id]
            rsvps = RsvpRepository(s)
            answers = await rsvps.of_users_for(event_id, user_ids)
            waiting = any(a.status == "waitlisted" for a in answers.values())
            line = await rsvps.waitlist_order(event_id) if waiting else []
            offers = await OfferRepository(s).open_for(event_id)
        position = {user: place for place, user in enumerate(line, start=1)}
        offered = {offer.user_id: offer for offer in offers}
        return {
            user: EventView(
                event,
                counts,
                answers.get(user),
                position.get(user),
                len(offers),
                offered.get(user),
            )
            for user in user_ids
        }

    @staticmethod
    async def _views(s: Session, events: list[EventRecord], user_id: int | None) -> list[EventView]:
        """The events with their counts, seats held by offers and the person's own answers and
        offers: a handful of queries for any number of events."""
        ids = [e.id for e in events]
        counts = await EventRepository(s).counts(ids)
        offers = OfferRepository(s)
        held = await offers.open_counts(ids)
        if user_id is None:
            return [EventView(e, counts[e.id], held=held.get(e.id, 0)) for e in events]
        rsvps = RsvpRepository(s)
        mine = await rsvps.of_user_for(user_id, ids)
        waiting = [i for i, rsvp in mine.items() if rsvp.status == "waitlisted"]
        positions = await rsvps.waitlist_positions(user_id, waiting) if waiting else {}
        offered = {o.event_id: o for o in await offers.open_to(user_id, ids)} if held else {}
        return [
            EventView(
                e,
                counts[e.id],
                mine.get(e.id),
                positions.get(e.id),
                held.get(e.id, 0),
                offered.get(e.id),
            )
            for e in events
        ]
