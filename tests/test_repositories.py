"""Repository methods that carry logic, on SQLite and PostgreSQL: the funders' report, the
answers of one person on a page of events, fan-out into the outbox, settled broadcasts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event

from storage.db import Database, migrate
from storage.records import Audience, Counts, TextRecord
from storage.repositories import (
    BroadcastRepository,
    CatalogRepository,
    EventRepository,
    OutboxRepository,
    RsvpRepository,
    Session,
    UserRepository,
)

START = datetime(2027, 3, 1, 17, 0, tzinfo=UTC)


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    await migrate(db_url)
    database = Database(db_url)
    try:
        yield database
    finally:
        await database.dispose()


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """The SQL statements run while the block is open."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        seen.append(sql)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)


async def person(s: Session, name: str, locale: str) -> int:
    user = await UserRepository(s).create(
        platform="fake",
        platform_user_id=name,
        chat_id=name,
        locale=locale,
        timezone="Europe/Berlin",
        consent_version=1,
        consent_at=START - timedelta(days=30),
    )
    return user.id


async def new_event(s: Session, organisation_id: int, day: int, *texts: TextRecord) -> int:
    return await EventRepository(s).add(
        organisation_id=organisation_id,
        category_id=1,
        region_id=1,
        starts_at=START + timedelta(days=day),
        ends_at=None,
        texts=texts or [TextRecord("de", f"Tag {day}", "")],
        capacity=2,
    )


async def test_report_counts_answers_and_languages_per_event(db: Database) -> None:
    async with db.transaction() as s:
        catalog, rsvps = CatalogRepository(s), RsvpRepository(s)
        ours = await catalog.organisation("ours", "Ours")
        theirs = await catalog.organisation("theirs", "Theirs")
        people = {
            name: await person(s, name, locale)
            for name, locale in [("a", "uk"), ("b", "ar"), ("c", "uk"), ("d", "fa"), ("e", "de")]
        }
        workshop = await new_event(
            s, ours, 3, TextRecord("uk", "Майстерня", ""), TextRecord("de", "Werkstatt", "")
        )
        meeting = await new_event(s, theirs, 1)
        empty = await new_event(s, ours, 2)
        await new_event(s, ours, 400)  # outside the period
        for name, status, seq in [
            ("a", "going", None),
            ("b", "going", None),
            ("c", "waitlisted", 1),
            ("d", "maybe", None),
            ("e", "not_going", None),
        ]:
            await rsvps.put(workshop, people[name], status, seq)
        await rsvps.put(meeting, people["d"], "going", None)
        await rsvps.put(meeting, people["a"], "not_going", None)

    async with db.transaction() as s:
        report = await EventRepository(s).report([ours, theirs], START, START + timedelta(days=30))
    assert [(r.event_id, r.organisation_id) for r in report] == [
        (meeting, theirs),
        (empty, ours),
        (workshop, ours),
    ], "soonest first, only events in the period"
    by_id = {r.event_id: r for r in report}
    assert by_id[workshop].counts == Counts(going=2, maybe=1, not_going=1, waitlisted=1)
    assert by_id[workshop].languages == {"uk": 2, "ar": 1, "fa": 1}, "who comes, not who declined"
    assert by_id[workshop].title == "Werkstatt", "the first language by code, every time"
    assert by_id[meeting].counts == Counts(going=1, not_going=1)
    assert by_id[meeting].languages == {"fa": 1}
    assert by_id[empty].counts == Counts() and by_id[empty].languages == {}

    async with db.transaction() as s:
        only_ours = await EventRepository(s).report([ours], START, START + timedelta(days=30))
    assert {r.organisation_id for r in only_ours} == {ours}


async def test_report_takes_the_same_queries_for_any_number_of_events(db: Database) -> None:
    async def queries(events: int) -> int:
        async with db.transaction() as s:
            organisation = await CatalogRepository(s).organisation(f"o{events}", "O")
            reader = await person(s, f"reader{events}", "uk")
            for day in range(events):
                event_id = await new_event(s, organisation, day)
                await RsvpRepository(s).put(event_id, reader, "going", None)
        with statements(db) as seen:
            async with db.transaction() as s:
                report = await EventRepository(s).report(
                    [organisation], START, START + timedelta(days=60)
                )
        assert len(report) == events
        return len(seen)

    assert await queries(2) == await queries(12)


