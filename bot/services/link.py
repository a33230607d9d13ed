"""Linking accounts: one person on two messengers, with one set of answers and settings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from enum import StrEnum

from bot.services import codes
from bot.services.seats import Seats
from storage.db import Database
from storage.repositories import EventRepository, LinkRepository

CODE_MINUTES = 10
MAX_FAILURES = 5


class LinkOutcome(StrEnum):
    LINKED = "linked"
    ALREADY = "already"
    INVALID = "invalid"
    TOO_MANY = "too_many"


class LinkService:
    def __init__(self, db: Database, clock: Callable[[], datetime], seats: Seats) -> None:
        self.db = db
        self.clock = clock
        self.seats = seats
        self._failures: dict[tuple[str, str], list[datetime]] = {}

    async def new_code(self, user_id: int) -> str:
        """A fresh one-time code for ``user_id``, valid for ten minutes."""
        shown, stored = codes.new_code(8)
        async with self.db.transaction() as s:
            await LinkRepository(s).replace_code(
                user_id, stored, self.clock() + timedelta(minutes=CODE_MINUTES)
            )
        return shown

    def _blocked(self, key: tuple[str, str]) -> bool:
        recent = [
            t for t in self._failures.get(key, []) if t > self.clock() - timedelta(minutes=10)
        ]
        self._failures[key] = recent
        return len(recent) >= MAX_FAILURES

    async def redeem(
        self, code: str, platform: str, platform_user_id: str, chat_id: str | None
    ) -> LinkOutcome:
        """Join this account to the person who made ``code``."""
        key = (platform, platform_user_id)
        if self._blocked(key):
            return LinkOutcome.TOO_MANY
        async with self.db.transaction() as s:
            repo = LinkRepository(s)
            target = await repo.take_code(codes.digest(code), self.clock())
            if target is None:
                self._failures.setdefault(key, []).append(self.clock())
                return LinkOutcome.INVALID
            owner = await repo.owner_of(platform, platform_user_id)
            if owner == target:
                return LinkOutcome.ALREADY
            if owner is None:
                await repo.add_identity(target, platform, platform_user_id, chat_id)
            else:
                for event_id in await repo.merge(keep=target, gone=owner):
                    event = await EventRepository(s).get(event_id, lock=True)
                    if event is not None:
                        await self.seats.fill(s, event)
        return LinkOutcome.LINKED
