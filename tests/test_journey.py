"""The first journey of a person, as a conversation, in German, Ukrainian and Arabic."""

from __future__ import annotations

import pytest
from babel.dates import format_skeleton
from sqlalchemy import func, select

from bot.app.core import Core
from bot.i18n import FSI, PDI, join_list, language_name
from storage.models import Event, EventText, Identity, User
from tests.fakes import Chatroom, FakeClock

NATIVE = ["Deutsch", "English", "Українська", "العربية", "Русский", "فارسی"]


async def count(core: Core, model: type) -> int:
    async with core.db.transaction() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def event_by_uid(core: Core, uid: str) -> Event:
    async with core.db.transaction() as s:
        event = await s.scalar(select(Event).where(Event.uid == f"demo-{uid}"))
    assert event is not None
    return event


@pytest.mark.parametrize("locale", ["de", "uk", "ar"])
async def test_first_journey(room: Chatroom, core: Core, locale: str) -> None:
    p = room.person("anna", locale)

    await p.says("/start")
    assert [b.label for b in p.buttons()] == NATIVE

    await p.taps(NATIVE[["de", "en", "uk", "ar", "ru", "fa"].index(locale)])
    p.sees("🔒 A short note on your data.")
    p.sees("Do you agree?")
    assert await count(core, User) == 0, "nothing is stored before consent"

    await p.taps("✅ I agree")
    p.sees("Thank you! Now choose the topics you want to hear about.")
    assert await count(core, User) == 1

    await p.taps("Networking and open meetings")
    await p.taps("Politics and participation")
    assert p.button("Networking and open meetings").label.startswith("✅")
    assert p.button("Politics and participation").label.startswith("✅")
    assert p.button("Youth").label.startswith("▫️")
    await p.taps("📍 Regions")
    await p.taps("Leipzig")
    assert p.button("Leipzig").label.startswith("✅")
    await p.taps("Done")
    with room.speak(locale):
        topics = join_list([p.t("Networking and open meetings"), p.t("Politics and participation")])
    p.sees("You follow: {topics}.", topics=topics)

    await p.says("/events")
    # Leipzig networking and politics, plus nothing from Dresden or Bautzen.
    p.sees("Upcoming events for your topics ({first}–{last} of {total}):", first=1, last=2, total=2)
    assert "Konferenz der Migrant" not in p.text and "Bischofswerda" not in p.text
    treff = await event_by_uid(core, "offener-treff-leipzig")
    day = format_skeleton("yMMMEd", treff.starts_at, tzinfo=room.core.settings.tz, locale=locale)
    assert day in p.text, f"{day!r} (Babel, {locale}) not in the list"
    assert "15:00" in p.text and "3:00" not in p.text.replace("15:00", "")

    await p.taps("1. ")
    assert p.button("Going") and p.button("Maybe") and p.button("Not going")
    if locale in ("ar",):
        assert FSI in p.text and PDI in p.text, "dates and places are isolated in RTL text"
    else:
        assert FSI not in p.text

    await p.taps("✅")
    p.sees("✅ You are going. See you there!")
    assert p.tn("✅ {n} going", "✅ {n} going", 1) in p.text

    await p.says("/myevents")
    assert (
        p.tn("You answered {n} upcoming event:", "You answered {n} upcoming events:", 1) in p.text
    )
    assert p.buttons(), "each event in /myevents has buttons to change the answer"

    await p.says("/help")
    for name in ("start", "language", "topics", "events", "myevents", "mydata", "deletedata"):
        assert f"/{name} – " in p.text
    p.sees("Change your language, and add a second language")
    p.sees("Upcoming events for your topics; “/events all” shows all of them")

    await p.says("what is this?")
    p.sees("Sorry, I did not understand that. /help shows what I can do.")


