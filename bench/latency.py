"""Case 3 of issue 12: how long a button press waits for its answer while the bot delivers a
10,000-recipient broadcast and a reminder run, beside the same presses with the bot idle.

The bot runs as ``treffpunkt run`` runs it (``serve``: Telegram long polling, the delivery
worker, the scheduler) against the fake Bot API in a process of its own, with no limits there
and the paid tier's pace on the bot's lane (``TELEGRAM_BULK_RATE=1000``): the heaviest load a
real bot sees. 50 people press "Going"/"Maybe" on an event, 20 presses a second; the fake
measures each press from the moment the update leaves it (getUpdates) to the moment the
answer to the press (answerCallbackQuery) arrives — the time the person waits. The load:
the broadcast is queued (as /broadcast does, in the same process) when the loaded phase
begins, and the event's two-hour reminder to 5,000 others falls due during it.

Run from the project root: ``.venv/bin/python -m bench.latency``. Figures only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from pyinstrument import Profiler
from sqlalchemy import func, insert, select

from bench.harness import FIRST_CHAT, TEXTS, TOKEN, FakeTelegram, backend, backends, populate
from bench.harness import progress as say
from bench.table import Figure, render
from bot.app.runner import serve
from bot.app.settings import Settings
from bot.services.broadcasts import BROADCAST, Audience, BroadcastService
from bot.services.reminders import REMINDER
from storage.db import Database
from storage.models import Event, EventText, OutboxMessage, Region, Rsvp
from storage.repositories import OutboxRepository

PEOPLE = int(os.environ.get("BENCH_PEOPLE", "10000"))
ANSWERED = PEOPLE // 2  # people who answered the event: its reminder run
PRESSERS = 50
PER_SECOND = 20
IDLE_SECONDS = 10.0
# The reminder falls due this long after the bot starts: within the loaded phase.
REMINDER_AFTER = 25.0
TARGET_P99_MS = 50.0


class Warnings(logging.Handler):
    """Warnings and errors the bot logs while it runs (a database error would be one)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(f"{record.name}: {record.getMessage()[:200]}")


