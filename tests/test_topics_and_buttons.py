"""Topic buttons set the state written on them; stale, forged and malformed buttons are
answered clearly and change nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.app.core import Core
from storage.models import RegionChoice, Rsvp, Subscription, User
from tests.fakes import Chatroom, registered
from tests.test_journey import event_by_uid

STALE = "This button is no longer valid. Please use the newest message."


async def subscriptions(core: Core) -> int:
    async with core.db.transaction() as s:
        return int(await s.scalar(select(func.count()).select_from(Subscription)) or 0)


async def test_replayed_topic_press_never_flips_back(room: Chatroom, core: Core) -> None:
    p = await registered(room, "ida", "ru")
    follow = p.button("Youth").data
    await p.presses(follow)
    assert p.button("Youth").label.startswith("✅")
    stop = p.button("Youth").data
    await p.presses(follow)  # replayed: still followed
    assert p.button("Youth").label.startswith("✅")
    assert await subscriptions(core) == 1
    await p.presses(stop)
    await p.presses(stop)
    assert p.button("Youth").label.startswith("▫️")
    assert await subscriptions(core) == 0


async def test_regions_are_set_and_statewide_events_always_show(room: Chatroom, core: Core) -> None:
    p = await registered(room, "jan", "en")
    await p.taps("Anti-racism and empowerment")
    await p.taps("📍 Regions")
    await p.taps("Dresden")
    await p.taps("Done")
    p.sees("Regions: {regions}.", regions=p.t("Dresden"))
    async with core.db.transaction() as s:
        assert await s.scalar(select(func.count()).select_from(RegionChoice)) == 1
    await p.says("/events")
    # The round table is for all of Saxony; the online film is not in Dresden.
    assert "Gender Pay Gap" in p.text and "Çay" not in p.text


@pytest.mark.parametrize(
    "data",
    [
        "r:99999:g:-",  # unknown event
        "r:1;DROP TABLE rsvps:g:-",
        "r:1:x:-",
        "r:1:g:zz",
        "r:-1:g:-",
        "r:１:g:-",  # full-width digit
        "r:" + "9" * 70,  # over 64 bytes
        "e:abc:-",
        "t:c:999:1",
        "t:c:1:2",
        "t:r:1:1",
        "l:xx",
        "l2:de:extra",
        "x:maybe",
        "ev:s:-3",
        "nosuchprefix:1",
        "r:1:g:-\x00",
        "\udcff",  # not valid UTF-8 when it came in
        "",
    ],
)
async def test_forged_or_malformed_buttons_change_nothing(
    room: Chatroom, core: Core, data: str
) -> None:
    p = await registered(room, "kim", "ar")
    event = await event_by_uid(core, "offener-treff-leipzig")
    await p.presses(f"r:{event.id}:m:-")
    before = await snapshot(core)
    replies = await p.presses(data)
    assert replies, "every press is answered"
    p.sees(STALE)
    assert await snapshot(core) == before


async def snapshot(core: Core) -> list[tuple[object, ...]]:
    async with core.db.transaction() as s:
        rows = await s.execute(select(Rsvp.event_id, Rsvp.user_id, Rsvp.status))
        subs = await s.execute(select(Subscription.user_id, Subscription.category_id))
        users = await s.execute(select(User.id, User.locale, User.second_locale))
        return [
            *sorted(tuple(r) for r in rows),
            *sorted(tuple(r) for r in subs),
            *sorted(tuple(r) for r in users),
        ]


async def test_identity_comes_from_the_presser_not_the_data(room: Chatroom, core: Core) -> None:
    """A button copied from someone else's message acts for the one who presses it."""
    owner = await registered(room, "lea", "en")
    other = await registered(room, "max", "en")
    event = await event_by_uid(core, "offener-treff-leipzig")
    await owner.presses(f"e:{event.id}:-")
    going = owner.button("Going").data
    await other.presses(going)
    async with core.db.transaction() as s:
        rows = list(await s.execute(select(Rsvp.user_id, Rsvp.status)))
    assert [tuple(r) for r in rows] == [(2, "going")]


async def test_groups_get_nothing_personal(room: Chatroom, core: Core) -> None:
    alone = await registered(room, "nia", "en")
    event = await event_by_uid(core, "offener-treff-leipzig")
    await alone.presses(f"r:{event.id}:g:-")

    # In a group the bot speaks the language the messenger reports, never the one stored.
    in_group = room.person("nia", "en", private=False, chat_id="group-1", language_hint="en")
    for command in ("/myevents", "/mydata", "/deletedata"):
        await in_group.says(command)
        in_group.sees(
            "This is personal, so I only do it in a private chat. Please write to me directly."
        )
    await in_group.presses(f"r:{event.id}:n:-")
    in_group.sees(
        "This is personal, so I only do it in a private chat. Please write to me directly."
    )
    await in_group.says("/events all")
    await in_group.taps("1. ")
    assert (
        in_group.t("Your answer: {icon} {status}", icon="✅", status=in_group.t("Going"))
        not in in_group.text
    )
    async with core.db.transaction() as s:
        assert [tuple(r) for r in await s.execute(select(Rsvp.status))] == [("going",)]

    stranger = room.person("oz", "de", private=False, chat_id="group-1")
    await stranger.says("/topics")
    # The same answer a registered person gets: a group cannot tell who is registered.
    stranger.sees(
        "This is personal, so I only do it in a private chat. Please write to me directly."
    )
    assert not stranger.buttons()
