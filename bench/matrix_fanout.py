"""Matrix fan-out to 500 direct chats on a local Synapse (issue case 6): one broadcast queued
to 500 people, each in a direct room with the bot, sent by the project's delivery worker
through its Matrix transport (``core.delivery.run_once()``), against a plain HTTP sender in
the same run (an ``httpx.AsyncClient`` PUTting the very message the bot sent, as the bot, into
the same 500 rooms). Target: the project at least 0.8× the plain sender's messages/s, with
every outbox row ``sent``. Figures only: nothing is asserted.

The project is configured as an operator configures a bot that Synapse exempts from its rate
limits: the bench exempts it (admin API ``override_ratelimit``) and sets
``MATRIX_BULK_RATE=0`` (``Settings.matrix_bulk_rate``), so the transport's lane does not pace
bulk sends. The rooms are unencrypted direct chats: a plain HTTP sender cannot encrypt, so that
is the fair comparison (in an encrypted room the transport encrypts each message first).

Timed for the project: ``run_once()``, from the first claim to the last row recorded, with the
bot logged in, its first sync done and its sync loop paused (it would otherwise process the
echoes of its own messages meanwhile). Timed for the plain sender: the 500 PUTs, as many at
once as the project has reach Synapse (the sends its worker has in flight, at most the
connections of nio's aiohttp session), each over a kept connection. Project and plain sender
alternate, ROUNDS times each; the figures are the medians. Wall time; the process's CPU per
message is printed to stderr (Synapse's CPU is counted for neither).

In the note, one round each, not counted: the project with its sync loop running, as in
production; and, on the first backend only, the shipped default ``MATRIX_BULK_RATE=10`` (a
second transport built from those settings, 50 s for 500 messages). Afterwards the bench reads
every room back from Synapse and checks it holds each round's 500 messages. ``--profile`` adds
one more round under cProfile (not counted) and prints its top entries to stderr.

Run from the project root: ``.venv/bin/python -m bench.matrix_fanout [--profile]``. SQLite
always; PostgreSQL too when TREFFPUNKT_TEST_DATABASE_URL names a server (a fresh database is
created there and dropped afterwards). Synapse runs in a temporary folder and is stopped at
the end, always.
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.engine import make_url

from bench.reminders import fresh_postgres
from bench.table import Figure, render
from bot.app.core import Core
from bot.app.settings import Settings
from bot.services.broadcasts import REPORT, Audience
from bot.transports.matrix import SYNC_TIMEOUT_MS, MatrixTransport
from storage.models import Category, Identity, Organisation, OutboxMessage, Subscription, User
from tests.synapse import DEFAULT_PASSWORD, Synapse

PEOPLE = 500
SETUP_CONCURRENCY = 6  # registrations, rooms and checks at once: polite to a 2-core machine
TARGET_RATIO = 0.8
CASE = "6 Matrix fan-out, 500 DMs"
PG_ENV = "TREFFPUNKT_TEST_DATABASE_URL"
API = "/_matrix/client/v3"
NOW = datetime.now(UTC).replace(microsecond=0)
TEXT = "Offenes Treffen am Samstag um 15 Uhr im Stadtteilzentrum, alle sind willkommen. [{tag}]"
ROUNDS = 3  # project and plain sender, alternating: medians
EXEMPT_RATE = 0.0  # MATRIX_BULK_RATE for a bot the homeserver exempts: unpaced
DEFAULT_RATE = 10.0  # MATRIX_BULK_RATE's default
PROFILE_LINES = 30


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Homeserver:
    """Synapse with the bot, 500 people and one direct room each (room i is person i's)."""

    synapse: Synapse
    client: httpx.AsyncClient  # the set-up's and the checks' client (not timed)
    bot_id: str
    bot_token: str
    people: list[str]
    rooms: list[str]


@dataclass(frozen=True)
class Broadcaster:
    """Who sends the broadcasts in the bot's database, and to which topic's followers."""

    organisation: int
    category: int
    author: int


@dataclass
class Round:
    """One timed fan-out: messages sent, wall and CPU seconds, most sends in flight at once
    (None: not counted)."""

    sent: int
    wall: float
    cpu: float
    peak: int | None = None

    @property
    def rate(self) -> float:
        return self.sent / self.wall if self.wall else 0.0

    def said(self, label: str) -> Round:
        flight = f", {self.peak} in flight at most" if self.peak is not None else ""
        say(
            f"  {label}: {self.sent} sent in {self.wall:.2f} s = {self.rate:.1f}/s, "
            f"CPU {self.cpu / max(self.sent, 1) * 1000:.2f} ms/message{flight}"
        )
        return self


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def gather_politely(jobs: list[Callable[[], Awaitable[Any]]]) -> list[Any]:
    """Run the jobs, at most SETUP_CONCURRENCY at once, results in order."""
    gate = asyncio.Semaphore(SETUP_CONCURRENCY)

    async def one(job: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await job()

    return list(await asyncio.gather(*(one(job) for job in jobs)))


async def call(
    client: httpx.AsyncClient, method: str, path: str, token: str, body: Any = None
) -> Any:
    response = await client.request(method, path, json=body, headers=auth(token))
    if response.status_code != 200:
        raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")
    return response.json()


async def set_up_homeserver(synapse: Synapse) -> Homeserver:
    """An admin, the bot (exempted from rate limits), 500 people, and a direct room each:
    the person creates it inviting the bot, the bot joins (as when someone opens a DM)."""
    start = time.perf_counter()

    def register(name: str, admin: bool = False) -> Callable[[], Awaitable[tuple[str, str]]]:
        return lambda: asyncio.to_thread(synapse.register, name, DEFAULT_PASSWORD, admin)

    accounts = await gather_politely(
        [register("bench-admin", True), register("treffpunkt-bot")]
        + [register(f"person-{i:03d}") for i in range(PEOPLE)]
    )
    (_admin_id, admin_token), (bot_id, bot_token), *people = accounts
    say(f"  registered the bot and {PEOPLE} people in {time.perf_counter() - start:.1f} s")
    client = httpx.AsyncClient(base_url=synapse.url, timeout=120)
    await call(
        client,
        "POST",
        f"/_synapse/admin/v1/users/{quote(bot_id)}/override_ratelimit",
        admin_token,
        {"messages_per_second": 0, "burst_count": 0},
    )

    def open_dm(person_token: str) -> Callable[[], Awaitable[str]]:
        async def run() -> str:
            created = await call(
                client,
                "POST",
                f"{API}/createRoom",
                person_token,
                {"is_direct": True, "invite": [bot_id], "preset": "trusted_private_chat"},
            )
            room_id = str(created["room_id"])
            await call(client, "POST", f"{API}/rooms/{quote(room_id)}/join", bot_token, {})
            return room_id

        return run

    start = time.perf_counter()
    rooms = await gather_politely([open_dm(token) for _user, token in people])
    say(f"  opened {PEOPLE} direct rooms (unencrypted) in {time.perf_counter() - start:.1f} s")
    return Homeserver(synapse, client, bot_id, bot_token, [u for u, _t in people], rooms)


async def populate(core: Core, hs: Homeserver) -> Broadcaster:
    """500 people in the bot's database, each with a Matrix account whose chat is their
    direct room, following one topic, no quiet hours; and an author with no chat (whose
    report is not sent). Bulk inserts."""
    author = PEOPLE + 1
    async with core.db.transaction() as s:
        organisation = Organisation(slug="bench", name="Bench e. V.")
        s.add(organisation)
        await s.flush()
        category = await s.scalar(select(Category.id).order_by(Category.id))
        assert category is not None
        await s.execute(
            insert(User),
            [
                {
                    "id": i,
                    "locale": "de",
                    "timezone": "Europe/Berlin",
                    "consent_version": 1,
                    "consent_at": NOW,
                    "created_at": NOW,
                    "quiet_from": None,
                    "quiet_until": None,
                }
                for i in range(1, author + 1)
            ],
        )
        await s.execute(
            insert(Identity),
            [
                {
                    "user_id": i + 1,
                    "platform": "matrix",
                    "platform_user_id": person,
                    "chat_id": room,
                    "active": True,
                    "created_at": NOW,
                }
                for i, (person, room) in enumerate(zip(hs.people, hs.rooms, strict=True))
            ],
        )
        await s.execute(
            insert(Subscription),
            [
                {"user_id": i, "category_id": category, "created_at": NOW}
                for i in range(1, PEOPLE + 1)
            ],
        )
        organisation_id = organisation.id
    if make_url(core.settings.database_url).get_backend_name() == "postgresql":
        async with core.db.engine.connect() as conn:
            await conn.execute(text("ANALYZE"))
            await conn.commit()
    return Broadcaster(organisation_id, category, author)


class InFlight:
    """Counts the bot's sends in flight at once (wraps the nio client's ``room_send`` on the
    instance): the plain sender then sends as many at once."""

    def __init__(self, transport: MatrixTransport) -> None:
        self.now = self.peak = 0
        original = transport.client.room_send

        async def room_send(*args: Any, **kwargs: Any) -> Any:
            self.now += 1
            self.peak = max(self.peak, self.now)
            try:
                return await original(*args, **kwargs)
            finally:
                self.now -= 1

        transport.client.room_send = room_send  # type: ignore[method-assign]


async def outcomes(core: Core, ref: str) -> dict[str, int]:
    async with core.db.transaction() as s:
        rows = await s.execute(
            select(OutboxMessage.status, func.count())
            .where(OutboxMessage.ref == ref, OutboxMessage.kind != REPORT)
            .group_by(OutboxMessage.status)
        )
        return {status: int(count) for status, count in rows}


async def project_round(
    core: Core, by: Broadcaster, tag: str, counter: InFlight | None = None
) -> Round:
    """Queue one broadcast (not timed), then time ``run_once()``; ``sent``: its rows ``sent``."""
    async with core.db.transaction() as s:  # the previous broadcast's report: not ours
        await s.execute(delete(OutboxMessage).where(OutboxMessage.kind == REPORT))
    broadcast, total = await core.services.broadcasts.send(
        by.organisation,
        by.author,
        {"de": TEXT.format(tag=tag)},
        Audience(categories=(by.category,)),
    )
    assert total == PEOPLE, total
    if counter is not None:
        counter.peak = 0
    wall, cpu = time.perf_counter(), time.process_time()
    await core.delivery.run_once()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    tally = await outcomes(core, str(broadcast))
    if tally != {"sent": PEOPLE}:
        say(f"  WARNING: outbox after the round: {tally}")
    return Round(tally.get("sent", 0), wall, cpu, counter.peak if counter else None)


async def content_sent(hs: Homeserver, tag: str) -> dict[str, Any]:
    """The content of the bot's message with ``tag`` in the first room, as Synapse has it."""
    page = await call(
        hs.client,
        "GET",
        f"{API}/rooms/{quote(hs.rooms[0])}/messages?dir=b&limit=20",
        hs.bot_token,
    )
    for event in page["chunk"]:
        content = event.get("content", {})
        if event.get("sender") == hs.bot_id and f"[{tag}]" in content.get("body", ""):
            return dict(content)
    raise RuntimeError(f"no message [{tag}] from the bot in {hs.rooms[0]}")


async def plain_round(hs: Homeserver, content: dict[str, Any], concurrency: int) -> Round:
    """The same message PUT as the bot into the 500 rooms, ``concurrency`` at a time, each
    request over a kept connection of one pool."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=hs.synapse.url, timeout=60, headers=auth(hs.bot_token), limits=limits
    ) as client:
        (await client.get(f"{API}/account/whoami")).raise_for_status()  # connection warm
        queue = list(reversed(hs.rooms))
        sent = 0

        async def worker() -> None:
            nonlocal sent
            while queue:
                room = queue.pop()
                path = f"{API}/rooms/{quote(room)}/send/m.room.message/plain-{uuid.uuid4().hex}"
                (await client.put(path, json=content)).raise_for_status()
                sent += 1

        wall, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return Round(sent, wall, cpu, concurrency)


async def count_on_synapse(hs: Homeserver, tags: list[str]) -> dict[str, int]:
    """Messages from the bot per tag, over the 500 rooms (each read back from Synapse)."""

    def read(room: str) -> Callable[[], Awaitable[list[str]]]:
        async def run() -> list[str]:
            page = await call(
                hs.client,
                "GET",
                f"{API}/rooms/{quote(room)}/messages?dir=b&limit=100",
                hs.bot_token,
            )
            return [
                str(e.get("content", {}).get("body", ""))
                for e in page["chunk"]
                if e.get("sender") == hs.bot_id and e.get("type") == "m.room.message"
            ]

        return run

    bodies = [b for room in await gather_politely([read(r) for r in hs.rooms]) for b in room]
    return {tag: sum(f"[{tag}]" in body for body in bodies) for tag in tags}


async def stop_syncing(name: str) -> None:
    """Cancel the sync loop (the task of that name): the timed part then only sends."""
    for task in asyncio.all_tasks():
        if task.get_name() == name:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@contextlib.asynccontextmanager
async def started(core: Core, settings: Settings, hs: Homeserver) -> AsyncIterator[MatrixTransport]:
    """The transport as the app starts it (log-in, keys, first sync; the store's saved log-in
    when there is one), then its sync loop paused; stopped afterwards."""
    transport = MatrixTransport(core, settings)  # the worker's Matrix sender from now on
    try:
        start = time.perf_counter()
        await transport.start()
        known = sum(room in transport.client.rooms for room in hs.rooms)
        say(
            f"  bot started, first sync done ({known} rooms) in {time.perf_counter() - start:.1f} s"
        )
        await stop_syncing("matrix-sync")
        yield transport
    finally:
        await transport.stop()


async def profiled(run: Callable[[], Awaitable[Round]]) -> None:
    """One more round under cProfile, not counted; its top entries to stderr."""
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        r = await run()
    finally:
        profiler.disable()
    r.said("project, profiled (not counted)")
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(PROFILE_LINES)
    stats.sort_stats("tottime").print_stats(PROFILE_LINES)
    say(out.getvalue())


async def run_on(hs: Homeserver, url: str, folder: Path, *, first: bool, profile: bool) -> Figure:
    """Project and plain sender alternating, ROUNDS times each; then one round with the sync
    loop running; on the ``first`` backend one with the default rate; the Synapse check."""
    backend = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[make_url(url).get_backend_name()]
    say(f"{backend}:")

    def settings(bulk_rate: float) -> Settings:
        return Settings(
            database_url=url,
            demo_data="no",
            matrix_homeserver=hs.synapse.url,
            matrix_user_id=hs.bot_id,
            matrix_password=DEFAULT_PASSWORD,  # a new device (and store) for each backend
            matrix_store_dir=folder / f"store-{backend.lower()}",
            matrix_bulk_rate=bulk_rate,
            quiet_hours=None,
        )

    core = await Core.create(settings(EXEMPT_RATE))
    try:
        by = await populate(core, hs)
        tags: list[str] = []

        def tagged(label: str) -> str:
            tags.append(f"{backend}-{label}")
            return tags[-1]

        async def plain_like(sent_tag: str, concurrency: int, n: int) -> Round:
            """The very message the bot sent (``sent_tag``), under a tag of its own."""
            plain_tag = tagged(f"plain-{n}")
            content = await content_sent(hs, sent_tag)
            body = {
                k: v.replace(f"[{sent_tag}]", f"[{plain_tag}]") if isinstance(v, str) else v
                for k, v in content.items()
            }
            return await plain_round(hs, body, concurrency)

        project: list[Round] = []
        plain: list[Round] = []
        default: Round | None = None
        async with started(core, core.settings, hs) as transport:
            counter = InFlight(transport)
            # nio's aiohttp session opens at most this many connections (0: no limit): sends
            # beyond them wait on the bot's side, and Synapse sees this many at once.
            connections = int(transport.client.client_session.connector.limit) or PEOPLE
            concurrency = 1
            for n in range(ROUNDS):
                tag = tagged(f"project-{n}")
                project.append(
                    (await project_round(core, by, tag, counter)).said(f"project, round {n + 1}")
                )
                concurrency = min(max(concurrency, project[-1].peak or 1), connections)
                plain.append(
                    (await plain_like(tag, concurrency, n)).said(
                        f"plain HTTP, {concurrency} at once, round {n + 1}"
                    )
                )
            sync_task = asyncio.create_task(
                transport.client.sync_forever(timeout=SYNC_TIMEOUT_MS), name="bench-sync"
            )
            try:
                syncing = (await project_round(core, by, tagged("syncing"), counter)).said(
                    "project, sync loop running (not counted)"
                )
            finally:
                await stop_syncing(sync_task.get_name())
            if profile:
                await profiled(lambda: project_round(core, by, tagged("profiled")))
        if first:  # a second transport, built from the shipped default's settings
            async with started(core, settings(DEFAULT_RATE), hs):
                default = (await project_round(core, by, tagged("default-rate"))).said(
                    f"project, default MATRIX_BULK_RATE={DEFAULT_RATE:g} (not counted)"
                )
        on_synapse = await count_on_synapse(hs, tags)
    finally:
        await core.close()
    missing = {tag: n for tag, n in on_synapse.items() if n != PEOPLE}
    say(f"  on Synapse: {len(tags)} rounds, {f'NOT all: {missing}' if missing else 'all'}")
    complete = all(r.sent == PEOPLE for r in project) and not missing
    ours = statistics.median(r.rate for r in project)
    theirs = statistics.median(r.rate for r in plain)
    peak = max(r.peak or 0 for r in project)
    note = (
        f"MATRIX_BULK_RATE=0 (bot exempt). Plain {concurrency} at once (the worker had {peak} "
        f"sends in flight over nio's {connections} connections). Sync loop running: "
        f"{syncing.rate:.0f}/s. "
        + (f"Default MATRIX_BULK_RATE=10: {default.rate:.1f}/s. " if default else "")
        + f"Medians of {ROUNDS}; unencrypted DMs; "
        + ("all rows sent, every message on Synapse" if complete else "NOT all sent/on Synapse")
    )
    return Figure(
        case=CASE,
        backend=backend,
        measure="messages/s",
        project=ours,
        comparison=theirs,
        compared_with="plain HTTP",
        target=f"≥ {TARGET_RATIO}×",
        met=complete and theirs > 0 and ours / theirs >= TARGET_RATIO,
        note=note,
    )


async def on_postgres(hs: Homeserver, admin: str, folder: Path, *, profile: bool) -> Figure:
    async with fresh_postgres(admin) as url:
        return await run_on(hs, url, folder, first=False, profile=profile)


async def measure(*, profile: bool = False) -> list[Figure]:
    figures: list[Figure] = []
    started_at = time.perf_counter()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        synapse = Synapse()
        try:
            say("Synapse: starting")
            await asyncio.to_thread(synapse.start, folder / "synapse", relaxed_rate_limits=True)
            say(f"  up in {synapse.startup_seconds or 0:.1f} s at {synapse.url}")
            hs = await set_up_homeserver(synapse)
            try:
                sqlite = f"sqlite+aiosqlite:///{folder}/bench.sqlite3"
                figures.append(await run_on(hs, sqlite, folder, first=True, profile=profile))
                admin = os.environ.get(PG_ENV)
                if admin:
                    figures.append(await on_postgres(hs, admin, folder, profile=profile))
                else:
                    say(f"PostgreSQL skipped: set {PG_ENV} to run there too")
            finally:
                await hs.client.aclose()
        finally:
            synapse.stop()
    say(f"whole bench: {time.perf_counter() - started_at:.0f} s")
    return figures


def main() -> None:
    figures = asyncio.run(measure(profile="--profile" in sys.argv[1:]))
    print(render(figures))


if __name__ == "__main__":
    main()
