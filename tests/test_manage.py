"""Organisers change, cancel and translate events; people hear of it in their language;
calendar files and CSV exports; optional machine translation, always labelled."""

from __future__ import annotations

import csv
import io

from icalendar import Calendar
from sqlalchemy import select

from bot.app.core import Core
from bot.app.settings import Settings
from bot.i18n.text import plain
from bot.services.translation import make_translator
from handlers.manage import spreadsheet_safe
from storage.models import Event, EventText, Rsvp
from tests.fakes import Chatroom, FakeClock, Person, registered
from tests.test_journey import event_by_uid
from tests.test_organisers import organiser
from tests.translate_fake import FakeTranslationServer


async def demo_event_of_new_org(core: Core, uid: str) -> int:
    """Move a demo event to the organisation the test's organiser acts for (number 9)."""
    event = await event_by_uid(core, uid)
    async with core.db.transaction() as s:
        row = await s.get(Event, event.id)
        assert row is not None
        row.organisation_id = 9
    return event.id


async def test_edit_and_cancel_tell_everyone_who_answered(room: Chatroom, core: Core) -> None:
    orga = await organiser(room, locale="de")
    event_id = await demo_event_of_new_org(core, "offener-treff-leipzig")
    going = await registered(room, "going-uk", "uk")
    await going.presses(f"r:{event_id}:g:-")
    maybe = await registered(room, "maybe-ar", "ar")
    await maybe.presses(f"r:{event_id}:m:-")
    nope = await registered(room, "nope-ru", "ru")
    await nope.presses(f"r:{event_id}:n:-")

    await orga.says(f"/editevent {event_id}")
    await orga.taps("Date and time")
    await orga.says("05.12.2026 18:00 bis 20 Uhr")
    orga.sees_n(
        "Saved. I told {n} person who answered.",
        "Saved. I told {n} people who answered.",
        2,
    )
    changed = plain(going.inbox[-1].text)
    assert going.t("✏️ This event has changed ({what}):", what=going.t("date and time")) in changed
    assert "18:00" in changed
    assert maybe.inbox and not nope.inbox, "people who said no are not bothered"

    await orga.says(f"/cancelevent {event_id}")
    await orga.taps("Yes, cancel the event")
    orga.sees_n(
        "The event is cancelled. I told {n} person who answered.",
        "The event is cancelled. I told {n} people who answered.",
        2,
    )
    assert "❌" in plain(maybe.inbox[-1].text)
    async with core.db.transaction() as s:
        event = await s.get(Event, event_id)
    assert event is not None and event.status == "cancelled"

    # Another organisation's event is refused, and the refusal is audited.
    other = await event_by_uid(core, "konferenz-mo-dresden")
    await orga.says(f"/cancelevent {other.id}")
    orga.sees("You do not act for the organisation of this event.")


