"""A fake translation server speaking LibreTranslate's and DeepL's HTTP APIs.

One aiohttp app on 127.0.0.1 (a free port) serves both:

* LibreTranslate — ``GET /languages`` (``[{"code", "name", "targets"}]``) and
  ``POST /translate`` (JSON or form: ``q`` as a string or a list, ``source`` — "auto" allowed —,
  ``target``, ``format``, ``api_key``) → ``{"translatedText": …}``, or
  ``{"error": …}`` with 400 (bad request, unsupported language, text over the server's
  character limit), 403 (API key) or 500.
* DeepL — ``POST /v2/translate`` (JSON or form; ``text`` repeated or a list, ``target_lang``,
  optional ``source_lang``) with ``Authorization: DeepL-Auth-Key <key>`` → ``{"translations":
  [{"detected_source_language", "text"}]}``, or ``{"message": …}`` with 400, 403 (key missing or
  wrong), 413 (request over 128 KiB) or 456 (quota).

"Translating" is deterministic: ``f"[{target}] {text}"`` with the target code as sent.
Switches inject faults — :attr:`fail_status`, :attr:`delay`, :attr:`malformed`,
:attr:`wrong_shape`, :attr:`languages_available` — and :attr:`requests` records every request.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

LIBRE_LANGUAGES = {
    "ar": "Arabic",
    "de": "German",
    "en": "English",
    "es": "Spanish",
    "fa": "Persian",
    "fr": "French",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "tr": "Turkish",
    "uk": "Ukrainian",
}
DEEPL_SOURCES = {
    "AR",
    "BG",
    "CS",
    "DA",
    "DE",
    "EL",
    "EN",
    "ES",
    "ET",
    "FI",
    "FR",
    "HU",
    "ID",
    "IT",
    "JA",
    "KO",
    "LT",
    "LV",
    "NB",
    "NL",
    "PL",
    "PT",
    "RO",
    "RU",
    "SK",
    "SL",
    "SV",
    "TR",
    "UK",
    "ZH",
}
DEEPL_TARGETS = (DEEPL_SOURCES - {"EN", "PT", "ZH"}) | {
    "EN",
    "EN-GB",
    "EN-US",
    "PT",
    "PT-BR",
    "PT-PT",
    "ZH",
    "ZH-HANS",
    "ZH-HANT",
}
DEEPL_MAX_BODY = 128 * 1024


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    status: int = 0


@dataclass
class FakeTranslationServer:
    deepl_key: str = "deepl-test-key:fx"
    libre_key: str | None = None
    libre_char_limit: int | None = 10_000
    libre_languages: dict[str, str] = field(default_factory=lambda: dict(LIBRE_LANGUAGES))

    # Fault switches, for every endpoint.
    fail_status: int | None = None
    delay: float = 0.0
    malformed: bool = False
    wrong_shape: bool = False
    languages_available: bool = True

    requests: list[Recorded] = field(default_factory=list)
    url: str = ""

    def __post_init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self._released = asyncio.Event()

    async def start(self) -> str:
        app = web.Application(middlewares=[self._record_and_inject])
        app.router.add_get("/languages", self._languages)
        app.router.add_post("/translate", self._libre_translate)
        app.router.add_post("/v2/translate", self._deepl_translate)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        return self.url

    async def stop(self) -> None:
        self._released.set()  # delayed answers stop waiting
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def paths(self) -> list[str]:
        return [request.path for request in self.requests]

    # -- plumbing --------------------------------------------------------------------------

    @web.middleware
    async def _record_and_inject(self, request: web.Request, handler: Any) -> web.StreamResponse:
        raw = await request.read()
        record = Recorded(request.method, request.path, dict(request.headers), await _body(request))
        self.requests.append(record)
        if self.delay:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._released.wait(), self.delay)
        response: web.StreamResponse
        if self.fail_status is not None:
            response = web.json_response(
                {"error": "Internal Server Error"}, status=self.fail_status
            )
        elif self.malformed:
            response = web.Response(
                status=200,
                body=b'{"translatedText": "[unterminated',
                content_type="application/json",
            )
        elif self.wrong_shape:
            response = web.json_response({"result": "no such field"} if raw else [])
        else:
            response = await handler(request)
        record.status = response.status
        return response

    # -- LibreTranslate ----------------------------------------------------------------------

    async def _languages(self, request: web.Request) -> web.Response:
        if not self.languages_available:
            return web.json_response({"error": "Not Found"}, status=404)
        codes = sorted(self.libre_languages)
        return web.json_response(
            [
                {"code": code, "name": name, "targets": [c for c in codes if c != code]}
                for code, name in sorted(self.libre_languages.items())
            ]
        )

    async def _libre_translate(self, request: web.Request) -> web.Response:
        body = self.requests[-1].body
        if not isinstance(body, dict):
            return _libre_error(400, "Invalid request: unable to parse body")
        if self.libre_key is not None and body.get("api_key") != self.libre_key:
            return _libre_error(403, "Invalid API key")
        q, source, target = body.get("q"), body.get("source"), body.get("target")
        for name, value in (("q", q), ("source", source), ("target", target)):
            if not value:
                return _libre_error(400, f"Invalid request: missing {name} parameter")
        if body.get("format", "text") not in ("text", "html"):
            return _libre_error(400, f"{body.get('format')} format is not supported")
        if source != "auto" and source not in self.libre_languages:
            return _libre_error(400, f"{source} is not supported")
        if target not in self.libre_languages:
            return _libre_error(400, f"{target} is not supported")
        texts: list[Any] = q if isinstance(q, list) else [q]
        if not all(isinstance(text, str) for text in texts):
            return _libre_error(400, "Invalid request: q must be text")
        size = sum(len(text) for text in texts)
        if self.libre_char_limit is not None and size > self.libre_char_limit:
            return _libre_error(
                400,
                f"Invalid request: request ({size}) exceeds text limit ({self.libre_char_limit})",
            )
        translated = [f"[{target}] {text}" for text in texts]
        return web.json_response(
            {"translatedText": translated if isinstance(q, list) else translated[0]}
        )

    # -- DeepL -------------------------------------------------------------------------------

    async def _deepl_translate(self, request: web.Request) -> web.Response:
        auth = request.headers.get("Authorization", "")
        if auth != f"DeepL-Auth-Key {self.deepl_key}":
            return _deepl_error(403, "Authorization failure, check auth_key")
        if request.content_length is not None and request.content_length > DEEPL_MAX_BODY:
            return _deepl_error(413, "Request Entity Too Large")
        body = self.requests[-1].body
        if not isinstance(body, dict):
            return _deepl_error(400, "Invalid request: unable to parse body")
        texts = body.get("text")
        if isinstance(texts, str):
            texts = [texts]
        if not texts or not isinstance(texts, list) or len(texts) > 50:
            return _deepl_error(400, "Parameter 'text' not specified.")
        target = body.get("target_lang")
        if not isinstance(target, str) or target.upper() not in DEEPL_TARGETS:
            return _deepl_error(400, "Value for 'target_lang' not supported.")
        source = body.get("source_lang")
        if source is not None and (
            not isinstance(source, str) or source.upper() not in DEEPL_SOURCES
        ):
            return _deepl_error(400, "Value for 'source_lang' not supported.")
        detected = (source or "DE").upper()
        return web.json_response(
            {
                "translations": [
                    {"detected_source_language": detected, "text": f"[{target}] {text}"}
                    for text in texts
                ]
            }
        )


async def _body(request: web.Request) -> Any:
    if request.method != "POST":
        return None
    if request.content_type == "application/json":
        try:
            return json.loads(await request.text())
        except ValueError:
            return None
    form = await request.post()
    return {key: (values if len(values := form.getall(key)) > 1 else values[0]) for key in form}


def _libre_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _deepl_error(status: int, message: str) -> web.Response:
    return web.json_response({"message": message}, status=status)
