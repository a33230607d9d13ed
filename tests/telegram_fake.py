"""A fake Telegram Bot API server, faithful for the methods Treffpunkt uses.

python-telegram-bot talks to it through ``base_url`` exactly as it talks to Telegram: form or
JSON bodies (multipart for files), ``{"ok": true, "result": …}`` or an error with
``error_code``, ``description`` and ``parameters.retry_after``; dates in seconds; long polling
that honours ``offset``, ``limit`` and ``timeout``. It checks what Telegram checks — HTML that
Telegram can parse, 4096 characters after parsing, callback data of 1–64 bytes, callback
answers of at most 200 characters, "message is not modified" — so a mistake in the bot shows
up here as it would in production.

Tests drive it in-process: :meth:`FakeBotAPI.user_sends` and :meth:`FakeBotAPI.user_presses`
inject updates, :attr:`FakeBotAPI.messages` shows every message as the chat shows it now
(edits applied), and :meth:`FakeBotAPI.fail_next` / :attr:`FakeBotAPI.blocked` inject faults
(any status: 429, 5xx, 409). As Telegram does, a getUpdates ends the one still waiting with
409 Conflict, so two processes polling one token see each other.

For load tests it also behaves like Telegram under load: :class:`Limits` (off by default)
refuses sends beyond Telegram's rate limits with the 429 Telegram answers, and
:meth:`FakeBotAPI.stats` counts sends, refusals, the busiest second, duplicates and how long the
bot took to answer button presses. With :attr:`FakeBotAPI.keep_messages` off it stores nothing
per message, so a long benchmark does not grow it.

It also runs as a process of its own, driven through a small JSON API under ``/control/``::

    python -m tests.telegram_fake --token T [--port P] [--per-second N | --no-limits]
                                  [--quiet-store]

prints ``READY http://127.0.0.1:PORT`` once it listens and serves until SIGTERM or SIGINT.
``GET /control/stats``, ``POST /control/reset``, ``POST /control/limits`` (``{"per_second": 30}``
or ``{}`` for none), ``POST /control/user_sends`` (``{"user_id", "text"}``),
``POST /control/user_presses`` (``{"user_id", "chat_id", "message_id", "data"}``),
``GET /control/messages?chat_id=…`` and ``POST /control/webhooks``
(``{"urls": […], "secret": …}``: every new update is then POSTed to one of the urls in turn, as
a load balancer in front of several bot processes would receive it, and retried on the next url
when one fails, as Telegram retries a webhook).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import itertools
import json
import math
import signal
import sys
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from typing import Any

import aiohttp
from aiohttp import web

BOT_ID = 7_000_001
TOKEN = "123456:TEST-token-for-the-fake-bot-api-0000000"  # the token tests give the bot
ALLOWED_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "tg-spoiler",
    "span",
    "blockquote",
    "tg-emoji",
}
JSON_FIELDS = {
    "reply_markup",
    "commands",
    "scope",
    "link_preview_options",
    "allowed_updates",
    "entities",
    "caption_entities",
    "reply_parameters",
}
INT_FIELDS = {"chat_id", "message_id", "offset", "limit", "timeout", "max_connections"}
MAX_TEXT = 4096
# The methods that send a message: the ones Telegram's rate limits count.
SEND_METHODS = {"sendMessage", "sendDocument"}
# Webhook delivery, as Telegram retries it: each try waits at most this long for an answer, the
# next try (on the next url) follows after a pause, and an update is given up after so many.
PUSH_TIMEOUT = 10.0
PUSH_PAUSE = 0.5
PUSH_TRIES = 20


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


class _TelegramHTML(HTMLParser):
    """Parses text the way Telegram's HTML parse mode does, or says why it cannot."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.text: list[str] = []
        self.error: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.error = self.error or f'Unsupported start tag "{tag}"'
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.error = self.error or f'Unmatched end tag "{tag}"'
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_entityref(self, name: str) -> None:
        known = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
        if name not in known:
            self.error = self.error or f'Unsupported HTML entity "&{name};"'
        self.text.append(known.get(name, ""))

    def handle_charref(self, name: str) -> None:
        code = int(name[1:], 16) if name.lower().startswith("x") else int(name)
        self.text.append(chr(code))


