"""Roles: admins list and take them away, coordinators are told what the role is for, /invite
in every language and by buttons, wrong /join codes audited and throttled, refusals of other
organisations' buttons audited, and /cancelevent that can be called off."""

from __future__ import annotations

import re

from sqlalchemy import select

from bot.app.core import Core
from bot.app.settings import Settings
from bot.i18n.text import plain
from bot.services.broadcasts import Audience
from storage.models import AuditEntry, Event, Membership
from tests.fakes import Chatroom, FakeClock, Person, registered
from tests.test_manage import demo_event_of_new_org
from tests.test_organisers import INVITE, audit, organiser

ORG = "Kültür Kollektiv Leipzig e. V."
ORG_NUMBER = 9  # the demo data holds eight organisations


async def _admin(room: Chatroom) -> Person:
    """The umbrella admin of ``organiser()``, registered already."""
    return room.person("umbrella-admin", "en")


async def _invite_code(admin: Person, args: str) -> str:
    await admin.says(f"/invite {args}")
    code = INVITE.search(admin.text)
    assert code, admin.text
    return code.group(0)


async def _roles(core: Core) -> list[tuple[int, str]]:
    async with core.db.transaction() as s:
        return [(m.id, m.role) for m in await s.scalars(select(Membership).order_by(Membership.id))]


async def test_an_admin_lists_the_roles_and_takes_one_away(room: Chatroom, core: Core) -> None:
    orga = await organiser(room, "anna-4711", locale="de")
    admin = await _admin(room)
    [(number, _role)] = await _roles(core)

    await admin.says(f"/members {ORG_NUMBER}")
    admin.sees("Roles in {organisation}:", organisation=ORG)
    assert re.search(rf"\b{number} – organiser since .*2026, language: German", admin.text)
    assert "anna-4711" not in admin.text, "no account ids"

    await admin.says(f"/removerole {number}")
    admin.sees(
        "Take the role {role} of {organisation} away from number {number}? They are told.",
        role="organiser",
        organisation=ORG,
        number=number,
    )
    await admin.taps("No, keep the role")
    admin.sees("Nothing changed.")
    assert await _roles(core) == [(number, "organiser")]

    await admin.says(f"/removerole {number}")
    await admin.taps("Yes, take the role away")
    admin.sees(
        "Done: number {number} is no longer {role}. I am telling them.",
        number=number,
        role="organiser",
    )
    assert await _roles(core) == []
    told = plain(orga.inbox[-1].text)
    assert (
        orga.t(
            "You are no longer {role} of {organisation}.",
            role=orga.t("organiser"),
            organisation=ORG,
        )
        in told
    )
    await orga.says("/newevent")
    orga.sees(
        "Sorry, only organisers of a member organisation can do this. If you organise events, "
        "ask your umbrella organisation for an invite code."
    )

    # A replayed "yes" finds nothing left to remove; nobody else may remove roles.
    await admin.presses(f"rr:{number}:y")
    admin.sees("This button is no longer valid. Please use the newest message.")
    await orga.says("/removerole 1")
    orga.sees("Sorry, only the umbrella organisation's admins can do this.")
    await orga.says("/members")
    orga.sees("Sorry, only the umbrella organisation's admins can do this.")
    await orga.presses(f"rr:{number}:y")
    orga.sees("Sorry, only the umbrella organisation's admins can do this.")
    for typed in ("99999", "²", "99999999999999999999"):
        await admin.says(f"/removerole {typed}")
    admin.sees("Please add the role's number as /members shows it: /removerole 12")
    await admin.says("/removerole 99999")
    admin.sees("There is no role with that number. /members shows them.")

    entries = [(a, ok, d) for a, ok, d in await audit(core) if a in ("removerole", "members", "rr")]
    assert entries == [
        ("removerole", True, f"organiser {number}"),
        ("removerole", False, "not an admin"),
        ("members", False, "not an admin"),
        ("rr", False, "not an admin"),
        ("removerole", False, "no such role"),
        ("removerole", False, "no such role"),
    ]


async def test_a_coordinator_is_told_what_the_role_is_for(room: Chatroom, core: Core) -> None:
    await organiser(room)
    admin = await _admin(room)
    code = await _invite_code(admin, f"coordinator {ORG_NUMBER}")
    admin.sees(
        "As a coordinator you verify the organisation's interpreters (/interpreters) and place "
        "the requests for interpreters (/requests)."
    )
    coordinator = await registered(room, "coordinator", "uk")
    await coordinator.says(f"/join {code}")
    coordinator.sees(
        "Welcome! You are now {role} of {organisation}.",
        role=coordinator.t("coordinator"),
        organisation=ORG,
    )
    coordinator.sees(
        "As a coordinator you verify the organisation's interpreters (/interpreters) and place "
        "the requests for interpreters (/requests)."
    )
    assert "/newevent" not in coordinator.text, "no promise of what the role cannot do"
    await coordinator.says("/newevent")
    coordinator.sees(
        "As a coordinator you verify the organisation's interpreters (/interpreters) and place "
        "the requests for interpreters (/requests)."
    )
    in_group = room.person("coordinator", "uk", private=False, chat_id="group-3")
    await in_group.says("/newevent")
    assert in_group.t("coordinator") not in in_group.text.lower(), "a group learns no role"


