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


class RateLimited(Exception):
    """The platform asks to wait ``retry_after`` seconds before sending again."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"retry after {retry_after} s")
        self.retry_after = retry_after


class DeliveryUnknown(Exception):
    """The send may or may not have arrived (a timeout after the request went out)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ChatMoved(Exception):
    """The chat has a new id (a Telegram group became a supergroup)."""

    def __init__(self, new_chat_id: str) -> None:
        super().__init__(new_chat_id)
        self.new_chat_id = new_chat_id


class SendFailed(Exception):
    """The platform answered that the send did not happen (a server error, no connection):
    it is tried again later."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class MessengerConflict(Exception):
    """Another process receives this messenger's updates with the same credentials."""

    def __init__(self, platform: str) -> None:
        super().__init__(f"another process receives the {platform} updates of this bot")
        self.platform = platform


class InstanceTaken(Exception):
    """Another live process runs under this instance name on the same database."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"another process runs as instance {name!r} on this database; "
            "give each process its own TREFFPUNKT_INSTANCE"
        )
        self.name = name