def parse_html(text: str) -> str:
    """The visible text of a Telegram HTML message; ApiError 400 as Telegram would answer."""
    parser = _TelegramHTML()
    parser.feed(text)
    parser.close()
    if parser.error is None and parser.stack:
        parser.error = f'Unclosed start tag "{parser.stack[-1]}"'
    if parser.error:
        raise ApiError(400, f"Bad Request: can't parse entities: {parser.error}")
    return "".join(parser.text)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class Limits:
    """Telegram's rate limits for a bot (https://core.telegram.org/bots/faq#broadcasting-to-users).

    At most ``per_second`` sends in any second overall (at least 1), one send per
    ``per_chat_seconds`` to one private chat, and ``per_group_per_minute`` sends a minute to one
    group (a chat with a negative id).
    """

    per_second: float = 30
    per_chat_seconds: float = 1.0
    per_group_per_minute: int = 20


@dataclass
class _Send:
    """A send let through the limits and not yet carried out (it may still fail)."""

    at: float  # FakeBotAPI.clock() at its arrival
    chat_id: int
    previous: float | None  # the previous send to this private chat


@dataclass
class Message:
    """A message as it stands in its chat now (edits applied)."""

    chat_id: int
    message_id: int
    from_bot: bool
    text: str
    parse_mode: str | None = None
    reply_markup: dict[str, Any] | None = None
    document: dict[str, Any] | None = None
    edits: int = 0
    date: int = field(default_factory=lambda: int(time.time()))

    @property
    def visible_text(self) -> str:
        return parse_html(self.text) if self.parse_mode == "HTML" else self.text

    def button_rows(self) -> list[list[dict[str, str]]]:
        return list((self.reply_markup or {}).get("inline_keyboard", []))

    def buttons(self) -> list[dict[str, str]]:
        return [b for row in self.button_rows() for b in row]


