"""Words as native speakers read them: lists, language names, arrows, counts, "all", /mydata."""

from __future__ import annotations

from pathlib import Path

import polib
import pytest
from babel import Locale

from bot import i18n
from bot.app.core import Core
from bot.app.settings import PROJECT_ROOT
from bot.i18n import FSI, PDI, I18n, join_list, language_list
from tests.fakes import Chatroom, Person, registered
from tests.test_console import chat
from tests.test_organisers import organiser

LOCALES = PROJECT_ROOT / "locales"
RTL = sorted(
    path.parent.parent.name
    for path in LOCALES.glob("*/LC_MESSAGES/messages.po")
    if Locale.parse(path.parent.parent.name).character_order == "right-to-left"
)


def isolated(*items: str) -> list[str]:
    return [f"{FSI}{item}{PDI}" for item in items]


def test_arabic_items_holding_wa_are_separated_by_the_arabic_comma() -> None:
    catalogs = I18n(LOCALES)
    with i18n.use(catalogs.lang("ar")):
        topics = [i18n._("Culture and media"), i18n._("Youth"), i18n._("Families")]
        assert topics[0] == "الثقافة والإعلام"
        assert join_list(topics) == "، ".join(isolated(*topics))
        # Items without "و" keep Babel's own pattern.
        assert join_list(["برلين", "لايبزيغ"]) == " و".join(isolated("برلين", "لايبزيغ"))


def test_items_holding_the_lists_own_words_are_set_apart_in_every_language() -> None:
    catalogs = I18n(LOCALES)
    with i18n.use(catalogs.lang("en")):
        assert join_list(["Leipzig", "Dresden", "Chemnitz"]) == "Leipzig, Dresden, and Chemnitz"
        assert join_list(["Culture and media", "Youth"]) == "Culture and media, Youth"
        assert (
            join_list(["Counselling, recognition and work", "Youth"])
            == "Counselling, recognition and work; Youth"
        )
    with i18n.use(catalogs.lang("uk")):
        # Babel's Ukrainian "and" is "і"; the catalog adds "й" and "та".
        assert join_list(["Культура й медіа", "Молодь"]) == "Культура й медіа, Молодь"
    with i18n.use(catalogs.lang("fa")):
        topics = ["مشاوره، ارزشیابی مدارک و کار", "جوانان"]
        assert join_list(topics) == "؛ ".join(isolated(*topics))


def test_languages_in_running_text_are_named_in_the_readers_language_and_isolated() -> None:
    catalogs = I18n(LOCALES)
    with i18n.use(catalogs.lang("ar")):
        assert language_list(["ar", "en"]) == " و".join(isolated("العربية", "الإنجليزية"))
    with i18n.use(catalogs.lang("de")):
        assert language_list(["ar", "en"]) == "Arabisch und Englisch"


async def test_broadcast_names_the_texts_so_far_in_the_organisers_language(room: Chatroom) -> None:
    orga = await organiser(room, locale="ar")
    await orga.says("/broadcast")
    await orga.taps("🏷 Followers of topics and regions")
    await orga.taps("Networking and open meetings")
    await orga.taps("Continue ▶")
    await orga.says("تم إلغاء اللقاء المفتوح يوم الأربعاء.")
    await orga.taps("Deutsch")
    await orga.says("Offener Treff am Mittwoch fällt aus.")
    orga.sees("Texts so far: {languages}.", languages=" و".join(isolated("العربية", "الألمانية")))
    assert "وDeutsch" not in orga.text


