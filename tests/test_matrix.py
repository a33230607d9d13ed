"""Matrix end to end: the real adapter against a real Synapse, in encrypted direct chats."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
import urllib.request
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from nio import (  # type: ignore[import-untyped, unused-ignore]
    AsyncClient,
    AsyncClientConfig,
    RoomCreateResponse,
    RoomMessageNotice,
    RoomMessageText,
    RoomSendResponse,
    WhoamiResponse,
)
from sqlalchemy import delete, select

from bot.app.runner import serve
from bot.app.settings import PROJECT_ROOT, Settings
from bot.core.chat import Button, Reply
from bot.i18n import I18n
from bot.i18n.text import fmt
from bot.services.events import NEW_EVENT
from bot.services.reminders import plan
from bot.transports.matrix import option_key, render
from storage.db import Database
from storage.models import Event, Identity, Interpreter, Organisation, Reminder, Rsvp
from storage.repositories import OutboxRepository
from tests.synapse import DEFAULT_PASSWORD, Synapse, fresh_user
from tests.telegram_fake import TOKEN, FakeBotAPI, FakeUser
from tests.test_telegram import Telegram, event_id

LOCALES = PROJECT_ROOT / "locales"
CATALOGS = I18n(LOCALES)
ENCRYPTION = {
    "type": "m.room.encryption",
    "state_key": "",
    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
}


def t(locale: str, message: str, **values: object) -> str:
    text = CATALOGS.lang(locale).translations.gettext(message)
    return text.format(**values) if values else text


@dataclass
class Said:
    event_id: str
    body: str
    html: str
    encrypted: bool


@dataclass
class Person:
    """A Matrix user with an encrypted client, chatting with the bot in a direct room."""

    synapse: Synapse
    user_id: str
    token: str
    store: Path
    client: AsyncClient = field(init=False)
    room_id: str = ""
    heard: list[Said] = field(default_factory=list)
    _task: asyncio.Task[None] | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def start(self) -> None:
        self.store.mkdir(parents=True, exist_ok=True)
        self.client = AsyncClient(
            self.synapse.url,
            self.user_id,
            store_path=str(self.store),
            config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True),
        )
        self.client.access_token = self.token
        who = await self.client.whoami()
        assert isinstance(who, WhoamiResponse)
        self.client.restore_login(self.user_id, who.device_id, self.token)
        await self.client.keys_upload()
        self.client.add_event_callback(self._on_message, (RoomMessageText, RoomMessageNotice))
        await self.client.sync(timeout=0, full_state=True)
        self._task = asyncio.create_task(self.client.sync_forever(timeout=2000))

    async def _on_message(self, room: Any, event: Any) -> None:
        if event.sender != self.user_id:
            self.heard.append(
                Said(
                    event.event_id,
                    event.body,
                    getattr(event, "formatted_body", "") or "",
                    bool(getattr(event, "decrypted", False)),
                )
            )
            self._changed.set()

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self.client.close()

    async def open_dm(self, bot_id: str) -> str:
        created = await self.client.room_create(
            is_direct=True, invite=[bot_id], initial_state=[ENCRYPTION]
        )
        assert isinstance(created, RoomCreateResponse), created
        self.room_id = created.room_id
        await self.until(lambda: bot_id in self.client.rooms[self.room_id].users)
        return self.room_id

    async def until(self, condition: Any, within: float = 20) -> None:
        async def wait() -> None:
            while not condition():
                self._changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), 0.2)

        await asyncio.wait_for(wait(), within)

    async def _send(self, kind: str, content: dict[str, Any]) -> str:
        sent = await self.client.room_send(
            self.room_id, kind, content, ignore_unverified_devices=True
        )
        assert isinstance(sent, RoomSendResponse), sent
        return str(sent.event_id)

    async def _answered(self, before: int, quiet: float = 0.6) -> list[Said]:
        await self.until(lambda: len(self.heard) > before)
        while True:  # an answer can be several messages
            count = len(self.heard)
            await asyncio.sleep(quiet)
            if len(self.heard) == count:
                return self.heard[before:]

    async def says(self, text: str) -> list[Said]:
        before = len(self.heard)
        await self._send("m.room.message", {"msgtype": "m.text", "body": text})
        return await self._answered(before)

    async def reacts(self, event_id: str, key: str) -> tuple[str, list[Said]]:
        before = len(self.heard)
        reaction = await self._send(
            "m.reaction",
            {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": key}},
        )
        return reaction, await self._answered(before)

    async def takes_back(self, reaction_id: str) -> list[Said]:
        before = len(self.heard)
        await self.client.room_redact(self.room_id, reaction_id)
        return await self._answered(before)


def option(said: list[Said], label: str) -> str:
    """The number of the option whose label contains ``label``."""
    text = "\n".join(s.body for s in said)
    for match in re.finditer(r"(\d+)\. ([^\n]*?)(?=\s{3}\d+\. |\n|$)", text):
        if label in match.group(2):
            return match.group(1)
    raise AssertionError(f"no option {label!r} in:\n{text}")


@pytest.fixture
def bot_settings(synapse: Synapse, tmp_path: Path) -> Settings:
    bot_id, token = fresh_user(synapse, "treffpunkt")
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'matrix.sqlite3'}",
        locales_dir=LOCALES,
        demo_data="yes",
        matrix_homeserver=synapse.url,
        matrix_user_id=bot_id,
        matrix_access_token=token,
        matrix_store_dir=tmp_path / "bot-store",
        quiet_hours=None,  # these tests run at any hour of the real clock
    )


@contextlib.asynccontextmanager
async def bot_running(settings: Settings) -> AsyncIterator[None]:
    stop, ready = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(serve(settings, stop, ready=ready))
    try:
        waiting = asyncio.create_task(ready.wait())
        await asyncio.wait({task, waiting}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
        waiting.cancel()
        if task.done():
            task.result()
        assert ready.is_set(), "the bot did not come up"
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 30)


@contextlib.asynccontextmanager
async def person(synapse: Synapse, tmp_path: Path, name: str) -> AsyncIterator[Person]:
    user_id, token = fresh_user(synapse, name)
    someone = Person(synapse, user_id, token, tmp_path / f"{name}-store")
    await someone.start()
    try:
        yield someone
    finally:
        await someone.stop()


async def onboard(p: Person, bot_id: str, locale: str, native: str) -> None:
    await p.open_dm(bot_id)
    picker = await p.says("!start")
    await p.says(option(picker, native))
    notice = p.heard[-1]
    assert t(locale, "🔒 A short note on your data.") in notice.body
    await p.says(option([notice], t(locale, "✅ I agree")))


@pytest.mark.parametrize(("locale", "native"), [("uk", "Українська"), ("fa", "فارسی")])
async def test_journey_in_an_encrypted_direct_chat(
    synapse: Synapse, bot_settings: Settings, tmp_path: Path, locale: str, native: str
) -> None:
    bot_id = str(bot_settings.matrix_user_id)
    async with bot_running(bot_settings), person(synapse, tmp_path, "olena") as p:
        await onboard(p, bot_id, locale, native)
        assert p.client.rooms[p.room_id].encrypted
        topics = p.heard[-2:]
        assert (
            t(locale, "Thank you! Now choose the topics you want to hear about.") in topics[0].body
        )
        assert all(s.encrypted for s in p.heard), "the bot's answers are end-to-end encrypted"

        chosen = await p.says(option(topics, t(locale, "Politics and participation")))
        assert "✅ " + t(locale, "Politics and participation") in chosen[-1].body
        await p.says(option(chosen, t(locale, "Done")))

        listing = await p.says("/events all")
        assert "<b>" in listing[-1].html, "formatted_body carries the markup, body the plain text"
        assert "<b>" not in listing[-1].body
        card = await p.says(option(listing, "1. "))
        answered = await p.says(option(card, t(locale, "Going")))
        assert t(locale, "✅ You are going. See you there!") in answered[-1].body

        # Reactions on the event's message answer too, and taking one back withdraws it.
        card_id = answered[-1].event_id
        reaction, maybe = await p.reacts(card_id, "❔")
        assert t(locale, "❔ Saved: maybe.") in maybe[-1].body
        withdrawn = await p.takes_back(reaction)
        assert t(locale, "❌ Saved: you are not going.") in withdrawn[-1].body
        _, going = await p.reacts(maybe[-1].event_id, "✅")
        assert t(locale, "✅ You are going. See you there!") in going[-1].body

        mine = await p.says("!myevents")
        assert "• ✅ " + t(locale, "Going") in mine[-1].body


async def test_restart_answers_nothing_twice_and_misses_nothing(
    synapse: Synapse, bot_settings: Settings, tmp_path: Path
) -> None:
    bot_id = str(bot_settings.matrix_user_id)
    async with person(synapse, tmp_path, "omid") as p:
        async with bot_running(bot_settings):
            await onboard(p, bot_id, "en", "English")
            await p.says("!help")
        answered = len(p.heard)
        # While the bot is down, a message arrives; after the restart it is answered once.
        await p._send("m.room.message", {"msgtype": "m.text", "body": "!privacy"})
        async with bot_running(bot_settings):
            await p.until(lambda: len(p.heard) > answered)
            await asyncio.sleep(2)
        new = p.heard[answered:]
        assert len(new) == 1 and t("en", "🔒 A short note on your data.") in new[0].body
        helps = [s for s in p.heard if t("en", "Here is what I can do:") in s.body]
        assert len(helps) == 1, "the earlier command was not answered again"


async def test_invite_from_outside_the_policy_is_not_joined(
    synapse: Synapse, bot_settings: Settings, tmp_path: Path
) -> None:
    settings = bot_settings.model_copy(update={"matrix_allowed_servers": ("example.org",)})
    bot_id = str(settings.matrix_user_id)
    async with bot_running(settings), person(synapse, tmp_path, "stranger") as p:
        created = await p.client.room_create(is_direct=True, invite=[bot_id])
        assert isinstance(created, RoomCreateResponse)
        await asyncio.sleep(3)
        members = await p.client.joined_members(created.room_id)
        assert bot_id not in [m.user_id for m in members.members]


async def test_one_set_of_answers_across_telegram_and_matrix(
    synapse: Synapse, bot_settings: Settings, tmp_path: Path
) -> None:
    api = FakeBotAPI(TOKEN)
    await api.start()
    settings = bot_settings.model_copy(
        update={"telegram_bot_token": TOKEN, "telegram_base_url": api.url}
    )
    try:
        async with bot_running(settings), person(synapse, tmp_path, "sami") as p:
            await api.wait_for(lambda: any(m == "getUpdates" for m, _ in api.calls), 30)
            tg = Telegram(api, settings)
            treff = await event_id(settings, "offener-treff-leipzig")
            telegram_user = FakeUser(777, "Sami", language_code="en")
            picker = await tg.says(telegram_user, "/start")
            await tg.presses(telegram_user, picker, "l:en")
            await tg.taps(telegram_user, tg.last(telegram_user.id), "✅ I agree")
            await tg.presses(telegram_user, tg.last(telegram_user.id), f"r:{treff}:g:-")

            await onboard(p, str(settings.matrix_user_id), "en", "English")
            listing = await p.says("/events all")
            card = await p.says(option(listing, "1. "))
            answered = await p.says(option(card, "Going"))
            assert "✅ 2 going" in answered[-1].body, "one count for both messengers"

            # The same person on both: /link on Telegram, the code on Matrix.
            coded = await tg.says(telegram_user, "/link")
            code = re.search(r"[A-Z2-9]{4}-[A-Z2-9]{4}", coded.visible_text)
            assert code
            await p.says(f"!link {code.group(0)}")
            mine = await p.says("!myevents")
            assert "You answered 1 upcoming event:" in mine[0].body
            status = await tg.says(telegram_user, "/events all")
            await tg.presses(telegram_user, status, f"e:{treff}:a0")
            assert "✅ 1 going" in tg.last(telegram_user.id).visible_text
    finally:
        await api.stop()


async def test_bot_leaves_a_room_where_it_is_alone(
    synapse: Synapse, bot_settings: Settings, tmp_path: Path
) -> None:
    _admin_id, admin_token = synapse.register(f"admin-{uuid.uuid4().hex[:8]}", admin=True)
    bot_id = str(bot_settings.matrix_user_id)

    def bot_is_member(room_id: str) -> bool:
        request = urllib.request.Request(  # noqa: S310 - the loopback Synapse
            f"{synapse.url}/_synapse/admin/v1/rooms/{room_id}/members",
            headers={"Authorization": f"Bearer {admin_token}"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
            return bot_id in json.load(response)["members"]

    async with bot_running(bot_settings), person(synapse, tmp_path, "leaver") as p:
        room = await p.open_dm(bot_id)
        await p.says("!help")
        assert bot_is_member(room)
        await p.client.room_leave(room)
        for _ in range(50):
            if not bot_is_member(room):
                break
            await asyncio.sleep(0.2)
        assert not bot_is_member(room), "the bot left the empty room"


async def test_the_very_first_sync_does_not_answer_history(
    synapse: Synapse, bot_settings: Settings, tmp_path: Path
) -> None:
    """A new store (no sync token yet) reads the room's past without answering it."""
    settings = bot_settings.model_copy(
        update={"matrix_access_token": None, "matrix_password": DEFAULT_PASSWORD}
    )
    bot_id = str(settings.matrix_user_id)
    async with person(synapse, tmp_path, "historian") as p:
        created = await p.client.room_create(is_direct=True, invite=[bot_id])  # unencrypted
        assert isinstance(created, RoomCreateResponse)
        p.room_id = created.room_id
        async with bot_running(settings):
            await p.until(lambda: bot_id in p.client.rooms[p.room_id].users)
            await p.says("!help")
        answered = len(p.heard)
        await p._send("m.room.message", {"msgtype": "m.text", "body": "!privacy"})
        shutil.rmtree(settings.matrix_store_dir)  # a new device with no sync token
        async with bot_running(settings):
            await asyncio.sleep(3)
        assert len(p.heard) == answered, "nothing from before the first sync was answered"


