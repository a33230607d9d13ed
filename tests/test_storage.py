"""Storage on SQLite and PostgreSQL: the schema comes from migrations and matches the models."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select, text

from bot.app.core import Core
from bot.demo.events import EVENTS, load_demo
from storage.db import Database, alembic_config, migrate
from storage.models import Base, Category, Event, EventText, Organisation, Region
from storage.repositories import OutboxRepository, UserRepository
from tests.fakes import FakeClock


async def test_migrations_create_the_schema_of_the_models(db_url: str) -> None:
    await migrate(db_url)
    await migrate(db_url)  # running again is harmless
    db = Database(db_url)
    try:
        async with db.engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata)
            )
            version = await conn.scalar(text("SELECT version_num FROM alembic_version"))
        assert diff == []
        assert version == ScriptDirectory.from_config(alembic_config(db_url)).get_current_head()
        async with db.transaction() as s:
            categories = list(await s.scalars(select(Category.slug).order_by(Category.position)))
            regions = list(await s.scalars(select(Region.slug).order_by(Region.position)))
        assert categories == [
            "networking",
            "workshops",
            "funding",
            "politics",
            "counselling",
            "health",
            "culture",
            "youth",
            "antiracism",
            "families",
        ]
        assert regions == [
            "leipzig",
            "dresden",
            "chemnitz",
            "bautzen",
            "zwickau",
            "saxony",
            "online",
        ]
    finally:
        await db.dispose()


async def test_instants_come_back_as_the_same_utc_instant(db_url: str) -> None:
    await migrate(db_url)
    db = Database(db_url)
    try:
        async with db.transaction() as s:
            org = Organisation(slug="o", name="O")
            s.add(org)
            await s.flush()
            moment = datetime(2026, 3, 29, 3, 30, tzinfo=timezone(timedelta(hours=2)))
            s.add(Event(organisation_id=org.id, category_id=1, region_id=1, starts_at=moment))
        async with db.transaction() as s:
            stored = await s.scalar(select(Event.starts_at))
        assert stored == moment and stored.tzinfo == UTC
        with pytest.raises(Exception, match="naive"):
            async with db.transaction() as s:
                s.add(
                    Event(
                        organisation_id=org.id,
                        category_id=1,
                        region_id=1,
                        starts_at=datetime(2026, 1, 1),
                    )
                )
    finally:
        await db.dispose()


async def test_demo_data_is_built_from_the_notices(db_url: str, clock: FakeClock) -> None:
    await migrate(db_url)
    db = Database(db_url)
    try:
        today = clock().date()
        assert await load_demo(db, today=today) == len(EVENTS)
        assert await load_demo(db, today=today) == 0, "loading twice adds nothing"
        async with db.transaction() as s:
            events = list(await s.scalars(select(Event)))
            texts = list(await s.scalars(select(EventText)))
            organisations = {e.organisation_id for e in events}
            categories = {e.category_id for e in events}
        assert len(events) >= 8 and len(categories) >= 4 and len(organisations) >= 3
        assert all(e.starts_at > clock() for e in events), "dates are in the future"
        languages: dict[int, set[str]] = {}
        for t in texts:
            languages.setdefault(t.event_id, set()).add(t.locale)
        assert sum(len(v) > 1 for v in languages.values()) >= 2
        assert all("de" in v for v in languages.values())
    finally:
        await db.dispose()


async def test_sqlite_is_in_wal_mode_with_a_busy_timeout(sqlite_url: str) -> None:
    await migrate(sqlite_url)
    db = Database(sqlite_url)
    try:
        async with db.engine.connect() as conn:
            assert (await conn.scalar(text("PRAGMA journal_mode"))) == "wal"
            assert int(await conn.scalar(text("PRAGMA busy_timeout")) or 0) >= 1000
            assert int(await conn.scalar(text("PRAGMA foreign_keys")) or 0) == 1
    finally:
        await db.dispose()


async def test_interrupted_delivery_is_counted_as_unknown_not_resent(core: Core) -> None:
    """A notice that was being sent when the process died is 'unknown' after a restart."""
    async with core.db.transaction() as s:
        user = await UserRepository(s).create(
            platform="fake",
            platform_user_id="u",
            chat_id="u",
            locale="de",
            timezone="Europe/Berlin",
            consent_version=1,
            consent_at=datetime.now(UTC),
        )
        outbox = OutboxRepository(s)
        assert await outbox.add("waitlist_promoted", "1:1", user.id, {"event_id": 1})
        assert not await outbox.add("waitlist_promoted", "1:1", user.id, {"event_id": 1})
        await s.execute(text("UPDATE outbox SET status = 'sending'"))
    assert await core.delivery.recover() == 1
    assert await core.delivery.run_once() == 0
    async with core.db.transaction() as s:
        assert await OutboxRepository(s).by_status() == {"unknown": 1}
