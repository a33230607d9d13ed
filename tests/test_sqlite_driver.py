"""SQLite with one trip to aiosqlite's thread per statement: what SQLAlchemy reads from a
cursor (rows, rowcount, RETURNING, lastrowid, many parameter sets, errors) is what the
driver gave, and a statement is one trip, not four."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path}/driver.sqlite3")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)"))
    yield engine
    await engine.dispose()


async def test_rows_counts_returning_and_many(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        inserted = await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
        assert inserted.lastrowid == 1
        many = await conn.execute(
            text("INSERT INTO t (name) VALUES (:name)"), [{"name": "b"}, {"name": "c"}]
        )
        assert many.rowcount == 2
        changed = await conn.execute(text("UPDATE t SET name = name || '!' WHERE id > 1"))
        assert changed.rowcount == 2
        returned = await conn.execute(
            text("UPDATE t SET name = 'z' WHERE id = 3 RETURNING id, name")
        )
        assert returned.all() == [(3, "z")]
        rows = await conn.execute(text("SELECT id, name FROM t ORDER BY id"))
        assert list(rows.keys()) == ["id", "name"]
        assert rows.all() == [(1, "a"), (2, "b!"), (3, "z")]
        assert (await conn.execute(text("SELECT name FROM t WHERE id = 9"))).first() is None


async def test_errors_are_sqlalchemys_and_roll_back(engine: AsyncEngine) -> None:
    with pytest.raises(IntegrityError):
        async with engine.begin() as conn:
            await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
            await conn.execute(text("INSERT INTO t (name) VALUES ('a')"))
    with pytest.raises(OperationalError):
        async with engine.begin() as conn:
            await conn.execute(text("SELECT nothing FROM nowhere"))
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 0


async def test_a_statement_is_one_trip_to_the_thread(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    trips: list[str] = []
    real = aiosqlite.Connection._execute

    async def counted(self: aiosqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        trips.append(getattr(fn, "__name__", "?"))
        return await real(self, fn, *args, **kwargs)  # type: ignore[no-untyped-call]

    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))  # the connection is open and begun
        monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
        for _ in range(5):
            assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 0
    assert trips.count("_run") == 5
    assert len([t for t in trips if t != "rollback"]) == 5, trips
