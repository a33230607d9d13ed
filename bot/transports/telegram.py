"""Telegram adapter (python-telegram-bot 22): updates in, inline keyboards and HTML out.

It translates and renders, nothing else: the core decides what to say. Run with the manual
lifecycle (initialize/start/updater … stop/shutdown) so it shares the loop with Matrix, the
scheduler and the delivery worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import re
import time
import warnings
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import httpx
from aiohttp.helpers import get_env_proxy_for_url
from telegram import (
    BotCommand,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import Application, BaseUpdateProcessor, ContextTypes, TypeHandler
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning
from tenacity import RetryCallState, retry, retry_if_exception_type, stop_after_attempt
from yarl import URL

from bot import i18n
from bot.app.core import Core
from bot.app.logs import failure_summary
from bot.app.settings import Settings
from bot.core.chat import ChatRef, Incoming, Reply, Sender
from bot.core.dispatcher import stale_button_reply
from bot.core.errors import (
    ChatMoved,
    DeliveryUnknown,
    MessengerConflict,
    RateLimited,
    RecipientGone,
    SendFailed,
)
from bot.delivery.lanes import Lane
from bot.i18n import _
from bot.i18n.text import escape, plain, shorten
from bot.transports.retry import wait_as_asked

log = logging.getLogger(__name__)

PLATFORM = "telegram"
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_TOAST = 200
ALLOWED_UPDATES = ["message", "callback_query"]
SEEN_UPDATES = 10_000
SEEN_FOR = timedelta(days=2)
RATE_LIMIT_RETRIES = 3
# Updates of different people answered at once, at most (see InOrderPerPerson), and updates
# taken in at all (the rest wait in python-telegram-bot's queue).
CONCURRENT_UPDATES = 32
WAITING_UPDATES = 4096
# A process that meets a 409 this soon after it began polling is the one that came second.
CONFLICT_GRACE = 60.0
_ADDRESSED = re.compile(r"^/[A-Za-z0-9_]+@([A-Za-z0-9_]+)")


def _seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        # PTB 22 announces retry_after becoming a timedelta; both are handled here.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        wait = exc.retry_after
    return wait.total_seconds() if isinstance(wait, timedelta) else float(wait)


def _asked_wait(exc: BaseException) -> float | None:
    return _seconds(exc) if isinstance(exc, RetryAfter) else None


def _log_flood_wait(state: RetryCallState) -> None:
    seconds = state.next_action.sleep if state.next_action else 0.0
    log.warning("Telegram asks to wait %.0f s", seconds)


@retry(
    retry=retry_if_exception_type(RetryAfter),
    stop=stop_after_attempt(RATE_LIMIT_RETRIES + 1),
    wait=wait_as_asked(_asked_wait),
    before_sleep=_log_flood_wait,
    reraise=True,
)
async def _waiting_out_flood_control(call: Callable[[], Awaitable[object]]) -> None:
    """Make a request, waiting as long as each 429 asks; the last 429 is raised."""
    await call()


class ServerError(NetworkError):
    """Telegram answered with a 5xx status: it received the request and did not carry it out."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(f"{description} ({status})")
        self.status = status


class _Request(HTTPXRequest):
    """PTB's HTTP client, telling a server error (an answer) from a lost connection."""

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        status, payload = await super().do_request(*args, **kwargs)
        if status >= 500:
            raise ServerError(status, _description(payload))
        return status, payload


def _description(payload: bytes) -> str:
    try:
        answer = json.loads(payload)
    except ValueError:
        return "server error"
    found = answer.get("description") if isinstance(answer, dict) else None
    return str(found) if found else "server error"


def _never_sent(exc: TimedOut) -> bool:
    """A timeout before the request went out: connecting, or waiting for a free connection."""
    return isinstance(exc.__cause__, httpx.ConnectTimeout | httpx.PoolTimeout)


_JSON = {"Content-Type": "application/json"}


class _Unparsable(Exception):
    """Telegram could not parse the message's HTML."""


