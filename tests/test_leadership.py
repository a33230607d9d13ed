"""One process runs the scheduled work: on PostgreSQL the one holding an advisory lock, taken
over by another when that process's connection ends; on SQLite always this process."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import text

from bot.app.alarms import Alarms
from bot.app.core import Core
from bot.app.runner import serve
from bot.app.settings import Settings
from bot.core.errors import InstanceTaken
from storage.db import Database, InstanceGuard, Leadership, is_sqlite


async def test_one_leader_and_a_takeover_when_its_connection_ends(core: Core) -> None:
    if is_sqlite(core.db.url):
        assert await Leadership(core.db).hold(), "one process on SQLite: it leads"
        return
    other_db = Database(core.db.url)
    first, second = Leadership(core.db), Leadership(other_db)
    try:
        assert await first.hold()
        assert await first.hold(), "still leading"
        assert not await second.hold(), "only one leads"
        # The leader's connection ends (the process died, the network cut it).
        async with other_db.engine.connect() as conn:
            await conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND objid = :key AND database = "
                    "(SELECT oid FROM pg_database WHERE datname = current_database())"
                ),
                {"key": Leadership.KEY},
            )
            await conn.commit()
        assert await second.hold(), "taken over"
        assert not await first.hold(), "the old leader notices it no longer leads"
        await second.release()
        assert await first.hold(), "released at shutdown: taken over at once"
    finally:
        await first.release()
        await second.release()
        await other_db.dispose()


async def test_alarms_run_due_work_only_where_they_lead(core: Core) -> None:
    runs: list[str] = []

    async def counted() -> int:
        runs.append("codes")
        return 0

    async def nothing_due() -> datetime | None:
        return None

    alarms = Alarms(core.services, AsyncIOScheduler(timezone="UTC"), lambda: None)
    alarms.work["codes"] = (counted, nothing_due)
    if is_sqlite(core.db.url):
        await alarms.fire("codes")
        assert runs == ["codes"] and alarms.leading
        return
    other_db = Database(core.db.url)
    elsewhere = Leadership(other_db)
    try:
        assert await elsewhere.hold()
        await alarms.fire("codes")
        assert runs == [] and not alarms.leading, "another process runs it"
        job = alarms.scheduler.get_job("codes")
        assert job is not None and job.trigger.run_date > datetime.now(UTC), "asks again later"
        await elsewhere.release()
        await alarms.fire("codes")
        assert runs == ["codes"] and alarms.leading
    finally:
        await alarms.leadership.release()
        await elsewhere.release()
        await other_db.dispose()


async def test_one_live_process_per_instance_name(core: Core) -> None:
    """A second process under a name already running is refused: at its start it would settle
    the first one's sends while they are in flight."""
    if is_sqlite(core.db.url):
        assert await InstanceGuard(core.db, "bot-1").take(), "one process on SQLite"
        return
    other_db = Database(core.db.url)
    first, twin, second = (
        InstanceGuard(core.db, "bot-1"),
        InstanceGuard(other_db, "bot-1"),
        InstanceGuard(other_db, "bot-2"),
    )
    try:
        assert await first.take()
        assert not await twin.take(), "the same name twice"
        assert await second.take(), "another name runs beside it"
        await first.release()
        assert await twin.take(), "the name is free once its process stopped"
    finally:
        for guard in (first, twin, second):
            await guard.release()
        await other_db.dispose()


async def test_serve_refuses_to_run_under_a_name_in_use(core: Core, tmp_path: Path) -> None:
    if is_sqlite(core.db.url):
        return
    settings = Settings(
        database_url=core.db.url,
        instance="bot-1",
        files_dir=tmp_path / "files",
        demo_data="no",
        _env_file=None,  # type: ignore[call-arg]
    )
    running = InstanceGuard(core.db, "bot-1")
    assert await running.take()
    try:
        with pytest.raises(InstanceTaken, match="bot-1"):
            await asyncio.wait_for(serve(settings, asyncio.Event()), 30)
    finally:
        await running.release()
