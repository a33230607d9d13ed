"""What is planned to happen at an instant: reminders, seat offers, digests."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, delete, func, insert, literal, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import DigestItem, Event, InviteCode, LinkCode, Offer, Reminder, Rsvp, User
from storage.records import OfferRecord, QuietRecord, ReminderRecord

# Rows per IN (…) list: far below SQLite's and asyncpg's parameter limits.
CHUNK = 1000
REMINDED = ("going", "maybe", "waitlisted")


def _reminder(row: Reminder) -> ReminderRecord:
    return ReminderRecord(
        id=row.id,
        event_id=row.event_id,
        minutes_before=row.minutes_before,
        due_at=row.due_at,
        status=row.status,
        recipients=row.recipients,
        skipped_late=row.skipped_late,
        cant_come=row.cant_come,
    )


def _offer(row: Offer) -> OfferRecord:
    return OfferRecord(
        id=row.id,
        event_id=row.event_id,
        user_id=row.user_id,
        status=row.status,
        created_at=row.created_at,
        expires_at=row.expires_at,
    )


def _new_reminder(event_id: int, minutes: int, due: datetime) -> dict[str, object]:
    return {
        "event_id": event_id,
        "minutes_before": minutes,
        "due_at": due,
        "status": "planned",
        "recipients": 0,
        "skipped_late": 0,
        "cant_come": 0,
    }


def in_chunks(ids: Collection[int]) -> Iterable[list[int]]:
    """The ids in lists of at most CHUNK, one IN (…) each."""
    items = list(ids)
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


class ReminderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def plan_many(
        self, plans: Mapping[int, tuple[datetime, Mapping[int, datetime]]], now: datetime
    ) -> None:
        """Per event (its start, and its reminders' due instants by minutes before): new
        reminders still ahead are added (a few statements for any number of events); one with
        a new instant is planned again — at once when that instant has passed but the event has
        not begun and it was not sent yet (the event moved closer); one already sent whose new
        instant has passed stays sent. Offsets no longer given that still wait are called off."""
        existing: dict[int, dict[int, Reminder]] = {}
        for chunk in in_chunks(plans):
            found = await self.session.scalars(select(Reminder).where(Reminder.event_id.in_(chunk)))
            for planned in found:
                existing.setdefault(planned.event_id, {})[planned.minutes_before] = planned
        new: list[dict[str, object]] = []
        for event_id, (starts_at, dues) in plans.items():
            rows = existing.get(event_id, {})
            for minutes, due in dues.items():
                row = rows.get(minutes)
                if row is None:
                    if due > now:
                        new.append(_new_reminder(event_id, minutes, due))
                    continue
                if row.due_at == due and row.status != "cancelled":
                    continue
                if due > now:
                    row.due_at, row.status, row.done_at = due, "planned", None
                elif row.status in ("planned", "cancelled") and starts_at > now:
                    row.due_at, row.status, row.done_at = now, "planned", None
                elif row.status == "planned":
                    row.status = "cancelled"
            for minutes, row in rows.items():
                if minutes not in dues and row.status == "planned":
                    row.status = "cancelled"
        await self.session.flush()
        if new:
            # One executemany: SQLAlchemy batches it into few INSERT statements, compiled once.
            await self.session.execute(insert(Reminder), new)

    async def unplanned(self, now: datetime) -> list[tuple[int, datetime, str]]:
        """Published events still ahead that have no reminder rows at all (events from before
        reminders existed): (id, start, time zone)."""
        planned = select(Reminder.id).where(Reminder.event_id == Event.id).exists()
        rows = await self.session.execute(
            select(Event.id, Event.starts_at, Event.timezone).where(
                Event.status == "published", Event.starts_at > now, ~planned
            )
        )
        return [(event_id, starts_at, tz) for event_id, starts_at, tz in rows]

    async def call_off(self, event_id: int) -> None:
        """The event is cancelled: nothing more is reminded."""
        await self.session.execute(
            update(Reminder)
            .where(Reminder.event_id == event_id, Reminder.status == "planned")
            .values(status="cancelled")
        )

    async def due(self, now: datetime, limit: int) -> list[ReminderRecord]:
        rows = await self.session.scalars(
            select(Reminder)
            .where(Reminder.status == "planned", Reminder.due_at <= now)
            .order_by(Reminder.due_at, Reminder.id)
            .limit(limit)
        )
        return [_reminder(r) for r in rows]

    async def get(self, reminder_id: int, *, lock: bool = False) -> ReminderRecord | None:
        query = select(Reminder).where(Reminder.id == reminder_id)
        if lock:
            query = query.with_for_update()
        row = await self.session.scalar(query)
        return _reminder(row) if row else None

    async def next_due(self) -> datetime | None:
        return await self.session.scalar(
            select(func.min(Reminder.due_at)).where(Reminder.status == "planned")
        )

    async def finish(
        self, reminder_id: int, status: str, now: datetime, *, recipients: int, late: int
    ) -> None:
        await self.session.execute(
            update(Reminder)
            .where(Reminder.id == reminder_id)
            .values(
                status=status,
                recipients=Reminder.recipients + recipients,
                skipped_late=Reminder.skipped_late + late,
                done_at=now,
            )
        )

    async def count_cant_come(self, event_id: int, minutes_before: int) -> None:
        await self.session.execute(
            update(Reminder)
            .where(Reminder.event_id == event_id, Reminder.minutes_before == minutes_before)
            .values(cant_come=Reminder.cant_come + 1)
        )

    async def of_event(self, event_id: int) -> list[ReminderRecord]:
        rows = await self.session.scalars(
            select(Reminder)
            .where(Reminder.event_id == event_id)
            .order_by(Reminder.minutes_before.desc())
        )
        return [_reminder(r) for r in rows]

    async def totals(self, event_ids: Collection[int]) -> dict[int, tuple[int, int]]:
        """Per event: reminders written for people, and "can't come" answers to them."""
        found: dict[int, tuple[int, int]] = {}
        for chunk in in_chunks(event_ids):
            rows = await self.session.execute(
                select(
                    Reminder.event_id, func.sum(Reminder.recipients), func.sum(Reminder.cant_come)
                )
                .where(Reminder.event_id.in_(chunk))
                .group_by(Reminder.event_id)
            )
            found.update({e: (int(sent or 0), int(cant or 0)) for e, sent, cant in rows})
        return found

    @staticmethod
    def audience(event_id: int, minutes: int, skip: Collection[int] = ()) -> Select[int]:
        """Everyone who answered going or maybe, or waits, and wants the reminder ``minutes``
        before, except those who want one of the offsets ``skip`` (a nearer reminder due as
        well says the same): a query, for an INSERT … SELECT, never a list in Python."""
        # Offsets are stored as "1440,120": ",1440,120," holds ",120," exactly when 120 is one.
        offsets = literal(",") + User.reminder_minutes + literal(",")
        return (
            select(Rsvp.user_id)
            .join(User, User.id == Rsvp.user_id)
            .where(
                Rsvp.event_id == event_id,
                Rsvp.status.in_(REMINDED),
                offsets.contains(f",{minutes},", autoescape=True),
                *(~offsets.contains(f",{other},", autoescape=True) for other in sorted(skip)),
            )
        )

    async def count(self, people: Select[int]) -> int:
        return int(
            await self.session.scalar(select(func.count()).select_from(people.subquery())) or 0
        )

    async def planned_for(self, user_id: int, now: datetime) -> list[ReminderRecord]:
        """The planned reminders of events the person answered, soonest first."""
        rows = await self.session.scalars(
            select(Reminder)
            .join(Rsvp, Rsvp.event_id == Reminder.event_id)
            .join(Event, Event.id == Reminder.event_id)
            .where(
                Rsvp.user_id == user_id,
                Rsvp.status.in_(REMINDED),
                Reminder.status == "planned",
                Reminder.due_at > now,
                Event.status == "published",
            )
            .order_by(Reminder.due_at, Reminder.id)
        )
        return [_reminder(r) for r in rows]


class OfferRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, event_id: int, user_id: int, now: datetime, expires_at: datetime) -> int:
        row = Offer(
            event_id=event_id,
            user_id=user_id,
            status="open",
            created_at=now,
            expires_at=expires_at,
        )
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def get(self, offer_id: int) -> OfferRecord | None:
        row = await self.session.get(Offer, offer_id)
        return _offer(row) if row else None

    async def open_of(self, event_id: int, user_id: int) -> OfferRecord | None:
        row = await self.session.scalar(
            select(Offer).where(
                Offer.event_id == event_id, Offer.user_id == user_id, Offer.status == "open"
            )
        )
        return _offer(row) if row else None

    async def open_to(self, user_id: int, event_ids: Collection[int]) -> list[OfferRecord]:
        rows = await self.session.scalars(
            select(Offer).where(
                Offer.user_id == user_id,
                Offer.event_id.in_(list(event_ids)),
                Offer.status == "open",
            )
        )
        return [_offer(r) for r in rows]

    async def open_of_user(self, user_id: int) -> list[OfferRecord]:
        """Every open offer to the person, the oldest first."""
        rows = await self.session.scalars(
            select(Offer).where(Offer.user_id == user_id, Offer.status == "open").order_by(Offer.id)
        )
        return [_offer(r) for r in rows]

    async def open_for(self, event_id: int) -> list[OfferRecord]:
        """The event's open offers, the oldest first."""
        rows = await self.session.scalars(
            select(Offer)
            .where(Offer.event_id == event_id, Offer.status == "open")
            .order_by(Offer.id)
        )
        return [_offer(r) for r in rows]

    async def open_counts(self, event_ids: Collection[int]) -> dict[int, int]:
        if not event_ids:
            return {}
        rows = await self.session.execute(
            select(Offer.event_id, func.count(Offer.id))
            .where(Offer.event_id.in_(list(event_ids)), Offer.status == "open")
            .group_by(Offer.event_id)
        )
        return {event_id: int(n) for event_id, n in rows}

    async def close(self, offer_id: int, status: str, now: datetime) -> bool:
        """Close an open offer; False when it was not open any more."""
        result = await self.session.execute(
            update(Offer)
            .where(Offer.id == offer_id, Offer.status == "open")
            .values(status=status, answered_at=now)
        )
        return int(getattr(result, "rowcount", 0) or 0) == 1

    async def expired(self, now: datetime, limit: int) -> list[OfferRecord]:
        rows = await self.session.scalars(
            select(Offer)
            .where(Offer.status == "open", Offer.expires_at <= now)
            .order_by(Offer.expires_at, Offer.id)
            .limit(limit)
        )
        return [_offer(r) for r in rows]

    async def next_due(self) -> datetime | None:
        return await self.session.scalar(
            select(func.min(Offer.expires_at)).where(Offer.status == "open")
        )


class DigestRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def keep(self, items: Iterable[tuple[int, int]], now: datetime) -> None:
        """Keep (person, event) pairs for the next digests; a pair kept before stays once."""
        values = [{"user_id": u, "event_id": e, "added_at": now} for u, e in items]
        if not values:
            return
        dialect = self.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        for start in range(0, len(values), CHUNK // 2):
            await self.session.execute(
                insert(DigestItem)
                .values(values[start : start + CHUNK // 2])
                .on_conflict_do_nothing()
            )

    async def due(self, now: datetime, limit: int) -> list[tuple[int, datetime]]:
        """People whose digest is due, with the instant it was due at."""
        rows = await self.session.execute(
            select(User.id, User.digest_next_at)
            .where(User.news_mode != "instant", User.digest_next_at <= now)
            .order_by(User.digest_next_at, User.id)
            .limit(limit)
        )
        return [(user_id, at) for user_id, at in rows if at is not None]

    async def next_of(self, user_id: int) -> datetime | None:
        return await self.session.scalar(select(User.digest_next_at).where(User.id == user_id))

    async def take(self, user_id: int) -> list[int]:
        """The events kept for the person's digest, which are forgotten here."""
        ids = list(
            await self.session.scalars(
                select(DigestItem.event_id)
                .where(DigestItem.user_id == user_id)
                .order_by(DigestItem.event_id)
            )
        )
        await self.session.execute(delete(DigestItem).where(DigestItem.user_id == user_id))
        return ids

    async def waiting(self, user_id: int) -> int:
        return (
            await self.session.scalar(
                select(func.count()).select_from(DigestItem).where(DigestItem.user_id == user_id)
            )
            or 0
        )

    async def set_next(self, user_id: int, at: datetime | None) -> None:
        await self.session.execute(update(User).where(User.id == user_id).values(digest_next_at=at))

    async def next_due(self) -> datetime | None:
        return await self.session.scalar(
            select(func.min(User.digest_next_at)).where(User.news_mode != "instant")
        )


class NoticeRepository:
    """What decides how a notice reaches people: their quiet hours and how they want news."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def quiet(self, user_ids: Collection[int]) -> list[QuietRecord]:
        found: list[QuietRecord] = []
        for chunk in in_chunks(user_ids):
            rows = await self.session.execute(
                select(User.id, User.timezone, User.quiet_from, User.quiet_until).where(
                    User.id.in_(chunk)
                )
            )
            found.extend(QuietRecord(*row) for row in rows)
        return found

    async def quiet_settings(self, people: Select[int]) -> list[tuple[str, int | None, int | None]]:
        """The distinct (time zone, quiet from, quiet until) among the people selected."""
        rows = await self.session.execute(
            select(User.timezone, User.quiet_from, User.quiet_until)
            .where(User.id.in_(people))
            .distinct()
        )
        return [(r[0], r[1], r[2]) for r in rows]

    @staticmethod
    def with_quiet_settings(
        people: Select[int], settings: Collection[tuple[str, int | None, int | None]]
    ) -> Select[int]:
        """Those of the people selected whose quiet-hours setting is one of ``settings``."""

        def same(value: int | None, column: Any) -> Any:
            return column.is_(None) if value is None else column == value

        matches = [
            and_(User.timezone == tz, same(start, User.quiet_from), same(end, User.quiet_until))
            for tz, start, end in settings
        ]
        return select(User.id).where(User.id.in_(people), or_(*matches))

    async def digest_readers(self, user_ids: Collection[int]) -> set[int]:
        """Those of ``user_ids`` who want new events in a digest, not at once."""
        found: set[int] = set()
        for chunk in in_chunks(user_ids):
            rows = await self.session.scalars(
                select(User.id).where(User.id.in_(chunk), User.news_mode != "instant")
            )
            found.update(rows)
        return found


class CodeRepository:
    """One-time codes (account links, invites) are kept until they expire, not longer."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def next_expiry(self) -> datetime | None:
        found = [
            await self.session.scalar(select(func.min(model.expires_at)))
            for model in (LinkCode, InviteCode)
        ]
        return min((at for at in found if at is not None), default=None)

    async def purge(self, now: datetime) -> int:
        """Delete every code that has expired; returns how many."""
        gone = 0
        for model in (LinkCode, InviteCode):
            result = await self.session.execute(delete(model).where(model.expires_at <= now))
            gone += int(getattr(result, "rowcount", 0) or 0)
        return gone
