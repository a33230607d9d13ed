"""Errors the core turns into clear, translated answers."""

from __future__ import annotations


class StaleButton(Exception):
    """A button press whose data is malformed, forged, or refers to something gone."""


class EventUnavailable(Exception):
    """An answer to an event that is cancelled, over, or closed for registration."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RecipientGone(Exception):
    """The platform says this person can no longer be reached (blocked, deleted)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
