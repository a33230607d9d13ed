"""Broadcasts: one announcement, one outbox row per recipient, and a report at the end."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.services.notify import queue_selected
from storage.db import Database
from storage.records import Audience, BroadcastRecord
from storage.repositories import BroadcastRepository, OutboxRepository

__all__ = ["BROADCAST", "REPORT", "Audience", "BroadcastRecord", "BroadcastService"]

BROADCAST = "broadcast"
REPORT = "broadcast_report"


class BroadcastService:
    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock

    async def languages(self, audience: Audience) -> dict[str, int]:
        """How many recipients read which language (for the preview)."""
        async with self.db.transaction() as s:
            return await BroadcastRepository(s).languages(audience)

    async def send(
        self, organisation_id: int, author: int, texts: dict[str, str], audience: Audience
    ) -> tuple[int, int]:
        """Queue the broadcast: (broadcast id, recipients). Rows and broadcast in one commit."""
        async with self.db.transaction() as s:
            broadcasts = BroadcastRepository(s)
            broadcast_id = await broadcasts.add(organisation_id, author, texts, audience, 0)
            # Set-based: one INSERT … SELECT per quiet-hours setting, however many people;
            # those in their quiet hours get it when these end.
            payload = {"broadcast_id": broadcast_id}
            total = await queue_selected(
                s,
                BROADCAST,
                str(broadcast_id),
                broadcasts.audience(audience),
                payload,
                now=self.clock(),
            )
            await broadcasts.set_total(broadcast_id, total)
            return broadcast_id, total

    async def get(self, broadcast_id: int) -> BroadcastRecord | None:
        async with self.db.transaction() as s:
            return await BroadcastRepository(s).get(broadcast_id)

    async def progress(self, broadcast_id: int) -> dict[str, int]:
        async with self.db.transaction() as s:
            return await OutboxRepository(s).tally(BROADCAST, str(broadcast_id))

    async def finish_done(self) -> list[int]:
        """Broadcasts whose every row is final are done; their authors get one report each.
        Asked after every delivery round: it only reads unless one is done (no SQLite write
        lock for nothing)."""
        async with self.db.reading() as s:
            if not await BroadcastRepository(s).settled(BROADCAST):
                return []
        async with self.db.transaction() as s:
            broadcasts, outbox = BroadcastRepository(s), OutboxRepository(s)
            settled = await broadcasts.settled(BROADCAST)
            await broadcasts.mark_done([b.id for b in settled])
            for broadcast in settled:
                if broadcast.author_user_id is not None:
                    await outbox.add(
                        REPORT,
                        str(broadcast.id),
                        broadcast.author_user_id,
                        {"broadcast_id": broadcast.id},
                    )
        return [b.id for b in settled]
