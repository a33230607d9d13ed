"""Seats and the waitlist: a free seat is offered, never simply handed on.

When a seat frees up, the first person waiting gets an offer with Accept / Decline. The seat
is held for them while the offer is open; it is valid for ``offer_hours`` (default 12), for at
most half the time left before the event, and never past the registration deadline (after the
deadline, those already waiting can still be offered a freed seat). An offer
that is declined, or that expires unanswered, passes to the next person; whoever let it expire
is told and may join the waitlist again. Nobody becomes "going" without saying yes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.calendar.wallclock import quiet_end
from bot.services.notify import BEFORE_START, queue, zone
from storage.db import Database
from storage.records import EventRecord, OfferRecord, RsvpRecord
from storage.repositories import (
    EventRepository,
    NoticeRepository,
    OfferRepository,
    RsvpRepository,
    Session,
)

log = logging.getLogger(__name__)

OFFER = "seat_offer"
OFFER_EXPIRED = "seat_offer_expired"
OFFER_WITHDRAWN = "seat_offer_withdrawn"
DEMOTED = "waitlist_demoted"
# Kept for rows queued before offers existed: "you moved up" notices.
PROMOTED = "waitlist_promoted"
# An offer is pushed in quiet hours when less than this would be left after them.
OFFER_NOTICE = timedelta(hours=1)


class OfferGone(Exception):
    """The offer cannot be answered: ``reason`` is expired, taken, declined, or gone."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def turn(rsvp: RsvpRecord) -> str:
    """One stay in a queue or one seat: a person can wait, move, and wait again, and is told
    each time (a retried unit writes the same)."""
    return f"{rsvp.event_id}:{rsvp.id}:{rsvp.updated_at.timestamp():.6f}"


