"""``treffpunkt status``: what an operator needs to see a stuck broadcast before people do —
the outbox per kind of message (waiting, held for quiet hours, being sent), the oldest row that
is due and not sent, what was sent in the last hour per outcome, which process runs the
scheduled work, and when each kind of due work comes next. Read only."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aiohttp import web

from bot.services import Services
from storage.db import Leadership, is_sqlite
from storage.repositories.status import StatusRepository

HOUR = timedelta(hours=1)
log = logging.getLogger(__name__)


@dataclass
class Status:
    now: datetime
    # kind → {"due": n, "held": n, "sending": n}
    queue: dict[str, dict[str, int]] = field(default_factory=dict)
    oldest_due: datetime | None = None
    last_hour: dict[str, int] = field(default_factory=dict)
    leader: str = ""
    next_due: dict[str, datetime | None] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """The same as JSON-ready data (the HTTP status endpoint)."""
        oldest = self.oldest_due
        return {
            "now": self.now.isoformat(),
            "queue": self.queue,
            "oldest_due": oldest.isoformat() if oldest else None,
            "oldest_due_seconds": int((self.now - oldest).total_seconds()) if oldest else None,
            "last_hour": self.last_hour,
            "scheduler": self.leader,
            "next_due": {k: v.isoformat() if v else None for k, v in self.next_due.items()},
        }

    def lines(self) -> list[str]:
        out = [f"Treffpunkt status at {self.now:%Y-%m-%d %H:%M:%S} UTC", "", "Outbox queue:"]
        if not self.queue:
            out.append("  empty")
        for kind, counts in sorted(self.queue.items()):
            out.append(
                f"  {kind:22} due {counts.get('due', 0):7,}  held (quiet hours, retry) "
                f"{counts.get('held', 0):7,}  sending {counts.get('sending', 0):5,}"
            )
        if self.oldest_due is not None:
            waited = self.now - self.oldest_due
            out.append(f"Oldest row due and not sent: due since {_ago(waited)}")
        else:
            out.append("Oldest row due and not sent: none")
        sent = ", ".join(f"{state} {n:,}" for state, n in sorted(self.last_hour.items()))
        out.append(f"Last hour: {sent or 'nothing sent'}")
        out.append(f"Scheduled work runs in: {self.leader}")
        out.append("Next due work:")
        for kind, at in self.next_due.items():
            out.append(f"  {kind:14} {at:%Y-%m-%d %H:%M:%S} UTC" if at else f"  {kind:14} none")
        return out


def _ago(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


async def status(services: Services) -> Status:
    now = services.users.clock()
    found = Status(now)
    async with services.db.reading() as s:
        repo = StatusRepository(s)
        found.queue = await repo.queue(now)
        found.oldest_due = await repo.oldest_due(now)
        found.last_hour = await repo.finished_since(now - HOUR)
        if is_sqlite(services.db.url):
            found.leader = "the bot process (SQLite: one process)"
        else:
            holder = await repo.lock_holder(Leadership.KEY)
            found.leader = (
                f"process {holder}" if holder else "no process at the moment (none is running?)"
            )
    for kind, next_due in (
        ("reminders", services.reminders.next_due),
        ("offers", services.seats.next_due),
        ("digests", services.digests.next_due),
        ("codes", services.codes.next_due),
        ("interpreting", services.interpreting.next_due),
    ):
        found.next_due[kind] = await next_due()
    return found


class StatusServer:
    """``treffpunkt status`` over HTTP, for a monitoring system (``TREFFPUNKT_STATUS_PORT``):
    ``GET /status`` is the report as JSON, ``GET /health`` answers 200 while the database
    answers (503 otherwise). Counts and process names only, nothing personal; it listens on
    the loopback address unless told otherwise."""

    def __init__(self, services: Services, listen: str, port: int) -> None:
        self.services = services
        self.listen = listen
        self.port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/status", self._status)
        app.router.add_get("/health", self._health)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.listen, self.port).start()
        log.info("status endpoint on %s:%d", self.listen, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _status(self, _request: web.Request) -> web.Response:
        try:
            found = await status(self.services)
        except Exception as exc:
            log.warning("status could not be read: %s", type(exc).__name__)
            return web.json_response({"error": "database not reachable"}, status=503)
        return web.json_response(found.as_dict())

    async def _health(self, _request: web.Request) -> web.Response:
        try:
            async with self.services.db.reading() as s:
                await StatusRepository(s).ping()
        except Exception:
            return web.Response(text="database not reachable\n", status=503)
        return web.Response(text="ok\n")
