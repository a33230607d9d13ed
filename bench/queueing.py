"""Queueing a broadcast to 100,000 people: the outbox rows written set-based (one INSERT … SELECT
per quiet-hours setting among the audience, through ``BroadcastService.send``) against the way
before (the recipients' ids read into Python, their quiet-hours settings read 500 at a time,
rows inserted 500 at a time), in the same run. Target (issue 12, case 5): at most 2 s for
100,000 rows. Figures only: nothing is asserted.

Run from the project root: ``.venv/bin/python -m bench.queueing``. SQLite always; PostgreSQL
too when TREFFPUNKT_TEST_DATABASE_URL names a server (a fresh database is created there and
dropped afterwards).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.engine import make_url

from bench.reminders import Statements, fresh_postgres
from bench.table import Figure
from bot.services.broadcasts import BROADCAST, BroadcastService
from bot.services.notify import queue
from storage.db import Database, migrate
from storage.models import Category, Identity, Organisation, OutboxMessage, Subscription, User
from storage.records import Audience
from storage.repositories import BroadcastRepository

PEOPLE = 100_000
INSERT_CHUNK = 10_000
ROUNDS = 3
TARGET_S = 2.0
PG_ENV = "TREFFPUNKT_TEST_DATABASE_URL"
# 11 p.m. in Berlin: those with the default quiet hours there are held until 8 a.m.
NOW = datetime(2026, 11, 23, 22, 0, tzinfo=UTC)


@dataclass
class Result:
    case: str
    backend: str
    times: list[float]
    rows: int
    statements: int

    @property
    def seconds(self) -> float:
        return statistics.median(self.times)


async def populate(db: Database) -> tuple[int, int]:
    """100,000 people with an active account who follow one topic: half with the default
    quiet hours in Berlin, a quarter without, a quarter in New York. (organisation, topic)"""
    async with db.transaction() as s:
        organisation = Organisation(slug="bench", name="Bench e. V.")
        s.add(organisation)
        await s.flush()
        category = await s.scalar(select(Category.id).order_by(Category.id))
        assert category is not None
        for first in range(0, PEOPLE, INSERT_CHUNK):
            ids = range(first + 1, min(first + INSERT_CHUNK, PEOPLE) + 1)
            users: list[dict[str, Any]] = []
            for i in ids:
                quiet = (None, None) if i % 4 == 1 else (22, 8)
                users.append(
                    {
                        "id": i,
                        "locale": "de",
                        "timezone": "America/New_York" if i % 4 == 2 else "Europe/Berlin",
                        "consent_version": 1,
                        "consent_at": NOW,
                        "created_at": NOW,
                        "quiet_from": quiet[0],
                        "quiet_until": quiet[1],
                    }
                )
            await s.execute(insert(User), users)
            await s.execute(
                insert(Identity),
                [
                    {
                        "user_id": i,
                        "platform": "telegram",
                        "platform_user_id": str(i),
                        "chat_id": str(i),
                        "active": True,
                        "created_at": NOW,
                    }
                    for i in ids
                ],
            )
            await s.execute(
                insert(Subscription),
                [{"user_id": i, "category_id": category, "created_at": NOW} for i in ids],
            )
    return organisation.id, category


async def forget(db: Database) -> None:
    async with db.transaction() as s:
        await s.execute(delete(OutboxMessage))


async def rows(db: Database) -> int:
    async with db.transaction() as s:
        return int(await s.scalar(select(func.count(OutboxMessage.id))) or 0)


async def project(db: Database, organisation: int, audience: Audience) -> int:
    broadcasts = BroadcastService(db, lambda: NOW)
    _id, total = await broadcasts.send(organisation, 1, {"de": "Hallo"}, audience)
    return total


async def before(db: Database, organisation: int, audience: Audience) -> int:
    """The way before: ids into Python, then :func:`queue` (settings and inserts by 500s)."""
    async with db.transaction() as s:
        repo = BroadcastRepository(s)
        ids = list(await s.scalars(repo.audience(audience)))
        broadcast_id = await repo.add(organisation, 1, {"de": "Hallo"}, audience, len(ids))
        return await queue(
            s, BROADCAST, str(broadcast_id), ids, {"broadcast_id": broadcast_id}, now=NOW
        )


async def run_on(url: str) -> list[Result]:
    await migrate(url)
    db = Database(url)
    name = make_url(url).get_backend_name()
    try:
        start = time.perf_counter()
        organisation, category = await populate(db)
        if name == "postgresql":
            # Statistics as a running database has them (autovacuum): realistic plans.
            async with db.engine.connect() as conn:
                await conn.execute(text("ANALYZE"))
                await conn.commit()
        took = time.perf_counter() - start
        print(f"{name}: set-up {PEOPLE:,} people in {took:.1f} s (not timed)")
        audience = Audience(categories=(category,))
        statements = Statements(db)
        results = []
        for case, way in (("project: set-based", project), ("before: ids in Python", before)):
            times: list[float] = []
            written = sent = 0
            for _ in range(ROUNDS):
                await forget(db)
                statements.count = 0
                start = time.perf_counter()
                await way(db, organisation, audience)
                times.append(time.perf_counter() - start)
                sent = statements.count
                written = await rows(db)
            results.append(Result(case, name, times, written, sent))
            print(f"  {case}: {statistics.median(times):.3f} s", flush=True)
        return results
    finally:
        await db.dispose()


async def on_postgres(admin: str) -> list[Result]:
    async with fresh_postgres(admin) as url:
        return await run_on(url)


def report(results: list[Result]) -> None:
    print()
    print(
        f"{'case':24} {'backend':10} {'wall time':>9} {'(min–max)':>15} {'per row':>9} "
        f"{'rows':>8} {'statements':>10}"
    )
    for r in results:
        spread = f"({min(r.times):.2f}–{max(r.times):.2f})"
        per_row = r.seconds / r.rows * 1e6 if r.rows else 0.0
        print(
            f"{r.case:24} {r.backend:10} {r.seconds:8.3f}s {spread:>15} {per_row:7.1f}µs "
            f"{r.rows:8,} {r.statements:10,}"
        )
    print()
    print(f"Wall time: median of {ROUNDS} rounds, from reading the audience to the commit.")
    for backend in dict.fromkeys(r.backend for r in results):
        mine = next(r for r in results if r.backend == backend and r.case.startswith("project"))
        old = next(r for r in results if r.backend == backend and r.case.startswith("before"))
        met = "met" if mine.seconds <= TARGET_S else "NOT met"
        print(
            f"target ≤ {TARGET_S:.0f} s for {PEOPLE:,} rows ({backend}): {mine.seconds:.3f} s, "
            f"{met}; {old.seconds / mine.seconds:.1f}× the way before"
        )


async def results() -> list[Result]:
    """Both ways on SQLite, and on PostgreSQL when TREFFPUNKT_TEST_DATABASE_URL names one."""
    found: list[Result] = []
    with tempfile.TemporaryDirectory() as folder:
        found += await run_on(f"sqlite+aiosqlite:///{folder}/bench.sqlite3")
    admin = os.environ.get(PG_ENV)
    if admin:
        found += await on_postgres(admin)
    else:
        print(f"PostgreSQL skipped: set {PG_ENV} to run there too")
    return found


async def measure() -> list[Figure]:
    """Case 5 as rows of the benchmark table (``python -m bench``)."""
    measured = await results()
    figures = []
    for backend in dict.fromkeys(r.backend for r in measured):
        ours = next(r for r in measured if r.backend == backend and r.case.startswith("project"))
        before = next(r for r in measured if r.backend == backend and r.case.startswith("before"))
        figures.append(
            Figure(
                "5 queueing 100,000 rows",
                "SQLite" if backend == "sqlite" else "PostgreSQL",
                "seconds",
                ours.seconds,
                before.seconds,
                "ids in Python",
                f"≤ {TARGET_S:.0f} s",
                ours.seconds <= TARGET_S and ours.rows == PEOPLE,
                f"{ours.rows:,} rows, {ours.statements} statements",
            )
        )
    return figures


async def main() -> None:
    report(await results())


if __name__ == "__main__":
    asyncio.run(main())
