"""Nothing about a person appears in a group: every command and every kind of button, sent in
a group by someone with topics, answers, two languages and an organiser role, gets exactly what
a stranger gets there."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, cast

import pytest
from sqlalchemy import select

from bot.app.core import Core
from bot.core.buttons import ButtonData
from bot.core.chat import Reply
from bot.i18n.text import plain
from handlers import build_registry
from storage.models import Conversation, Rsvp
from tests.fakes import Chatroom, Person
from tests.test_buttons import EXAMPLES
from tests.test_journey import event_by_uid
from tests.test_organisers import organiser

GROUP = "group-42"
PRIVATE_ONLY = "This is personal, so I only do it in a private chat. Please write to me directly."


def shown(replies: list[Reply]) -> list[tuple[object, ...]]:
    """Everything a group member could see of the replies."""
    return [
        (
            plain(r.text),
            [(b.label, b.data, b.reactions, b.undo) for b in r.all_buttons()],
            r.attachment,
            r.toast,
        )
        for r in replies
    ]


def presses(event_id: int) -> list[ButtonData]:
    """Every registered kind's examples, and each with a real event where it names one."""
    found: list[ButtonData] = []
    for examples in EXAMPLES.values():
        for example in examples:
            found.append(example)
            if "event" in {f.name for f in type(example).fields()}:
                found.append(replace(cast(Any, example), event=event_id))
    return found


async def someone_with_everything(room: Chatroom, core: Core) -> Person:
    """An organiser reading Farsi and Ukrainian, with topics, regions, answers and a code."""
    me = await organiser(room, "reza", "fa")
    await me.says("/language")
    await me.presses("l:fa")
    await me.presses("l2:uk")
    await me.says("/topics")
    await me.taps("Families")
    event = await event_by_uid(core, "offener-treff-leipzig")
    await me.presses(f"r:{event.id}:g:-")
    await me.says("/link")
    await me.says("/newevent")
    return me


async def test_every_command_and_button_in_a_group_is_what_a_stranger_sees(
    room: Chatroom, core: Core
) -> None:
    me = await someone_with_everything(room, core)
    event = await event_by_uid(core, "offener-treff-leipzig")
    # Both write from an English messenger; one of them has told the bot everything.
    mine = room.person(me.user_id, "en", private=False, chat_id=GROUP, language_hint="en")
    stranger = room.person("passer-by", "en", private=False, chat_id=GROUP, language_hint="en")
    registry = build_registry()
    names = [*registry.commands, *registry.aliases]
    personal = [
        me.user_id,
        mine.t("For organisers:"),
        mine.t("Your answer: {icon} {status}", icon="✅", status=mine.t("Going")),
        "Persian",
        "Ukrainian",
        "فارسی",
        "Українська",
    ]
    private_seen = 0
    for name in names:
        for args in ("", " all", f" {event.id}", " organiser"):
            text = f"/{name}{args}"
            got = await mine.says(text)
            assert shown(got) == shown(await stranger.says(text)), text
            for word in personal:
                assert word not in mine.text, (text, word)
            assert all(
                r.attachment is None or r.attachment.filename != "treffpunkt.ics" for r in got
            )
            private_seen += mine.t(PRIVATE_ONLY) in mine.text
    for press in presses(event.id):
        data = press.pack()
        got = await mine.presses(data)
        assert shown(got) == shown(await stranger.presses(data)), data
        for word in personal:
            assert word not in mine.text, (data, word)
    assert private_seen > 0

    # Nothing done in the group changed anything of theirs: the answer and the draft remain.
    async with core.db.transaction() as s:
        assert list(await s.scalars(select(Rsvp.status))) == ["going"]
        assert list(await s.scalars(select(Conversation.kind))) == ["newevent"]


@pytest.mark.parametrize(
    ("command", "group_safe"),
    [("events", True), ("privacy", True), ("help", True), ("topics", False), ("calendar", False)],
)
def test_only_what_reads_the_same_for_anyone_is_marked_for_groups(
    command: str, group_safe: bool
) -> None:
    assert build_registry().commands[command].group_safe is group_safe


def test_safe_commands_are_exactly_these() -> None:
    registry = build_registry()
    assert {c.name for c in registry.commands.values() if c.group_safe} == {
        "events",
        "privacy",
        "help",
    }
    assert {r.codec.__name__ for r in registry.buttons.values() if r.group_safe} == {
        "EventsPage",
        "EventCard",
        "ReadMore",
        "CalendarFile",
    }


def test_a_group_safe_handler_cannot_need_the_person() -> None:
    registry = build_registry()
    with pytest.raises(ValueError, match="group-safe"):
        registry.command("x", registry.commands["help"].handler, "x", group_safe=True)


async def test_a_privacy_question_in_a_group_gets_the_notice(room: Chatroom, core: Core) -> None:
    stranger = room.person("passer-by", "uk", private=False, chat_id=GROUP, language_hint="uk")
    await stranger.says("/privacy")
    stranger.sees(
        "Responsible for your data: {operator}, reachable at {contact} for any question or "
        "request about your data.",
        operator=core.settings.operator_name,
        contact=core.settings.operator_contact,
    )
    assert not stranger.buttons()
    await stranger.says("/help")
    stranger.sees("Write to me in a private chat to choose your language and topics.")
