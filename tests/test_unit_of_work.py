"""One incoming update is one unit of work: a failure at any point of it, the commit included,
leaves exactly the state of one clean run — on SQLite and on PostgreSQL.

Each scenario is played once cleanly, counting the statements and commits of its last update,
then again on a fresh database for every commit and for the first, middle and last statement
of that update, with a transient database error injected there once. The dispatcher retries
the update; afterwards the database must hold what the clean run left (row counts per table,
the answers and the notices per person), and each person has received each notice once.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app.core import Core
from bot.app.settings import Settings
from bot.core.chat import Incoming, Sender
from bot.demo.events import load_demo
from storage.models import Base, Broadcast, Event, EventText, Offer, OutboxMessage, Rsvp, SeenEvent
from tests.conftest import LOCALES, PG_ENV
from tests.fakes import Chatroom, FakeClock, Person, registered
from tests.test_journey import event_by_uid
from tests.test_manage import demo_event_of_new_org
from tests.test_organisers import organiser


@dataclass
class Faults:
    """Counts the statements and commits of one update, or fails one of them once."""

    fail_statement: int | None = None
    fail_commit: int | None = None
    statements: int = 0
    commits: int = 0
    armed: bool = False
    fired: list[str] = field(default_factory=list)

    def attach(self, core: Core) -> None:
        engine = core.db.engine.sync_engine
        event.listen(engine, "before_cursor_execute", self._on_statement)
        event.listen(engine, "commit", self._on_commit)

    def _fail(self, where: str) -> None:
        self.fired.append(where)
        raise OperationalError(where, None, sqlite3.OperationalError("database is locked"))

    def _on_statement(self, *_args: Any) -> None:
        if self.armed:
            self.statements += 1
            if self.statements == self.fail_statement and not self.fired:
                self._fail(f"statement {self.statements}")

    def _on_commit(self, _conn: Any) -> None:
        if self.armed:
            self.commits += 1
            if self.commits == self.fail_commit and not self.fired:
                self._fail(f"commit {self.commits}")


Action = Callable[[Chatroom, Core], Awaitable[tuple[Person, Incoming]]]
Check = Callable[[Chatroom, Core], Awaitable[None]]


def press(person: Person, label: str, **values: Any) -> Incoming:
    """The incoming update of ``person`` tapping the button labelled ``label``."""
    sender = Sender(person.platform, person.user_id, person.language_hint)
    return Incoming(sender, person.chat, button=person.button(label, **values).data)


def say(person: Person, words: str) -> Incoming:
    sender = Sender(person.platform, person.user_id, person.language_hint)
    return Incoming(sender, person.chat, text=words, message_id=f"final-{uuid.uuid4().hex}")


async def snapshot(core: Core) -> dict[str, Any]:
    """The state, free of ids and times that differ between runs: rows per table, answers,
    notices per (kind, person)."""
    async with core.db.transaction() as s:
        counts = {
            table.name: await s.scalar(select(func.count()).select_from(table))
            for table in Base.metadata.sorted_tables
        }
        answers = Counter(await s.execute(select(Rsvp.user_id, Rsvp.status)))
        notices = Counter(await s.execute(select(OutboxMessage.kind, OutboxMessage.user_id)))
    counts.pop("seen_events", None)
    return {"rows": counts, "answers": answers, "notices": notices}


@asynccontextmanager
async def fresh_core(backend: str, tmp_path: Path) -> AsyncIterator[tuple[Core, Chatroom]]:
    """A core with the demo data on a database of its own."""
    async with AsyncExitStack() as stack:
        if backend == "sqlite":
            url = f"sqlite+aiosqlite:///{tmp_path / f'{uuid.uuid4().hex}.sqlite3'}"
        else:
            admin = os.environ.get(PG_ENV)
            if not admin:
                pytest.skip(f"PostgreSQL tests need {PG_ENV}")
            name = f"treffpunkt_test_{uuid.uuid4().hex[:12]}"
            engine = create_async_engine(admin, isolation_level="AUTOCOMMIT")
            async with engine.connect() as conn:
                await conn.execute(text(f'CREATE DATABASE "{name}"'))

            async def drop() -> None:
                async with engine.connect() as conn:
                    await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                await engine.dispose()

            stack.push_async_callback(drop)
            url = make_url(admin).set(database=name).render_as_string(hide_password=False)
        settings = Settings(
            database_url=url,
            locales_dir=LOCALES,
            files_dir=tmp_path / "files",
            admins=("fake:umbrella-admin",),
        )
        clock = FakeClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
        core = await Core.create(settings, clock=clock)
        stack.push_async_callback(core.close)
        await load_demo(core.db, today=clock().date())
        yield core, Chatroom(core)


async def play(
    backend: str, tmp_path: Path, action: Action, faults: Faults
) -> tuple[dict[str, Any], Chatroom, Core, AsyncExitStack]:
    """Set the scene, then send its last update with ``faults`` armed."""
    stack = AsyncExitStack()
    core, room = await stack.enter_async_context(fresh_core(backend, tmp_path))
    person, incoming = await action(room, core)
    faults.attach(core)
    faults.armed = True
    try:
        replies = await core.dispatcher.handle(incoming)
    finally:
        faults.armed = False
    person.last = replies
    await core.delivery.run_once()
    await core.delivery.run_once()  # a final report is queued once the rows are final
    return await snapshot(core), room, core, stack


async def broadcast(room: Chatroom, core: Core) -> tuple[Person, Incoming]:
    for code in ("uk", "ar", "fa"):
        reader = await registered(room, f"reader-{code}", code)
        await reader.taps("Networking and open meetings")
    orga = await organiser(room, locale="de")
    await orga.says("/broadcast")
    await orga.taps("🏷 Followers of topics and regions")
    await orga.taps("Networking and open meetings")
    await orga.taps("Continue ▶")
    await orga.says("Offener Treff am Mittwoch fällt aus.")
    await orga.taps("Preview ▶")
    return orga, press(orga, "📢 Send")


async def one_broadcast(room: Chatroom, core: Core) -> None:
    async with core.db.transaction() as s:
        assert await s.scalar(select(func.count()).select_from(Broadcast)) == 1
    for code in ("uk", "ar", "fa"):
        inbox = room.person(f"reader-{code}").inbox
        assert sum("Offener Treff am Mittwoch" in r.text for r in inbox) == 1


async def publish(room: Chatroom, core: Core) -> tuple[Person, Incoming]:
    reader = await registered(room, "reader-uk", "uk")
    await reader.taps("Families")
    orga = await organiser(room, locale="de")
    await orga.says("/newevent")
    await orga.says("Familiencafé")
    await orga.says("Kaffee und Kuchen für Familien")
    await orga.taps("Families")
    await orga.taps("Leipzig")
    await orga.says("12.12.2026 15:00-17:00")
    await orga.says("Stadtteilladen Leipzig")
    await orga.says("-")
    await orga.says("-")
    return orga, press(orga, "✅ Publish")


async def one_event(room: Chatroom, core: Core) -> None:
    async with core.db.transaction() as s:
        titles = list(
            await s.scalars(select(EventText.title).where(EventText.title == "Familiencafé"))
        )
    assert titles == ["Familiencafé"]
    inbox = room.person("reader-uk").inbox
    assert sum("Familiencafé" in r.text for r in inbox) == 1


async def leave_full_event(room: Chatroom, core: Core) -> tuple[Person, Incoming]:
    event = await event_by_uid(core, "beratung-anerkennung")
    people = [await registered(room, f"p{i}", "de") for i in range(4)]
    for person in people:
        await person.presses(f"r:{event.id}:g:-")
    leaving = people[1]
    await leaving.presses(f"e:{event.id}:-")
    return leaving, press(leaving, "❌")


async def one_offer(room: Chatroom, core: Core) -> None:
    event = await event_by_uid(core, "beratung-anerkennung")
    async with core.db.transaction() as s:
        going = Counter(await s.scalars(select(Rsvp.status).where(Rsvp.event_id == event.id)))
        offers = list(await s.scalars(select(Offer.status).where(Offer.event_id == event.id)))
    assert going == {"going": 2, "waitlisted": 1, "not_going": 1}
    assert offers == ["open"], "one seat, offered once"
    assert len(room.person("p3").inbox) == 1, "the first person waiting is told once"


async def edit_event(room: Chatroom, core: Core) -> tuple[Person, Incoming]:
    orga = await organiser(room, locale="de")
    event_id = await demo_event_of_new_org(core, "offener-treff-leipzig")
    for name, code in (("going-uk", "g"), ("maybe-ar", "m")):
        attendee = await registered(room, name, "uk")
        await attendee.presses(f"r:{event_id}:{code}:-")
    await orga.says(f"/editevent {event_id}")
    await orga.taps("Date and time")
    return orga, say(orga, "05.12.2026 18:00 bis 20 Uhr")


async def one_change_notice(room: Chatroom, core: Core) -> None:
    event_id = (await event_by_uid(core, "offener-treff-leipzig")).id
    async with core.db.transaction() as s:
        starts = await s.scalar(select(Event.starts_at).where(Event.id == event_id))
    assert starts is not None and starts.isoformat() == "2026-12-05T17:00:00+00:00"
    for name in ("going-uk", "maybe-ar"):
        assert len(room.person(name).inbox) == 1, f"{name} is told once"


async def delete_data(room: Chatroom, core: Core) -> tuple[Person, Incoming]:
    event = await event_by_uid(core, "beratung-anerkennung")
    people = [await registered(room, f"d{i}", "de") for i in range(4)]
    for person in people:
        await person.presses(f"r:{event.id}:g:-")
    leaving = people[0]
    await leaving.says("/deletedata")
    return leaving, press(leaving, "🗑 Yes, delete everything")


async def one_deletion(room: Chatroom, core: Core) -> None:
    async with core.db.transaction() as s:
        assert await s.scalar(select(func.count()).select_from(Rsvp).where(Rsvp.user_id == 1)) == 0
        waiting = await s.scalar(select(Rsvp.status).where(Rsvp.user_id == 4))
        offers = list(await s.scalars(select(Offer.status).where(Offer.user_id == 4)))
    assert (waiting, offers) == ("waitlisted", ["open"])
    assert len(room.person("d3").inbox) == 1, "the person waiting is told once"


SCENARIOS: dict[str, tuple[Action, Check]] = {
    "broadcast": (broadcast, one_broadcast),
    "newevent-publish": (publish, one_event),
    "rsvp-waitlist-offer": (leave_full_event, one_offer),
    "editevent": (edit_event, one_change_notice),
    "deletedata": (delete_data, one_deletion),
}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@pytest.mark.parametrize("scenario", list(SCENARIOS))
async def test_a_failure_anywhere_in_an_update_leaves_the_state_of_one_run(
    scenario: str, backend: str, tmp_path: Path
) -> None:
    action, check = SCENARIOS[scenario]
    clean = Faults()
    expected, room, core, stack = await play(backend, tmp_path, action, clean)
    try:
        await check(room, core)
    finally:
        await stack.aclose()
    assert clean.commits == 1, f"the update committed {clean.commits} times, not once"

    points = [Faults(fail_commit=n) for n in range(1, clean.commits + 1)]
    points += [
        Faults(fail_statement=n) for n in sorted({1, clean.statements // 2, clean.statements})
    ]
    for faults in points:
        state, room, core, stack = await play(backend, tmp_path, action, faults)
        try:
            assert faults.fired, "the fault was injected"
            assert state == expected, f"after a failure at {faults.fired[0]}"
            await check(room, core)
        finally:
            await stack.aclose()


async def test_read_only_updates_do_not_wait_for_the_write_lock(tmp_path: Path) -> None:
    """While another connection holds SQLite's write lock, browsing is answered (an update
    that wanted the lock would wait 5 s per try and end in "I am very busy"); an answer that
    writes waits for the lock and is then recorded."""
    async with fresh_core("sqlite", tmp_path) as (core, room):
        person = await registered(room, "reader", "en")
        event = await event_by_uid(core, "offener-treff-leipzig")
        path = make_url(core.settings.database_url).database
        assert path is not None
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")
        try:
            # Straight to the dispatcher: the fake's delivery round after each update would
            # itself wait for the lock.
            person.last = await core.dispatcher.handle(say(person, "/help"))
            person.sees("Show this help")
            person.last = await core.dispatcher.handle(say(person, "/events all"))
            person.sees(
                "All upcoming events ({first}–{last} of {total}):", first=1, last=3, total=16
            )
            release = asyncio.get_running_loop().call_later(0.5, blocker.rollback)
            try:
                await person.presses(f"r:{event.id}:g:-")
            finally:
                release.cancel()
            person.sees("✅ You are going. See you there!")
        finally:
            blocker.close()


async def test_an_event_delivered_twice_is_handled_once_and_marked_with_its_handling(
    tmp_path: Path,
) -> None:
    """A platform event id (Matrix) is marked as handled in the update's own transaction: a
    failure rolls the mark back with everything else, and the retry handles it once."""
    async with fresh_core("sqlite", tmp_path) as (core, room):
        person = await registered(room, "reader", "en")
        incoming = say(person, "/help")
        faults = Faults(fail_commit=1)
        faults.attach(core)
        first = replace(incoming, once="$event-1")
        faults.armed = True
        try:
            answered = await core.dispatcher.handle(first)
        finally:
            faults.armed = False
        assert faults.fired and answered, "failed once, then answered"
        assert await core.dispatcher.handle(first) == [], "the same event again: nothing"
        assert await core.dispatcher.handle(replace(incoming, once="$event-2")), "a new one"
        async with core.db.transaction() as s:
            seen = list(await s.scalars(select(SeenEvent.event_id).order_by(SeenEvent.event_id)))
        assert seen == ["$event-1", "$event-2"]
