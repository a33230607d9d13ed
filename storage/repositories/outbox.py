"""The outbox: messages to people, written in the same transaction as the change they report."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    JSON,
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import OutboxMessage, UTCDateTime, utcnow
from storage.records import OutboxRecord

FINAL_STATES = frozenset({"sent", "failed", "unknown"})
# A row whose person another process is sending to waits this long (a chat gets at most one
# message a second).
CHAT_TURN = timedelta(seconds=1)
# Rows per INSERT: 8 parameters each stays far below SQLite's and asyncpg's parameter limits.
INSERT_CHUNK = 500


@dataclass(frozen=True)
class Marking:
    """The outcome of one row's attempt, as :meth:`OutboxRepository.mark` takes it."""

    id: int
    status: str
    error: str | None = None
    next_attempt_at: datetime | None = None
    counts_as_attempt: bool = True


_COLUMNS = (
    OutboxMessage.id,
    OutboxMessage.kind,
    OutboxMessage.ref,
    OutboxMessage.user_id,
    OutboxMessage.payload,
    OutboxMessage.status,
    OutboxMessage.attempts,
    OutboxMessage.send_key,
)


class OutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, kind: str, ref: str, user_id: int, payload: dict[str, Any]) -> bool:
        """Queue one message; False when (kind, ref, user) was queued before."""
        return await self.add_many(kind, ref, [user_id], payload) == 1

    async def add_many(
        self,
        kind: str,
        ref: str,
        user_ids: Iterable[int],
        payload: dict[str, Any],
        *,
        not_before: datetime | None = None,
    ) -> int:
        """Queue one message to each person, a few statements for any number of people;
        returns how many were new (a (kind, ref, user) queued before is left alone).
        ``not_before``: the messages wait until then (the people's quiet hours)."""
        dialect = self.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        now = utcnow()
        ids = list(user_ids)
        added = 0
        for start in range(0, len(ids), INSERT_CHUNK):
            values = [
                {
                    "kind": kind,
                    "ref": ref,
                    "user_id": user_id,
                    "payload": payload,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": not_before,
                    "created_at": now,
                    "updated_at": now,
                }
                for user_id in ids[start : start + INSERT_CHUNK]
            ]
            result = await self.session.execute(
                insert(OutboxMessage).values(values).on_conflict_do_nothing()
            )
            added += int(getattr(result, "rowcount", 0) or 0)
        return added

    @staticmethod
    def _due(now: datetime | None) -> Any:
        """Pending, due, and not claimed by a worker whose claim still holds."""
        if now is None:
            return OutboxMessage.status == "pending"
        return and_(
            OutboxMessage.status == "pending",
            or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now),
            or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until <= now),
        )

    async def any_due(self, now: datetime) -> bool:
        """Whether a round has anything to send (a read: no write lock for an idle round)."""
        return (
            await self.session.scalar(select(OutboxMessage.id).where(self._due(now)).limit(1))
        ) is not None

    async def add_selected(
        self,
        kind: str,
        ref: str,
        people: Select[int],
        payload: dict[str, Any],
        *,
        not_before: datetime | None = None,
    ) -> int:
        """Queue one message to each person ``people`` selects, in one INSERT … SELECT (the
        ids never travel to Python); returns how many were new."""
        dialect = self.session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        now = utcnow()
        source = select(
            literal(kind, String),
            literal(ref, String),
            people.subquery().c[0],
            literal(payload, JSON),
            literal("pending", String),
            literal(0, Integer),
            literal(not_before, UTCDateTime()),
            literal(now, UTCDateTime()),
            literal(now, UTCDateTime()),
        ).where(true())  # SQLite: an upsert after INSERT … SELECT needs the SELECT's WHERE
        columns = [
            "kind",
            "ref",
            "user_id",
            "payload",
            "status",
            "attempts",
            "next_attempt_at",
            "created_at",
            "updated_at",
        ]
        result = await self.session.execute(
            insert(OutboxMessage).from_select(columns, source).on_conflict_do_nothing()
        )
        return int(getattr(result, "rowcount", 0) or 0)

    async def claim(
        self, limit: int, now: datetime, *, owner: str, lease: timedelta
    ) -> list[OutboxRecord]:
        """Take up to ``limit`` due rows, oldest first, for ``owner`` until ``now + lease``.

        Selected ``FOR UPDATE SKIP LOCKED`` and marked as claimed in the same transaction: a
        second worker (another process on PostgreSQL) skips them while this one locks them,
        and leaves them alone after, until the claim runs out. A person with a row that
        another process holds is left to that process, a second at a time (also while a dead
        process's claim runs out), so that one process paces the messages to one chat; two
        claims in the same instant may still both keep one person's rows. Each statement finds
        its rows by index (the primary key, the person), whatever the planner's statistics say
        about a freshly filled outbox."""
        ids = list(
            await self.session.scalars(
                select(OutboxMessage.id)
                .where(self._due(now))
                .order_by(OutboxMessage.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        if not ids:
            return []
        rows = await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(claimed_by=owner, claimed_until=now + lease)
            .returning(*_COLUMNS)
            .execution_options(synchronize_session=False)
        )
        claimed = sorted((OutboxRecord(*row) for row in rows), key=lambda r: r.id)
        if self.session.get_bind().dialect.name == "sqlite":
            return claimed  # one process
        held = set(
            await self.session.scalars(
                select(OutboxMessage.user_id).where(
                    OutboxMessage.user_id.in_({r.user_id for r in claimed}),
                    OutboxMessage.status.in_(("pending", "sending")),
                    OutboxMessage.claimed_by != owner,
                    OutboxMessage.claimed_until > now,
                )
            )
        )
        if not held:
            return claimed
        theirs = [r.id for r in claimed if r.user_id in held]
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(theirs))
            .values(claimed_by=None, claimed_until=None, next_attempt_at=now + CHAT_TURN)
            .execution_options(synchronize_session=False)
        )
        return [r for r in claimed if r.user_id not in held]

    async def start_sending_many(
        self,
        keys: Mapping[int, str | None],
        *,
        owner: str,
        now: datetime,
        lease: timedelta,
    ) -> set[int]:
        """:meth:`start_sending` for many rows in one statement (``keys``: row id → its send
        key or None); returns the ids that are still ``owner``'s and now ``sending``."""
        if not keys:
            return set()
        values: dict[str, Any] = {"status": "sending", "claimed_until": now + lease}
        keyed = {row_id: key for row_id, key in keys.items() if key is not None}
        if keyed:
            values["send_key"] = case(keyed, value=OutboxMessage.id, else_=OutboxMessage.send_key)
        result = await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(list(keys)),
                OutboxMessage.status == "pending",
                OutboxMessage.claimed_by == owner,
                OutboxMessage.claimed_until > now,
            )
            .values(**values)
            .returning(OutboxMessage.id)
            .execution_options(synchronize_session=False)
        )
        return set(result.scalars())

    async def mark_many(self, outcomes: Iterable[Marking]) -> None:
        """:meth:`mark` for many rows: one statement per distinct outcome (a broadcast's rows
        that were all sent: one statement)."""
        groups: dict[tuple[str, str | None, datetime | None, bool], list[int]] = {}
        for m in outcomes:
            error = m.error[:255] if m.error else None
            groups.setdefault((m.status, error, m.next_attempt_at, m.counts_as_attempt), []).append(
                m.id
            )
        now = utcnow()
        for (status, error, next_attempt_at, counts), ids in groups.items():
            await self.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.id.in_(ids))
                .values(
                    status=status,
                    last_error=error,
                    attempts=OutboxMessage.attempts + (1 if counts else 0),
                    next_attempt_at=next_attempt_at,
                    claimed_by=None,
                    claimed_until=None,
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )

    async def start_sending(
        self,
        message_id: int,
        send_key: str | None = None,
        *,
        owner: str | None = None,
        now: datetime | None = None,
        lease: timedelta | None = None,
    ) -> bool:
        """The row is handed to a transport now: from here on a crash makes it ``unknown``,
        unless it goes out with ``send_key``, which the platform deduplicates. With ``owner``:
        only while the claim is still theirs and holds at ``now``, and it is renewed for the
        send (``lease``); False when the row is no longer theirs to send."""
        values: dict[str, Any] = {"status": "sending"}
        if send_key is not None:
            values["send_key"] = send_key
        query = update(OutboxMessage).where(
            OutboxMessage.id == message_id, OutboxMessage.status == "pending"
        )
        if owner is not None:
            query = query.where(OutboxMessage.claimed_by == owner)
            if now is not None:
                query = query.where(OutboxMessage.claimed_until > now)
                if lease is not None:
                    values["claimed_until"] = now + lease
        result = await self.session.execute(query.values(**values))
        return bool(getattr(result, "rowcount", 0))

    async def recover(
        self, owner: str | None = None, now: datetime | None = None, *, starting: bool = True
    ) -> int:
        """Rows left ``sending`` by a crash: sent again with their key (the platform drops a
        repeat), else ``unknown``; returns how many became ``unknown``.

        Without ``owner``: every such row (one process, SQLite). With ``owner`` and ``now``:
        those whose claim ran out (a process that died), and when ``starting``, also the
        process's own (it restarted) — never the rows another live process is sending now."""
        in_flight = OutboxMessage.status == "sending"
        if owner is not None and now is not None:
            expired = or_(OutboxMessage.claimed_by.is_(None), OutboxMessage.claimed_until <= now)
            mine = OutboxMessage.claimed_by == owner
            in_flight = and_(in_flight, or_(expired, mine) if starting else expired)
        settled = {"claimed_by": None, "claimed_until": None}
        await self.session.execute(
            update(OutboxMessage)
            .where(in_flight, OutboxMessage.send_key.is_not(None))
            .values(status="pending", last_error="in flight when the bot stopped", **settled)
        )
        result = await self.session.execute(
            update(OutboxMessage)
            .where(in_flight)
            .values(status="unknown", last_error="in flight when the bot stopped", **settled)
        )
        if starting:
            # Rows claimed but not yet handed over by this process (by any, without
            # ``owner``): free at once.
            claimed: ColumnElement[bool] = OutboxMessage.claimed_by.is_not(None)
            if owner is not None:
                claimed = OutboxMessage.claimed_by == owner
            await self.session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.status == "pending", claimed)
                .values(**settled)
            )
        return int(getattr(result, "rowcount", 0) or 0)

    async def release(self, ids: list[int], owner: str) -> None:
        """Give back rows ``owner`` claimed but did not hand to a transport."""
        await self.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(ids),
                OutboxMessage.status == "pending",
                OutboxMessage.claimed_by == owner,
            )
            .values(claimed_by=None, claimed_until=None)
        )

    async def mark(
        self,
        message_id: int,
        status: str,
        error: str | None = None,
        *,
        next_attempt_at: datetime | None = None,
        counts_as_attempt: bool = True,
    ) -> None:
        """Record the outcome of one attempt (or a pause that is not one)."""
        await self.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id)
            .values(
                status=status,
                last_error=error[:255] if error else None,
                attempts=OutboxMessage.attempts + (1 if counts_as_attempt else 0),
                next_attempt_at=next_attempt_at,
                claimed_by=None,
                claimed_until=None,
                updated_at=utcnow(),
            )
        )

    async def tally(self, kind: str, ref: str) -> dict[str, int]:
        """Rows of one message (a broadcast) per state, and per reason of failure."""
        # Counted by the database: a handful of rows back, not one per recipient.
        error = case((OutboxMessage.status == "failed", OutboxMessage.last_error), else_=None)
        rows = await self.session.execute(
            select(OutboxMessage.status, error, func.count())
            .where(OutboxMessage.kind == kind, OutboxMessage.ref == ref)
            .group_by(OutboxMessage.status, error)
        )
        tally: dict[str, int] = {}
        for status, reason, n in rows:
            key = f"{status}:{reason}" if reason else status
            tally[key] = tally.get(key, 0) + int(n)
        return tally

    async def sent_count(self, kind: str, ref_prefix: str) -> int:
        """Rows of ``kind`` whose reference starts with ``ref_prefix`` that were sent."""
        escaped = ref_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return (
            await self.session.scalar(
                select(func.count(OutboxMessage.id)).where(
                    OutboxMessage.kind == kind,
                    OutboxMessage.ref.like(f"{escaped}%", escape="\\"),
                    OutboxMessage.status == "sent",
                )
            )
            or 0
        )

    async def by_status(self) -> dict[str, int]:
        rows = await self.session.scalars(select(OutboxMessage.status))
        tally: dict[str, int] = {}
        for status in rows:
            tally[status] = tally.get(status, 0) + 1
        return tally
