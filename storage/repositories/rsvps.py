"""Answers to events, including the order of the waitlist."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Event, Rsvp
from storage.records import RsvpRecord


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

    async def first_waiting(self, event_id: int) -> RsvpRecord | None:
        row = await self.session.scalar(
            select(Rsvp)
            .where(Rsvp.event_id == event_id, Rsvp.status == "waitlisted")
            .order_by(Rsvp.waitlist_seq, Rsvp.id)
            .limit(1)
        )
        return _record(row) if row else None

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
