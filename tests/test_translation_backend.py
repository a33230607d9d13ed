"""Machine-translation clients against a local fake of LibreTranslate's and DeepL's APIs."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable

import pytest

from bot.services.translation import (
    MAX_CHUNK,
    DeepL,
    LibreTranslate,
    Translator,
    deepl_source_language,
    deepl_target_language,
    make_translator,
    split_text,
)
from tests.translate_fake import FakeTranslationServer

DEEPL_KEY = "0b5e2c1d-deepl-secret-4f7a:fx"
LIBRE_KEY = "libre-secret-8d3f1a"
SECRET_TEXT = "Treffen im Hinterhof der Eisenbahnstraße 7, Klingel Nowak"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTranslationServer]:
    server = FakeTranslationServer(deepl_key=DEEPL_KEY, libre_key=LIBRE_KEY)
    await server.start()
    yield server
    await server.stop()


def libre(
    fake: FakeTranslationServer, *, key: str | None = LIBRE_KEY, timeout: float = 5.0
) -> LibreTranslate:
    return LibreTranslate(fake.url, key, timeout=timeout)


def deepl(fake: FakeTranslationServer, *, key: str = DEEPL_KEY, timeout: float = 5.0) -> DeepL:
    return DeepL(fake.url, key, timeout=timeout)


def long_text() -> str:
    paragraphs = [
        f"Absatz {n}: " + "Wir treffen uns zum Kochen und Reden. " * 25 for n in range(30)
    ]
    return "\n\n".join(paragraphs)


# -- LibreTranslate ----------------------------------------------------------------------------


async def test_libretranslate_translates(fake: FakeTranslationServer) -> None:
    translator: Translator = libre(fake)

    assert translator.name == "libretranslate"
    assert await translator.translate("Hallo Welt", "de", "uk") == "[uk] Hallo Welt"
    assert fake.paths() == ["/languages", "/translate"]
    assert fake.requests[-1].body == {
        "q": "Hallo Welt",
        "source": "de",
        "target": "uk",
        "format": "text",
        "api_key": LIBRE_KEY,
    }


async def test_libretranslate_asks_for_languages_once(fake: FakeTranslationServer) -> None:
    translator = libre(fake)

    assert await translator.translate("Eins", "de", "ar") == "[ar] Eins"
    assert await translator.translate("Zwei", "de_DE", "RU") == "[ru] Zwei"
    assert fake.paths() == ["/languages", "/translate", "/translate"]


async def test_libretranslate_without_key(fake: FakeTranslationServer) -> None:
    fake.libre_key = None

    assert await libre(fake, key=None).translate("Hallo", "de", "en") == "[en] Hallo"
    assert "api_key" not in fake.requests[-1].body


async def test_libretranslate_wrong_key(fake: FakeTranslationServer) -> None:
    assert await libre(fake, key="not-the-key").translate("Hallo", "de", "uk") is None
    assert fake.requests[-1].status == 403


async def test_libretranslate_server_error(fake: FakeTranslationServer) -> None:
    fake.fail_status = 500

    assert await libre(fake).translate("Hallo", "de", "uk") is None
    assert fake.requests[-1].path == "/translate"
    assert fake.requests[-1].status == 500


async def test_libretranslate_timeout(fake: FakeTranslationServer) -> None:
    fake.delay = 5.0
    started = time.monotonic()

    assert await libre(fake, timeout=0.3).translate("Hallo", "de", "uk") is None
    assert time.monotonic() - started < 2.0


async def test_libretranslate_malformed_json(fake: FakeTranslationServer) -> None:
    translator = libre(fake)
    assert await translator.translate("Warm-up", "de", "uk") == "[uk] Warm-up"
    fake.malformed = True

    assert await translator.translate("Hallo", "de", "uk") is None


async def test_libretranslate_unexpected_shape(fake: FakeTranslationServer) -> None:
    fake.wrong_shape = True

    assert await libre(fake).translate("Hallo", "de", "uk") is None


async def test_libretranslate_unsupported_language_sends_no_text(
    fake: FakeTranslationServer,
) -> None:
    del fake.libre_languages["fa"]

    assert await libre(fake).translate("Hallo", "de", "fa") is None
    assert await libre(fake).translate("Hallo", "xx", "de") is None
    assert "/translate" not in fake.paths()


async def test_libretranslate_unsupported_language_without_language_list(
    fake: FakeTranslationServer,
) -> None:
    fake.languages_available = False
    del fake.libre_languages["fa"]

    assert await libre(fake).translate("Hallo", "de", "fa") is None
    assert fake.requests[-1].path == "/translate"
    assert fake.requests[-1].status == 400
    # Without the list the request still goes out, and a supported pair works.
    assert await libre(fake).translate("Hallo", "de", "uk") == "[uk] Hallo"


async def test_libretranslate_splits_long_text_at_paragraphs(fake: FakeTranslationServer) -> None:
    text = long_text()
    assert len(text) > 2 * MAX_CHUNK

    result = await libre(fake).translate(text, "de", "uk")

    assert result is not None
    sent = [request.body["q"] for request in fake.requests if request.path == "/translate"]
    assert len(sent) >= 3
    assert all(len(chunk) <= MAX_CHUNK for chunk in sent)
    assert all(chunk.startswith("Absatz ") for chunk in sent)  # each chunk starts a paragraph
    assert result.count("[uk] ") == len(sent)
    assert result.replace("[uk] ", "") == text


# -- DeepL -------------------------------------------------------------------------------------


async def test_deepl_translates(fake: FakeTranslationServer) -> None:
    translator: Translator = deepl(fake)

    assert translator.name == "deepl"
    assert await translator.translate("Hallo Welt", "de", "uk") == "[UK] Hallo Welt"
    [request] = fake.requests
    assert request.path == "/v2/translate"
    assert request.headers["Authorization"] == f"DeepL-Auth-Key {DEEPL_KEY}"
    assert request.body == {"text": ["Hallo Welt"], "source_lang": "DE", "target_lang": "UK"}


@pytest.mark.parametrize(
    ("source", "target", "expected_target"),
    [("de", "en", "EN-GB"), ("uk", "pt", "PT-PT"), ("ru", "ar", "AR"), ("en", "de", "DE")],
)
async def test_deepl_language_codes(
    fake: FakeTranslationServer, source: str, target: str, expected_target: str
) -> None:
    assert await deepl(fake).translate("Text", source, target) == f"[{expected_target}] Text"
    assert fake.requests[-1].body["source_lang"] == source.upper()


async def test_deepl_accepts_a_url_with_version(fake: FakeTranslationServer) -> None:
    translator = DeepL(fake.url + "/v2/", DEEPL_KEY, timeout=5.0)

    assert await translator.translate("Hallo", "de", "tr") == "[TR] Hallo"


async def test_deepl_wrong_key(fake: FakeTranslationServer) -> None:
    assert await deepl(fake, key="wrong:fx").translate("Hallo", "de", "uk") is None
    assert fake.requests[-1].status == 403


@pytest.mark.parametrize("status", [500, 456, 429])
async def test_deepl_server_errors(fake: FakeTranslationServer, status: int) -> None:
    fake.fail_status = status

    assert await deepl(fake).translate("Hallo", "de", "uk") is None
    assert fake.requests[-1].status == status


async def test_deepl_timeout(fake: FakeTranslationServer) -> None:
    fake.delay = 5.0
    started = time.monotonic()

    assert await deepl(fake, timeout=0.3).translate("Hallo", "de", "uk") is None
    assert time.monotonic() - started < 2.0


async def test_deepl_malformed_json(fake: FakeTranslationServer) -> None:
    fake.malformed = True

    assert await deepl(fake).translate("Hallo", "de", "uk") is None


async def test_deepl_unexpected_shape(fake: FakeTranslationServer) -> None:
    fake.wrong_shape = True

    assert await deepl(fake).translate("Hallo", "de", "uk") is None


async def test_deepl_unsupported_language_sends_nothing(fake: FakeTranslationServer) -> None:
    assert await deepl(fake).translate("Hallo", "de", "fa") is None
    assert await deepl(fake).translate("سلام", "fa", "de") is None
    assert fake.requests == []


async def test_deepl_splits_long_text_at_paragraphs(fake: FakeTranslationServer) -> None:
    text = long_text()

    result = await deepl(fake).translate(text, "de", "ar")

    assert result is not None
    sent = [request.body["text"] for request in fake.requests]
    assert len(sent) >= 3
    assert all(len(texts) == 1 and len(texts[0]) <= MAX_CHUNK for texts in sent)
    assert all(texts[0].startswith("Absatz ") for texts in sent)
    assert result.replace("[AR] ", "") == text


def test_deepl_language_table() -> None:
    assert deepl_target_language("en") == "EN-GB"
    assert deepl_target_language("en-US") == "EN-US"
    assert deepl_target_language("pt") == "PT-PT"
    assert deepl_target_language("pt_BR") == "PT-BR"
    assert deepl_target_language("zh") == "ZH-HANS"
    assert deepl_target_language("no") == "NB"
    for code in ("de", "uk", "ar", "ru", "tr", "es", "pl", "ro"):
        assert deepl_target_language(code) == code.upper()
        assert deepl_source_language(code) == code.upper()
    assert deepl_source_language("en-GB") == "EN"
    assert deepl_source_language("pt-BR") == "PT"
    for unsupported in ("fa", "ku", "ti", "so", "xx", ""):
        assert deepl_target_language(unsupported) is None
        assert deepl_source_language(unsupported) is None


# -- Both --------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", [libre, deepl])
async def test_nothing_to_translate_sends_nothing(
    fake: FakeTranslationServer, backend: Callable[[FakeTranslationServer], Translator]
) -> None:
    translator = backend(fake)

    assert await translator.translate("", "de", "uk") == ""
    assert await translator.translate("  \n", "de", "uk") == "  \n"
    assert await translator.translate("Hallo", "de", "de") == "Hallo"
    assert fake.requests == []


@pytest.mark.parametrize("backend", [libre, deepl])
async def test_whitespace_around_the_text_is_kept(
    fake: FakeTranslationServer, backend: Callable[[FakeTranslationServer], Translator]
) -> None:
    translator = backend(fake)

    result = await translator.translate("\n  Hallo\n\n\nWelt  \n", "de", "ru")

    assert result in ("\n  [ru] Hallo\n\n\nWelt  \n", "\n  [RU] Hallo\n\n\nWelt  \n")


async def test_unreachable_server() -> None:
    # A port that was free a moment ago: nothing listens there now.
    server = FakeTranslationServer()
    url = await server.start()
    await server.stop()

    assert await LibreTranslate(url, timeout=1.0).translate("Hallo", "de", "uk") is None
    assert await DeepL(url, DEEPL_KEY, timeout=1.0).translate("Hallo", "de", "uk") is None


async def test_keys_and_texts_never_reach_the_logs(
    fake: FakeTranslationServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    for translator in (libre(fake, timeout=0.3), deepl(fake, timeout=0.3)):
        await translator.translate(SECRET_TEXT, "de", "uk")  # success
        for switch in ("fail_status", "malformed", "wrong_shape", "delay"):
            value: object = {"fail_status": 500, "delay": 2.0}.get(switch, True)
            setattr(fake, switch, value)
            assert await translator.translate(SECRET_TEXT, "de", "uk") is None
            setattr(fake, switch, {"fail_status": None, "delay": 0.0}.get(switch, False))
    await libre(fake, key=LIBRE_KEY + "-wrong").translate(SECRET_TEXT, "de", "uk")
    await deepl(fake, key=DEEPL_KEY + "-wrong").translate(SECRET_TEXT, "de", "uk")

    ours = [record for record in caplog.records if record.name == "bot.services.translation"]
    messages = [record.getMessage() for record in ours]
    assert any("libretranslate" in message and "500" in message for message in messages)
    assert any("deepl" in message and "403" in message for message in messages)
    assert any("deepl" in message and "Timeout" in message for message in messages)
    everything = caplog.text + "".join(
        f"{record.getMessage()}{record.args!r}{record.exc_text or ''}" for record in caplog.records
    )
    for secret in (LIBRE_KEY, DEEPL_KEY, "deepl-secret", "libre-secret", SECRET_TEXT, "Nowak"):
        assert secret not in everything
    for translator in (libre(fake), deepl(fake)):
        assert "secret" not in repr(translator)


# -- Splitting ---------------------------------------------------------------------------------


def test_split_short_text_is_one_chunk() -> None:
    assert split_text("Hallo\n\nWelt") == [("Hallo\n\nWelt", "")]


def test_split_keeps_paragraphs_together() -> None:
    paragraphs = [f"P{n} " + "x" * 20 for n in range(10)]
    text = "\n\n".join(paragraphs)

    chunks = split_text(text, limit=60)

    assert "".join(chunk + separator for chunk, separator in chunks) == text
    assert all(len(chunk) <= 60 for chunk, _ in chunks)
    for chunk, _ in chunks:
        assert all(part in paragraphs for part in chunk.split("\n\n"))


def test_split_long_paragraph_at_sentences_then_words_then_anywhere() -> None:
    sentences = "Erster Satz hier. Zweiter Satz folgt! Dritter Satz? Vierter Satz endet."
    chunks = split_text(sentences, limit=40)
    assert [chunk for chunk, _ in chunks] == [
        "Erster Satz hier. Zweiter Satz folgt!",
        "Dritter Satz? Vierter Satz endet.",
    ]

    words = "eins zwei drei vier fünf sechs sieben acht"
    assert all(len(chunk) <= 12 for chunk, _ in split_text(words, limit=12))
    assert "".join(c + s for c, s in split_text(words, limit=12)) == words

    blob = "x" * 25
    assert split_text(blob, limit=10) == [("x" * 10, ""), ("x" * 10, ""), ("x" * 5, "")]


@pytest.mark.parametrize(
    "text",
    [
        "\n\n\nLeading blank lines\n\n",
        "a\n \n\tb\r\n\r\nc",
        "ein Satz. " * 300,
        "مرحبا بكم. " * 200 + "\n\n" + "👋🏽 " * 500,
    ],
)
def test_split_always_joins_back(text: str) -> None:
    for limit in (7, 50, 1000):
        chunks = split_text(text, limit=limit)
        assert "".join(chunk + separator for chunk, separator in chunks) == text
        assert all(len(chunk) <= limit for chunk, _ in chunks)


# -- Configuration -----------------------------------------------------------------------------


def test_make_translator_off_by_default() -> None:
    assert make_translator(None, None, None) is None
    assert make_translator("", "http://localhost:5000", "key") is None
    assert make_translator("  ", None, None) is None


def test_make_translator_libretranslate() -> None:
    translator = make_translator("LibreTranslate", "http://localhost:5000/", None)

    assert isinstance(translator, LibreTranslate)
    assert translator.url == "http://localhost:5000"
    assert translator.name == "libretranslate"


def test_make_translator_deepl_picks_the_endpoint_by_key() -> None:
    free = make_translator("deepl", None, "abc:fx")
    pro = make_translator("deepl", "", "abc")
    custom = make_translator("deepl", "https://deepl.example.org", "abc")

    assert isinstance(free, DeepL) and free.url == "https://api-free.deepl.com"
    assert isinstance(pro, DeepL) and pro.url == "https://api.deepl.com"
    assert isinstance(custom, DeepL) and custom.url == "https://deepl.example.org"


@pytest.mark.parametrize(
    ("kind", "url", "key", "message"),
    [
        ("google", "https://x.example", "secret-key", "Unknown translation backend 'google'"),
        ("libretranslate", None, "secret-key", "needs the URL"),
        ("libretranslate", "ftp://x.example", "secret-key", "http:// or https://"),
        ("deepl", "https://x.example", None, "needs a DeepL API key"),
        ("deepl", "not a url", "secret-key", "http:// or https://"),
    ],
)
def test_make_translator_rejects_bad_configuration(
    kind: str, url: str | None, key: str | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        make_translator(kind, url, key)
    assert "secret-key" not in str(caught.value)
