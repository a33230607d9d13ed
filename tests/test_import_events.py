"""iCal files into the database: by UID, never twice; updates and cancellations tell people."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest
from aiohttp import web
from sqlalchemy import func, select

from bot.app.core import Core
from bot.app.runner import read_feeds
from bot.calendar.ical import IcalError
from bot.services.imports import FeedSettingError, FeedSettings
from storage.models import Category, Event, EventText, Organisation, OutboxMessage, Region
from storage.repositories import OrganiserRepository
from tests.fakes import Chatroom, registered
from tests.test_console import TREFFPUNKT

DATA = Path(__file__).parent / "data" / "ical"


async def organisation_id(core: Core, slug: str = "dsm") -> int:
    async with core.db.transaction() as s:
        found = await OrganiserRepository(s).organisation_by_slug(slug)
    assert found is not None
    return found.id


async def imported(core: Core) -> list[Event]:
    async with core.db.transaction() as s:
        return list(await s.scalars(select(Event).where(Event.source == "ical").order_by(Event.id)))


async def test_import_twice_changes_nothing(core: Core) -> None:
    org = await organisation_id(core)
    data = (DATA / "wordpress-events-calendar.ics").read_bytes()
    first = await core.services.imports.import_calendar(data, org)
    assert first.added == 3 and first.updated == 0
    events = await imported(core)
    assert len(events) == 3 and all(e.uid for e in events)
    again = await core.services.imports.import_calendar(data, org)
    assert (again.added, again.updated, again.unchanged) == (0, 0, 3)
    assert [e.id for e in await imported(core)] == [e.id for e in events]


async def test_update_and_cancel_tell_the_people_who_answered(room: Chatroom, core: Core) -> None:
    org = await organisation_id(core)
    await core.services.imports.import_calendar(
        (DATA / "wordpress-events-calendar.ics").read_bytes(), org
    )
    updated_uid = next(
        line.split(":", 1)[1].strip()
        for line in (DATA / "updated.ics").read_text().splitlines()
        if line.startswith("UID:")
    )
    target = next(e for e in await imported(core) if e.uid == updated_uid)
    person = await registered(room, "imp", "uk")
    await person.presses(f"r:{target.id}:g:-")

    result = await core.services.imports.import_calendar((DATA / "updated.ics").read_bytes(), org)
    assert result.updated == 1
    await core.delivery.run_once()
    assert len(person.inbox) == 1

    result = await core.services.imports.import_calendar((DATA / "cancelled.ics").read_bytes(), org)
    assert result.cancelled == 1
    await core.delivery.run_once()
    assert len(person.inbox) == 2
    async with core.db.transaction() as s:
        row = await s.get(Event, target.id)
    assert row is not None and row.status == "cancelled"


async def test_recurring_series_become_events(core: Core) -> None:
    org = await organisation_id(core)
    result = await core.services.imports.import_calendar(
        (DATA / "recurring-open-meeting.ics").read_bytes(), org
    )
    assert result.added == 2  # Dec and the moved Feb meeting; Jan is excluded, Mar cancelled
    uids = [e.uid or "" for e in await imported(core)]
    assert all("#" in uid for uid in uids), "each occurrence has its own stable uid"


@pytest.mark.parametrize(
    "name",
    [
        "broken-no-dtstart.ics",
        "broken-not-ical.ics",
        "broken-end-before-start.ics",
        "hostile-rrule-bomb.ics",
        "broken-unknown-tzid.ics",
        "broken-latin1.ics",
    ],
)
async def test_broken_files_import_nothing(core: Core, name: str) -> None:
    org = await organisation_id(core)
    async with core.db.transaction() as s:
        before = await s.scalar(select(func.count()).select_from(Event))
        queued = await s.scalar(select(func.count()).select_from(OutboxMessage))
    with pytest.raises(IcalError):
        await core.services.imports.import_calendar((DATA / name).read_bytes(), org)
    async with core.db.transaction() as s:
        assert await s.scalar(select(func.count()).select_from(Event)) == before
        assert await s.scalar(select(func.count()).select_from(OutboxMessage)) == queued


def test_command_line_import(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "TREFFPUNKT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}",
        "TREFFPUNKT_ENV_FILE": str(tmp_path / "none.env"),
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [TREFFPUNKT, *args], capture_output=True, text=True, env=env, timeout=120, check=False
        )

    assert run("org", "add", "Werkstatt MO Leipzig").returncode == 0
    first = run(
        "import-ics", str(DATA / "google-calendar.ics"), "--organisation", "werkstatt-mo-leipzig"
    )
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("2 added")
    again = run(
        "import-ics", str(DATA / "google-calendar.ics"), "--organisation", "werkstatt-mo-leipzig"
    )
    assert "0 added, 0 updated, 0 cancelled, 2 unchanged" in again.stdout
    broken = run(
        "import-ics", str(DATA / "broken-no-dtstart.ics"), "--organisation", "werkstatt-mo-leipzig"
    )
    assert (
        broken.returncode == 1
        and "nothing imported" in broken.stderr
        and "DTSTART" in broken.stderr
    )


async def test_feeds_are_read_on_schedule(core: Core) -> None:
    """The scheduled job reads every organisation's feed (here from a loopback server)."""
    served = web.Application()

    async def calendar(_request: web.Request) -> web.Response:
        body = (DATA / "google-calendar.ics").read_bytes()
        return web.Response(body=body, content_type="text/calendar")

    served.router.add_get("/events.ics", calendar)
    runner = web.AppRunner(served)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        org = await organisation_id(core, "iaf-leipzig")
        async with core.db.transaction() as s:
            await OrganiserRepository(s).set_feed(org, f"http://127.0.0.1:{port}/events.ics")
        await read_feeds(core)
        await read_feeds(core)  # the next run finds nothing new
        assert len(await imported(core)) == 2
    finally:
        await runner.cleanup()


