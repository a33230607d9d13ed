"""Shared fixtures: real databases (SQLite, and PostgreSQL when configured), a fixed clock,
the real core with migrations applied, and people who chat through a fake transport."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app.core import Core
from bot.app.settings import PROJECT_ROOT, Settings
from bot.demo.events import load_demo
from tests.fakes import Chatroom, FakeClock

pytest.register_assert_rewrite("tests.synapse", "tests.telegram_fake")
from tests.synapse import synapse  # noqa: E402, F401 - the session's Synapse, for Matrix tests
from tests.telegram_fake import TOKEN, FakeBotAPI  # noqa: E402 - after the rewrite is asked

PG_ENV = "TREFFPUNKT_TEST_DATABASE_URL"
LOCALES = PROJECT_ROOT / "locales"


def pytest_sessionstart(session: pytest.Session) -> None:
    """Compile the catalogs, as the install step does, so a plain ``pytest`` works too."""
    for po in LOCALES.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as fp:
            catalog = read_po(fp, locale=po.parent.parent.name)
        with mo.open("wb") as fp:
            write_mo(fp, catalog)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'treffpunkt.sqlite3'}"


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards."""
    admin = os.environ.get(PG_ENV)
    if not admin:
        pytest.skip(
            f"PostgreSQL tests need {PG_ENV} (for example "
            "postgresql+asyncpg://postgres@127.0.0.1:5432/test)"
        )
    name = f"treffpunkt_test_{uuid.uuid4().hex[:12]}"
    engine = create_async_engine(admin, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(admin).set(database=name).render_as_string(hide_password=False)
    finally:
        async with engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Each test that uses this runs on SQLite and on PostgreSQL."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    return str(request.getfixturevalue(name))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=db_url,
        locales_dir=LOCALES,
        files_dir=tmp_path / "files",
        admins=("fake:umbrella-admin",),
    )


@pytest.fixture
async def core(settings: Settings, clock: FakeClock) -> AsyncIterator[Core]:
    core = await Core.create(settings, clock=clock)
    await load_demo(core.db, today=clock().date())
    try:
        yield core
    finally:
        await core.close()


@pytest.fixture
def room(core: Core) -> Iterator[Chatroom]:
    yield Chatroom(core)


@pytest.fixture
async def fake_api() -> AsyncIterator[FakeBotAPI]:
    """The fake Telegram Bot API, in this process, for one test."""
    api = FakeBotAPI(TOKEN)
    await api.start()
    try:
        yield api
    finally:
        await api.stop()
