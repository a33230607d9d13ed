"""The Telegram bulk lane's client: every answer the Bot API can give becomes the error the
delivery worker acts on, as python-telegram-bot's errors did (a server here answers the way
Telegram's does, byte for byte where it matters: status, ``error_code``, ``parameters``)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from markupsafe import Markup

from bot.core.chat import Button, Reply
from bot.core.errors import ChatMoved, DeliveryUnknown, RateLimited, RecipientGone, SendFailed
from bot.transports.telegram import BulkClient

TOKEN = "123456:bulk-lane-token"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Server:
    def __init__(self) -> None:
        self.handler: Handler | None = None
        self.bodies: list[dict[str, Any]] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.StreamResponse:
        assert request.match_info["token"] == TOKEN
        self.bodies.append(json.loads(await request.read()))
        assert self.handler is not None
        return await self.handler(request)


def error(code: int, description: str, **parameters: Any) -> Handler:
    async def answer(_request: web.Request) -> web.StreamResponse:
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if parameters:
            body["parameters"] = parameters
        return web.json_response(body, status=code)

    return answer


async def ok(request: web.Request) -> web.StreamResponse:
    return web.json_response({"ok": True, "result": {"message_id": 1}})


@pytest.fixture
async def server() -> AsyncIterator[Server]:
    state = Server()
    app = web.Application()
    app.router.add_post("/bot{token}/{method}", state.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    state.url = f"http://127.0.0.1:{port}"
    yield state
    await runner.cleanup()


async def send(url: str, reply: Reply | None = None, read_timeout: float = 5.0) -> None:
    client = BulkClient(url, TOKEN, read_timeout=read_timeout)
    try:
        await client.send_message("4711", reply or Reply(Markup("<b>Offener Treff</b> heute")))
    finally:
        await client.close()


async def test_a_sent_message_carries_html_buttons_and_no_preview(server: Server) -> None:
    server.handler = ok
    await send(server.url, Reply(Markup("<b>Treff</b>"), buttons=((Button("✅ Going", "r:1:y"),),)))
    assert server.bodies == [
        {
            "chat_id": 4711,
            "text": "<b>Treff</b>",
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": True},
            "reply_markup": {"inline_keyboard": [[{"text": "✅ Going", "callback_data": "r:1:y"}]]},
        }
    ]


@pytest.mark.parametrize(
    ("handler", "raised", "detail"),
    [
        (error(429, "Too Many Requests: retry after 7", retry_after=7), RateLimited, 7.0),
        (error(403, "Forbidden: bot was blocked by the user"), RecipientGone, None),
        (error(400, "Bad Request: chat not found"), RecipientGone, None),
        (error(403, "Forbidden: user is deactivated"), RecipientGone, None),
        (
            error(400, "Bad Request: group chat was upgraded", migrate_to_chat_id=-100123),
            ChatMoved,
            "-100123",
        ),
        (error(500, "Internal Server Error"), SendFailed, None),
        (error(502, "Bad Gateway"), SendFailed, None),
        (error(504, "Gateway Timeout"), DeliveryUnknown, None),
        (error(400, "Bad Request: message text is empty"), SendFailed, None),
    ],
)
async def test_each_answer_becomes_what_the_worker_acts_on(
    server: Server, handler: Handler, raised: type[Exception], detail: object
) -> None:
    server.handler = handler
    with pytest.raises(raised) as caught:
        await send(server.url)
    if isinstance(caught.value, RateLimited):
        assert caught.value.retry_after == detail
    if isinstance(caught.value, ChatMoved):
        assert caught.value.new_chat_id == detail
    assert len(server.bodies) == 1, "never sent twice by the client itself"


async def test_html_telegram_cannot_parse_goes_once_more_without_markup(server: Server) -> None:
    answers = [error(400, "Bad Request: can't parse entities: unexpected end tag"), ok]

    async def first_then_ok(request: web.Request) -> web.StreamResponse:
        return await answers.pop(0)(request)

    server.handler = first_then_ok
    await send(server.url, Reply(Markup("<b>Kochabend</b> &amp; Musik")))
    assert [b["text"] for b in server.bodies] == [
        "<b>Kochabend</b> &amp; Musik",
        "Kochabend &amp; Musik",  # the same words, every mark-up character escaped
    ]


async def test_no_answer_in_time_is_unknown_not_failed(server: Server) -> None:
    async def slow(_request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(2)
        return web.json_response({"ok": True, "result": {}})

    server.handler = slow
    with pytest.raises(DeliveryUnknown):
        await send(server.url, read_timeout=0.3)


async def test_a_connection_lost_after_the_request_is_unknown(server: Server) -> None:
    async def hang_up(request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        request.transport.close()
        await asyncio.sleep(0.1)
        return web.Response()

    server.handler = hang_up
    with pytest.raises(DeliveryUnknown):
        await send(server.url)


async def test_a_refusal_that_is_not_json_is_a_failure_not_unknown(server: Server) -> None:
    async def proxy_page(_request: web.Request) -> web.StreamResponse:
        return web.Response(text="<html>429 Too Many Requests</html>", status=429)

    server.handler = proxy_page
    with pytest.raises(SendFailed) as caught:
        await send(server.url)
    assert caught.value.reason == "HTTP 429"


async def test_nobody_listening_is_a_failure_to_retry_not_unknown() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(SendFailed) as caught:
        await send(f"http://127.0.0.1:{port}")
    assert caught.value.reason == "no connection"


async def test_the_proxy_of_the_environment_carries_the_requests(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As python-telegram-bot's httpx does, the bulk lane goes through HTTPS_PROXY/HTTP_PROXY
    (with its credentials): a bot behind a company proxy reaches Telegram at all."""
    seen: list[tuple[str, str | None]] = []

    async def forward(request: web.Request) -> web.StreamResponse:
        # A forward proxy is asked for the whole URL; this one answers as Telegram would.
        seen.append((str(request.url), request.headers.get("Proxy-Authorization")))
        return await ok(request)

    server.handler = forward
    proxy = server.url.replace("http://", "http://relay:s3cret@")
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy)
    await send("http://api.telegram.invalid")
    assert [url for url, _auth in seen] == [f"http://api.telegram.invalid/bot{TOKEN}/sendMessage"]
    assert seen[0][1] is not None and seen[0][1].startswith("Basic ")
