"""Answers to events: an upsert per (event, person), capacity, the waitlist and seat offers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.core.errors import EventUnavailable
from bot.services.events import EventView
from bot.services.seats import OfferGone, Seats
from storage.db import Database
from storage.records import Counts, EventRecord, OfferRecord, RsvpRecord
from storage.repositories import EventRepository, OfferRepository, RsvpRepository, Session


class Answer(StrEnum):
    GOING = "going"
    MAYBE = "maybe"
    NOT_GOING = "not_going"


@dataclass(frozen=True)
class AnswerResult:
    event: EventRecord
    status: str
    previous: str | None
    waitlist_position: int | None
    counts: Counts
    offered: int
    accepted_offer: bool = False
    # The answer as stored (None only when nothing was stored), seats held by open offers
    # and the open offer to this person afterwards: with the above, the card's whole view.
    record: RsvpRecord | None = None
    held: int = 0
    offer: OfferRecord | None = None

    @property
    def changed(self) -> bool:
        return self.status != self.previous

    @property
    def view(self) -> EventView:
        """The event as the person sees it right after answering (read in the answer's own
        transaction: a press needs no second read of the event, its counts and offers)."""
        return EventView(
            self.event, self.counts, self.record, self.waitlist_position, self.held, self.offer
        )


class RsvpService:
    def __init__(self, db: Database, clock: Callable[[], datetime], seats: Seats) -> None:
        self.db = db
        self.clock = clock
        self.seats = seats

    async def answer(
        self, user_id: int, event_id: int, answer: Answer, *, offer_id: int | None = None
    ) -> AnswerResult:
        """Record the answer (pressing the same button twice gives the same result).

        ``offer_id``: the answer to that seat offer (its Yes or No button); if it is no longer
        open, OfferGone says why and nothing changes."""
        now = self.clock()
        async with self.db.transaction() as s:
            events, rsvps = EventRepository(s), RsvpRepository(s)
            event = await events.get(event_id, lock=True)
            if event is None:
                raise EventUnavailable("gone")
            if event.status != "published":
                raise EventUnavailable("cancelled")
            if (event.ends_at or event.starts_at) < now:
                raise EventUnavailable("over")
            current = await rsvps.get(event_id, user_id)
            previous = current.status if current else None
            closed = event.registration_deadline is not None and event.registration_deadline < now
            if closed and answer != Answer.NOT_GOING and previous not in ("going", "waitlisted"):
                raise EventUnavailable("closed")

            offers = OfferRepository(s)
            offer = await offers.open_of(event_id, user_id)
            if offer_id is not None:
                await self._check_offer(s, offer, offer_id, accepting=answer == Answer.GOING)
            if offer is not None and offer.expires_at <= now and answer == Answer.GOING:
                offer = None  # too late to accept; expiring it passes the seat on
            accepted = False
            record: RsvpRecord
            if offer is not None and answer == Answer.GOING:
                # Going with a seat offered to me: the offer is accepted.
                await offers.close(offer.id, "accepted", now)
                record = await rsvps.put(event_id, user_id, Answer.GOING, None)
                accepted = True
            elif answer == Answer.GOING and current and current.status in ("going", "waitlisted"):
                record = current
            elif answer == Answer.GOING and await self._full(s, event, user_id):
                seq = await rsvps.next_waitlist_seq(event_id)
                record = await rsvps.put(event_id, user_id, "waitlisted", seq)
            else:
                if offer is not None:
                    await offers.close(offer.id, "declined", now)
                record = await rsvps.put(event_id, user_id, answer.value, None)

            offered: list[int] = []
            if (previous == "going" and record.status != "going") or (
                offer is not None and not accepted
            ):
                offered = await self.seats.fill(s, event)
            position = None
            if record.status == "waitlisted" and record.waitlist_seq is not None:
                position = await rsvps.waitlist_position(event_id, record.waitlist_seq)
            counts = (await events.counts([event_id]))[event_id]
            held = (await offers.open_counts([event_id])).get(event_id, 0)
            mine = await offers.open_of(event_id, user_id) if held else None
        return AnswerResult(
            event,
            record.status,
            previous,
            position,
            counts,
            len(offered),
            accepted,
            record=record,
            held=held,
            offer=mine,
        )

    async def _check_offer(
        self, s: Session, offer: OfferRecord | None, offer_id: int, *, accepting: bool
    ) -> None:
        """The offer pressed is the person's open one (checked under the event's lock, so an
        expiry in another process cannot slip in between); a Yes must also be in time."""
        if offer is None or offer.id != offer_id:
            pressed = await OfferRepository(s).get(offer_id)
            raise OfferGone(pressed.status if pressed is not None else "gone")
        if accepting and offer.expires_at <= self.clock():
            raise OfferGone("expired")

    async def _full(self, s: Session, event: EventRecord, user_id: int) -> bool:
        """No seat left for the person: all are taken or held by offers to others."""
        if event.capacity is None:
            return False
        taken = await RsvpRepository(s).going_count(event.id)
        return taken + await self.seats.held(s, event.id, besides=user_id) >= event.capacity

    async def withdraw(self, user_id: int, event_id: int, answer: Answer) -> AnswerResult | None:
        """Take back ``answer`` (a removed reaction): only if it is still the person's answer."""
        async with self.db.transaction() as s:
            current = await RsvpRepository(s).get(event_id, user_id)
        still = current is not None and (
            current.status == answer.value
            or (answer == Answer.GOING and current.status == "waitlisted")
        )
        if not still:
            return None
        return await self.answer(user_id, event_id, Answer.NOT_GOING)

    async def mine(self, user_id: int) -> list[RsvpRecord]:
        async with self.db.transaction() as s:
            return await RsvpRepository(s).of_user(user_id, self.clock())
