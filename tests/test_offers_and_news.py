"""Seat offers down a waitlist, quiet hours, daily and weekly digests, and many new events at
once as one message — on the bot's clock."""

from __future__ import annotations

from datetime import datetime, timedelta

from babel.dates import get_day_names
from sqlalchemy import select

from bot.app.core import Core
from bot.i18n.text import plain
from bot.services.rsvp import Answer
from bot.services.seats import OfferGone
from storage.models import Identity, Offer, OutboxMessage, User
from tests.fakes import Chatroom, FakeClock, Person, registered
from tests.test_import_events import organisation_id
from tests.test_reminders import answer_of, at, due_work, publish, utc

OFFERED = (
    "🎟 A seat became free, and it is offered to you. It is held for you until {until}. "
    "Do you want it?"
)
EXPIRED = (
    "⌛ You did not answer in time, so the seat offered to you went to the next person "
    "waiting. If you still want to come, tap “Going” to join the waitlist again."
)


def got(person: Person, message: str) -> list[str]:
    start = person.t(message).split("{")[0]
    return [plain(r.text) for r in person.inbox if start in plain(r.text)]


async def offers(core: Core, event_id: int) -> list[tuple[int, str, datetime]]:
    async with core.db.transaction() as s:
        rows = await s.scalars(select(Offer).where(Offer.event_id == event_id).order_by(Offer.id))
        return [(o.user_id, o.status, o.expires_at) for o in rows]


async def test_a_free_seat_is_offered_down_a_waitlist_of_three(
    room: Chatroom, core: Core, clock: FakeClock
) -> None:
    clock.now = utc(2026, 11, 23, 7)  # 08:00 in Berlin: the whole day is outside quiet hours
    event_id = await publish(core, utc(2026, 12, 4, 17), capacity=1, title="Rechtsberatung")
    holder = await registered(room, "holder", "de")
    first, second, third = [
        await registered(room, name, code) for name, code in (("b", "ar"), ("c", "fa"), ("d", "uk"))
    ]
    for person in (holder, first, second, third):
        await person.presses(f"r:{event_id}:g:-")
    await holder.presses(f"r:{event_id}:n:-")

    # The first waiting is offered the seat for 12 hours; nobody moves up by themselves.
    assert len(got(first, OFFERED)) == 1
    assert [(status, until) for _u, status, until in await offers(core, event_id)] == [
        ("open", utc(2026, 11, 23, 19))
    ]
    assert await answer_of(core, "b", event_id) == "waitlisted"
    await first.presses(f"e:{event_id}:-")  # the card says so too, and "Going" takes it
    offered_here = "🎟 A seat is offered to you until {until}: tap “Going” to take it."
    assert first.t(offered_here).split("{until}")[0] in first.text
    # Someone new cannot take the held seat.
    late = await registered(room, "late", "en")
    await late.presses(f"r:{event_id}:g:-")
    assert await answer_of(core, "late", event_id) == "waitlisted"

    # Unanswered, it expires and passes on; the first is told, and may queue again.
    await at(core, clock, utc(2026, 11, 23, 18, 59))
    assert got(second, OFFERED) == []
    await at(core, clock, utc(2026, 11, 23, 19))
    assert len(got(first, EXPIRED)) == 1
    assert await answer_of(core, "b", event_id) == "not_going"
    assert len(got(second, OFFERED)) == 1
    first.last = [first.inbox[0]]
    await first.taps("✅ Yes, I take the seat")  # the expired offer's button
    first.sees("This offer has expired, and the seat went to the next person waiting.")

    # The second declines: it passes on at once.
    second.last = [second.inbox[-1]]
    await second.taps("✖ No, give it to someone else")
    second.sees("Thank you. The seat goes to the next person waiting.")
    assert await answer_of(core, "c", event_id) == "not_going"
    (offer_third,) = got(third, OFFERED)
    assert "Rechtsberatung" in offer_third

    # The third accepts; pressing again is answered without a change.
    third.last = [third.inbox[-1]]
    await third.taps("✅ Yes, I take the seat")
    third.sees("🎉 The seat is yours. You are registered as going – see you there!")
    await third.presses(third.inbox[-1].buttons[0][0].data)
    third.sees("You have already taken this seat.")
    assert await answer_of(core, "d", event_id) == "going"
    assert [status for _u, status, _x in await offers(core, event_id)] == [
        "expired",
        "declined",
        "accepted",
    ]
    assert await answer_of(core, "late", event_id) == "waitlisted"


