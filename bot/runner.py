"""The bot's lifecycle: one loop runs the messengers and the delivery worker side by side,
and a stop request (SIGTERM, Ctrl-C) shuts them down in order without losing rows."""

from __future__ import annotations

import asyncio
import logging

from bot.app import Core
from bot.demo import load_demo
from bot.services import Clock, system_clock
from bot.settings import Settings
from bot.transports.matrix import MatrixTransport
from bot.transports.telegram import TelegramTransport
from storage.db import Database, migrate
from storage.repositories import EventRepository

log = logging.getLogger(__name__)


def messengers_configured(settings: Settings) -> bool:
    return bool(settings.telegram_bot_token) or settings.matrix_enabled


async def prepare(settings: Settings, *, console: bool) -> None:
    """Migrate; on a fresh console set-up (or when asked) load the demo events."""
    await migrate(settings.database_url)
    wants_demo = settings.demo_data == "yes" or (settings.demo_data == "auto" and console)
    if not wants_demo:
        return
    db = Database(settings.database_url)
    try:
        async with db.transaction() as s:
            empty = await EventRepository(s).count() == 0
        if empty:
            log.info("loaded %d demo events", await load_demo(db, tz_name=settings.timezone))
    finally:
        await db.dispose()


async def serve(
    settings: Settings,
    stop: asyncio.Event,
    *,
    clock: Clock = system_clock,
    ready: asyncio.Event | None = None,
) -> None:
    """Run every configured messenger until ``stop`` is set; ``ready`` is set once all run."""
    await prepare(settings, console=False)
    core = await Core.create(settings, clock=clock, run_migrations=False)
    transports: list[TelegramTransport | MatrixTransport] = []
    if settings.telegram_bot_token:
        transports.append(TelegramTransport(core, settings))
    if settings.matrix_enabled:
        transports.append(MatrixTransport(core, settings))
    worker = asyncio.create_task(core.delivery.run(), name="delivery")
    started = []
    try:
        for transport in transports:
            await transport.start()
            started.append(transport)
        log.info("Treffpunkt is running")
        if ready is not None:
            ready.set()
        await stop.wait()
    finally:
        log.info("Treffpunkt is stopping")
        for transport in reversed(started):
            try:
                await transport.stop()
            except Exception:
                log.exception("stopping %s failed", transport.platform)
        core.delivery.stop()
        await worker
        await core.close()