class BulkClient:
    """Requests to the Bot API that need no objects from the answer — the bulk lane's sends,
    answers to button presses, edits: JSON over one pooled aiohttp session, below
    python-telegram-bot's object layer (which builds a ``Message`` from every answer, about
    ten times the cost of the request itself; httpx's pool costs as much again at many
    requests at once). Answers become the errors the delivery worker tells apart, as PTB's
    would: 429 (wait), 403 and a chat that is gone, a migrated group, a server error (an
    answer: not sent), and a timeout or a lost connection after the request went out
    (unknown)."""

    def __init__(
        self, base_url: str, token: str, connections: int = 100, read_timeout: float = 20.0
    ) -> None:
        self._url = f"{base_url}/bot{token}/"
        self._connections = connections
        self._read_timeout = read_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxy: URL | None = None
        self._bodies: dict[Reply, bytes] = {}
        self._closed = False

    def _opened(self) -> aiohttp.ClientSession:
        if self._closed:
            raise SendFailed("the bot is stopping")
        if self._session is None:
            # HTTPS_PROXY and friends, as python-telegram-bot's httpx, read once: with
            # trust_env aiohttp looks them up (and stats ~/.netrc) in a thread per request.
            with contextlib.suppress(LookupError):
                proxy, auth = get_env_proxy_for_url(URL(self._url))
                if auth is not None:  # user:password of the proxy: back into its URL
                    proxy = proxy.with_user(auth.login).with_password(auth.password)
                self._proxy = proxy
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections),
                # connect: a free connection from the pool, or a new one (nothing sent yet).
                timeout=aiohttp.ClientTimeout(
                    total=None, connect=5.0, sock_read=self._read_timeout
                ),
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    async def close(self) -> None:
        self._closed = True
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    async def call(self, method: str, payload: dict[str, Any] | bytes) -> Any:
        """The method's result; raises what the worker needs to know when there is none.
        ``payload``: the parameters, or their JSON already encoded."""
        if not isinstance(payload, bytes):
            payload = json.dumps(payload, ensure_ascii=False).encode()
        session = self._opened()
        try:
            async with session.post(
                self._url + method,
                data=payload,
                headers=_JSON,
                proxy=self._proxy,
            ) as response:
                status = response.status
                body = await response.read()
        except aiohttp.ConnectionTimeoutError as exc:
            raise SendFailed("timed out before sending") from exc
        except aiohttp.ClientConnectorError as exc:
            raise SendFailed("no connection") from exc  # never reached Telegram
        except (aiohttp.InvalidURL, aiohttp.ClientConnectionResetError) as exc:
            raise SendFailed(type(exc).__name__) from exc  # nothing went out
        except (TimeoutError, aiohttp.ClientError) as exc:
            # The request went out; whether Telegram took it nobody can tell.
            raise DeliveryUnknown(type(exc).__name__) from exc
        if status >= 500:
            if status == 504:
                # A gateway that gave up waiting: Telegram behind it may have sent it.
                raise DeliveryUnknown("gateway timeout")
            # Telegram answered, and the answer is that it did not send.
            raise SendFailed(f"server error {status}")
        try:
            answer = json.loads(body)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            if status < 300:  # it was taken, the answer is garbled: whether it was sent is not
                raise DeliveryUnknown("unreadable answer")
            # A refusal in another shape (a proxy's error page): not sent.
            raise SendFailed(f"HTTP {status}")
        if answer.get("ok"):
            return answer.get("result")
        description = str(answer.get("description") or f"error {status}")
        parameters = answer.get("parameters") or {}
        if "retry_after" in parameters:
            raise RateLimited(float(parameters["retry_after"]))
        if "migrate_to_chat_id" in parameters:
            raise ChatMoved(str(parameters["migrate_to_chat_id"]))
        code = answer.get("error_code", status)
        lowered = description.lower()
        if code == 403 or "chat not found" in lowered or "user is deactivated" in lowered:
            raise RecipientGone(description)
        if "can't parse entities" in lowered:
            raise _Unparsable(description)
        raise SendFailed(description)

    def _rest(self, reply: Reply) -> bytes:
        """Everything of the request body but the chat: the same for every recipient of one
        rendered message, so built once (a broadcast is a handful of renderings)."""
        rest = self._bodies.get(reply)
        if rest is None:
            payload: dict[str, Any] = {
                "text": fit(reply),
                "parse_mode": "HTML",
                "link_preview_options": {"is_disabled": True},
            }
            if reply.buttons:
                payload["reply_markup"] = {
                    "inline_keyboard": [
                        [{"text": b.label, "callback_data": b.data} for b in row]
                        for row in reply.buttons
                    ]
                }
            rest = json.dumps(payload, ensure_ascii=False).encode()[1:]
            if len(self._bodies) >= 256:
                self._bodies.clear()
            self._bodies[reply] = rest
        return rest

    async def edit_message(self, chat_id: int, message_id: int, reply: Reply) -> None:
        """Edit a message in place (its text and buttons); the errors are those of
        :meth:`call`."""
        body = b'{"chat_id":%d,"message_id":%d,%s' % (chat_id, message_id, self._rest(reply))
        await self.call("editMessageText", body)

    async def send_message(self, chat_id: str, reply: Reply) -> None:
        body = b'{"chat_id":%d,%s' % (int(chat_id), self._rest(reply))
        try:
            await self.call("sendMessage", body)
        except _Unparsable:
            # Cannot happen (all values are escaped); if forced, plain text once.
            text = fit(Reply(escape(plain(str(reply.text)))))
            await self.call(
                "sendMessage", {"chat_id": int(chat_id), "text": text, "parse_mode": "HTML"}
            )


