"""The delivery worker: sends outbox rows, each rendered in its recipient's language.

A row is marked ``sending`` before it is handed to a transport and ``sent`` after. A row
still ``sending`` at start-up was in flight when the process died: nobody can tell whether it
arrived, so it becomes ``unknown`` and is counted, never silently re-sent or dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Protocol

from sqlalchemy import update

from bot import i18n
from bot.chat import Reply
from bot.context import NoticeContext
from bot.errors import RecipientGone
from bot.i18n import I18n
from bot.logs import failure_summary
from bot.registry import NoticeRenderer
from bot.services import Services
from bot.settings import Settings
from storage.models import Identity, OutboxMessage
from storage.repositories import OutboxRepository, UserRepository

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
BATCH = 50


class Sender(Protocol):
    """The part of a transport the worker needs: send one reply into one chat."""

    platform: str

    async def send(self, chat_id: str, reply: Reply) -> None: ...


class DeliveryWorker:
    def __init__(
        self,
        services: Services,
        i18n_: I18n,
        settings: Settings,
        renderers: Mapping[str, NoticeRenderer],
    ) -> None:
        self.services = services
        self.i18n = i18n_
        self.settings = settings
        self.renderers = renderers
        self.senders: dict[str, Sender] = {}
        self._wake = asyncio.Event()
        self._stopping = False

    def add_sender(self, sender: Sender) -> None:
        self.senders[sender.platform] = sender

    def wake(self) -> None:
        self._wake.set()

    async def recover(self) -> int:
        """Rows left in flight by a crash become ``unknown``; returns how many."""
        async with self.services.db.transaction() as s:
            result = await s.execute(
                update(OutboxMessage)
                .where(OutboxMessage.status == "sending")
                .values(status="unknown", last_error="in flight when the bot stopped")
            )
        return int(getattr(result, "rowcount", 0) or 0)

    async def run_once(self) -> int:
        """Send everything pending now, each row at most once per round; returns rows handled."""
        seen: set[int] = set()
        while True:
            async with self.services.db.transaction() as s:
                rows = [
                    r
                    for r in await OutboxRepository(s).claim(BATCH + len(seen))
                    if r.id not in seen
                ]
                for row in rows:
                    await s.execute(
                        update(OutboxMessage)
                        .where(OutboxMessage.id == row.id)
                        .values(status="sending")
                    )
            if not rows:
                return len(seen)
            for row in rows:
                seen.add(row.id)
                await self._deliver(row.id, row.kind, row.user_id, row.payload, row.attempts)

    async def _deliver(
        self, row_id: int, kind: str, user_id: int, payload: dict[str, object], attempts: int
    ) -> None:
        status, error = "sent", None
        try:
            async with self.services.db.transaction() as s:
                users = UserRepository(s)
                user = await users.get(user_id)
                identities = [
                    i
                    for i in (await users.identities(user_id) if user else [])
                    if i.active and i.chat_id and i.platform in self.senders
                ]
            renderer = self.renderers.get(kind)
            if user is None or renderer is None or not identities:
                status, error = "failed", "no reachable chat" if renderer else "unknown kind"
            else:
                with i18n.use(self.i18n.lang(user.locale, user.second_locale)):
                    reply = await renderer(
                        NoticeContext(self.services, self.settings, user, dict(payload))
                    )
                if reply is None:
                    status, error = "failed", "no longer relevant"
                else:
                    target = identities[0]
                    assert target.chat_id is not None
                    try:
                        await self.senders[target.platform].send(target.chat_id, reply)
                    except RecipientGone as gone:
                        status, error = "failed", gone.reason
                        await self._deactivate(target.id, gone.reason)
        except Exception as exc:
            log.warning("delivery of outbox row %d failed:\n%s", row_id, failure_summary(exc))
            status = "pending" if attempts + 1 < MAX_ATTEMPTS else "failed"
            error = type(exc).__name__
        async with self.services.db.transaction() as s:
            await OutboxRepository(s).mark(row_id, status, error)

    async def _deactivate(self, identity_id: int, reason: str) -> None:
        async with self.services.db.transaction() as s:
            await s.execute(
                update(Identity)
                .where(Identity.id == identity_id)
                .values(active=False, inactive_reason=reason[:255])
            )

    async def run(self, idle_seconds: float = 5.0) -> None:
        """Deliver until :meth:`stop`; woken at once after each update, else every few seconds."""
        await self.recover()
        while not self._stopping:
            try:
                await self.run_once()
            except Exception as exc:
                log.warning("delivery round failed:\n%s", failure_summary(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), idle_seconds)
            self._wake.clear()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
