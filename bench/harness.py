"""What the delivery benchmarks share: the fake Bot API in a process of its own, the two
database backends, people in bulk, and the bot's real delivery path pointed at the fake."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import insert, select, text

from bench.reminders import fresh_postgres
from bot.app.core import Core
from bot.app.runner import settle_heap
from bot.app.settings import Settings
from bot.delivery.lanes import Lane
from bot.services.broadcasts import BROADCAST, Audience
from bot.transports.telegram import TelegramTransport
from storage.db import Database, migrate
from storage.models import Category, Identity, Organisation, Subscription, User
from storage.repositories import OutboxRepository

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "7000001:bench-token-not-a-secret"  # noqa: S105 - the fake's, not a secret
PG_ENV = "TREFFPUNKT_TEST_DATABASE_URL"
CHUNK = 10_000
FIRST_CHAT = 100_000_000  # private chats: positive ids
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
TEXTS = {
    "de": "<b>Offener Treff</b> — Mittwoch, 17:00, Werkstatt MO Leipzig. Alle sind willkommen.",
    "uk": "<b>Відкрита зустріч</b> — середа, 17:00, Werkstatt MO Leipzig. Ласкаво просимо всіх.",
    "ar": "<b>لقاء مفتوح</b> — الأربعاء، 17:00، Werkstatt MO Leipzig. الجميع مرحب بهم.",
    "fa": "<b>دیدار باز</b> — چهارشنبه، ۱۷:۰۰، Werkstatt MO Leipzig. همه خوش آمدید.",
}
LOCALES = tuple(TEXTS)


class FakeTelegram:
    """``python -m tests.telegram_fake`` in a process of its own, and its control API."""

    def __init__(self, per_second: float | None = None) -> None:
        self.per_second = per_second
        self.url = ""
        self._process: asyncio.subprocess.Process | None = None
        self._http: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> FakeTelegram:
        limits = ["--per-second", str(self.per_second)] if self.per_second else ["--no-limits"]
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.telegram_fake",
            "--token",
            TOKEN,
            "--quiet-store",
            "--open-chats",
            *limits,
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
        )
        assert self._process.stdout is not None
        line = (await asyncio.wait_for(self._process.stdout.readline(), 30)).decode().strip()
        if not line.startswith("READY "):
            raise RuntimeError(f"the fake Bot API did not start: {line!r}")
        self.url = line.removeprefix("READY ")
        self._http = aiohttp.ClientSession()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        if self._http is not None:
            await self._http.close()
        if self._process is not None and self._process.returncode is None:
            self._process.terminate()
            await asyncio.wait_for(self._process.wait(), 10)

    async def control(self, method: str, body: Any = None) -> Any:
        assert self._http is not None
        verb = "GET" if method in {"stats", "messages"} else "POST"
        async with self._http.request(
            verb, f"{self.url}/control/{method}", data=json.dumps(body)
        ) as response:
            response.raise_for_status()
            return await response.json()

    async def stats(self) -> dict[str, Any]:
        return dict(await self.control("stats"))

    async def reset(self) -> None:
        await self.control("reset")

    async def limits(self, per_second: float | None) -> None:
        await self.control("limits", {"per_second": per_second} if per_second else None)

    def cpu_seconds(self) -> float:
        """The fake's CPU time so far (user + system), from /proc."""
        assert self._process is not None
        fields = Path(f"/proc/{self._process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks


@contextlib.asynccontextmanager
async def backend(name: str) -> AsyncIterator[str]:
    """A new, empty database: ``SQLite`` in a temporary folder, or ``PostgreSQL``."""
    if name == "SQLite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite+aiosqlite:///{folder}/bench.sqlite3"
        return
    admin = os.environ[PG_ENV]
    async with fresh_postgres(admin) as url:
        yield url


def backends() -> list[str]:
    """SQLite always; PostgreSQL when TREFFPUNKT_TEST_DATABASE_URL names a server."""
    return ["SQLite", "PostgreSQL"] if os.environ.get(PG_ENV) else ["SQLite"]


async def populate(url: str, people: int) -> tuple[int, int, list[int]]:
    """``people`` who follow one topic, each with a Telegram account in a private chat, in
    four languages, without quiet hours: (organisation, topic, chat ids)."""
    await migrate(url)
    db = Database(url)
    try:
        async with db.transaction() as s:
            organisation = Organisation(slug="bench", name="Bench e. V.")
            s.add(organisation)
            await s.flush()
            category = await s.scalar(select(Category.id).order_by(Category.id))
            assert category is not None
            for first in range(1, people + 1, CHUNK):
                ids = range(first, min(first + CHUNK, people + 1))
                await s.execute(
                    insert(User),
                    [
                        {
                            "id": i,
                            "locale": LOCALES[i % len(LOCALES)],
                            "timezone": "Europe/Berlin",
                            "consent_version": 1,
                            "consent_at": NOW,
                            "created_at": NOW,
                            "quiet_from": None,
                            "quiet_until": None,
                        }
                        for i in ids
                    ],
                )
                await s.execute(
                    insert(Identity),
                    [
                        {
                            "user_id": i,
                            "platform": "telegram",
                            "platform_user_id": str(FIRST_CHAT + i),
                            "chat_id": str(FIRST_CHAT + i),
                            "active": True,
                            "created_at": NOW,
                        }
                        for i in ids
                    ],
                )
                await s.execute(
                    insert(Subscription),
                    [{"user_id": i, "category_id": category, "created_at": NOW} for i in ids],
                )
            org_id = organisation.id
        if db.url.startswith("postgresql"):
            async with db.engine.connect() as conn:
                await conn.execute(text("SELECT setval('users_id_seq', :n)"), {"n": people})
                await conn.execute(text("ANALYZE"))
                await conn.commit()
    finally:
        await db.dispose()
    return org_id, category, [FIRST_CHAT + i for i in range(1, people + 1)]


@dataclass
class Bot:
    """The bot's delivery path: its core, and its Telegram transport pointed at the fake."""

    core: Core
    telegram: TelegramTransport
    organisation: int
    category: int
    broadcast: int = 0

    async def queue_broadcast(self) -> int:
        self.broadcast, total = await self.core.services.broadcasts.send(
            self.organisation, 1, dict(TEXTS), Audience(categories=(self.category,))
        )
        return total

    async def sent(self) -> int:
        """The broadcast's outbox rows that were sent (the organiser's report not counted)."""
        async with self.core.db.transaction() as s:
            tally = await OutboxRepository(s).tally(BROADCAST, str(self.broadcast))
        return tally.get("sent", 0)

    async def deliver(self) -> int:
        return await self.core.delivery.run_once()

    async def close(self) -> None:
        gc.unfreeze()
        await self.telegram.bulk.close()
        await self.core.close()


async def bot(
    url: str, fake: FakeTelegram, organisation: int, category: int, rate: float | None
) -> Bot:
    """The core and Telegram transport as ``treffpunkt run`` builds them (nothing polls:
    only the delivery worker runs); ``rate`` None: no limit on the lane."""
    settings = Settings(
        database_url=url,
        telegram_bot_token=TOKEN,
        telegram_base_url=fake.url,
        telegram_bulk_rate=rate or 1000,
        _env_file=None,  # type: ignore[call-arg]
    )
    core = await Core.create(settings, run_migrations=False)
    telegram = TelegramTransport(core, settings, on_conflict=lambda _conflict: None)
    if rate is None:
        telegram.lane = Lane(0, 1.0, 3.0)
    settle_heap()  # as serve does once started
    return Bot(core, telegram, organisation, category)


def rss_mb() -> float:
    """This process's resident memory now (MB)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


class PeakMemory:
    """The highest resident memory seen while it runs (sampled every 20 ms)."""

    def __init__(self) -> None:
        self.peak = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, rss_mb())
            await asyncio.sleep(0.02)

    def __enter__(self) -> PeakMemory:
        self.peak = rss_mb()
        self._task = asyncio.get_running_loop().create_task(self._sample())
        return self

    def __exit__(self, *_exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        self.peak = max(self.peak, rss_mb())


def progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
