"""Faults are answered clearly and change nothing: a busy or unreachable database."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from bot.app.core import Core
from tests.fakes import Chatroom, registered


def locked(*_args: Any, **_kwargs: Any) -> Any:
    raise OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))


async def test_database_unreachable_while_finding_the_person(
    room: Chatroom, core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = room.person("zoe", "de")
    monkeypatch.setattr(core.services.users, "find", locked)
    replies = await p.says("/events")
    assert len(replies) == 1
    p.sees("I am very busy right now. Please try again in a moment.")


async def test_busy_database_during_an_answer_is_retried_then_explained(
    room: Chatroom, core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    p = await registered(room, "yan", "uk")
    calls = 0
    real = core.services.rsvps.answer

    async def flaky(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls < 3:
            locked()
        return await real(*args, **kwargs)

    monkeypatch.setattr(core.services.rsvps, "answer", flaky)
    await p.presses("r:1:g:-")
    p.sees("✅ You are going. See you there!")  # the third try went through
    assert calls == 3

    monkeypatch.setattr(core.services.rsvps, "answer", locked)
    await p.presses("r:2:m:-")
    p.sees("I am very busy right now. Please try again in a moment.")
