"""The neutral vocabulary between transports and the core.

A transport turns a platform update into an :class:`Incoming` and renders the :class:`Reply`
objects it gets back. Nothing here knows Telegram, Matrix or a terminal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markupsafe import Markup

MAX_BUTTON_DATA_BYTES = 64
_COMMAND = re.compile(r"^[/!]([A-Za-z][A-Za-z0-9_]{0,31})(?:@[A-Za-z0-9_]+)?(?:\s+(.*))?$", re.S)


@dataclass(frozen=True)
class Sender:
    """Who wrote: a platform account. ``language_hint`` is what the platform guesses."""

    platform: str
    user_id: str
    language_hint: str | None = None


@dataclass(frozen=True)
class ChatRef:
    """Where it was written: a private chat with the bot, or a group / shared room."""

    platform: str
    chat_id: str
    private: bool = True


@dataclass(frozen=True)
class Incoming:
    """One thing a person did: sent a text or command, or pressed a button."""

    sender: Sender
    chat: ChatRef
    text: str | None = None
    button: str | None = None
    message_id: str | None = None
    # An id the platform may deliver twice (a Matrix event id): handled once, and marked as
    # handled in the same transaction as the handling.
    once: str | None = None

    def command(self) -> tuple[str, str] | None:
        """``("events", "all")`` for ``/events all``, ``!events all`` or ``/events@bot all``."""
        if self.text is None:
            return None
        match = _COMMAND.match(self.text.strip())
        if not match:
            return None
        return match.group(1).lower(), (match.group(2) or "").strip()


@dataclass(frozen=True)
class Button:
    """A button: its label, and the compact data a press sends back (at most 64 bytes).

    Transports treat the data as opaque. Where people answer a message with reactions
    (Matrix), any of ``reactions`` presses this button, and taking that reaction back
    presses ``undo`` (if given).
    """

    label: str
    data: str
    reactions: tuple[str, ...] = ()
    undo: str | None = None

    def __post_init__(self) -> None:
        for data in (self.data, self.undo or self.data):
            size = len(data.encode("utf-8"))
            if not 0 < size <= MAX_BUTTON_DATA_BYTES:
                raise ValueError(f"button data must be 1..64 bytes, got {size}")


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime_type: str


@dataclass(frozen=True)
class Reply:
    """What the bot says back.

    ``text`` is a small HTML subset (``<b>``, ``<i>``, ``<a href>``) in which every interpolated
    value is already escaped (:class:`markupsafe.Markup`). ``replace`` asks the transport to
    edit the message whose button was pressed instead of sending a new one, where it can.
    ``toast`` is the short answer to a button press (Telegram shows it as a notification);
    with ``toast_only`` a transport that shows it posts nothing in the chat.
    ``expects_text`` says the question waits for a typed answer: a transport that numbers
    buttons (console, Matrix) takes a typed number as that answer then, never as a press.
    """

    text: Markup
    buttons: tuple[tuple[Button, ...], ...] = ()
    attachment: Attachment | None = None
    replace: bool = False
    toast: str | None = None
    toast_only: bool = False
    expects_text: bool = False
    meta: dict[str, str] = field(default_factory=dict, compare=False)

    def all_buttons(self) -> list[Button]:
        return [button for row in self.buttons for button in row]
