"""Jobs: slow or external work, written in the transaction that asks for it, run after it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Job, utcnow


@dataclass(frozen=True)
class JobRecord:
    id: int
    kind: str
    ref: str
    payload: dict[str, Any]
    attempts: int


class JobRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, kind: str, ref: str, payload: dict[str, Any], run_at: datetime) -> bool:
        """Queue a job; False when (kind, ref) was queued before."""
        now = utcnow()
        dialect = self.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        statement = insert(Job).values(
            kind=kind,
            ref=ref,
            payload=payload,
            status="pending",
            attempts=0,
            run_at=run_at,
            created_at=now,
            updated_at=now,
        )
        result = await self.session.execute(statement.on_conflict_do_nothing())
        return bool(getattr(result, "rowcount", 0))

    async def claim(self, now: datetime, limit: int) -> list[JobRecord]:
        """Due jobs, oldest first, marked running (locked against other workers on PostgreSQL)."""
        rows = list(
            await self.session.scalars(
                select(Job)
                .where(Job.status == "pending", Job.run_at <= now)
                .order_by(Job.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        for row in rows:
            row.status, row.attempts, row.updated_at = "running", row.attempts + 1, utcnow()
        if rows:
            await self.session.flush()
        return [JobRecord(r.id, r.kind, r.ref, dict(r.payload), r.attempts) for r in rows]

    async def finish(self, job_id: int, status: str, error: str | None = None) -> None:
        """A final state: done, or failed with the reason (never personal data)."""
        await self.session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(status=status, last_error=error[:255] if error else None, updated_at=utcnow())
        )

    async def retry_at(self, job_id: int, run_at: datetime, error: str) -> None:
        await self.session.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(status="pending", run_at=run_at, last_error=error[:255], updated_at=utcnow())
        )

    async def recover(self) -> int:
        """Jobs left running by a crash run again: a job's effect is applied exactly once."""
        result = await self.session.execute(
            update(Job).where(Job.status == "running").values(status="pending")
        )
        return int(getattr(result, "rowcount", 0) or 0)
