"""Planning reminders for 100,000 answers (RSVPs) over 1,000 events: the project's way (rows per
event and offset in ``reminders``, one alarm job in APScheduler) against one APScheduler date job
per person and offset, in the same run. Targets (issue): the project's way at most 2 s, and at
least 50 times faster than the naive one. Figures only: nothing is asserted.

Run from the project root: ``.venv/bin/python -m bench.reminders``. SQLite always; PostgreSQL
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
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import delete, event, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.calendar.wallclock import before, instant
from bot.services.notify import zone
from bot.services.reminders import plan_all
from storage.db import Database, migrate
from storage.models import Category, Event, EventText, Organisation, Region, Reminder, Rsvp, User
from storage.repositories import ReminderRepository
from storage.repositories.planning import REMINDED
from storage.repositories.users import minutes_of

EVENTS = 1_000
PER_EVENT = 100  # answers per event: 100,000 people, one answer each
TIMEZONE = "Europe/Berlin"
INSERT_CHUNK = 10_000
# The naive case adds its jobs one by one; should the first SAMPLE project past the budget
# (a slow machine), it stops there and the rest is extrapolated linearly.
SAMPLE = 20_000
NAIVE_BUDGET_S = 180.0
# The project's way is short and shares the machine: its median of a few rounds is reported.
ROUNDS = 5
TARGET_S = 2.0
TARGET_RATIO = 50.0
PG_ENV = "TREFFPUNKT_TEST_DATABASE_URL"


@dataclass
class Result:
    case: str
    backend: str
    times: list[float]
    jobs: int
    rows: int  # rows written to the database in one round
    statements: int  # SQL statements sent in one round
    note: str = ""

    @property
    def seconds(self) -> float:
        return statistics.median(self.times)


class Statements:
    """Counts the SQL statements the engine sends (a listener on the engine)."""

    def __init__(self, db: Database) -> None:
        self.count = 0
        event.listen(db.engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: object) -> None:
        self.count += 1


async def alarm() -> None:
    """What the one alarm job would run (ReminderService.run_due); never runs here."""


async def remind(rsvp_id: int, minutes: int) -> None:
    """What a naive per-person job would run; never runs here."""


def new_scheduler() -> AsyncIOScheduler:
    return AsyncIOScheduler(timezone="UTC", jobstores={"default": MemoryJobStore()})


async def stop(scheduler: AsyncIOScheduler) -> None:
    scheduler.shutdown(wait=False)
    await asyncio.sleep(0)  # AsyncIOScheduler shuts down in a loop callback


def backend(db: Database) -> str:
    return make_url(db.url).get_backend_name()


async def populate(db: Database, now: datetime) -> None:
    """1,000 published events (2 to 60 days ahead, 10:00 to 19:00 in Berlin), 100,000 people,
    one answer (going or maybe) each, 100 per event; bulk inserts, explicit ids."""
    berlin = ZoneInfo(TIMEZONE)
    today = now.astimezone(berlin).date()
    people = EVENTS * PER_EVENT
    async with db.transaction() as s:
        organisation = Organisation(slug="bench", name="Bench e. V.")
        s.add(organisation)
        await s.flush()
        categories = list(await s.scalars(select(Category.id).order_by(Category.id)))
        regions = list(await s.scalars(select(Region.id).order_by(Region.id)))
        events: list[dict[str, Any]] = []
        texts: list[dict[str, Any]] = []
        for k in range(EVENTS):
            starts = instant(
                today + timedelta(days=2 + k * 59 // EVENTS), clock_time(10 + k % 10), berlin
            )
            events.append(
                {
                    "id": k + 1,
                    "organisation_id": organisation.id,
                    "category_id": categories[k % len(categories)],
                    "region_id": regions[k % len(regions)],
                    "uid": f"bench-{k}",
                    "starts_at": starts,
                    "ends_at": starts + timedelta(hours=2),
                    "timezone": TIMEZONE,
                    "place": "Leipzig",
                    "status": "published",
                    "source": "chat",
                    "created_at": now,
                    "updated_at": now,
                }
            )
            texts.append(
                {
                    "event_id": k + 1,
                    "locale": "de",
                    "title": f"Treffen {k}",
                    "description": "",
                    "machine_translated": False,
                }
            )
        await s.execute(insert(Event), events)
        await s.execute(insert(EventText), texts)
        locales = ("de", "uk", "ar", "fa", "ru")
        for first in range(0, people, INSERT_CHUNK):
            ids = range(first + 1, min(first + INSERT_CHUNK, people) + 1)
            await s.execute(
                insert(User),
                [
                    {
                        "id": i,
                        "locale": locales[i % len(locales)],
                        "timezone": TIMEZONE,
                        "consent_version": 1,
                        "consent_at": now,
                        "created_at": now,
                        "reminder_minutes": "1440,120",
                        "quiet_from": None,
                        "quiet_until": None,
                    }
                    for i in ids
                ],
            )
            await s.execute(
                insert(Rsvp),
                [
                    {
                        "id": i,
                        "event_id": (i - 1) % EVENTS + 1,
                        "user_id": i,
                        "status": "maybe" if i % 3 == 0 else "going",
                        "waitlist_seq": None,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in ids
                ],
            )


async def reminder_rows(db: Database) -> dict[int, tuple[datetime, str]]:
    async with db.transaction() as s:
        rows = await s.execute(select(Reminder.id, Reminder.due_at, Reminder.status))
        return {row_id: (due, status) for row_id, due, status in rows}


def written(before_rows: dict[int, Any], after_rows: dict[int, Any]) -> int:
    """Rows inserted or changed between two snapshots of the table."""
    return sum(1 for key, value in after_rows.items() if before_rows.get(key) != value)


async def forget_reminders(db: Database) -> None:
    async with db.transaction() as s:
        await s.execute(delete(Reminder))


async def project_round(db: Database, now: datetime, statements: Statements) -> tuple[float, int]:
    """The events read, their reminders planned in one unit of work, the one alarm aimed at
    the earliest due instant. The scheduler is started before and shut down after the timing
    (the bot starts it once); returns the seconds and the jobs in the scheduler."""
    scheduler = new_scheduler()
    scheduler.start()
    statements.count = 0
    start = time.perf_counter()
    async with db.transaction() as s:
        events = (
            await s.execute(
                select(Event.id, Event.starts_at, Event.timezone).where(Event.status == "published")
            )
        ).all()
        await plan_all(s, [(e.id, e.starts_at, e.timezone) for e in events], now)
    async with db.transaction() as s:
        due = await ReminderRepository(s).next_due()
    scheduler.add_job(
        alarm,
        "date",
        run_date=due or now + timedelta(minutes=1),
        id="reminders",
        replace_existing=True,
        misfire_grace_time=None,
    )
    await asyncio.sleep(0)  # the running scheduler takes the job in (its wakeup callback)
    seconds = time.perf_counter() - start
    jobs = len(scheduler.get_jobs())
    await stop(scheduler)
    return seconds, jobs


async def project_way(db: Database, now: datetime, statements: Statements) -> list[Result]:
    """ROUNDS times from an empty ``reminders`` table (emptied outside the timing), then
    ROUNDS times again over the planned rows, nothing changed (an event edited without a new
    time, or planned twice)."""
    results: list[Result] = []
    for case, fresh in (("project: plan 1,000 events", True), ("project: plan again", False)):
        times: list[float] = []
        jobs = rows = sent = 0
        for _ in range(ROUNDS):
            if fresh:
                await forget_reminders(db)
            snapshot = await reminder_rows(db)
            seconds, jobs = await project_round(db, now, statements)
            sent = statements.count
            times.append(seconds)
            rows = written(snapshot, await reminder_rows(db))
        results.append(Result(case, backend(db), times, jobs, rows, sent))
    return results


async def naive_way(db: Database, now: datetime, statements: Statements) -> Result:
    """Every answer read with its event's start (one query), one date job per person and
    offset they want, added to a running scheduler (started outside the timing). Timed: the
    read, the due instants, the add_job calls and the wakeup callbacks they queue on the
    event loop (drained before the clock stops)."""
    scheduler = new_scheduler()
    scheduler.start()
    statements.count = 0
    start = time.perf_counter()
    async with db.transaction() as s:
        answers = (
            await s.execute(
                select(Rsvp.id, Event.starts_at, Event.timezone, User.reminder_minutes)
                .join(Event, Event.id == Rsvp.event_id)
                .join(User, User.id == Rsvp.user_id)
                .where(Rsvp.status.in_(REMINDED), Event.status == "published")
            )
        ).all()
    read = time.perf_counter()
    wanted: list[tuple[int, int, datetime]] = []
    for rsvp_id, starts_at, timezone, stored in answers:
        tz = zone(timezone)
        for minutes in minutes_of(stored):
            due = before(starts_at, minutes, tz)
            if due > now:
                wanted.append((rsvp_id, minutes, due))
    prepared = time.perf_counter()
    added = add_jobs(scheduler, wanted[:SAMPLE])
    await asyncio.sleep(0)
    projected = (time.perf_counter() - prepared) * len(wanted) / max(added, 1)
    if projected <= NAIVE_BUDGET_S:
        added += add_jobs(scheduler, wanted[SAMPLE:])
        await asyncio.sleep(0)
        adding = time.perf_counter() - prepared
        note = ""
    else:
        adding = projected
        note = f"EXTRAPOLATED linearly from {added:,} of {len(wanted):,} jobs; "
    jobs = len(wanted) if note else len(scheduler.get_jobs())
    sent = statements.count
    await stop(scheduler)
    note += (
        f"read {len(answers):,} answers {read - start:.2f} s, due instants "
        f"{prepared - read:.2f} s, add_job {adding:.2f} s "
        f"({adding / max(len(wanted), 1) * 1e6:.0f} µs/job)"
    )
    total = (read - start) + (prepared - read) + adding
    return Result("naive: job per person+offset", backend(db), [total], jobs, 0, sent, note)


def add_jobs(scheduler: AsyncIOScheduler, wanted: Sequence[tuple[int, int, datetime]]) -> int:
    for rsvp_id, minutes, due in wanted:
        scheduler.add_job(
            remind,
            "date",
            run_date=due,
            args=(rsvp_id, minutes),
            id=f"r-{rsvp_id}-{minutes}",
            misfire_grace_time=None,
        )
    return len(wanted)


async def run_on(url: str, *, naive: bool) -> list[Result]:
    now = datetime.now(UTC).replace(microsecond=0)
    await migrate(url)
    db = Database(url)
    try:
        start = time.perf_counter()
        await populate(db, now)
        print(
            f"{backend(db)}: set-up {EVENTS:,} events, {EVENTS * PER_EVENT:,} people and "
            f"answers in {time.perf_counter() - start:.1f} s (not timed)",
            flush=True,
        )
        statements = Statements(db)
        results = await project_way(db, now, statements)
        if naive:
            results.append(await naive_way(db, now, statements))
        return results
    finally:
        await db.dispose()


@asynccontextmanager
async def fresh_postgres(admin: str) -> AsyncIterator[str]:
    """The URL of a new, empty database on the server ``admin`` names, dropped afterwards."""
    name = f"treffpunkt_bench_{uuid.uuid4().hex[:12]}"
    engine = create_async_engine(admin, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        async with engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await engine.dispose()


async def on_postgres(admin: str) -> list[Result]:
    async with fresh_postgres(admin) as url:
        return await run_on(url, naive=False)


def report(results: list[Result]) -> None:
    print()
    print(
        f"{'case':29} {'backend':10} {'wall time':>9} {'(min–max)':>15} {'jobs':>8} "
        f"{'rows written':>12} {'statements':>10}"
    )
    for r in results:
        spread = f"({min(r.times):.2f}–{max(r.times):.2f})" if len(r.times) > 1 else ""
        print(
            f"{r.case:29} {r.backend:10} {r.seconds:8.3f}s {spread:>15} {r.jobs:8,} "
            f"{r.rows:12,} {r.statements:10,}"
        )
    print()
    print(
        f"Wall time: median of {ROUNDS} rounds for the project's way, one run for the naive "
        "one; from the first read until the job is in the running scheduler (its wakeup "
        "callbacks drained). Scheduler start and shutdown are outside the timing."
    )
    for r in results:
        if r.note:
            print(f"{r.case} ({r.backend}): {r.note}")
    naive = next((r for r in results if r.case.startswith("naive")), None)
    print()
    for r in results:
        if r.case != "project: plan 1,000 events":
            continue
        met = "met" if r.seconds <= TARGET_S else "NOT met"
        print(f"target ≤ {TARGET_S:.0f} s ({r.backend}): {r.seconds:.3f} s, {met}")
        if naive is not None:
            ratio = naive.seconds / r.seconds
            met = "met" if ratio >= TARGET_RATIO else "NOT met"
            print(
                f"target ≥ {TARGET_RATIO:.0f}× ({r.backend}; naive on {naive.backend}): "
                f"{naive.seconds:.2f} s / {r.seconds:.3f} s = {ratio:.1f}×, {met}"
            )


async def main() -> None:
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as folder:
        results += await run_on(f"sqlite+aiosqlite:///{folder}/bench.sqlite3", naive=True)
    admin = os.environ.get(PG_ENV)
    if admin:
        results += await on_postgres(admin)
    else:
        print(f"PostgreSQL skipped: set {PG_ENV} to run the project's way there too")
    report(results)


if __name__ == "__main__":
    asyncio.run(main())
