"""The fake Telegram Bot API itself: Telegram's rate limits, the statistics it keeps, and the
fake as a process of its own, driven through its control API and delivering to webhooks."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import signal
import socket
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import telegram
from aiohttp import web
from telegram.error import BadRequest, RetryAfter

from tests.telegram_fake import TOKEN, FakeBotAPI, FakeUser, Limits

GROUP = -100_555
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Clock:
    """A clock that stands still until a test moves it, so no test depends on speed."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake(fake_api: FakeBotAPI) -> FakeBotAPI:
    return fake_api


@pytest.fixture
def clock(fake: FakeBotAPI) -> Clock:
    fake.clock = clock = Clock()
    return clock


@pytest.fixture
async def bot(fake: FakeBotAPI) -> AsyncIterator[telegram.Bot]:
    async with telegram.Bot(TOKEN, base_url=f"{fake.url}/bot") as bot:
        yield bot


def people(fake: FakeBotAPI, n: int, first: int = 100) -> list[int]:
    return [fake.private_chat(FakeUser(first + i, f"P{i}"))["id"] for i in range(n)]


def seconds(retry_after: int | dtm.timedelta) -> float:
    return retry_after.total_seconds() if isinstance(retry_after, dtm.timedelta) else retry_after


async def test_strict_limits_refuse_the_31st_send_within_a_second(
    fake: FakeBotAPI, clock: Clock, bot: telegram.Bot
) -> None:
    fake.limits = Limits()
    chats = people(fake, 32)
    for chat in chats[:30]:
        await bot.send_message(chat, "hello")
        clock.now += 1 / 32  # exact in binary: 30 sends within 0.94 s
    with pytest.raises(RetryAfter) as refused:
        await bot.send_message(chats[30], "hello")
    assert seconds(refused.value.retry_after) >= 1
    assert fake.bot_messages(chats[30]) == [], "a refused send is not carried out"
    clock.now = 1_001.0  # the first send is now a second ago
    await bot.send_message(chats[30], "hello")
    with pytest.raises(RetryAfter):
        await bot.send_message(chats[31], "hello")  # the second is not
    assert fake.stats()["sends"] == 31 and fake.stats()["refused"] == 2


async def test_a_private_chat_gets_one_message_a_second(
    fake: FakeBotAPI, clock: Clock, bot: telegram.Bot
) -> None:
    fake.limits = Limits(per_second=1000)
    [chat, other] = people(fake, 2)
    await bot.send_message(chat, "one")
    clock.now += 0.5
    with pytest.raises(RetryAfter) as refused:
        await bot.send_message(chat, "two")
    assert seconds(refused.value.retry_after) == 1
    await bot.send_message(other, "another chat is not held up")
    clock.now += 0.5
    await bot.send_message(chat, "two")
    assert [m.text for m in fake.bot_messages(chat)] == ["one", "two"]
    assert fake.stats()["per_chat_violations"] == 0


async def test_a_group_gets_twenty_messages_a_minute(
    fake: FakeBotAPI, clock: Clock, bot: telegram.Bot
) -> None:
    fake.limits = Limits()
    fake.group_chat(GROUP)
    for i in range(20):
        await bot.send_message(GROUP, f"notice {i}")
        clock.now += 1.0
    with pytest.raises(RetryAfter) as refused:
        await bot.send_message(GROUP, "notice 20")
    assert seconds(refused.value.retry_after) == 40, "the first send leaves the minute in 40 s"
    clock.now += 39.5
    with pytest.raises(RetryAfter) as refused:
        await bot.send_message(GROUP, "notice 20")
    assert seconds(refused.value.retry_after) == 1, "rounded up"
    clock.now += 0.5
    await bot.send_message(GROUP, "notice 20")
    assert len(fake.bot_messages(GROUP)) == 21
    assert fake.stats()["refused"] == 2


