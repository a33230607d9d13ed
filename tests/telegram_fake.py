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
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from aiohttp import web

BOT_ID = 7_000_001
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
    def __init__(self, token: str) -> None:
        self.token = token
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

    # -- the server -------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        self._closing = True
        async with self._changed:
            self._changed.notify_all()
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
        try:
            params = await self._params(request)
            self.calls.append((method, params))
            self._inject_fault(method, params)
            result = await handler(params)
        except ApiError as err:
            body: dict[str, Any] = {
                "ok": False,
                "error_code": err.code,
                "description": err.description,
            }
            if err.retry_after is not None:
                body["parameters"] = {"retry_after": err.retry_after}
            return web.json_response(body, status=err.code)
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
        return self.pending()[:limit]

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
            raise ApiError(400, "Bad Request: chat not found")
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
        self._chat(message.chat_id).append(message)
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
        self.callback_answers[query_id] = params
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
        self.updates.append(update)
        async with self._changed:
            self._changed.notify_all()
        return int(update["update_id"])

    async def user_sends(
        self, user: FakeUser, text: str, chat: dict[str, Any] | None = None
    ) -> int:
        chat = chat or self.private_chat(user)
        message = Message(chat["id"], self._next_message_id(chat["id"]), False, text)
        self.messages.setdefault(chat["id"], []).append(message)
        body = self.message_dict(message) | {"from": user.as_dict()}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            body["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(command)}]
        return await self._push({"message": body})

    async def user_presses(self, user: FakeUser, message: Message, data: str) -> str:
        """A tap on a button of ``message`` (or forged ``data``); returns the query id."""
        query_id = f"cq{next(self._callback_ids)}"
        await self._push(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user.as_dict(),
                    "message": self.message_dict(message),
                    "chat_instance": f"ci{message.chat_id}",
                    "data": data,
                }
            }
        )
        return query_id

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
