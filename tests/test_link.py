"""/link: one person on two messengers, with one set of answers and settings."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from bot.app.core import Core
from storage.models import Identity, InviteCode, LinkCode, Offer, Rsvp, Subscription, User
from tests.fakes import Chatroom, FakeClock, Person, registered
from tests.test_journey import event_by_uid
from tests.test_organisers import organiser

CODE = re.compile(r"[A-Z2-9]{4}-[A-Z2-9]{4}")


async def code_from(person: Person) -> str:
    await person.says("/link")
    found = CODE.search(person.text)
    assert found, person.text
    return found.group(0)


async def test_linking_a_new_account_shares_everything(room: Chatroom, core: Core) -> None:
    telegram = await registered(room, "anna", "uk")
    event = await event_by_uid(core, "offener-treff-leipzig")
    await telegram.presses(f"r:{event.id}:g:-")
    matrix = room.person("@anna:example.org", "uk", platform="matrix")

    await matrix.says("/link QQQQ-QQQQ")
    matrix.locale = "de"  # not known yet: the default language answers
    matrix.sees(
        "This code is not valid or has expired. Send /link in your other messenger for a new one."
    )
    code = await code_from(telegram)
    offer = telegram.tn(
        "Your link code is {code}. Within {n} minute, send “/link {code}” to me from your "
        "other messenger. Then both accounts are one: the same language, topics and answers.",
        "Your link code is {code}. Within {n} minutes, send “/link {code}” to me from your "
        "other messenger. Then both accounts are one: the same language, topics and answers.",
        10,
        code=code,
    )
    assert offer in telegram.text
    await matrix.says(f"/link {code.lower()}")
    matrix.locale = "uk"  # linked: the person's language from now on
    matrix.sees(
        "Done: this account is now linked with your other one. Your answers, topics and "
        "languages are shared."
    )
    await matrix.says("/myevents")
    matrix.sees("Your answer: {icon} {status}", icon="✅", status=matrix.t("Going"))
    async with core.db.transaction() as s:
        assert await s.scalar(select(func.count()).select_from(User)) == 1
        assert await s.scalar(select(func.count()).select_from(Identity)) == 2

    await matrix.says(f"/link {code}")  # a code works once
    matrix.sees(
        "This code is not valid or has expired. Send /link in your other messenger for a new one."
    )

    await matrix.says("/deletedata")
    await matrix.taps("🗑 Yes, delete everything")
    async with core.db.transaction() as s:
        assert await s.scalar(select(func.count()).select_from(Identity)) == 0


async def test_linking_two_existing_people_merges_them(room: Chatroom, core: Core) -> None:
    a = await registered(room, "bo", "en")
    b = room.person("@bo:example.org", "ru", platform="matrix")
    await b.says("/start")
    await b.presses("l:ru")
    await b.taps("✅ I agree")
    treff = await event_by_uid(core, "offener-treff-leipzig")
    beirat = await event_by_uid(core, "migrantenbeirat-kandidieren")
    await a.presses(f"r:{treff.id}:m:-")
    await b.presses(f"r:{treff.id}:g:-")  # a clash: the account that made the code wins
    await b.presses(f"r:{beirat.id}:g:-")
    await a.says("/topics")
    await a.taps("Youth")
    await b.says("/topics")
    await b.taps("Youth")
    await b.taps("Families")

    code = await code_from(a)
    await b.says(f"/link {code}")
    async with core.db.transaction() as s:
        users = list(await s.scalars(select(User)))
        answers = {(r.event_id, r.status) for r in await s.scalars(select(Rsvp))}
        topics = await s.scalar(select(func.count()).select_from(Subscription))
    assert [u.locale for u in users] == ["en"], "one person, with the settings of the code's maker"
    assert answers == {(treff.id, "maybe"), (beirat.id, "going")}, "on a clash the maker's wins"
    assert topics == 2  # youth (in both) and families


async def test_expired_codes_and_too_many_guesses(
    room: Chatroom, core: Core, clock: FakeClock
) -> None:
    a = await registered(room, "cy", "en")
    other = room.person("@cy:example.org", "de", platform="matrix")
    code = await code_from(a)
    clock.advance(minutes=11)
    await other.says(f"/link {code}")
    other.sees(
        "This code is not valid or has expired. Send /link in your other messenger for a new one."
    )
    for _ in range(5):
        await other.says("/link AAAA-AAAA")
    fresh = await code_from(a)
    await other.says(f"/link {fresh}")
    other.sees("Too many wrong codes. Please wait ten minutes and try again.")
    clock.advance(minutes=11)
    await other.says(f"/link {await code_from(a)}")
    other.locale = "en"
    other.sees(
        "Done: this account is now linked with your other one. Your answers, topics and "
        "languages are shared."
    )


async def test_a_seat_offered_to_the_linked_account_stays_offered(
    room: Chatroom, core: Core
) -> None:
    """The waiting person holds an offer on Matrix and links to their Telegram account: the
    offer goes along, and the seat stays held for them."""
    event = await event_by_uid(core, "beratung-anerkennung")  # three seats
    telegram = await registered(room, "tg-rami", "ar")
    matrix = room.person("@rami:example.org", "ar", platform="matrix")
    await matrix.says("/start")
    await matrix.presses("l:ar")
    await matrix.taps("✅ I agree")
    holders = [await registered(room, f"h{i}", "de") for i in range(3)]
    for person in (*holders, matrix):
        await person.presses(f"r:{event.id}:g:-")
    await holders[0].presses(f"r:{event.id}:n:-")
    async with core.db.transaction() as s:
        assert list(await s.scalars(select(Offer.status))) == ["open"]

    code = await code_from(telegram)
    await matrix.says(f"/link {code}")
    newcomer = await registered(room, "newcomer", "en")
    await newcomer.presses(f"r:{event.id}:g:-")
    async with core.db.transaction() as s:
        (offer,) = list(await s.scalars(select(Offer)))
        kept = await s.scalar(
            select(Identity.user_id).where(Identity.platform_user_id == "tg-rami")
        )
        newcomer_status = await s.scalar(
            select(Rsvp.status)
            .join(Identity, Identity.user_id == Rsvp.user_id)
            .where(Identity.platform_user_id == "newcomer")
        )
    assert (offer.status, offer.user_id) == ("open", kept)
    assert newcomer_status == "waitlisted", "the held seat is not taken by someone new"
    await telegram.presses(f"of:{offer.id}:a")
    telegram.sees("🎉 The seat is yours. You are registered as going – see you there!")


async def test_expired_codes_are_deleted_when_they_expire(
    room: Chatroom, core: Core, clock: FakeClock
) -> None:
    person = await registered(room, "dana", "de")
    await code_from(person)
    orga = await organiser(room, locale="en")
    await orga.says("/invite coordinator")
    async with core.db.transaction() as s:
        assert await s.scalar(select(func.count()).select_from(LinkCode)) == 1
        invites = await s.scalar(select(func.count()).select_from(InviteCode))
    assert invites is not None and invites >= 1
    soonest = await core.services.codes.next_due()
    assert soonest == clock.now + timedelta(minutes=10), "the alarm is aimed at the first expiry"

    assert await core.services.codes.run_due() == 0, "nothing has expired yet"
    clock.advance(minutes=10)
    assert await core.services.codes.run_due() == 1, "the link code"
    clock.advance(days=7)
    assert await core.services.codes.run_due() == invites
    async with core.db.transaction() as s:
        assert await s.scalar(select(func.count()).select_from(LinkCode)) == 0
        assert await s.scalar(select(func.count()).select_from(InviteCode)) == 0
    assert await core.services.codes.next_due() is None