async def add_event(url: str, organisation: int, category: int, starts: datetime) -> int:
    db = Database(url)
    try:
        async with db.transaction() as s:
            event = await s.execute(
                insert(Event).returning(Event.id),
                [
                    {
                        "organisation_id": organisation,
                        "category_id": category,
                        "region_id": await s.scalar(select(Region.id).order_by(Region.id)),
                        "uid": "bench-latency",
                        "starts_at": starts,
                        "ends_at": starts + timedelta(hours=2),
                        "timezone": "Europe/Berlin",
                        "place": "Werkstatt MO Leipzig",
                        "status": "published",
                        "source": "chat",
                        "created_at": starts - timedelta(days=7),
                        "updated_at": starts - timedelta(days=7),
                    }
                ],
            )
            event_id = int(event.scalar_one())
            await s.execute(
                insert(EventText),
                [
                    {
                        "event_id": event_id,
                        "locale": "de",
                        "title": "Offener Treff",
                        "description": "Alle sind willkommen.",
                        "machine_translated": False,
                    }
                ],
            )
            now = datetime.now(UTC)
            await s.execute(
                insert(Rsvp),
                [
                    {
                        "event_id": event_id,
                        "user_id": i,
                        "status": "going",
                        "waitlist_seq": None,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in range(PEOPLE - ANSWERED + 1, PEOPLE + 1)
                ],
            )
        return event_id
    finally:
        await db.dispose()


async def press(fake: FakeTelegram, event_id: int, seconds: float | None, done: Any) -> int:
    """Presses at PER_SECOND by PRESSERS people, for ``seconds`` or until ``done()``."""
    sent = 0
    start = checked = time.monotonic()
    while True:
        elapsed = time.monotonic() - start
        if seconds is not None and elapsed >= seconds:
            return sent
        # Whether the load is delivered is read once a second: the bench shares the bot's
        # process, and reading the outbox per press would load it more than the bot does.
        if seconds is None and time.monotonic() - checked >= 1.0:
            checked = time.monotonic()
            if await done():
                return sent
        person = FIRST_CHAT + 1 + sent % PRESSERS
        choice = "g" if (sent // PRESSERS) % 2 == 0 else "m"
        await fake.control(
            "user_presses",
            {
                "user_id": person,
                "chat_id": person,
                "message_id": 1,
                "data": f"r:{event_id}:{choice}:-",
            },
        )
        sent += 1
        await asyncio.sleep(max(0.0, start + sent / PER_SECOND - time.monotonic()))


async def answered(fake: FakeTelegram, presses: int, within: float = 30.0) -> list[float]:
    deadline = time.monotonic() + within
    while True:
        latencies = list((await fake.stats())["press_latencies_ms"])
        if len(latencies) >= presses or time.monotonic() > deadline:
            return latencies
        await asyncio.sleep(0.2)


@contextlib.contextmanager
def profiled() -> Iterator[None]:
    """With BENCH_PROFILE set: the block under pyinstrument, its report to stderr."""
    if not os.environ.get("BENCH_PROFILE"):
        yield
        return
    profiler = Profiler(async_mode="disabled")
    profiler.start()
    try:
        yield
    finally:
        profiler.stop()
        print(profiler.output_text(show_all=False), file=sys.stderr)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def on(name: str) -> list[Figure]:
    async with backend(name) as url, FakeTelegram(None) as fake:
        say(f"case 3: {name}: {PEOPLE:,} people, {ANSWERED:,} of them answered the event")
        organisation, category, _chats = await populate(url, PEOPLE)
        launch = datetime.now(UTC)
        event_id = await add_event(
            url, organisation, category, launch + timedelta(hours=2, seconds=REMINDER_AFTER)
        )
        settings = Settings(
            database_url=url,
            telegram_bot_token=TOKEN,
            telegram_base_url=fake.url,
            telegram_bulk_rate=1000,
            _env_file=None,  # type: ignore[call-arg]
        )
        warnings = Warnings()
        logging.getLogger().addHandler(warnings)
        stop, ready = asyncio.Event(), asyncio.Event()
        bot = asyncio.create_task(serve(settings, stop, ready=ready))
        db = Database(url)
        try:
            await asyncio.wait_for(ready.wait(), 60)
            await fake.reset()
            idle_presses = await press(fake, event_id, IDLE_SECONDS, None)
            idle = await answered(fake, idle_presses)
            say(f"  idle: {len(idle)} of {idle_presses} presses answered")
            await fake.reset()
            broadcasts = BroadcastService(db, lambda: datetime.now(UTC))
            loaded_at = time.monotonic()

            shown = [time.monotonic()]

            async def delivered() -> bool:
                """The broadcast and the reminder run are delivered (read without SQLite's
                write lock: the bench must not hold up the bot it measures)."""
                async with db.reading() as s:
                    news = await OutboxRepository(s).tally(BROADCAST, str(broadcast))
                    found = await s.execute(
                        select(OutboxMessage.status, func.count())
                        .where(OutboxMessage.kind == REMINDER)
                        .group_by(OutboxMessage.status)
                    )
                    reminders = {status: count for status, count in found}
                if time.monotonic() - shown[0] > 5:
                    shown[0] = time.monotonic()
                    say(f"    broadcast {news}, reminders {reminders}")
                final = {"sent", "failed", "unknown"}
                return (
                    sum(news.values()) == PEOPLE
                    and sum(reminders.values()) >= ANSWERED
                    and {k.split(":")[0] for k in [*news, *reminders]} <= final
                )

            with profiled():
                queued_at = time.monotonic()
                broadcast, total = await broadcasts.send(
                    organisation, 1, dict(TEXTS), Audience(categories=(category,))
                )
                pressing = asyncio.create_task(press(fake, event_id, None, delivered))
                say(f"  queued {total:,} in {time.monotonic() - queued_at:.2f} s, while pressing")
                loaded_presses = await asyncio.wait_for(pressing, 900)
                loaded = await answered(fake, loaded_presses)
            stats = await fake.stats()
            say(
                f"  loaded: {len(loaded)} of {loaded_presses} presses answered over "
                f"{time.monotonic() - loaded_at:.0f} s, {stats['sends']:,} messages sent"
            )
        finally:
            stop.set()
            await asyncio.wait_for(bot, 60)
            logging.getLogger().removeHandler(warnings)
            await db.dispose()
    return figures_of(name, idle, loaded, idle_presses + loaded_presses, warnings.records)


def figures_of(
    name: str, idle: list[float], loaded: list[float], presses: int, warned: list[str]
) -> list[Figure]:
    for phase, values in (("idle", idle), ("loaded", loaded)):
        p50, p99 = percentile(values, 0.5), percentile(values, 0.99)
        say(f"  {phase}: p50 {p50:.1f} ms, p99 {p99:.1f} ms, {len(values)} samples")
    p50_idle, p99_idle = percentile(idle, 0.5), percentile(idle, 0.99)
    p50, p99 = percentile(loaded, 0.5), percentile(loaded, 0.99)
    complete = len(loaded) + len(idle) == presses
    note = (
        f"{len(loaded)} presses, {len(warned)} warnings logged"
        + (f" (first: {warned[0]})" if warned else "")
        + ("" if complete else "; some presses were not answered")
    )
    return [
        Figure("3 press latency", name, "p50 ms", p50, p50_idle, "idle", "", True, ""),
        Figure(
            "3 press latency",
            name,
            "p99 ms",
            p99,
            p99_idle,
            "idle",
            f"≤ {TARGET_P99_MS:.0f}, no database error",
            p99 <= TARGET_P99_MS and not warned and complete,
            note,
        ),
    ]


async def measure() -> list[Figure]:
    figures: list[Figure] = []
    for name in backends():
        figures += await on(name)
    return figures


def main() -> None:
    print(render(asyncio.run(measure())))


if __name__ == "__main__":
    main()
