"""Broadcasts: one announcement, one outbox row per recipient, and a report at the end."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select

from storage.db import Database
from storage.models import (
    Broadcast,
    Identity,
    OutboxMessage,
    RegionChoice,
    Rsvp,
    Subscription,
    User,
)
from storage.repositories import OutboxRepository

BROADCAST = "broadcast"
REPORT = "broadcast_report"
FINAL = ("sent", "failed", "unknown")


@dataclass(frozen=True)
class Audience:
    """Who gets it: followers of categories × regions, or the people who answered an event."""

    categories: tuple[int, ...] = ()
    regions: tuple[int, ...] = ()
    event_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "categories": list(self.categories),
            "regions": list(self.regions),
            "event": self.event_id,
        }


@dataclass(frozen=True)
class BroadcastRecord:
    id: int
    organisation_id: int
    author_user_id: int | None
    texts: dict[str, str]
    total: int
    status: str


class BroadcastService:
    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock

    def _recipients_query(self, audience: Audience) -> Any:
        active = select(Identity.user_id).where(Identity.active.is_(True))
        if audience.event_id is not None:
            return (
                select(Rsvp.user_id)
                .where(
                    Rsvp.event_id == audience.event_id,
                    Rsvp.status.in_(("going", "maybe", "waitlisted")),
                )
                .where(Rsvp.user_id.in_(active))
            )
        query = select(Subscription.user_id).where(Subscription.user_id.in_(active)).distinct()
        if audience.categories:
            query = query.where(Subscription.category_id.in_(audience.categories))
        if audience.regions:
            chose = select(RegionChoice.user_id).where(RegionChoice.user_id == Subscription.user_id)
            here = chose.where(RegionChoice.region_id.in_(audience.regions))
            query = query.where(or_(~chose.exists(), here.exists()))
        return query

    async def languages(self, audience: Audience) -> dict[str, int]:
        """How many recipients read which language (for the preview)."""
        async with self.db.transaction() as s:
            rows = await s.execute(
                select(User.locale, func.count())
                .where(User.id.in_(self._recipients_query(audience)))
                .group_by(User.locale)
            )
            return {locale: int(n) for locale, n in rows}

    async def send(
        self, organisation_id: int, author: int, texts: dict[str, str], audience: Audience
    ) -> tuple[int, int]:
        """Queue the broadcast: (broadcast id, recipients). Rows and broadcast in one commit."""
        async with self.db.transaction() as s:
            broadcast = Broadcast(
                organisation_id=organisation_id,
                author_user_id=author,
                texts=texts,
                audience=audience.as_json(),
                status="queued",
            )
            s.add(broadcast)
            await s.flush()
            recipients = list(await s.scalars(self._recipients_query(audience)))
            outbox = OutboxRepository(s)
            for user_id in recipients:
                await outbox.add(
                    BROADCAST, str(broadcast.id), user_id, {"broadcast_id": broadcast.id}
                )
            broadcast.total = len(recipients)
            return broadcast.id, len(recipients)

    async def get(self, broadcast_id: int) -> BroadcastRecord | None:
        async with self.db.transaction() as s:
            row = await s.get(Broadcast, broadcast_id)
            if row is None:
                return None
            return BroadcastRecord(
                row.id,
                row.organisation_id,
                row.author_user_id,
                dict(row.texts),
                row.total,
                row.status,
            )

    async def progress(self, broadcast_id: int) -> dict[str, int]:
        async with self.db.transaction() as s:
            return await OutboxRepository(s).tally(BROADCAST, str(broadcast_id))

    async def finish_done(self) -> list[int]:
        """Broadcasts whose every row is final are done; their authors get one report each."""
        finished = []
        async with self.db.transaction() as s:
            queued = list(await s.scalars(select(Broadcast).where(Broadcast.status == "queued")))
            for broadcast in queued:
                open_rows = await s.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(
                        OutboxMessage.kind == BROADCAST,
                        OutboxMessage.ref == str(broadcast.id),
                        OutboxMessage.status.not_in(FINAL),
                    )
                )
                if open_rows:
                    continue
                broadcast.status = "done"
                finished.append(broadcast.id)
                if broadcast.author_user_id is not None:
                    await OutboxRepository(s).add(
                        REPORT,
                        str(broadcast.id),
                        broadcast.author_user_id,
                        {"broadcast_id": broadcast.id},
                    )
        return finished
