"""How long the core takes to answer an update (the interactive lane), on SQLite."""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app.core import Core
from bot.app.settings import Settings
from bot.core.chat import ChatRef, Incoming, Sender
from bot.demo.events import load_demo

ROUNDS = 300


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(database_url=f"sqlite+aiosqlite:///{folder}/bench.sqlite3")
        core = await Core.create(settings)
        await load_demo(core.db)
        sender, chat = Sender("bench", "p1"), ChatRef("bench", "p1")
        await core.dispatcher.handle(Incoming(sender, chat, button="p:y:de"))
        await core.dispatcher.handle(Incoming(sender, chat, button="t:c:1:1"))
        timings: dict[str, list[float]] = {"/events": [], "answer (RSVP)": [], "/help": []}
        for i in range(ROUNDS):
            for name, incoming in (
                ("/events", Incoming(sender, chat, text="/events all")),
                (
                    "answer (RSVP)",
                    Incoming(sender, chat, button=f"r:{1 + i % 16}:{'gmn'[i % 3]}:-"),
                ),
                ("/help", Incoming(sender, chat, text="/help")),
            ):
                start = time.perf_counter()
                await core.dispatcher.handle(incoming)
                timings[name].append((time.perf_counter() - start) * 1000)
        await core.close()
    for name, values in timings.items():
        values.sort()
        p95 = values[int(len(values) * 0.95)]
        median = statistics.median(values)
        print(f"{name:15} median {median:6.2f} ms   p95 {p95:6.2f} ms   n={len(values)}")


if __name__ == "__main__":
    asyncio.run(main())
