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
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, cast, runtime_checkable

from bot import i18n
from bot.app.logs import failure_summary
from bot.app.settings import Settings
from bot.core.chat import Reply
from bot.core.context import NoticeBatch, NoticeContext
from bot.core.errors import ChatMoved, DeliveryUnknown, RateLimited, RecipientGone, SendFailed
from bot.core.priority import Priority
from bot.core.registry import NoticeRenderer
from bot.delivery.lanes import Lane
from bot.delivery.pace import SharedPace
from bot.i18n import I18n
from bot.services import Services
from storage.db import is_sqlite
from storage.records import IdentityRecord, OutboxRecord, UserRecord
from storage.repositories import OutboxRepository, UserRepository
from storage.repositories.outbox import Marking

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BATCH = 200
# A worker claims about what its lanes send in this long (at most BATCH): at a messenger's
# pace the rest stays free for other processes, and a dead process holds few rows.
CLAIM_SECONDS = 2.0
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


@dataclass
class Send:
    """One row on its way: to whom, into which chat, what, and with which key."""

    row: OutboxRecord
    target: IdentityRecord | None
    chat_id: str
    reply: Reply | None
    key: str | None
    moved_to: str | None = None  # the chat's new id, learnt while sending

    @property
    def platform(self) -> str:
        return self.target.platform if self.target is not None else ""


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
        *,
        priority: Priority | None = None,
    ) -> None:
        self.services = services
        # People first: each step of rendering and bookkeeping waits while an update is being
        # answered (sends already booked still go at their instants).
        self.priority = priority or Priority()
        self.shared = shared
        self._rendered: dict[tuple[str, str, str, str | None], Reply | None] = {}
        self.i18n = i18n_
        self.settings = settings
        self.renderers = renderers
        self.senders: dict[str, Sender] = {}
        self._keyed: dict[str, bool] = {}
        self._langs: dict[tuple[str, str | None], i18n.Lang] = {}
        self.before_round: list[Callable[[], Awaitable[object]]] = []
        self.after_round: list[Callable[[], Awaitable[None]]] = []
        self._wake = asyncio.Event()
        self._stopped = asyncio.Event()
        self._flying: asyncio.Task[list[tuple[Send, Outcome]]] | None = None
        self._stopping = False
        # One round at a time: two rounds at once could both claim (and send) the same row.
        self._round = asyncio.Lock()

    def add_sender(self, sender: Sender) -> None:
        self.senders[sender.platform] = sender
        self._keyed[sender.platform] = isinstance(sender, KeyedSender)
        if not is_sqlite(self.services.db.url):
            # Several processes may send: the platform's rate holds for all of them.
            sender.lane.share(SharedPace(self.services.db, sender.platform))

    def wake(self) -> None:
        self._wake.set()

    @property
    def batch(self) -> int:
        """Rows per claim: what the lanes send in CLAIM_SECONDS, at most BATCH."""
        lanes = [sender.lane for sender in self.senders.values()]
        if not lanes or min(lane.per_second for lane in lanes) <= 0:
            return BATCH  # a lane without a pace sends as fast as it is given rows
        rows = max(1, min(BATCH, int(sum(lane.per_second for lane in lanes) * CLAIM_SECONDS)))
        # Whole waves: a claim that ends in a short wave leaves the lane idle while the next
        # claim is read and rendered (at 975/s: 195 rows a wave, and 200 a claim lost 9 ms of
        # every 205).
        wave = max(lane.wave for lane in lanes)
        return rows - rows % wave if rows >= wave else rows

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
        # Rows claimed and not yet settled; one wave in flight while the next is prepared.
        claimed: dict[int, OutboxRecord] = {}
        handled = 0
        full = False  # the last claim took a whole batch: more is likely due
        try:
            while not self._stopping:
                await self.priority.bulk_turn()
                if self._stopping:
                    break
                now = self.services.users.clock()
                if not full:
                    # A round with nothing due only reads: it takes no SQLite write lock.
                    async with self.services.db.unit_of_work(write=False) as unit:
                        if not await OutboxRepository(unit.session).any_due(now):
                            break
                async with self.services.db.transaction() as s:
                    rows = await OutboxRepository(s).claim(
                        self.batch, now, owner=self.owner, lease=LEASE
                    )
                if not rows:
                    break
                full = len(rows) == self.batch
                # A row handled here is final, or due again only later (backoff, a rate
                # limit): each row goes at most once per round, a batch at most BATCH rows.
                claimed.update((r.id, r) for r in rows)
                handled += len(rows)
                # Read after the claim commits: the write lock (SQLite) is held for the claim
                # alone, and an update waiting for it waits that much less.
                await self.priority.bulk_turn()
                async with self.services.db.reading() as s:
                    people = await UserRepository(s).recipients({r.user_id for r in rows})
                await self._deliver_batch(rows, people, claimed)
        finally:
            try:
                flying, self._flying = self._flying, None
                await self._land(claimed, flying)  # the wave in flight, also when stopping
            finally:
                handled -= len(claimed)
                if claimed:  # stopping, or a failure: the rest go back at once
                    with contextlib.suppress(Exception):
                        await self._release(list(claimed.values()))
        self._rendered.clear()  # a message edited meanwhile is rendered anew next round
        for callback in self.after_round:
            await callback()
        return handled

    async def _release(self, rows: list[OutboxRecord]) -> None:
        """Stopping or a failure: the claimed rows not handed over go back at once (not after
        the claim runs out)."""
        async with self.services.db.transaction() as s:
            await OutboxRepository(s).release([r.id for r in rows], self.owner)

    async def _deliver_batch(
        self,
        rows: list[OutboxRecord],
        people: Mapping[int, tuple[UserRecord, list[IdentityRecord]]],
        claimed: dict[int, OutboxRecord],
    ) -> None:
        """Render each row, settle those that cannot go, and send the rest in waves per
        platform; ``claimed`` keeps the rows not yet settled."""
        settled: list[tuple[Send, Outcome]] = []
        lanes: dict[str, list[Send]] = {}
        # The rows of one notice share a batch: its renderer reads once for all of them.
        recipients: dict[tuple[str, str], list[int]] = {}
        for row in rows:
            recipients.setdefault((row.kind, row.ref), []).append(row.user_id)
        batches = {key: NoticeBatch(tuple(users)) for key, users in recipients.items()}
        for row in rows:
            await self.priority.bulk_turn()
            try:
                batch = batches[row.kind, row.ref]
                prepared = await self._prepare(row, people.get(row.user_id), batch)
            except Exception as exc:
                # One notice that cannot be rendered does not hold up the rest.
                log.warning(
                    "outbox row %d could not be rendered:\n%s", row.id, failure_summary(exc)
                )
                prepared = self._retry(row, f"not rendered: {type(exc).__name__}")
            if isinstance(prepared, Outcome):
                settled.append((Send(row, None, "", None, None), prepared))
            else:
                lanes.setdefault(prepared.platform, []).append(prepared)
        await self._settle(settled, claimed)
        for platform, queued in lanes.items():
            sender, sends = self.senders[platform], queued
            while sends and not self._stopping:
                wave, sends, waiting = self._wave(sender, sends)
                await self._settle(waiting, claimed)
                before, self._flying = self._flying, None
                try:
                    self._flying = await self._launch(sender, wave, claimed)
                finally:
                    await self._land(claimed, before)  # the wave before, sent meanwhile

    def _wave(
        self, sender: Sender, sends: list[Send]
    ) -> tuple[list[Send], list[Send], list[tuple[Send, Outcome]]]:
        """The next wave (one message per chat, each chat ready), the rest, and the rows that
        wait for their chat's turn (a second message to one chat comes a little later)."""
        lane = sender.lane
        wave: list[Send] = []
        rest: list[Send] = []
        waiting: list[tuple[Send, Outcome]] = []
        chats: set[str] = set()
        now = self.services.users.clock()
        for send in sends:
            if len(wave) >= lane.wave:
                rest.append(send)
                continue
            chat = send.chat_id
            ready_in = lane.chat_ready_in(chat, sender.is_group(chat))
            if chat in chats:
                rest.append(send)  # the next wave, after this one went to the chat
            elif ready_in > 0:
                due = now + timedelta(seconds=ready_in)
                turn = Outcome(
                    "pending", "waiting for the chat's turn", due, counts_as_attempt=False
                )
                waiting.append((send, turn))
            else:
                chats.add(chat)
                lane.hold_chat(chat)  # its turn starts now: the next wave does not take it
                wave.append(send)
        return wave, rest, waiting

    async def _prepare(
        self,
        row: OutboxRecord,
        person: tuple[UserRecord, list[IdentityRecord]] | None,
        batch: NoticeBatch | None = None,
    ) -> Send | Outcome:
        """The row's recipient, chat and rendered message, or the outcome that it cannot go."""
        user, identities = person if person is not None else (None, [])
        reachable = [i for i in identities if i.active and i.chat_id and i.platform in self.senders]
        # The most recently added reachable account: after /link, the newest messenger.
        target = reachable[-1] if reachable else None
        renderer = self.renderers.get(row.kind)
        if user is None or renderer is None or target is None or target.chat_id is None:
            return Outcome("failed", "unknown kind" if renderer is None else "no reachable chat")
        lang = self._langs.get((user.locale, user.second_locale))
        if lang is None:
            lang = self._langs[user.locale, user.second_locale] = self.i18n.lang(
                user.locale, user.second_locale
            )
        key = (row.kind, row.ref, lang.code, lang.second)
        if row.kind in self.shared and key in self._rendered:
            reply = self._rendered[key]
        else:
            with i18n.use(lang):
                context = NoticeContext(
                    self.services, self.settings, user, dict(row.payload), batch or NoticeBatch()
                )
                reply = await renderer(context)
            if row.kind in self.shared:
                self._rendered[key] = reply
        if reply is None:
            return Outcome("failed", "no longer relevant")
        sender = self.senders[target.platform]
        sent_with = None
        if self._keyed[target.platform]:
            sent_with = send_key(row, sender.platform)
            if sent_with is None:
                return Outcome("unknown", "tried before on another messenger")
        return Send(row, target, target.chat_id, reply, sent_with)

    async def _launch(
        self, sender: Sender, wave: list[Send], claimed: dict[int, OutboxRecord]
    ) -> asyncio.Task[list[tuple[Send, Outcome]]] | None:
        """Mark the wave ``sending`` (one statement) and start sending it at its booked
        instants; the task's outcomes are settled by :meth:`_land`."""
        if not wave:
            return None
        await self.priority.bulk_turn()
        # The slots first: should booking fail, no row has been marked as handed over.
        instants = await sender.lane.book(len(wave))
        now = self.services.users.clock()
        async with self.services.db.transaction() as s:
            mine = await OutboxRepository(s).start_sending_many(
                {send.row.id: send.key for send in wave}, owner=self.owner, now=now, lease=LEASE
            )
        for send in wave:
            if send.row.id not in mine:
                log.info(
                    "outbox row %d was taken over by another process; not sent here", send.row.id
                )
                claimed.pop(send.row.id, None)
        instants = [at for send, at in zip(wave, instants, strict=True) if send.row.id in mine]
        wave = [send for send in wave if send.row.id in mine]

        async def send_all() -> list[tuple[Send, Outcome]]:
            results = await asyncio.gather(
                *(self._send_at(sender, send, at) for send, at in zip(wave, instants, strict=True)),
                return_exceptions=True,
            )
            outcomes: list[tuple[Send, Outcome]] = []
            for send, result in zip(wave, results, strict=True):
                if isinstance(result, BaseException):
                    # Not from the transport (those are outcomes already): it was not sent.
                    log.warning(
                        "sending outbox row %d broke:\n%s", send.row.id, failure_summary(result)
                    )
                    outcomes.append((send, self._retry(send.row, type(result).__name__)))
                else:
                    outcomes.append(result)
            return outcomes

        return asyncio.create_task(send_all())

    async def _land(
        self,
        claimed: dict[int, OutboxRecord],
        flying: asyncio.Task[list[tuple[Send, Outcome]]] | None,
    ) -> None:
        """Wait for a wave (None: there is none) and record every outcome of it (one commit)."""
        if flying is not None:
            await self._settle(await flying, claimed)

    async def _settle(
        self, outcomes: Iterable[tuple[Send, Outcome]], claimed: dict[int, OutboxRecord]
    ) -> None:
        """Each row's outcome and what the attempts learnt about the accounts, in one commit."""
        outcomes = list(outcomes)
        if not outcomes:
            return
        await self.priority.bulk_turn()
        async with self.services.db.transaction() as s:
            users = UserRepository(s)
            for send, outcome in outcomes:
                target = send.target
                if target is None:
                    continue
                if send.moved_to is not None and send.moved_to != target.chat_id:
                    await users.move_chat(target.id, send.moved_to)
                if outcome.gone is not None:
                    await users.deactivate(target.id, outcome.gone)
            await OutboxRepository(s).mark_many(
                Marking(
                    send.row.id,
                    outcome.status,
                    outcome.error,
                    outcome.next_attempt_at,
                    outcome.counts_as_attempt,
                )
                for send, outcome in outcomes
            )
        for send, _outcome in outcomes:
            claimed.pop(send.row.id, None)

    async def _send_at(self, sender: Sender, send: Send, instant: float) -> tuple[Send, Outcome]:
        """Send at the booked instant, unless a 429 paused the lane meanwhile."""
        lane = sender.lane
        stopped = Outcome("pending", "stopped before its turn", counts_as_attempt=False)
        # Stopping does not wait out a long pause after a 429: the turn is given back.
        if not await self._until(instant - lane.clock()):
            return send, stopped
        if self.priority.busy:
            # Its turn, while an update is being answered: the send goes once that is done (at
            # most PATIENCE later), so that it does not slow the answer down.
            await self.priority.bulk_turn()
        # Room in the last second's sends, in the order the sends got here: only the first in
        # line waits for it (late sends would otherwise all wake at every free slot).
        async with lane.line:
            while (left := lane.turn_in()) > 0:
                if not await self._until(left):
                    return send, stopped
            if (paused := lane.paused_for()) > 0:
                due = self.services.users.clock() + timedelta(seconds=paused)
                return send, Outcome("pending", "rate limited", due, counts_as_attempt=False)
            lane.sent(send.chat_id)
        return send, await self._send(sender, send)

    async def _until(self, seconds: float) -> bool:
        """Wait ``seconds`` (nothing when not positive); False when stopping cut it short."""
        if seconds > 0:
            if self._stopping:
                return False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), seconds)
            return not self._stopping
        return True

    async def _send(self, sender: Sender, send: Send) -> Outcome:
        """Hand the reply to the transport, following a moved group once."""
        row, reply, key = send.row, send.reply, send.key
        assert reply is not None
        chat_id = send.chat_id
        for _moved in range(2):
            try:
                if key is not None:
                    await cast(KeyedSender, sender).send_once(chat_id, reply, key)
                else:
                    await sender.send(chat_id, reply)
            except ChatMoved as moved:
                chat_id = send.moved_to = moved.new_chat_id
                continue
            except RateLimited as limited:
                log.info(
                    "rate limited (429) on %s: the lane pauses %.1f s",
                    sender.platform,
                    limited.retry_after,
                )
                try:
                    await sender.lane.pause(limited.retry_after)
                except Exception as exc:  # the shared pause (database) failed: paused here
                    log.warning("the 429 pause could not be shared:\n%s", failure_summary(exc))
                due = self.services.users.clock() + timedelta(seconds=limited.retry_after)
                return Outcome("pending", "rate limited", due, counts_as_attempt=False)
            except RecipientGone as gone:
                return Outcome("failed", f"blocked or gone: {gone.reason}", gone=gone.reason)
            except DeliveryUnknown as unknown:
                return Outcome("unknown", unknown.reason)
            except SendFailed as failed:
                log.info("delivery of outbox row %d failed for now: %s", row.id, failed.reason)
                return self._retry(row, failed.reason)
            except Exception as exc:
                log.warning("delivery of outbox row %d failed:\n%s", row.id, failure_summary(exc))
                return self._retry(row, type(exc).__name__)
            return Outcome("sent")
        return Outcome("failed", "chat moved more than once")

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
        """Stop after the wave in flight (sends not yet at their turn stay pending, as does
        every other row, for the next start)."""
        self._stopping = True
        self._stopped.set()
        self._wake.set()
