"""Telegram delivery through the bot's real path (outbox → delivery worker → bulk client →
HTTP) to the fake Bot API in a process of its own, beside python-telegram-bot used the plain
way in the same run. Cases of issue 12:

1. fan-out with limits off: messages/s and the bot process's CPU per message for 10,000
   recipients, beside a naive ``for chat in chats: await bot.send_message(…)`` loop;
2. compliant broadcast: the fake refuses what Telegram would (30/s overall, 1/s per chat,
   20/min per group) for at least two minutes; the achieved share of the limit and the 429s,
   beside python-telegram-bot's AIORateLimiter; and the same at the paid tier's 1,000/s;
4. memory: resident memory of the bot while it queues and delivers a broadcast to 100,000
   subscribers, over the idle bot.

Run from the project root: ``.venv/bin/python -m bench.fanout [--quick]`` (``--quick``: a
twentieth of the sizes and durations, to try the set-up). Figures only: nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import sys
import time
from dataclasses import dataclass

from pyinstrument import Profiler
from telegram import Bot as PtbBot
from telegram.constants import ParseMode
from telegram.error import RetryAfter
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest

from bench.harness import (
    TEXTS,
    TOKEN,
    FakeTelegram,
    PeakMemory,
    backend,
    backends,
    bot,
    populate,
    progress,
    rss_mb,
)
from bench.table import Figure, render


@dataclass
class Size:
    fanout: int = 10_000
    naive: int = 10_000
    compliant_seconds: float = 120.0
    memory: int = 100_000

    def quick(self) -> Size:
        return Size(self.fanout // 20, self.naive // 20, self.compliant_seconds / 20, 5_000)


@dataclass
class Run:
    sent: int  # sends the fake accepted
    seconds: float
    cpu: float
    refused: int = 0
    max_per_second: int = 0
    rows_sent: int = 0  # the broadcast's outbox rows marked sent

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms(self) -> float:
        return self.cpu / self.sent * 1000 if self.sent else 0.0


async def project_run(
    name: str, people: int, rate: float | None, limit: float | None, profile: bool = False
) -> Run:
    """Queue a broadcast to ``people`` and deliver it all; the fake enforces ``limit``.
    ``profile``: the delivery runs under pyinstrument, whose report goes to stderr."""
    async with backend(name) as url, FakeTelegram(limit) as fake:
        organisation, category, _chats = await populate(url, people)
        the_bot = await bot(url, fake, organisation, category, rate)
        try:
            queued = await the_bot.queue_broadcast()
            assert queued == people, queued
            await fake.reset()
            gc.collect()
            profiler = Profiler(async_mode="enabled", interval=0.0005) if profile else None
            if profiler is not None:
                profiler.start()
            cpu, start = time.process_time(), time.perf_counter()
            while await the_bot.deliver():  # rows paused by a 429 come back in a later round
                pass
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
            if profiler is not None:
                profiler.stop()
                print(profiler.output_text(show_all=False), file=sys.stderr)
            stats = await fake.stats()
            rows_sent = await the_bot.sent()
        finally:
            await the_bot.close()
    # The achieved rate: between the first and the last send that arrived.
    spread = (stats["last_send_at"] or 0) - (stats["first_send_at"] or 0)
    return Run(
        stats["sends"],
        spread if limit else seconds,
        cpu,
        stats["refused"],
        stats["max_per_second"],
        rows_sent,
    )


async def naive_loop(chats: list[int]) -> Run:
    """python-telegram-bot as a plain script uses it: one awaited send_message after another."""
    async with FakeTelegram(None) as fake:
        async with PtbBot(TOKEN, base_url=f"{fake.url}/bot") as ptb:
            await fake.reset()
            cpu, start = time.process_time(), time.perf_counter()
            for chat in chats:
                await ptb.send_message(chat, TEXTS["de"], parse_mode=ParseMode.HTML)
            seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        stats = await fake.stats()
    return Run(stats["sends"], seconds, cpu)


async def rate_limiter_run(chats: list[int], limit: float) -> Run:
    """python-telegram-bot's AIORateLimiter at the same limit, with as many sends started at
    once as its connection pool holds; a 429 is not retried (counted). Stopped after 1.2 times
    the time the sends need at the limit: its rate is what arrived until then."""
    # Each refused send is logged with its traceback: counted here instead.
    logging.getLogger("telegram.ext.AIORateLimiter").setLevel(logging.CRITICAL)
    async with FakeTelegram(limit) as fake:
        limiter = AIORateLimiter(overall_max_rate=limit, overall_time_period=1, max_retries=0)
        # The pool an Application builds for its bot (256 connections).
        request = HTTPXRequest(connection_pool_size=256, pool_timeout=None)
        async with ExtBot(
            TOKEN, base_url=f"{fake.url}/bot", rate_limiter=limiter, request=request
        ) as ptb:
            await fake.reset()
            cpu = time.process_time()

            # As many at once as the pool has connections (more only queue in httpx's pool).
            slots = asyncio.Semaphore(256)

            async def one(chat: int) -> None:
                async with slots:
                    with contextlib.suppress(RetryAfter):
                        await ptb.send_message(chat, TEXTS["de"], parse_mode=ParseMode.HTML)

            # At most as long as the project's run lasts: past that only its rate is known.
            sending = asyncio.gather(*(one(chat) for chat in chats))
            budget = len(chats) / limit * 1.2 + 5
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(sending, budget)
            cpu = time.process_time() - cpu
        stats = await fake.stats()
    spread = (stats["last_send_at"] or 0) - (stats["first_send_at"] or 0)
    return Run(stats["sends"], spread, cpu, stats["refused"], stats["max_per_second"])


async def fanout(size: Size) -> list[Figure]:
    progress(f"case 1: naive python-telegram-bot loop, {size.naive:,} sends")
    chats = [100_000_001 + i for i in range(size.naive)]
    naive = await naive_loop(chats)
    progress(f"  naive: {naive.rate:,.0f}/s, {naive.cpu_ms:.2f} ms CPU per message")
    figures = []
    for name in backends():
        progress(f"case 1: fan-out, limits off, {size.fanout:,} recipients, {name}")
        run = await project_run(name, size.fanout, None, None)
        progress(f"  project: {run.rate:,.0f}/s, {run.cpu_ms:.2f} ms CPU per message")
        note = f"{run.rows_sent:,} of {size.fanout:,} rows sent"
        figures += [
            Figure(
                "1 fan-out, limits off",
                name,
                "messages/s",
                run.rate,
                naive.rate,
                "naive PTB loop",
                "≥ 1,000 and ≥ 3×",
                run.rate >= 1000 and run.rate >= 3 * naive.rate and run.rows_sent == size.fanout,
                note,
            ),
            Figure(
                "1 fan-out, limits off",
                name,
                "ms CPU/message",
                run.cpu_ms,
                naive.cpu_ms,
                "naive PTB loop",
                "≤ 0.5",
                run.cpu_ms <= 0.5,
            ),
        ]
    return figures


async def compliant(size: Size) -> list[Figure]:
    figures = []
    for limit, rate, label in ((30.0, 29.5, "free 30/s"), (1000.0, 975.0, "paid 1,000/s")):
        people = int(rate * size.compliant_seconds) + 1
        progress(f"case 2: compliant broadcast, {label}, AIORateLimiter, {people:,} sends")
        chats = [100_000_001 + i for i in range(people)]
        theirs = await rate_limiter_run(chats, limit)
        progress(
            f"  AIORateLimiter: {theirs.rate:,.1f}/s ({theirs.rate / limit:.1%}), "
            f"{theirs.refused} × 429"
        )
        for name in backends():
            progress(f"case 2: compliant broadcast, {label}, {people:,} recipients, {name}")
            run = await project_run(name, people, rate, limit)
            progress(
                f"  project: {run.rate:,.1f}/s ({run.rate / limit:.1%}), {run.refused} × 429, "
                f"at most {run.max_per_second} in a second"
            )
            share, their_share = run.rate / limit * 100, theirs.rate / limit * 100
            figures.append(
                Figure(
                    f"2 compliant, {label}",
                    name,
                    "% of the limit",
                    share,
                    their_share,
                    "AIORateLimiter",
                    "≥ 97 %, no 429",
                    share >= 97 and run.refused == 0 and run.rows_sent == people,
                    f"{run.refused} × 429 (AIORateLimiter {theirs.refused}); {run.seconds:.0f} s",
                )
            )
    return figures


async def memory_child(name: str, people: int) -> dict[str, float]:
    """In a fresh process: resident memory of the idle bot, and its peak while it queues and
    delivers a broadcast to ``people``."""
    async with backend(name) as url, FakeTelegram(None) as fake:
        organisation, category, _chats = await populate(url, people)
        the_bot = await bot(url, fake, organisation, category, None)
        try:
            # Idle: the bot built, its first (empty) round done.
            await the_bot.deliver()
            gc.collect()
            idle = rss_mb()
            with PeakMemory() as peak:
                await the_bot.queue_broadcast()
                while await the_bot.deliver():
                    pass
            sent = await the_bot.sent()
        finally:
            await the_bot.close()
    return {"idle": idle, "peak": peak.peak, "sent": sent}


async def memory(size: Size) -> list[Figure]:
    """Each backend in a process of its own: memory freed by earlier cases would hide growth."""
    figures = []
    for name in backends():
        progress(f"case 4: memory, {size.memory:,} subscribers and recipients, {name}")
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.fanout",
            "--memory-child",
            name,
            str(size.memory),
            stdout=asyncio.subprocess.PIPE,
        )
        out, _err = await child.communicate()
        found = json.loads(out.decode().strip().splitlines()[-1])
        idle, extra, sent = found["idle"], found["peak"] - found["idle"], int(found["sent"])
        progress(f"  idle {idle:.1f} MB, peak {found['peak']:.1f} MB: +{extra:.1f} MB")
        figures.append(
            Figure(
                "4 memory, 100,000 queued",
                name,
                "MB over idle",
                extra,
                idle,
                "idle bot",
                "≤ 30",
                extra <= 30 and sent == size.memory,
                f"{sent:,} of {size.memory:,} rows sent",
            )
        )
    return figures


async def measure(quick: bool = False, cases: str = "124") -> list[Figure]:
    size = Size().quick() if quick else Size()
    figures: list[Figure] = []
    if "1" in cases:
        figures += await fanout(size)
    if "2" in cases:
        figures += await compliant(size)
    if "4" in cases:
        figures += await memory(size)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, to try the set-up")
    parser.add_argument("--cases", default="124", help="which cases: any of 1, 2, 4")
    parser.add_argument(
        "--profile",
        choices=["SQLite", "PostgreSQL"],
        help="only profile case 1's delivery on this backend (pyinstrument, to stderr)",
    )
    parser.add_argument("--memory-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        name, people = args.memory_child
        print(json.dumps(asyncio.run(memory_child(name, int(people)))))
        return
    if args.profile:
        size = Size().quick() if args.quick else Size()
        run = asyncio.run(project_run(args.profile, size.fanout, None, None, profile=True))
        print(f"{run.sent:,} sent: {run.rate:,.0f}/s, {run.cpu_ms:.2f} ms CPU per message")
        return
    print(render(asyncio.run(measure(args.quick, args.cases))))


if __name__ == "__main__":
    main()
