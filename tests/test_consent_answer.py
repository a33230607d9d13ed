"""An answer pressed before agreeing to the privacy notice waits in the consent buttons: it is
recorded when the person agrees, in the same update, and declining says it was not."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.app.core import Core
from bot.i18n.text import plain
from storage.models import Rsvp, User
from tests.fakes import Chatroom, Person
from tests.test_journey import event_by_uid


async def declined_and_browsing(room: Chatroom, user_id: str, locale: str, name: str) -> Person:
    p = room.person(user_id, locale)
    await p.says("/start")
    await p.taps(name)
    await p.taps("No, thank you")
    await p.says("/events all")
    return p


async def answers(core: Core) -> list[tuple[int, str]]:
    async with core.db.transaction() as s:
        return [(r.event_id, r.status) for r in await s.scalars(select(Rsvp).order_by(Rsvp.id))]


async def test_going_pressed_before_consent_is_recorded_after_it(
    room: Chatroom, core: Core
) -> None:
    event = await event_by_uid(core, "werkstatt-dresden-auftakt")
    p = await declined_and_browsing(room, "gita", "fa", "فارسی")
    await p.presses(f"e:{event.id}:a0")
    await p.taps("Going")
    p.sees("For this I need to store a few things about you.")
    p.sees("Do you agree? Then I save your answer to the event right away.")
    assert await answers(core) == []

    await p.taps("✅ I agree")
    assert await answers(core) == [(event.id, "going")]
    card, _thanks, _topics = p.last
    assert card.replace, "the answer takes the place of the question"
    assert p.t("✅ You are going. See you there!") in plain(card.text)
    assert p.t("Your answer: {icon} {status}", icon="✅", status=p.t("Going")) in plain(card.text)
    back = [b for b in card.all_buttons() if b.label == p.t("« Back")]
    assert back, "the way back to the list it was opened from is kept"
    p.sees("Thank you! Now choose the topics you want to hear about.")


async def test_the_waiting_answer_goes_through_the_same_rules(room: Chatroom, core: Core) -> None:
    event = await event_by_uid(core, "beratung-anerkennung")
    assert event.capacity == 3
    for i in range(3):
        p = await declined_and_browsing(room, f"full{i}", "en", "English")
        await p.presses(f"r:{event.id}:g:-")
        await p.taps("✅ I agree")
    late = await declined_and_browsing(room, "late", "uk", "Українська")
    await late.presses(f"r:{event.id}:g:a0")
    await late.taps("✅ I agree")
    late.sees(
        "⏳ The event is full. You are number {position} on the waitlist; "
        "I will tell you when a seat becomes free.",
        position=1,
    )
    assert [s for _, s in await answers(core)] == ["going"] * 3 + ["waitlisted"]


async def test_declining_again_says_the_answer_was_not_saved(room: Chatroom, core: Core) -> None:
    event = await event_by_uid(core, "werkstatt-dresden-auftakt")
    p = await declined_and_browsing(room, "ilya", "ru", "Русский")
    await p.presses(f"r:{event.id}:m:-")
    await p.taps("No, thank you")
    p.sees("Your answer to the event was not saved.")
    p.sees(
        "All right, I have stored nothing about you. You can still look at events "
        "with /events, and start again at any time with /start."
    )
    async with core.db.transaction() as s:
        assert await s.scalar(select(func.count()).select_from(User)) == 0
    assert await answers(core) == []


async def test_an_event_gone_meanwhile_does_not_undo_the_agreement(
    room: Chatroom, core: Core
) -> None:
    p = await declined_and_browsing(room, "jon", "de", "Deutsch")
    await p.presses("r:99999:g:-")
    await p.taps("✅ I agree")
    p.sees("That event no longer exists, so there is no answer to save.")
    p.sees("Thank you! Now choose the topics you want to hear about.")
    assert await core.services.users.find("fake", "jon") is not None