def visible_length(html: str) -> int:
    """Telegram counts UTF-16 code units of the text after entity parsing."""
    return len(plain(html).encode("utf-16-le")) // 2


def fit(reply: Reply, limit: int = MAX_TEXT) -> str:
    """The reply as Telegram HTML within ``limit``; never cut inside markup.

    The core keeps texts short (long descriptions get a "more" button); this is the safety net:
    an over-long text loses its formatting and is shortened as plain, escaped text.
    """
    html = str(reply.text)
    if visible_length(html) <= limit:
        return html
    return str(escape(shorten(plain(html), limit - 50)))


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.label, callback_data=b.data) for b in row]
            for row in reply.buttons
        ]
    )


class InOrderPerPerson(BaseUpdateProcessor):
    """Updates are answered side by side, except that one person's updates, and one chat's,
    are answered one after another in the order they came.

    In sequence (python-telegram-bot's default), one person's press waited for everyone's
    before it, including the HTTP round trips of their answers and edited cards; fully
    concurrent, one person's two quick taps could be answered in the wrong order. Each update
    waits for the one before it of the same person and of the same chat (taken in arrival
    order, before anything is awaited); the rest run at once, at most
    ``max_concurrent_updates`` together."""

    def __init__(self, max_concurrent_updates: int = CONCURRENT_UPDATES) -> None:
        # python-telegram-bot's own bound is taken before an update waits for its turn: one
        # chat's queue could fill it. The bound here is taken once it is the update's turn.
        super().__init__(WAITING_UPDATES)
        self._running = asyncio.Semaphore(max_concurrent_updates)
        self._last: dict[tuple[str, int], asyncio.Event] = {}
        self._passing: set[asyncio.Task[None]] = set()

    @staticmethod
    def keys(update: object) -> list[tuple[str, int]]:
        if not isinstance(update, Update):
            return []
        keys = []
        if update.effective_user is not None:
            keys.append(("user", update.effective_user.id))
        if update.effective_chat is not None:
            keys.append(("chat", update.effective_chat.id))
        return keys

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        keys = self.keys(update)
        before = {self._last[key] for key in keys if key in self._last}
        mine = asyncio.Event()
        for key in keys:
            self._last[key] = mine
        try:
            for earlier in before:
                await earlier.wait()
        except BaseException:
            # Cancelled while waiting (the application stops): the update is not processed,
            # and the ones after it still wait for those before it.
            if inspect.iscoroutine(coroutine):
                coroutine.close()
            passing = asyncio.get_running_loop().create_task(self._after(before, keys, mine))
            self._passing.add(passing)
            passing.add_done_callback(self._passing.discard)
            raise
        try:
            async with self._running:
                await coroutine
        finally:
            if inspect.iscoroutine(coroutine):
                coroutine.close()  # never started (cancelled before its turn): no warning
            self._done(keys, mine)

    async def _after(
        self, before: set[asyncio.Event], keys: list[tuple[str, int]], mine: asyncio.Event
    ) -> None:
        for earlier in before:
            await earlier.wait()
        self._done(keys, mine)

    def _done(self, keys: list[tuple[str, int]], mine: asyncio.Event) -> None:
        mine.set()
        for key in keys:
            if self._last.get(key) is mine:
                del self._last[key]

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


