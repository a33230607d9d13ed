"""Sending under a platform's limits: an overall rate, a gap per chat, and pauses on 429.

The overall rate is kept by a *pace*: sends are booked in slots, a wave at a time. One process
(SQLite) keeps the pace in memory; several processes on one PostgreSQL database share it
through the database (:class:`bot.delivery.pace.SharedPace`), so the platform's limit holds
for all of them together."""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol

# Rows handed to the platform at once when it has no overall limit (limits off, a console).
UNPACED_WAVE = 200
# With a limit, a wave lasts about this long: the rows a crash leaves ``unknown`` (marked
# ``sending``: the wave in flight and the next one, waiting for their slots) stay few — at
# most 10 at the default 25/s.
WAVE_SECONDS = 0.2


class Pace(Protocol):
    """Where the lane's next free slot is kept."""

    async def book(self, span: float) -> float:
        """Book ``span`` seconds of sending; returns in how many seconds they begin."""
        ...

    async def hold(self, seconds: float) -> None:
        """Nothing is booked to begin within the next ``seconds`` (the platform said 429)."""
        ...


class LocalPace:
    """The pace of one process, in memory."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._next = 0.0

    async def book(self, span: float) -> float:
        now = self.clock()
        start = max(self._next, now)
        self._next = start + span
        return start - now

    async def hold(self, seconds: float) -> None:
        self._next = max(self._next, self.clock() + seconds)


class Lane:
    """One platform's bulk lane. Interactive replies never go through it."""

    def __init__(
        self,
        per_second: float,
        per_chat_seconds: float,
        per_group_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_second = per_second
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.per_chat = per_chat_seconds
        self.per_group = per_group_seconds
        self.clock = clock
        self.pace: Pace = LocalPace(clock)
        self._last_in_chat: dict[str, float] = {}
        self._paused_until = 0.0
        # When this process's sends of the last second went (with a pace only), and the line
        # of sends waiting for room among them.
        self._recent: deque[float] = deque()
        self.line = asyncio.Lock()

    def share(self, pace: Pace) -> None:
        """Keep the overall rate with other processes (several processes, one database)."""
        self.pace = pace

    @property
    def wave(self) -> int:
        """How many sends go out together: a fifth of a second's worth, at least one."""
        if self.interval == 0:
            return UNPACED_WAVE
        return max(1, min(UNPACED_WAVE, int(self.per_second * WAVE_SECONDS)))

    def paused_for(self) -> float:
        """Seconds left of a pause after a 429 (0 when none)."""
        return max(0.0, self._paused_until - self.clock())

    async def pause(self, seconds: float) -> None:
        """The platform said "too many requests": nobody on this lane sends for a while."""
        self._paused_until = max(self._paused_until, self.clock() + seconds)
        await self.pace.hold(seconds)

    def chat_ready_in(self, chat_id: str, group: bool) -> float:
        """Seconds until ``chat_id`` may get the next message (its own gap only)."""
        gap = self.per_group if group else self.per_chat
        return max(0.0, self._last_in_chat.get(chat_id, -1e9) + gap - self.clock())

    async def book(self, count: int) -> list[float]:
        """Instants (of the lane's clock) at which ``count`` sends may go, in order."""
        now = self.clock()
        if self.interval == 0:
            start = max(now, self._paused_until)
            return [start] * count
        wait = await self.pace.book(count * self.interval)
        # From when the answer came: the booking's own round trip must not make sends early.
        start = max(self.clock() + wait, self._paused_until)
        return [start + i * self.interval for i in range(count)]

    def turn_in(self) -> float:
        """Seconds until one more send keeps this process within ``per_second`` in every
        second, counted as the platform counts: when sends go, not when they were booked.
        Sends that a stall of the process made late would otherwise go together with the
        ones booked after them, and a second would hold more than the limit."""
        if self.interval == 0:
            return 0.0
        now, recent = self.clock(), self._recent
        while recent and recent[0] <= now - 1.0:
            recent.popleft()
        # 29.5 a second: 30 in some seconds (the platform's limit), 29 in others.
        most = max(1, math.ceil(self.per_second - 1e-9))
        if len(recent) < most:
            return 0.0
        return recent[len(recent) - most] + 1.0 - now

    def hold_chat(self, chat_id: str) -> None:
        """A message for ``chat_id`` is on its way: the chat's gap starts now."""
        now = self.clock()
        self._last_in_chat[chat_id] = now
        if len(self._last_in_chat) > 50_000:  # forget chats that have long been ready again
            horizon = now - max(self.per_chat, self.per_group)
            self._last_in_chat = {k: v for k, v in self._last_in_chat.items() if v > horizon}

    def sent(self, chat_id: str) -> None:
        """A message is going to ``chat_id`` now: its gap starts, and it counts in the
        second's sends."""
        if self.interval:
            self._recent.append(self.clock())
        self.hold_chat(chat_id)
