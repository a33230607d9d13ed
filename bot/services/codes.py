"""One-time codes read on one screen and typed on another (account links, invites)."""

from __future__ import annotations

import hashlib
import secrets

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