async def test_a_notice_in_flight_at_a_crash_is_sent_again_with_its_txn_id_and_arrives_once(
    synapse: Synapse, bot_settings: Settings, tmp_path: Path
) -> None:
    bot_id = str(bot_settings.matrix_user_id)
    async with person(synapse, tmp_path, "leyla") as p:
        async with bot_running(bot_settings):
            await onboard(p, bot_id, "en", "English")
        treff = await event_id(bot_settings, "offener-treff-leipzig")
        # The bot sent a notice with its row's key, then died before recording that it had.
        key = f"matrix-{uuid.uuid4().hex}"
        db = Database(bot_settings.database_url)
        try:
            async with db.transaction() as s:
                user_id = await s.scalar(
                    select(Identity.user_id).where(Identity.platform_user_id == p.user_id)
                )
                assert user_id is not None
                outbox = OutboxRepository(s)
                assert await outbox.add(NEW_EVENT, str(treff), user_id, {"event_id": treff})
                now = datetime.now(UTC)
                row = (await outbox.claim(1, now, owner="crashed", lease=timedelta(0)))[0]
                await outbox.start_sending(row.id, key, owner="crashed")
            before = len(p.heard)
            url = f"{synapse.url}/_matrix/client/v3/rooms/{p.room_id}/send/m.room.message/{key}.0"
            request = urllib.request.Request(  # noqa: S310
                url,
                data=json.dumps({"msgtype": "m.text", "body": "the notice, first try"}).encode(),
                method="PUT",
                headers={"Authorization": f"Bearer {bot_settings.matrix_access_token}"},
            )
            await asyncio.to_thread(urllib.request.urlopen, request, timeout=30)
            await p.until(lambda: len(p.heard) > before)

            async with bot_running(bot_settings):
                for _ in range(100):
                    async with db.transaction() as s:
                        if await OutboxRepository(s).by_status() == {"sent": 1}:
                            break
                    await asyncio.sleep(0.2)
                await asyncio.sleep(2)
            async with db.transaction() as s:
                assert await OutboxRepository(s).by_status() == {"sent": 1}
        finally:
            await db.dispose()
        new = p.heard[before:]
        assert [s.body for s in new] == ["the notice, first try"], "Synapse dropped the repeat"


