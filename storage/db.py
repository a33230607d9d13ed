"""Engine and units of work: SQLite (WAL, busy timeout) or PostgreSQL.

A unit of work is one session and one transaction. Inside it, ``Database.transaction()`` joins
it instead of starting a transaction of its own, so everything one incoming update changes
(answers, conversation state, audit, outbox rows) commits together or not at all. Work that
must wait for the commit (calling a web service) is a job row, run after it
(bot/services/jobs.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.sqlite_driver import OneTripDBAPI

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 5000
# How a unit of work begins on SQLite; read by the "begin" hook from the connection's options.
BEGIN_OPTION = "treffpunkt_begin"


class DatabaseBusyError(RuntimeError):
    """The database stayed locked or unreachable after a few bounded retries."""


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str) -> AsyncEngine:
    """Create the async engine with the settings each backend needs to be safe."""
    if not is_sqlite(url):
        return create_async_engine(url, pool_pre_ping=True)
    engine = create_async_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        module=OneTripDBAPI(),  # a statement is one trip to aiosqlite's thread, not four
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, emit BEGIN, so that "begin" below controls it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front: a read-then-write transaction can never
        # fail half-way on lock upgrade, it waits (busy_timeout) for its turn instead.
        # DEFERRED (a unit that expects only to read) takes no lock until it writes.
        mode = conn.get_execution_options().get(BEGIN_OPTION, "IMMEDIATE")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


@dataclass(frozen=True)
class UnitOfWork:
    """One session, one transaction."""

    session: AsyncSession


class Database:
    """Owns the engine and hands out units of work; repositories work inside them."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self._writers = async_sessionmaker(
            self.engine.execution_options(**{BEGIN_OPTION: "IMMEDIATE"}), expire_on_commit=False
        )
        self._readers = async_sessionmaker(
            self.engine.execution_options(**{BEGIN_OPTION: "DEFERRED"}), expire_on_commit=False
        )
        self._current: ContextVar[UnitOfWork | None] = ContextVar(
            f"unit_of_work_{id(self)}", default=None
        )
        # SQLite has one writer at a time. Within this process, units that write from the
        # start (the delivery worker's claims and records, due work, retried updates) wait in
        # line on an asyncio lock, woken the moment the one before commits; at SQLite's own
        # lock they would poll (busy_timeout sleeps 1, 2, 5, 10 … 100 ms between tries).
        # A unit that starts by reading (an update's first try) and other processes still
        # meet SQLite's lock and its busy timeout.
        self.serial_writes = is_sqlite(url)
        self._line: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    @property
    def current(self) -> UnitOfWork | None:
        """The unit of work this task is inside, if any."""
        return self._current.get()

    @asynccontextmanager
    async def unit_of_work(
        self, *, write: bool = True, in_line: bool | None = None
    ) -> AsyncIterator[UnitOfWork]:
        """One transaction for everything inside: committed at the end, rolled back on error.

        ``write=False`` expects to read only: on SQLite it takes no write lock up front, so it
        never waits behind a long write; should it write after all, SQLite upgrades the lock,
        or refuses with a transient error under contention (retry the unit with ``write=True``).
        ``in_line`` (default: ``write``): on SQLite, wait for this process's writers before
        it first (an update that may write: several answered at once would otherwise meet at
        SQLite's lock, and the later one be refused and tried again).
        """
        if self._current.get() is not None:
            raise RuntimeError("a unit of work is already open in this task")
        sessions = self._writers if write else self._readers
        async with self._in_line(write if in_line is None else in_line), sessions() as session:
            unit = UnitOfWork(session)
            token = self._current.set(unit)
            try:
                async with session.begin():
                    yield unit
            finally:
                self._current.reset(token)

    @asynccontextmanager
    async def _in_line(self, write: bool) -> AsyncIterator[None]:
        """On SQLite, a writing unit's turn among this process's writers."""
        if not (write and self.serial_writes):
            yield
            return
        loop = asyncio.get_running_loop()
        if self._line is None or self._line[0] is not loop:
            self._line = (loop, asyncio.Lock())
        async with self._line[1]:
            yield

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """The session of the unit of work already open, else a unit of its own."""
        unit = self._current.get()
        if unit is not None:
            yield unit.session
            return
        async with self.unit_of_work() as unit:
            yield unit.session

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """The session of the unit of work already open, else a unit that only reads (on
        SQLite it takes no write lock, so it never waits behind a long write)."""
        unit = self._current.get()
        if unit is not None:
            yield unit.session
            return
        async with self.unit_of_work(write=False) as unit:
            yield unit.session

    async def dispose(self) -> None:
        await self.engine.dispose()


