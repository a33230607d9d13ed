"""Broadcasts: an announcement, who it goes to, and whether all its deliveries are final."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Select, String, cast, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Broadcast,
    Identity,
    OutboxMessage,
    RegionChoice,
    Rsvp,
    Subscription,
    User,
)
from storage.records import Audience, BroadcastRecord
from storage.repositories.outbox import FINAL_STATES

ATTENDING = ("going", "maybe", "waitlisted")


def _record(row: Broadcast) -> BroadcastRecord:
    return BroadcastRecord(
        row.id, row.organisation_id, row.author_user_id, dict(row.texts), row.total, row.status
    )


def _recipients(audience: Audience) -> Select[int]:
    """The ids of the people with an active account whom ``audience`` describes."""
    active = select(Identity.user_id).where(Identity.active.is_(True))
    if audience.event_id is not None:
        return select(Rsvp.user_id).where(
            Rsvp.event_id == audience.event_id,
            Rsvp.status.in_(ATTENDING),
            Rsvp.user_id.in_(active),
        )
    query = select(Subscription.user_id).where(Subscription.user_id.in_(active)).distinct()
    if audience.categories:
        query = query.where(Subscription.category_id.in_(audience.categories))
    if audience.regions:
        chose = select(RegionChoice.user_id).where(RegionChoice.user_id == Subscription.user_id)
        here = chose.where(RegionChoice.region_id.in_(audience.regions))
        query = query.where(or_(~chose.exists(), here.exists()))
    return query


class BroadcastRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def languages(self, audience: Audience) -> dict[str, int]:
        """How many recipients read which language."""
        rows = await self.session.execute(
            select(User.locale, func.count())
            .where(User.id.in_(_recipients(audience)))
            .group_by(User.locale)
        )
        return {locale: int(n) for locale, n in rows}

    @staticmethod
    def audience(audience: Audience) -> Select[int]:
        """The recipients as a query, for set-based queueing."""
        return _recipients(audience)

    async def set_total(self, broadcast_id: int, total: int) -> None:
        await self.session.execute(
            update(Broadcast).where(Broadcast.id == broadcast_id).values(total=total)
        )

    async def add(
        self,
        organisation_id: int,
        author: int,
        texts: dict[str, str],
        audience: Audience,
        total: int,
    ) -> int:
        """A new queued broadcast to ``total`` people; returns its id."""
        row = Broadcast(
            organisation_id=organisation_id,
            author_user_id=author,
            texts=texts,
            audience=audience.as_json(),
            total=total,
            status="queued",
        )
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def get(self, broadcast_id: int) -> BroadcastRecord | None:
        row = await self.session.get(Broadcast, broadcast_id)
        return _record(row) if row else None

    async def settled(self, outbox_kind: str) -> list[BroadcastRecord]:
        """Queued broadcasts none of whose outbox rows (of ``outbox_kind``) is still open."""
        still_open = (
            select(OutboxMessage.id)
            .where(
                OutboxMessage.kind == outbox_kind,
                OutboxMessage.ref == cast(Broadcast.id, String),
                OutboxMessage.status.not_in(sorted(FINAL_STATES)),
            )
            .exists()
        )
        rows = await self.session.scalars(
            select(Broadcast)
            .where(Broadcast.status == "queued", ~still_open)
            .order_by(Broadcast.id)
        )
        return [_record(r) for r in rows]

    async def mark_done(self, broadcast_ids: Collection[int]) -> None:
        if broadcast_ids:
            await self.session.execute(
                update(Broadcast).where(Broadcast.id.in_(broadcast_ids)).values(status="done")
            )