@pytest.mark.parametrize("code", RTL)
def test_arrows_point_the_reading_direction_in_right_to_left_catalogs(code: str) -> None:
    po = polib.pofile(str(LOCALES / code / "LC_MESSAGES" / "messages.po"))
    checked = 0
    for entry in po:
        forward = "▶" in entry.msgid
        backward = "◀" in entry.msgid or entry.msgid.startswith("« ")
        if entry.obsolete or not (forward or backward):
            continue
        # Forward points left (◀), back points right (▶); « and » are mirrored by the bidi
        # algorithm in right-to-left text, so they would point differently in each renderer.
        expected, wrong = ("◀", "▶«»") if forward else ("▶", "◀«»")
        assert expected in entry.msgstr, f"{code}: {entry.msgid!r} → {entry.msgstr!r}"
        assert not set(wrong) & set(entry.msgstr), f"{code}: {entry.msgid!r} → {entry.msgstr!r}"
        checked += 1
    assert checked >= 7


def test_right_to_left_catalogs_are_checked() -> None:
    assert RTL == ["ar", "fa"]


async def event_list(person: Person, argument: str) -> str:
    await person.says(f"/events {argument}".strip())
    return person.text


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        ("uk", ("всі", "Усі")),
        ("ru", ("все",)),
        ("de", ("alle",)),
        ("ar", ("الكل",)),
        ("fa", ("همه",)),
    ],
)
async def test_events_all_in_the_readers_own_word(
    room: Chatroom, locale: str, words: tuple[str, ...]
) -> None:
    person = await registered(room, f"reader-{locale}", locale)
    await person.taps("Families")
    everything = await event_list(person, "all")
    assert everything != await event_list(person, ""), "the topic filters the plain /events"
    for word in words:
        assert await event_list(person, word) == everything, word


async def test_a_ukrainian_reader_sees_all_events_with_vsi(room: Chatroom) -> None:
    person = await registered(room, "oksana", "uk")
    await person.taps("Families")
    await person.says("/events всі")
    everything = person.t("All upcoming events ({first}–{last} of {total}):").split("(")[0]
    mine = person.t("Upcoming events for your topics ({first}–{last} of {total}):").split("(")[0]
    assert everything in person.text and mine not in person.text


async def test_the_link_code_counts_its_minutes_in_arabic(room: Chatroom) -> None:
    person = await registered(room, "amal", "ar")
    await person.says("/link")
    assert "خلال 10 دقائق" in person.text
    assert "10 دقيقة" not in person.text


async def test_my_data_reads_as_a_person_reads_it(room: Chatroom, core: Core) -> None:
    person = room.person("@shirin:example.org", "fa", platform="matrix")
    await person.says("/start")
    await person.presses("l:fa")
    await person.taps("✅ I agree")
    await person.says("/mydata")
    person.sees("Language: {language}", language="فارسی")
    person.sees("Second language: {language}", language="ندارد")
    person.sees("Time zone: {timezone}", timezone="برلین")
    person.sees("Accounts: {accounts}", accounts=f"{FSI}Matrix (@shirin:example.org){PDI}")
    assert "Europe/Berlin" not in person.text and "matrix @shirin" not in person.text


def test_the_console_account_is_named_not_repeated(tmp_path: Path) -> None:
    out = chat(tmp_path, "/start\n2\n1\n/mydata\n")
    assert "Accounts: console chat (console)" in out
    assert "console console" not in out and "Time zone: Berlin" in out


# The quotation marks each catalog writes: its language's own, and no other.
QUOTES = {"de": "„“", "en": "“”", "uk": "«»", "ru": "«»", "ar": "«»", "fa": "«»"}


@pytest.mark.parametrize("code", sorted(QUOTES))
def test_each_catalog_quotes_with_its_own_marks(code: str) -> None:
    po = polib.pofile(str(LOCALES / code / "LC_MESSAGES" / "messages.po"))
    foreign = set("“”„«»") - set(QUOTES[code])
    for entry in po:
        forms = [entry.msgstr, *entry.msgstr_plural.values()]
        # A leading « is an arrow ("« Back" in languages written left to right), not a quote.
        quotes = [f.removeprefix("« ") for f in forms if f]
        assert not any(set(f) & foreign for f in quotes), f"{code}: {entry.msgid!r} → {forms}"