def test_numbered_options_are_typed_with_a_hash_while_text_is_awaited() -> None:
    back = Button("◀ Back", "cv:b:title")
    question = Reply(fmt("How many seats?"), ((back,),), expects_text=True)
    content, options = render(question, 1, expects_text=True)
    assert "#1. ◀ Back" in content["body"] and options[0][:3] == ["#1", "◀ Back", "cv:b:title"]
    content, options = render(Reply(fmt("Pick one"), ((back,),)), 3)
    assert "3. ◀ Back" in content["body"] and options[0][0] == "3"
    pressed = {"2": "2", "02": "2", "#2": "#2", "²": None, "2.": None, "1000": None, "#": None}
    assert {typed: option_key(typed) for typed in pressed} == pressed


async def test_a_number_presses_only_the_latest_answers_buttons(
    synapse: Synapse, bot_settings: Settings, tmp_path: Path
) -> None:
    bot_id = str(bot_settings.matrix_user_id)
    async with bot_running(bot_settings), person(synapse, tmp_path, "numbers") as p:
        await onboard(p, bot_id, "de", "Deutsch")
        await p.says("/events all")
        helped = await p.says("!help")  # an answer without buttons: no number is a button now
        assert t("de", "Here is what I can do:") in helped[-1].body
        answer = await p.says("1")
        assert t("de", "Sorry, I did not understand that. /help shows what I can do.") in (
            answer[-1].body
        )


