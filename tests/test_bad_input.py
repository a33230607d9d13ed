"""Bad input gets a clear answer: numbers no column holds, invisible and control characters,
dates at the ends of the calendar, a page beyond the end. On SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from bot.app.core import Core
from bot.core.numbers import parse_id, parse_number
from storage.models import Event, EventText
from tests.fakes import Chatroom, registered
from tests.test_organisers import organiser

# "²" is a digit to str.isdigit() and not to int(); 2³¹ is beyond PostgreSQL's integer,
# 10²⁵ beyond SQLite's.
NOT_AN_ID = ["²", "2147483648", "9" * 25, "9" * 5000, "0" * 5000, "-1", "0", "1.5", "３"]
FAILURE = "Sorry, something went wrong on my side. Please try again."


@pytest.mark.parametrize("typed", [*NOT_AN_ID, "١٧x", "۱.۵", "٠"])
def test_ids_are_digits_in_range(typed: str) -> None:
    assert parse_id(typed) is None


def test_ids_and_counts_that_are_read() -> None:
    assert parse_id("17") == 17
    assert parse_id("١٧") == 17, "Arabic-Indic digits, as an Arabic keyboard types them"
    assert parse_id("۱۷") == 17, "Persian digits"
    assert parse_number("۲", 1, 6) == 2
    assert parse_id("2147483647") == 2**31 - 1
    assert parse_id("007") == 7
    assert parse_number("100000", 1, 100_000) == 100_000
    assert parse_number("100001", 1, 100_000) is None


async def test_number_arguments_of_every_command_are_read_one_way(room: Chatroom) -> None:
    orga = await organiser(room, locale="uk")
    admin = room.person("umbrella-admin", "en")
    for typed in NOT_AN_ID:
        for command in ("attendees", "translate", "cancelevent", "editevent"):
            await orga.says(f"/{command} {typed}")
            orga.sees("Please add the event's number, for example /{command} 12.", command=command)
        for command in ("newevent", "broadcast"):
            await orga.says(f"/{command} {typed}")
            orga.sees("Which organisation? Add its number to the command:")
        await admin.says(f"/invite organiser {typed}")
        if typed.isdigit():
            admin.sees("Which organisation? Add its number to the command:")
        else:  # "-1" is no organisation's number, so it is taken as part of the role
            admin.sees("Which role should the new member have?")
        await admin.says(f"/removerole {typed}")
        admin.sees("Please add the role's number as /members shows it: /removerole 12")
    await orga.says("/newevent 2147483647")
    orga.sees("You do not act for that organisation.")
    await orga.says("/attendees 2147483647")
    orga.sees("There is no event with that number.")


async def test_typed_text_is_cleaned_once_at_the_edge(room: Chatroom, core: Core) -> None:
    orga = await organiser(room, locale="en")
    admin = room.person("umbrella-admin", "en")
    await admin.says("/neworg \u3164\u200b")
    admin.sees("Please write the name after the command: /neworg Name of the association")
    await orga.says("/newevent")
    for invisible in ("\u3164", "\u2063", "\u00ad", "\u200b\ufeff", "\u2800"):
        await orga.says(invisible)
        orga.sees("Please write a title.")
    await orga.says("Som\x00mer\ud800fest\u202e")
    orga.sees("Describe the event in a few sentences (or send - to leave it empty).")
    await orga.says("Zeile 1\r\nZeile 2\x07\x1b")
    await orga.taps("Culture and media")
    await orga.taps("Leipzig")
    await orga.says("05.12.2026 18:00 bis 20 Uhr")
    await orga.says("Leipzig\x00")
    orga.sees("How many seats are there? A number, or - for no limit.")
    for typed in ("²", "9" * 25, "-5"):
        await orga.says(typed)
        orga.sees("Please send a whole number between 1 and {max}, or - for no limit.", max=100000)
    await orga.says("4\x000")
    await orga.says("-")
    orga.sees("Please check the event:")
    await orga.taps("✅ Publish")
    assert FAILURE not in orga.text
    async with core.db.transaction() as s:
        text = await s.scalar(select(EventText).where(EventText.title == "Sommerfest"))
        assert text is not None and text.description == "Zeile 1\nZeile 2"
        event = await s.get(Event, text.event_id)
    assert event is not None and (event.place, event.capacity) == ("Leipzig", 40)


async def test_dates_at_the_ends_of_the_calendar_are_refused(room: Chatroom) -> None:
    orga = await organiser(room, locale="de")
    await orga.says("/newevent")
    await orga.says("Sommerfest")
    await orga.says("-")
    await orga.taps("Culture and media")
    await orga.taps("Leipzig")
    ahead = "This is more than {n} years ahead. Please check the year."
    ago = "This is more than {n} years ago. Please check the year."
    for typed, answer, years in [
        ("01.01.0001 00:30", ago, 100),
        ("31.12.9999 23:30", ahead, 5),
        ("01.12.2032 18:00", ahead, 5),
    ]:
        await orga.says(typed)
        assert orga.tn(answer.replace("years", "year"), answer, years) in orga.text
    await orga.says("/cancel")
    await orga.says("/report 01.01.0001 31.12.9999")
    assert orga.tn(ago.replace("years", "year"), ago, 100) in orga.text
    await orga.says("/report 01.01.2026 31.12.9999")
    assert orga.tn(ahead.replace("years", "year"), ahead, 5) in orga.text


async def test_a_page_far_beyond_the_end_shows_the_last_page(room: Chatroom) -> None:
    person = await registered(room, "kim", "en")
    await person.presses("ev:a:99999")
    shown = re.search(r"\((\d+)–(\d+) of (\d+)\)", person.text)
    assert shown, person.text
    first, last, total = (int(n) for n in shown.groups())
    assert first <= last == total
    assert person.t("Next ▶") not in [b.label for b in person.buttons()]
    assert any(b.label == person.t("◀ Previous") for b in person.buttons())