async def test_limits_are_off_by_default_and_stats_count_every_send(
    fake: FakeBotAPI, clock: Clock, bot: telegram.Bot
) -> None:
    chats = people(fake, 10)
    sent = [(chats[i % 10], f"text {i % 150}") for i in range(200)]
    for chat, text in sent:
        await bot.send_message(chat, text)
    clock.now += 5
    await bot.send_message(chats[0], "later")
    stats = fake.stats()
    assert stats["sends"] == 201 and stats["refused"] == 0
    assert stats["max_per_second"] == 200
    assert stats["duplicates"] == len(sent) - len(set(sent)) == 50
    assert stats["per_chat_violations"] == 200 - 10, "all but each chat's first came too soon"
    assert stats["first_send_at"] <= stats["last_send_at"]


async def test_refusals_count_and_reset_clears_everything(
    fake: FakeBotAPI, clock: Clock, bot: telegram.Bot
) -> None:
    [chat] = people(fake, 1)
    fake.flood_every = 3
    for text in ("a", "b"):
        await bot.send_message(chat, text)
    with pytest.raises(RetryAfter):
        await bot.send_message(chat, "c")
    with pytest.raises(BadRequest):
        await bot.send_message(chat, "<b>broken", parse_mode="HTML")
    assert fake.stats()["sends"] == 2 and fake.stats()["refused"] == 1
    fake.flood_every, fake.limits = 0, Limits()
    with pytest.raises(RetryAfter):
        await bot.send_message(chat, "d")
    fake.reset_stats()
    await bot.send_message(chat, "d")  # the windows are gone too
    stats = fake.stats()
    assert stats["sends"] == 1 and stats["refused"] == 0 and stats["duplicates"] == 0
    assert stats["max_per_second"] == 1


async def test_press_latency_is_the_time_to_the_answer(
    fake: FakeBotAPI, clock: Clock, bot: telegram.Bot
) -> None:
    user = FakeUser(100, "Ana")
    fake.private_chat(user)
    message = await bot.send_message(user.id, "pick")
    stored = fake.bot_messages(user.id)[0]
    first = await fake.user_presses(user, stored, "x:1")
    second = await fake.user_presses(user, stored, "x:2")
    clock.now += 1.0  # waiting in the queue does not count
    queries = [u.callback_query for u in await bot.get_updates() if u.callback_query]
    assert [(q.id, q.data) for q in queries] == [(first, "x:1"), (second, "x:2")]
    assert queries[0].message is not None
    assert queries[0].message.message_id == message.message_id
    clock.now += 0.25
    await bot.answer_callback_query(first)
    clock.now += 0.5
    await bot.answer_callback_query(second, text="ok")
    assert fake.stats()["press_latencies_ms"] == [250.0, 750.0]


async def test_quiet_store_keeps_nothing_but_answers_as_usual(
    fake: FakeBotAPI, bot: telegram.Bot
) -> None:
    fake.keep_messages = False
    user = FakeUser(100, "Ana")
    fake.private_chat(user)
    await fake.user_sends(user, "/start")
    ids = [(await bot.send_message(user.id, f"m{i}")).message_id for i in range(5)]
    assert ids == sorted(set(ids))
    with pytest.raises(BadRequest):
        await bot.send_message(user.id, "<b>broken", parse_mode="HTML")
    edited = await bot.edit_message_text("m0 again", chat_id=user.id, message_id=ids[0])
    assert isinstance(edited, telegram.Message) and edited.text == "m0 again"
    assert fake.messages.get(user.id, []) == []
    assert fake.calls == [("getMe", {})], "only what came before"
    assert fake.stats()["sends"] == 5


# -- the fake as a process of its own ---------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Process:
    process: asyncio.subprocess.Process
    url: str
    http: aiohttp.ClientSession

    async def control(self, path: str, body: Any = None) -> Any:
        if path == "stats" or path.startswith("messages"):
            request = self.http.get(f"{self.url}/control/{path}")
        else:
            request = self.http.post(f"{self.url}/control/{path}", json=body)
        async with request as response:
            assert response.status == 200, await response.text()
            return await response.json()


