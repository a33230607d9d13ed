"""Reminders on the bot's clock: at the right instants around the clock changes and in each
person's own time zone, after edits, cancellations and changed settings; the buttons under a
reminder; late work after downtime."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import select

from bot.app.alarms import Alarms
from bot.app.core import Core
from bot.app.settings import Settings
from bot.i18n.text import plain
from storage.models import Event, Identity, Reminder, Rsvp
from storage.repositories import CatalogRepository
from tests.fakes import Chatroom, FakeClock, Person, registered
from tests.test_organisers import organiser

REMINDER_START = "⏰ Reminder: {title} starts {when}."


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


async def publish(
    core: Core,
    starts_at: datetime,
    *,
    title: str = "Sprachcafé",
    capacity: int | None = None,
    place: str | None = "Haus der Kulturen, Leipzig",
    category: str = "networking",
) -> int:
    async with core.db.transaction() as s:
        catalog = CatalogRepository(s)
        category_id = await catalog.category_id(category)
        region_id = await catalog.region_id("leipzig")
    assert category_id is not None and region_id is not None
    event_id, _told = await core.services.events.publish(
        organisation_id=1,
        category_id=category_id,
        region_id=region_id,
        locale="de",
        title=title,
        description="Offener Treff für alle.",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        place=place,
        online_url=None,
        capacity=capacity,
        registration_deadline=None,
        timezone="Europe/Berlin",
    )
    return event_id


async def due_work(core: Core) -> None:
    """What the alarms run when they go off, then one delivery round."""
    await core.services.reminders.run_due()
    await core.services.seats.expire_due()
    await core.services.digests.run_due()
    await core.delivery.run_once()


async def at(core: Core, clock: FakeClock, moment: datetime) -> None:
    clock.now = moment
    await due_work(core)


def reminders_in(person: Person) -> list[str]:
    opening = person.t(REMINDER_START).split("{")[0]
    return [plain(r.text) for r in person.inbox if plain(r.text).startswith(opening)]


async def planned(core: Core, event_id: int) -> dict[int, tuple[datetime, str]]:
    async with core.db.transaction() as s:
        rows = await s.scalars(select(Reminder).where(Reminder.event_id == event_id))
        return {r.minutes_before: (r.due_at, r.status) for r in rows}


async def test_reminders_before_the_spring_change_come_by_the_wall_clock(
    room: Chatroom, core: Core, clock: FakeClock
) -> None:
    clock.now = utc(2026, 3, 20, 9)
    # 29 March 2026, 10:00 in Berlin is 08:00 UTC: the clocks went forward at 02:00 that night.
    event_id = await publish(core, utc(2026, 3, 29, 8))
    plans = await planned(core, event_id)
    assert {minutes: due for minutes, (due, _s) in plans.items()} == {
        10080: utc(2026, 3, 22, 9),  # 10:00 CET a week before
        1440: utc(2026, 3, 28, 9),  # 10:00 CET the day before: 23 hours, not 24
        120: utc(2026, 3, 29, 6),  # two hours before, exactly
        30: utc(2026, 3, 29, 7, 30),
    }
    anna = await registered(room, "anna", "de")
    await anna.presses(f"r:{event_id}:g:-")

    await at(core, clock, utc(2026, 3, 28, 8, 59))
    assert reminders_in(anna) == []
    await at(core, clock, utc(2026, 3, 28, 9))
    (day_before,) = reminders_in(anna)
    assert anna.tn("in {n} day", "in {n} days", 1) in day_before
    assert "10:00" in day_before, "the time in Berlin"
    await at(core, clock, utc(2026, 3, 29, 5, 59))
    assert len(reminders_in(anna)) == 1
    await at(core, clock, utc(2026, 3, 29, 6))
    assert len(reminders_in(anna)) == 2
    assert anna.tn("in {n} hour", "in {n} hours", 2) in reminders_in(anna)[1]
    await at(core, clock, utc(2026, 3, 29, 7, 45))
    assert len(reminders_in(anna)) == 2, "30 minutes before is not one of anna's choices"


async def test_an_event_at_a_time_that_happens_twice_is_reminded_once(
    room: Chatroom, core: Core, clock: FakeClock
) -> None:
    clock.now = utc(2026, 10, 20, 9)
    # 25 October 2026, 02:30 happens twice in Berlin; the organiser meant the second (CET).
    event_id = await publish(core, utc(2026, 10, 25, 1, 30))
    night_owl = await registered(room, "owl", "uk")
    await night_owl.presses(f"r:{event_id}:g:-")
    # From the day before through the whole night of the change, five minutes at a time.
    arrived: list[datetime] = []
    moment = utc(2026, 10, 24, 0)
    while moment <= utc(2026, 10, 25, 1, 30):
        await at(core, clock, moment)
        arrived += [moment] * (len(reminders_in(night_owl)) - len(arrived))
        moment += timedelta(minutes=5)
    texts = reminders_in(night_owl)
    # The day before at 02:30 CEST is in the quiet hours: it comes when they end, 08:00 CEST.
    # Two hours before is 01:30 CEST, quiet too, but they end after the event: it comes now.
    assert arrived == [utc(2026, 10, 24, 6), utc(2026, 10, 24, 23, 30)], texts
    assert night_owl.tn("in {n} hour", "in {n} hours", 2) in texts[1]
    plans = await planned(core, event_id)
    assert plans[1440] == (utc(2026, 10, 24, 0, 30), "sent"), "02:30 CEST the day before"
    assert plans[120] == (utc(2026, 10, 24, 23, 30), "sent")


async def test_each_person_is_reminded_in_their_own_time_zone_and_quiet_hours(
    room: Chatroom, core: Core, clock: FakeClock
) -> None:
    # Thursday 26 November, 09:00 in Berlin (08:00 UTC); two hours before is 07:00 in Berlin,
    # inside the default quiet hours there, but 09:30 in Tehran.
    event_id = await publish(core, utc(2026, 11, 26, 8))
    berlin = await registered(room, "berlin", "de")
    tehran = await registered(room, "tehran", "fa")
    await tehran.says("/settings")
    await tehran.taps("🌍 Time zone")
    await tehran.presses("st:z:5")  # Asia/Tehran
    tehran.sees("🌍 Time zone: {value}", value="تهران")
    for person in (berlin, tehran):
        await person.presses(f"r:{event_id}:g:-")

    await at(core, clock, utc(2026, 11, 25, 8))
    assert len(reminders_in(tehran)) == len(reminders_in(berlin)) == 1
    await at(core, clock, utc(2026, 11, 26, 6))
    assert len(reminders_in(tehran)) == 2, "the day before, and now"
    assert "11:30" in reminders_in(tehran)[-1], "the event's time in Tehran"
    assert len(reminders_in(berlin)) == 1, "only the day before: 07:00 is quiet in Berlin"
    await at(core, clock, utc(2026, 11, 26, 6, 59))
    assert len(reminders_in(berlin)) == 1
    await at(core, clock, utc(2026, 11, 26, 7))
    assert len(reminders_in(berlin)) == 2, "when the quiet hours end, before the event"
    assert "09:00" in reminders_in(berlin)[-1]


async def test_an_edited_event_is_reminded_at_its_new_time_and_a_cancelled_one_not_at_all(
    room: Chatroom, core: Core, clock: FakeClock
) -> None:
    moved = await publish(core, utc(2026, 11, 30, 17), title="Nähcafé")
    called_off = await publish(core, utc(2026, 11, 30, 17), title="Chorprobe")
    ali = await registered(room, "ali", "ar")
    for event_id in (moved, called_off):
        await ali.presses(f"r:{event_id}:g:-")
    await core.services.events.change(moved, starts_at=utc(2026, 12, 1, 17))
    await core.services.events.cancel(called_off)
    assert (await planned(core, called_off))[1440][1] == "cancelled"
    assert (await planned(core, moved))[1440] == (utc(2026, 11, 30, 17), "planned")

    await at(core, clock, utc(2026, 11, 29, 17))  # the old day before: nothing
    assert reminders_in(ali) == []
    await at(core, clock, utc(2026, 11, 30, 17))
    (reminder,) = reminders_in(ali)
    assert "Nähcafé" in reminder and "Chorprobe" not in reminder
    await at(core, clock, utc(2026, 12, 1, 15))
    assert len(reminders_in(ali)) == 2
    assert all("Chorprobe" not in text for text in reminders_in(ali))


async def test_settings_changed_after_planning_count_when_the_reminder_is_due(
    room: Chatroom, core: Core, clock: FakeClock
) -> None:
    event_id = await publish(core, utc(2026, 11, 28, 14))
    keeps, changes = await registered(room, "keeps", "ru"), await registered(room, "changes", "de")
    for person in (keeps, changes):
        await person.presses(f"r:{event_id}:m:-")
    await changes.says("/settings")
    changes.sees("⏰ Reminders: {value}", value="1 Tag vorher und 2 Stunden vorher")
    await changes.taps("⏰ Reminders")
    await changes.taps(changes.tn("{n} day before", "{n} days before", 1))
    await changes.taps(changes.tn("{n} minute before", "{n} minutes before", 30))
    await changes.taps("« Settings")
    changes.sees("⏰ Reminders: {value}", value="2 Stunden vorher und 30 Minuten vorher")

    await at(core, clock, utc(2026, 11, 27, 14))
    assert (len(reminders_in(keeps)), len(reminders_in(changes))) == (1, 0)
    await at(core, clock, utc(2026, 11, 28, 12))
    assert (len(reminders_in(keeps)), len(reminders_in(changes))) == (2, 1)
    await at(core, clock, utc(2026, 11, 28, 13, 30))
    assert (len(reminders_in(keeps)), len(reminders_in(changes))) == (2, 2)

    await keeps.says("/settings")
    await keeps.taps("⏰ Reminders")
    await keeps.taps("No reminders")
    await keeps.taps("« Settings")
    keeps.sees("⏰ Reminders: {value}", value=keeps.t("off"))


async def test_cant_come_frees_the_seat_and_the_organiser_sees_the_counts(
    room: Chatroom, core: Core, clock: FakeClock
) -> None:
    orga = await organiser(room, locale="de")
    event_id = await publish(core, utc(2026, 11, 27, 17), capacity=1, title="Bewerbungstraining")
    async with core.db.transaction() as s:
        row = await s.get(Event, event_id)
        assert row is not None
        row.organisation_id = 9
    going, waiting, maybe = (
        await registered(room, "going", "uk"),
        await registered(room, "waiting", "fa"),
        await registered(room, "maybe", "ar"),
    )
    for person, answer in ((going, "g"), (waiting, "g"), (maybe, "m")):
        await person.presses(f"r:{event_id}:{answer}:-")

    await at(core, clock, utc(2026, 11, 26, 17))
    waiting_text = reminders_in(waiting)[0]
    assert (
        waiting.t(
            "⏳ You are number {position} on the waitlist. I will tell you at once if a seat "
            "becomes free.",
            position=1,
        )
        in waiting_text
    )
    going.last = [going.inbox[-1]]
    assert [b.label for b in going.buttons()] == [
        going.t("👍 Still going"),
        going.t("❌ Can't come"),
    ]
    maybe.last = [maybe.inbox[-1]]
    assert maybe.t("✅ I'm going") in [b.label for b in maybe.buttons()]

    replies = await going.taps("❌ Can't come")
    assert replies[0].replace, "the reminder's message shows the choice"
    going.sees("❌ Thank you for telling us. Your seat goes to the next person waiting, if any.")
    assert going.buttons() == []
    await going.presses(going.inbox[-1].buttons[0][1].data)  # a second tap counts once
    assert await answer_of(core, "going", event_id) == "not_going"
    offer = waiting.inbox[-1]
    assert waiting.t("✅ Yes, I take the seat") in [b.label for b in offer.all_buttons()]

    await orga.says(f"/attendees {event_id}")
    orga.sees_n(
        "⏰ {n} reminder went out; “can't come” after a reminder: {cant}.",
        "⏰ {n} reminders went out; “can't come” after a reminder: {cant}.",
        3,
        cant=1,
    )
    offered = orga.tn(
        "🎟 {n} seat is offered to the next person waiting, until {until}.",
        "🎟 {n} seats are offered to the next people waiting, the first until {until}.",
        1,
        until="{until}",
    )
    assert offered.split("{until}")[0] in orga.text
    await orga.says("/report")
    report = orga.last[0].attachment
    assert report is not None
    table = list(csv.DictReader(io.StringIO(report.content.decode("utf-8-sig"))))
    (reported,) = [r for r in table if r["event"] == str(event_id)]
    assert (reported["reminders"], reported["cant_come_after_reminder"]) == ("3", "1")


async def answer_of(core: Core, name: str, event_id: int) -> str | None:
    async with core.db.transaction() as s:
        return await s.scalar(
            select(Rsvp.status)
            .join(Identity, Identity.user_id == Rsvp.user_id)
            .where(Rsvp.event_id == event_id, Identity.platform_user_id == name)
        )


async def test_late_after_downtime_is_sent_while_meaningful_else_counted_as_skipped(
    room: Chatroom, core: Core, clock: FakeClock
) -> None:
    soon = await publish(core, utc(2026, 11, 24, 12), title="Elterncafé")
    later = await publish(core, utc(2026, 11, 25, 12), title="Kochabend")
    sara = await registered(room, "sara", "en")
    for event_id in (soon, later):
        await sara.presses(f"r:{event_id}:g:-")
    # Down from before the first reminder was due until after "soon" began.
    await at(core, clock, utc(2026, 11, 24, 12, 10))
    assert all("Elterncafé" not in text for text in reminders_in(sara))
    soon_plans = await planned(core, soon)
    assert {soon_plans[1440][1], soon_plans[120][1], soon_plans[30][1]} == {"skipped_late"}
    async with core.db.transaction() as s:
        late = await s.scalar(
            select(Reminder.skipped_late).where(
                Reminder.event_id == soon, Reminder.minutes_before == 120
            )
        )
    assert late == 1, "the person it would have reached is counted"
    # "later": its day-before reminder is due since 10 minutes, the event is tomorrow: sent.
    (text,) = reminders_in(sara)
    assert "Kochabend" in text
    assert sara.tn("in {n} day", "in {n} days", 1) in text


async def test_a_long_downtime_sends_the_nearest_reminder_only(
    room: Chatroom, core: Core, clock: FakeClock
) -> None:
    event_id = await publish(core, utc(2026, 11, 30, 12))
    ivan = await registered(room, "ivan", "ru")
    await ivan.presses(f"r:{event_id}:g:-")
    await at(core, clock, utc(2026, 11, 30, 10, 30))  # one day and two hours before are due
    (text,) = reminders_in(ivan)
    assert ivan.tn("in {n} hour", "in {n} hours", 2) in text
    plans = await planned(core, event_id)
    assert (plans[1440][1], plans[120][1]) == ("skipped_late", "sent")


async def test_reminders_shows_what_is_planned(room: Chatroom, core: Core) -> None:
    event_id = await publish(core, utc(2026, 11, 30, 12), title="Sprachcafé am Montag")
    lena = await registered(room, "lena", "de")
    await lena.says("/reminders")
    lena.sees(
        "⏰ No reminders are planned for you. You get them for events you answered “Going” "
        "or “Maybe”, or whose waitlist you are on."
    )
    await lena.presses(f"r:{event_id}:g:-")
    await lena.says("/reminders")
    lena.sees("⏰ Your next reminders:")
    assert lena.text.count("Sprachcafé am Montag") == 2
    assert lena.tn("{n} day before", "{n} days before", 1) in lena.text


async def test_the_alarms_run_due_work_and_keep_one_job_per_kind(
    room: Chatroom, core: Core, clock: FakeClock
) -> None:
    event_id = await publish(core, utc(2026, 11, 24, 18))
    mia = await registered(room, "mia", "uk")
    await mia.presses(f"r:{event_id}:g:-")
    clock.now = utc(2026, 11, 23, 18)  # the day-before reminder is due now
    delivered = asyncio.Event()

    async def deliver() -> None:
        await core.delivery.run_once()
        delivered.set()

    alarms = Alarms(core.services, AsyncIOScheduler(timezone="UTC"), deliver)
    alarms.scheduler.start()
    try:
        alarms.start()
        assert alarms.job_ids() == ["codes", "digests", "interpreting", "offers", "reminders"]

        async def reminded() -> None:
            while not reminders_in(mia):
                await delivered.wait()
                delivered.clear()

        await asyncio.wait_for(reminded(), 10)
        assert len(reminders_in(mia)) == 1
        for _ in range(5):
            alarms.poke()
            await asyncio.sleep(0.05)
        assert alarms.job_ids() == ["codes", "digests", "interpreting", "offers", "reminders"], (
            "re-aimed"
        )
        # Aimed at the table's next due instant, at most a minute ahead (this test's planned
        # reminders lie in the real clock's past: a run that finds nothing waits a little).
        reminders = alarms.scheduler.get_job("reminders")
        assert reminders is not None
        wait = reminders.next_run_time - datetime.now(UTC)
        assert timedelta(0) < wait <= timedelta(seconds=61)
    finally:
        await alarms.stop()
        alarms.scheduler.shutdown(wait=False)


async def test_an_event_moved_closer_is_reminded_at_once_not_silently_skipped(
    room: Chatroom, core: Core, clock: FakeClock
) -> None:
    event_id = await publish(core, utc(2026, 11, 28, 11), title="Stadtführung")  # Sat 12:00
    yusuf = await registered(room, "yusuf", "ar")
    await yusuf.presses(f"r:{event_id}:g:-")
    await at(core, clock, utc(2026, 11, 27, 10))  # Friday 11:00 in Berlin
    assert reminders_in(yusuf) == []
    # Moved to Saturday 10:00: the day before was Friday 10:00, already past. It comes now.
    await core.services.events.change(event_id, starts_at=utc(2026, 11, 28, 9))
    await due_work(core)
    (text,) = reminders_in(yusuf)
    assert "Stadtführung" in text
    assert (await planned(core, event_id))[1440] == (utc(2026, 11, 27, 10), "sent")


async def test_the_operators_quiet_hours_and_zone_are_on_offer(
    settings: Settings, clock: FakeClock
) -> None:
    own = settings.model_copy(update={"quiet_hours": (20, 6), "timezone": "Europe/Vienna"})
    core = await Core.create(own, clock=clock)
    try:
        room = Chatroom(core)
        eva = await registered(room, "eva", "de")
        await eva.says("/settings")
        await eva.taps("🌙 Quiet hours")
        assert "✅ 20:00–06:00" in [
            plain(b.label).replace("\u2068", "").replace("\u2069", "") for b in eva.buttons()
        ]
        await eva.taps("« Settings")
        await eva.taps("🌍 Time zone")
        await eva.presses("st:z:1")  # Berlin, after the bot's own zone
        eva.sees("🌍 Time zone: {value}", value="Berlin")
        await eva.taps("🌍 Time zone")
        await eva.presses("st:z:0")  # and back to the bot's own
        eva.sees("🌍 Time zone: {value}", value="Wien")
    finally:
        await core.close()


async def test_a_reminder_run_tells_each_person_their_own_answer_place_and_offer(
    room: Chatroom, core: Core, clock: FakeClock
) -> None:
    """The rows of a run are rendered from one read for all of them: still each person's
    reminder says their own answer, their own place on the waitlist and their own offer."""
    event_id = await publish(core, utc(2026, 11, 27, 17), capacity=1, title="Nähcafé")
    names = ("going", "first", "second", "maybe")
    going, first, second, maybe = [await registered(room, name, "en") for name in names]
    for person, answer in ((going, "g"), (first, "g"), (second, "g"), (maybe, "m")):
        await person.presses(f"r:{event_id}:{answer}:-")
    place = (
        "⏳ You are number {position} on the waitlist. I will tell you at once if a seat "
        "becomes free."
    )

    await at(core, clock, utc(2026, 11, 26, 17))
    (text,) = reminders_in(going)
    assert going.t("You said you are going.") in text
    (text,) = reminders_in(first)
    assert first.t(place, position=1) in text
    (text,) = reminders_in(second)
    assert second.t(place, position=2) in text
    (text,) = reminders_in(maybe)
    assert maybe.t("You said maybe. Will you come?") in text

    clock.now = utc(2026, 11, 27, 14, 50)
    await going.presses(f"r:{event_id}:n:-")  # the seat is offered to the first in line
    await at(core, clock, utc(2026, 11, 27, 15))
    first_text, second_text = reminders_in(first)[-1], reminders_in(second)[-1]
    assert len(reminders_in(first)) == len(reminders_in(second)) == 2
    assert "🎟 A seat became free, and it is offered to you." in first_text
    assert second.t(place, position=2) in second_text
    assert len(reminders_in(going)) == 1, "not going any more: no second reminder"
