"""``treffpunkt status``: the queue per kind, held rows apart, the oldest row due, the last
hour's outcomes, who runs the scheduled work and when each kind of due work comes next."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
from sqlalchemy import update

from bot.app.core import Core
from bot.app.status import StatusServer, status
from storage.db import Leadership, is_sqlite
from storage.models import OutboxMessage
from storage.repositories import OutboxRepository
from tests.fakes import FakeClock
from tests.test_repositories import person
from tests.test_telegram import free_port


async def test_status_shows_the_queue_the_oldest_row_and_the_last_hour(
    core: Core, clock: FakeClock
) -> None:
    now = clock()
    async with core.db.transaction() as s:
        people = [await person(s, f"s{i}", "de") for i in range(9)]
        outbox = OutboxRepository(s)
        await outbox.add_many("broadcast", "7", people[:3], {})
        await outbox.add_many(
            "broadcast", "7", people[3:5], {}, not_before=now + timedelta(hours=9)
        )
        await outbox.add_many("reminder", "1:1440", people[5:9], {})
        await s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.kind == "reminder", OutboxMessage.user_id.in_(people[5:8]))
            .values(status="sent", updated_at=now - timedelta(minutes=20))
        )
        await s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.kind == "reminder", OutboxMessage.user_id == people[8])
            .values(status="failed", updated_at=now - timedelta(hours=2))
        )
        await s.execute(
            update(OutboxMessage)
            .where(OutboxMessage.kind == "broadcast", OutboxMessage.user_id == people[0])
            .values(next_attempt_at=now - timedelta(minutes=45))
        )
    leader = Leadership(core.db, "bot-7")
    try:
        assert await leader.hold()
        found = await status(core.services)
    finally:
        await leader.release()
    assert found.queue == {"broadcast": {"due": 3, "held": 2}}
    assert found.oldest_due == now - timedelta(minutes=45)
    assert found.last_hour == {"sent": 3}, "the failure two hours ago is not counted"
    assert found.leader == (
        "the bot process (SQLite: one process)" if is_sqlite(core.db.url) else "process bot-7"
    )
    assert set(found.next_due) == {"reminders", "offers", "digests", "codes", "interpreting"}
    text = "\n".join(found.lines())
    assert "Oldest row due and not sent: due since 45 min" in text
    assert "Last hour: sent 3" in text


async def test_the_status_endpoint_answers_with_the_same_report(core: Core) -> None:
    async with core.db.transaction() as s:
        people = [await person(s, f"h{i}", "de") for i in range(2)]
        await OutboxRepository(s).add_many("broadcast", "9", people, {})
    port = free_port()
    server = StatusServer(core.services, "127.0.0.1", port)
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/status") as response:
                assert response.status == 200
                report = await response.json()
            async with http.get(f"http://127.0.0.1:{port}/health") as response:
                assert response.status == 200
                assert await response.text() == "ok\n"
    finally:
        await server.stop()
    assert report["queue"] == {"broadcast": {"due": 2}}
    assert isinstance(report["oldest_due_seconds"], int), "a row is due: its age is given"
    assert set(report) == {
        "now",
        "queue",
        "oldest_due",
        "oldest_due_seconds",
        "last_hour",
        "scheduler",
        "next_due",
    }
    assert "h0" not in str(report) and "h1" not in str(report), "nothing personal"
