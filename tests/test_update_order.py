"""Telegram updates are answered side by side, but one person's updates, and one chat's, in
the order they came: a slow answer to one person holds up nobody else, and a person's second
tap is never answered before their first."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from telegram import Chat, Message, Update, User

from bot.transports.telegram import InOrderPerPerson


def update(update_id: int, user: int, chat: int | None = None) -> Update:
    chat_id = user if chat is None else chat
    kind = Chat.PRIVATE if chat_id > 0 else Chat.GROUP
    message = Message(
        message_id=update_id,
        date=datetime.now(UTC),
        chat=Chat(chat_id, kind),
        from_user=User(user, f"Person {user}", is_bot=False),
        text="/events",
    )
    return Update(update_id, message=message)


class Steps:
    """Each update's answer notes when it began and ended; ``slow`` ones wait for a signal."""

    def __init__(self) -> None:
        self.log: list[str] = []
        self.go: dict[int, asyncio.Event] = {}

    async def answer(self, update_id: int) -> None:
        self.log.append(f"begin {update_id}")
        if update_id in self.go:
            await self.go[update_id].wait()
        self.log.append(f"end {update_id}")


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_a_slow_answer_to_one_person_holds_up_nobody_else() -> None:
    processor, steps = InOrderPerPerson(), Steps()
    steps.go[1] = asyncio.Event()
    first = asyncio.create_task(processor.process_update(update(1, 501), steps.answer(1)))
    second = asyncio.create_task(processor.process_update(update(2, 502), steps.answer(2)))
    await asyncio.wait_for(second, 5)
    assert steps.log == ["begin 1", "begin 2", "end 2"]
    steps.go[1].set()
    await asyncio.wait_for(first, 5)
    assert steps.log[-1] == "end 1"


async def test_one_persons_updates_are_answered_in_the_order_they_came() -> None:
    processor, steps = InOrderPerPerson(), Steps()
    steps.go[1] = asyncio.Event()
    tasks = [
        asyncio.create_task(processor.process_update(update(i, 501), steps.answer(i)))
        for i in (1, 2, 3)
    ]
    await settle()
    assert steps.log == ["begin 1"], "the second tap waits for the first"
    steps.go[1].set()
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert steps.log == ["begin 1", "end 1", "begin 2", "end 2", "begin 3", "end 3"]


async def test_one_chats_updates_are_answered_in_order_and_a_person_across_chats_too() -> None:
    processor, steps = InOrderPerPerson(), Steps()
    steps.go[1] = asyncio.Event()
    group = -100_777
    first = processor.process_update(update(1, 501, group), steps.answer(1))
    # Another person in the same group, and the first person in their private chat.
    same_chat = processor.process_update(update(2, 502, group), steps.answer(2))
    same_person = processor.process_update(update(3, 501), steps.answer(3))
    elsewhere = processor.process_update(update(4, 503), steps.answer(4))
    tasks = [asyncio.create_task(c) for c in (first, same_chat, same_person, elsewhere)]
    await settle()
    assert steps.log == ["begin 1", "begin 4", "end 4"]
    steps.go[1].set()
    await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert steps.log.index("begin 2") > steps.log.index("end 1")
    assert steps.log.index("begin 3") > steps.log.index("end 1")


async def test_an_update_cancelled_while_waiting_its_turn_lets_the_next_one_go() -> None:
    processor, steps = InOrderPerPerson(), Steps()
    steps.go[1] = asyncio.Event()
    first = asyncio.create_task(processor.process_update(update(1, 501), steps.answer(1)))
    waiting = asyncio.create_task(processor.process_update(update(2, 501), steps.answer(2)))
    await settle()
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    third = asyncio.create_task(processor.process_update(update(3, 501), steps.answer(3)))
    steps.go[1].set()
    await asyncio.wait_for(asyncio.gather(first, third), 5)
    assert steps.log == ["begin 1", "end 1", "begin 3", "end 3"]
    assert not processor._last, "nothing is kept once every update is answered"


async def test_a_queue_of_one_persons_updates_does_not_take_everyones_turn() -> None:
    """Updates waiting behind the same person's slow one do not fill the bound on updates
    answered at once: somebody else is still answered."""
    processor, steps = InOrderPerPerson(max_concurrent_updates=2), Steps()
    steps.go[1] = asyncio.Event()
    taps = [
        asyncio.create_task(processor.process_update(update(i, 501), steps.answer(i)))
        for i in range(1, 6)
    ]
    other = asyncio.create_task(processor.process_update(update(9, 502), steps.answer(9)))
    await asyncio.wait_for(other, 5)
    assert "end 9" in steps.log and "end 1" not in steps.log
    steps.go[1].set()
    await asyncio.wait_for(asyncio.gather(*taps), 5)
    assert [x for x in steps.log if x.startswith("end") and x != "end 9"] == [
        f"end {i}" for i in range(1, 6)
    ]
