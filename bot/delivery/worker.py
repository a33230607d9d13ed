"""The delivery worker: sends outbox rows under each platform's limits, in each recipient's
language, and records a final state for every row.

A row is marked ``sending`` before it is handed to a transport and ``sent`` after. A row still
``sending`` at start-up was in flight when the process died: nobody can tell whether it
arrived, so it becomes ``unknown`` and is counted, never silently re-sent or dropped.
Final states: ``sent``; ``failed`` with a reason (blocked, gone, gave up after retries);
``unknown`` (a timeout after the request went out). 429s pause the platform's lane and do not
count as attempts; other errors are retried with exponential backoff and jitter.

A platform that drops a repeated send carrying the same key (Matrix: the transaction id) gets
one key per row, stored with the row before the first attempt: every retry, also one after a
crash, sends with that key, so the row arrives exactly once instead of becoming ``unknown``.

Several processes may deliver from one PostgreSQL database. A worker claims a batch of rows
for its process (``TREFFPUNKT_INSTANCE``) for a while (``LEASE``), selected ``FOR UPDATE SKIP
LOCKED`` and marked in the same transaction, so no other worker takes them; it hands a row to
the transport only while the claim is still its own. Rows of a process that died are taken over
when their claim runs out; a process restarted under the same name settles its own at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from bot import i18n
from bot.app.logs import failure_summary
from bot.app.settings import Settings
from bot.core.chat import Reply
from bot.core.context import NoticeContext
from bot.core.errors import ChatMoved, DeliveryUnknown, RateLimited, RecipientGone, SendFailed
from bot.core.registry import NoticeRenderer
from bot.delivery.lanes import Lane
from bot.i18n import I18n
from bot.services import Services
from storage.db import is_sqlite
from storage.records import IdentityRecord, OutboxRecord, UserRecord
from storage.repositories import OutboxRepository, UserRepository

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BATCH = 200
MAX_BACKOFF = 300.0
# How long a claimed batch stays this process's: far longer than sending it takes, even
# through a long rate-limit pause; after it, another process takes the rows over.
LEASE = timedelta(minutes=10)
# How often a running worker settles the rows of processes that died (their claims ran out).
TAKEOVER_EVERY = 60.0


class Sender(Protocol):
    """The part of a transport the worker needs: send one reply into one chat."""

    platform: str
    lane: Lane

    def is_group(self, chat_id: str) -> bool: ...

    async def send(self, chat_id: str, reply: Reply) -> None: ...


@runtime_checkable
class KeyedSender(Sender, Protocol):
    """A sender whose platform drops a repeated send that carries the same ``key``."""

    async def send_once(self, chat_id: str, reply: Reply, key: str) -> None: ...


def send_key(row: OutboxRecord, platform: str) -> str | None:
    """The row's key on ``platform``: the stored one, a new one, or None when the row was
    tried with a key on another messenger (whether that arrived cannot be known)."""
    prefix = f"{platform}-"
    if row.send_key is None:
        return f"{prefix}{uuid.uuid4().hex}"
    return row.send_key if row.send_key.startswith(prefix) else None


@dataclass(frozen=True)
class Outcome:
    """What became of a row: its next state, and ``gone`` (why) when the account is lost."""

    status: str
    error: str | None = None
    next_attempt_at: datetime | None = None
    counts_as_attempt: bool = True
    gone: str | None = None


def backoff(attempt: int) -> float:
    """Exponential with full jitter, so that many retries do not come back at once."""
    return random.uniform(0.5, 1.0) * min(MAX_BACKOFF, 2.0**attempt)  # noqa: S311 - not crypto


class DeliveryWorker:
    def __init__(
        self,
        services: Services,
        i18n_: I18n,
        settings: Settings,
        renderers: Mapping[str, NoticeRenderer],
        shared: frozenset[str] = frozenset(),
    ) -> None:
        self.services = services
        self.shared = shared
        self._rendered: dict[tuple[str, str, str, str | None], Reply | None] = {}
        self.i18n = i18n_
        self.settings = settings
        self.renderers = renderers
        self.senders: dict[str, Sender] = {}
        self.before_round: list[Callable[[], Awaitable[object]]] = []
        self.after_round: list[Callable[[], Awaitable[None]]] = []
        self._wake = asyncio.Event()
        self._stopping = False
        # One round at a time: two rounds at once could both claim (and send) the same row.
        self._round = asyncio.Lock()

    def add_sender(self, sender: Sender) -> None:
        self.senders[sender.platform] = sender

    def wake(self) -> None:
        self._wake.set()

    @property
    def owner(self) -> str:
        """This process's name on the rows it claims."""
        return self.settings.instance

    async def recover(self, *, starting: bool = True) -> int:
        """Rows left in flight by a crash become ``unknown`` (or are sent again with their
        key); returns how many. On SQLite (one process) at start-up: all of them. On
        PostgreSQL: those whose claim ran out (a process that died), and at start-up this
        process's own — never what a live process is sending now."""
        now = self.services.users.clock()
        async with self.services.db.transaction() as s:
            outbox = OutboxRepository(s)
            if is_sqlite(self.services.db.url):
                return await outbox.recover() if starting else 0
            return await outbox.recover(self.owner, now, starting=starting)

    async def run_once(self) -> int:
        """Send every row that is due now, each at most once per round; returns rows handled."""
        async with self._round:
            return await self._round_once()

    async def _round_once(self) -> int:
        for callback in self.before_round:
            await callback()
        handled = 0
        while not self._stopping:
            now = self.services.users.clock()
            # A round with nothing due only reads: it takes no SQLite write lock.
            async with self.services.db.unit_of_work(write=False) as unit:
                if not await OutboxRepository(unit.session).any_due(now):
                    break
            async with self.services.db.transaction() as s:
                rows = await OutboxRepository(s).claim(BATCH, now, owner=self.owner, lease=LEASE)
            if not rows:
                break
            # A row handled here is final, or due again only later (backoff, a rate limit):
            # each row goes at most once per round, and a batch is never larger than BATCH.
            done = 0
            try:
                for row in rows:
                    if self._stopping:
                        break
                    await self._deliver(row)
                    done += 1
            finally:
                handled += done
                if done < len(rows):  # stopping, or a failure: the rest go back at once
                    with contextlib.suppress(Exception):
                        await self._release(rows[done:])
        self._rendered.clear()  # a message edited meanwhile is rendered anew next round
        for callback in self.after_round:
            await callback()
        return handled

    async def _release(self, rows: list[OutboxRecord]) -> None:
        """Stopping: the claimed rows not sent go back at once (not after the claim runs out)."""
        async with self.services.db.transaction() as s:
            await OutboxRepository(s).release([r.id for r in rows], self.owner)

    async def _recipient(self, user_id: int) -> tuple[UserRecord | None, IdentityRecord | None]:
        async with self.services.db.transaction() as s:
            users = UserRepository(s)
            user = await users.get(user_id)
            identities = await users.identities(user_id) if user else []
        reachable = [i for i in identities if i.active and i.chat_id and i.platform in self.senders]
        # The most recently added reachable account: after /link, the newest messenger.
        return user, (reachable[-1] if reachable else None)

    async def _record(
        self,
        row: OutboxRecord,
        outcome: Outcome,
        target: IdentityRecord | None = None,
        chat_id: str | None = None,
    ) -> None:
        """The row's outcome and what the attempt learnt about the account, in one commit."""
        async with self.services.db.transaction() as s:
            users = UserRepository(s)
            if target is not None and chat_id is not None and chat_id != target.chat_id:
                await users.move_chat(target.id, chat_id)
            if target is not None and outcome.gone is not None:
                await users.deactivate(target.id, outcome.gone)
            await OutboxRepository(s).mark(
                row.id,
                outcome.status,
                outcome.error,
                next_attempt_at=outcome.next_attempt_at,
                counts_as_attempt=outcome.counts_as_attempt,
            )

    async def _deliver(self, row: OutboxRecord) -> None:
        user, target = await self._recipient(row.user_id)
        renderer = self.renderers.get(row.kind)
        if user is None or renderer is None or target is None or target.chat_id is None:
            reason = "unknown kind" if renderer is None else "no reachable chat"
            await self._record(row, Outcome("failed", reason))
            return
        lang = self.i18n.lang(user.locale, user.second_locale)
        key = (row.kind, row.ref, lang.code, lang.second)
        if row.kind in self.shared and key in self._rendered:
            reply = self._rendered[key]
        else:
            with i18n.use(lang):
                context = NoticeContext(self.services, self.settings, user, dict(row.payload))
                reply = await renderer(context)
            if row.kind in self.shared:
                self._rendered[key] = reply
        if reply is None:
            await self._record(row, Outcome("failed", "no longer relevant"))
            return
        sender = self.senders[target.platform]
        sent_with = None
        if isinstance(sender, KeyedSender):
            sent_with = send_key(row, sender.platform)
            if sent_with is None:
                await self._record(row, Outcome("unknown", "tried before on another messenger"))
                return
        now = self.services.users.clock()
        async with self.services.db.transaction() as s:
            mine = await OutboxRepository(s).start_sending(
                row.id, sent_with, owner=self.owner, now=now, lease=LEASE
            )
        if not mine:
            log.info("outbox row %d was taken over by another process; not sent here", row.id)
            return
        outcome, chat_id = await self._send(sender, row, target.chat_id, reply, sent_with)
        await self._record(row, outcome, target, chat_id)

    async def _send(
        self, sender: Sender, row: OutboxRecord, chat_id: str, reply: Reply, key: str | None
    ) -> tuple[Outcome, str]:
        """Hand the reply to the transport, following a moved group once: (outcome, chat)."""
        for _moved in range(2):
            await sender.lane.wait(chat_id, sender.is_group(chat_id))
            try:
                if key is not None and isinstance(sender, KeyedSender):
                    await sender.send_once(chat_id, reply, key)
                else:
                    await sender.send(chat_id, reply)
            except ChatMoved as moved:
                chat_id = moved.new_chat_id
                continue
            except RateLimited as limited:
                log.info(
                    "rate limited (429) on %s: the lane pauses %.1f s",
                    sender.platform,
                    limited.retry_after,
                )
                sender.lane.pause(limited.retry_after)
                due = self.services.users.clock() + timedelta(seconds=limited.retry_after)
                return Outcome("pending", "rate limited", due, counts_as_attempt=False), chat_id
            except RecipientGone as gone:
                return Outcome(
                    "failed", f"blocked or gone: {gone.reason}", gone=gone.reason
                ), chat_id
            except DeliveryUnknown as unknown:
                return Outcome("unknown", unknown.reason), chat_id
            except SendFailed as failed:
                log.info("delivery of outbox row %d failed for now: %s", row.id, failed.reason)
                return self._retry(row, failed.reason), chat_id
            except Exception as exc:
                log.warning("delivery of outbox row %d failed:\n%s", row.id, failure_summary(exc))
                return self._retry(row, type(exc).__name__), chat_id
            return Outcome("sent"), chat_id
        return Outcome("failed", "chat moved more than once"), chat_id

    def _retry(self, row: OutboxRecord, reason: str) -> Outcome:
        """Try again after a backoff, or give up after the last attempt."""
        attempt = row.attempts + 1
        if attempt >= MAX_ATTEMPTS:
            return Outcome("failed", f"gave up after {attempt} attempts: {reason}")
        due = self.services.users.clock() + timedelta(seconds=backoff(attempt))
        return Outcome("pending", reason, due)

    async def run(self, idle_seconds: float = 2.0) -> None:
        """Deliver until :meth:`stop`; woken at once after each update, else every few seconds."""
        await self.recover()
        loop = asyncio.get_running_loop()
        settled = loop.time()
        while not self._stopping:
            if loop.time() - settled >= TAKEOVER_EVERY:
                settled = loop.time()
                with contextlib.suppress(Exception):
                    await self.recover(starting=False)
            try:
                await self.run_once()
            except Exception as exc:
                # The database may be away for a while: nothing is lost, the rows wait.
                log.warning("delivery round failed:\n%s", failure_summary(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), idle_seconds)
            self._wake.clear()

    def stop(self) -> None:
        """Stop after the row being sent; every other row stays pending for the next start."""
        self._stopping = True
        self._wake.set()
