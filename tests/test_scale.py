"""Two bot processes (the real ``treffpunkt run``, webhook mode) on one PostgreSQL database
behind a load balancer, against the fake Bot API in strict mode (Telegram's limits). One is
killed with SIGKILL in the middle of a broadcast, the other in the middle of a reminder run,
and each is started again. Every update is handled once, every message is sent at most once
(a send cut off by a kill is ``unknown``, counted, never repeated), the reminder is fired once,
and the rate limit, kept by both processes together, is never exceeded."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from bot.services.broadcasts import BROADCAST, Audience, BroadcastService
from bot.services.reminders import REMINDER
from storage.db import Database
from storage.models import Category, Identity, OutboxMessage, Reminder, Subscription, User
from tests.telegram_fake import TOKEN, FakeBotAPI, FakeUser, Limits
from tests.test_reminder_restarts import (
    FIRST_CHAT,
    PEOPLE,
    chat_of,
    environment,
    kill,
    reminders_in,
    set_up,
    start,
    text_of,
    until,
)
from tests.test_telegram import free_port

LIMIT = 8  # the fake's overall limit, messages per second
RATE = 5  # TELEGRAM_BULK_RATE: both processes together, leaving room for the answers
VISITORS = 6  # people who ask /help all along (nothing else is sent to them)
FIRST_VISITOR = FIRST_CHAT + 1_000
SECRET = "scale-test-webhook-secret-0123456789"
NEWS = "Neuigkeit: Der Sprachcafé-Abend zieht ins Nachbarschaftshaus um."
WAIT = 120.0


@dataclass
class Bot:
    name: str
    port: int
    log: Path
    env: dict[str, str]
    process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def start(self, run: int) -> None:
        self.log = self.log.with_name(f"{self.name}-{run}.log")
        self.process = await start(self.env, self.log)
        await until(
            lambda: "Treffpunkt is running" in text_of(self.log),
            f"{self.name} running",
            self.process,
            self.log,
        )

    async def kill(self) -> None:
        assert self.process is not None
        await kill(self.process)

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(self.process.wait(), 30)
        assert self.process.returncode == 0, text_of(self.log)


async def subscribe_everyone_and_add_visitors(url: str) -> tuple[int, int]:
    """The people of the reminder's event follow a topic; visitors only ask for help; an
    organiser writes the broadcast (and gets its report). (topic, organiser)"""
    db = Database(url)
    try:
        async with db.transaction() as s:
            category = await s.scalar(select(Category.id).where(Category.slug == "networking"))
            assert category is not None
            for user_id in list(await s.scalars(select(User.id))):
                s.add(Subscription(user_id=user_id, category_id=category))
            now = datetime.now(UTC)
            for i in range(VISITORS + 1):  # the last one is the organiser
                visitor = User(
                    locale="de",
                    timezone="Europe/Berlin",
                    consent_version=1,
                    consent_at=now,
                    quiet_from=None,
                    quiet_until=None,
                )
                s.add(visitor)
                await s.flush()
                s.add(
                    Identity(
                        user_id=visitor.id,
                        platform="telegram",
                        platform_user_id=str(FIRST_VISITOR + i),
                        chat_id=str(FIRST_VISITOR + i),
                        active=True,
                    )
                )
            return category, visitor.id
    finally:
        await db.dispose()


async def rows(db: Database, kind: str) -> dict[int, str]:
    async with db.unit_of_work(write=False) as unit:
        found = await unit.session.execute(
            select(OutboxMessage.user_id, OutboxMessage.status).where(OutboxMessage.kind == kind)
        )
        return {user_id: status for user_id, status in found}


@asynccontextmanager
async def asking_for_help(api: FakeBotAPI) -> AsyncIterator[list[int]]:
    """Visitors send /help, one a second in turn, while the block runs; yields the update
    ids sent so far."""
    sent: list[int] = []
    visitors = [
        FakeUser(FIRST_VISITOR + i, f"Gast {i}", language_code="de") for i in range(VISITORS)
    ]

    async def ask() -> None:
        n = 0
        while True:
            sent.append(await api.user_sends(visitors[n % VISITORS], "/help"))
            n += 1
            await asyncio.sleep(1.0)

    task = asyncio.create_task(ask())
    try:
        yield sent
    finally:
        task.cancel()


async def test_two_processes_share_the_work_and_survive_kills(
    tmp_path: Path, postgres_url: str
) -> None:
    due, chats = await set_up(postgres_url)
    category, organiser = await subscribe_everyone_and_add_visitors(postgres_url)
    api = FakeBotAPI(TOKEN, limits=Limits(per_second=LIMIT))
    await api.start()
    for i in range(PEOPLE):
        api.private_chat(FakeUser(chat_of(i), f"Person {i}"))
    for i in range(VISITORS + 1):
        api.private_chat(FakeUser(FIRST_VISITOR + i, f"Gast {i}"))
    db = Database(postgres_url)
    bots: list[Bot] = []
    for name in ("bot-a", "bot-b"):
        port = free_port()
        env = environment(tmp_path, postgres_url, api.url) | {
            "TELEGRAM_BULK_RATE": str(RATE),
            "TELEGRAM_WEBHOOK_URL": "https://bot.example.org/hook",
            "TELEGRAM_WEBHOOK_PATH": "hook",
            "TELEGRAM_WEBHOOK_PORT": str(port),
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "TREFFPUNKT_INSTANCE": name,
        }
        bots.append(Bot(name, port, tmp_path / f"{name}.log", env))
    a, b = bots

    def arrived(kind: Callable[[str], bool]) -> int:
        return sum(1 for chat in chats.values() for m in api.bot_messages(chat) if kind(m.text))

    def news(text: str) -> bool:
        return NEWS in text

    def reminder_count() -> int:
        return sum(len(reminders_in(api, chat)) for chat in chats.values())

    try:
        await a.start(1)
        await b.start(1)
        api.push_urls, api.push_secret = [a.url, b.url], SECRET  # the load balancer
        async with asking_for_help(api) as helped:
            # 1. A broadcast to everyone, queued by an organiser; bot-a is killed midway.
            broadcasts = BroadcastService(db, lambda: datetime.now(UTC))
            _id, total = await broadcasts.send(
                1, organiser, {"de": NEWS}, Audience(categories=(category,))
            )
            assert total == PEOPLE
            await until(lambda: arrived(news) >= PEOPLE // 4, "a quarter of the broadcast")
            await a.kill()
            assert 0 < arrived(news) < PEOPLE, "killed in the middle of the broadcast"
            await asyncio.sleep(1.0)
            await a.start(2)

            # 2. The reminder falls due; bot-b is killed in the middle of sending it.
            await until(lambda: reminder_count() >= PEOPLE // 4, "a quarter of the reminders")
            await b.kill()
            assert reminder_count() < PEOPLE, "killed in the middle of the reminder run"
            await asyncio.sleep(1.0)
            await b.start(2)

            # 3. Everything ends final; the visitors keep asking a few seconds more.
            for _ in range(int(WAIT * 4)):
                both = [await rows(db, BROADCAST), await rows(db, REMINDER)]
                if all(
                    len(found) == PEOPLE and set(found.values()) <= {"sent", "unknown"}
                    for found in both
                ):
                    break
                await asyncio.sleep(0.25)
            await asyncio.sleep(3.0)
            asked = list(helped)
        await asyncio.sleep(3.0)  # the last questions are answered
        for bot in bots:
            await bot.stop()
        broadcast_rows, reminder_rows = await rows(db, BROADCAST), await rows(db, REMINDER)
        async with db.unit_of_work(write=False) as unit:
            reminder = (
                await unit.session.execute(
                    select(Reminder.status, Reminder.recipients).where(
                        Reminder.due_at == due, Reminder.minutes_before == 120
                    )
                )
            ).one()
    finally:
        for bot in bots:
            if bot.process is not None and bot.process.returncode is None:
                bot.process.kill()
                await bot.process.wait()
        await api.stop()
        await db.dispose()

    logs = "\n".join(text_of(tmp_path / f"{b.name}-{run}.log") for b in bots for run in (1, 2))
    stats = api.stats()
    # The limit, kept by both processes together (each alone at RATE would allow 2 × RATE).
    assert stats["refused"] == 0, f"no 429: {stats}"
    assert stats["max_per_second"] <= LIMIT, stats
    # Every message at most once; every row final; a missing message is a counted unknown.
    for kind, found, marker in (
        (BROADCAST, broadcast_rows, news),
        (REMINDER, reminder_rows, None),
    ):
        assert len(found) == PEOPLE and set(found.values()) <= {"sent", "unknown"}, found
        unknown = list(found.values()).count("unknown")
        assert unknown <= 2, f"{kind}: only what was in flight at a kill is unknown: {found}"
        for user_id, chat in chats.items():
            if marker is not None:
                got = [m for m in api.bot_messages(chat) if marker(m.text)]
            else:
                got = reminders_in(api, chat)
            assert len(got) <= 1, f"{kind} to chat {chat} arrived {len(got)} times"
            if found[user_id] == "sent":
                assert len(got) == 1, f"{kind} to chat {chat}: sent, but nothing arrived"
    assert reminder == ("sent", PEOPLE), "the reminder was fired once, for everyone"
    # Every update once: each /help got at most one answer, and all but those in flight at
    # the two kills got theirs.
    answers = sum(len(api.bot_messages(FIRST_VISITOR + i)) for i in range(VISITORS))
    assert answers <= len(asked), f"{answers} answers to {len(asked)} questions"
    assert answers >= len(asked) - 2, f"{answers} answers to {len(asked)} questions:\n{logs}"
    assert stats["webhook_lost"] == 0
    assert "Traceback" not in logs, logs
