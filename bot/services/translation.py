"""Optional machine translation of event texts (off unless an operator configures a backend).

Two backends speak HTTP: a LibreTranslate server (self-hosted or public) and DeepL's API. Both
answer ``None`` whenever they cannot translate — unsupported language, rejected key, server
error, timeout, an answer that is not what the API documents — and never raise, so a missing
translation simply stays missing. Whoever stores a text from here labels it machine-translated.

Neither the API key nor the text is ever logged: only the backend's name, the language codes,
the HTTP status or the type of the exception.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any, Protocol

import httpx

logger = logging.getLogger(__name__)

MAX_CHUNK = 10_000
DEFAULT_TIMEOUT = 10.0
DEEPL_FREE_URL = "https://api-free.deepl.com"
DEEPL_PRO_URL = "https://api.deepl.com"

# DeepL's documented, generally available languages for text translation. Languages DeepL only
# offers as a beta (Persian among them, at the time of writing) are left out on purpose.
_DEEPL_LANGUAGES = frozenset(
    {
        "ar",
        "bg",
        "cs",
        "da",
        "de",
        "el",
        "en",
        "es",
        "et",
        "fi",
        "fr",
        "hu",
        "id",
        "it",
        "ja",
        "ko",
        "lt",
        "lv",
        "nb",
        "nl",
        "pl",
        "pt",
        "ro",
        "ru",
        "sk",
        "sl",
        "sv",
        "tr",
        "uk",
        "zh",
    }
)
_DEEPL_TARGET_VARIANTS = {
    "en": "EN-GB",
    "en-gb": "EN-GB",
    "en-us": "EN-US",
    "pt": "PT-PT",
    "pt-pt": "PT-PT",
    "pt-br": "PT-BR",
    "zh": "ZH-HANS",
    "zh-hans": "ZH-HANS",
    "zh-cn": "ZH-HANS",
    "zh-sg": "ZH-HANS",
    "zh-hant": "ZH-HANT",
    "zh-tw": "ZH-HANT",
    "zh-hk": "ZH-HANT",
}
_LANGUAGE_ALIASES = {"no": "nb", "nn": "nb"}

# From the largest unit to the smallest: blank lines, line breaks, sentence ends, any space.
_BOUNDARIES = (
    re.compile(r"\n[ \t]*\n\s*"),
    re.compile(r"\n"),
    re.compile(r"(?<=[.!?…。؟۔])\s+"),
    re.compile(r"\s+"),
)


class Translator(Protocol):
    name: str

    async def translate(self, text: str, source: str, target: str) -> str | None:
        """``text`` from ``source`` into ``target`` (locale codes such as "de", "uk"), or
        ``None`` when it cannot (unsupported language, error, timeout)."""
        ...


def split_text(text: str, limit: int = MAX_CHUNK) -> list[tuple[str, str]]:
    """Cut ``text`` into ``(chunk, separator)`` pairs of at most ``limit`` characters each.

    Chunks end at paragraph boundaries where possible, then at line breaks, sentence ends and
    spaces, and only as a last resort in the middle of a word. Joining every chunk with the
    separator that follows it gives back ``text`` exactly.
    """
    chunks: list[tuple[str, str]] = []
    for piece, separator in _units(text, limit, 0):
        if chunks:
            previous, between = chunks[-1]
            if len(previous) + len(between) + len(piece) <= limit:
                chunks[-1] = (previous + between + piece, separator)
                continue
        chunks.append((piece, separator))
    return chunks


def _units(text: str, limit: int, level: int) -> list[tuple[str, str]]:
    if len(text) <= limit:
        return [(text, "")]
    if level == len(_BOUNDARIES):
        return [(text[start : start + limit], "") for start in range(0, len(text), limit)]
    units: list[tuple[str, str]] = []
    position = 0
    for match in _BOUNDARIES[level].finditer(text):
        part = _units(text[position : match.start()], limit, level + 1)
        last, _ = part[-1]
        part[-1] = (last, match.group())
        units.extend(part)
        position = match.end()
    units.extend(_units(text[position:], limit, level + 1))
    return units


def _normalize(code: str) -> str:
    """A locale code in one spelling: "pt_BR" → "pt-br", "no" → "nb"."""
    code = code.strip().replace("_", "-").lower()
    base, _, rest = code.partition("-")
    base = _LANGUAGE_ALIASES.get(base, base)
    return f"{base}-{rest}" if rest else base


def _base(code: str) -> str:
    return _normalize(code).partition("-")[0]


def deepl_source_language(code: str) -> str | None:
    """DeepL's ``source_lang`` for one of our locale codes, or ``None`` if DeepL lacks it."""
    base = _base(code)
    return base.upper() if base in _DEEPL_LANGUAGES else None


