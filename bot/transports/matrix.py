"""Matrix adapter (matrix-nio with end-to-end encryption through vodozemac).

Buttons become numbered options in the message (a plain ``body`` and an escaped HTML
``formatted_body``); a person answers with the number, or with a reaction that a button
names (an event's ✅ ❔ ❌), and taking the reaction back presses that button's ``undo``.
Button data stays opaque here. Device keys, the olm/megolm store and the sync token live in a
store directory, so a restart neither loses keys nor answers old messages again; handled event
ids are also kept in the database. matrix-nio returns error objects instead of raising: they
are checked here and turned into our own errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from markupsafe import Markup
from nio import (
    AsyncClient,
    AsyncClientConfig,
    ErrorResponse,
    InviteMemberEvent,
    LoginResponse,
    MatrixRoom,
    MegolmEvent,
    ReactionEvent,
    RedactionEvent,
    RoomMemberEvent,
    RoomMessageText,
    RoomSendResponse,
    SyncResponse,
    UploadResponse,
    WhoamiResponse,
)
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from bot.app.core import Core
from bot.app.logs import failure_summary
from bot.app.settings import Settings
from bot.core.chat import ChatRef, Incoming, Reply, Sender
from bot.core.errors import RecipientGone, SendFailed
from bot.core.numbers import parse_number
from bot.delivery.lanes import Lane
from bot.i18n.text import plain
from bot.transports.retry import wait_as_asked

log = logging.getLogger(__name__)

PLATFORM = "matrix"
SYNC_TIMEOUT_MS = 30_000
SEND_ATTEMPTS = 5
MAX_BODY = 16_000  # characters of an incoming message worth reading; more is not a command
KEEP_HISTORY = timedelta(days=30)
MAX_OPTION = 999  # more numbered options than any answer has


class MatrixError(RuntimeError):
    """A request to the homeserver failed (nio gave back an error response)."""


class SendRefused(MatrixError):
    """The homeserver refused a message; when rate limiting, it says how long to wait."""

    def __init__(self, status: object, retry_after: float | None) -> None:
        super().__init__(f"send failed: {status}")
        self.retry_after = retry_after


def _asked_wait(exc: BaseException) -> float | None:
    return exc.retry_after if isinstance(exc, SendRefused) else None


def _check(response: Any, what: str) -> Any:
    if isinstance(response, ErrorResponse):
        raise MatrixError(f"{what} failed: {response.status_code} {response.message}")
    return response


def _reaction_key(key: str) -> str:
    return key.replace("\ufe0f", "").strip()


def option_key(text: str) -> str | None:
    """The numbered option that typing ``text`` presses ("2", "#2"), or None if it names none."""
    mark = "#" if text.startswith("#") else ""
    number = parse_number(text.removeprefix("#"), 1, MAX_OPTION)
    return None if number is None else f"{mark}{number}"


def render(
    reply: Reply, first_number: int, *, expects_text: bool = False
) -> tuple[dict[str, Any], list[list[Any]]]:
    """The message content for a reply, and its numbered options
    [what to type, label, data, reaction keys, undo data].

    What to type is the number; while the answer ``expects_text`` a bare number is that text,
    so the options are "#1", "#2" ….
    """
    options: list[list[Any]] = []
    body_lines = [plain(reply.text)]
    # reply.text is already escaped markup (the core's contract), so it is not escaped again.
    html_lines = [Markup(str(reply.text)).replace("\n", Markup("<br>"))]  # noqa: S704
    number = first_number
    for row in reply.buttons:
        cells, html_cells = [], []
        for button in row:
            typed = f"#{number}" if expects_text else str(number)
            keys = [_reaction_key(key) for key in button.reactions]
            options.append([typed, button.label, button.data, keys, button.undo])
            cells.append(f"{typed}. {button.label}")
            html_cells.append(Markup("<b>{}.</b> {}").format(typed, button.label))
            number += 1
        body_lines.append("   ".join(cells))
        html_lines.append(Markup("&nbsp;&nbsp; ").join(html_cells))
    content = {
        "msgtype": "m.notice",
        "body": "\n".join(body_lines),
        "format": "org.matrix.custom.html",
        "formatted_body": str(Markup("<br>").join(html_lines)),
    }
    return content, options


class MatrixTransport:
    platform = PLATFORM

    def is_group(self, chat_id: str) -> bool:
        room = self.client.rooms.get(chat_id)
        return room is not None and not self._private(room)

    def __init__(self, core: Core, settings: Settings) -> None:
        if not (settings.matrix_homeserver and settings.matrix_user_id):
            raise ValueError("MatrixTransport needs MATRIX_HOMESERVER and MATRIX_USER_ID")
        self.core = core
        self.settings = settings
        # Synapse limits each user; a bot that fans out is exempted (override_ratelimit) and
        # runs unpaced (MATRIX_BULK_RATE=0). M_LIMIT_EXCEEDED is waited out in any case.
        self.lane = Lane(settings.matrix_bulk_rate, 0.2, 1.0)
        self.store = settings.matrix_store_dir
        self.store.mkdir(parents=True, exist_ok=True)
        config = AsyncClientConfig(
            encryption_enabled=True,
            store_sync_tokens=True,
            max_limit_exceeded=SEND_ATTEMPTS,
            max_timeouts=SEND_ATTEMPTS,
        )
        self.client = AsyncClient(
            settings.matrix_homeserver,
            settings.matrix_user_id,
            store_path=str(self.store),
            config=config,
        )
        self._history = True  # until the first sync of a store without a sync token is done
        self._reactions: dict[str, tuple[str, str]] = {}  # reaction id → sender, undo data
        self._sync_task: asyncio.Task[None] | None = None
        self._synced = asyncio.Event()
        core.delivery.add_sender(self)

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def _credentials(self) -> Any:
        return self.store / "credentials.json"

    async def _log_in(self) -> None:
        settings = self.settings
        assert settings.matrix_user_id is not None
        if settings.matrix_access_token:
            self.client.access_token = settings.matrix_access_token
            device = settings.matrix_device_id
            if not device:
                who = _check(await self.client.whoami(), "whoami")
                assert isinstance(who, WhoamiResponse)
                device = who.device_id
            if not device:
                raise MatrixError("MATRIX_DEVICE_ID is needed for this access token")
            self.client.restore_login(settings.matrix_user_id, device, settings.matrix_access_token)
            return
        if self._credentials.is_file():
            saved = json.loads(self._credentials.read_text())
            self.client.restore_login(
                settings.matrix_user_id, saved["device_id"], saved["access_token"]
            )
            return
        response = _check(
            await self.client.login(settings.matrix_password, device_name="Treffpunkt"), "login"
        )
        assert isinstance(response, LoginResponse)
        self._credentials.write_text(
            json.dumps({"device_id": response.device_id, "access_token": response.access_token})
        )
        os.chmod(self._credentials, 0o600)

    async def start(self) -> None:
        await self._log_in()
        if self.client.should_upload_keys:
            _check(await self.client.keys_upload(), "keys upload")
        # A store without a sync token has never synced: its first sync is history, unanswered.
        self._history = not self.client.loaded_sync_token
        self.client.add_event_callback(self._guarded(self._on_message), RoomMessageText)
        self.client.add_event_callback(self._guarded(self._on_reaction), ReactionEvent)
        self.client.add_event_callback(self._guarded(self._on_redaction), RedactionEvent)
        self.client.add_event_callback(self._guarded(self._on_member), RoomMemberEvent)
        self.client.add_event_callback(self._guarded(self._on_undecryptable), MegolmEvent)
        self.client.add_event_callback(self._guarded(self._on_invite), InviteMemberEvent)
        self.client.add_response_callback(self._on_sync, SyncResponse)
        await self.core.services.messages.forget_before(datetime.now(UTC) - KEEP_HISTORY)
        self._sync_task = asyncio.create_task(
            self.client.sync_forever(timeout=SYNC_TIMEOUT_MS, full_state=True), name="matrix-sync"
        )
        await asyncio.wait_for(self._synced.wait(), 60)
        log.info("Matrix: syncing")

    async def stop(self) -> None:
        if self._sync_task is not None:
            self._sync_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._sync_task
        await self.client.close()

    async def _on_sync(self, _response: SyncResponse) -> None:
        self._history = False
        self._synced.set()

    def _guarded(self, handler: Any) -> Any:
        """nio swallows nothing: an error in one event must not stop the sync loop."""

        async def run(room: MatrixRoom, event: Any) -> None:
            try:
                # From arrival to the answer leaving: bulk delivery gives way meanwhile.
                with self.core.dispatcher.priority.interactive():
                    await handler(room, event)
            except Exception as exc:
                log.warning("Matrix event failed:\n%s", failure_summary(exc))

        return run

    # -- incoming -----------------------------------------------------------------------------

    def _private(self, room: MatrixRoom) -> bool:
        return int(room.member_count) <= 2

    def _is_new(self, event: Any) -> bool:
        return not self._history and event.sender != self.client.user_id

    async def _dispatch(
        self,
        room: MatrixRoom,
        sender: str,
        incoming_text: str | None,
        button: str | None,
        event_id: str,
    ) -> None:
        incoming = Incoming(
            Sender(PLATFORM, sender),
            ChatRef(PLATFORM, room.room_id, self._private(room)),
            text=incoming_text,
            button=button,
            message_id=event_id,
            once=event_id,
        )
        replies = await self.core.dispatcher.handle(incoming)
        await self._send_batch(room.room_id, replies)

    async def _on_message(self, room: MatrixRoom, event: RoomMessageText) -> None:
        if not self._is_new(event):
            return
        text = "\n".join(
            line for line in event.body[:MAX_BODY].splitlines() if not line.startswith("> ")
        ).strip()
        button, key = None, option_key(text)
        if key is not None:
            options = await self.core.services.messages.latest_options(PLATFORM, room.room_id)
            button = options.get(key)
        await self._dispatch(room, event.sender, None if button else text, button, event.event_id)

    async def _reacted_button(self, message_id: str, key: str) -> tuple[str, str | None] | None:
        """The data and undo data of the button that this reaction to a message presses."""
        options = await self.core.services.messages.options_of(PLATFORM, message_id)
        for option in options:
            # Options recorded before buttons named their reactions have three fields.
            if len(option) == 5 and key in option[3]:
                return str(option[2]), option[4]
        return None

    async def _on_reaction(self, room: MatrixRoom, event: ReactionEvent) -> None:
        if not self._is_new(event):
            return
        pressed = await self._reacted_button(event.reacts_to, _reaction_key(event.key))
        if pressed is None:
            return
        data, undo = pressed
        if undo is not None:
            self._reactions[event.event_id] = (event.sender, undo)
        await self._dispatch(room, event.sender, None, data, event.event_id)

    async def _on_redaction(self, room: MatrixRoom, event: RedactionEvent) -> None:
        """A removed reaction presses its button's undo (which withdraws an answer, if it is
        still the answer)."""
        if not self._is_new(event):
            return
        reaction = self._reactions.pop(event.redacts, None)
        if reaction is not None and reaction[0] == event.sender:
            await self._dispatch(room, event.sender, None, reaction[1], event.event_id)

    async def _on_undecryptable(self, room: MatrixRoom, event: MegolmEvent) -> None:
        if self._is_new(event):
            log.warning("Matrix: a message could not be decrypted; asking for the room key")
            with contextlib.suppress(Exception):
                await self.client.request_room_key(event)

    def _invite_allowed(self, inviter: str) -> bool:
        servers = self.settings.matrix_allowed_servers or (self.settings.matrix_server_name,)
        server = inviter.split(":", 1)[1] if ":" in inviter else ""
        return inviter in self.settings.matrix_allowed_users or server in servers

    async def _on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key != self.client.user_id or event.membership != "invite":
            return
        if not self._invite_allowed(event.sender):
            # Only the server is logged: user ids are personal data.
            server = event.sender.split(":", 1)[-1]
            log.info("Matrix: refused an invite from outside the policy (server %s)", server)
            with contextlib.suppress(Exception):
                await self.client.room_leave(room.room_id)
            return
        _check(await self.client.join(room.room_id), "join")

    async def _on_member(self, room: MatrixRoom, event: RoomMemberEvent) -> None:
        if event.membership in ("leave", "ban") and room.joined_count <= 1:
            _check(await self.client.room_leave(room.room_id), "leave")
            with contextlib.suppress(Exception):
                await self.client.room_forget(room.room_id)

    # -- outgoing -----------------------------------------------------------------------------

    async def _send_content(
        self, room_id: str, content: dict[str, Any], tx_id: str | None = None
    ) -> str:
        """Send with one transaction id: a retried send never posts twice."""
        return await self._send_once(room_id, content, tx_id or str(uuid.uuid4()))

    @retry(
        retry=retry_if_exception_type(SendRefused),
        stop=stop_after_attempt(SEND_ATTEMPTS),
        wait=wait_as_asked(_asked_wait, otherwise=wait_exponential(multiplier=0.5)),
        reraise=True,
    )
    async def _send_once(self, room_id: str, content: dict[str, Any], tx_id: str) -> str:
        """One try; a refusal other than M_FORBIDDEN is tried again, the last one raised."""
        response = await self.client.room_send(
            room_id, "m.room.message", content, tx_id=tx_id, ignore_unverified_devices=True
        )
        if isinstance(response, RoomSendResponse):
            return str(response.event_id)
        status = getattr(response, "status_code", "?")
        if status == "M_FORBIDDEN":
            raise RecipientGone(f"matrix: {status}")
        retry_ms = getattr(response, "retry_after_ms", None)
        asked = retry_ms / 1000 if status == "M_LIMIT_EXCEEDED" and retry_ms else None
        raise SendRefused(status, asked)

    async def _send_file(self, room_id: str, reply: Reply, tx_id: str | None = None) -> None:
        attachment = reply.attachment
        assert attachment is not None
        room = self.client.rooms.get(room_id)
        encrypted = bool(room and room.encrypted)
        response, keys = await self.client.upload(
            lambda *_: attachment.content,
            content_type=attachment.mime_type,
            filename=attachment.filename,
            encrypt=encrypted,
            filesize=len(attachment.content),
        )
        upload = _check(response, "upload")
        assert isinstance(upload, UploadResponse)
        content: dict[str, Any] = {
            "msgtype": "m.file",
            "body": attachment.filename,
            "info": {"mimetype": attachment.mime_type, "size": len(attachment.content)},
        }
        if encrypted and keys:
            content["file"] = {"url": upload.content_uri, **keys}
        else:
            content["url"] = upload.content_uri
        await self._send_content(room_id, content, tx_id)

    async def _send_batch(self, room_id: str, replies: list[Reply], key: str | None = None) -> None:
        """Send the replies of one update; numbers run on across them, as in the console.

        With ``key``, each message's transaction id is derived from it, so sending the same
        batch again (after a restart too) posts nothing twice. Every message is recorded, with
        or without options: a typed number presses a button of the latest answer only, and one
        without buttons leaves nothing to press."""
        batch = str(uuid.uuid4())
        number = 1
        expects_text = any(reply.expects_text for reply in replies)
        for position, reply in enumerate(replies):
            tx_id = f"{key}.{position}" if key else None
            content, options = render(reply, number, expects_text=expects_text)
            number += len(options)
            event_id = await self._send_content(room_id, content, tx_id)
            await self.core.services.messages.record(PLATFORM, room_id, event_id, batch, options)
            if reply.attachment is not None:
                await self._send_file(room_id, reply, f"{tx_id}.file" if tx_id else None)

    async def send(self, chat_id: str, reply: Reply) -> None:
        """A notice from the outbox into the person's direct chat."""
        await self.send_once(chat_id, reply, str(uuid.uuid4()))

    async def send_once(self, chat_id: str, reply: Reply, key: str) -> None:
        """A notice sent with ``key``, the same on every attempt: Synapse drops a repeat."""
        if not self._synced.is_set():
            # The rooms are known only after the first sync: until then, nobody is gone.
            raise SendFailed("matrix: not synced yet")
        if chat_id not in self.client.rooms:
            raise RecipientGone("matrix: not in that room any more")
        await self._send_batch(chat_id, [reply], key)