async def test_an_offer_is_shorter_close_to_the_event_and_never_past_the_deadline(
    room: Chatroom, core: Core, clock: FakeClock
) -> None:
    soon = await publish(core, utc(2026, 11, 23, 13), capacity=1, title="Heute Abend")
    a, b = await registered(room, "a", "de"), await registered(room, "b", "de")
    for person in (a, b):
        await person.presses(f"r:{soon}:g:-")
    await a.presses(f"r:{soon}:n:-")
    # Four hours before the start: valid for half of them.
    assert [until for _u, _s, until in await offers(core, soon)] == [utc(2026, 11, 23, 11)]

    closing = await publish(core, utc(2026, 11, 30, 17), capacity=1, title="Mit Anmeldeschluss")
    await core.services.events.change(closing, registration_deadline=utc(2026, 11, 23, 15))
    c = await registered(room, "c", "de")
    for person in (a, b, c):
        await person.presses(f"r:{closing}:g:-")
    await a.presses(f"r:{closing}:n:-")
    assert [until for _u, _s, until in await offers(core, closing)] == [utc(2026, 11, 23, 15)]
    # After the deadline, the person still waiting is offered the seat that was let go.
    await at(core, clock, utc(2026, 11, 23, 15))
    assert [status for _u, status, _x in await offers(core, closing)] == ["expired", "open"]
    assert (await offers(core, closing))[1][2] == utc(2026, 11, 24, 3), "12 hours"
    assert len(got(c, OFFERED)) == 1


async def test_quiet_hours_hold_news_until_morning_but_not_an_offer_about_to_expire(
    room: Chatroom, core: Core, clock: FakeClock
) -> None:
    reader = await registered(room, "reader", "ru")
    await reader.taps("Networking and open meetings")  # the topics follow the consent
    clock.now = utc(2026, 11, 23, 22)  # 23:00 in Berlin
    await publish(core, utc(2026, 12, 2, 17), title="Neujahrsempfang")
    await due_work(core)
    news = "🆕 New event from {organiser}:"
    assert got(reader, news) == []
    await at(core, clock, utc(2026, 11, 24, 6, 59))
    assert got(reader, news) == []
    await at(core, clock, utc(2026, 11, 24, 7))  # 08:00 in Berlin
    assert len(got(reader, news)) == 1

    # At night a seat of an event early tomorrow frees up: the offer expires before the
    # quiet hours end, so it comes at once.
    clock.now = utc(2026, 11, 24, 22)
    early = await publish(core, utc(2026, 11, 25, 5), capacity=1, title="Frühstück")
    holder = await registered(room, "holder", "de")
    await holder.presses(f"r:{early}:g:-")
    await reader.presses(f"r:{early}:g:-")
    await holder.presses(f"r:{early}:n:-")
    assert len(got(reader, OFFERED)) == 1

    # Cancelled at night: for the breakfast at 06:00 the news comes at once; for an evening
    # event it waits for the morning.
    evening = await publish(core, utc(2026, 11, 25, 17), title="Abendessen")
    await reader.presses(f"r:{evening}:g:-")
    for event_id in (early, evening):
        await core.services.events.cancel(event_id)
    await due_work(core)
    gone = "❌ Cancelled: “{title}” ({organiser}) does not take place."
    cancelled = got(reader, gone)
    assert len(cancelled) == 1 and "Frühstück" in cancelled[0]
    await at(core, clock, utc(2026, 11, 25, 7))
    assert len(got(reader, gone)) == 2


