"""A broadcast is queued set-based: a few statements for any number of recipients, each
person's quiet hours kept (in their own time zone), nobody twice."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Select, select, update

from bot.app.core import Core
from bot.services.broadcasts import BROADCAST
from bot.services.notify import queue_selected
from storage.models import OutboxMessage, Subscription, User
from storage.records import Audience
from storage.repositories import BroadcastRepository, CatalogRepository, NoticeRepository
from tests.fakes import FakeClock
from tests.test_repositories import person, statements

PEOPLE = 240


async def test_a_broadcast_to_many_is_a_few_statements_and_keeps_quiet_hours(
    core: Core, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 11, 23, 22, 30, tzinfo=UTC)  # 23:30 in Berlin
    async with core.db.transaction() as s:
        catalog = CatalogRepository(s)
        families = await catalog.category_id("families")
        youth = await catalog.category_id("youth")
        organisation = await catalog.organisation("q", "Q e. V.")
        assert families is not None and youth is not None
        ids = [await person(s, f"q{i}", "de") for i in range(PEOPLE)]
        # Everyone follows families; a third follow youth too (still one message each).
        for n, user_id in enumerate(ids):
            s.add(Subscription(user_id=user_id, category_id=families))
            if n % 3 == 0:
                s.add(Subscription(user_id=user_id, category_id=youth))
        # A third have no quiet hours; a third live in New York (17:30 there, not quiet).
        night_owls, new_yorkers = ids[1::3], ids[2::3]
        await s.execute(
            update(User).where(User.id.in_(night_owls)).values(quiet_from=None, quiet_until=None)
        )
        await s.execute(
            update(User).where(User.id.in_(new_yorkers)).values(timezone="America/New_York")
        )
    audience = Audience(categories=(families, youth))
    with statements(core.db) as seen:
        broadcast_id, total = await core.services.broadcasts.send(
            organisation, ids[0], {"de": "Hallo"}, audience
        )
    assert total == PEOPLE
    inserts = [sql for sql in seen if sql.lstrip().upper().startswith("INSERT INTO OUTBOX")]
    assert len(inserts) == 2, "one INSERT … SELECT per moment of sending: now, and 08:00"
    assert len(seen) <= 8, seen
    async with core.db.transaction() as s:
        rows = (
            await s.execute(
                select(OutboxMessage.user_id, OutboxMessage.next_attempt_at).where(
                    OutboxMessage.kind == BROADCAST, OutboxMessage.ref == str(broadcast_id)
                )
            )
        ).all()
    assert Counter(user for user, _at in rows) == Counter(ids), "each person once"
    held = {user for user, at in rows if at is not None}
    assert held == set(ids[0::3]), "only those in their quiet hours wait"
    assert {at for _user, at in rows if at is not None} == {
        datetime(2026, 11, 24, 7, 0, tzinfo=UTC)  # 08:00 in Berlin
    }
    # Sending it again for the same broadcast adds nothing.
    async with core.db.transaction() as s:
        again = await queue_selected(
            s,
            BROADCAST,
            str(broadcast_id),
            BroadcastRepository.audience(audience),
            {"broadcast_id": broadcast_id},
            now=clock(),
        )
    assert again == 0


async def test_a_complete_queueing_misses_nobody_whose_quiet_hours_changed_meanwhile(
    core: Core, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a person can change their quiet hours between the read of the settings
    and the inserts; with ``complete`` (a reminder run) they are still queued, at once."""
    clock.now = datetime(2026, 11, 23, 22, 30, tzinfo=UTC)  # 23:30 in Berlin: quiet
    async with core.db.transaction() as s:
        ids = [await person(s, f"r{i}", "de") for i in range(6)]
    everyone = select(User.id).where(User.id.in_(ids))
    read = NoticeRepository.quiet_settings

    async def stale(self: NoticeRepository, people: Select[int]) -> list[Any]:
        # What the read saw before the change: a setting nobody has any more.
        return [("Europe/Berlin", 21, 7)] if await read(self, people) else []

    monkeypatch.setattr(NoticeRepository, "quiet_settings", stale)
    async with core.db.transaction() as s:
        missed = await queue_selected(s, "test", "1", everyone, {}, now=clock())
    assert missed == 0, "without complete, those whose setting changed are missed"
    async with core.db.transaction() as s:
        added = await queue_selected(s, "test", "2", everyone, {}, now=clock(), complete=True)
        rows = (
            await s.execute(
                select(OutboxMessage.user_id, OutboxMessage.next_attempt_at).where(
                    OutboxMessage.kind == "test", OutboxMessage.ref == "2"
                )
            )
        ).all()
    assert added == len(ids)
    assert sorted(user for user, _at in rows) == sorted(ids)
    assert {at for _user, at in rows} == {None}, "at once: the quiet hours read were not theirs"
