"""What ``treffpunkt status`` reads: the outbox's queue and outcomes, the scheduler's holder."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage, UTCDateTime

# The advisory lock's holder in this database (storage.db.Leadership).
_HOLDER = text(
    "SELECT a.application_name FROM pg_locks l "
    "JOIN pg_stat_activity a ON a.pid = l.pid "
    "WHERE l.locktype = 'advisory' AND l.objid = :key AND l.granted "
    "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


class StatusRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def ping(self) -> None:
        """The database answers (the health check: nothing read, however big the outbox)."""
        await self.session.execute(text("SELECT 1"))

    async def queue(self, now: datetime) -> dict[str, dict[str, int]]:
        """Per kind of message: rows ``due`` now, ``held`` (quiet hours, a retry) and
        ``sending``."""
        due = or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now)
        rows = await self.session.execute(
            select(OutboxMessage.kind, OutboxMessage.status, due.label("due"), func.count())
            .where(OutboxMessage.status.in_(("pending", "sending")))
            .group_by(OutboxMessage.kind, OutboxMessage.status, due)
        )
        found: dict[str, dict[str, int]] = {}
        for kind, state, is_due, n in rows:
            slot = "sending" if state == "sending" else ("due" if is_due else "held")
            counts = found.setdefault(kind, {})
            counts[slot] = counts.get(slot, 0) + int(n)
        return found

    async def oldest_due(self, now: datetime) -> datetime | None:
        """Since when the longest-waiting row that is due and not sent has been due."""
        due = or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now)
        since = func.coalesce(OutboxMessage.next_attempt_at, OutboxMessage.created_at)
        return await self.session.scalar(
            select(func.min(since, type_=UTCDateTime())).where(
                OutboxMessage.status == "pending", due
            )
        )

    async def finished_since(self, moment: datetime) -> dict[str, int]:
        """Rows that reached a final state since ``moment``, per state."""
        rows = await self.session.execute(
            select(OutboxMessage.status, func.count())
            .where(
                OutboxMessage.status.in_(("sent", "failed", "unknown")),
                OutboxMessage.updated_at >= moment,
            )
            .group_by(OutboxMessage.status)
        )
        return {state: int(n) for state, n in rows}

    async def lock_holder(self, key: int) -> str | None:
        """PostgreSQL: the application name of the session holding advisory lock ``key``."""
        holder = await self.session.scalar(_HOLDER, {"key": key})
        return str(holder) if holder is not None else None
