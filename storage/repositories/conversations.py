"""Where each person is in a guided conversation: its kind, step, answers and way back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Conversation


@dataclass(frozen=True)
class ConversationRecord:
    kind: str
    step: str
    data: dict[str, Any]
    history: tuple[str, ...] = ()
    updated_at: datetime | None = None


class ConversationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: int) -> ConversationRecord | None:
        row = await self.session.get(Conversation, user_id)
        if row is None:
            return None
        return ConversationRecord(
            row.kind, row.step, dict(row.data), tuple(row.history or ()), row.updated_at
        )

    async def save(
        self,
        user_id: int,
        kind: str,
        step: str,
        data: dict[str, Any],
        *,
        history: tuple[str, ...],
        at: datetime,
    ) -> None:
        """Start or continue the one conversation of ``user_id``."""
        row = await self.session.get(Conversation, user_id)
        if row is None:
            row = Conversation(user_id=user_id)
            self.session.add(row)
        row.kind, row.step, row.data, row.history, row.updated_at = (
            kind,
            step,
            data,
            list(history),
            at,
        )
        await self.session.flush()

    async def end(self, user_id: int) -> None:
        await self.session.execute(delete(Conversation).where(Conversation.user_id == user_id))