async def test_digests_collect_new_events_for_the_hour_and_day_people_chose(
    room: Chatroom, core: Core, clock: FakeClock
) -> None:
    daily, weekly = await registered(room, "daily", "de"), await registered(room, "weekly", "ar")
    for person in (daily, weekly):
        await person.says("/topics")
        await person.taps("Networking and open meetings")
        await person.says("/settings")
        await person.taps("🆕 New events")
    await daily.taps("Daily digest")
    await weekly.taps("Weekly digest")
    await weekly.taps("📆 On {day}", day=weekly_day(weekly, 0))
    await weekly.presses("st:w:2")  # Wednesday
    await weekly.presses("st:h")  # a forged press: an hour is missing
    await weekly.presses("st:h:8")  # 08:00 is one of the hours on offer
    await daily.says("/settings")
    at_six = daily.t("a daily digest at {hour}").format(hour="18:00")
    daily.sees("🆕 New events: {value}", value=at_six)

    first = await publish(core, utc(2026, 11, 30, 17), title="Lesung")
    second = await publish(core, utc(2026, 12, 1, 17), title="Filmabend")
    await due_work(core)
    assert daily.inbox == [] and weekly.inbox == [], "no news at once"

    await at(core, clock, utc(2026, 11, 23, 16, 59))
    assert daily.inbox == []
    await at(core, clock, utc(2026, 11, 23, 17))  # 18:00 in Berlin
    (digest,) = daily.inbox
    text = plain(digest.text)
    assert (
        daily.tn(
            "📰 Your daily digest: {n} new event for your topics.",
            "📰 Your daily digest: {n} new events for your topics.",
            2,
        )
        in text
    )
    assert "Lesung" in text and "Filmabend" in text
    assert {b.data for b in digest.all_buttons()} == {f"e:{first}:-", f"e:{second}:-"}
    await at(core, clock, utc(2026, 11, 24, 17))
    assert len(daily.inbox) == 1, "nothing new, no digest"

    assert weekly.inbox == []
    await at(core, clock, utc(2026, 11, 25, 7))  # Wednesday, 08:00 in Berlin
    (digest,) = weekly.inbox
    assert weekly.tn(
        "📰 Your weekly digest: {n} new event for your topics.",
        "📰 Your weekly digest: {n} new events for your topics.",
        2,
    ) in plain(digest.text)

    # Back to each at once: what the digest kept comes now, in one message.
    third = await publish(core, utc(2026, 12, 3, 17), title="Tanzabend")
    await due_work(core)
    await weekly.says("/settings")
    await weekly.taps("🆕 New events")
    await weekly.taps("Each at once")
    await due_work(core)
    assert "Tanzabend" in plain(weekly.inbox[-1].text)
    assert {b.data for b in weekly.inbox[-1].all_buttons()} == {f"e:{third}:-"}


def weekly_day(person: Person, weekday: int) -> str:
    return str(get_day_names("wide", locale=person.locale)[weekday])


