"""Retries: as many attempts as before, waits as the server asks, the same error at the end."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

import pytest
from nio import RoomSendError, RoomSendResponse
from telegram.error import BadRequest, RetryAfter

from bot.core.errors import RecipientGone
from bot.transports import matrix, telegram


class Sleeps(list[float]):
    """Records the waits instead of sleeping them."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


async def test_telegram_waits_out_each_429_as_asked_then_gives_up() -> None:
    calls: list[int] = []

    async def flooded() -> None:
        calls.append(1)
        raise RetryAfter(len(calls))

    sleeps = Sleeps()
    waiting = telegram._waiting_out_flood_control.retry_with(sleep=sleeps)
    with pytest.raises(RetryAfter):
        await waiting(flooded)
    assert len(calls) == telegram.RATE_LIMIT_RETRIES + 1
    assert sleeps == [1.0, 2.0, 3.0]


async def test_telegram_does_not_retry_other_errors() -> None:
    calls: list[int] = []

    async def refused() -> None:
        calls.append(1)
        raise BadRequest("chat not found")

    with pytest.raises(BadRequest):
        await telegram._waiting_out_flood_control(refused)
    assert calls == [1]


class Homeserver:
    """Answers room_send with the given responses, one per call."""

    def __init__(self, *responses: Any) -> None:
        self.responses = list(responses)
        self.tx_ids: list[str] = []

    async def room_send(self, *_args: Any, tx_id: str, **_kwargs: Any) -> Any:
        self.tx_ids.append(tx_id)
        return self.responses.pop(0)


def transport(server: Homeserver) -> matrix.MatrixTransport:
    """Sending needs nothing of the transport but its client."""
    return cast(matrix.MatrixTransport, SimpleNamespace(client=server))


def limited(ms: int) -> RoomSendError:
    return RoomSendError("slow down", "M_LIMIT_EXCEEDED", retry_after_ms=ms)


async def test_matrix_waits_as_asked_or_backs_off_with_one_transaction_id() -> None:
    server = Homeserver(
        limited(1500), RoomSendError("busy", "M_UNKNOWN"), RoomSendResponse("$e", "!r")
    )
    sleeps = Sleeps()
    send = matrix.MatrixTransport._send_once.retry_with(sleep=sleeps)
    event_id = await send(transport(server), "!r", {"body": "hi"}, "tx-1")
    assert event_id == "$e" and server.tx_ids == ["tx-1"] * 3
    assert sleeps == [1.5, 1.0]  # the server's wait, then the backoff of the second attempt


async def test_matrix_gives_up_after_its_attempts_with_the_last_refusal() -> None:
    server = Homeserver(
        *[limited(10)] * (matrix.SEND_ATTEMPTS - 1), RoomSendError("no", "M_UNKNOWN")
    )
    sleeps = Sleeps()
    send = matrix.MatrixTransport._send_once.retry_with(sleep=sleeps)
    with pytest.raises(matrix.MatrixError, match="send failed: M_UNKNOWN"):
        await send(transport(server), "!r", {}, "tx")
    assert len(server.tx_ids) == matrix.SEND_ATTEMPTS and len(sleeps) == matrix.SEND_ATTEMPTS - 1


async def test_matrix_forbidden_is_not_retried() -> None:
    server = Homeserver(RoomSendError("not in room", "M_FORBIDDEN"))
    with pytest.raises(RecipientGone):
        await matrix.MatrixTransport._send_once(transport(server), "!r", {}, "tx")
    assert len(server.tx_ids) == 1
