"""Organisers: roles by invite code, refusals that are audited, and /newevent step by step."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.app.core import Core
from bot.i18n.text import plain
from storage.models import AuditEntry, Event, EventText, Membership
from tests.fakes import Chatroom, FakeClock, Person, registered

INVITE = re.compile(r"[A-Z2-9]{5}-[A-Z2-9]{5}")


async def organiser(room: Chatroom, name: str = "orga", locale: str = "de") -> Person:
    """An umbrella admin creates an organisation and invites ``name`` as its organiser."""
    admin = await registered(room, "umbrella-admin", "en")
    await admin.says("/neworg Kültür Kollektiv Leipzig e. V.")
    number = re.search(r"\(number (\d+)\)", admin.text)
    assert number, admin.text
    await admin.says(f"/invite organiser {number.group(1)}")
    code = INVITE.search(admin.text)
    assert code, admin.text
    person = await registered(room, name, locale)
    await person.says(f"/join {code.group(0)}")
    person.sees(
        "Welcome! You are now {role} of {organisation}. /newevent creates an event, /help shows "
        "all commands.",
        role=person.t("organiser"),
        organisation="Kültür Kollektiv Leipzig e. V.",
    )
    return person


async def audit(core: Core) -> list[tuple[str, bool, str]]:
    async with core.db.transaction() as s:
        rows = await s.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [(r.action, r.allowed, r.detail) for r in rows]


async def test_invite_code_makes_an_organiser_once(room: Chatroom, core: Core) -> None:
    orga = await organiser(room)
    await orga.says("/help")
    orga.sees("For organisers:")
    orga.sees("Create an event, step by step")
    async with core.db.transaction() as s:
        roles = [(m.role, m.organisation_id) for m in await s.scalars(select(Membership))]
    assert [r for r, _ in roles] == ["organiser"]

    other = await registered(room, "other", "uk")
    await other.says("/join AAAAA-BBBBB")
    other.sees("This invite code is not valid or has expired. Please ask for a new one.")
    await other.says("/help")
    assert other.t("For organisers:") not in other.text


async def test_non_organisers_are_refused_and_audited(room: Chatroom, core: Core) -> None:
    person = await registered(room, "nobody", "ar")
    refusal = (
        "Sorry, only organisers of a member organisation can do this. If you organise events, "
        "ask your umbrella organisation for an invite code."
    )
    for command in ("/newevent", "/invite organiser", "/orgs"):
        await person.says(command)
        person.sees(refusal)
    in_group = room.person("nobody", "ar", private=False, chat_id="group-7", language_hint="ar")
    await in_group.says("/newevent@treffpunkt_bot")
    # Audited, but a group is not told who is no organiser (nor who is one).
    in_group.sees(
        "This is personal, so I only do it in a private chat. Please write to me directly."
    )
    await person.says("/neworg Fake e. V.")
    person.sees("Sorry, only the umbrella organisation's admins can do this.")
    entries = await audit(core)
    assert [(a, ok) for a, ok, _ in entries] == [
        ("newevent", False),
        ("invite", False),
        ("orgs", False),
        ("newevent", False),
        ("neworg", False),
    ]
    assert "group" in entries[3][2]
    async with core.db.transaction() as s:
        assert list(await s.scalars(select(Membership))) == []


async def test_new_event_step_by_step_with_every_check(
    room: Chatroom, core: Core, clock: FakeClock
) -> None:
    follower = await registered(room, "follower", "uk")
    await follower.taps("Culture and media")
    orga = await organiser(room)

    await orga.says("/newevent")
    orga.sees("New event for {organisation}.", organisation="Kültür Kollektiv Leipzig e. V.")
    orga.sees("What is the title of the event?")
    await orga.says("\u200b\u200d ")
    orga.sees("Please write a title.")
    await orga.says("x" * 201)
    orga.sees("This is too long: at most {max} characters, please.", max=200)
    await orga.says("Filmabend: „Spendier mir einen Çay“")
    orga.sees("Describe the event in a few sentences (or send - to leave it empty).")
    await orga.says("Dokumentarfilm und Gespräch mit <b>Gästen</b> {0} %s")
    orga.sees("Which topic fits best?")
    await orga.taps("Culture and media")
    orga.sees("In which region?")
    await orga.taps("Leipzig")
    orga.sees(
        "When does it start? For example 05.12.2026 18:00, or 18.11. 12-18 Uhr for a time range."
    )
    checks = {
        "morgen abend": "I could not read this date. Please write it like 05.12.2026 18:00.",
        "31.02.2027 10:00": "This date does not exist. Please check the day and the month.",
        "05.12.2027": "Please add a time, for example 05.12.2026 18:00.",
        "05.12.2020 18:00": "This is in the past. Please give a date in the future.",
    }
    for typed, answer in checks.items():
        await orga.says(typed)
        orga.sees(answer)
    await orga.says("28.03.2027 02:30")
    orga.sees(
        "On that day the clocks go forward: {time} does not exist. Please choose another time, "
        "for example an hour later.",
        time="02:30",
    )
    await orga.says("31.10.2027 02:30")
    orga.sees(
        "On that day the clocks go back, so {time} happens twice. Which one do you mean?",
        time="02:30",
    )
    await orga.taps("{time} winter time (CET)", time="02:30")
    orga.sees("When does it end? A time like 20:00, a date and time, or - if it is open.")
    await orga.says("01:00")
    orga.sees("The end must be after the start.")
    await orga.says("04:00")
    orga.sees("Where does it take place? An address, or an online link starting with https://")
    await orga.says("Cinémathèque Leipzig, Karl-Liebknecht-Straße 46")
    await orga.says("viele")
    orga.sees("Please send a whole number between 1 and {max}, or - for no limit.", max=100000)
    await orga.says("40")
    await orga.says("01.01.2028")
    orga.sees("The registration deadline must be before the event starts.")
    await orga.says("-")
    orga.sees("Please check the event:")
    assert "<b>Gästen</b> {0} %s" in orga.text, "organiser text is shown literally"
    await orga.taps("✅ Publish")
    orga.sees_n(
        "Published (event {id}). {n} person follows this topic and hears of it.",
        "Published (event {id}). {n} people follow this topic and hear of it.",
        1,
        id=17,
    )

    async with core.db.transaction() as s:
        event = await s.scalar(select(Event).where(Event.id == 17))
        text = await s.scalar(select(EventText).where(EventText.event_id == 17))
    assert event is not None and text is not None
    # 02:30 winter time on 31 October 2027 is 01:30 UTC; the end is 03:00 UTC.
    assert event.starts_at.isoformat() == "2027-10-31T01:30:00+00:00"
    assert event.ends_at is not None and event.ends_at.isoformat() == "2027-10-31T03:00:00+00:00"
    assert (event.capacity, event.registration_deadline, text.locale) == (40, None, "de")

    # The follower hears of it once, in Ukrainian, with a note that the text is German.
    assert len(follower.inbox) == 1
    notice = follower.inbox[0]
    assert follower.t(
        "🆕 New event from {organiser}:", organiser="Kültür Kollektiv Leipzig e. V."
    ) in plain(notice.text)
    assert any(b.data.startswith("r:17:g") for b in notice.all_buttons())


async def test_time_range_and_cancel(room: Chatroom, core: Core) -> None:
    orga = await organiser(room, locale="en")
    await orga.says("/newevent")
    await orga.says("Open meeting")
    await orga.says("-")
    await orga.taps("Networking and open meetings")
    await orga.taps("Dresden")
    await orga.says("18.12. 12-18 Uhr")
    orga.sees("Where does it take place? An address, or an online link starting with https://")
    await orga.says("/cancel")
    orga.sees("Cancelled. Nothing was saved.")
    await orga.says("https://meet.example.org/room")
    orga.sees("Sorry, I did not understand that. /help shows what I can do.")
    async with core.db.transaction() as s:
        assert await s.scalar(select(Event).where(Event.id == 17)) is None