async def test_translate_attendees_and_report(room: Chatroom, core: Core) -> None:
    orga = await organiser(room, locale="en")
    event_id = await demo_event_of_new_org(core, "workshop-website")
    reader = await registered(room, "reader-fa", "fa")
    await reader.presses(f"r:{event_id}:g:-")

    await orga.says(f"/translate {event_id}")
    await orga.taps("فارسی")
    await orga.says("کارگاه: یک وب‌سایت برای انجمن شما")
    await orga.says("از کجا شروع کنیم؟")
    orga.sees("Saved: the text in {language}.", language="Persian")
    await reader.presses(f"e:{event_id}:-")
    assert "کارگاه: یک وب‌سایت برای انجمن شما" in reader.text
    assert reader.t("ℹ️ This text is in {language}.", language="آلمانی") not in reader.text

    await orga.says(f"/attendees {event_id}")
    attachment = orga.last[0].attachment
    assert attachment is not None and attachment.filename.endswith(".csv")
    rows = list(csv.reader(io.StringIO(attachment.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["participant", "answer", "waitlist_position", "language"]
    assert rows[1][1:2] == ["going"] and rows[1][3] == "fa"
    assert "reader-fa" not in attachment.content.decode(), "no account ids for organisers"

    await orga.says("/report")
    report = orga.last[0].attachment
    assert report is not None
    table = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert table[0][-4:] == [
        "languages",
        "reminders",
        "cant_come_after_reminder",
        "interpreter_requests",
    ]
    assert any(r[1] == str(event_id) and r[4] == "1" and "fa:1" in r[8] for r in table[1:])


async def test_calendar_files(room: Chatroom, core: Core) -> None:
    p = await registered(room, "cal", "de")
    treff = await event_by_uid(core, "offener-treff-leipzig")
    await p.presses(f"e:{treff.id}:-")
    await p.taps("📅 Add to calendar")
    attachment = p.last[0].attachment
    assert attachment is not None and attachment.mime_type == "text/calendar"
    calendar = Calendar.from_ical(attachment.content)
    vevent = next(iter(calendar.walk("VEVENT")))
    assert vevent.decoded("dtstart").astimezone(treff.starts_at.tzinfo) == treff.starts_at
    assert str(vevent.get("summary")).startswith("Offener Treff")

    await p.says("/calendar")
    p.sees("You are not going to any upcoming event yet.")
    await p.presses(f"r:{treff.id}:g:-")
    await p.says("/calendar")
    every = p.last[0].attachment
    assert every is not None and len(list(Calendar.from_ical(every.content).walk("VEVENT"))) == 1


async def test_machine_translation_fills_other_languages_and_says_so(
    room: Chatroom, core: Core, clock: FakeClock
) -> None:
    server = FakeTranslationServer()
    await server.start()
    try:
        core.services.translator = make_translator("libretranslate", server.url, None)
        reader = await registered(room, "reader-uk", "uk")
        await reader.taps("Families")
        orga = await organiser(room, locale="de")
        await orga.says("/newevent")
        await orga.says("Familiencafé")
        await orga.says("Kaffee und Kuchen für Familien")
        await orga.taps("Families")
        await orga.taps("Leipzig")
        await orga.says("12.12.2026 15:00-17:00")
        await orga.says("Stadtteilladen Leipzig")
        await orga.says("-")
        await orga.says("-")
        await orga.taps("✅ Publish")
        async with core.db.transaction() as s:
            texts = {
                t.locale: t
                for t in await s.scalars(select(EventText).where(EventText.event_id == 17))
            }
        assert texts["de"].machine_translated is False
        assert texts["uk"].machine_translated is True and texts["uk"].title == "[uk] Familiencafé"
        notice = plain(reader.inbox[-1].text)
        assert "[uk] Familiencafé" in notice
        assert reader.t("ℹ️ Machine translation: it may contain mistakes.") in notice
    finally:
        core.services.translator = None
        await server.stop()


def test_translation_backend_is_off_by_default() -> None:
    assert Settings().mt_backend is None
    assert make_translator(None, None, None) is None
    assert Settings(mt_backend="libretranslate").mt_backend == "libretranslate"


async def test_editing_to_a_time_that_happens_twice(room: Chatroom, core: Core) -> None:
    orga = await organiser(room, locale="en")
    event_id = await demo_event_of_new_org(core, "offener-treff-leipzig")
    await orga.says(f"/editevent {event_id}")
    await orga.taps("Date and time")
    await orga.says("31.10.2027 02:30")
    orga.sees(
        "On that day the clocks go back, so {time} happens twice. Please add CEST for summer "
        "time or CET for winter time, for example 31.10.2027 02:30 CET.",
        time="02:30",
    )
    await orga.says("31.10.2027 02:30 CET")
    orga.sees_n(
        "Saved. I told {n} person who answered.",
        "Saved. I told {n} people who answered.",
        0,
    )
    async with core.db.transaction() as s:
        event = await s.get(Event, event_id)
    assert event is not None and event.starts_at.isoformat() == "2027-10-31T01:30:00+00:00"


async def test_csv_exports_guard_formulas_and_leave_empty_cells_empty(
    room: Chatroom, core: Core
) -> None:
    orga = await organiser(room, locale="en")
    event_id = await demo_event_of_new_org(core, "workshop-website")
    reader = await registered(room, "reader-de", "de")
    await reader.presses(f"r:{event_id}:g:-")
    await orga.says(f"/attendees {event_id}")
    attachment = orga.last[0].attachment
    assert attachment is not None
    rows = list(csv.reader(io.StringIO(attachment.content.decode("utf-8-sig"))))
    assert rows[1][1:3] == ["going", ""], "an empty cell stays empty"

    cells = ("=1+1", "+49", "-2", "@SUM(A1)", "\tx", "\rx", "", "a-b", 3)
    guarded = [spreadsheet_safe(v) for v in cells]
    assert guarded == ["'=1+1", "'+49", "'-2", "'@SUM(A1)", "'\tx", "'\rx", "", "a-b", 3]


async def test_report_with_the_dates_reversed_is_refused(room: Chatroom) -> None:
    orga = await organiser(room, locale="de")
    await orga.says("/report 31.12.2026 01.01.2026")
    orga.sees(
        "The first date is after the second. Please give the period from its "
        "first to its last day, for example /report 01.01.2026 31.12.2026."
    )
    assert orga.last[0].attachment is None
    await orga.says("/report 01.01.2026 31.12.2026")
    assert orga.last[0].attachment is not None


async def change_seats(orga: Person, event_id: int, seats: str) -> None:
    await orga.says(f"/editevent {event_id}")
    await orga.taps("Seats")
    await orga.says(seats)


async def test_fewer_seats_move_the_last_to_answer_back_to_the_waitlist(
    room: Chatroom, core: Core
) -> None:
    orga = await organiser(room, locale="en")
    event_id = await demo_event_of_new_org(core, "beratung-anerkennung")
    people = [
        await registered(room, f"s{i}", lang) for i, lang in enumerate(["de", "uk", "ar", "fa"])
    ]
    for p in people:
        await p.presses(f"r:{event_id}:g:-")
    first, second, third, waiting = people  # three seats: the fourth waits

    await change_seats(orga, event_id, "1")
    orga.sees_n(
        "Saved. I told {n} person who answered.",
        "Saved. I told {n} people who answered.",
        2,
    )
    assert first.inbox == [] and waiting.inbox == [], "only those who lost their seat are told"
    for person, position in ((second, 1), (third, 2)):
        (notice,) = person.inbox
        assert person.t(
            "⏳ The organiser has reduced the number of seats. You were among the last to take "
            "a seat, so you are now number {position} on the waitlist; I will tell you when a "
            "seat becomes free.",
            position=position,
        ) in plain(notice.text)
    await waiting.presses(f"e:{event_id}:-")
    waiting.sees("Your answer: ⏳ waitlist, position {position}", position=3)

    # More seats again: the first two waiting are offered a seat, and only they are told, once.
    await change_seats(orga, event_id, "3")
    orga.sees_n(
        "Saved. I told {n} person who answered.",
        "Saved. I told {n} people who answered.",
        2,
    )
    assert [len(p.inbox) for p in people] == [0, 2, 2, 0]
    offered = second.t(
        "🎟 A seat became free, and it is offered to you. It is held for you until {until}. "
        "Do you want it?"
    ).split("{until}")[0]
    assert offered in plain(second.inbox[-1].text)
    for person in (second, third):
        person.last = [person.inbox[-1]]
        await person.taps("✅ Yes, I take the seat")
    async with core.db.transaction() as s:
        rows = list(await s.scalars(select(Rsvp).where(Rsvp.event_id == event_id)))
    assert sorted(r.status for r in rows) == ["going", "going", "going", "waitlisted"]

    # No limit at all: whoever waits is offered a seat; nobody moves up without saying yes.
    await change_seats(orga, event_id, "-")
    assert len(waiting.inbox) == 1 and [len(p.inbox) for p in people[:3]] == [0, 2, 2]
    waiting.last = [waiting.inbox[-1]]
    await waiting.taps("✅ Yes, I take the seat")
    async with core.db.transaction() as s:
        statuses = {r.status for r in await s.scalars(select(Rsvp))}
    assert statuses == {"going"}


async def test_the_link_of_an_online_event_reaches_everyone_going(
    room: Chatroom, core: Core
) -> None:
    orga = await organiser(room, locale="en")
    event_id = await demo_event_of_new_org(core, "workshop-website")
    going = await registered(room, "link-uk", "uk")
    await going.presses(f"r:{event_id}:g:-")
    going.sees(
        "💻 Online – the link is not known yet. Everyone going gets it here as soon as it is."
    )
    maybe = await registered(room, "link-ar", "ar")
    await maybe.presses(f"r:{event_id}:m:-")

    await orga.says(f"/editevent {event_id}")
    await orga.taps("Place")
    await orga.says("https://meet.example.org/website-workshop")
    orga.sees_n(
        "Saved. I told {n} person who answered.",
        "Saved. I told {n} people who answered.",
        2,
    )
    (notice,) = going.inbox
    assert going.t("🔗 The link for this online event is here:") in plain(notice.text)
    assert "https://meet.example.org/website-workshop" in plain(notice.text)
    (changed,) = maybe.inbox
    assert maybe.t("✏️ This event has changed ({what}):", what=maybe.t("place")) in plain(
        changed.text
    )


async def test_two_changes_in_the_same_second_are_two_notices(room: Chatroom, core: Core) -> None:
    orga = await organiser(room, locale="en")
    event_id = await demo_event_of_new_org(core, "offener-treff-leipzig")
    going = await registered(room, "going-de", "de")
    await going.presses(f"r:{event_id}:g:-")
    for title in ("Offener Treff im Dezember", "Offener Treff am Mittwoch"):
        await orga.says(f"/editevent {event_id}")
        await orga.taps("Title")
        await orga.says(title)  # the test's clock stands still: both in the same second
        orga.sees_n(
            "Saved. I told {n} person who answered.",
            "Saved. I told {n} people who answered.",
            1,
        )
    assert len(going.inbox) == 2, "each change is told"
