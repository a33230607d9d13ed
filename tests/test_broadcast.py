"""Broadcasts: the organiser's conversation, and 1,000 recipients through the Telegram fake
with 429s and a restart in the middle — every recipient exactly once, in their language."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from bot.app.core import Core
from bot.app.runner import serve
from bot.app.settings import PROJECT_ROOT, Settings
from bot.i18n.text import plain
from bot.services import Services
from bot.services.broadcasts import Audience
from storage.db import Database, migrate
from storage.models import Identity, OutboxMessage, Subscription, User
from tests.fakes import Chatroom, registered
from tests.telegram_fake import TOKEN, FakeBotAPI, FakeUser
from tests.test_organisers import organiser

LANGUAGES = ("de", "en", "uk", "ar", "ru", "fa")
TEXTS = {
    "de": "Offener Treff am Mittwoch fällt aus.",
    "uk": "Відкрита зустріч у середу скасована.",
    "ar": "تم إلغاء اللقاء المفتوح يوم الأربعاء.",
}


async def test_organiser_writes_and_sends_a_broadcast(room: Chatroom, core: Core) -> None:
    readers = {}
    for code in ("uk", "ar", "fa"):
        readers[code] = await registered(room, f"reader-{code}", code)
        await readers[code].taps("Networking and open meetings")
    orga = await organiser(room, locale="de")
    await orga.says("/broadcast")
    await orga.taps("🏷 Followers of topics and regions")
    await orga.taps("Networking and open meetings")
    await orga.taps("Continue ▶")
    orga.sees("Write the message in {language}. Translations can follow.", language="Deutsch")
    await orga.says(TEXTS["de"])
    await orga.taps("Українська")
    await orga.says(TEXTS["uk"])
    await orga.taps("Preview ▶")
    orga.sees("Recipients: {n}", n=3)
    assert "فارسی: 1" in orga.text
    await orga.taps("📢 Send")
    orga.sees_n(
        "Sending to {n} person now. You get a report when it is done.",
        "Sending to {n} people now. You get a report when it is done.",
        3,
    )
    await core.delivery.run_once()  # the report goes out once every row is final

    assert TEXTS["uk"] in plain(readers["uk"].inbox[-1].text)
    farsi = plain(readers["fa"].inbox[-1].text)
    assert TEXTS["de"] in farsi, "no Farsi text: the German one, with a note"
    assert readers["fa"].t("ℹ️ This text is in {language}.", language="آلمانی") in farsi
    report = plain(orga.inbox[-1].text)
    assert orga.t("📢 Your announcement has gone out.") in report


async def _thousand_subscribers(url: str) -> None:
    db = Database(url)
    try:
        async with db.transaction() as s:
            now = datetime.now(UTC)
            for i in range(1000):
                user = User(
                    locale=LANGUAGES[i % 6],
                    timezone="Europe/Berlin",
                    consent_version=1,
                    consent_at=now,
                    quiet_from=None,  # sent whatever the hour the test runs at
                    quiet_until=None,
                )
                s.add(user)
                await s.flush()
                s.add(
                    Identity(
                        user_id=user.id,
                        platform="telegram",
                        platform_user_id=str(10_000 + i),
                        chat_id=str(10_000 + i),
                        active=True,
                    )
                )
                s.add(Subscription(user_id=user.id, category_id=1))
    finally:
        await db.dispose()


@contextlib.asynccontextmanager
async def bot(settings: Settings) -> AsyncIterator[None]:
    stop, ready = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(serve(settings, stop, ready=ready))
    await asyncio.wait_for(ready.wait(), 30)
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


async def test_thousand_recipients_with_429s_and_a_restart(tmp_path: Path) -> None:
    api = FakeBotAPI(TOKEN)
    await api.start()
    api.flood_every, api.flood_retry = 50, 1
    url = f"sqlite+aiosqlite:///{tmp_path / 'broadcast.sqlite3'}"
    settings = Settings(
        database_url=url,
        locales_dir=PROJECT_ROOT / "locales",
        demo_data="yes",
        telegram_bot_token=TOKEN,
        telegram_base_url=api.url,
        telegram_bulk_rate=1000,
    )
    try:
        await migrate(url)
        await _thousand_subscribers(url)
        for i in range(1000):
            api.private_chat(FakeUser(10_000 + i, f"P{i}"))
        db = Database(url)
        services = Services.build(db, settings)
        await services.organisers.create_organisation("Dachverband")
        _id, total = await services.broadcasts.send(1, 1, TEXTS, Audience(categories=(1,)))
        await db.dispose()
        assert total == 1000

        def delivered() -> int:
            return sum(len(api.bot_messages(10_000 + i)) for i in range(1000))

        async with bot(settings):
            await api.wait_for(lambda: delivered() >= 400, within=60)
        halfway = delivered()
        assert 400 <= halfway < 1000, "stopped in the middle"
        async with bot(settings):
            await api.wait_for(lambda: delivered() >= 1000, within=90)
            await asyncio.sleep(0.5)

        for i in range(1000):
            code = LANGUAGES[i % 6]
            expected = TEXTS.get(code, TEXTS["de"])
            messages = [m for m in api.bot_messages(10_000 + i) if "📢" in m.visible_text]
            announcements = [m for m in messages if expected in m.visible_text]
            assert len(announcements) == 1, f"recipient {i} got {len(announcements)} copies"
        # The author (recipient 0 here) also got the final report, once.
        others = [m for m in api.bot_messages(10_000) if TEXTS["de"] not in m.visible_text]
        assert len(others) == 1 and "1000" in others[0].visible_text, "one report with the count"
        floods = [c for c in api.calls if c[0] == "sendMessage"]
        assert len(floods) >= 1000 + 1000 // 50 - 1, "429s happened and were retried"
        db = Database(url)
        async with db.transaction() as s:
            states = [
                r.status
                for r in await s.scalars(
                    select(OutboxMessage).where(OutboxMessage.kind == "broadcast")
                )
            ]
        await db.dispose()
        assert states.count("sent") == 1000
    finally:
        await api.stop()