async def test_a_reminder_reaches_matrix_and_its_numbered_options_answer_it(
    synapse: Synapse, bot_settings: Settings, tmp_path: Path
) -> None:
    bot_id = str(bot_settings.matrix_user_id)
    async with bot_running(bot_settings), person(synapse, tmp_path, "rami") as p:
        await onboard(p, bot_id, "ar", "العربية")
        # An event in two hours and a few seconds: its two-hour reminder is due soon.
        db = Database(bot_settings.database_url)
        try:
            async with db.transaction() as s:
                user_id = await s.scalar(
                    select(Identity.user_id).where(Identity.platform_user_id == p.user_id)
                )
                event = await s.scalar(
                    select(Event).where(Event.uid == "demo-beratung-anerkennung")
                )
                assert user_id is not None and event is not None
                event.starts_at = datetime.now(UTC) + timedelta(hours=2, seconds=15)
                # Planned afresh, as for a new event: only the reminders still ahead.
                await s.execute(delete(Reminder).where(Reminder.event_id == event.id))
                s.add(Rsvp(event_id=event.id, user_id=user_id, status="going"))
                await plan(s, event.id, event.starts_at, event.timezone, datetime.now(UTC))
                event_id = event.id
        finally:
            await db.dispose()
        planned = await p.says("/reminders")  # any update re-aims the alarms
        assert any(t("ar", "⏰ Your next reminders:") in said.body for said in planned)
        opening = t("ar", "⏰ Reminder: {title} starts {when}.").split("{")[0]
        await p.until(lambda: any(opening in s.body for s in p.heard), within=45)
        reminder = [s for s in p.heard if opening in s.body]
        assert len(reminder) == 1 and reminder[0].encrypted
        answered = await p.says(option(reminder, t("ar", "❌ Can't come")))
        assert (
            t(
                "ar",
                "❌ Thank you for telling us. Your seat goes to the next person waiting, if any.",
            )
            in answered[-1].body
        )
    db = Database(bot_settings.database_url)
    try:
        async with db.transaction() as s:
            status = await s.scalar(
                select(Rsvp.status).where(Rsvp.event_id == event_id, Rsvp.user_id == user_id)
            )
    finally:
        await db.dispose()
    assert status == "not_going"


