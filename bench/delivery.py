"""Outbox throughput: rows rendered (in each recipient's language) and handed to a messenger
that does nothing, with no rate limit — the worker's own cost per message."""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app.core import Core
from bot.app.settings import Settings
from bot.core.chat import Reply
from bot.delivery.lanes import Lane
from bot.services.broadcasts import Audience
from storage.models import Identity, Subscription, User

RECIPIENTS = 2000


class Null:
    platform = "null"
    lane = Lane(0, 0, 0)
    sent = 0

    def is_group(self, chat_id: str) -> bool:
        return False

    async def send(self, chat_id: str, reply: Reply) -> None:
        self.sent += 1


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        core = await Core.create(Settings(database_url=f"sqlite+aiosqlite:///{folder}/b.sqlite3"))
        sink = Null()
        core.delivery.add_sender(sink)
        async with core.db.transaction() as s:
            for i in range(RECIPIENTS):
                user = User(
                    locale=("de", "uk", "ar", "fa")[i % 4],
                    timezone="Europe/Berlin",
                    consent_version=1,
                    consent_at=datetime.now(UTC),
                    quiet_from=None,  # sent whatever the hour the benchmark runs at
                    quiet_until=None,
                )
                s.add(user)
                await s.flush()
                s.add(
                    Identity(
                        user_id=user.id,
                        platform="null",
                        platform_user_id=str(i),
                        chat_id=str(i),
                        active=True,
                    )
                )
                s.add(Subscription(user_id=user.id, category_id=1))
        organisation = await core.services.organisers.create_organisation("Bench e. V.")
        start = time.perf_counter()
        await core.services.broadcasts.send(
            organisation.id, 1, {"de": "Hallo", "uk": "Привіт"}, Audience(categories=(1,))
        )
        queued = time.perf_counter() - start
        start = time.perf_counter()
        await core.delivery.run_once()
        sent = time.perf_counter() - start
        await core.close()
    print(f"queued {RECIPIENTS} rows in {queued:.2f} s ({queued / RECIPIENTS * 1000:.2f} ms/row)")
    print(
        f"sent {sink.sent} in {sent:.2f} s: {sink.sent / sent:.0f} messages/s, "
        f"{sent / max(sink.sent, 1) * 1000:.2f} ms per message (Telegram allows ~30/s)"
    )


if __name__ == "__main__":
    asyncio.run(main())