class Seats:
    """The rules of seats, offers and the waitlist, applied inside the caller's unit of work."""

    def __init__(self, db: Database, clock: Callable[[], datetime], offer_hours: float) -> None:
        self.db = db
        self.clock = clock
        self.offer_hours = offer_hours

    def valid_until(self, event: EventRecord, now: datetime) -> datetime | None:
        """Until when an offer made now holds, or None when nobody can take a seat any more.

        Before the registration deadline an offer ends there at the latest; after it, the
        people already waiting can still be offered a freed seat (the deadline closes the
        list to newcomers, not to them), for at most half the time left."""
        if event.status != "published" or event.starts_at <= now:
            return None
        until = min(now + timedelta(hours=self.offer_hours), now + (event.starts_at - now) / 2)
        deadline = event.registration_deadline
        if deadline is not None and deadline > now:
            until = min(until, deadline)
        return until

    async def _expiry(
        self, s: Session, event: EventRecord, user_id: int, now: datetime
    ) -> datetime:
        """When an offer to this person made now ends. Its time runs from when it reaches
        them: an offer made in their quiet hours, which it waits through, ends that much
        later (unless the event is too close for waiting: then it is sent at once)."""
        expires = self.valid_until(event, now)
        assert expires is not None
        (person,) = await NoticeRepository(s).quiet([user_id])
        held = quiet_end(now, zone(person.timezone), person.quiet_from, person.quiet_until)
        later = self.valid_until(event, held) if held is not None else None
        if held is not None and later is not None and held < later - OFFER_NOTICE:
            return later
        return expires

    async def held(self, s: Session, event_id: int, *, besides: int | None = None) -> int:
        """Seats held by open offers (other than the one to ``besides``)."""
        offers = await OfferRepository(s).open_for(event_id)
        return sum(1 for o in offers if o.user_id != besides)

    async def fill(self, s: Session, event: EventRecord) -> list[int]:
        """Offer every free seat to the next person waiting; returns who got an offer."""
        now = self.clock()
        rsvps, offers = RsvpRepository(s), OfferRepository(s)
        open_offers = await offers.open_for(event.id)
        offered = {o.user_id for o in open_offers}
        if event.capacity is None:
            free = await rsvps.waiting_count(event.id) - len(offered)
        else:
            free = event.capacity - await rsvps.going_count(event.id) - len(open_offers)
        if free <= 0:
            return []
        if self.valid_until(event, now) is None:
            return []
        made: list[int] = []
        for person in await rsvps.first_waiting(event.id, free + len(offered)):
            if person.user_id in offered:
                continue
            expires = await self._expiry(s, event, person.user_id, now)
            offer_id = await offers.add(event.id, person.user_id, now, expires)
            payload = {"event_id": event.id, "offer_id": offer_id}
            useful_until = expires - OFFER_NOTICE
            await queue(
                s,
                OFFER,
                str(offer_id),
                [person.user_id],
                payload,
                now=now,
                useful_until=useful_until,
            )
            made.append(person.user_id)
            if len(made) >= free:
                break
        return made

    async def fit(self, s: Session, event: EventRecord) -> list[int]:
        """The seats changed. More seats are offered to people waiting; with fewer seats than
        people going (and offers held), open offers are withdrawn first, newest first, then the
        last to take a seat go back to the front of the waitlist. Each is told; returns who."""
        if event.capacity is None:
            return await self.fill(s, event)
        rsvps, offers = RsvpRepository(s), OfferRepository(s)
        now = self.clock()
        going = await rsvps.going_count(event.id)
        open_offers = await offers.open_for(event.id)
        over = going + len(open_offers) - event.capacity
        if over <= 0:
            return await self.fill(s, event)
        told: list[int] = []
        for offer in reversed(open_offers[-over:]):
            await offers.close(offer.id, "withdrawn", now)
            payload = {"event_id": event.id, "offer_id": offer.id}
            await queue(
                s,
                OFFER_WITHDRAWN,
                str(offer.id),
                [offer.user_id],
                payload,
                now=now,
                useful_until=event.starts_at - BEFORE_START,
            )
            told.append(offer.user_id)
        over = going - event.capacity
        if over <= 0:
            return told
        latest = await rsvps.latest_going(event.id, over)
        front = await rsvps.first_waitlist_seq(event.id)
        first = (front if front is not None else 1) - len(latest)
        for seq, person in enumerate(reversed(latest), start=first):
            record = await rsvps.put(event.id, person.user_id, "waitlisted", seq)
            await queue(
                s,
                DEMOTED,
                turn(record),
                [person.user_id],
                {"event_id": event.id},
                now=now,
                useful_until=event.starts_at - BEFORE_START,
            )
            told.append(person.user_id)
        return told

    async def leave(self, s: Session, event_id: int, user_id: int) -> None:
        """The person gives up their seat, place or offer (deleting their data); the seat goes
        on to the next person."""
        event = await EventRepository(s).get(event_id, lock=True)
        if event is None:
            return
        offer = await OfferRepository(s).open_of(event_id, user_id)
        if offer is not None:
            await OfferRepository(s).close(offer.id, "declined", self.clock())
        await RsvpRepository(s).put(event_id, user_id, "not_going", None)
        await self.fill(s, event)

    async def withdraw_all(self, s: Session, event_id: int) -> None:
        """The event is cancelled: its open offers end (the cancellation notice says why)."""
        now = self.clock()
        offers = OfferRepository(s)
        for offer in await offers.open_for(event_id):
            await offers.close(offer.id, "withdrawn", now)

    async def expire_due(self) -> int:
        """Offers not answered in time expire and pass to the next person; returns how many."""
        expired = 0
        while True:
            # Looking takes no write lock: an alarm that finds nothing due blocks nobody.
            async with self.db.unit_of_work(write=False) as unit:
                due = await OfferRepository(unit.session).expired(self.clock(), 1)
            if not due:
                return expired
            async with self.db.unit_of_work() as unit:
                await self._expire(unit.session, due[0])
            expired += 1

    async def _expire(self, s: Session, offer: OfferRecord) -> None:
        now = self.clock()
        event = await EventRepository(s).get(offer.event_id, lock=True)
        if not await OfferRepository(s).close(offer.id, "expired", now) or event is None:
            return
        rsvp = await RsvpRepository(s).get(offer.event_id, offer.user_id)
        if rsvp is not None and rsvp.status == "waitlisted":
            await RsvpRepository(s).put(offer.event_id, offer.user_id, "not_going", None)
        payload = {"event_id": offer.event_id, "offer_id": offer.id}
        await queue(s, OFFER_EXPIRED, str(offer.id), [offer.user_id], payload, now=now)
        log.info("seat offer %d expired unanswered", offer.id)
        await self.fill(s, event)

    async def offer_to(self, offer_id: int, user_id: int, *, accepting: bool) -> OfferRecord:
        """The open offer ``offer_id`` made to ``user_id``; OfferGone says why it is not. A No
        to an offer that ran out but was not passed on yet still counts (and passes it on)."""
        async with self.db.transaction() as s:
            offer = await OfferRepository(s).get(offer_id)
        if offer is None or offer.user_id != user_id:
            raise OfferGone("gone")
        if accepting and offer.status == "open" and offer.expires_at <= self.clock():
            raise OfferGone("expired")
        if offer.status != "open":
            raise OfferGone(offer.status)
        return offer

    async def offers_to(self, user_id: int) -> list[OfferRecord]:
        """The open offers to a person."""
        async with self.db.reading() as s:
            return await OfferRepository(s).open_of_user(user_id)

    async def open_offers(self, event_id: int) -> list[OfferRecord]:
        """The event's open offers (for its organiser), oldest first."""
        async with self.db.transaction() as s:
            return await OfferRepository(s).open_for(event_id)

    async def next_due(self) -> datetime | None:
        async with self.db.reading() as s:
            return await OfferRepository(s).next_due()