async def test_a_request_from_telegram_reaches_an_interpreter_on_matrix_and_they_talk(
    synapse: Synapse, bot_settings: Settings, tmp_path: Path
) -> None:
    """The person asking is on Telegram (Arabic), the interpreter on Matrix (English): a
    claim, then a question and its answer relayed both ways; neither learns the other's
    account."""
    api = FakeBotAPI(TOKEN)
    await api.start()
    settings = bot_settings.model_copy(
        update={"telegram_bot_token": TOKEN, "telegram_base_url": api.url}
    )
    bot_id = str(settings.matrix_user_id)
    try:
        async with bot_running(settings), person(synapse, tmp_path, "samira") as p:
            await api.wait_for(lambda: any(m == "getUpdates" for m, _ in api.calls), 30)
            tg = Telegram(api, settings)
            # The demo notice from Bischofswerda offers "Sprachmittlung auf Anfrage".
            event = await event_id(settings, "get-together-bischofswerda")
            await onboard(p, bot_id, "en", "English")
            db = Database(settings.database_url)
            try:
                async with db.transaction() as s:
                    found = await s.get(Event, event)
                    assert found is not None and found.interpretation
                    organisation = await s.get(Organisation, found.organisation_id)
                    assert organisation is not None
                    organisation.interpreting, organisation.auto_confirm = "board", True
                    user_id = await s.scalar(
                        select(Identity.user_id).where(Identity.platform_user_id == p.user_id)
                    )
                    assert user_id is not None
                    now = datetime.now(UTC)
                    s.add(
                        Interpreter(
                            organisation_id=organisation.id,
                            user_id=user_id,
                            name="Samira",
                            languages=["ar"],
                            status="verified",
                            pledged_at=now,
                            verified_at=now,
                        )
                    )
            finally:
                await db.dispose()

            amal = FakeUser(4711, "Amal", language_code="ar")
            picker = await tg.says(amal, "/start")
            await tg.presses(amal, picker, "l:ar")
            await tg.taps(amal, tg.last(amal.id), t("ar", "✅ I agree"))
            await tg.says(amal, "/events all")
            await tg.presses(amal, tg.last(amal.id), f"e:{event}:-")
            await tg.taps(amal, tg.last(amal.id), t("ar", "🗣 I need an interpreter"))
            consent = tg.last(amal.id)
            assert t("ar", "✅ I agree") in str(consent.buttons())
            for data in ("ip:ok:y", "ip:l:ar", "ip:v:-", "ip:m:onsite", "ip:g:any"):
                await tg.presses(amal, tg.last(amal.id), data)
            await tg.says(amal, "أمل")
            opening = t("en", "🆕 A request you can take:")
            await tg.taps(amal, tg.last(amal.id), t("ar", "📨 Send request"))

            await p.until(lambda: any(opening in s.body for s in p.heard), within=30)
            offer = [s for s in p.heard if opening in s.body]
            assert len(offer) == 1 and offer[0].encrypted
            before = "\n".join(s.body + s.html for s in p.heard)
            for secret in ("Amal", "4711", "أمل"):
                assert secret not in before, secret
            taken = await p.says(option(offer, "I take it"))
            assert any(t("en", "🙂 You interpret for: {name}", name="أمل") in s.body for s in taken)

            confirmed = t("ar", "✅ Your interpreter is confirmed.")
            await api.wait_for(
                lambda: any(confirmed in m.text for m in api.bot_messages(amal.id)), 30
            )
            notice = next(m for m in api.bot_messages(amal.id) if confirmed in m.text)
            assert "Samira" in notice.text and "@" not in notice.text
            await tg.taps(amal, notice, t("ar", "✉ Message the interpreter"))
            await tg.says(amal, "هل يمكننا أن نلتقي عند المدخل؟")
            question = "هل يمكننا أن نلتقي عند المدخل؟"
            await p.until(lambda: any(question in s.body for s in p.heard), within=30)
            relayed = [s for s in p.heard if question in s.body]
            assert t("en", "✉ Message about request {id} from {who}:", id=1, who="أمل") in (
                relayed[0].body
            )
            asked = await p.says(option(relayed, "Reply"))
            assert any("Type your message" in s.body for s in asked)
            await p.says("Yes, at the entrance at 14:45.")
            await api.wait_for(
                lambda: any("at the entrance" in m.text for m in api.bot_messages(amal.id)), 30
            )
            answer = next(m for m in api.bot_messages(amal.id) if "at the entrance" in m.text)
            assert p.user_id not in answer.text, "the interpreter's account stays hidden"
            assert t("ar", "your interpreter {name}", name="Samira") in answer.text.replace(
                "\u2068", ""
            ).replace("\u2069", "")
    finally:
        await api.stop()
