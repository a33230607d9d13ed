"""People first: bulk work gives way while an update is being answered.

One process answers people and delivers notices on one event loop. A reminder run to
thousands renders and records rows as fast as the loop lets it, and every await of an update
being answered then queues behind that work (and behind its database threads for the GIL):
a press that takes 25 ms alone took seconds. So the transports mark each update they answer as
interactive, from its arrival to its answer leaving, and the bulk side (the delivery worker
between two rows, the scheduler before a reminder run) waits while one is in flight — at most
``patience`` at a time, then goes on for a ``slice`` before it asks again, so that a stream of
updates can slow delivery but never stop it. The mark ends when the answer has left, before
any reply that may have to wait out Telegram's flood control.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

PATIENCE = 0.05  # seconds the bulk side waits for a quiet moment before going on anyway
# Bulk work goes on for this long after each wait before it gives way again: a step is a
# fraction of a millisecond (a rendered row), and waiting before each one while people keep
# tapping would hold a broadcast to a few rows a second.
SLICE = 0.01


class Priority:
    """Counts the updates in flight; bulk work waits for none to be."""

    def __init__(self, patience: float = PATIENCE, slice_: float = SLICE) -> None:
        self.patience = patience
        self.slice = slice_
        self._turn_ends = 0.0  # until then bulk work goes on without asking again
        self._active = 0
        self._quiet: asyncio.Event | None = None
        self.waited = 0  # times bulk work gave way (shown by the benchmark)

    @property
    def busy(self) -> bool:
        return self._active > 0

    def _event(self) -> asyncio.Event:
        if self._quiet is None:
            self._quiet = asyncio.Event()
            self._quiet.set()
        return self._quiet

    @contextlib.contextmanager
    def interactive(self) -> Iterator[None]:
        """Around answering one update (nesting counts once per level)."""
        quiet = self._event()
        self._active += 1
        quiet.clear()
        try:
            yield
        finally:
            self._active -= 1
            if self._active == 0:
                quiet.set()

    async def bulk_turn(self) -> None:
        """Before a step of bulk work: return at once when no update is in flight or the bulk
        side's slice since its last wait is not used up; else wait until the last update is
        answered or ``patience`` runs out, whichever comes first."""
        if self._active == 0:
            return
        loop = asyncio.get_running_loop()
        if loop.time() < self._turn_ends:
            return
        self.waited += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event().wait(), self.patience)
        self._turn_ends = loop.time() + self.slice
