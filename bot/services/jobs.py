"""Work that must not run inside a transaction (web service calls), run after the commit.

A job is a row written in the same unit of work as the change that asks for it. The worker
claims due jobs, runs their slow part with no transaction open, and applies the result in one
unit of work that also marks the job done, so its effect happens exactly once. A job whose slow
part keeps failing is retried with backoff and finally given up, which has an effect of its
own (publishing an event's notices without the translations, for example).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, Protocol

from storage.db import Database
from storage.repositories import JobRecord, JobRepository

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 4
BATCH = 20
MAX_BACKOFF = 600.0


class JobHandler(Protocol):
    """One kind of job: ``prepare`` may call the outside world; the others only the database."""

    async def prepare(self, payload: dict[str, Any]) -> Any: ...

    async def apply(self, payload: dict[str, Any], prepared: Any) -> None: ...

    async def give_up(self, payload: dict[str, Any]) -> None: ...


def backoff(attempt: int) -> float:
    """Exponential with jitter: 30 s, 60 s, 120 s, … at most ten minutes."""
    return random.uniform(0.75, 1.0) * min(MAX_BACKOFF, 15.0 * 2.0**attempt)  # noqa: S311


class JobQueue:
    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock
        self.handlers: dict[str, JobHandler] = {}

    def register(self, kind: str, handler: JobHandler) -> None:
        if kind in self.handlers:
            raise ValueError(f"job kind {kind!r} registered twice")
        self.handlers[kind] = handler

    async def enqueue(self, kind: str, ref: str, payload: dict[str, Any]) -> bool:
        """Ask for a job, inside the caller's unit of work; asking twice adds nothing."""
        if kind not in self.handlers:
            raise ValueError(f"unknown job kind {kind!r}")
        async with self.db.transaction() as s:
            return await JobRepository(s).add(kind, ref, payload, self.clock())

    async def recover(self) -> int:
        """Jobs left running by a crash are run again (their effect was not applied)."""
        async with self.db.transaction() as s:
            return await JobRepository(s).recover()

    async def run_due(self) -> int:
        """Run every job that is due now; returns how many were run."""
        if self.db.current is not None:
            raise RuntimeError("jobs run outside any unit of work")
        done = 0
        while True:
            # Read first: a round with no job due takes no write lock (SQLite).
            async with self.db.unit_of_work(write=False) as unit:
                jobs = await JobRepository(unit.session).claim(self.clock(), BATCH)
            if not jobs:
                return done
            for job in jobs:
                await self._run(job)
                done += 1

    async def _run(self, job: JobRecord) -> None:
        handler = self.handlers.get(job.kind)
        if handler is None:
            async with self.db.transaction() as s:
                await JobRepository(s).finish(job.id, "failed", "unknown kind")
            return
        try:
            prepared = await handler.prepare(job.payload)
        except Exception as exc:
            reason = type(exc).__name__
            log.warning("job %s %d failed (attempt %d): %s", job.kind, job.id, job.attempts, reason)
            async with self.db.transaction() as s:
                if job.attempts >= MAX_ATTEMPTS:
                    await handler.give_up(job.payload)
                    await JobRepository(s).finish(job.id, "failed", reason)
                else:
                    due = self.clock() + timedelta(seconds=backoff(job.attempts))
                    await JobRepository(s).retry_at(job.id, due, reason)
            return
        try:
            async with self.db.transaction() as s:
                await handler.apply(job.payload, prepared)
                await JobRepository(s).finish(job.id, "done")
        except Exception as exc:
            # Rolled back, effect included: the job runs again later, its effect still once.
            log.warning("job %s %d not applied: %s", job.kind, job.id, type(exc).__name__)
            async with self.db.transaction() as s:
                due = self.clock() + timedelta(seconds=backoff(job.attempts))
                await JobRepository(s).retry_at(job.id, due, type(exc).__name__)
