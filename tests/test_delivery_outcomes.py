"""The delivery worker records each outcome with its side effects in one commit, and holds no
transaction open while a transport sends."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import pytest
from markupsafe import Markup
from sqlalchemy import select

from bot.app.core import Core
from bot.core.chat import Reply
from bot.core.errors import ChatMoved, RecipientGone
from bot.services.broadcasts import Audience
from storage.models import OutboxMessage
from storage.records import IdentityRecord
from storage.repositories import OutboxRepository, UserRepository
from tests.fakes import Chatroom, registered


class Moving(Chatroom):
    """A transport whose chat ``old`` became ``new``; ``then`` is what the new chat does."""

    def __init__(self, core: Core, then: Exception | None = None) -> None:
        super().__init__(core)
        self.then = then
        self.open_transactions: list[int] = []
        self._open = 0
        transaction = core.db.transaction

        @asynccontextmanager
        async def counted() -> AsyncIterator[Any]:
            self._open += 1
            try:
                async with transaction() as s:
                    yield s
            finally:
                self._open -= 1

        core.db.transaction = counted  # type: ignore[method-assign]

    async def send(self, chat_id: str, reply: Reply) -> None:
        self.open_transactions.append(self._open)
        if chat_id == "reader":
            raise ChatMoved("reader-supergroup")
        if self.then is not None:
            raise self.then
        await super().send(chat_id, reply)


async def broadcast_to_reader(core: Core, room: Chatroom) -> int:
    reader = await registered(room, "reader", "de")
    author = await registered(room, "author", "de")
    await reader.taps("Networking and open meetings")
    me = await core.services.users.find("fake", "author")
    assert me is not None and author.inbox == []
    _id, total = await core.services.broadcasts.send(
        1, me.id, {"de": "Hallo"}, Audience(categories=(1,))
    )
    assert total == 1
    found = await core.services.users.find("fake", "reader")
    assert found is not None
    return found.id


async def account(core: Core, user_id: int) -> IdentityRecord:
    async with core.db.transaction() as s:
        return (await UserRepository(s).identities(user_id))[0]


async def statuses(core: Core) -> dict[str, int]:
    async with core.db.transaction() as s:
        return await OutboxRepository(s).by_status()


async def test_a_moved_chat_is_recorded_with_the_sent_row(core: Core) -> None:
    room = Moving(core)
    reader = await broadcast_to_reader(core, room)
    await core.delivery.run_once()
    assert room.open_transactions and set(room.open_transactions) == {0}
    assert len(room.sent["reader-supergroup"]) == 1
    moved = await account(core, reader)
    assert moved.chat_id == "reader-supergroup" and moved.active
    assert (await statuses(core)).get("sent") == 1


async def test_a_lost_account_is_recorded_with_the_failed_row(core: Core) -> None:
    room = Moving(core, then=RecipientGone("bot was blocked by the user"))
    reader = await broadcast_to_reader(core, room)
    await core.delivery.run_once()
    gone = await account(core, reader)
    assert gone.chat_id == "reader-supergroup" and not gone.active
    assert (await statuses(core)).get("failed") == 1
    assert set(room.open_transactions) == {0}


async def test_an_outcome_that_cannot_commit_leaves_no_side_effect(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = Moving(core, then=RecipientGone("bot was blocked by the user"))
    reader = await broadcast_to_reader(core, room)
    mark: Callable[..., Any] = OutboxRepository.mark_many

    async def broken(self: OutboxRepository, *args: Any, **kwargs: Any) -> None:
        await mark(self, *args, **kwargs)
        raise ConnectionError("the database went away before the commit")

    monkeypatch.setattr(OutboxRepository, "mark_many", broken)
    with pytest.raises(ConnectionError):
        await core.delivery.run_once()
    unchanged = await account(core, reader)
    assert unchanged.chat_id == "reader" and unchanged.active, "nothing of the outcome stayed"
    assert await statuses(core) == {"sending": 1}, "in flight: unknown at the next start"


async def test_a_notice_that_cannot_be_rendered_does_not_hold_up_the_others(
    core: Core,
) -> None:
    room = Chatroom(core)
    people = [await registered(room, f"p{i}", "de") for i in range(3)]
    ids = []
    for p in people:
        found = await core.services.users.find("fake", p.user_id)
        assert found is not None
        ids.append(found.id)

    async def broken(_ctx: Any) -> Reply:
        raise ValueError("a renderer bug")

    async def fine(_ctx: Any) -> Reply:
        return Reply(Markup("Neuigkeit"))

    core.delivery.renderers = {**core.delivery.renderers, "broken": broken, "fine": fine}
    async with core.db.transaction() as s:
        outbox = OutboxRepository(s)
        await outbox.add("broken", "1", ids[0], {})  # the oldest row: first in the batch
        for user_id in ids[1:]:
            await outbox.add("fine", "1", user_id, {})
    await core.delivery.run_once()
    assert await statuses(core) == {"pending": 1, "sent": 2}
    assert [str(m.text) for m in people[1].inbox[-1:]] == ["Neuigkeit"]
    assert [str(m.text) for m in people[2].inbox[-1:]] == ["Neuigkeit"]
    async with core.db.transaction() as s:
        row = (
            await s.execute(
                select(OutboxMessage.attempts, OutboxMessage.last_error).where(
                    OutboxMessage.kind == "broken"
                )
            )
        ).one()
    assert tuple(row) == (1, "not rendered: ValueError"), "tried again later, with the reason"
