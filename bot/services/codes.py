"""One-time codes read on one screen and typed on another (account links, invites)."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from datetime import datetime

from storage.db import Database
from storage.repositories import CodeRepository

log = logging.getLogger(__name__)

# No 0/O, 1/I/L.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_code(length: int) -> tuple[str, str]:
    """A fresh code as shown to people ("ABCD-EFGH") and the digest that is stored."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(length))
    half = length // 2
    return f"{raw[:half]}-{raw[half:]}", digest(raw)


def digest(typed: str) -> str:
    """What is stored and looked up: case, spaces and dashes as people type them do not count."""
    return hashlib.sha256("".join(ch for ch in typed.upper() if ch.isalnum()).encode()).hexdigest()


class CodeKeeper:
    """Expired codes are deleted when they expire (the alarm clock wakes for it): nothing of
    a person is kept longer than the code was good for."""

    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock

    async def run_due(self) -> int:
        """Delete the codes that have expired; returns how many."""
        async with self.db.reading() as s:
            due = await CodeRepository(s).next_expiry()
        if due is None or due > self.clock():
            return 0
        async with self.db.transaction() as s:
            gone = await CodeRepository(s).purge(self.clock())
        log.info("deleted %d expired one-time codes", gone)
        return gone

    async def next_due(self) -> datetime | None:
        async with self.db.reading() as s:
            return await CodeRepository(s).next_expiry()