def deepl_target_language(code: str) -> str | None:
    """DeepL's ``target_lang`` (British English, European Portuguese, simplified Chinese
    unless asked otherwise), or ``None`` if DeepL lacks the language."""
    normalized = _normalize(code)
    base = normalized.partition("-")[0]
    if base not in _DEEPL_LANGUAGES:
        return None
    return _DEEPL_TARGET_VARIANTS.get(normalized) or _DEEPL_TARGET_VARIANTS.get(base, base.upper())


class _HttpTranslator:
    """Shared behaviour: chunking, one HTTP client per call, deadlines, never raising."""

    name: str = "translator"

    def __init__(self, url: str, timeout: float) -> None:
        self.url = _base_url(url)
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"{type(self).__name__}(url={self.url!r}, timeout={self.timeout!r})"

    async def translate(self, text: str, source: str, target: str) -> str | None:
        if not text.strip() or _normalize(source) == _normalize(target):
            return text
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                languages = await self._languages(client, source, target)
                if languages is None:
                    logger.info(
                        "translation: %s cannot translate %s → %s", self.name, source, target
                    )
                    return None
                parts: list[str] = []
                for chunk, separator in split_text(text):
                    translated = await self._translate_chunk(client, chunk, languages)
                    if translated is None:
                        return None
                    parts.append(translated + separator)
                return "".join(parts)
        except (httpx.HTTPError, httpx.InvalidURL, TimeoutError, ValueError) as exc:
            # The type only: messages of HTTP libraries can quote requests.
            logger.warning("translation: %s failed (%s)", self.name, type(exc).__name__)
            return None

    async def _translate_chunk(
        self, client: httpx.AsyncClient, chunk: str, languages: tuple[str, str]
    ) -> str | None:
        """One chunk, keeping the spaces around it as they were (services tend to trim)."""
        core = chunk.strip()
        if not core:
            return chunk
        async with asyncio.timeout(self.timeout):
            translated = await self._translate(client, core, *languages)
        if translated is None:
            return None
        lead = chunk[: len(chunk) - len(chunk.lstrip())]
        trail = chunk[len(chunk.rstrip()) :]
        return f"{lead}{translated.strip()}{trail}"

    async def _languages(
        self, client: httpx.AsyncClient, source: str, target: str
    ) -> tuple[str, str] | None:
        raise NotImplementedError

    async def _translate(
        self, client: httpx.AsyncClient, text: str, source: str, target: str
    ) -> str | None:
        raise NotImplementedError

    def _refused(self, response: httpx.Response) -> None:
        hint = {
            401: " (API key missing or not accepted)",
            403: " (API key missing or not accepted)",
            413: " (text too long)",
            429: " (too many requests)",
            456: " (quota exceeded)",
        }.get(response.status_code, "")
        logger.warning("translation: %s answered HTTP %s%s", self.name, response.status_code, hint)

    def _unexpected(self) -> None:
        logger.warning("translation: %s sent an answer in an unexpected shape", self.name)


