"""Telegram end to end: the real adapter and lifecycle against the fake Bot API server."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import select, update

from bot.app.cli import EXIT_CONFLICT
from bot.app.runner import serve
from bot.app.settings import PROJECT_ROOT, Settings
from bot.core.errors import MessengerConflict
from bot.i18n import FSI, I18n
from bot.services.events import NEW_EVENT
from bot.transports import telegram as telegram_transport
from storage.db import Database
from storage.models import Event, EventText, Identity
from storage.repositories import OutboxRepository
from tests.telegram_fake import TOKEN, FakeBotAPI, FakeUser, Message
from tests.test_console import TREFFPUNKT

LOCALES = PROJECT_ROOT / "locales"
CATALOGS = I18n(LOCALES)


def t(locale: str, message: str, **values: object) -> str:
    text = CATALOGS.lang(locale).translations.gettext(message)
    return text.format(**values) if values else text


def tn(locale: str, singular: str, plural: str, n: int) -> str:
    return CATALOGS.lang(locale).translations.ngettext(singular, plural, n).format(n=n)


@dataclass
class Telegram:
    api: FakeBotAPI
    settings: Settings

    def last(self, chat_id: int) -> Message:
        return self.api.bot_messages(chat_id)[-1]

    def _state(self, chat_id: int) -> tuple[int, int]:
        mine = self.api.bot_messages(chat_id)
        return len(mine), sum(m.edits for m in mine)

    async def says(self, user: FakeUser, text: str, chat_id: int | None = None) -> Message:
        chat = self.api.chats.get(chat_id) if chat_id else self.api.private_chat(user)
        chat_id = int(chat["id"]) if chat else user.id
        before = self._state(chat_id)
        await self.api.user_sends(user, text, chat)
        await self.api.wait_for(lambda: self._state(chat_id) != before)
        await asyncio.sleep(0.05)  # a reply may have more than one message
        return self.last(chat_id)

    async def presses(self, user: FakeUser, message: Message, data: str) -> dict[str, object]:
        """Tap ``data`` on ``message``; returns the callback answer once the bot replied."""
        before = self._state(message.chat_id)
        query = await self.api.user_presses(user, message, data)
        await self.api.wait_for(lambda: query in self.api.callback_answers)
        await self.api.wait_for(lambda: self._state(message.chat_id) != before)
        await asyncio.sleep(0.05)
        return self.api.callback_answers[query]

    async def taps(self, user: FakeUser, message: Message, label: str) -> dict[str, object]:
        buttons = [b for b in message.buttons() if label in b["text"]]
        assert buttons, f"no button {label!r} in {[b['text'] for b in message.buttons()]}"
        return await self.presses(user, message, buttons[0]["callback_data"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def tg_settings(tmp_path: Path, fake_api: FakeBotAPI) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'tg.sqlite3'}",
        locales_dir=LOCALES,
        demo_data="yes",
        telegram_bot_token=TOKEN,
        telegram_base_url=fake_api.url,
        quiet_hours=None,  # these tests run at any hour of the real clock
    )


@contextlib.asynccontextmanager
async def running(settings: Settings, api: FakeBotAPI) -> AsyncIterator[Telegram]:
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, stop))
    try:
        await api.wait_for(
            lambda: task.done() or any(m in ("getUpdates", "setWebhook") for m, _ in api.calls),
            within=30,
        )
        if task.done():
            task.result()
        yield Telegram(api, settings)
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


@pytest.fixture
async def tg(tg_settings: Settings, fake_api: FakeBotAPI) -> AsyncIterator[Telegram]:
    async with running(tg_settings, fake_api) as harness:
        yield harness


async def event_id(settings: Settings, uid: str) -> int:
    db = Database(settings.database_url)
    try:
        async with db.transaction() as s:
            found = await s.scalar(select(Event.id).where(Event.uid == f"demo-{uid}"))
    finally:
        await db.dispose()
    assert found is not None
    return int(found)


@pytest.mark.parametrize("locale", ["de", "ar"])
async def test_journey_on_telegram(tg: Telegram, locale: str) -> None:
    user = FakeUser(501, "Amira", language_code=locale)
    picker = await tg.says(user, "/start")
    labels = [b["text"] for b in picker.buttons()]
    native = {"de": "Deutsch", "ar": "العربية"}[locale]
    assert f"• {native}" in labels, "the language Telegram reports is preselected"

    await tg.taps(user, picker, native)
    notice = tg.last(user.id)
    assert notice.message_id == picker.message_id and notice.edits == 1, "edited in place"
    assert t(locale, "🔒 A short note on your data.") in notice.visible_text

    await tg.taps(user, notice, t(locale, "✅ I agree"))
    topics = tg.last(user.id)
    assert t(locale, "Which topics do you want to hear about?") in topics.visible_text
    await tg.taps(user, topics, t(locale, "Politics and participation"))
    assert tg.last(user.id).message_id == topics.message_id
    assert any(b["text"].startswith("✅") for b in tg.last(user.id).buttons())
    await tg.taps(user, tg.last(user.id), t(locale, "Done"))

    everything = await tg.says(user, "/events all")
    await tg.taps(user, everything, t(locale, "Next ▶"))
    assert tg.last(user.id).message_id == everything.message_id, "pages turn in place"
    assert tg.last(user.id).edits == 1 and "4. " in tg.last(user.id).visible_text

    listing = await tg.says(user, "/events")
    assert listing.parse_mode == "HTML" and "<b>" in listing.text
    assert t(locale, "Tap an event to answer and to read more.") in listing.visible_text
    await tg.taps(user, listing, "1. ")
    card = tg.last(user.id)
    assert card.message_id == listing.message_id
    if locale == "ar":
        assert FSI in card.visible_text
    answer = await tg.taps(user, card, "✅")
    assert answer.get("text") == t(locale, "✅ You are going. See you there!")
    assert tn(locale, "✅ {n} going", "✅ {n} going", 1) in tg.last(user.id).visible_text

    mine = await tg.says(user, "/myevents")
    texts = [m.visible_text for m in tg.api.bot_messages(user.id)[-2:]]
    heading = tn(locale, "You answered {n} upcoming event:", "You answered {n} upcoming events:", 1)
    assert heading in texts[0]
    assert any(b["text"].startswith("• ✅") for b in mine.buttons())

    await tg.says(user, "/mydata")
    document = tg.last(user.id).document
    assert document is not None and document["file_name"] == "treffpunkt-my-data.json"
    assert json.loads(document["content"])["user"]["language"] == locale

    help_text = (await tg.says(user, "/help")).visible_text
    assert "/myevents – " in help_text
    assert t(locale, "Show this help") in help_text


async def test_command_menu_in_every_language(tg: Telegram) -> None:
    menus = tg.api.commands
    assert set(menus) == {"", "de", "en", "uk", "ar", "ru", "fa"}
    for code in ("de", "uk", "fa"):
        descriptions = {c["command"]: c["description"] for c in menus[code]}
        assert descriptions["events"] == t(
            code, "Upcoming events for your topics; “/events all” shows all of them"
        )
    assert menus[""] == menus["de"], "the default menu is in the default language"


async def test_stale_and_forged_buttons_are_answered(tg: Telegram) -> None:
    user = FakeUser(502, "Olena", language_code="uk")
    picker = await tg.says(user, "/start")
    await tg.presses(user, picker, "l:uk")
    await tg.taps(user, tg.last(user.id), t("uk", "✅ I agree"))
    message = tg.last(user.id)

    for data in ("r:1;DROP TABLE users:g:-", "r:999999:g:-", "zz", "e:-1:-"):
        answer = await tg.presses(user, message, data)
        assert answer["text"] == t(
            "uk", "This button is no longer valid. Please use the newest message."
        )
        fresh = tg.last(user.id)
        assert [b["callback_data"] for b in fresh.buttons()] == ["ev:a:0"], "a fresh way on"

    # A real button whose event was cancelled meanwhile: a clear answer, nothing stored.
    treff = await event_id(tg.settings, "offener-treff-leipzig")
    card = await tg.says(user, "/events all")
    db = Database(tg.settings.database_url)
    try:
        async with db.transaction() as s:
            await s.execute(update(Event).where(Event.id == treff).values(status="cancelled"))
    finally:
        await db.dispose()
    answer = await tg.presses(user, card, f"r:{treff}:g:-")
    assert answer["text"] == t("uk", "This event has been cancelled.")


async def test_group_chat_gets_nothing_personal(tg: Telegram) -> None:
    user = FakeUser(503, "Reza", language_code="fa")
    picker = await tg.says(user, "/start")
    await tg.presses(user, picker, "l:fa")
    await tg.taps(user, tg.last(user.id), t("fa", "✅ I agree"))
    treff = await event_id(tg.settings, "offener-treff-leipzig")
    await tg.presses(user, tg.last(user.id), f"r:{treff}:g:-")

    group = tg.api.group_chat(-1001234)
    private_only = t(
        "fa", "This is personal, so I only do it in a private chat. Please write to me directly."
    )
    for command in ("/myevents", "/mydata@treffpunkt_test_bot", "/start", "/deletedata"):
        reply = await tg.says(user, command, group["id"])
        assert reply.visible_text == private_only and not reply.buttons()

    listing = await tg.says(user, "/events@treffpunkt_test_bot all", group["id"])
    await tg.taps(user, listing, "1. ")
    card = tg.last(group["id"])
    assert (
        t("fa", "Your answer: {icon} {status}", icon="✅", status=t("fa", "Going"))
        not in card.visible_text
    )
    # A personal button pressed in a group is answered to the presser alone.
    posted = len(tg.api.bot_messages(group["id"]))
    query = await tg.api.user_presses(user, card, f"r:{treff}:n:-")
    await tg.api.wait_for(lambda: query in tg.api.callback_answers)
    await asyncio.sleep(0.2)
    assert tg.api.callback_answers[query].get("text") == private_only
    assert len(tg.api.bot_messages(group["id"])) == posted

    # Chatter and commands for other bots get no answer in a group.
    count = len(tg.api.bot_messages(group["id"]))
    await tg.api.user_sends(user, "hello everyone", group)
    await tg.api.user_sends(user, "/start@some_other_bot", group)
    await asyncio.sleep(0.5)
    assert len(tg.api.bot_messages(group["id"])) == count
    for message in tg.api.bot_messages(group["id"]):
        assert str(user.id) not in message.text and "Reza" not in message.text


async def test_flood_control_is_waited_out(tg: Telegram) -> None:
    user = FakeUser(507, "Mila", language_code="en")
    tg.api.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)
    reply = await tg.says(user, "/help")
    assert "/events – " in reply.visible_text
    assert [m for m, _ in tg.api.calls].count("sendMessage") == 2


async def test_seat_notice_reaches_the_person_on_telegram(tg: Telegram) -> None:
    event = await event_id(tg.settings, "beratung-anerkennung")  # three seats
    people = [FakeUser(600 + i, f"P{i}", language_code="ru") for i in range(4)]
    for person in people:
        picker = await tg.says(person, "/start")
        await tg.presses(person, picker, "l:ru")
        await tg.taps(person, tg.last(person.id), t("ru", "✅ I agree"))
        await tg.presses(person, tg.last(person.id), f"r:{event}:g:-")
    waiting = people[3]
    before = len(tg.api.bot_messages(waiting.id))
    await tg.presses(people[0], tg.last(people[0].id), f"r:{event}:n:-")
    await tg.api.wait_for(lambda: len(tg.api.bot_messages(waiting.id)) > before)
    offer = tg.last(waiting.id)
    question = t(
        "ru",
        "🎟 A seat became free, and it is offered to you. It is held for you until {until}. "
        "Do you want it?",
    )
    assert question.split("{until}")[0] in offer.visible_text
    await tg.taps(waiting, offer, t("ru", "✅ Yes, I take the seat"))
    taken = t("ru", "🎉 The seat is yours. You are registered as going – see you there!")
    assert taken in tg.last(waiting.id).visible_text


async def test_long_and_hostile_texts_stay_valid_html(tg: Telegram) -> None:
    treff = await event_id(tg.settings, "offener-treff-leipzig")
    hostile = '<b>x</b><a href="tg://user?id=1">hi</a> <script>alert(1)</script> *_[]()~ & {0} %s '
    db = Database(tg.settings.database_url)
    try:
        async with db.transaction() as s:
            await s.execute(
                update(EventText)
                .where(EventText.event_id == treff, EventText.locale == "en")
                .values(title=hostile[:200], description=(hostile * 150)[:10_000])
            )
    finally:
        await db.dispose()
    user = FakeUser(504, "Lea", language_code="en")
    picker = await tg.says(user, "/start")
    await tg.presses(user, picker, "l:en")
    await tg.taps(user, tg.last(user.id), "✅ I agree")
    await tg.says(user, "/events all")
    card_message = tg.last(user.id)
    await tg.presses(user, card_message, f"e:{treff}:a0")
    card = tg.last(user.id)
    assert "<script>alert(1)</script>" in card.visible_text, "shown literally"
    assert "<script>" not in card.text
    more = [b for b in card.buttons() if b["callback_data"].startswith("d:")]
    assert more, "a long description gets a 'more' button"
    parts = 0
    message = card
    while more:
        await tg.presses(user, message, more[0]["callback_data"])
        message = tg.last(user.id)
        parts += 1
        assert len(message.visible_text) <= 4096
        more = [b for b in message.buttons() if b["callback_data"].startswith("d:")]
    assert parts >= 3


async def test_webhook_checks_the_secret_on_every_request(
    tg_settings: Settings, fake_api: FakeBotAPI
) -> None:
    port = free_port()
    secret = "s3cret-webhook-token_0123456789"
    settings = tg_settings.model_copy(
        update={
            "telegram_webhook_url": f"https://bot.example.org/{tg_settings.telegram_webhook_path}",
            "telegram_webhook_port": port,
            "telegram_webhook_secret": secret,
        }
    )
    async with running(settings, fake_api) as harness:
        assert fake_api.webhook == {"url": settings.telegram_webhook_url, "secret_token": secret}
        user = FakeUser(505, "Jonas", language_code="de")
        chat = fake_api.private_chat(user)
        url = f"http://127.0.0.1:{port}/{settings.telegram_webhook_path}"

        def update_for(update_id: int, text: str) -> dict[str, object]:
            return {
                "update_id": update_id,
                "message": {
                    "message_id": update_id,
                    "date": 1_780_000_000,
                    "chat": chat,
                    "from": user.as_dict(),
                    "text": text,
                    "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
                },
            }

        async with aiohttp.ClientSession() as http:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong-secret-value-000000"}):
                async with http.post(url, json=update_for(1, "/help"), headers=headers) as resp:
                    assert resp.status == 403
            await asyncio.sleep(0.3)
            assert harness.api.bot_messages(user.id) == [], "nothing processed"
            good = {"X-Telegram-Bot-Api-Secret-Token": secret}
            for _ in range(2):  # Telegram retries a webhook delivery it thinks failed
                async with http.post(url, json=update_for(2, "/help"), headers=good) as resp:
                    assert resp.status == 200
        await fake_api.wait_for(lambda: harness.api.bot_messages(user.id))
        await asyncio.sleep(0.5)
        replies = harness.api.bot_messages(user.id)
        assert len(replies) == 1, "the same update is handled once"
        assert t("de", "Here is what I can do:") in replies[0].visible_text
    # Another process on the same database (nothing of the first in its memory) gets the same
    # update once more, as behind a load balancer: the update id recorded with the handling
    # keeps it from being handled twice.
    port = free_port()
    other = settings.model_copy(update={"telegram_webhook_port": port})
    calls = len(fake_api.calls)
    async with running(other, fake_api):
        await fake_api.wait_for(lambda: "setWebhook" in [m for m, _ in fake_api.calls[calls:]])
        url = f"http://127.0.0.1:{port}/{settings.telegram_webhook_path}"
        async with aiohttp.ClientSession() as http:
            async with http.post(url, json=update_for(2, "/help"), headers=good) as resp:
                assert resp.status == 200
            async with http.post(url, json=update_for(3, "/help"), headers=good) as resp:
                assert resp.status == 200
        await fake_api.wait_for(lambda: len(fake_api.bot_messages(user.id)) >= 2)
        await asyncio.sleep(0.5)
    assert len(fake_api.bot_messages(user.id)) == 2, "update 2 once, update 3 once"


async def test_real_entry_point_runs_telegram_and_stops_on_sigterm(
    tmp_path: Path, fake_api: FakeBotAPI
) -> None:
    env = {
        **os.environ,
        "TREFFPUNKT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'entry.sqlite3'}",
        "TREFFPUNKT_ENV_FILE": str(tmp_path / "none.env"),
        "TREFFPUNKT_LOG_LEVEL": "DEBUG",
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_BASE_URL": fake_api.url,
    }
    process = await asyncio.create_subprocess_exec(
        TREFFPUNKT,
        "run",
        env=env,
        cwd=PROJECT_ROOT,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        user = FakeUser(506, "Sami", language_code="ar")
        await fake_api.wait_for(lambda: any(m == "getUpdates" for m, _ in fake_api.calls), 30)
        await fake_api.user_sends(user, "/start")
        await fake_api.wait_for(lambda: fake_api.bot_messages(user.id), 30)
        assert "العربية" in json.dumps(
            fake_api.bot_messages(user.id)[0].reply_markup, ensure_ascii=False
        )
        process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()
    log = err.decode() + out.decode()
    assert "Treffpunkt is stopping" in log
    assert TOKEN not in log and TOKEN.split(":")[1] not in log, "the token never reaches a log"
    assert "Sami" not in log and "/start" not in log


async def queue_notice(settings: Settings, telegram_user: int, uid: str) -> None:
    """An outbox row for a person who has started the bot: the news of a demo event."""
    treff = await event_id(settings, uid)
    db = Database(settings.database_url)
    try:
        async with db.transaction() as s:
            user_id = await s.scalar(
                select(Identity.user_id).where(Identity.platform_user_id == str(telegram_user))
            )
            assert user_id is not None
            await OutboxRepository(s).add(NEW_EVENT, str(treff), user_id, {"event_id": treff})
    finally:
        await db.dispose()


async def outbox_states(settings: Settings) -> dict[str, int]:
    db = Database(settings.database_url)
    try:
        async with db.transaction() as s:
            return await OutboxRepository(s).by_status()
    finally:
        await db.dispose()


@pytest.mark.parametrize(
    ("status", "description", "final", "tries"),
    [
        (500, "Internal Server Error", {"sent": 1}, 2),
        (502, "Bad Gateway", {"sent": 1}, 2),
        (503, "Service Unavailable", {"sent": 1}, 2),
        # A gateway that gave up waiting cannot say whether Telegram behind it sent.
        (504, "Gateway Timeout", {"unknown": 1}, 1),
    ],
)
async def test_a_server_error_is_tried_again_not_taken_as_unknown(
    tg: Telegram, status: int, description: str, final: dict[str, int], tries: int
) -> None:
    user = FakeUser(520, "Dana", language_code="en")
    picker = await tg.says(user, "/start")
    await tg.presses(user, picker, "l:en")
    await tg.taps(user, tg.last(user.id), t("en", "✅ I agree"))
    before = len(tg.api.bot_messages(user.id))
    tg.api.fail_next("sendMessage", status, description)
    await queue_notice(tg.settings, user.id, "offener-treff-leipzig")
    for _ in range(100):
        if await outbox_states(tg.settings) == final:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)
    assert await outbox_states(tg.settings) == final
    sends = [p for m, p in tg.api.calls if m == "sendMessage" and p["chat_id"] == user.id]
    assert len(sends) - before == tries
    arrived = tg.api.bot_messages(user.id)[before:]
    assert len(arrived) == (1 if final == {"sent": 1} else 0)


async def test_the_second_process_polling_one_token_stops_and_the_first_goes_on(
    tmp_path: Path, tg_settings: Settings, fake_api: FakeBotAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(telegram_transport, "CONFLICT_GRACE", 3.0)
    async with running(tg_settings, fake_api) as first:
        await asyncio.sleep(3.5)  # the first one has been polling for a while
        second_settings = tg_settings.model_copy(
            update={"database_url": f"sqlite+aiosqlite:///{tmp_path / 'second.sqlite3'}"}
        )
        second = asyncio.create_task(serve(second_settings, asyncio.Event()))
        with pytest.raises(MessengerConflict):
            await asyncio.wait_for(second, 30)
        user = FakeUser(521, "Ilja", language_code="en")
        reply = await first.says(user, "/help")
        assert "/events – " in reply.visible_text, "the first process still answers"


async def test_entry_point_stops_with_a_clear_error_when_another_process_polls(
    tmp_path: Path, fake_api: FakeBotAPI
) -> None:
    env = {
        **os.environ,
        "TREFFPUNKT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'conflict.sqlite3'}",
        "TREFFPUNKT_ENV_FILE": str(tmp_path / "none.env"),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_BASE_URL": fake_api.url,
    }
    fake_api.fail_next(
        "getUpdates",
        409,
        "Conflict: terminated by other getUpdates request; make sure that only one bot "
        "instance is running",
    )
    process = await asyncio.create_subprocess_exec(
        TREFFPUNKT,
        "run",
        env=env,
        cwd=PROJECT_ROOT,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    log = err.decode() + out.decode()
    assert process.returncode == EXIT_CONFLICT, log
    assert "another process is already polling updates for this bot token" in log
    assert "Treffpunkt is stopping" in log
    assert TOKEN.split(":")[1] not in log
