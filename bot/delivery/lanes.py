"""Sending under a platform's limits: an overall rate, a gap per chat, and pauses on 429."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class Lane:
    """One platform's bulk lane. Interactive replies never go through it."""

    def __init__(
        self,
        per_second: float,
        per_chat_seconds: float,
        per_group_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = 1.0 / per_second if per_second > 0 else 0.0
        self.per_chat = per_chat_seconds
        self.per_group = per_group_seconds
        self.clock = clock
        self._next = 0.0
        self._last_in_chat: dict[str, float] = {}
        self._paused_until = 0.0

    def pause(self, seconds: float) -> None:
        """The platform said "too many requests": nobody on this lane sends for a while."""
        self._paused_until = max(self._paused_until, self.clock() + seconds)

    def delay(self, chat_id: str, group: bool) -> float:
        """Seconds to wait before the next send to ``chat_id`` is allowed."""
        now = self.clock()
        gap = self.per_group if group else self.per_chat
        chat_ready = self._last_in_chat.get(chat_id, -1e9) + gap
        return max(0.0, self._paused_until - now, self._next - now, chat_ready - now)

    async def wait(self, chat_id: str, group: bool = False) -> None:
        # The wait is until a computed instant, not until something happens: sleep is right.
        while (seconds := self.delay(chat_id, group)) > 0:  # noqa: ASYNC110
            await asyncio.sleep(seconds)
        now = self.clock()
        self._next = max(self._next, now) + self.interval
        self._last_in_chat[chat_id] = now
        if len(self._last_in_chat) > 50_000:  # forget chats that have long been ready again
            horizon = now - max(self.per_chat, self.per_group)
            self._last_in_chat = {k: v for k, v in self._last_in_chat.items() if v > horizon}