async def test_thirty_imported_events_are_one_message_per_follower(
    room: Chatroom, core: Core, clock: FakeClock
) -> None:
    at_once, in_digest = await registered(room, "at-once", "uk"), await registered(room, "dg", "de")
    for person in (at_once, in_digest):
        await person.says("/topics")
        await person.taps("Networking and open meetings")
    await in_digest.says("/settings")
    await in_digest.taps("🆕 New events")
    await in_digest.taps("Daily digest")

    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN"]
    for day in range(30):
        start = (datetime(2026, 12, 1, 18) + timedelta(days=day)).strftime("%Y%m%dT%H%M%S")
        lines += [
            "BEGIN:VEVENT",
            f"UID:import-{day}@example.org",
            f"DTSTART;TZID=Europe/Berlin:{start}",
            f"SUMMARY:Abend {day + 1}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    org = await organisation_id(core)
    result = await core.services.imports.import_calendar("\r\n".join(lines).encode(), org)
    assert result.added == 30
    await due_work(core)

    (message,) = at_once.inbox
    text = plain(message.text)
    assert (
        at_once.tn("🆕 {n} new event for your topics:", "🆕 {n} new events for your topics:", 30)
        in text
    )
    assert len(message.all_buttons()) == 10, "the first ten open their cards"
    assert (
        at_once.tn(
            "… and {n} more: /events shows everything.",
            "… and {n} more: /events shows everything.",
            20,
        )
        in text
    )
    assert in_digest.inbox == []
    async with core.db.transaction() as s:
        kinds = await s.execute(
            select(Identity.platform_user_id, OutboxMessage.kind).join(
                Identity, Identity.user_id == OutboxMessage.user_id
            )
        )
        assert sorted(kinds) == [("at-once", "new_events")]
        digest_user = await s.scalar(
            select(User.news_mode)
            .join(Identity, Identity.user_id == User.id)
            .where(Identity.platform_user_id == "dg")
        )
    assert digest_user == "daily"
    # Importing the same file again tells nobody anything.
    again = await core.services.imports.import_calendar("\r\n".join(lines).encode(), org)
    assert again.unchanged == 30
    await due_work(core)
    assert len(at_once.inbox) == 1
    await at(core, clock, utc(2026, 11, 23, 17))
    (digest,) = in_digest.inbox
    assert in_digest.tn(
        "📰 Your daily digest: {n} new event for your topics.",
        "📰 Your daily digest: {n} new events for your topics.",
        30,
    ) in plain(digest.text)


async def test_an_offer_that_runs_out_meanwhile_changes_nothing_and_a_late_no_still_counts(
    room: Chatroom, core: Core, clock: FakeClock
) -> None:
    clock.now = utc(2026, 11, 23, 7)
    event_id = await publish(core, utc(2026, 12, 4, 17), capacity=1, title="Nachhilfe")
    holder, late, next_one = [await registered(room, n, "de") for n in ("h", "late", "next")]
    for person in (holder, late, next_one):
        await person.presses(f"r:{event_id}:g:-")
    await holder.presses(f"r:{event_id}:n:-")
    ((_user, _status, until),) = await offers(core, event_id)

    # Another process lets the offer expire between the press and its answer.
    clock.now = until
    async with core.db.transaction() as s:
        (offer_id,) = await s.scalars(select(Offer.id).where(Offer.event_id == event_id))
    await due_work(core)
    try:
        await core.services.rsvps.answer(
            (await user_id_of(core, "late")), event_id, Answer.GOING, offer_id=offer_id
        )
    except OfferGone as gone:
        assert gone.reason == "expired"
    else:
        raise AssertionError("an expired offer was accepted")
    assert await answer_of(core, "late", event_id) == "not_going", "nothing changed"

    # The next one's offer has run out too, but they say No before it was passed on: that
    # counts as their answer, and they are not told later that they missed it.
    clock.now = (await offers(core, event_id))[1][2] + timedelta(minutes=1)
    next_one.last = [next_one.inbox[-1]]
    await next_one.taps("✖ No, give it to someone else")
    next_one.sees("Thank you. The seat goes to the next person waiting.")
    await due_work(core)
    assert got(next_one, EXPIRED) == []
    assert [status for _u, status, _x in await offers(core, event_id)] == ["expired", "declined"]


async def user_id_of(core: Core, name: str) -> int:
    async with core.db.transaction() as s:
        found = await s.scalar(select(Identity.user_id).where(Identity.platform_user_id == name))
    assert found is not None
    return found


async def test_an_offer_made_at_night_counts_its_hours_from_the_morning(
    room: Chatroom, core: Core, clock: FakeClock
) -> None:
    event_id = await publish(core, utc(2026, 12, 4, 17), capacity=1, title="Theaterabend")
    holder, sleeper = await registered(room, "holder", "de"), await registered(room, "sl", "uk")
    for person in (holder, sleeper):
        await person.presses(f"r:{event_id}:g:-")
    clock.now = utc(2026, 11, 23, 21, 30)  # 22:30 in Berlin
    await holder.presses(f"r:{event_id}:n:-")
    # Held through the quiet hours, it reaches them at 08:00 and holds the seat 12 hours more.
    assert [until for _u, _s, until in await offers(core, event_id)] == [utc(2026, 11, 24, 19)]
    assert got(sleeper, OFFERED) == []
    await at(core, clock, utc(2026, 11, 24, 7))
    assert len(got(sleeper, OFFERED)) == 1
