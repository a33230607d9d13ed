"""Answers to events, including the order of the waitlist."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.models import Event, Identity, Rsvp, User
from storage.records import ParticipantRecord, RsvpRecord
from storage.repositories.planning import in_chunks


def _record(row: Rsvp) -> RsvpRecord:
    return RsvpRecord(
        id=row.id,
        event_id=row.event_id,
        user_id=row.user_id,
        status=row.status,
        waitlist_seq=row.waitlist_seq,
        updated_at=row.updated_at,
    )


class RsvpRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, event_id: int, user_id: int) -> RsvpRecord | None:
        row = await self.session.scalar(
            select(Rsvp).where(Rsvp.event_id == event_id, Rsvp.user_id == user_id)
        )
        return _record(row) if row else None

    async def of_user_for(self, user_id: int, event_ids: Collection[int]) -> dict[int, RsvpRecord]:
        """The person's answers to these events, by event id, in one query."""
        if not event_ids:
            return {}
        rows = await self.session.scalars(
            select(Rsvp).where(Rsvp.user_id == user_id, Rsvp.event_id.in_(event_ids))
        )
        return {r.event_id: _record(r) for r in rows}

    async def of_users_for(self, event_id: int, user_ids: Collection[int]) -> dict[int, RsvpRecord]:
        """These people's answers to the event, by person (a notice to many of them)."""
        found: dict[int, RsvpRecord] = {}
        for chunk in in_chunks(sorted(set(user_ids))):
            rows = await self.session.scalars(
                select(Rsvp).where(Rsvp.event_id == event_id, Rsvp.user_id.in_(chunk))
            )
            found.update((r.user_id, _record(r)) for r in rows)
        return found

    async def waitlist_order(self, event_id: int) -> list[int]:
        """The people waiting for the event, first in line first."""
        rows = await self.session.scalars(
            select(Rsvp.user_id)
            .where(
                Rsvp.event_id == event_id,
                Rsvp.status == "waitlisted",
                Rsvp.waitlist_seq.is_not(None),
            )
            .order_by(Rsvp.waitlist_seq, Rsvp.id)
        )
        return list(rows)

    async def waitlist_positions(self, user_id: int, event_ids: Collection[int]) -> dict[int, int]:
        """Where the person waits (1 = first) on each of these events they wait for."""
        if not event_ids:
            return {}
        mine, ahead = aliased(Rsvp), aliased(Rsvp)
        rows = await self.session.execute(
            select(mine.event_id, func.count(ahead.id))
            .join(
                ahead,
                (ahead.event_id == mine.event_id)
                & (ahead.status == "waitlisted")
                & (ahead.waitlist_seq <= mine.waitlist_seq),
            )
            .where(
                mine.user_id == user_id,
                mine.event_id.in_(event_ids),
                mine.status == "waitlisted",
            )
            .group_by(mine.event_id)
        )
        return {event_id: int(n) for event_id, n in rows}

    async def participants(self, event_id: int) -> list[ParticipantRecord]:
        """Every answer to the event with the person's language and oldest messenger,
        ordered by answer and place on the waitlist."""
        oldest = (
            select(Identity.platform)
            .where(Identity.user_id == Rsvp.user_id)
            .order_by(Identity.id)
            .limit(1)
            .scalar_subquery()
        )
        rows = await self.session.execute(
            select(Rsvp, User.locale, oldest)
            .join(User, User.id == Rsvp.user_id)
            .where(Rsvp.event_id == event_id)
            .order_by(Rsvp.status, Rsvp.waitlist_seq, Rsvp.id)
        )
        return [
            ParticipantRecord(rsvp.status, rsvp.waitlist_seq, locale, platform, rsvp.updated_at)
            for rsvp, locale, platform in rows
        ]

    async def put(
        self, event_id: int, user_id: int, status: str, waitlist_seq: int | None
    ) -> RsvpRecord:
        """Insert or update the one answer of ``user_id`` to ``event_id``."""
        row = await self.session.scalar(
            select(Rsvp).where(Rsvp.event_id == event_id, Rsvp.user_id == user_id)
        )
        if row is None:
            row = Rsvp(event_id=event_id, user_id=user_id, status=status, waitlist_seq=waitlist_seq)
            self.session.add(row)
        else:
            row.status, row.waitlist_seq = status, waitlist_seq
        await self.session.flush()
        return _record(row)

    async def going_count(self, event_id: int) -> int:
        return (
            await self.session.scalar(
                select(func.count(Rsvp.id)).where(Rsvp.event_id == event_id, Rsvp.status == "going")
            )
            or 0
        )

    async def waiting_count(self, event_id: int) -> int:
        return (
            await self.session.scalar(
                select(func.count(Rsvp.id)).where(
                    Rsvp.event_id == event_id, Rsvp.status == "waitlisted"
                )
            )
            or 0
        )

    async def latest_going(self, event_id: int, limit: int) -> list[RsvpRecord]:
        """The ``limit`` people who took a seat last, the latest first."""
        rows = await self.session.scalars(
            select(Rsvp)
            .where(Rsvp.event_id == event_id, Rsvp.status == "going")
            .order_by(Rsvp.updated_at.desc(), Rsvp.id.desc())
            .limit(limit)
        )
        return [_record(r) for r in rows]

    async def first_waitlist_seq(self, event_id: int) -> int | None:
        """The place in the queue of the first person waiting, if anyone waits."""
        return await self.session.scalar(
            select(func.min(Rsvp.waitlist_seq)).where(
                Rsvp.event_id == event_id, Rsvp.status == "waitlisted"
            )
        )

    async def user_ids(self, event_id: int, status: str) -> list[int]:
        """The people whose answer to the event is ``status``."""
        rows = await self.session.scalars(
            select(Rsvp.user_id)
            .where(Rsvp.event_id == event_id, Rsvp.status == status)
            .order_by(Rsvp.id)
        )
        return list(rows)

    async def next_waitlist_seq(self, event_id: int) -> int:
        top = await self.session.scalar(
            select(func.max(Rsvp.waitlist_seq)).where(Rsvp.event_id == event_id)
        )
        return (top or 0) + 1

    async def waitlist_position(self, event_id: int, seq: int) -> int:
        """1 for the first person waiting."""
        return (
            await self.session.scalar(
                select(func.count(Rsvp.id)).where(
                    Rsvp.event_id == event_id,
                    Rsvp.status == "waitlisted",
                    Rsvp.waitlist_seq <= seq,
                )
            )
            or 0
        )

    async def first_waiting(self, event_id: int, limit: int) -> list[RsvpRecord]:
        """The first ``limit`` people on the waitlist, in their order."""
        rows = await self.session.scalars(
            select(Rsvp)
            .where(
                Rsvp.event_id == event_id,
                Rsvp.status == "waitlisted",
                Rsvp.waitlist_seq.is_not(None),
            )
            .order_by(Rsvp.waitlist_seq, Rsvp.id)
            .limit(limit)
        )
        return [_record(r) for r in rows]

    async def of_user(self, user_id: int, now: datetime) -> list[RsvpRecord]:
        """The person's answers to events that are not over yet, soonest first."""
        rows = await self.session.scalars(
            select(Rsvp)
            .join(Event, Event.id == Rsvp.event_id)
            .where(
                Rsvp.user_id == user_id,
                func.coalesce(Event.ends_at, Event.starts_at) >= now,
            )
            .order_by(Event.starts_at, Event.id)
        )
        return [_record(r) for r in rows]

    async def event_ids_going(self, user_id: int) -> list[int]:
        rows = await self.session.scalars(
            select(Rsvp.event_id).where(Rsvp.user_id == user_id, Rsvp.status == "going")
        )
        return list(rows)
