"""The Synapse harness itself: two fresh users exchange a message through a real homeserver."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from nio import (  # type: ignore[import-untyped, unused-ignore]
    AsyncClient,
    AsyncClientConfig,
    JoinResponse,
    RoomCreateResponse,
    RoomMessageText,
    RoomSendResponse,
    SyncResponse,
    WhoamiResponse,
)

pytest.register_assert_rewrite("tests.synapse")
from tests.synapse import Synapse, fresh_user  # noqa: E402

pytest_plugins = ["tests.synapse"]


async def connect(synapse: Synapse, user_id: str, token: str) -> AsyncClient:
    """A matrix-nio client using an access token from the admin registration API."""
    client = AsyncClient(synapse.url, user_id, config=AsyncClientConfig(encryption_enabled=False))
    client.access_token = token
    whoami = await client.whoami()
    assert isinstance(whoami, WhoamiResponse), whoami
    assert whoami.user_id == user_id
    assert whoami.device_id
    client.restore_login(user_id, whoami.device_id, token)
    return client


@pytest.fixture
async def clients(synapse: Synapse) -> AsyncIterator[tuple[AsyncClient, AsyncClient]]:
    alice = await connect(synapse, *fresh_user(synapse, "alice"))
    bob = await connect(synapse, *fresh_user(synapse, "bob"))
    try:
        yield alice, bob
    finally:
        await alice.close()
        await bob.close()


def test_fresh_users_are_distinct(synapse: Synapse) -> None:
    first, first_token = fresh_user(synapse, "carol")
    second, second_token = fresh_user(synapse, "carol")
    assert first != second
    assert first_token != second_token
    assert first.startswith("@carol-")
    assert first.endswith(":localhost")
    assert synapse.url.startswith("http://127.0.0.1:")


async def test_message_round_trip(
    synapse: Synapse, clients: tuple[AsyncClient, AsyncClient]
) -> None:
    alice, bob = clients
    started = time.monotonic()

    created = await alice.room_create(invite=[bob.user_id], name="Treffpunkt harness")
    assert isinstance(created, RoomCreateResponse), created
    room_id = created.room_id

    joined = await bob.join(room_id)
    assert isinstance(joined, JoinResponse), joined

    body = f"Hallo Bob! {uuid.uuid4()}"
    sent = await alice.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": body})
    assert isinstance(sent, RoomSendResponse), sent

    received: list[RoomMessageText] = []
    deadline = time.monotonic() + 8
    while not received and time.monotonic() < deadline:
        answer = await bob.sync(timeout=1000)
        assert isinstance(answer, SyncResponse), answer
        room = answer.rooms.join.get(room_id)
        if room is not None:
            received += [
                event
                for event in room.timeline.events
                if isinstance(event, RoomMessageText) and event.body == body
            ]
        if not received:
            await asyncio.sleep(0.05)

    assert len(received) == 1
    message = received[0]
    assert message.sender == alice.user_id
    assert message.event_id == sent.event_id
    assert message.source["content"]["msgtype"] == "m.text"
    assert room_id in bob.rooms
    assert bob.rooms[room_id].name == "Treffpunkt harness"
    assert time.monotonic() - started < 10