@dataclass
class FakeUser:
    id: int
    first_name: str
    language_code: str | None = None

    def as_dict(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            user["language_code"] = self.language_code
        return user


class FakeBotAPI:
    def __init__(self, token: str, limits: Limits | None = None) -> None:
        self.token = token
        # Telegram's rate limits for sendMessage and sendDocument; None: no limits.
        self.limits = limits
        # False: no message, call or user message is kept (a long benchmark must not grow the
        # fake); messages are still checked and answered with increasing ids.
        self.keep_messages = True
        # The clock of the rate limits and latencies (seconds; tests may stop or move it).
        self.clock: Callable[[], float] = time.monotonic
        self.updates: list[dict[str, Any]] = []
        self.confirmed_offset = 0
        self.messages: dict[int, list[Message]] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.callback_answers: dict[str, dict[str, Any]] = {}
        self.commands: dict[str, list[dict[str, str]]] = {}
        self.webhook: dict[str, Any] = {}
        self.blocked: set[int] = set()
        self.faults: list[tuple[str, ApiError]] = []
        self._update_ids = itertools.count(1000)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._callback_ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._closing = False
        # Flood control: every n-th sendMessage is refused with 429 and retry_after.
        self.flood_every = 0
        self.flood_retry = 1
        self._sends = 0
        self._polls = 0
        self.url = ""
        self.chats: dict[int, dict[str, Any]] = {}
        # Any private chat id is taken as a chat whose person started the bot (benchmarks).
        self.open_chats = False
        self.users: dict[int, FakeUser] = {}
        # Webhook delivery set through /control/webhooks (not the bot's own setWebhook).
        self.push_urls: list[str] = []
        self.push_secret: str | None = None
        self._push_turn = itertools.count()
        self._push_tasks: set[asyncio.Task[None]] = set()
        self._http: aiohttp.ClientSession | None = None
        # When each callback query left the fake (None: not yet), until the bot answers it.
        self._press_out: dict[str, float | None] = {}
        self.reset_stats()

    # -- statistics and rate limits ----------------------------------------------------------

    def reset_stats(self) -> None:
        """Forget every count and the rate-limit windows."""
        self._recent: deque[float] = deque()  # accepted sends within the last second
        self._chat_last: dict[int, float] = {}  # a private chat's last accepted send
        self._group_recent: dict[int, deque[float]] = {}  # a group's sends within a minute
        self._seen: set[int] = set()  # hashes of the (chat, text) sent
        self.sends = 0
        self.refused = 0
        self.max_per_second = 0
        self.per_chat_violations = 0
        self.duplicates = 0
        self.first_send_at: float | None = None
        self.last_send_at: float | None = None
        self.press_latencies_ms: list[float] = []
        self.webhook_deliveries = 0
        self.webhook_retries = 0
        self.webhook_lost = 0

    def stats(self) -> dict[str, Any]:
        return {
            "sends": self.sends,
            "refused": self.refused,
            "max_per_second": self.max_per_second,
            "per_chat_violations": self.per_chat_violations,
            "duplicates": self.duplicates,
            "first_send_at": self.first_send_at,
            "last_send_at": self.last_send_at,
            "press_latencies_ms": list(self.press_latencies_ms),
            "webhook_deliveries": self.webhook_deliveries,
            "webhook_retries": self.webhook_retries,
            "webhook_lost": self.webhook_lost,
            "limits": asdict(self.limits) if self.limits else None,
        }

    def _admit(self, params: dict[str, Any]) -> _Send | None:
        """Let a send through the limits (and count it in their windows) or raise 429."""
        try:
            chat_id = int(params["chat_id"])
        except (KeyError, TypeError, ValueError):
            return None  # the method itself answers that
        now = self.clock()
        recent = self._recent
        while recent and recent[0] <= now - 1.0:
            recent.popleft()
        group: deque[float] | None = None
        if chat_id < 0:
            group = self._group_recent.setdefault(chat_id, deque())
            while group and group[0] <= now - 60.0:
                group.popleft()
        previous = self._chat_last.get(chat_id) if chat_id > 0 else None
        limits = self.limits
        if limits is not None:
            wait = 0.0
            per_second = max(1.0, limits.per_second)
            if len(recent) >= per_second:
                wait = recent[int(len(recent) - per_second)] + 1.0 - now
            if previous is not None and now - previous < limits.per_chat_seconds:
                wait = max(wait, previous + limits.per_chat_seconds - now)
            per_minute = max(1, limits.per_group_per_minute)
            if group is not None and len(group) >= per_minute:
                wait = max(wait, group[len(group) - per_minute] + 60.0 - now)
            if wait > 0:
                retry = max(1, math.ceil(wait))
                raise ApiError(429, f"Too Many Requests: retry after {retry}", retry)
        recent.append(now)
        if group is not None:
            group.append(now)
        if chat_id > 0:
            self._chat_last[chat_id] = now
        return _Send(now, chat_id, previous)

    def _withdraw(self, send: _Send) -> None:
        """A send let through failed after all: it does not count."""
        with contextlib.suppress(ValueError):
            self._recent.remove(send.at)
        if send.chat_id < 0:
            with contextlib.suppress(ValueError):
                self._group_recent[send.chat_id].remove(send.at)
        elif self._chat_last.get(send.chat_id) == send.at:
            if send.previous is None:
                del self._chat_last[send.chat_id]
            else:
                self._chat_last[send.chat_id] = send.previous

    def _count(self, send: _Send, method: str, params: dict[str, Any]) -> None:
        """A send carried out."""
        self.sends += 1
        self.last_send_at = time.time()
        if self.first_send_at is None:
            self.first_send_at = self.last_send_at
        recent, now = self._recent, self.clock()
        while recent and recent[0] <= now - 1.0:
            recent.popleft()
        self.max_per_second = max(self.max_per_second, len(recent))
        if send.chat_id > 0 and send.previous is not None and send.at - send.previous < 1.0:
            self.per_chat_violations += 1
        if method == "sendMessage":
            key = hash((send.chat_id, str(params.get("text", ""))))
        else:
            upload = params.get("document")
            name = upload.get("file_name") if isinstance(upload, dict) else None
            key = hash((send.chat_id, str(params.get("caption", "")), name))
        if key in self._seen:
            self.duplicates += 1
        else:
            self._seen.add(key)

    def _press_left(self, update: dict[str, Any], first_only: bool) -> None:
        query = update.get("callback_query")
        if query is None or query["id"] not in self._press_out:
            return
        if not first_only or self._press_out[query["id"]] is None:
            self._press_out[query["id"]] = self.clock()

    # -- the server -------------------------------------------------------------------------

    async def start(self, port: int = 0) -> str:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_route("*", "/control/{action}", self._control)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        self._closing = True
        async with self._changed:
            self._changed.notify_all()
        for task in list(self._push_tasks):
            task.cancel()
        await asyncio.gather(*self._push_tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.close()
            self._http = None
        if self._runner is not None:
            await self._runner.cleanup()

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            params.update(await request.json())
        elif request.content_type == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if part.filename:  # type: ignore[union-attr]
                    content = await part.read()  # type: ignore[union-attr]
                    params[part.name or "file"] = {  # type: ignore[union-attr]
                        "file_name": part.filename,  # type: ignore[union-attr]
                        "content": bytes(content),
                        "mime_type": part.headers.get("Content-Type"),  # type: ignore[union-attr]
                    }
                else:
                    params[part.name or ""] = await part.text()  # type: ignore[union-attr]
        elif request.can_read_body:
            params.update(dict(await request.post()))
        for key, value in list(params.items()):
            if key in JSON_FIELDS and isinstance(value, str):
                params[key] = json.loads(value)
            elif key in INT_FIELDS and isinstance(value, str):
                params[key] = int(value)
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        handler = getattr(self, f"api_{method.lower()}", None)
        if handler is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        send: _Send | None = None
        try:
            params = await self._params(request)
            if self.keep_messages:
                self.calls.append((method, params))
            self._inject_fault(method, params)
            if method in SEND_METHODS:
                send = self._admit(params)
            result = await handler(params)
        except BaseException as err:
            if send is not None:
                self._withdraw(send)
            if not isinstance(err, ApiError):
                raise
            if err.code == 429:
                self.refused += 1
            body: dict[str, Any] = {
                "ok": False,
                "error_code": err.code,
                "description": err.description,
            }
            if err.retry_after is not None:
                body["parameters"] = {"retry_after": err.retry_after}
            return web.json_response(body, status=err.code)
        if send is not None:
            self._count(send, method, params)
        return web.json_response({"ok": True, "result": result})

    def _inject_fault(self, method: str, params: dict[str, Any]) -> None:
        if self.flood_every and method == "sendMessage":
            self._sends += 1
            if self._sends % self.flood_every == 0:
                raise ApiError(
                    429, f"Too Many Requests: retry after {self.flood_retry}", self.flood_retry
                )
        for i, (wanted, error) in enumerate(self.faults):
            if wanted == method:
                del self.faults[i]
                raise error
        if method in {"sendMessage", "sendDocument"} and params.get("chat_id") in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")

    # -- Bot API methods ---------------------------------------------------------------------

    async def api_getme(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Treffpunkt",
            "username": "treffpunkt_test_bot",
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def api_deletewebhook(self, _params: dict[str, Any]) -> bool:
        self.webhook = {}
        return True

    async def api_setwebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = {"url": params["url"], "secret_token": params.get("secret_token")}
        return True

    async def api_getwebhookinfo(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self.pending()),
        }

    def pending(self) -> list[dict[str, Any]]:
        return [u for u in self.updates if u["update_id"] >= self.confirmed_offset]

    async def api_getupdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook.get("url"):
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(params.get("offset") or 0)
        limit = max(1, min(int(params.get("limit") or 100), 100))
        timeout = min(float(params.get("timeout") or 0), 5.0)
        if offset:
            self.confirmed_offset = max(self.confirmed_offset, offset)
            if not self.keep_messages:
                self.updates = self.pending()
        deadline = asyncio.get_running_loop().time() + timeout
        self._polls += 1
        mine = self._polls
        async with self._changed:
            self._changed.notify_all()  # the poll waiting before this one ends
            while not self.pending() and not self._closing:
                if self._polls != mine:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that only "
                        "one bot instance is running",
                    )
                left = deadline - asyncio.get_running_loop().time()
                if left <= 0:
                    break
                try:
                    await asyncio.wait_for(self._changed.wait(), left)
                except TimeoutError:
                    break
        result = self.pending()[:limit]
        if self._press_out:
            for update in result:
                self._press_left(update, first_only=True)
        return result

    def _check_markup(self, params: dict[str, Any]) -> dict[str, Any] | None:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        for row in markup.get("inline_keyboard", []):
            if len(row) > 8:
                raise ApiError(400, "Bad Request: too many buttons in a row")
            for button in row:
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if not button.get("text"):
                    raise ApiError(400, "Bad Request: text buttons are unallowed")
        return dict(markup)

    def _check_text(self, text: str, parse_mode: str | None) -> None:
        visible = parse_html(text) if parse_mode == "HTML" else text
        if not visible.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(visible) > MAX_TEXT:
            raise ApiError(400, "Bad Request: message is too long")

    def _chat(self, chat_id: int) -> list[Message]:
        if chat_id not in self.chats:
            if not (self.open_chats and chat_id > 0):
                raise ApiError(400, "Bad Request: chat not found")
            # Benchmarks: every private chat is one whose person has started the bot.
            self.chats[chat_id] = {"id": chat_id, "type": "private", "first_name": "Person"}
        return self.messages.setdefault(chat_id, [])

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def message_dict(self, message: Message) -> dict[str, Any]:
        body: dict[str, Any] = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": self.chats[message.chat_id],
        }
        if message.from_bot:
            body["from"] = {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Treffpunkt",
                "username": "treffpunkt_test_bot",
            }
        if message.document is not None:
            body["document"] = message.document
            if message.text:
                body["caption"] = message.text
        else:
            body["text"] = message.visible_text
        if message.edits:
            body["edit_date"] = int(time.time())
        if message.reply_markup:
            body["reply_markup"] = message.reply_markup
        return body

    async def _store(self, message: Message) -> dict[str, Any]:
        chat = self._chat(message.chat_id)
        if self.keep_messages:
            chat.append(message)
        async with self._changed:
            self._changed.notify_all()
        return self.message_dict(message)

    async def api_sendmessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id, text = int(params["chat_id"]), str(params.get("text", ""))
        self._chat(chat_id)
        self._check_text(text, params.get("parse_mode"))
        markup = self._check_markup(params)
        return await self._store(
            Message(
                chat_id,
                self._next_message_id(chat_id),
                True,
                text,
                params.get("parse_mode"),
                markup,
            )
        )

    async def api_senddocument(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        self._chat(chat_id)
        upload = params.get("document")
        if not isinstance(upload, dict):
            raise ApiError(400, "Bad Request: there is no document in the request")
        caption = str(params.get("caption", ""))
        if caption:
            visible = parse_html(caption) if params.get("parse_mode") == "HTML" else caption
            if utf16_len(visible) > 1024:
                raise ApiError(400, "Bad Request: message caption is too long")
        document = {
            "file_id": f"doc-{len(self.calls)}",
            "file_unique_id": f"u{len(self.calls)}",
            "file_name": upload["file_name"],
            "mime_type": upload.get("mime_type"),
            "file_size": len(upload["content"]),
            "content": upload["content"],
        }
        message = Message(
            chat_id,
            self._next_message_id(chat_id),
            True,
            caption,
            params.get("parse_mode"),
            self._check_markup(params),
            document,
        )
        result = await self._store(message)
        result["document"] = {k: v for k, v in document.items() if k != "content"}
        return result

    async def api_editmessagetext(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        if not self.keep_messages:  # nothing stored to compare with: any edit succeeds
            self._chat(chat_id)
            text, mode = str(params.get("text", "")), params.get("parse_mode")
            self._check_text(text, mode)
            edited = Message(chat_id, message_id, True, text, mode, self._check_markup(params))
            edited.edits = 1
            return self.message_dict(edited)
        found = [m for m in self._chat(chat_id) if m.message_id == message_id]
        if not found:
            raise ApiError(400, "Bad Request: message to edit not found")
        message = found[0]
        if not message.from_bot:
            raise ApiError(400, "Bad Request: message can't be edited")
        text = str(params.get("text", ""))
        self._check_text(text, params.get("parse_mode"))
        markup = self._check_markup(params)
        if text == message.text and markup == message.reply_markup:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        message.text, message.parse_mode, message.reply_markup = (
            text,
            params.get("parse_mode"),
            markup,
        )
        message.edits += 1
        async with self._changed:
            self._changed.notify_all()
        return self.message_dict(message)

    async def api_answercallbackquery(self, params: dict[str, Any]) -> bool:
        query_id = str(params["callback_query_id"])
        if query_id in self.callback_answers:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        if len(str(params.get("text", ""))) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self.callback_answers[query_id] = params if self.keep_messages else {}
        left = self._press_out.pop(query_id, None)
        if left is not None:
            self.press_latencies_ms.append((self.clock() - left) * 1000)
        async with self._changed:
            self._changed.notify_all()
        return True

    async def api_setmycommands(self, params: dict[str, Any]) -> bool:
        for command in params["commands"]:
            name, description = command["command"], command["description"]
            if not (
                1 <= len(name) <= 32 and name == name.lower() and name.replace("_", "").isalnum()
            ):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[params.get("language_code", "")] = params["commands"]
        return True

    async def api_getmycommands(self, params: dict[str, Any]) -> list[dict[str, str]]:
        return self.commands.get(params.get("language_code", ""), [])

    # -- test controls -----------------------------------------------------------------------

    def private_chat(self, user: FakeUser) -> dict[str, Any]:
        chat = {"id": user.id, "type": "private", "first_name": user.first_name}
        self.chats.setdefault(user.id, chat)
        return chat

    def group_chat(self, chat_id: int, title: str = "Werkstatt MO Leipzig") -> dict[str, Any]:
        chat = {"id": chat_id, "type": "supergroup", "title": title}
        self.chats.setdefault(chat_id, chat)
        return chat

    async def _push(self, update: dict[str, Any]) -> int:
        update["update_id"] = next(self._update_ids)
        query = update.get("callback_query")
        if query is not None:
            self._press_out[query["id"]] = None
        if self.push_urls:
            task = asyncio.create_task(
                self._deliver(update, list(self.push_urls), next(self._push_turn))
            )
            self._push_tasks.add(task)
            task.add_done_callback(self._push_tasks.discard)
            return int(update["update_id"])
        self.updates.append(update)
        async with self._changed:
            self._changed.notify_all()
        return int(update["update_id"])

    async def _deliver(self, update: dict[str, Any], urls: list[str], first: int) -> None:
        """POST ``update`` to ``urls[first]``, then to the next url until one takes it."""
        if self._http is None:
            self._http = aiohttp.ClientSession()
        secret = self.push_secret
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        timeout = aiohttp.ClientTimeout(total=PUSH_TIMEOUT)
        for attempt in range(PUSH_TRIES):
            if attempt:
                self.webhook_retries += 1
                await asyncio.sleep(PUSH_PAUSE)
            url = urls[(first + attempt) % len(urls)]
            self._press_left(update, first_only=False)
            try:
                async with self._http.post(
                    url, json=update, headers=headers, timeout=timeout
                ) as response:
                    await response.read()
                    if 200 <= response.status < 300:
                        self.webhook_deliveries += 1
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
        self.webhook_lost += 1

    async def user_sends(
        self, user: FakeUser, text: str, chat: dict[str, Any] | None = None
    ) -> int:
        chat = chat or self.private_chat(user)
        message = Message(chat["id"], self._next_message_id(chat["id"]), False, text)
        if self.keep_messages:
            self.messages.setdefault(chat["id"], []).append(message)
        body = self.message_dict(message) | {"from": user.as_dict()}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            body["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]
        return await self._push({"message": body})

    async def user_presses(self, user: FakeUser, message: Message, data: str) -> str:
        """A tap on a button of ``message`` (or forged ``data``); returns the query id."""
        _update_id, query_id = await self._press(user, self.message_dict(message), data)
        return query_id

    async def _press(self, user: FakeUser, message: dict[str, Any], data: str) -> tuple[int, str]:
        query_id = f"cq{next(self._callback_ids)}"
        update_id = await self._push(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user.as_dict(),
                    "message": message,
                    "chat_instance": f"ci{message['chat']['id']}",
                    "data": data,
                }
            }
        )
        return update_id, query_id

    def fail_next(
        self, method: str, code: int, description: str, retry_after: int | None = None
    ) -> None:
        self.faults.append((method, ApiError(code, description, retry_after)))

    def bot_messages(self, chat_id: int) -> list[Message]:
        return [m for m in self.messages.get(chat_id, []) if m.from_bot]

    async def wait_for(self, condition: Callable[[], Any], within: float = 10.0) -> Any:
        """Wait until ``condition()`` is truthy (it is checked whenever something changes)."""

        async def until() -> Any:
            async with self._changed:
                while not (result := condition()):
                    # Woken by every change; the short timeout covers changes outside the fake.
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), 0.1)
                return result

        return await asyncio.wait_for(until(), within)

    # -- the control API (for a fake running as a process of its own) -----------------------

    def fake_user(self, user_id: int, first_name: str | None = None) -> FakeUser:
        if user_id not in self.users:
            self.users[user_id] = FakeUser(user_id, first_name or f"User {user_id}")
        return self.users[user_id]

    def _known_chat(self, chat_id: int, user: FakeUser) -> dict[str, Any]:
        if chat_id in self.chats:
            return self.chats[chat_id]
        if chat_id < 0:
            return self.group_chat(chat_id)
        if chat_id == user.id:
            return self.private_chat(user)
        return self.private_chat(self.fake_user(chat_id))

    async def _control(self, request: web.Request) -> web.Response:
        routes: dict[tuple[str, str], Callable[[Any], Awaitable[Any]]] = {
            ("GET", "stats"): self._control_stats,
            ("POST", "reset"): self._control_reset,
            ("POST", "limits"): self._control_limits,
            ("POST", "user_sends"): self._control_user_sends,
            ("POST", "user_presses"): self._control_user_presses,
            ("GET", "messages"): self._control_messages,
            ("POST", "webhooks"): self._control_webhooks,
        }
        route = routes.get((request.method, request.match_info["action"]))
        if route is None:
            return web.json_response({"error": "no such control"}, status=404)
        try:
            if request.method == "GET":
                body: Any = dict(request.query)
            else:
                raw = await request.read()
                body = json.loads(raw) if raw.strip() else None
            return web.json_response(await route(body))
        except (KeyError, TypeError, ValueError) as err:
            return web.json_response({"error": f"bad request: {err!r}"}, status=400)

    async def _control_stats(self, _body: Any) -> dict[str, Any]:
        return self.stats()

    async def _control_reset(self, _body: Any) -> dict[str, Any]:
        self.reset_stats()
        return {"ok": True}

    async def _control_limits(self, body: Any) -> dict[str, Any]:
        self.limits = Limits(**body) if body else None
        return {"limits": asdict(self.limits) if self.limits else None}

    async def _control_user_sends(self, body: Any) -> dict[str, Any]:
        user = self.fake_user(int(body["user_id"]), body.get("first_name"))
        if body.get("language_code"):
            user.language_code = str(body["language_code"])
        chat_id = int(body.get("chat_id") or user.id)
        chat = self._known_chat(chat_id, user)
        return {"update_id": await self.user_sends(user, str(body["text"]), chat)}

    async def _control_user_presses(self, body: Any) -> dict[str, Any]:
        user = self.fake_user(int(body["user_id"]))
        chat_id, message_id = int(body.get("chat_id") or user.id), int(body["message_id"])
        self._known_chat(chat_id, user)
        found = next(
            (m for m in reversed(self.messages.get(chat_id, [])) if m.message_id == message_id),
            None,
        )
        message = found or Message(chat_id, message_id, True, "")
        update_id, query_id = await self._press(user, self.message_dict(message), body["data"])
        return {"update_id": update_id, "query_id": query_id}

    async def _control_messages(self, query: dict[str, str]) -> list[dict[str, Any]]:
        return [
            {
                "message_id": m.message_id,
                "text": m.visible_text,
                "buttons": m.button_rows(),
                "edits": m.edits,
            }
            for m in self.bot_messages(int(query["chat_id"]))
        ]

    async def _control_webhooks(self, body: Any) -> dict[str, Any]:
        body = body or {}
        self.push_urls = [str(url) for url in body.get("urls") or []]
        self.push_secret = body.get("secret") or self.webhook.get("secret_token")
        return {"urls": self.push_urls}


