"""People first: while an update is being answered, the delivery worker renders and records
nothing new (its steps wait), so a press is not queued behind a reminder run to thousands;
and a stream of updates slows delivery but never stops it."""

from __future__ import annotations

import asyncio
import gc
import itertools
import time
from collections import Counter

import pytest
from markupsafe import Markup

from bot.app.core import Core
from bot.core.chat import ChatRef, Incoming, Reply, Sender
from bot.core.context import NoticeContext
from bot.core.priority import Priority
from bot.delivery.lanes import Lane
from bot.delivery.worker import DeliveryWorker
from storage.records import UserRecord
from tests.test_delivery_workers import KIND, Counting, queued, states

ROWS = 20


def rendering_worker(core: Core, priority: Priority, rendered: list[int]) -> DeliveryWorker:
    async def render(ctx: NoticeContext) -> Reply:
        rendered.append(ctx.user.id)
        return Reply(Markup("Hallo"))

    delivery = DeliveryWorker(
        core.services, core.i18n, core.settings, {KIND: render}, priority=priority
    )
    delivery.add_sender(Counting(Counter()))
    return delivery


async def test_bulk_work_waits_while_an_update_is_answered(core: Core) -> None:
    await queued(core, ROWS)
    priority = Priority(patience=30.0)
    rendered: list[int] = []
    delivery = rendering_worker(core, priority, rendered)
    with priority.interactive():
        running = asyncio.create_task(delivery.run_once())
        await asyncio.sleep(0.3)
        assert rendered == [], "nothing rendered while the update is in flight"
        assert not running.done()
    # The update is answered: the worker goes on at once, and everything goes out.
    assert await asyncio.wait_for(running, 10) == ROWS
    assert len(rendered) == ROWS
    assert await states(core) == {"sent": ROWS}


async def test_a_stream_of_updates_slows_delivery_but_never_stops_it(core: Core) -> None:
    await queued(core, ROWS)
    priority = Priority(patience=0.01)
    rendered: list[int] = []
    delivery = rendering_worker(core, priority, rendered)
    with priority.interactive():  # never quiet while the worker runs
        assert await asyncio.wait_for(delivery.run_once(), 30) == ROWS
    assert await states(core) == {"sent": ROWS}
    assert priority.waited >= ROWS, "each row waited for a quiet moment first"


async def test_the_dispatcher_marks_each_update_as_interactive(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The core's dispatcher, worker and scheduler share one Priority, and an update being
    answered holds it."""
    priority = core.dispatcher.priority
    assert core.delivery.priority is priority
    seen: list[bool] = []
    original = core.services.users.find

    async def find(platform: str, user_id: str, chat_id: str | None) -> UserRecord | None:
        seen.append(priority.busy)
        return await original(platform, user_id, chat_id)

    monkeypatch.setattr(core.services.users, "find", find)
    await core.dispatcher.handle(
        Incoming(Sender("console", "someone", "en"), ChatRef("console", "someone", True), "/help")
    )
    assert seen == [True]
    assert not priority.busy


async def test_rendering_a_batch_lets_updates_in_along_the_way(core: Core) -> None:
    """Rows rendered without any I/O (a batch from one read) still let the event loop look
    for updates between them: otherwise a press arriving meanwhile is not even read."""
    rows = 100  # 0.3 s of rendering in all
    await queued(core, rows)

    async def render(ctx: NoticeContext) -> Reply:
        until = time.perf_counter() + 0.003  # a few milliseconds of work, nothing awaited
        while time.perf_counter() < until:
            pass
        return Reply(Markup("Hallo"))

    delivery = DeliveryWorker(core.services, core.i18n, core.settings, {KIND: render})
    delivery.add_sender(Counting(Counter()))
    ticks: list[float] = []

    async def ticking() -> None:
        while True:
            ticks.append(time.perf_counter())
            await asyncio.sleep(0)

    ticker = asyncio.create_task(ticking())
    gc.disable()  # a full collection of the test process's heap would be a pause of its own
    try:
        assert await asyncio.wait_for(delivery.run_once(), 30) == rows
    finally:
        gc.enable()
        ticker.cancel()
    longest = max(b - a for a, b in itertools.pairwise(ticks))
    assert longest < 0.1, f"the event loop stood still for {longest * 1000:.0f} ms"


async def test_booked_sends_wait_while_an_update_is_answered(core: Core) -> None:
    """Sends already booked do not take the event loop from a person waiting for an answer:
    each waits until the update is answered (at most the patience), then goes."""
    rows = 40
    await queued(core, rows)
    priority = Priority(patience=30.0)
    arrived: Counter[str] = Counter()
    messenger = Counting(arrived)
    messenger.lane = Lane(per_second=20, per_chat_seconds=0, per_group_seconds=0)
    delivery = DeliveryWorker(
        core.services, core.i18n, core.settings, {KIND: render_hallo}, priority=priority
    )
    delivery.add_sender(messenger)
    running = asyncio.create_task(delivery.run_once())
    for _ in range(1000):  # until it is sending (a send every 50 ms)
        if sum(arrived.values()) >= 3:
            break
        await asyncio.sleep(0.01)
    with priority.interactive():
        await asyncio.sleep(0.05)  # a send already on its way when the update came arrives
        before = sum(arrived.values())
        await asyncio.sleep(0.5)
        assert sum(arrived.values()) == before, "nothing sent while the update is answered"
    assert await asyncio.wait_for(running, 30) == rows
    assert sum(arrived.values()) == rows and set(arrived.values()) == {1}
    assert await states(core) == {"sent": rows}


async def render_hallo(ctx: NoticeContext) -> Reply:
    return Reply(Markup("Hallo"))
