"""Guided conversations: "◀ Back", expiry, buttons of another step, /cancel, one set of field
rules for /newevent and /editevent, and a new wizard that is one module and one registration."""

from __future__ import annotations

from sqlalchemy import select

from bot.app.core import Core
from bot.core.chat import Reply
from bot.core.context import Context
from bot.core.conversations import Finish, Goto, Outcome, Stay, Step, Turn, Wizard
from bot.i18n.text import fmt
from handlers.buttons import NewEventCategory
from storage.models import Conversation, Event, EventText
from tests.fakes import Chatroom, FakeClock, registered
from tests.test_manage import demo_event_of_new_org
from tests.test_organisers import organiser


async def test_back_returns_to_the_question_before_and_keeps_the_answers(
    room: Chatroom, core: Core
) -> None:
    orga = await organiser(room, locale="uk")
    await orga.says("/newevent")
    assert not any(b.label == orga.t("◀ Back") for b in orga.buttons()), "nothing before"
    await orga.says("Вечір настільних ігор")
    orga.sees("Describe the event in a few sentences (or send - to leave it empty).")
    await orga.says("-")
    orga.sees("Which topic fits best?")
    await orga.taps("◀ Back")
    orga.sees("Describe the event in a few sentences (or send - to leave it empty).")
    assert orga.last[0].replace, "the pressed message is replaced"
    await orga.taps("◀ Back")
    orga.sees("What is the title of the event?")
    await orga.says("Вечір настільних ігор у Хемніці")
    await orga.says("Граємо разом.")
    await orga.taps("Culture and media")
    await orga.taps("Chemnitz")
    orga.sees(
        "When does it start? For example 05.12.2026 18:00, or 18.11. 12-18 Uhr for a time range."
    )
    # A wrong answer keeps the question, and the way back from it.
    await orga.says("завтра")
    orga.sees("I could not read this date. Please write it like 05.12.2026 18:00.")
    await orga.taps("◀ Back")
    orga.sees("In which region?")
    await orga.taps("Leipzig")
    await orga.says("12.12.2026 18:00-21:00")
    await orga.says("Interkultureller Garten, Chemnitz")
    await orga.says("-")
    await orga.says("-")
    orga.sees("Please check the event:")
    assert "Вечір настільних ігор у Хемніці" in orga.text
    assert "Граємо разом." in orga.text
    await orga.taps("✅ Publish")
    async with core.db.transaction() as s:
        titles = list(await s.scalars(select(EventText.title).where(EventText.event_id == 17)))
    assert titles == ["Вечір настільних ігор у Хемніці"]


async def test_back_from_an_older_message_is_refused(room: Chatroom, core: Core) -> None:
    orga = await organiser(room, locale="en")
    await orga.says("/newevent")
    await orga.says("Open meeting")
    back = orga.button("◀ Back")  # under the description question
    await orga.says("-")
    await orga.presses(back.data)
    orga.sees("This button is no longer valid. Please use the newest message.")
    async with core.db.transaction() as s:
        conversation = await s.scalar(select(Conversation))
    assert conversation is not None and conversation.step == "category"


async def test_a_quiet_conversation_expires_and_nothing_is_kept(
    room: Chatroom, core: Core, clock: FakeClock
) -> None:
    orga = await organiser(room, locale="ar")
    await orga.says("/newevent")
    await orga.says("لقاء مفتوح")
    clock.advance(minutes=61)
    await orga.says("وصف قصير")
    orga.sees(
        orga.tn(
            "That conversation expired after {n} minute without an answer; nothing of it was "
            "saved. Start again with /{command}.",
            "That conversation expired after {n} minutes without an answer; nothing of it was "
            "saved. Start again with /{command}.",
            60,
            command="newevent",
        )
    )
    async with core.db.transaction() as s:
        assert list(await s.scalars(select(Conversation))) == []
    await orga.says("/cancel")
    orga.sees("There is nothing to cancel.")


async def test_within_its_lifetime_a_conversation_goes_on(room: Chatroom, clock: FakeClock) -> None:
    orga = await organiser(room, locale="en")
    await orga.says("/newevent")
    clock.advance(minutes=59)
    await orga.says("Open meeting")
    clock.advance(minutes=59)
    await orga.says("-")
    orga.sees("Which topic fits best?")


async def test_a_button_of_another_step_is_stale_and_changes_nothing(
    room: Chatroom, core: Core
) -> None:
    orga = await organiser(room, locale="de")
    await orga.says("/newevent")
    await orga.says("Offenes Treffen")
    orga.sees("Describe the event in a few sentences (or send - to leave it empty).")
    await orga.presses(NewEventCategory(1).pack())  # the topic question is yet to come
    orga.sees("This button is no longer valid. Please use the newest message.")
    async with core.db.transaction() as s:
        conversation = await s.scalar(select(Conversation))
    assert conversation is not None and conversation.step == "description"
    assert "category" not in conversation.data


async def test_cancel_leaves_any_step(room: Chatroom, core: Core) -> None:
    orga = await organiser(room, locale="ru")
    await orga.says("/broadcast")
    await orga.taps("🏷 Followers of topics and regions")
    await orga.says("/cancel")
    orga.sees("Cancelled. Nothing was saved.")
    await orga.says("Привет")
    async with core.db.transaction() as s:
        assert list(await s.scalars(select(Conversation))) == []


