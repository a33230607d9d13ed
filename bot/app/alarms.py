"""The alarm clock: APScheduler wakes the bot when planned work is due.

Our tables are the record (reminders with their due instants, seat offers with their expiry,
people's next digests, one-time codes with their expiry); the scheduler only holds one date job
per kind of work, with a stable id ("reminders", "offers", "digests", "codes"), aimed at the
earliest due instant in that table. After each run it is aimed again; after each update (an
event edited or cancelled, settings changed, an offer made) it is re-aimed from the tables, so it
always follows them. A restart builds the same jobs from the same tables: nothing is
multiplied, nothing lost.

APScheduler drops a date job once it hands it to the executor, and its default misfire grace is
one second: here a job is never dropped for being late (``misfire_grace_time=None``), a crash
while it runs loses nothing (the rows stay due), and what is late is judged by our own rule
(bot/services/reminders.py). An alarm is never aimed further than a minute ahead, so work
planned by another process (a calendar import from the command line) is found within a minute.

Several bot processes on one PostgreSQL database each keep these alarms, but only the one that
leads (:class:`storage.db.Leadership`, an advisory lock) runs the due work; the others check at
each alarm, at least every minute, and one of them takes over when the leader's connection
ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app.logs import failure_summary
from bot.core.priority import Priority
from bot.services import Services
from storage.db import Leadership

log = logging.getLogger(__name__)

KINDS = ("reminders", "offers", "digests", "codes", "interpreting")
HEARTBEAT = timedelta(seconds=60)
RETRY = timedelta(seconds=15)
IDLE = timedelta(seconds=5)
STOP_WAIT = 30.0
# After an update, the alarms are aimed anew this much later (once for a burst of updates).
POKE_DELAY = 0.5


Work = tuple[Callable[[], Awaitable[int]], Callable[[], Awaitable[datetime | None]]]


def system_now() -> datetime:
    return datetime.now(UTC)


class Alarms:
    """One date job per kind of due work, aimed from the tables."""

    def __init__(
        self,
        services: Services,
        scheduler: AsyncIOScheduler,
        after_run: Callable[[], Awaitable[None] | None],
        now: Callable[[], datetime] = system_now,
        leadership: Leadership | None = None,
        *,
        priority: Priority | None = None,
    ) -> None:
        self.scheduler = scheduler
        # A run (a reminder to thousands is one unit of work) starts in a quiet moment.
        self.priority = priority or Priority()
        self.leadership = leadership or Leadership(services.db)
        self.leading = False
        self.after_run = after_run
        self.now = now
        self.work: dict[str, Work] = {
            "reminders": (services.reminders.run_due, services.reminders.next_due),
            "offers": (services.seats.expire_due, services.seats.next_due),
            "digests": (services.digests.run_due, services.digests.next_due),
            "codes": (services.codes.run_due, services.codes.next_due),
            "interpreting": (services.interpreting.run_due, services.interpreting.next_due),
        }
        self._locks = {kind: asyncio.Lock() for kind in KINDS}
        self._aiming: asyncio.Task[None] | None = None
        self._again = False
        self._running: set[asyncio.Task[object]] = set()
        self._stopped = False

    def start(self) -> None:
        """Every kind runs once now (work that fell due while the bot was down), then follows
        its table."""
        for kind in KINDS:
            self._set(kind, self.now())

    def job_ids(self) -> list[str]:
        return sorted(job.id for job in self.scheduler.get_jobs())

    def _set(self, kind: str, at: datetime) -> None:
        if self._stopped:
            return
        self.scheduler.add_job(
            self.fire,
            "date",
            run_date=at,
            args=[kind],
            id=kind,
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
            max_instances=3,
        )

    async def fire(self, kind: str) -> None:
        """Run the due work of ``kind`` (one run at a time per kind), then aim again."""
        if self._stopped:
            return
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        run, _next_due = self.work[kind]
        async with self._locks[kind]:
            if not await self.lead():
                self._set(kind, self.now() + HEARTBEAT)  # ask again in a minute
                return
            try:
                await self.priority.bulk_turn()
                done = await run()
                if done:
                    log.info("due %s: %d handled", kind, done)
                # Deliver (or wake the delivery worker) after every run: held notices whose
                # quiet hours ended go out too, also in the console, which has no worker loop.
                result = self.after_run()
                if result is not None:
                    await result
            except Exception as exc:
                # The database may be away: nothing is lost, the rows stay due.
                log.warning("due %s could not run:\n%s", kind, failure_summary(exc))
                self._set(kind, self.now() + RETRY)
                return
            # A run that found nothing never goes again at once (no busy loop, whatever the
            # tables say).
            await self.aim(kind, not_before=None if done else self.now() + IDLE)

    async def lead(self) -> bool:
        """Whether this process runs the due work now (it may take over from a dead one)."""
        if self._stopped:
            return False
        try:
            leading = await self.leadership.hold()
        except Exception as exc:
            log.warning("scheduler: leadership could not be checked:\n%s", failure_summary(exc))
            leading = False
        if leading != self.leading:
            self.leading = leading
            if leading:
                log.info("scheduler: this process runs the due work")
            else:
                log.info("scheduler: another process runs the due work")
        return leading

    async def aim(self, kind: str, *, not_before: datetime | None = None) -> None:
        """Aim the alarm of ``kind`` at the earliest due instant in its table."""
        if self._locks[kind].locked() and asyncio.current_task() not in self._running:
            return  # it runs now, and aims itself when done
        _run, next_due = self.work[kind]
        now = max(self.now(), not_before) if not_before is not None else self.now()
        try:
            due = await next_due()
        except Exception as exc:
            log.warning("due %s could not be read:\n%s", kind, failure_summary(exc))
            self._set(kind, now + RETRY)
            return
        at = now + HEARTBEAT if due is None else min(due, now + HEARTBEAT)
        self._set(kind, max(at, now))

    def poke(self) -> None:
        """Something may have changed what is planned: re-aim every alarm soon (once for a
        burst of updates), never delaying the update itself."""
        if self._stopped:
            return
        if self._aiming is not None and not self._aiming.done():
            self._again = True  # read the tables once more when this aiming is done
            return
        self._aiming = asyncio.get_running_loop().create_task(self._aim_all())

    async def _aim_all(self) -> None:
        # At most about twice a second however many updates arrive: each aiming reads every
        # kind's table, and under a stream of button presses it would never rest.
        self._again = True
        while self._again and not self._stopped:
            await asyncio.sleep(POKE_DELAY)
            self._again = False
            for kind in KINDS:
                await self.aim(kind)

    async def stop(self) -> None:
        """No new runs; the ones running finish their unit of work (before the database goes)."""
        self._stopped = True
        pending = [t for t in (self._aiming, *self._running) if t is not None and not t.done()]
        if pending:
            await asyncio.wait(pending, timeout=STOP_WAIT)
        # Another process takes over at once, not when it next asks.
        with contextlib.suppress(Exception):
            await self.leadership.release()
        self.leading = False