async def test_invite_understands_the_role_in_every_language(room: Chatroom, core: Core) -> None:
    await organiser(room)
    admin = await _admin(room)
    typed = {
        "veranstaltende": "organiser",
        "Koordinierende": "coordinator",
        "організатор": "organiser",
        "منظم": "organiser",  # without the shadda, as it is often typed
        "منسّق": "coordinator",
        "Организатор": "organiser",
        "هماهنگ کننده": "coordinator",  # a space where the zero-width non-joiner belongs
        "برگزارکننده": "organiser",
        "organizer": "organiser",
    }
    for word, role in typed.items():
        await _invite_code(admin, f"{word} {ORG_NUMBER}")
        admin.sees("Invite code for a new {role} of {organisation}: ", role=role, organisation=ORG)


async def test_invite_offers_buttons_for_what_is_missing(room: Chatroom, core: Core) -> None:
    orga = await organiser(room, locale="de")
    await orga.says("/invite")
    orga.sees("Which role should the new member have?")
    await orga.taps("coordinator")
    # An organiser of one organisation is not asked which one.
    assert INVITE.search(orga.text) and orga.t("coordinator") in orga.text, orga.text

    admin = await _admin(room)
    await admin.says("/invite Vorstand")
    admin.sees("Which role should the new member have?")
    await admin.taps("Organiser")
    admin.sees("For which organisation?")
    await admin.taps(ORG)
    admin.sees(
        "Invite code for a new {role} of {organisation}: ", role="organiser", organisation=ORG
    )

    # A forged press for an organisation the organiser does not act for is refused and audited.
    await orga.presses("iv:organiser:1")
    orga.sees("You do not act for that organisation.")
    assert ("invite", False, "not their organisation") in await audit(core)


async def test_wrong_join_codes_are_audited_and_throttled(
    room: Chatroom, core: Core, settings: Settings, clock: FakeClock
) -> None:
    await organiser(room)
    admin = await _admin(room)
    code = await _invite_code(admin, f"organiser {ORG_NUMBER}")
    guesser = await registered(room, "guesser", "fa")
    await guesser.says("/join")
    guesser.sees("Please write the invite code after the command: /join CODE")
    for n in range(5):
        await guesser.says(f"/join AAAAA-BBBB{n}")
        guesser.sees("This invite code is not valid or has expired. Please ask for a new one.")

    # A second process on the same database counts the same wrong codes.
    other = await Core.create(settings, clock=clock)
    try:
        elsewhere = Chatroom(other).person("guesser", "fa")
        await elsewhere.says(f"/join {code}")
        elsewhere.sees(
            guesser.tn(
                "That was too many wrong invite codes: I try at most {n} an hour. Please wait "
                "an hour before you send a code again.",
                "That was too many wrong invite codes: I try at most {n} an hour. Please wait "
                "an hour before you send a code again.",
                5,
            ),
        )
    finally:
        await other.close()

    clock.advance(minutes=61)
    await guesser.says(f"/join {code}")
    guesser.sees(
        "Welcome! You are now {role} of {organisation}. /newevent creates an event, /help shows "
        "all commands.",
        role=guesser.t("organiser"),
        organisation=ORG,
    )
    joins = [(ok, d) for a, ok, d in await audit(core) if a == "join"]
    assert joins[1:] == [(False, "wrong or expired code")] * 5 + [
        (False, "throttled"),
        (True, "organiser"),
    ]


async def test_cancelevent_can_be_called_off(room: Chatroom, core: Core) -> None:
    orga = await organiser(room, locale="ru")
    event_id = await demo_event_of_new_org(core, "offener-treff-leipzig")
    going = await registered(room, "going", "ar")
    await going.presses(f"r:{event_id}:g:-")
    await orga.says(f"/cancelevent {event_id}")
    await orga.taps("No, keep the event")
    assert orga.last[0].replace
    before, after = orga.t("Nothing changed: “{title}” takes place.").split("{title}")
    assert before in orga.text and after in orga.text, orga.text
    async with core.db.transaction() as s:
        event = await s.get(Event, event_id)
    assert event is not None and event.status == "published"
    assert going.inbox == []


async def test_refused_broadcast_buttons_are_audited(room: Chatroom, core: Core) -> None:
    orga = await organiser(room, locale="en")
    await demo_event_of_new_org(core, "offener-treff-leipzig")
    async with core.db.transaction() as s:
        foreign = await s.scalar(select(Event).where(Event.organisation_id != ORG_NUMBER))
    assert foreign is not None
    await orga.says("/broadcast")
    await orga.taps("📅 People who answered an event")
    await orga.presses(f"bc:v:{foreign.id}")
    orga.sees("You can only write to the people who answered your events.")

    broadcast, _total = await core.services.broadcasts.send(
        foreign.organisation_id, 1, {"de": "Hallo"}, Audience((), (), None)
    )
    await orga.presses(f"bc:r:{broadcast}")
    orga.sees("This announcement was sent for an organisation you do not act for.")
    async with core.db.transaction() as s:
        refused = [
            (e.action, e.organisation_id, e.detail)
            for e in await s.scalars(select(AuditEntry).where(AuditEntry.allowed.is_(False)))
        ]
    assert refused == [
        ("broadcast", foreign.organisation_id, "event of another one"),
        ("broadcast", foreign.organisation_id, "not their broadcast"),
    ]
