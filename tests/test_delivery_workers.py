"""Several delivery workers on one database (processes on PostgreSQL, named by
TREFFPUNKT_INSTANCE): every row goes out once, a dead process's rows are taken over when its
claim runs out, and a process restarted under its name settles its own rows at once."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from markupsafe import Markup
from sqlalchemy import select, update

from bot.app.core import Core
from bot.core.chat import Reply
from bot.core.context import NoticeContext
from bot.delivery.lanes import Lane
from bot.delivery.worker import LEASE, DeliveryWorker
from storage.db import is_sqlite
from storage.models import OutboxMessage
from storage.repositories import OutboxRepository, UserRepository
from tests.fakes import FakeClock

KIND = "test_notice"
PEOPLE = 300


class Counting:
    """A messenger that counts what arrives in each chat, and takes a moment per send.

    Paced (100 a second, each worker its own lane; shared through the database on
    PostgreSQL): a worker then claims two seconds' worth, 200 rows, and sends them for a
    while, so the other one claims the rest meanwhile. Unpaced, one worker could send all
    300 before the other's first claim."""

    platform = "fake"

    def __init__(self, arrived: Counter[str]) -> None:
        self.arrived = arrived
        self.lane = Lane(per_second=100, per_chat_seconds=0, per_group_seconds=0)

    def is_group(self, chat_id: str) -> bool:
        return False

    async def send(self, chat_id: str, reply: Reply) -> None:
        await asyncio.sleep(0.001)
        self.arrived[chat_id] += 1


async def render(ctx: NoticeContext) -> Reply:
    return Reply(Markup("Hallo"))


def worker(core: Core, name: str, arrived: Counter[str]) -> DeliveryWorker:
    settings = core.settings.model_copy(update={"instance": name})
    delivery = DeliveryWorker(core.services, core.i18n, settings, {KIND: render})
    delivery.add_sender(Counting(arrived))
    return delivery


async def queued(core: Core, n: int) -> list[int]:
    async with core.db.transaction() as s:
        users = UserRepository(s)
        ids = [
            (
                await users.create(
                    platform="fake",
                    platform_user_id=f"p{i}",
                    chat_id=f"p{i}",
                    locale="de",
                    timezone="Europe/Berlin",
                    consent_version=1,
                    consent_at=datetime.now(UTC),
                )
            ).id
            for i in range(n)
        ]
        await OutboxRepository(s).add_many(KIND, "1", ids, {})
    return ids


async def states(core: Core) -> Counter[str]:
    async with core.db.transaction() as s:
        return Counter(
            await s.scalars(select(OutboxMessage.status).where(OutboxMessage.kind == KIND))
        )


async def test_two_workers_on_one_outbox_send_every_row_once(core: Core) -> None:
    await queued(core, PEOPLE)
    arrived: Counter[str] = Counter()
    first, second = worker(core, "bot-1", arrived), worker(core, "bot-2", arrived)
    handled = await asyncio.gather(first.run_once(), second.run_once())
    assert sum(arrived.values()) == PEOPLE, "nothing lost"
    assert set(arrived.values()) == {1}, "nothing sent twice"
    assert sum(handled) == PEOPLE and all(handled), "both took a share"
    assert await states(core) == {"sent": PEOPLE}


async def test_a_dead_process_rows_are_taken_over_when_its_claim_runs_out(
    core: Core, clock: FakeClock
) -> None:
    if is_sqlite(core.db.url):
        pytest.skip("several processes share PostgreSQL; on SQLite one process settles all")
    await queued(core, 20)
    arrived: Counter[str] = Counter()
    # Process "bot-1" claims everything, hands five rows to its messenger, and dies.
    async with core.db.transaction() as s:
        outbox = OutboxRepository(s)
        rows = await outbox.claim(100, clock(), owner="bot-1", lease=LEASE)
        for row in rows[:5]:
            assert await outbox.start_sending(row.id, owner="bot-1")
    survivor = worker(core, "bot-2", arrived)
    assert await survivor.recover() == 0, "another process's claim still holds"
    assert await survivor.run_once() == 0
    assert not arrived

    clock.advance(seconds=LEASE.total_seconds() + 1)
    assert await survivor.recover() == 5, "in flight when it died: unknown, never re-sent"
    assert await survivor.run_once() == 15
    assert sum(arrived.values()) == 15 and set(arrived.values()) == {1}
    assert await states(core) == {"sent": 15, "unknown": 5}


async def test_a_process_restarted_under_its_name_settles_its_own_rows_at_once(
    core: Core, clock: FakeClock
) -> None:
    await queued(core, 10)
    arrived: Counter[str] = Counter()
    async with core.db.transaction() as s:
        outbox = OutboxRepository(s)
        rows = await outbox.claim(100, clock(), owner="bot-1", lease=LEASE)
        assert await outbox.start_sending(rows[0].id, owner="bot-1")
        # Another process's claim: on PostgreSQL the restart leaves it alone (on SQLite
        # there is only one process: everything it finds is its own).
        await s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == rows[-1].id)
            .values(claimed_by="bot-2", claimed_until=clock() + timedelta(minutes=5))
        )
    restarted = worker(core, "bot-1", arrived)
    assert await restarted.recover() == 1
    if is_sqlite(core.db.url):
        assert await restarted.run_once() == 9
        assert await states(core) == {"sent": 9, "unknown": 1}
        return
    assert await restarted.run_once() == 8
    assert await states(core) == {"sent": 8, "unknown": 1, "pending": 1}
    # A row another process claimed is not sent here.
    async with core.db.transaction() as s:
        outbox = OutboxRepository(s)
        assert not await outbox.start_sending(rows[-1].id, owner="bot-1", now=clock())


async def test_a_running_worker_looking_for_dead_processes_leaves_live_sends_alone(
    core: Core, clock: FakeClock
) -> None:
    if is_sqlite(core.db.url):
        pytest.skip("several processes share PostgreSQL; on SQLite one process settles all")
    await queued(core, 2)
    arrived: Counter[str] = Counter()
    async with core.db.transaction() as s:
        outbox = OutboxRepository(s)
        mine, theirs = await outbox.claim(2, clock(), owner="bot-1", lease=LEASE)
        assert await outbox.start_sending(mine.id, owner="bot-1", now=clock(), lease=LEASE)
        await s.execute(
            update(OutboxMessage).where(OutboxMessage.id == theirs.id).values(claimed_by="bot-2")
        )
        assert await outbox.start_sending(theirs.id, owner="bot-2", now=clock(), lease=LEASE)
    running = worker(core, "bot-1", arrived)
    assert await running.recover(starting=False) == 0, "its own send and bot-2's are live"
    assert await states(core) == {"sending": 2}
    clock.advance(seconds=LEASE.total_seconds() + 1)
    assert await running.recover(starting=False) == 2, "no answer within the lease: unknown"
