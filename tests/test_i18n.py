"""Languages: picking, fallback chains, right-to-left isolation, Babel dates."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from bot import i18n
from bot.app.settings import PROJECT_ROOT
from bot.i18n import FSI, PDI, I18n, _, format_when, isolate, native_name, strip_bidi_controls
from bot.i18n.text import clean_input, fmt, is_blank, plain

BERLIN = ZoneInfo("Europe/Berlin")
LOCALES = PROJECT_ROOT / "locales"


def test_languages_are_offered_by_their_own_names() -> None:
    names = [native_name(c) for c in I18n(LOCALES).available]
    assert names == ["Deutsch", "English", "Українська", "العربية", "Русский", "فارسی"]


def test_unknown_or_odd_codes_fall_back_and_never_raise() -> None:
    catalogs = I18n(LOCALES, default="de")
    assert catalogs.pick("uk-UA") == "uk"
    assert catalogs.pick("AR_sy") == "ar"
    for odd in (None, "", "xx", "tlh", "../../etc", "ti"):
        assert catalogs.lang(odd).code == "de"
    assert catalogs.lang("de", "de").second is None


def test_current_language_is_per_context() -> None:
    catalogs = I18n(LOCALES)
    with i18n.use(catalogs.lang("uk")):
        uk = _("Please choose your language:")
        with i18n.use(catalogs.lang("ar")):
            ar = _("Please choose your language:")
        assert _("Please choose your language:") == uk
    assert uk != ar != "Please choose your language:"


def test_second_language_chain_does_not_leak_between_people() -> None:
    catalogs = I18n(LOCALES)
    a = catalogs.lang("fa", "ru")
    b = catalogs.lang("fa")
    # Both speak Farsi; building a's chain with Russian must not change b's catalog.
    assert a.translations.gettext("Youth") == b.translations.gettext("Youth")
    assert b.translations.gettext("no such message") == "no such message"
    assert a.content_order() == ["fa", "ru", "en", "de"]
    assert b.content_order() == ["fa", "en", "de"]


def test_rtl_values_are_isolated_only_in_rtl_text() -> None:
    catalogs = I18n(LOCALES)
    with i18n.use(catalogs.lang("fa")):
        assert isolate("Kochstraße 132") == f"{FSI}Kochstraße 132{PDI}"
    with i18n.use(catalogs.lang("ru")):
        assert isolate("Kochstraße 132") == "Kochstraße 132"


def test_dates_follow_locale_and_berlin_time_24h() -> None:
    catalogs = I18n(LOCALES)
    start = datetime(2026, 12, 5, 17, 0, tzinfo=UTC)  # 18:00 in Berlin
    end = datetime(2026, 12, 5, 19, 0, tzinfo=UTC)
    with i18n.use(catalogs.lang("de")):
        assert format_when(start, end, BERLIN) == "Sa., 5. Dez. 2026, 18:00–20:00 Uhr"
    with i18n.use(catalogs.lang("en")):
        text = format_when(start, end, BERLIN)
        assert "Dec 5, 2026" in text and "18:00" in text and "PM" not in text
    with i18n.use(catalogs.lang("ar")):
        text = format_when(start, end, BERLIN)
        assert text.count(FSI) == 2 and "ديسمبر" in text
    several_days = datetime(2026, 12, 7, 17, 0, tzinfo=UTC)
    with i18n.use(catalogs.lang("de")):
        assert format_when(start, several_days, BERLIN) == "Sa., 5.\u2009–\u2009Mo., 7. Dez. 2026"


def test_summer_time_is_berlin_time() -> None:
    catalogs = I18n(LOCALES)
    start = datetime(2026, 7, 1, 16, 0, tzinfo=UTC)  # CEST: 18:00
    with i18n.use(catalogs.lang("de")):
        assert "18:00" in format_when(start, None, BERLIN)


def test_values_are_escaped_and_never_a_format_string() -> None:
    text = fmt("Hello {name}", name='<b>x</b><a href="tg://user?id=1">{0}{user.__class__}%s')
    assert "<b>" not in text and "&lt;b&gt;" in text
    assert plain(text) == 'Hello <b>x</b><a href="tg://user?id=1">{0}{user.__class__}%s'


def test_typed_input_is_cleaned() -> None:
    assert clean_input("  Cafe\u0301 \u202e12.05.\u202c ") == "Café 12.05."
    assert strip_bidi_controls("a\u2066b\u2069") == "ab"
    assert is_blank("\u200b\u200d \ufeff")
    assert not is_blank("👩‍👩‍👧")


@pytest.mark.parametrize(
    "invisible",
    [
        "\u3164",
        "\u2063",
        "\u00ad",
        "\u200b",
        "\ufeff",
        "\u115f\u1160\uffa0",
        "\u2800",
        "\ufe0f",
        "\U000e0041",
        "\u180e",
        " \u3000\t\n",
    ],
)
def test_text_of_invisible_characters_is_blank(invisible: str) -> None:
    assert is_blank(invisible)
    assert is_blank(clean_input(invisible))


@pytest.mark.parametrize("visible", ["a\u3164", "ـ", "\u0301", "می‌آیند", "x\u00ad"])
def test_text_with_something_to_see_is_not_blank(visible: str) -> None:
    assert not is_blank(visible)


def test_control_characters_and_lone_surrogates_never_get_in() -> None:
    typed = "Som\x00mer\ud800fest\x07\r\nZeile\r2\tmit Tab\x85\x1b[31m"
    assert clean_input(typed) == "Sommerfest\nZeile\n2\tmit Tab[31m"
    assert clean_input("می\u200cآیند") == "می\u200cآیند", "the Persian half-space stays"
