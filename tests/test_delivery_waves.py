"""Delivery in waves: the next wave is prepared and starts while the platform still answers
the one before; a claim holds whole waves; and sends that a stall of the process made late
never go together with the ones booked after them beyond the lane's rate in any second."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest
from markupsafe import Markup

from bot.app.core import Core
from bot.core.chat import Reply
from bot.core.context import NoticeContext
from bot.delivery.lanes import Lane
from bot.delivery.worker import DeliveryWorker
from tests.test_delivery_workers import KIND, queued, states


async def render(ctx: NoticeContext) -> Reply:
    return Reply(Markup("Hallo"))


class Recording:
    """A messenger at ``per_second`` that notes when each send began; ``hold`` keeps the
    answers to the first ``held`` sends back until it is set."""

    platform = "fake"

    def __init__(self, per_second: float, held: int = 0) -> None:
        self.lane = Lane(per_second=per_second, per_chat_seconds=0, per_group_seconds=0)
        self.began: list[float] = []
        self.order: list[str] = []
        self.arrived: Counter[str] = Counter()
        self.held = held
        self.hold = asyncio.Event()
        self.stall_after: int | None = None

    def is_group(self, chat_id: str) -> bool:
        return False

    async def send(self, chat_id: str, reply: Reply) -> None:
        self.began.append(time.monotonic())
        self.order.append(chat_id)
        if len(self.began) == self.stall_after:
            time.sleep(0.4)  # noqa: ASYNC251 - the whole process stalls (a long synchronous step)
        if len(self.began) <= self.held:
            await self.hold.wait()
        self.arrived[chat_id] += 1


def worker(core: Core, sender: Recording) -> DeliveryWorker:
    delivery = DeliveryWorker(core.services, core.i18n, core.settings, {KIND: render})
    delivery.add_sender(sender)
    return delivery


async def test_the_next_wave_goes_while_the_platform_still_answers_the_one_before(
    core: Core,
) -> None:
    sender = Recording(per_second=100)
    wave = sender.lane.wave
    sender.held = wave  # the platform is slow to answer the whole first wave
    await queued(core, 3 * wave)
    delivery = worker(core, sender)
    running = asyncio.create_task(delivery.run_once())
    try:
        for _ in range(200):
            if len(sender.began) >= 2 * wave:
                break
            await asyncio.sleep(0.02)
        assert len(sender.began) == 2 * wave, "the second wave began; the first is unanswered"
    finally:
        sender.hold.set()
    assert await asyncio.wait_for(running, 20) == 3 * wave
    assert set(sender.arrived.values()) == {1} and len(sender.arrived) == 3 * wave
    assert await states(core) == {"sent": 3 * wave}


@pytest.mark.parametrize("per_second", [1, 25, 30, 100, 975, 1000])
async def test_a_claim_holds_whole_waves(core: Core, per_second: float) -> None:
    """A claim that ended in a short wave would leave the lane idle while the next claim is
    read and rendered (at 975 a second, 195 rows a wave and 200 a claim lost 9 ms of every
    205)."""
    delivery = worker(core, Recording(per_second))
    wave = delivery.senders["fake"].lane.wave
    assert delivery.batch % wave == 0 or delivery.batch < wave


async def test_sends_made_late_by_a_stall_never_exceed_the_rate_in_any_second(
    core: Core,
) -> None:
    rate = 20
    sender = Recording(per_second=rate)
    sender.stall_after = 5  # the process stands still for 0.4 s after the fifth send
    people = 2 * rate
    await queued(core, people)
    assert await asyncio.wait_for(worker(core, sender).run_once(), 30) == people
    began = sender.began
    assert len(began) == people
    most = max(sum(1 for at in began[i:] if at < start + 0.99) for i, start in enumerate(began))
    assert most <= rate, f"{most} sends within one second at {rate} a second"
    assert sender.order == [f"p{i}" for i in range(people)], "late sends keep their order"


@pytest.mark.parametrize(("per_second", "most"), [(29.5, 30), (30, 30), (975, 975), (0.5, 1)])
def test_a_lane_lets_through_its_rate_in_a_second_and_no_more(per_second: float, most: int) -> None:
    """At 29.5 a second, some seconds hold 30 sends (the platform's limit) and others 29: a
    cap of 29 would hold the lane to 96.7 % of a limit of 30."""
    now = [100.0]
    lane = Lane(per_second, per_chat_seconds=0, per_group_seconds=0, clock=lambda: now[0])
    for i in range(most):
        assert lane.turn_in() == 0, f"send {i + 1} of {most} may go"
        lane.sent(f"chat-{i}")
        now[0] += 0.001
    assert lane.turn_in() > 0, "one more would exceed the rate within a second"
    now[0] += lane.turn_in()
    assert lane.turn_in() == 0, "a second after the first, the next may go"