@contextlib.asynccontextmanager
async def standalone(*args: str) -> AsyncIterator[Process]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.telegram_fake",
        "--token",
        TOKEN,
        *args,
        cwd=PROJECT_ROOT,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        assert line.startswith("READY http://127.0.0.1:"), line
        async with aiohttp.ClientSession() as http:
            yield Process(process, line.split()[1], http)
        process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), 10)
        assert process.returncode == 0, err.decode()
        assert out == b"", "READY is the only line"
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_standalone_fake_serves_the_bot_api_and_its_controls() -> None:
    async with (
        standalone("--no-limits") as fake,
        telegram.Bot(TOKEN, base_url=f"{fake.url}/bot") as bot,
    ):
        assert (await bot.get_me()).username == "treffpunkt_test_bot"
        sent = await fake.control("user_sends", {"user_id": 5, "text": "/help"})
        updates = await bot.get_updates(timeout=1)
        assert [(u.update_id, u.message.text) for u in updates if u.message] == [
            (sent["update_id"], "/help")
        ]
        assert updates[0].effective_user is not None and updates[0].effective_user.id == 5
        keyboard = telegram.InlineKeyboardMarkup(
            [[telegram.InlineKeyboardButton("Yes", callback_data="y:1")]]
        )
        message = await bot.send_message(
            5, "<b>Come?</b>", parse_mode="HTML", reply_markup=keyboard
        )
        assert await fake.control("messages?chat_id=5") == [
            {
                "message_id": message.message_id,
                "text": "Come?",
                "buttons": [[{"text": "Yes", "callback_data": "y:1"}]],
                "edits": 0,
            }
        ]
        for message_id, text in ((message.message_id, "Come?"), (999, "")):
            press = await fake.control(
                "user_presses",
                {"user_id": 5, "chat_id": 5, "message_id": message_id, "data": "y:1"},
            )
            updates = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=1)
            [update] = updates
            query = update.callback_query
            assert query is not None and update.update_id == press["update_id"]
            assert query.id == press["query_id"] and query.data == "y:1"
            assert query.message is not None and query.message.message_id == message_id
            assert getattr(query.message, "text", None) in {text, None}
            await bot.answer_callback_query(query.id)
        await fake.control("limits", {"per_second": 30})
        stats = await fake.control("stats")
        assert stats["sends"] == 1 and stats["limits"]["per_second"] == 30
        assert len(stats["press_latencies_ms"]) == 2
        await fake.control("reset")
        await fake.control("limits", {})
        stats = await fake.control("stats")
        assert stats["sends"] == 0 and stats["limits"] is None


@dataclass
class Receiver:
    """A bot process's webhook endpoint behind the load balancer."""

    url: str = ""
    got: list[dict[str, Any]] = field(default_factory=list)
    secrets: list[str | None] = field(default_factory=list)


@contextlib.asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    seen = Receiver()

    async def take(request: web.Request) -> web.Response:
        seen.got.append(await request.json())
        seen.secrets.append(request.headers.get("X-Telegram-Bot-Api-Secret-Token"))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", take)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    seen.url = f"http://127.0.0.1:{port}/hook"
    try:
        yield seen
    finally:
        await runner.cleanup()


async def until(condition: Any, within: float = 10.0) -> None:
    """Wait for something another process does (polled: no event can tell us)."""
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.02)


async def test_webhooks_take_turns_and_skip_a_receiver_that_is_down() -> None:
    secret = "s3cret-webhook-token_0123456789"
    async with standalone("--quiet-store") as fake, receiver() as one, receiver() as two:
        await fake.control("webhooks", {"urls": [one.url, two.url], "secret": secret})
        ids = [
            (await fake.control("user_sends", {"user_id": 7, "text": f"/m{i}"}))["update_id"]
            for i in range(4)
        ]
        await until(lambda: len(one.got) + len(two.got) == 4)
        assert len(one.got) == 2 and len(two.got) == 2, "round robin"
        assert sorted(u["update_id"] for u in one.got + two.got) == ids
        assert set(one.secrets + two.secrets) == {secret}
        down = f"http://127.0.0.1:{free_port()}/hook"
        await fake.control("webhooks", {"urls": [down, two.url], "secret": secret})
        more = [
            (await fake.control("user_sends", {"user_id": 7, "text": f"/n{i}"}))["update_id"]
            for i in range(2)
        ]
        await until(lambda: len(two.got) == 4)
        assert sorted(u["update_id"] for u in two.got[2:]) == more
        stats = await fake.control("stats")
        assert stats["webhook_deliveries"] == 6 and stats["webhook_retries"] == 1
        await fake.control("webhooks", {"urls": []})