KEEPALIVE = {
    "tcp_keepalives_idle": "30",
    "tcp_keepalives_interval": "10",
    "tcp_keepalives_count": "3",
}


async def _lock_connection(db: Database, attempt: str, params: dict[str, Any], name: str) -> Any:
    """A connection of its own (autocommit, out of the pool's reach) on which ``attempt``
    took a session-level advisory lock, or None when another connection holds it. The
    connection shows ``name`` as its application (who holds what), and the server notices
    within about a minute that its host died or its network went away, and frees the lock
    (not after the default two hours)."""
    conn = await db.engine.connect()
    try:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        got = await conn.scalar(text(attempt), params)
    except Exception:
        await conn.close()
        raise
    if not got:
        await conn.close()
        return None
    with contextlib.suppress(Exception):
        await conn.execute(
            text("SELECT set_config('application_name', :name, false)"), {"name": name[:63]}
        )
        for setting, value in KEEPALIVE.items():
            await conn.execute(
                text("SELECT set_config(:setting, :value, false)"),
                {"setting": setting, "value": value},
            )
    return conn


class Leadership:
    """Which one of several processes sharing a database runs the scheduled work.

    On PostgreSQL: the process holding a session-level advisory lock, on a connection of its
    own kept out of the pool. The server releases the lock when that connection ends (the
    process died, or the network cut it), and the next process to ask takes over. On SQLite
    (one process) this process always leads."""

    KEY = 0x5472_6566  # "Tref": the lock's number, the same in every process

    def __init__(self, db: Database, name: str = "treffpunkt") -> None:
        self.db = db
        self.name = name  # shown as the lock holder's application name (treffpunkt status)
        self._conn: Any = None
        self._asking = asyncio.Lock()  # the alarms of all kinds ask at once at start-up

    async def hold(self) -> bool:
        """Lead if possible: True while this process holds the lock (checked to be alive)."""
        if is_sqlite(self.db.url):
            return True
        async with self._asking:
            return await self._hold()

    async def _hold(self) -> bool:
        if self._conn is not None:
            try:
                await self._conn.execute(text("SELECT 1"))
                return True
            except Exception:
                await self._drop()
        self._conn = await _lock_connection(
            self.db, "SELECT pg_try_advisory_lock(:key)", {"key": self.KEY}, self.name
        )
        return self._conn is not None

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        with contextlib.suppress(Exception):
            await conn.invalidate()  # never back into the pool: the lock may be held on it

    async def release(self) -> None:
        """Stop leading (at shutdown): another process can take over at once."""
        if self._conn is None:
            return
        try:
            await self._conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.KEY})
            await self._conn.close()
            self._conn = None
        except Exception:
            await self._drop()


class InstanceGuard:
    """One running process per instance name (``TREFFPUNKT_INSTANCE``) on a database.

    Outbox claims carry the instance's name, and a process settles the claims of its name at
    start (they were its own, left by a crash): a second process under the same name would
    settle the first one's sends while they are in flight. On PostgreSQL the name holds an
    advisory lock on a connection of its own for as long as the process runs; a second
    process under that name is refused at start. SQLite runs one process anyway."""

    KEY = 0x5472_6567  # the lock space of instance names: (KEY, hashtext(name))

    def __init__(self, db: Database, name: str) -> None:
        self.db = db
        self.name = name
        self._conn: Any = None

    async def take(self) -> bool:
        """True when no other live process runs under this name (and none can now)."""
        if is_sqlite(self.db.url):
            return True
        self._conn = await _lock_connection(
            self.db,
            "SELECT pg_try_advisory_lock(:key, hashtext(:name))",
            {"key": self.KEY, "name": self.name},
            self.name,
        )
        return self._conn is not None

    async def release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        with contextlib.suppress(Exception):
            await conn.execute(
                text("SELECT pg_advisory_unlock(:key, hashtext(:name))"),
                {"key": self.KEY, "name": self.name},
            )
        with contextlib.suppress(Exception):
            await conn.close()


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _upgrade(url: str, revision: str) -> None:
    command.upgrade(alembic_config(url), revision)


async def migrate(url: str, revision: str = "head") -> None:
    """Bring the schema to ``revision``; Alembic's async env runs its own loop in a thread."""
    if is_sqlite(url):
        database = make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
    await asyncio.to_thread(_upgrade, url, revision)


def is_transient(exc: BaseException) -> bool:
    """A lock timeout or a dropped connection: worth a bounded retry, not a crash."""
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated
