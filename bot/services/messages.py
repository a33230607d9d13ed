"""What a transport remembers of a chat: the options of sent messages, and events handled."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.db import Database
from storage.repositories import MessageRepository


class MessageService:
    """For transports whose buttons are numbered options or reactions (Matrix)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(
        self, platform: str, chat_id: str, message_id: str, batch: str, options: list[Any]
    ) -> None:
        """Remember the options of a sent message (``batch``: the messages of one answer)."""
        async with self.db.transaction() as s:
            await MessageRepository(s).record(platform, chat_id, message_id, batch, options)

    async def latest_options(self, platform: str, chat_id: str) -> dict[str, str]:
        """What a person types to press a button ("2", "#2") → its data, for the bot's latest
        answer in this chat."""
        async with self.db.transaction() as s:
            return await MessageRepository(s).latest_options(platform, chat_id)

    async def options_of(self, platform: str, message_id: str) -> list[list[Any]]:
        """The options of one sent message (a reaction to it presses one)."""
        async with self.db.transaction() as s:
            return await MessageRepository(s).buttons_of(platform, message_id)

    async def first_sight(self, platform: str, event_id: str) -> bool:
        """True the first time an event id is seen, inside the update's unit of work."""
        async with self.db.transaction() as s:
            return await MessageRepository(s).first_sight(platform, event_id)

    async def forget_seen(self, platform: str, moment: datetime) -> None:
        """Forget the update ids of ``platform`` seen before ``moment``."""
        async with self.db.transaction() as s:
            await MessageRepository(s).forget_seen(platform, moment)

    async def forget_before(self, moment: datetime) -> None:
        async with self.db.transaction() as s:
            await MessageRepository(s).forget_before(moment)
