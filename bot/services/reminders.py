"""Reminders before events: planned per event and offset, sent per person when due.

An event's reminders are rows, one per offset a person can choose (one week, one day, two
hours, 30 minutes before), each due at a UTC instant. Whole days are counted on the wall clock
of the event's time zone (a day before 10:00 is 10:00, also across a change of the clocks).
When a row is due, one unit of work writes one outbox row per person who answered going or
maybe, or waits, and wants that offset, and marks the row sent: a crash before the commit
leaves it due, after it the outbox sends each message once.

A row found due after downtime is still sent while the event has not started (except to people
for whom a nearer reminder of the same event is due too, which says the same); otherwise it is
recorded as ``skipped_late`` with the number of people it would have reached, and logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from bot.calendar.wallclock import before
from bot.services.notify import queue_selected, zone
from storage.db import Database
from storage.records import EventRecord, ReminderRecord
from storage.repositories import EventRepository, OutboxRepository, ReminderRepository, Session

log = logging.getLogger(__name__)

REMINDER = "reminder"
# What people can choose in /settings, longest first (everyone starts with a day and two hours
# before: the default of users.reminder_minutes).
CHOICES = (7 * 24 * 60, 24 * 60, 120, 30)


def dues(starts_at: datetime, timezone: str) -> dict[int, datetime]:
    """When each reminder of an event that starts at ``starts_at`` is due."""
    tz = zone(timezone)
    return {minutes: before(starts_at, minutes, tz) for minutes in CHOICES}


async def plan(
    s: Session, event_id: int, starts_at: datetime, timezone: str, now: datetime
) -> None:
    """Plan (or plan again, after a change of time) the reminders of an event."""
    await plan_all(s, [(event_id, starts_at, timezone)], now)


async def plan_all(s: Session, events: Iterable[tuple[int, datetime, str]], now: datetime) -> None:
    """Plan the reminders of many events (id, start, time zone) at once: a few statements for
    any number of events (an import, the demo)."""
    plans = {event_id: (starts_at, dues(starts_at, tz)) for event_id, starts_at, tz in events}
    await ReminderRepository(s).plan_many(plans, now)


async def call_off(s: Session, event_id: int) -> None:
    await ReminderRepository(s).call_off(event_id)


def reminder_ref(row: ReminderRecord) -> str:
    """One reference per event, offset and due instant: a reminder planned again for a new
    time is a new message; the same one written twice is one."""
    return f"{row.event_id}:{row.minutes_before}:{int(row.due_at.timestamp())}"


@dataclass(frozen=True)
class ReminderStats:
    """What an organiser sees per event: reminders sent, skipped and "can't come" answers."""

    sent: int
    skipped_late: int
    cant_come: int


class ReminderService:
    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock

    async def plan_missing(self) -> int:
        """Plan the reminders of upcoming events that have none (published before reminders
        existed); run at every start, it finds nothing the second time. Returns how many."""
        now = self.clock()
        async with self.db.reading() as s:
            missing = await ReminderRepository(s).unplanned(now)
        if missing:
            async with self.db.transaction() as s:
                await plan_all(s, missing, now)
            log.info("planned the reminders of %d events that had none", len(missing))
        return len(missing)

    async def run_due(self) -> int:
        """Send every reminder that is due (each in its own unit of work); returns how many
        reminder rows were handled."""
        handled = 0
        while True:
            # Looking takes no write lock: an alarm that finds nothing due blocks nobody.
            async with self.db.unit_of_work(write=False) as unit:
                due = await ReminderRepository(unit.session).due(self.clock(), 1)
            if not due:
                return handled
            async with self.db.unit_of_work() as unit:
                await self._fan_out(unit.session, due[0].id)
            handled += 1

    async def _fan_out(self, s: Session, reminder_id: int) -> None:
        now = self.clock()
        reminders = ReminderRepository(s)
        row = await reminders.get(reminder_id, lock=True)
        if row is None or row.status != "planned" or row.due_at > now:
            return  # another process took it, or it was planned again meanwhile
        event = await EventRepository(s).get(row.event_id)
        if event is None or event.status != "published":
            await reminders.finish(row.id, "cancelled", now, recipients=0, late=0)
            return
        everyone = reminders.audience(event.id, row.minutes_before)
        if now >= event.starts_at:
            late = await reminders.count(everyone)
            await reminders.finish(row.id, "skipped_late", now, recipients=0, late=late)
            log.warning(
                "reminder %d of event %d (%d minutes before) skipped: %d people, %d s late",
                row.id,
                event.id,
                row.minutes_before,
                late,
                int((now - row.due_at).total_seconds()),
            )
            return
        # After downtime a nearer reminder may be due as well: whoever gets that one does
        # not get this one too (it would say the same, twice).
        nearer = await self._nearer_due(s, row, now)
        wanted = reminders.audience(event.id, row.minutes_before, skip=nearer)
        payload = {
            "event_id": event.id,
            "minutes": row.minutes_before,
            "due": row.due_at.isoformat(),
        }
        ref = reminder_ref(row)
        # One INSERT … SELECT per quiet-hours setting: a run to thousands is a few statements,
        # and the write lock is held for milliseconds, not seconds.
        count = await reminders.count(wanted)
        superseded = bool(nearer) and await reminders.count(everyone) > count
        await queue_selected(
            s, REMINDER, ref, wanted, payload, now=now, useful_until=event.starts_at, complete=True
        )
        # Those who get the nearer reminder instead are not counted as missed.
        status = "skipped_late" if superseded and not count else "sent"
        await reminders.finish(row.id, status, now, recipients=count, late=0)

    @staticmethod
    async def _nearer_due(s: Session, row: ReminderRecord, now: datetime) -> set[int]:
        """The offsets of the same event nearer to its start that are due as well."""
        return {
            other.minutes_before
            for other in await ReminderRepository(s).of_event(row.event_id)
            if other.minutes_before < row.minutes_before
            and other.due_at <= now
            and other.status in ("planned", "sent")
        }

    async def of_event(self, event_id: int) -> list[ReminderRecord]:
        async with self.db.reading() as s:
            return await ReminderRepository(s).of_event(event_id)

    def wanted_among(
        self, rows: list[ReminderRecord], minutes: int, due: str, wanted: tuple[int, ...]
    ) -> bool:
        """The reminder of this payload is still worth sending to someone who wants the
        offsets ``wanted``: the event was not moved since (``due`` is still its instant), the
        person did not turn this offset off, and no nearer reminder they want is due as well
        (both held through their quiet hours, say). ``rows``: the event's reminder rows, read
        once for a batch of recipients."""
        if minutes not in wanted:
            return False
        now = self.clock()
        this = [r for r in rows if r.minutes_before == minutes]
        if not this or this[0].status != "sent" or this[0].due_at.isoformat() != due:
            return False
        return not any(
            row.minutes_before < minutes
            and row.minutes_before in wanted
            and row.due_at <= now
            and row.status in ("planned", "sent")
            for row in rows
        )

    async def count_cant_come(self, event_id: int, minutes: int) -> None:
        async with self.db.transaction() as s:
            await ReminderRepository(s).count_cant_come(event_id, minutes)

    async def planned_for(self, user_id: int, minutes: tuple[int, ...]) -> list[ReminderRecord]:
        """The person's reminders still to come, for the offsets they chose."""
        async with self.db.reading() as s:
            rows = await ReminderRepository(s).planned_for(user_id, self.clock())
        return [r for r in rows if r.minutes_before in minutes]

    async def stats(self, event: EventRecord) -> ReminderStats:
        async with self.db.reading() as s:
            rows = await ReminderRepository(s).of_event(event.id)
            sent = await OutboxRepository(s).sent_count(REMINDER, f"{event.id}:")
        return ReminderStats(
            sent=sent,
            skipped_late=sum(r.skipped_late for r in rows),
            cant_come=sum(r.cant_come for r in rows),
        )

    async def next_due(self) -> datetime | None:
        async with self.db.reading() as s:
            return await ReminderRepository(s).next_due()