async def feed_of(core: Core, slug: str) -> tuple[str | None, str | None, str | None]:
    """The language, category and region set for an organisation's feed."""
    async with core.db.transaction() as s:
        found = await s.execute(
            select(Organisation.feed_language, Category.slug, Region.slug)
            .outerjoin(Category, Category.id == Organisation.feed_category_id)
            .outerjoin(Region, Region.id == Organisation.feed_region_id)
            .where(Organisation.slug == slug)
        )
        language, category, region = found.one()
    return language, category, region


async def test_a_feed_carries_its_language_category_and_region(core: Core) -> None:
    org = await organisation_id(core, "iaf-leipzig")
    await core.services.imports.describe_feed(
        org, FeedSettings(language="uk", category="workshops", region="leipzig")
    )
    await core.services.imports.describe_feed(org, FeedSettings(region="dresden"))
    assert await feed_of(core, "iaf-leipzig") == ("uk", "workshops", "dresden")
    with pytest.raises(FeedSettingError, match="unknown category"):
        await core.services.imports.describe_feed(org, FeedSettings(category="parties"))
    with pytest.raises(FeedSettingError, match="unknown language"):
        await core.services.imports.describe_feed(org, FeedSettings(language="xx"))
    assert await feed_of(core, "iaf-leipzig") == ("uk", "workshops", "dresden")

    await core.services.imports.import_calendar((DATA / "google-calendar.ics").read_bytes(), org)
    async with core.db.transaction() as s:
        rows = await s.execute(
            select(Category.slug, Region.slug, EventText.locale)
            .join(Event, Event.category_id == Category.id)
            .join(Region, Region.id == Event.region_id)
            .join(EventText, EventText.event_id == Event.id)
            .where(Event.source == "ical")
        )
        assert set(rows.all()) == {("workshops", "dresden", "uk")}


async def test_without_feed_settings_an_import_keeps_its_defaults(core: Core) -> None:
    org = await organisation_id(core, "iaf-leipzig")
    await core.services.imports.import_calendar((DATA / "google-calendar.ics").read_bytes(), org)
    async with core.db.transaction() as s:
        rows = await s.execute(
            select(Category.slug, Region.slug, EventText.locale)
            .join(Event, Event.category_id == Category.id)
            .join(Region, Region.id == Event.region_id)
            .join(EventText, EventText.event_id == Event.id)
            .where(Event.source == "ical")
        )
        assert set(rows.all()) == {("networking", "saxony", "de")}


def test_command_line_sets_a_feed_with_its_language_category_and_region(tmp_path: Path) -> None:
    database = tmp_path / "feed.sqlite3"
    env = {
        **os.environ,
        "TREFFPUNKT_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "TREFFPUNKT_ENV_FILE": str(tmp_path / "none.env"),
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [TREFFPUNKT, *args], capture_output=True, text=True, env=env, timeout=120, check=False
        )

    added = run("org", "add", "Werkstatt MO Leipzig", "--feed", "https://example.org/a.ics")
    assert added.returncode == 0, added.stderr
    feed = run(
        "org",
        "feed",
        "werkstatt-mo-leipzig",
        "https://example.org/b.ics",
        "--language",
        "ar",
        "--category",
        "workshops",
        "--region",
        "leipzig",
    )
    assert feed.returncode == 0, feed.stderr
    wrong = run("org", "feed", "werkstatt-mo-leipzig", "https://example.org/c.ics", "--region", "x")
    assert wrong.returncode == 2 and "unknown region 'x'" in wrong.stderr
    refused = run("org", "add", "Nowhere e.V.", "--category", "parties")
    assert refused.returncode == 2 and "unknown category 'parties'" in refused.stderr

    with sqlite3.connect(database) as db:
        rows = db.execute(
            "SELECT o.slug, o.feed_url, o.feed_language, c.slug, r.slug FROM organisations o "
            "LEFT JOIN categories c ON c.id = o.feed_category_id "
            "LEFT JOIN regions r ON r.id = o.feed_region_id"
        ).fetchall()
    assert rows == [
        ("werkstatt-mo-leipzig", "https://example.org/b.ics", "ar", "workshops", "leipzig")
    ], "a refused setting changes nothing and adds no organisation"
