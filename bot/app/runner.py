"""The bot's lifecycle: one loop runs the messengers and the delivery worker side by side,
and a stop request (SIGTERM, Ctrl-C) shuts them down in order without losing rows."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app.alarms import Alarms
from bot.app.core import Core
from bot.app.settings import Settings
from bot.app.status import StatusServer
from bot.core.errors import InstanceTaken, MessengerConflict
from bot.demo.events import load_demo
from bot.services import Clock, system_clock
from bot.transports.matrix import MatrixTransport
from bot.transports.telegram import TelegramTransport
from storage.db import Database, InstanceGuard, Leadership, migrate
from storage.repositories import EventRepository, OrganiserRepository

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


async def read_feeds(core: Core) -> None:
    """Re-read every organisation's iCal feed; a broken feed imports nothing and is logged."""
    async with core.db.transaction() as s:
        organisations = [o for o in await OrganiserRepository(s).organisations() if o.feed_url]
    for organisation in organisations:
        assert organisation.feed_url is not None
        try:
            data = await core.services.imports.fetch(organisation.feed_url)
            result = await core.services.imports.import_calendar(data, organisation.id)
            log.info("feed of organisation %d: %s", organisation.id, result)
        except Exception as exc:
            log.warning(
                "feed of organisation %d not imported: %s", organisation.id, type(exc).__name__
            )
    core.delivery.wake()


def settle_heap() -> None:
    """Everything built at start-up (modules, catalogs, the schema, the clients) lives as
    long as the process: moved out of the garbage collector's sight, so that its full
    collections walk only what came after (with the latency bench's heap a full collection
    paused every update for 25–130 ms)."""
    gc.collect()
    gc.freeze()


def alarm_clock(core: Core, after_run: Callable[[], Awaitable[None] | None]) -> Alarms:
    """The scheduler with its alarms for due work (reminders, offers, digests), re-aimed after
    every update; the caller adds its own jobs and starts it."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    alarms = Alarms(
        core.services,
        scheduler,
        after_run,
        leadership=Leadership(core.db, core.settings.instance),
        priority=core.dispatcher.priority,
    )
    core.dispatcher.after_each(alarms.poke)
    return alarms


def add_feeds_job(core: Core, alarms: Alarms) -> None:
    """Every organisation's feed is read every TREFFPUNKT_FEED_HOURS, by one process."""

    async def feeds() -> None:
        if await alarms.lead():  # one process reads the feeds
            await read_feeds(core)

    alarms.scheduler.add_job(
        feeds,
        "interval",
        hours=core.settings.feed_hours,
        id="feeds",
        replace_existing=True,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=3600,
        next_run_time=datetime.now(UTC) + timedelta(minutes=1),
    )


async def _claimed_core(settings: Settings, clock: Clock) -> tuple[Core, InstanceGuard]:
    """The core of a process that runs as its instance name, which no other live process
    uses (else :class:`InstanceTaken`, before anything starts)."""
    await prepare(settings, console=False)
    core = await Core.create(settings, clock=clock, run_migrations=False)
    guard = InstanceGuard(core.db, settings.instance)
    if not await guard.take():
        await core.close()
        raise InstanceTaken(settings.instance)
    return core, guard


async def serve(
    settings: Settings,
    stop: asyncio.Event,
    *,
    clock: Clock = system_clock,
    ready: asyncio.Event | None = None,
) -> None:
    """Run every configured messenger until ``stop`` is set; ``ready`` is set once all run.

    Raises :class:`MessengerConflict` (after stopping cleanly) when another process already
    receives a messenger's updates with the same credentials, and :class:`InstanceTaken`
    (before starting anything) when another process runs under this instance name."""
    core, guard = await _claimed_core(settings, clock)
    transports: list[TelegramTransport | MatrixTransport] = []
    conflicts: list[MessengerConflict] = []

    def give_way(conflict: MessengerConflict) -> None:
        conflicts.append(conflict)
        stop.set()

    if settings.telegram_bot_token:
        transports.append(TelegramTransport(core, settings, give_way))
    if settings.matrix_enabled:
        transports.append(MatrixTransport(core, settings))
    await core.services.jobs.recover()
    await core.services.reminders.plan_missing()
    worker = asyncio.create_task(core.delivery.run(), name="delivery")
    alarms = alarm_clock(core, core.delivery.wake)
    scheduler = alarms.scheduler
    # The scheduler is only the alarm clock: what must happen lives in our tables.

    add_feeds_job(core, alarms)
    scheduler.start()
    alarms.start()
    log.info("scheduler jobs: %s", ", ".join(alarms.job_ids()))
    started = []
    monitor = (
        StatusServer(core.services, settings.status_listen, settings.status_port)
        if settings.status_port
        else None
    )
    try:
        if monitor is not None:
            await monitor.start()
        for transport in transports:
            await transport.start()
            started.append(transport)
        log.info("Treffpunkt is running")
        settle_heap()
        if ready is not None:
            ready.set()
        await stop.wait()
    finally:
        gc.unfreeze()  # what was frozen may go once the process stops serving (tests serve often)
        log.info("Treffpunkt is stopping")
        # Order matters: first no new work (scheduler), then the delivery worker finishes the
        # wave it is sending (so nothing is left in flight), then the messengers go, then the
        # database.
        await alarms.stop()
        scheduler.shutdown(wait=False)
        core.delivery.stop()
        await worker
        for transport in reversed(started):
            try:
                await transport.stop()
            except Exception:
                log.exception("stopping %s failed", transport.platform)
        if monitor is not None:
            await monitor.stop()
        await guard.release()
        await core.close()
    if conflicts:
        raise conflicts[0]
