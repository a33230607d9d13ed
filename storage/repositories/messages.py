"""What a transport without real buttons needs to remember: the numbered options of the
messages it sent, and which inbound events it has already handled."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import SeenEvent, SentMessage, utcnow


class MessageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(
        self, platform: str, chat_id: str, message_id: str, batch: str, buttons: list[Any]
    ) -> None:
        """Remember a sent message's buttons; a message sent again (a deduplicated retry
        gets the same id back) keeps the record it has."""
        known = await self.session.scalar(
            select(SentMessage.id).where(SentMessage.message_id == message_id)
        )
        if known is not None:
            return
        self.session.add(
            SentMessage(
                platform=platform,
                chat_id=chat_id,
                message_id=message_id,
                batch=batch,
                buttons=buttons,
            )
        )
        await self.session.flush()

    async def latest_options(self, platform: str, chat_id: str) -> dict[str, str]:
        """What a person types to press a button ("2", "#2") → its data, for the bot's latest
        answer in this chat."""
        newest = await self.session.scalar(
            select(SentMessage.batch)
            .where(SentMessage.platform == platform, SentMessage.chat_id == chat_id)
            .order_by(SentMessage.id.desc())
            .limit(1)
        )
        if newest is None:
            return {}
        rows = await self.session.scalars(
            select(SentMessage.buttons).where(
                SentMessage.platform == platform, SentMessage.batch == newest
            )
        )
        return {str(n): str(data) for buttons in rows for n, _label, data, *_ in buttons}

    async def buttons_of(self, platform: str, message_id: str) -> list[list[Any]]:
        """The options of one sent message, as the transport recorded them (for reactions)."""
        buttons = await self.session.scalar(
            select(SentMessage.buttons).where(
                SentMessage.platform == platform, SentMessage.message_id == message_id
            )
        )
        return list(buttons or [])

    async def first_sight(self, platform: str, event_id: str) -> bool:
        """True the first time an event id is seen; every later time False. One INSERT that
        does nothing on a conflict: two processes handed the same update at once both ask,
        one of them handles it (the other waits for its commit, then sees it was handled)."""
        dialect = self.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        result = await self.session.execute(
            insert(SeenEvent)
            .values(platform=platform, event_id=event_id, seen_at=utcnow())
            .on_conflict_do_nothing()
        )
        return bool(getattr(result, "rowcount", 0))

    async def forget_seen(self, platform: str, moment: datetime) -> None:
        await self.session.execute(
            delete(SeenEvent).where(SeenEvent.platform == platform, SeenEvent.seen_at < moment)
        )

    async def forget_before(self, moment: datetime) -> None:
        await self.session.execute(delete(SeenEvent).where(SeenEvent.seen_at < moment))
        await self.session.execute(delete(SentMessage).where(SentMessage.created_at < moment))