async def serve(
    token: str, port: int, limits: Limits | None, keep_messages: bool, open_chats: bool = False
) -> int:
    """Run a fake until SIGTERM or SIGINT; ``READY <url>`` on stdout once it listens."""
    fake = FakeBotAPI(token, limits)
    fake.keep_messages = keep_messages
    fake.open_chats = open_chats
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    url = await fake.start(port)
    # What start-up built lives as long as the process: out of the garbage collector's sight,
    # whose full collections would otherwise stall the server (and bunch up the sends it
    # counts in its rate windows) for tens of milliseconds.
    gc.collect()
    gc.freeze()
    print(f"READY {url}", flush=True)
    try:
        await stop.wait()
    finally:
        await fake.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.telegram_fake", description="A fake Telegram Bot API server."
    )
    parser.add_argument("--token", required=True, help="the bot token it accepts")
    parser.add_argument("--port", type=int, default=0, help="0 (default): a free port")
    rate = parser.add_mutually_exclusive_group()
    rate.add_argument(
        "--per-second", type=float, help="Telegram's limits, with this many sends a second"
    )
    rate.add_argument("--no-limits", action="store_true", help="no rate limits (default)")
    parser.add_argument(
        "--quiet-store", action="store_true", help="keep no messages (for long benchmarks)"
    )
    parser.add_argument(
        "--open-chats", action="store_true", help="any private chat id is a known chat"
    )
    args = parser.parse_args(argv)
    limits = Limits(per_second=args.per_second) if args.per_second is not None else None
    return asyncio.run(serve(args.token, args.port, limits, not args.quiet_store, args.open_chats))


if __name__ == "__main__":
    sys.exit(main())