async def test_declining_stores_nothing(room: Chatroom, core: Core, clock: FakeClock) -> None:
    p = room.person("bo", "ru")
    await p.says("/start")
    await p.taps("Русский")
    await p.taps("No, thank you")
    p.sees(
        "All right, I have stored nothing about you. You can still look at events "
        "with /events, and start again at any time with /start."
    )
    assert await count(core, User) == 0 and await count(core, Identity) == 0
    # Browsing needs no data, and goes on in the language picked (kept in memory only).
    await p.says("/events")
    p.sees("Tap an event to answer and to read more.")
    assert await count(core, User) == 0
    # Storing something asks for consent first, just in time.
    await p.says("/topics")
    assert any(b.data == "p:y:ru" for b in p.buttons())
    assert await count(core, User) == 0
    # The picked language is forgotten after a while; then the default language speaks.
    clock.advance(minutes=31)
    await p.says("/help")
    p.locale = "de"
    p.sees("Here is what I can do:")


async def test_language_changes_everything_after_it(room: Chatroom) -> None:
    p = room.person("cem", "de")
    await p.says("/start")
    await p.taps("Deutsch")
    await p.taps("✅ I agree")
    await p.says("/language")
    p.sees("Please choose your language:")
    await p.taps("فارسی")
    p.locale = "fa"
    p.sees("✅ I will speak {language} with you.", language=p.room.core.i18n.lang("fa") and "فارسی")
    await p.taps("No second language")
    await p.says("/help")
    p.sees("Here is what I can do:")


async def test_unknown_command_and_text_get_a_pointer_to_help(room: Chatroom) -> None:
    p = room.person("dan", "de")  # not registered, no hint: the default language
    for text in ("/frobnicate", "hello", "42", "'; DROP TABLE users;--", "{user.__class__} %s"):
        await p.says(text)
        p.sees("Sorry, I did not understand that. /help shows what I can do.")


async def test_language_hint_preselects_before_consent(room: Chatroom) -> None:
    p = room.person("eva", "uk", language_hint="uk-UA")
    await p.says("/help")
    p.sees("Here is what I can do:")
    p.sees("Start with /start to choose your language.")


async def test_all_events_on_request_and_paging(room: Chatroom, core: Core) -> None:
    p = room.person("fox", "de")
    await p.says("/events all")
    async with core.db.transaction() as s:
        total = int(await s.scalar(select(func.count()).select_from(Event)) or 0)
    p.sees("All upcoming events ({first}–{last} of {total}):", first=1, last=3, total=total)
    await p.taps("Next ▶")
    p.sees("All upcoming events ({first}–{last} of {total}):", first=4, last=6, total=total)
    await p.taps("◀ Previous")
    p.sees("All upcoming events ({first}–{last} of {total}):", first=1, last=3, total=total)
    # A card shows organiser, place and seats.
    await p.taps("2. ")
    assert "🏢 " in p.text and ("📍 " in p.text or "💻 " in p.text)


async def test_event_text_language_fallback(room: Chatroom, core: Core) -> None:
    """Mine, else my second language, else English, else German — with a visible note."""
    uk = room.person("galyna", "uk")
    await uk.says("/start")
    await uk.taps("Українська")
    await uk.taps("✅ I agree")
    beirat = await event_by_uid(core, "migrantenbeirat-kandidieren")
    konferenz = await event_by_uid(core, "konferenz-mo-dresden")
    get_together = await event_by_uid(core, "get-together-bischofswerda")
    async with core.db.transaction() as s:
        texts = {(t.event_id, t.locale): t.title for t in await s.scalars(select(EventText))}

    await uk.presses(f"e:{beirat.id}:-")  # has a Ukrainian text
    assert texts[(beirat.id, "uk")] in uk.text
    with room.speak("uk"):
        note_en = uk.t("ℹ️ This text is in {language}.", language=language_name("en"))
        note_ru = uk.t("ℹ️ This text is in {language}.", language=language_name("ru"))
        note_de = uk.t("ℹ️ This text is in {language}.", language=language_name("de"))
    assert "ℹ️" not in uk.text

    await uk.presses(f"e:{konferenz.id}:-")  # en, ru, fa, de: no Ukrainian → English
    assert texts[(konferenz.id, "en")] in uk.text and note_en in uk.text

    await uk.says("/language")
    await uk.taps("Українська")
    await uk.taps("Русский")  # second language
    await uk.presses(f"e:{konferenz.id}:-")
    assert texts[(konferenz.id, "ru")] in uk.text and note_ru in uk.text

    await uk.presses(f"e:{get_together.id}:-")  # German only
    assert texts[(get_together.id, "de")] in uk.text and note_de in uk.text