class TelegramTransport:
    platform = PLATFORM

    @staticmethod
    def is_group(chat_id: str) -> bool:
        return chat_id.startswith("-")

    def __init__(
        self,
        core: Core,
        settings: Settings,
        on_conflict: Callable[[MessengerConflict], None],
    ) -> None:
        if not settings.telegram_bot_token:
            raise ValueError("TelegramTransport needs TELEGRAM_BOT_TOKEN")
        self.core = core
        self.settings = settings
        self.on_conflict = on_conflict
        builder = (
            Application.builder()
            .token(settings.telegram_bot_token)
            .request(_Request(connection_pool_size=256))
            .get_updates_request(_Request())
            .concurrent_updates(InOrderPerPerson())
        )
        if settings.telegram_base_url:
            builder = builder.base_url(f"{settings.telegram_base_url}/bot").base_file_url(
                f"{settings.telegram_base_url}/file/bot"
            )
        self.app = builder.build()
        self.bulk = BulkClient(
            settings.telegram_base_url or "https://api.telegram.org", settings.telegram_bot_token
        )
        self.app.add_handler(TypeHandler(Update, self._on_update))
        self.app.add_error_handler(self._on_error)
        # Telegram's bulk limits: ~30 messages/s overall, 1/s per chat, 20/min per group.
        self.lane = Lane(settings.telegram_bulk_rate, 1.0, 3.0)
        self.username: str | None = None
        self._seen: OrderedDict[int, None] = OrderedDict()
        self._polling_since = 0.0
        core.delivery.add_sender(self)

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        # Telegram redelivers an update for at most a day: older update ids are forgotten.
        await self.core.services.messages.forget_seen(PLATFORM, datetime.now(UTC) - SEEN_FOR)
        await self.app.initialize()
        self.username = self.app.bot.username
        await self.register_commands()
        await self.app.start()
        updater = self.app.updater
        assert updater is not None
        if self.settings.telegram_webhook_url:
            await updater.start_webhook(
                listen=self.settings.telegram_webhook_listen,
                port=self.settings.telegram_webhook_port,
                url_path=self.settings.telegram_webhook_path,
                webhook_url=self.settings.telegram_webhook_url,
                secret_token=self.settings.telegram_webhook_secret,
                allowed_updates=ALLOWED_UPDATES,
            )
            log.info("Telegram: webhook mode on port %d", self.settings.telegram_webhook_port)
        else:
            # Pending updates are kept: Telegram holds them for a day, and they are people's
            # messages. Never drop_pending_updates.
            self._polling_since = time.monotonic()
            await updater.start_polling(
                allowed_updates=ALLOWED_UPDATES,
                drop_pending_updates=False,
                error_callback=self._on_polling_error,
            )
            log.info("Telegram: long polling")

    def _on_polling_error(self, error: TelegramError) -> None:
        """Polling goes on after an error, except when another process polls the same token.

        Telegram ends a waiting getUpdates when another one arrives, so both processes see
        409s in turn. The one that began polling only now gives way; the other keeps going.
        """
        if not isinstance(error, Conflict):
            log.warning("Telegram: fetching updates failed:\n%s", failure_summary(error))
            return
        if time.monotonic() - self._polling_since < CONFLICT_GRACE:
            log.error(
                "Telegram: another process is already polling updates for this bot token "
                "(409 Conflict); this one stops. Run one instance per token."
            )
            self.on_conflict(MessengerConflict(PLATFORM))
        else:
            log.warning(
                "Telegram: another process polled updates for this bot token (409 Conflict); "
                "it came second and should stop by itself"
            )

    async def stop(self) -> None:
        updater = self.app.updater
        if updater is not None and updater.running:
            await updater.stop()
        try:
            if self.app.running:
                await self.app.stop()
            await self.app.shutdown()
        finally:
            await self.bulk.close()

    async def register_commands(self) -> None:
        """The command menu in every shipped language, and the default language for the rest."""
        registry = self.core.dispatcher.registry
        for code in (None, *self.core.i18n.available):
            with i18n.use(self.core.i18n.lang(code or self.settings.default_language)):
                commands = [BotCommand(c.name, shorten(_(c.help), 256)) for c in registry.visible()]
            await self.app.bot.set_my_commands(commands, language_code=code)

    # -- incoming -----------------------------------------------------------------------------

    def _addressed_elsewhere(self, text: str) -> bool:
        """``/start@otherbot`` in a group is not for us."""
        match = _ADDRESSED.match(text)
        return bool(match and self.username and match.group(1).lower() != self.username.lower())

    def _seen_before(self, update_id: int) -> bool:
        """Webhook retries and restarts can deliver an update twice; it is handled once (here
        cheaply within this process; across processes by the update id the dispatcher records
        in the update's unit of work)."""
        if update_id in self._seen:
            return True
        self._seen[update_id] = None
        while len(self._seen) > SEEN_UPDATES:
            self._seen.popitem(last=False)
        return False

    async def _on_update(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        if self._seen_before(update.update_id):
            log.info("update delivered twice, handled once")
            return
        once = str(update.update_id)
        # From arrival to the answer and the edited card leaving: bulk delivery gives way
        # meanwhile (the person's next update waits for this one; a slow edit holds it up).
        with self.core.dispatcher.priority.interactive():
            if update.callback_query is not None:
                await self._on_press(update.callback_query, once)
            elif update.message is not None:
                await self._on_message(update.message, once)

    async def _on_message(self, message: Message, once: str | None = None) -> None:
        user = message.from_user
        if user is None or user.is_bot or message.text is None:
            return
        if self._addressed_elsewhere(message.text):
            return
        incoming = Incoming(
            Sender(PLATFORM, str(user.id), user.language_code),
            ChatRef(PLATFORM, str(message.chat.id), message.chat.type == "private"),
            text=message.text,
            message_id=str(message.message_id),
            once=once,
        )
        replies = await self.core.dispatcher.handle(incoming)
        await self._render(message.chat.id, replies, None)

    async def _on_press(self, query: CallbackQuery, once: str | None = None) -> None:
        toast: str | None = None
        replies: list[Reply] = []
        message = query.message
        try:
            if message is None or query.data is None or not isinstance(message, Message):
                # Too old to be accessible, or not a callback we sent: still answered.
                lang = self.core.i18n.lang(query.from_user.language_code)
                with i18n.use(lang):
                    toast = stale_button_reply().toast
                return
            incoming = Incoming(
                Sender(PLATFORM, str(query.from_user.id), query.from_user.language_code),
                ChatRef(PLATFORM, str(message.chat.id), message.chat.type == "private"),
                button=query.data,
                message_id=str(message.message_id),
                once=once,
            )
            replies = await self.core.dispatcher.handle(incoming)
            toast = next((r.toast for r in replies if r.toast), None)
        finally:
            # Every press is answered, so no button keeps spinning; then the visible reply.
            # Through the bulk client: an answer carries nothing to build objects from.
            answer: dict[str, Any] = {"callback_query_id": query.id}
            if toast:
                answer["text"] = shorten(toast, MAX_TOAST)
            try:
                await self.bulk.call("answerCallbackQuery", answer)
            except (RateLimited, RecipientGone, ChatMoved, SendFailed, DeliveryUnknown) as exc:
                log.warning("could not answer a button press: %s", type(exc).__name__)
        if message is not None and isinstance(message, Message):
            await self._render(message.chat.id, replies, message.message_id)

    async def _on_error(self, _update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        error = context.error
        if error is not None:
            log.warning("Telegram update failed:\n%s", failure_summary(error))

    # -- outgoing -----------------------------------------------------------------------------

    async def _render(self, chat_id: int, replies: list[Reply], pressed: int | None) -> None:
        editable = pressed
        for reply in replies:
            if reply.toast_only and pressed is not None:
                continue  # already said as the press's answer
            if reply.replace and editable is not None and reply.attachment is None:
                target, editable = editable, None
                if await self._edit(chat_id, target, reply):
                    continue
            await self._send(chat_id, reply)

    @staticmethod
    async def _patiently(call: Callable[[], Awaitable[object]], patient: bool = True) -> None:
        """Make a request; a patient one waits out Telegram's flood control (429) itself."""
        if patient:
            await _waiting_out_flood_control(call)
        else:
            await call()

    async def _edit(self, chat_id: int, message_id: int, reply: Reply) -> bool:
        """Edit in place; False when the message cannot be edited and a new one is needed.
        Through the bulk client (no objects built from the answer); a 429 is waited out."""
        for attempt in range(RATE_LIMIT_RETRIES + 1):
            try:
                await self.bulk.edit_message(chat_id, message_id, reply)
            except RateLimited as limited:
                if attempt == RATE_LIMIT_RETRIES:
                    log.warning(
                        "Telegram asks to wait %.0f s; the edit is given up", limited.retry_after
                    )
                    return True
                log.warning("Telegram asks to wait %.0f s", limited.retry_after)
                await asyncio.sleep(limited.retry_after)
                continue
            except SendFailed as failed:
                if "not modified" in failed.reason.lower():
                    return True  # a double tap: the message already shows this
                log.info("cannot edit message, sending a new one: %s", failed.reason[:80])
                return False
            except _Unparsable:
                return False  # sent anew, where it falls back to plain text
            except (RecipientGone, ChatMoved) as exc:
                log.info("cannot edit message: %s", type(exc).__name__)
                return True  # nothing can be sent there either
            except DeliveryUnknown:
                log.warning("editing a message timed out; not sent again as a new one")
                return True
            return True
        return True

    async def _send(self, chat_id: int | str, reply: Reply, *, patient: bool = True) -> None:
        if reply.attachment is not None:
            caption = str(reply.text)
            if visible_length(caption) > MAX_CAPTION:
                await self._send_text(chat_id, Reply(reply.text), patient=patient)
                caption = ""
            attachment = reply.attachment
            await self._patiently(
                lambda: self.app.bot.send_document(
                    chat_id,
                    InputFile(attachment.content, filename=attachment.filename),
                    caption=caption or None,
                    parse_mode=ParseMode.HTML if caption else None,
                    reply_markup=keyboard(reply),
                ),
                patient,
            )
            return
        await self._send_text(chat_id, reply, patient=patient)

    async def _send_text(self, chat_id: int | str, reply: Reply, *, patient: bool = True) -> None:
        await self._patiently(
            lambda: self.app.bot.send_message(
                chat_id,
                fit(reply),
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard(reply),
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            ),
            patient,
        )

    async def send(self, chat_id: str, reply: Reply) -> None:
        """One outbox message on the bulk lane; errors are classified for the worker. Text goes
        through the bulk client; a file (rare in notices) through python-telegram-bot."""
        if reply.attachment is None:
            await self.bulk.send_message(chat_id, reply)
            return
        try:
            await self._send(int(chat_id), reply, patient=False)
        except RetryAfter as exc:
            raise RateLimited(_seconds(exc)) from exc
        except Forbidden as exc:
            raise RecipientGone(exc.message) from exc
        except ChatMigrated as exc:
            raise ChatMoved(str(exc.new_chat_id)) from exc
        except ServerError as exc:
            if exc.status == 504:
                raise DeliveryUnknown("gateway timeout") from exc
            raise SendFailed(f"server error {exc.status}") from exc
        except TimedOut as exc:
            if _never_sent(exc):
                raise SendFailed("timed out before sending") from exc
            raise DeliveryUnknown("timed out") from exc
        except BadRequest as exc:
            message = exc.message.lower()
            if "chat not found" in message or "user is deactivated" in message:
                raise RecipientGone(exc.message) from exc
            raise SendFailed(exc.message) from exc
        except NetworkError as exc:
            if isinstance(exc.__cause__, httpx.ConnectError):
                raise SendFailed("no connection") from exc  # never reached Telegram
            raise DeliveryUnknown(type(exc).__name__) from exc