async def test_a_page_reads_the_persons_answers_and_places_at_once(db: Database) -> None:
    async with db.transaction() as s:
        organisation = await CatalogRepository(s).organisation("o", "O")
        events = [await new_event(s, organisation, day) for day in (1, 2, 3)]
        me, a, b = [await person(s, name, "de") for name in ("me", "a", "b")]
        rsvps = RsvpRepository(s)
        await rsvps.put(events[0], me, "maybe", None)
        for seq, user in enumerate((a, b, me), start=1):
            await rsvps.put(events[1], user, "waitlisted", seq)
        await rsvps.put(events[1], a, "going", None)  # a moved up: I am second now
    async with db.transaction() as s:
        rsvps = RsvpRepository(s)
        mine = await rsvps.of_user_for(me, events)
        places = await rsvps.waitlist_positions(me, events)
    assert {e: r.status for e, r in mine.items()} == {events[0]: "maybe", events[1]: "waitlisted"}
    assert places == {events[1]: 2}


async def test_fan_out_inserts_each_person_once_in_chunks(db: Database) -> None:
    async with db.transaction() as s:
        people = [await person(s, f"p{i}", "de") for i in range(1203)]
        outbox = OutboxRepository(s)
        assert await outbox.add_many("new_event", "7", people[:3], {"event_id": 7}) == 3
        assert await outbox.add_many("new_event", "7", people, {"event_id": 7}) == 1200
        assert await outbox.add_many("new_event", "7", people, {"event_id": 7}) == 0
        assert await outbox.add_many("new_event", "8", [], {"event_id": 8}) == 0
        assert await outbox.by_status() == {"pending": 1203}


async def test_settled_broadcasts_are_found_in_one_query(db: Database) -> None:
    async with db.transaction() as s:
        organisation = await CatalogRepository(s).organisation("o", "O")
        author = await person(s, "author", "de")
        readers = [await person(s, f"r{i}", "uk") for i in range(3)]
        broadcasts, outbox = BroadcastRepository(s), OutboxRepository(s)
        ids = [
            await broadcasts.add(organisation, author, {"de": "Hallo"}, Audience(), 3)
            for _ in range(3)
        ]
        for broadcast_id in ids:
            await outbox.add_many("broadcast", str(broadcast_id), readers, {})
        claimed = await outbox.claim(100, datetime.now(UTC), owner="t", lease=timedelta(0))
        for row in claimed:
            # The first broadcast is all final; the second has one row still pending.
            if row.ref == str(ids[0]) or (row.ref == str(ids[1]) and row.user_id != readers[0]):
                await outbox.mark(row.id, "sent")
        await outbox.add_many("broadcast", str(ids[2] + 1), readers, {})  # another, not ours
    with statements(db) as seen:
        async with db.transaction() as s:
            settled = await BroadcastRepository(s).settled("broadcast")
    assert [b.id for b in settled] == [ids[0]]
    assert len([sql for sql in seen if "broadcasts" in sql]) == 1
    async with db.transaction() as s:
        await BroadcastRepository(s).mark_done([ids[0]])
        assert await BroadcastRepository(s).settled("broadcast") == []
        done = await BroadcastRepository(s).get(ids[0])
    assert done is not None and done.status == "done" and done.total == 3


async def test_by_uids_finds_an_organisations_events(db: Database) -> None:
    async with db.transaction() as s:
        catalog, events = CatalogRepository(s), EventRepository(s)
        ours = await catalog.organisation("ours", "Ours")
        theirs = await catalog.organisation("theirs", "Theirs")
        for organisation, uid in [(ours, "a"), (ours, "b"), (theirs, "c")]:
            await events.add(
                organisation_id=organisation,
                category_id=1,
                region_id=1,
                starts_at=START,
                ends_at=None,
                texts=[TextRecord("de", uid, "")],
                uid=uid,
            )
        found = await events.by_uids(ours, ["a", "c", "x", "a"])
        assert set(found) == {"a"} and found["a"].status == "published"
        assert await events.by_uid(ours, "b") is not None
        assert await events.by_uid(theirs, "b") is None