class LibreTranslate(_HttpTranslator):
    """A LibreTranslate server: ``POST {url}/translate``, languages from ``GET {url}/languages``."""

    name: str = "libretranslate"

    def __init__(
        self, url: str, api_key: str | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        super().__init__(url, timeout)
        self._api_key = api_key or None
        self._pairs: dict[str, set[str]] | None = None

    async def _languages(
        self, client: httpx.AsyncClient, source: str, target: str
    ) -> tuple[str, str] | None:
        pairs = await self._supported(client)
        if pairs is None:  # the server does not say; let it decide on the request itself
            return _base(source), _base(target)
        codes = {code.lower(): code for code in pairs}
        source_code = codes.get(_normalize(source)) or codes.get(_base(source))
        if source_code is None:
            return None
        targets = {code.lower(): code for code in pairs[source_code]}
        target_code = targets.get(_normalize(target)) or targets.get(_base(target))
        if target_code is None:
            return None
        return source_code, target_code

    async def _supported(self, client: httpx.AsyncClient) -> dict[str, set[str]] | None:
        """Source code → target codes, asked once per instance (``None`` if not available).

        An unreachable server raises; an answer other than the documented list is ignored."""
        if self._pairs is not None:
            return self._pairs
        async with asyncio.timeout(self.timeout):
            response = await client.get(f"{self.url}/languages")
        if response.status_code != 200:
            self._refused(response)
            return None
        try:
            data: Any = response.json()
        except ValueError:
            self._unexpected()
            return None
        if not isinstance(data, list):
            self._unexpected()
            return None
        entries = [item for item in data if isinstance(item, dict)]
        codes = {item["code"] for item in entries if isinstance(item.get("code"), str)}
        pairs: dict[str, set[str]] = {}
        for item in entries:
            code, targets = item.get("code"), item.get("targets")
            if not isinstance(code, str):
                continue
            if isinstance(targets, list) and all(isinstance(t, str) for t in targets):
                pairs[code] = set(targets) - {code}
            else:  # older servers list no targets: every language to every other
                pairs[code] = codes - {code}
        if not pairs:
            self._unexpected()
            return None
        self._pairs = pairs
        return pairs

    async def _translate(
        self, client: httpx.AsyncClient, text: str, source: str, target: str
    ) -> str | None:
        payload = {"q": text, "source": source, "target": target, "format": "text"}
        if self._api_key:
            payload["api_key"] = self._api_key
        response = await client.post(f"{self.url}/translate", json=payload)
        if response.status_code != 200:
            self._refused(response)
            return None
        data: Any = response.json()
        translated = data.get("translatedText") if isinstance(data, dict) else None
        if not isinstance(translated, str):
            self._unexpected()
            return None
        return translated


class DeepL(_HttpTranslator):
    """DeepL's API: ``POST {url}/v2/translate`` with ``Authorization: DeepL-Auth-Key …``."""

    name: str = "deepl"

    def __init__(self, url: str, api_key: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        super().__init__(url, timeout)
        self.url = self.url.removesuffix("/v2")
        self._api_key = api_key

    async def _languages(
        self, client: httpx.AsyncClient, source: str, target: str
    ) -> tuple[str, str] | None:
        source_code, target_code = deepl_source_language(source), deepl_target_language(target)
        if source_code is None or target_code is None:
            return None
        return source_code, target_code

    async def _translate(
        self, client: httpx.AsyncClient, text: str, source: str, target: str
    ) -> str | None:
        response = await client.post(
            f"{self.url}/v2/translate",
            headers={"Authorization": f"DeepL-Auth-Key {self._api_key}"},
            json={"text": [text], "source_lang": source, "target_lang": target},
        )
        if response.status_code != 200:
            self._refused(response)
            return None
        data: Any = response.json()
        translations = data.get("translations") if isinstance(data, dict) else None
        if not (isinstance(translations, list) and len(translations) == 1):
            self._unexpected()
            return None
        [first] = translations
        translated = first.get("text") if isinstance(first, dict) else None
        if not isinstance(translated, str):
            self._unexpected()
            return None
        return translated


def make_translator(kind: str | None, url: str | None, api_key: str | None) -> Translator | None:
    """The configured backend, or ``None`` when machine translation is off (no ``kind``).

    ``kind`` is "libretranslate" (``url`` required, ``api_key`` optional) or "deepl"
    (``api_key`` required; without ``url`` the free or pro endpoint, by the key's ":fx"
    suffix). Anything else is a configuration mistake and raises :class:`ValueError`.
    """
    choice = (kind or "").strip().lower()
    url = (url or "").strip() or None
    api_key = (api_key or "").strip() or None
    if not choice:
        return None
    if choice == "libretranslate":
        if url is None:
            raise ValueError(
                "The 'libretranslate' translation backend needs the URL of a LibreTranslate "
                "server, for example http://localhost:5000."
            )
        return LibreTranslate(_checked_url(url), api_key)
    if choice == "deepl":
        if api_key is None:
            raise ValueError("The 'deepl' translation backend needs a DeepL API key.")
        if url is None:
            url = DEEPL_FREE_URL if api_key.endswith(":fx") else DEEPL_PRO_URL
        return DeepL(_checked_url(url), api_key)
    raise ValueError(
        f"Unknown translation backend {kind!r}: use 'libretranslate' or 'deepl', "
        "or leave it empty to turn machine translation off."
    )


def _base_url(url: str) -> str:
    return url.strip().rstrip("/")


def _checked_url(url: str) -> str:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        parsed = None
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise ValueError(
            "The translation backend URL must be an http:// or https:// address, "
            "for example https://translate.example.org."
        )
    return url
