"""Times of events as organisers type them and people read them: the end of a new event, a
moved start that keeps the length, a date taken as next year's, all-day events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot import i18n
from bot.app.core import Core
from bot.i18n import I18n, format_date, format_when
from storage.models import Event
from tests.conftest import LOCALES
from tests.fakes import Chatroom, FakeClock, Person
from tests.test_import_events import imported, organisation_id
from tests.test_manage import demo_event_of_new_org
from tests.test_organisers import organiser

START_QUESTION = (
    "When does it start? For example 05.12.2026 18:00, or 18.11. 12-18 Uhr for a time range."
)
END_QUESTION = "When does it end? A time like 20:00, a date and time, or - if it is open."
BERLIN = ZoneInfo("Europe/Berlin")
PLACE_QUESTION = "Where does it take place? An address, or an online link starting with https://"


async def up_to_the_start(orga: Person) -> None:
    await orga.says("/newevent")
    await orga.says("Sprachcafé")
    await orga.says("-")
    await orga.taps("Networking and open meetings")
    await orga.taps("Leipzig")
    orga.sees(START_QUESTION)


async def stored(core: Core, event_id: int) -> Event:
    async with core.db.transaction() as s:
        event = await s.scalar(select(Event).where(Event.id == event_id))
    assert event is not None
    return event


async def test_the_end_of_a_new_event_takes_the_zone_the_bot_suggests(
    room: Chatroom, core: Core
) -> None:
    orga = await organiser(room, locale="de")
    for typed, utc_end in (
        ("31.10.2027 02:30 CET", datetime(2027, 10, 31, 1, 30, tzinfo=UTC)),
        ("31.10.2027 02:30 MEZ", datetime(2027, 10, 31, 1, 30, tzinfo=UTC)),
        ("02:30 MESZ", datetime(2027, 10, 31, 0, 30, tzinfo=UTC)),
    ):
        await up_to_the_start(orga)
        await orga.says("31.10.2027 01:00")
        orga.sees(END_QUESTION)
        await orga.says(typed)
        orga.sees(PLACE_QUESTION)
        await orga.says("Haus der Demokratie")
        await orga.says("-")
        await orga.says("-")
        await orga.taps("✅ Publish")
        event = await stored(core, max(await _event_ids(core)))
        assert event.ends_at == utc_end, typed


async def test_an_end_in_the_spring_gap_is_explained(room: Chatroom) -> None:
    orga = await organiser(room, locale="uk")
    await up_to_the_start(orga)
    await orga.says("28.03.2027 01:00")
    await orga.says("02:30")
    orga.sees(
        "On that day the clocks go forward: {time} does not exist. Please choose another "
        "time, for example an hour later.",
        time="02:30",
    )
    await orga.says("03:30")
    orga.sees(PLACE_QUESTION)


async def _event_ids(core: Core) -> list[int]:
    async with core.db.transaction() as s:
        return list(await s.scalars(select(Event.id)))


async def test_moving_the_start_keeps_the_length(room: Chatroom, core: Core) -> None:
    orga = await organiser(room, locale="en")
    event_id = await demo_event_of_new_org(core, "offener-treff-leipzig")
    length = timedelta(hours=3, minutes=30)
    async with core.db.transaction() as s:
        row = await s.get(Event, event_id)
        assert row is not None
        row.ends_at = row.starts_at + length
    await orga.says(f"/editevent {event_id}")
    await orga.taps("Date and time")
    await orga.says("05.12.2026 17:00")
    orga.sees_n(
        "Saved. I told {n} person who answered.",
        "Saved. I told {n} people who answered.",
        0,
    )
    after = await stored(core, event_id)
    assert after.starts_at == datetime(2026, 12, 5, 16, tzinfo=UTC)
    assert after.ends_at == after.starts_at + length

    # An event without an end keeps having none.
    async with core.db.transaction() as s:
        row = await s.get(Event, event_id)
        assert row is not None
        row.ends_at = None
    await orga.says(f"/editevent {event_id}")
    await orga.taps("Date and time")
    await orga.says("06.12.2026 17:00")
    assert (await stored(core, event_id)).ends_at is None


async def test_a_date_without_a_year_taken_as_next_year_is_said(
    room: Chatroom, core: Core, clock: FakeClock
) -> None:
    clock.now = datetime(2026, 12, 1, 9, tzinfo=UTC)
    orga = await organiser(room, locale="de")
    await up_to_the_start(orga)
    await orga.says("18.11. 18:00")
    with room.speak("de"):
        day = format_date(datetime(2027, 11, 18, 17, tzinfo=UTC), room.core.settings.tz)
    orga.sees("ℹ️ That is {date}, next year.", date=day)
    orga.sees(END_QUESTION)
    await orga.says("20:00")
    assert orga.t("ℹ️ That is {date}, next year.", date=day) not in orga.text, "said once"
    await orga.says("/cancel")

    await up_to_the_start(orga)
    await orga.says("18.11. 12-18 Uhr")
    orga.sees("ℹ️ That is {date}, next year.", date=day)
    orga.sees(PLACE_QUESTION)
    await orga.says("/cancel")

    await up_to_the_start(orga)
    await orga.says("18.12. 18:00")  # this year still: nothing to say
    assert "ℹ️" not in orga.text
    await orga.says("/cancel")

    event_id = await demo_event_of_new_org(core, "offener-treff-leipzig")
    await orga.says(f"/editevent {event_id}")
    await orga.taps("Date and time")
    await orga.says("18.11. 18:00")
    orga.sees_n(
        "Saved. I told {n} person who answered.",
        "Saved. I told {n} people who answered.",
        0,
    )
    orga.sees("ℹ️ That is {date}, next year.", date=day)
    await orga.says(f"/editevent {event_id}")
    await orga.taps("Date and time")
    await orga.says("18.11.2027 19:00")
    assert "ℹ️" not in orga.text, "a year typed is not questioned"


def all_day_calendar(start: str, end: str) -> bytes:
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//test//EN",
        "BEGIN:VEVENT",
        "UID:all-day-1",
        "DTSTAMP:20261101T100000Z",
        "SUMMARY:Jahresabschluss",
        f"DTSTART;VALUE=DATE:{start}",
        f"DTEND;VALUE=DATE:{end}",
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
    return "\r\n".join(lines).encode()


async def test_a_one_day_all_day_event_is_shown_as_one_day(room: Chatroom, core: Core) -> None:
    org = await organisation_id(core)
    await core.services.imports.import_calendar(all_day_calendar("20261230", "20261231"), org)
    (event,) = [e for e in await imported(core) if e.uid == "all-day-1"]
    reader = room.person("reader", "de")
    await reader.presses(f"e:{event.id}:-")
    with room.speak("de"):
        assert (
            format_when(event.starts_at, event.ends_at, BERLIN) == "Mi., 30. Dez. 2026, ganztägig"
        )
    assert "Mi., 30. Dez. 2026, ganztägig" in reader.text
    assert "31. Dez" not in reader.text and "00:00" not in reader.text


def test_all_day_events_in_every_language() -> None:
    catalogs = I18n(LOCALES)
    start = datetime(2026, 12, 29, 23, tzinfo=UTC)  # midnight in Berlin
    with i18n.use(catalogs.lang("en")):
        one_day = format_when(start, start + timedelta(days=1), BERLIN)
        assert one_day == "Wed, Dec 30, 2026, all day"
        two_days = format_when(start, start + timedelta(days=2), BERLIN)
        assert "30" in two_days and "31" in two_days and "Jan" not in two_days
    for code in catalogs.available:
        with i18n.use(catalogs.lang(code)):
            one = format_when(start, start + timedelta(days=1), BERLIN)
            assert "00:00" not in one and "31" not in one.replace("2026", ""), code


async def test_a_time_range_ending_in_the_hour_that_happens_twice_takes_the_typed_zone(
    room: Chatroom, core: Core
) -> None:
    orga = await organiser(room, locale="de")
    for typed, utc_end in (
        ("31.10.2027 01:00-02:30 CET", datetime(2027, 10, 31, 1, 30, tzinfo=UTC)),
        ("31.10.2027 01:00-02:30 MESZ", datetime(2027, 10, 31, 0, 30, tzinfo=UTC)),
    ):
        await up_to_the_start(orga)
        await orga.says(typed)
        orga.sees(PLACE_QUESTION)
        await orga.says("Haus der Demokratie")
        await orga.says("-")
        await orga.says("-")
        await orga.taps("✅ Publish")
        event = await stored(core, max(await _event_ids(core)))
        assert event.starts_at == datetime(2027, 10, 30, 23, 0, tzinfo=UTC), typed
        assert event.ends_at == utc_end, typed
