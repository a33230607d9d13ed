"""People first: bulk work gives way while an update is being answered.

One process answers people and delivers notices on one event loop. A reminder run to
thousands renders and records rows as fast as the loop lets it, and every await of an update
being answered then queues behind that work (and behind its database threads for the GIL):
a press that takes 25 ms alone took seconds. So the transports mark each update as
interactive from its arrival to its replies leaving (the dispatcher marks its unit of work
too), and the bulk side (the delivery worker before each step and each send, the scheduler
before a run) waits while one is in flight — at most ``patience`` at a time, so that a stream
of updates can slow delivery but never stop it (a reply waiting out flood control included).
A send that waited goes late; the lane still keeps its rate in every second.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator

# Seconds the bulk side waits for a quiet moment before taking one step anyway. Under updates
# that never pause this holds delivery to about 20 steps a second (a step: one rendered row, a
# claim, a wave's records); people are answered first. Letting bulk work go on for a 10 ms
# slice after each wait was tried: on SQLite presses then fell behind again (p99 5 s).
PATIENCE = 0.05
# Bulk work lets the event loop look for updates at least this often (seconds).
SLICE = 0.001


class Priority:
    """Counts the updates in flight; bulk work waits for none to be."""

    def __init__(self, patience: float = PATIENCE) -> None:
        self.patience = patience
        self._active = 0
        self._quiet: asyncio.Event | None = None
        self.waited = 0  # times bulk work gave way (shown by the benchmark)
        self._yielded = 0.0

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
        """Before a step of bulk work: when no update is in flight, go on (after letting the
        event loop look for new ones, once every ``SLICE``); else wait until the last one is
        answered or for ``patience``, whichever comes first."""
        if self._active == 0:
            now = time.perf_counter()
            if now - self._yielded >= SLICE:
                # Steps that need no I/O (rendering a batch from one read) would otherwise run
                # back to back: an update that arrives meanwhile is not even read (35 ms a
                # reminder batch of 195).
                await asyncio.sleep(0)
                self._yielded = time.perf_counter()
            return
        self.waited += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event().wait(), self.patience)