async def test_newevent_and_editevent_read_fields_alike(room: Chatroom, core: Core) -> None:
    orga = await organiser(room, locale="en")
    await orga.says("/newevent")
    await orga.says("Night walk")
    await orga.says("—")  # a long dash leaves the description empty, as "-" does
    await orga.taps("Networking and open meetings")
    await orga.taps("Leipzig")
    # The time zone the bot itself suggests settles the hour that happens twice.
    await orga.says("31.10.2027 02:30 CET")
    orga.sees("When does it end? A time like 20:00, a date and time, or - if it is open.")
    await orga.says("03:30 CET")
    orga.sees("Where does it take place? An address, or an online link starting with https://")
    await orga.says("HTTPS://meet.example.org/night-walk")
    await orga.says("–")
    await orga.says("-")
    await orga.taps("✅ Publish")
    async with core.db.transaction() as s:
        event = await s.get(Event, 17)
        text = await s.scalar(select(EventText).where(EventText.event_id == 17))
    assert event is not None and text is not None
    assert event.starts_at.isoformat() == "2027-10-31T01:30:00+00:00"
    assert event.ends_at is not None and event.ends_at.isoformat() == "2027-10-31T02:30:00+00:00"
    assert (event.online_url, event.place, text.description) == (
        "HTTPS://meet.example.org/night-walk",
        None,
        "",
    )

    event_id = await demo_event_of_new_org(core, "offener-treff-leipzig")
    await orga.says(f"/editevent {event_id}")
    await orga.taps("Description")
    await orga.says("—")
    orga.sees_n(
        "Saved. I told {n} person who answered.",
        "Saved. I told {n} people who answered.",
        0,
    )
    await orga.says(f"/editevent {event_id}")
    await orga.taps("Place")
    await orga.says("HTTPS://meet.example.org/treff")
    await orga.says(f"/editevent {event_id}")
    await orga.taps("Title")
    await orga.says("-")
    orga.sees("Please write a title.")
    await orga.says("x" * 201)
    orga.sees("This is too long: at most {max} characters, please.", max=200)
    await orga.says("/cancel")
    async with core.db.transaction() as s:
        edited = await s.get(Event, event_id)
        texts = list(await s.scalars(select(EventText).where(EventText.event_id == event_id)))
    assert edited is not None and edited.online_url == "HTTPS://meet.example.org/treff"
    assert edited.place is None
    # The organiser's own language's text was edited (the demo event has one in English).
    assert [t.description for t in texts if t.locale == "en"] == [""]


async def _ask_name(_turn: Turn) -> Reply:
    return Reply(fmt("Your favourite colour?"))


async def _name(turn: Turn) -> Outcome:
    if not turn.text.isalpha():
        return Stay(Reply(fmt("Letters only, please.")))
    turn.data["colour"] = turn.text
    return Goto("confirm")


async def _ask_confirm(turn: Turn) -> Reply:
    return Reply(fmt("So it is {colour}? Say yes.", colour=turn.data["colour"]))


async def _confirm(turn: Turn) -> Outcome:
    return Finish(Reply(fmt("Noted: {colour}.", colour=turn.data["colour"])))


SURVEY = Wizard(
    "survey",
    "survey",
    {"name": Step(_ask_name, text=_name), "confirm": Step(_ask_confirm, text=_confirm)},
)


async def _start_survey(ctx: Context) -> Reply:
    return await ctx.conversations.begin(ctx, SURVEY, "name", {}, pressed=False)


async def test_a_new_wizard_is_one_declaration_and_its_registration(
    room: Chatroom, core: Core
) -> None:
    registry = core.dispatcher.registry
    registry.wizard(SURVEY)
    registry.command("survey", _start_survey, "A test survey", hidden=True)
    person = await registered(room, "tester", "en")
    await person.says("/survey")
    assert "Your favourite colour?" in person.text
    await person.says("42")
    assert "Letters only, please." in person.text
    await person.says("teal")
    assert "So it is teal? Say yes." in person.text
    await person.taps("◀ Back")
    assert "Your favourite colour?" in person.text
    await person.says("amber")
    await person.says("yes")
    assert "Noted: amber." in person.text
    await person.says("/cancel")
    person.sees("There is nothing to cancel.")


async def test_the_text_language_is_the_organisers_own_unless_changed_in_the_preview(
    room: Chatroom, core: Core
) -> None:
    orga = await organiser(room, locale="de")
    await orga.says("/newevent")
    await orga.says("Вечір настільних ігор у Хемніці")
    await orga.says("Граємо разом.")
    await orga.taps("Culture and media")
    await orga.taps("Chemnitz")
    await orga.says("12.12.2026 18:00-21:00")
    await orga.says("Interkultureller Garten, Chemnitz")
    await orga.says("-")
    await orga.says("-")
    orga.sees("🌐 Text in {language}", language="Deutsch")
    await orga.taps("🌐 Change language")
    orga.sees("In which language are the title and description written?")
    labels = [b.label for b in orga.buttons()]
    assert labels[0] == "✓ Deutsch", "the language taken so far comes first, marked"
    assert {"English", "Українська", "العربية", "Русский", "فارسی"} <= set(labels)
    await orga.taps("◀ Back")
    orga.sees("🌐 Text in {language}", language="Deutsch")
    await orga.taps("🌐 Change language")
    await orga.taps("Українська")
    orga.sees("Please check the event:")
    orga.sees("🌐 Text in {language}", language="Ukrainisch")
    await orga.taps("✅ Publish")
    async with core.db.transaction() as s:
        texts = list(await s.execute(select(EventText.locale, EventText.title)))
    assert ("uk", "Вечір настільних ігор у Хемніці") in [tuple(t) for t in texts]
    assert not any(locale == "de" and title.startswith("Вечір") for locale, title in texts)
