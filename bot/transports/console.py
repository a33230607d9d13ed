"""The console chat: try the bot in a terminal, or pipe a whole conversation through it.

Buttons are shown as numbered options; typing a number presses that button on the bot's
latest answer (numbers run on across all messages of that answer). An answer without buttons
makes the numbers above it void, and while the bot waits for a typed answer (how many
seats?) a number is that answer: its buttons are then pressed as ``#1``, ``#2`` ….
Input is read as bytes: a line that is not UTF-8 is refused, never a reason to stop.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path
from typing import BinaryIO, TextIO

from bot import i18n
from bot.app.core import Core
from bot.core.chat import Button, ChatRef, Incoming, Reply, Sender
from bot.core.numbers import parse_number
from bot.delivery.lanes import Lane
from bot.i18n import _
from bot.i18n.text import plain

log = logging.getLogger(__name__)

PLATFORM = "console"


class ConsoleTransport:
    platform = PLATFORM
    lane = Lane(per_second=0, per_chat_seconds=0, per_group_seconds=0)

    def is_group(self, chat_id: str) -> bool:
        return False

    def __init__(
        self, core: Core, stdin: BinaryIO, stdout: TextIO, *, interactive: bool | None = None
    ) -> None:
        self.core = core
        self.stdin = stdin
        self.stdout = stdout
        self.interactive = stdin.isatty() if interactive is None else interactive
        user = core.settings.console_user
        # No language hint: a terminal says nothing about its user, the default language speaks.
        self.sender = Sender(PLATFORM, user)
        self.chat = ChatRef(PLATFORM, user, private=True)
        self._buttons: list[Button] = []
        # The latest answer waits for typed text: a bare number is text, "#2" presses.
        self._expects_text = False
        self._next_message_id = 1
        self._lines: asyncio.Queue[bytes | None] = asyncio.Queue()
        core.delivery.add_sender(self)

    async def send(self, chat_id: str, reply: Reply) -> None:
        """Notices from the outbox (for example a seat that became free)."""
        self._show([reply])

    def _write(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def _show(self, replies: list[Reply]) -> None:
        """Print one answer; its buttons (none, perhaps) are the ones numbers press now."""
        if not replies:
            return
        buttons: list[Button] = []
        expects_text = any(reply.expects_text for reply in replies)
        mark = "#" if expects_text else ""
        for reply in replies:
            lines = [plain(reply.text)]
            for row in reply.buttons:
                cells = []
                for button in row:
                    buttons.append(button)
                    cells.append(f"[{mark}{len(buttons)}] {button.label}")
                lines.append("   ".join(cells))
            if reply.attachment is not None:
                lines.append(self._save(reply.attachment.filename, reply.attachment.content))
            self._write("\n".join(lines) + "\n\n")
        self._buttons, self._expects_text = buttons, expects_text

    def _save(self, filename: str, content: bytes) -> str:
        folder = self.core.settings.files_dir
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / Path(filename).name
        path.write_bytes(content)
        return f"📎 {path}"

    def to_incoming(self, line: str) -> Incoming:
        """A number presses a button of the latest answer; anything else is a message."""
        message_id = str(self._next_message_id)
        self._next_message_id += 1
        button = self._pressed(line)
        if button is not None:
            return Incoming(self.sender, self.chat, button=button.data, message_id=message_id)
        return Incoming(self.sender, self.chat, text=line, message_id=message_id)

    def _pressed(self, line: str) -> Button | None:
        """The button ``line`` presses: "3" (or "#3" while typed text is awaited)."""
        if self._expects_text:
            if not line.startswith("#"):
                return None
            line = line[1:]
        number = parse_number(line, 1, len(self._buttons))
        return None if number is None else self._buttons[number - 1]

    async def handle_line(self, line: str) -> None:
        line = line.strip()
        if not line:
            return
        if not self.interactive:
            self._write(f"» {line}\n")
        replies = await self.core.dispatcher.handle(self.to_incoming(line))
        self._show(replies)
        # Notices this update caused (someone moved up from a waitlist) come right after.
        await self.deliver()

    async def deliver(self) -> None:
        """Send what is due in the outbox now (the console runs no delivery loop of its own)."""
        await self.core.delivery.run_once()

    def _read_lines(self, loop: asyncio.AbstractEventLoop) -> None:
        # A daemon thread: a blocked read must never keep the process alive after Ctrl-C.
        # Whatever happens here, the end of input is announced, or run() would wait forever.
        try:
            for raw in iter(self.stdin.readline, b""):
                loop.call_soon_threadsafe(self._lines.put_nowait, raw)
        finally:
            loop.call_soon_threadsafe(self._lines.put_nowait, None)

    def stop(self) -> None:
        """Finish after the update being handled (SIGTERM)."""
        self._lines.put_nowait(None)

    async def run(self) -> None:
        """Read one input per line until end of input (Ctrl-D), /quit or :meth:`stop`."""
        if self.interactive:
            with i18n.use(self.core.i18n.lang(self.core.settings.default_language)):
                intro = _("Treffpunkt console chat. Type /start to begin; Ctrl-D ends.")
            self._write(intro + "\n\n")
        await self.core.recover()
        await self.core.delivery.run_once()
        loop = asyncio.get_running_loop()
        threading.Thread(
            target=self._read_lines, args=(loop,), name="console-stdin", daemon=True
        ).start()
        while True:
            if self.interactive:
                self._write("> ")
            raw = await self._lines.get()
            if raw is None:
                break
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError:
                self._refuse_unreadable()
                continue
            if line.strip() in {"/quit", "/exit"}:
                break
            await self.handle_line(line)

    def _refuse_unreadable(self) -> None:
        with i18n.use(self.core.i18n.lang(self.core.settings.default_language)):
            message = _(
                "That line is not UTF-8 text, so it was not sent. Please check the encoding "
                "of the terminal or the file."
            )
        self._write(message + "\n\n")
