"""SQLite through aiosqlite with one hand-off to its thread per statement.

aiosqlite runs each call of the sqlite3 driver in a thread of its own, and SQLAlchemy's
adapter makes four such calls per statement (open a cursor, execute, fetch, close): each one a
trip to that thread and back through the event loop's queue. Idle that costs little; while the
loop also sends a broadcast, every trip waits behind the callbacks queued before it, and a
button press (about 15 statements, 63 trips) took 25 ms instead of 10. Here a statement is one
function run in aiosqlite's thread — cursor, execute, fetch and close together — and SQLAlchemy
gets what it reads from a cursor afterwards (description, rowcount, lastrowid, rows). Errors are
sqlite3's own, translated by SQLAlchemy as before; transactions, the pool and the connection's
set-up are SQLAlchemy's aiosqlite dialect unchanged."""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)


class _Ran:
    """What a statement left on its cursor, kept after the cursor is closed."""

    __slots__ = ("arraysize", "description", "lastrowid", "rowcount")

    def __init__(
        self,
        description: Sequence[Any] | None = None,
        rowcount: int = -1,
        lastrowid: int | None = None,
    ) -> None:
        self.description = description
        self.rowcount = rowcount
        self.lastrowid = lastrowid
        self.arraysize = 1

    def close(self) -> None:
        """Closed already, in aiosqlite's thread."""


def _run(
    connection: sqlite3.Connection, operation: str, parameters: Any, many: bool
) -> tuple[_Ran, list[Any] | None]:
    """In aiosqlite's thread: the whole statement at once."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        rows = cursor.fetchall() if cursor.description else None
        return _Ran(cursor.description, cursor.rowcount, cursor.lastrowid), rows
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()
    _awaitable_cursor_close = False  # nothing left open to close

    def _make_new_cursor(self, connection: Any) -> Any:
        return _Ran()

    def _aenter_cursor(self, cursor: Any) -> Any:
        return cursor

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        return await self._one_trip(operation, parameters, many=False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        return await self._one_trip(operation, seq_of_parameters, many=True)

    async def _one_trip(self, operation: Any, parameters: Any, *, many: bool) -> None:
        async with self._adapt_connection._execute_mutex:
            connection: aiosqlite.Connection = self._connection  # type: ignore[assignment]
            ran, rows = await connection._execute(  # type: ignore[no-untyped-call]
                _run, connection._conn, operation, parameters, many
            )
            self._cursor = ran
            if rows is not None:
                self._rows = collections.deque(rows)


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The DBAPI module SQLAlchemy's aiosqlite dialect is given (``create_engine(module=…)``)."""

    def __init__(self) -> None:
        super().__init__(aiosqlite, sqlite3)

    def connect(self, *arg: Any, **kw: Any) -> AsyncAdapt_aiosqlite_connection:
        connection = super().connect(*arg, **kw)
        connection.__class__ = OneTripConnection  # the same object, statements in one trip
        return connection
