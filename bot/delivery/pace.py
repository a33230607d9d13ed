"""The bulk lane's pace kept in PostgreSQL, so that several processes keep one rate limit."""

from __future__ import annotations

from storage.db import Database
from storage.repositories import PaceRepository


class SharedPace:
    """Slots booked in the database: each process books a wave's worth at a time (one short
    statement). A 429 seen by one process moves the next free slot past the pause for all of
    them; waves another process booked before it still go (and meet their own 429s)."""

    def __init__(self, db: Database, platform: str) -> None:
        self.db = db
        self.platform = platform

    async def book(self, span: float) -> float:
        async with self.db.transaction() as s:
            return await PaceRepository(s).book(self.platform, span)

    async def hold(self, seconds: float) -> None:
        async with self.db.transaction() as s:
            await PaceRepository(s).hold(self.platform, seconds)
