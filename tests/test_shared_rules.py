"""Rules kept in one place: slugs, the bidi controls taken out of input, the names of UTC."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import available_timezones

import pytest

from bot.calendar.ical import parse_calendar
from bot.calendar.ics_export import ics_filename
from bot.calendar.zones import UTC_NAMES
from bot.i18n import BIDI_CONTROLS
from bot.i18n.text import clean_input, slug
from bot.services.organisers import slugify

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
LRM, RLM, ALM = "\u200e", "\u200f", "\u061c"


def one_event(summary: str, start: str = "DTSTART:20261201T180000Z", head: str = "") -> bytes:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Test//Test//EN\r\n"
        f"{head}BEGIN:VEVENT\r\nUID:u-1\r\nSUMMARY:{summary}\r\n{start}\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Kültür Kollektiv Leipzig e. V.", "kueltuer-kollektiv-leipzig-e-v"),
        ("Bürgerhaus Müllerstraße", "buergerhaus-muellerstrasse"),
        ("Café à la carte – Łódź", "cafe-a-la-carte-lodz"),
        ("Sprachcafé 2027", "sprachcafe-2027"),
        ("Дом дружбы", ""),  # Cyrillic has no ASCII spelling here
        ("بيت الصداقة", ""),  # nor has Arabic
        ("Дом Nachbarschaft بيت", "nachbarschaft"),
        ("🎉 ../../etc", "etc"),
    ],
)
def test_slug_spells_latin_letters_in_ascii_and_drops_other_scripts(
    name: str, expected: str
) -> None:
    assert slug(name, 60) == expected


def test_slug_ends_at_a_word_boundary_within_its_limit() -> None:
    assert slug("Offener Treff der Werkstatt", 20) == "offener-treff-der"
    assert slug("x" * 30, 20) == "x" * 20
    assert len(slug("Sehr langer Titel für einen Nachmittag " * 5, 56)) <= 56


def test_organisations_and_calendar_files_share_the_slug_but_not_the_fallback() -> None:
    assert slugify("Müßiggang e. V.") == "muessiggang-e-v"
    assert ics_filename("Müßiggang e. V.") == "muessiggang-e-v.ics"
    assert slugify("Дом дружбы") == "org"
    assert ics_filename("Дом дружбы") == "event.ics"
    assert len(slugify("Verein " * 20)) <= 60
    assert not slugify("Verein " * 20).endswith("-")


def test_the_bidi_controls_are_the_embeddings_overrides_and_isolates() -> None:
    assert {f"U+{ord(c):04X}" for c in BIDI_CONTROLS} == {
        *(f"U+{code:04X}" for code in range(0x202A, 0x202F)),
        *(f"U+{code:04X}" for code in range(0x2066, 0x206A)),
    }


def test_typed_input_and_imported_text_lose_the_same_bidi_controls() -> None:
    controls = "".join(sorted(BIDI_CONTROLS))
    typed = f"Treff{controls} am {LRM}Markt{RLM}{ALM}"

    (event,) = parse_calendar(one_event(typed), now=NOW)

    assert clean_input(typed) == f"Treff am {LRM}Markt{RLM}{ALM}"
    assert event.title == clean_input(typed)


def test_utc_names_are_the_tzdata_names_of_utc() -> None:
    names = {
        n
        for n in available_timezones()
        if n.rpartition("/")[2] in {"UTC", "UCT", "Universal", "Zulu"}
    }
    assert names == UTC_NAMES


@pytest.mark.parametrize("name", sorted(UTC_NAMES))
def test_an_imported_time_in_any_utc_name_is_read_as_utc(name: str) -> None:
    data = one_event("Treff", start=f"DTSTART;TZID={name}:20261201T180000")

    (event,) = parse_calendar(data, now=NOW, default_tz="Europe/Berlin")

    assert event.starts_at == datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
    assert event.timezone == "Europe/Berlin"  # UTC is how it was written, not where it is
