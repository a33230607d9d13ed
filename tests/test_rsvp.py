"""Answers to events: upserts, capacity, the waitlist, and moving up."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from bot.app.core import Core
from bot.core.chat import Reply
from bot.core.errors import RecipientGone
from bot.i18n.text import plain
from storage.models import OutboxMessage, Rsvp
from tests.fakes import Chatroom, FakeClock, Person, registered
from tests.test_journey import event_by_uid


async def rsvps(core: Core, event_id: int) -> dict[str, list[int]]:
    async with core.db.transaction() as s:
        rows = await s.scalars(select(Rsvp).where(Rsvp.event_id == event_id).order_by(Rsvp.id))
        result: dict[str, list[int]] = {}
        for r in rows:
            result.setdefault(r.status, []).append(r.user_id)
        return result


async def answer(p: Person, event_id: int, code: str) -> None:
    await p.presses(f"r:{event_id}:{code}:-")


async def test_answer_is_an_upsert_never_a_toggle(room: Chatroom, core: Core) -> None:
    p = await registered(room, "ana", "en")
    event = await event_by_uid(core, "werkstatt-dresden-auftakt")
    await p.presses(f"e:{event.id}:s0")
    await p.taps("✅")
    await p.taps("✅")  # the same press again, as a double tap or a replay
    p.sees("✅ You are going. See you there!")
    assert p.tn("✅ {n} going", "✅ {n} going", 1) in p.text
    async with core.db.transaction() as s:
        assert await s.scalar(select(func.count()).select_from(Rsvp)) == 1

    await p.taps("❔")
    p.sees("❔ Saved: maybe.")
    assert p.tn("✅ {n} going", "✅ {n} going", 0) in p.text
    assert p.tn("❔ {n} maybe", "❔ {n} maybe", 1) in p.text
    assert p.button("Maybe").label.startswith("• "), "the current choice is marked"
    await p.taps("❌")
    p.sees("❌ Saved: you are not going.")
    assert (await rsvps(core, event.id)) == {"not_going": [1]}


async def test_double_tap_at_once_gives_one_answer(room: Chatroom, core: Core) -> None:
    p = await registered(room, "ben", "en")
    event = await event_by_uid(core, "werkstatt-dresden-auftakt")
    results = await asyncio.gather(*(p.presses(f"r:{event.id}:g:-") for _ in range(2)))
    for replies in results:
        assert replies, "both presses are answered"
    assert (await rsvps(core, event.id)) == {"going": [1]}


async def test_full_event_waitlist_and_moving_up(room: Chatroom, core: Core) -> None:
    event = await event_by_uid(core, "beratung-anerkennung")
    assert event.capacity == 3
    people = [
        await registered(room, f"p{i}", lang)
        for i, lang in enumerate(["en", "de", "uk", "ar", "fa"])
    ]
    for p in people[:3]:
        await answer(p, event.id, "g")
        p.sees("✅ You are going. See you there!")

    waiting_ar, waiting_fa = people[3], people[4]
    await answer(waiting_ar, event.id, "g")
    assert (
        waiting_ar.t(
            "⏳ The event is full. You are number {position} on the waitlist; "
            "I will tell you when a seat becomes free.",
            position=1,
        )
        in waiting_ar.text
    )
    await answer(waiting_fa, event.id, "g")
    waiting_fa.sees(
        "⏳ The event is full. You are number {position} on the waitlist; "
        "I will tell you when a seat becomes free.",
        position=2,
    )
    # Pressing "going" again while waiting keeps the place in the queue.
    await answer(waiting_fa, event.id, "g")
    waiting_fa.sees("Your answer: ⏳ waitlist, position {position}", position=2)

    # Someone who is going cancels: the first person waiting is offered the seat, in Arabic;
    # nobody moves up without saying yes, and the seat is held for them meanwhile.
    await answer(people[1], event.id, "n")
    state = await rsvps(core, event.id)
    assert sorted(state["going"]) == sorted([1, 3])
    assert state["waitlisted"] == [4, 5]
    assert len(waiting_ar.inbox) == 1
    offer = waiting_ar.inbox[0]
    assert waiting_ar.t(
        "🎟 A seat became free, and it is offered to you. It is held for you until {until}. "
        "Do you want it?"
    ).split("{until}")[0] in plain(offer.text)
    assert waiting_fa.inbox == []
    newcomer = await registered(room, "p-late", "en")
    await answer(newcomer, event.id, "g")
    newcomer.sees(
        "⏳ The event is full. You are number {position} on the waitlist; "
        "I will tell you when a seat becomes free.",
        position=3,
    )

    # The Arabic reader takes it; the one still waiting is now first in line.
    waiting_ar.last = [offer]
    await waiting_ar.taps("✅ Yes, I take the seat")
    waiting_ar.sees("🎉 The seat is yours. You are registered as going – see you there!")
    state = await rsvps(core, event.id)
    assert sorted(state["going"]) == sorted([1, 3, 4])
    await waiting_fa.presses(f"e:{event.id}:-")
    waiting_fa.sees("Your answer: ⏳ waitlist, position {position}", position=1)

    # The offer is written once, however often deliveries run.
    await core.delivery.run_once()
    async with core.db.transaction() as s:
        rows = list(await s.scalars(select(OutboxMessage)))
    assert [(r.kind, r.status) for r in rows] == [("seat_offer", "sent")]


async def test_waitlisted_person_leaving_does_not_move_anyone(room: Chatroom, core: Core) -> None:
    event = await event_by_uid(core, "beratung-anerkennung")
    people = [await registered(room, f"q{i}", "en") for i in range(5)]
    for p in people:
        await answer(p, event.id, "g")
    await answer(people[3], event.id, "m")  # leaves the waitlist
    state = await rsvps(core, event.id)
    assert len(state["going"]) == 3 and state["waitlisted"] == [5] and state["maybe"] == [4]
    await people[4].presses(f"e:{event.id}:-")
    people[4].sees("Your answer: ⏳ waitlist, position {position}", position=1)


async def test_answers_to_past_and_closed_events_are_refused(
    room: Chatroom, core: Core, clock: FakeClock
) -> None:
    p = await registered(room, "late", "de")
    konferenz = await event_by_uid(core, "konferenz-mo-dresden")
    clock.advance(days=18)  # after the registration deadline
    await answer(p, konferenz.id, "g")
    p.sees("Registration for this event has closed.")
    await answer(p, konferenz.id, "n")  # saying no is always possible
    p.sees("❌ Saved: you are not going.")
    clock.advance(days=10)
    await answer(p, konferenz.id, "g")
    p.sees("This event is already over.")
    assert (await rsvps(core, konferenz.id)) == {"not_going": [1]}


async def test_notices_go_to_the_newest_direct_chat(room: Chatroom, core: Core) -> None:
    event = await event_by_uid(core, "beratung-anerkennung")
    people = [await registered(room, f"c{i}", "en") for i in range(4)]
    for p in people:
        await answer(p, event.id, "g")
    waiting = people[3]
    moved = room.person(waiting.user_id, "en", chat_id="new-direct-chat")
    await moved.says("/help")  # the person wrote from a new direct chat (as on Matrix)
    await answer(people[0], event.id, "n")
    assert len(moved.inbox) == 1 and waiting.inbox == []


class Blocking(Chatroom):
    """A transport where the chats in ``blocked`` have blocked the bot."""

    def __init__(self, core: Core) -> None:
        super().__init__(core)
        self.blocked: set[str] = set()

    async def send(self, chat_id: str, reply: Reply) -> None:
        if chat_id in self.blocked:
            raise RecipientGone("bot was blocked by the user")
        await super().send(chat_id, reply)


async def test_writing_again_after_blocking_makes_a_person_reachable(core: Core) -> None:
    room = Blocking(core)
    event = await event_by_uid(core, "beratung-anerkennung")
    people = [await registered(room, f"b{i}", "uk") for i in range(4)]
    for p in people:
        await answer(p, event.id, "g")
    first, waiting = people[0], people[3]

    room.blocked.add(waiting.user_id)
    await answer(first, event.id, "n")  # moved up while the bot was blocked: not told
    assert waiting.inbox == []

    room.blocked.clear()
    await waiting.says("/help")  # unblocked, and wrote again
    await answer(waiting, event.id, "n")
    await answer(first, event.id, "g")
    await answer(waiting, event.id, "g")  # waits again, first in line as before
    await answer(first, event.id, "n")  # ... moves up again, and this time is told
    assert len(waiting.inbox) == 1
    async with core.db.transaction() as s:
        rows = list(await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert [(r.status, (r.last_error or "")[:15]) for r in rows] == [
        ("failed", "blocked or gone"),
        ("sent", ""),
    ]
