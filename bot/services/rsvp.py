"""Answers to events: an upsert per (event, person), capacity, waitlist and moving up."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.core.errors import EventUnavailable
from storage.db import Database
from storage.records import Counts, EventRecord, RsvpRecord
from storage.repositories import EventRepository, OutboxRepository, RsvpRepository, Session

PROMOTED = "waitlist_promoted"
DEMOTED = "waitlist_demoted"


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
    promoted: int

    @property
    def changed(self) -> bool:
        return self.status != self.previous


async def promote_waiting(session: Session, event: EventRecord) -> int:
    """Move people up from the waitlist while seats are free; each is told through the outbox."""
    return len(await _promote(session, event))


async def _promote(session: Session, event: EventRecord) -> list[int]:
    rsvps = RsvpRepository(session)
    if event.capacity is None:
        free = await rsvps.waiting_count(event.id)  # no limit any more: everyone waiting
    else:
        free = event.capacity - await rsvps.going_count(event.id)
    waiting = await rsvps.first_waiting(event.id, free) if free > 0 else []
    outbox = OutboxRepository(session)
    for person in waiting:
        await rsvps.put(event.id, person.user_id, Answer.GOING, None)
        await outbox.add(PROMOTED, _turn(person), person.user_id, {"event_id": event.id})
    return [person.user_id for person in waiting]


async def fit_capacity(session: Session, event: EventRecord) -> list[int]:
    """The seats changed: people waiting move up into new seats, or, with fewer seats than
    people going, the last to take a seat go back to the front of the waitlist, in the order
    they took it. Each of them is told; returns who."""
    rsvps = RsvpRepository(session)
    over = 0 if event.capacity is None else await rsvps.going_count(event.id) - event.capacity
    if over <= 0:
        return await _promote(session, event)
    latest = await rsvps.latest_going(event.id, over)
    front = await rsvps.first_waitlist_seq(event.id)
    first = (front if front is not None else 1) - len(latest)
    outbox = OutboxRepository(session)
    for seq, person in enumerate(reversed(latest), start=first):
        record = await rsvps.put(event.id, person.user_id, "waitlisted", seq)
        await outbox.add(DEMOTED, _turn(record), person.user_id, {"event_id": event.id})
    return [person.user_id for person in latest]


def _turn(rsvp: RsvpRecord) -> str:
    """One stay in a queue or one seat: a person can wait, move up, and wait again, with the
    same place in the queue, and is told each time (a retried unit writes the same)."""
    return f"{rsvp.event_id}:{rsvp.id}:{rsvp.updated_at.timestamp():.6f}"


async def leave_event(session: Session, event_id: int, user_id: int) -> None:
    """Give up a seat (used when a person deletes their data); the next person moves up."""
    event = await EventRepository(session).get(event_id, lock=True)
    if event is None:
        return
    await RsvpRepository(session).put(event_id, user_id, Answer.NOT_GOING, None)
    await promote_waiting(session, event)


class RsvpService:
    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock

    async def answer(self, user_id: int, event_id: int, answer: Answer) -> AnswerResult:
        """Record the answer (pressing the same button twice gives the same result)."""
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

            record: RsvpRecord
            if answer == Answer.GOING and current and current.status in ("going", "waitlisted"):
                record = current
            elif (
                answer == Answer.GOING
                and event.capacity is not None
                and (await rsvps.going_count(event_id) >= event.capacity)
            ):
                seq = await rsvps.next_waitlist_seq(event_id)
                record = await rsvps.put(event_id, user_id, "waitlisted", seq)
            else:
                record = await rsvps.put(event_id, user_id, answer.value, None)

            promoted = 0
            if previous == "going" and record.status != "going":
                promoted = await promote_waiting(s, event)
            position = None
            if record.status == "waitlisted" and record.waitlist_seq is not None:
                position = await rsvps.waitlist_position(event_id, record.waitlist_seq)
            counts = (await events.counts([event_id]))[event_id]
        return AnswerResult(event, record.status, previous, position, counts, promoted)

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
