"""Interpreter requests from "I need an interpreter" to a confirmed interpreter: both ways of
placing them, in Arabic and Farsi for the people asking and German for the coordinator, with
cancellations from either side, a cancelled event, unfilled requests, and what each side may
see — on the bot's clock, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import select

from bot.app.core import Core
from bot.i18n.text import plain
from bot.services.interpreting import LANGUAGES, Draft, offers_interpretation
from storage.models import AuditEntry, Event, Interpreter, InterpreterRequest, OutboxMessage
from storage.repositories import CatalogRepository
from tests.fakes import Chatroom, FakeClock, Person, registered
from tests.test_organisers import INVITE, organiser
from tests.test_reminders import utc

ORG = "Kültür Kollektiv Leipzig e. V."
ORG_NUMBER = 9  # the demo data holds eight organisations
SENT = (
    "📨 Your request has been sent. I will tell you at every change; /interpreter shows its status."
)
NEW_FOR_COORDINATOR = "🆕 A new request for an interpreter:"
OFFER_TO_YOU = "👉 A coordinator asks you to take this request:"
CAN_TAKE = "🆕 A request you can take:"
CONFIRMED = "✅ Your interpreter is confirmed."


def consent_asked(person: Person) -> bool:
    """The consent text comes first: its buttons are there, and it says how long the request
    is kept."""
    data = {b.data for b in person.buttons()}
    return {"ip:ok:y", "ip:ok:n"} <= data and "30" in person.text


def bare(text: str) -> str:
    """Plain text without the marks that keep names intact in right-to-left text."""
    return plain(text).replace("\u2068", "").replace("\u2069", "")


def received(person: Person, message: str) -> list[str]:
    """The notices in the person's inbox that start like ``message`` (in their language)."""
    start = person.t(message).split("{")[0]
    return [bare(r.text) for r in person.inbox if bare(r.text).startswith(start)]


def open_notice(person: Person, message: str) -> None:
    """Look at the last notice that starts like ``message``, to tap its buttons."""
    start = person.t(message).split("{")[0]
    found = [r for r in person.inbox if plain(r.text).startswith(start)]
    assert found, f"no {message!r} in {[plain(r.text)[:60] for r in person.inbox]}"
    person.last = [found[-1]]


async def due(core: Core) -> None:
    await core.services.interpreting.run_due()
    await core.delivery.run_once()


async def event_with_interpretation(
    core: Core, starts_at: object, *, title: str = "Elternabend mit Sprachmittlung"
) -> int:
    async with core.db.transaction() as s:
        catalog = CatalogRepository(s)
        category_id = await catalog.category_id("families")
        region_id = await catalog.region_id("leipzig")
    assert category_id is not None and region_id is not None
    assert isinstance(starts_at, type(utc(2026, 1, 1)))
    event_id, _told = await core.services.events.publish(
        organisation_id=ORG_NUMBER,
        category_id=category_id,
        region_id=region_id,
        locale="de",
        title=title,
        description="Auf Anfrage kann Sprachmittlung bereitgestellt werden.",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=2),
        place="Eisenbahnstraße 1, Leipzig",
        online_url=None,
        capacity=None,
        registration_deadline=None,
        timezone="Europe/Berlin",
        interpretation=True,
    )
    return event_id


async def coordinator_of_org(room: Chatroom) -> Person:
    """The umbrella admin (there already) invites a German-speaking coordinator."""
    admin = room.person("umbrella-admin", "en")
    await admin.says(f"/invite coordinator {ORG_NUMBER}")
    code = INVITE.search(admin.text)
    assert code, admin.text
    coordinator = await registered(room, "koordinatorin", "de")
    await coordinator.says(f"/join {code.group(0)}")
    return coordinator


async def interpreter_joins(
    room: Chatroom, user_id: str, locale: str, languages: list[str], *, name: str, gender: str
) -> Person:
    """Registers through /interpreter_register: organisation, languages and varieties, gender,
    the name shown, the pledge."""
    person = await registered(room, user_id, locale)
    await person.says("/interpreter_register")
    await person.taps(ORG)
    for code in dict.fromkeys(code.split("-")[0] for code in languages):
        await person.presses(f"ir:l:{code}")
    await person.taps("✔ Done")
    if any(LANGUAGES[code.split("-")[0]] for code in languages):
        for code in languages:
            if "-" in code:
                await person.presses(f"ir:v:{code}")
        await person.taps("✔ Done")
    await person.presses(f"ir:g:{gender}")
    await person.says(name)
    assert {"ir:p:y", "ir:p:n"} <= {b.data for b in person.buttons()}  # the pledge
    await person.taps("✅ I promise")
    person.sees(
        "Thank you. A coordinator of {organisation} will verify you; until then you see no "
        "requests. I will tell you. /requests shows your status.",
        organisation=ORG,
    )
    return person


async def ask(
    person: Person,
    event_id: int | None,
    *,
    language: str,
    variety: str | None,
    mode: str = "onsite",
    gender: str = "any",
    name: str | None,
) -> None:
    """The whole /interpreter conversation, ending with "Send"."""
    if event_id is None:
        await person.says("/interpreter")
    else:
        await person.presses(f"ip:{event_id}")  # the button under the event's card
    assert consent_asked(person)
    await person.taps("✅ I agree")
    if event_id is None:
        return
    await person.presses(f"ip:l:{language}")
    if LANGUAGES[language]:
        await person.presses(f"ip:v:{variety or '-'}")
    await person.presses(f"ip:m:{mode}")
    await person.presses(f"ip:g:{gender}")
    if name is None:
        await person.taps("Without a name")
    else:
        await person.says(name)
    person.sees("Please check your request:")
    await person.taps("📨 Send request")


async def requests_of(core: Core) -> list[InterpreterRequest]:
    async with core.db.transaction() as s:
        return list(await s.scalars(select(InterpreterRequest).order_by(InterpreterRequest.id)))


async def test_coordinator_places_an_arabic_request_with_a_relayed_question(
    room: Chatroom, core: Core, clock: FakeClock
) -> None:
    await organiser(room, "orga", "de")
    coordinator = await coordinator_of_org(room)
    event_id = await event_with_interpretation(core, utc(2026, 11, 30, 17))
    interpreter = await interpreter_joins(
        room, "samira", "en", ["ar-levantine", "ar-iraqi"], name="Samira", gender="woman"
    )
    # The coordinator is told someone waits to be verified; the interpreter sees nothing yet.
    open_notice(
        coordinator, "🆕 Someone registered as an interpreter and waits for you to verify them:"
    )
    await interpreter.says("/requests")
    interpreter.sees("waiting for a coordinator to verify you")

    # The card offers the way to ask; an Arabic speaker asks, with a pseudonym.
    amal = await registered(room, "amal-7731", "ar")
    await amal.presses(f"e:{event_id}:-")
    amal.button("🗣 I need an interpreter")
    await ask(amal, event_id, language="ar", variety="levantine", gender="woman", name="Amal")
    amal.sees(SENT)
    [request] = await requests_of(core)
    assert (request.language, request.variety, request.status) == ("ar", "levantine", "requested")
    assert request.topic == "event" and request.pseudonym == "Amal"

    # The unverified interpreter is not told; the coordinator is, in German.
    assert received(interpreter, OFFER_TO_YOU) == []
    assert received(interpreter, CAN_TAKE) == []
    assert len(received(coordinator, NEW_FOR_COORDINATOR)) == 1
    await interpreter.says("/requests")
    assert "Eisenbahnstraße" not in interpreter.text

    # Verified through /interpreters, then offered the request; nobody else fits.
    await coordinator.says("/interpreters")
    coordinator.sees("not verified yet")
    await coordinator.taps("✅ Verify")
    assert (
        len(
            received(
                interpreter,
                "✅ A coordinator of {organisation} has verified you. /requests shows what you "
                "can take.",
            )
        )
        == 1
    )
    open_notice(coordinator, NEW_FOR_COORDINATOR)
    await coordinator.taps("👉 Offer to an interpreter")
    await coordinator.taps("Samira")
    coordinator.sees("👉 Offered. I will tell you the answer.")
    assert len(received(amal, "⏳ A coordinator has asked an interpreter for your request.")) == 1

    # The interpreter accepts; the requester learns the interpreter's name, and the
    # interpreter now the pseudonym.
    open_notice(interpreter, OFFER_TO_YOU)
    assert "Amal" not in interpreter.text
    await interpreter.taps("✅ Accept")
    interpreter.sees("🙂 You interpret for: {name}", name="Amal")
    [confirmed] = received(amal, CONFIRMED)
    assert amal.t("Your interpreter: {name}", name="Samira") in confirmed
    assert len(received(coordinator, "✅ The interpreter accepted:")) == 1

    # A question and its answer, relayed both ways, each side in their own language.
    amal.last = [amal.inbox[-1]]
    await amal.taps("✉ Message the interpreter")
    await amal.says("أين نلتقي؟")
    amal.sees("✉ Passed on.")
    [question] = [plain(r.text) for r in interpreter.inbox if "أين نلتقي؟" in plain(r.text)]
    assert (
        interpreter.t("✉ Message about request {id} from {who}:", id=request.id, who="Amal")
        in question
    )
    interpreter.last = [interpreter.inbox[-1]]
    await interpreter.taps("↩ Reply")
    await interpreter.says("At the entrance, 10 minutes before.")
    [answer] = [bare(r.text) for r in amal.inbox if "At the entrance" in plain(r.text)]
    who = amal.t("your interpreter {name}", name="Samira")
    assert amal.t("✉ Message about request {id} from {who}:", id=request.id, who=who) in answer

    # The requester cancels: the interpreter hears of it at once (the event is in a week).
    await amal.says("/interpreter")
    amal.sees("Your requests for an interpreter:")
    await amal.taps("✖ Cancel this request")
    amal.sees("✖ Your request has been cancelled. Whoever was working on it is told.")
    assert (
        len(received(interpreter, "✖ Cancelled: you are no longer needed for this appointment."))
        == 1
    )
    [request] = await requests_of(core)
    assert (request.status, request.cancelled_by) == ("cancelled", "requester")

    # Nothing the interpreter received before confirmation named the requester.
    async with core.db.transaction() as s:
        requester_id = await s.scalar(
            select(InterpreterRequest.user_id).where(InterpreterRequest.id == request.id)
        )
    assert requester_id is not None


async def test_what_an_interpreter_sees_before_confirmation_never_names_the_requester(
    room: Chatroom, core: Core
) -> None:
    await organiser(room, "orga", "de")
    coordinator = await coordinator_of_org(room)
    event_id = await event_with_interpretation(core, utc(2026, 11, 30, 17))
    interpreter = await interpreter_joins(
        room, "samira", "en", ["ar"], name="Samira", gender="woman"
    )
    await coordinator.says("/interpreters")
    await coordinator.taps("✅ Verify")
    amal = await registered(room, "amal-7731", "ar")
    await ask(amal, event_id, language="ar", variety="maghrebi", name="Amal Haddad")
    open_notice(coordinator, NEW_FOR_COORDINATOR)
    await coordinator.taps("👉 Offer to an interpreter")
    await coordinator.taps("Samira")
    seen = [plain(r.text) for r in interpreter.inbox]
    await interpreter.says("/requests")
    seen += [plain(r.text) for r in interpreter.last]
    for reply in [*interpreter.inbox, *interpreter.last]:
        seen += [b.label + " " + b.data for b in reply.all_buttons()]
    async with core.db.transaction() as s:
        user_id = await s.scalar(select(InterpreterRequest.user_id))
    forbidden = ["amal", "7731", "Haddad", f"user {user_id}", f"user_id {user_id}"]
    everything = "\n".join(seen)
    assert core.services.interpreting is not None
    assert "Request" in everything  # the request itself was shown
    for word in forbidden:
        assert word.casefold() not in everything.casefold(), word


async def pool_of_two(room: Chatroom, core: Core, pattern: str) -> tuple[Person, Person, Person]:
    """The organisation with a German coordinator and two verified Dari interpreters; requests
    are placed the way ``pattern`` names (a /interpreters button)."""
    await organiser(room, "orga", "de")
    coordinator = await coordinator_of_org(room)
    first = await interpreter_joins(
        room, "nasrin", "en", ["fa-dari"], name="Nasrin", gender="woman"
    )
    second = await interpreter_joins(room, "javad", "de", ["fa"], name="Javad", gender="man")
    await coordinator.says("/interpreters")
    for _entry in (first, second):
        await coordinator.says("/interpreters")
        await coordinator.taps("✅ Verify")
    await coordinator.says("/interpreters")
    await coordinator.taps(pattern)
    return coordinator, first, second


BOARD = "Interpreters claim requests; a coordinator confirms"
BOARD_AUTO = "Interpreters claim requests; confirmed at once"


async def test_interpreters_claim_a_farsi_request_first_claim_wins_and_the_event_is_cancelled(
    room: Chatroom, core: Core, clock: FakeClock
) -> None:
    coordinator, nasrin, javad = await pool_of_two(room, core, BOARD)
    event_id = await event_with_interpretation(core, utc(2026, 11, 27, 17))
    orga = room.person("orga", "de")
    zahra = await registered(room, "zahra", "fa")
    await ask(zahra, event_id, language="fa", variety="dari", name=None)
    zahra.sees(SENT)

    # Both speak Dari: both may claim; the coordinator is not asked to place it.
    assert len(received(nasrin, CAN_TAKE)) == 1
    assert len(received(javad, CAN_TAKE)) == 1
    assert received(coordinator, NEW_FOR_COORDINATOR) == []
    open_notice(javad, CAN_TAKE)
    await javad.taps("🙋 I take it")
    javad.sees("🙋 Claimed. A coordinator confirms it; I will tell you.")
    open_notice(nasrin, CAN_TAKE)
    await nasrin.taps("🙋 I take it")
    nasrin.sees("Someone else has already taken this request.")
    assert (
        len(
            received(
                zahra, "⏳ An interpreter wants to take your request; a coordinator confirms it."
            )
        )
        == 1
    )

    # The coordinator confirms the claim, in German.
    open_notice(coordinator, "🙋 An interpreter has claimed this request; please confirm it:")
    await coordinator.taps("✅ Confirm")
    coordinator.sees("✅ Confirmed.")
    assert len(received(javad, "✅ Your claim is confirmed: the appointment is yours.")) == 1
    [confirmed] = received(zahra, CONFIRMED)
    assert zahra.t("Your interpreter: {name}", name="Javad") in confirmed
    await zahra.says("/myevents")
    zahra.sees("You have not answered any upcoming event yet. /events shows what is coming up.")
    await zahra.presses(f"r:{event_id}:g:-")
    await zahra.says("/myevents")
    zahra.sees(
        "🗣 Your request for an interpreter: {status} (/interpreter)", status=zahra.t("confirmed")
    )

    # The organiser cancels the event at night, less than a day before: the interpreter hears
    # at once, whatever the quiet hours; the person asking too (the event is near).
    clock.now = utc(2026, 11, 26, 22)  # 23:00 in Berlin
    await orga.says(f"/cancelevent {event_id}")
    await orga.taps("Yes, cancel the event")
    cancelled = "✖ Cancelled: you are no longer needed for this appointment."
    assert len(received(javad, cancelled)) == 1
    assert received(nasrin, cancelled) == []
    # The person who asked is in her quiet hours: she hears in the morning, with the event.
    told = "✖ Your request was cancelled because the event was cancelled."
    assert received(zahra, told) == []
    clock.now = utc(2026, 11, 27, 7)
    await core.delivery.run_once()
    assert len(received(zahra, told)) == 1
    [request] = await requests_of(core)
    assert (request.status, request.cancelled_by) == ("cancelled", "organiser")


async def test_claims_confirmed_at_once_and_an_interpreter_who_gives_up(
    room: Chatroom, core: Core
) -> None:
    coordinator, nasrin, javad = await pool_of_two(room, core, BOARD_AUTO)
    event_id = await event_with_interpretation(core, utc(2026, 12, 2, 17))
    zahra = await registered(room, "zahra", "fa")
    # A woman is wished: only Nasrin is told.
    await ask(zahra, event_id, language="fa", variety="dari", gender="woman", name="Zari")
    assert len(received(nasrin, CAN_TAKE)) == 1
    assert received(javad, CAN_TAKE) == []
    open_notice(nasrin, CAN_TAKE)
    await nasrin.taps("🙋 I take it")
    nasrin.sees("✅ It is yours: you are confirmed for this appointment.")
    nasrin.sees("🙂 You interpret for: {name}", name="Zari")
    assert len(received(zahra, CONFIRMED)) == 1

    # She can no longer come: the request is open again, and offered to the board again.
    await nasrin.says("/requests")
    await nasrin.taps("🚫 I can no longer come")
    nasrin.sees(
        "Understood. The request is open again; the requester and the coordinators are told."
    )
    assert (
        len(
            received(zahra, "⚠️ Your interpreter can no longer come. I am looking for someone else.")
        )
        == 1
    )
    assert (
        len(
            received(
                coordinator, "⚠️ The interpreter can no longer come; the request is open again:"
            )
        )
        == 1
    )
    assert len(received(nasrin, CAN_TAKE)) == 1, "not offered back to the one who gave it up"
    assert received(coordinator, NEW_FOR_COORDINATOR) == [], "told once, not twice"
    [request] = await requests_of(core)
    assert (request.status, request.interpreter_id) == ("requested", None)


async def test_nobody_takes_it_and_the_request_is_unfilled_in_time(
    room: Chatroom, core: Core, clock: FakeClock
) -> None:
    await organiser(room, "orga", "de")
    coordinator = await coordinator_of_org(room)
    orga = room.person("orga", "de")
    event_id = await event_with_interpretation(core, utc(2026, 11, 28, 17))
    amal = await registered(room, "amal", "ar")
    await ask(amal, event_id, language="ar", variety="sudanese", name=None)
    # Nobody answers. A day before the event (the configured lead time) it is unfilled.
    clock.now = utc(2026, 11, 27, 16, 59)
    await due(core)
    unfilled = (
        "⚠️ Sorry: no interpreter could be found in time for your request. Please contact the "
        "organisation directly."
    )
    assert received(amal, unfilled) == []
    clock.now = utc(2026, 11, 27, 17)
    await due(core)
    assert (
        len(
            received(
                amal,
                "⚠️ Sorry: no interpreter could be found in time for your request. Please "
                "contact the organisation directly.",
            )
        )
        == 1
    )
    assert (
        len(received(orga, "⚠️ No interpreter was found in time for a request for your event:")) == 1
    )
    assert len(received(coordinator, "⚠️ No interpreter was found in time for this request:")) == 1
    await due(core)  # once only
    assert len(received(amal, unfilled)) == 1
    [request] = await requests_of(core)
    assert request.status == "unfilled"
    # The organiser sees it per event, by language and variety.
    await orga.says(f"/attendees {event_id}")
    orga.sees(
        "🗣 {language}: {statuses}",
        language=orga.t("{language} – {variety}", language="Arabisch", variety=orga.t("Sudanese")),
        statuses=f"1 {orga.t('no interpreter was found')}",
    )
    # Too late for a new request now: said at once, before any question.
    zahra = await registered(room, "zahra", "fa")
    await zahra.presses(f"ip:{event_id}")
    assert not consent_asked(zahra)
    zahra.sees_n(
        "This is too soon: a request must reach the organisation at least {n} hour before. "
        "Please contact the organisation directly.",
        "This is too soon: a request must reach the organisation at least {n} hours before. "
        "Please contact the organisation directly.",
        24,
    )
    assert len(await requests_of(core)) == 1


async def test_only_coordinators_place_and_vet_and_only_the_one_asked_answers(
    room: Chatroom, core: Core
) -> None:
    coordinator, nasrin, javad = await pool_of_two(
        room, core, "Coordinators offer each request to an interpreter"
    )
    event_id = await event_with_interpretation(core, utc(2026, 12, 2, 17))
    zahra = await registered(room, "zahra", "fa")
    await ask(zahra, event_id, language="fa", variety=None, name=None)
    [request] = await requests_of(core)
    async with core.db.transaction() as s:
        pool = list(await s.scalars(select(Interpreter.id).order_by(Interpreter.id)))
    refusal = "Sorry, only the organisation's coordinators can do this."
    for forged in (f"iq:{request.id}:o", f"iq:o:{request.id}:{pool[0]}", f"ipl:{pool[0]}:pause"):
        await zahra.presses(forged)
        zahra.sees(refusal)
    await zahra.says("/interpreters")
    zahra.sees(refusal)
    async with core.db.transaction() as s:
        refused = list(
            await s.scalars(select(AuditEntry.detail).where(AuditEntry.allowed.is_(False)))
        )
    assert len(refused) >= 4
    [offered] = await requests_of(core)
    assert offered.status == "requested"

    # Offered to Nasrin: Javad cannot accept it for her.
    open_notice(coordinator, NEW_FOR_COORDINATOR)
    await coordinator.taps("👉 Offer to an interpreter")
    await coordinator.taps("Nasrin")
    await javad.presses(f"iq:{request.id}:a")
    javad.sees("This request is not for you.")
    open_notice(nasrin, OFFER_TO_YOU)
    await nasrin.taps("✖ Decline")
    nasrin.sees("Declined. The coordinator will ask someone else.")
    assert (
        len(received(coordinator, "✖ The interpreter declined; please offer it to someone else:"))
        == 1
    )
    [declined] = await requests_of(core)
    assert (declined.status, declined.interpreter_id) == ("requested", None)
    searching = "⏳ That interpreter cannot take your request after all. I am still looking for "
    assert len(received(zahra, searching + "someone.")) == 1

    # A paused interpreter is offered nothing and sees nothing.
    await coordinator.says("/interpreters")
    coordinator.last = [r for r in coordinator.last if "Javad" in plain(r.text)]
    await coordinator.taps("⏸ Pause")
    open_notice(coordinator, "✖ The interpreter declined; please offer it to someone else:")
    await coordinator.taps("👉 Offer to an interpreter")
    assert "Javad" not in " ".join(b.label for b in coordinator.buttons())
    await javad.says("/requests")
    javad.sees("paused by a coordinator")
    assert javad.t("Open requests you can take:") not in javad.text


async def test_counselling_hours_in_farsi_with_a_topic_and_the_limit_on_open_requests(
    room: Chatroom, core: Core
) -> None:
    await organiser(room, "orga", "de")
    coordinator = await coordinator_of_org(room)
    zahra = await registered(room, "zahra", "fa")
    for n in range(3):
        await zahra.says("/interpreter")
        if n:
            await zahra.taps("➕ New request")
        await zahra.taps("✅ I agree")
        await zahra.taps("🏢 Counselling hours of an organisation")
        await zahra.taps(ORG)
        await zahra.says("not a date")
        zahra.sees("I could not read this date. Please write it like 05.12.2026 18:00.")
        await zahra.says(f"0{n + 1}.12.2026 10:00")
        await zahra.presses("ip:t:90")
        await zahra.presses("ip:l:fa")
        await zahra.presses("ip:v:farsi")
        await zahra.presses("ip:m:phone")
        await zahra.presses("ip:g:any")
        zahra.sees("What is it about? Choose a category only – please do not write details.")
        await zahra.presses("ip:c:health")
        await zahra.says("@zahra_handle")
        zahra.sees(
            "Please type only a first name or a pseudonym, at most {n} characters, without @ "
            "or links.",
            n=30,
        )
        await zahra.taps("Without a name")
        if n == 2:
            # Meanwhile a third request was sent from her other messenger: this one is one
            # too many when it is sent.
            earlier = (await requests_of(core))[0]
            await core.services.interpreting.file(
                earlier.user_id or 0,
                Draft(
                    ORG_NUMBER,
                    None,
                    "fa",
                    None,
                    "phone",
                    "any",
                    "health",
                    utc(2026, 12, 9, 9),
                    60,
                    None,
                ),
            )
        await zahra.taps("📨 Send request")
    limit = (
        "You already have {n} open request for an interpreter. Please cancel it "
        "(/interpreter) before you make another.",
        "You already have {n} open requests for an interpreter. Please cancel one "
        "(/interpreter) before you make another.",
    )
    zahra.sees_n(*limit, 3)
    # A fourth is refused at once, before any question.
    await zahra.says("/interpreter")
    await zahra.taps("➕ New request")
    zahra.sees_n(*limit, 3)
    assert not consent_asked(zahra)
    requests = await requests_of(core)
    assert [(r.topic, r.mode, r.duration_minutes, r.event_id) for r in requests] == [
        ("health", "phone", 90, None),
        ("health", "phone", 90, None),
        ("health", "phone", 60, None),
    ]
    [notice, *_rest] = received(coordinator, NEW_FOR_COORDINATOR)
    assert coordinator.t("🏢 Counselling hours at {organisation}", organisation=ORG) in notice
    assert coordinator.t("🏷 Topic: {topic}", topic=coordinator.t("health")) in notice


async def test_not_going_offers_to_cancel_and_groups_see_nothing_of_it(
    room: Chatroom, core: Core
) -> None:
    await organiser(room, "orga", "de")
    coordinator = await coordinator_of_org(room)
    event_id = await event_with_interpretation(core, utc(2026, 12, 2, 17))
    amal = await registered(room, "amal", "ar")
    await amal.presses(f"r:{event_id}:g:-")
    await ask(amal, event_id, language="ar", variety=None, name=None)
    await amal.presses(f"r:{event_id}:n:-")
    amal.sees("You asked for an interpreter for this event. Shall I cancel that request?")
    await amal.taps("✖ Cancel the request")
    amal.sees("✖ Your request has been cancelled. Whoever was working on it is told.")
    assert len(received(coordinator, "✖ This request was cancelled:")) == 1

    # In a group: a pointer to the private chat, and no interpreter button on the card.
    in_group = room.person("amal", "en", private=False, chat_id="group-7", language_hint="en")
    pointer = "This is personal, so I only do it in a private chat. Please write to me directly."
    for command in ("/interpreter", "/requests", "/interpreter_register", "/interpreters"):
        await in_group.says(command)
        in_group.sees(pointer)
        assert all("ip" not in b.data for b in in_group.buttons())
    await in_group.presses(f"e:{event_id}:-")
    assert all(not b.data.startswith("ip:") for b in in_group.buttons())
    await in_group.presses(f"ip:{event_id}")
    in_group.sees(pointer)
    assert not consent_asked(in_group)
    for word in ("Sudanese", "Arabic", in_group.t("Your requests for an interpreter:")):
        assert word not in in_group.text


async def test_reminders_for_both_sides_and_a_change_reaches_the_interpreter(
    room: Chatroom, core: Core, clock: FakeClock
) -> None:
    _coordinator, nasrin, _javad = await pool_of_two(room, core, BOARD_AUTO)
    orga = room.person("orga", "de")
    event_id = await event_with_interpretation(core, utc(2026, 11, 28, 17))
    zahra = await registered(room, "zahra", "fa")
    await ask(zahra, event_id, language="fa", variety="dari", name="Zari")
    open_notice(nasrin, CAN_TAKE)
    await nasrin.taps("🙋 I take it")
    reminder = "⏰ Reminder: your appointment with interpreting starts {when}."
    clock.now = utc(2026, 11, 27, 16, 59)
    await due(core)
    assert received(nasrin, reminder) == [] and received(zahra, reminder) == []
    clock.now = utc(2026, 11, 27, 17)
    await due(core)
    await due(core)
    assert len(received(nasrin, reminder)) == 1
    assert len(received(zahra, reminder)) == 1
    # The organiser moves the event by an hour that evening: the interpreter hears at once.
    clock.now = utc(2026, 11, 27, 21, 30)  # 22:30 in Berlin, in her quiet hours
    await orga.says(f"/editevent {event_id}")
    await orga.taps("Date and time")
    await orga.says("28.11.2026 19:00")
    changed = "✏️ The appointment has changed – please check the time and place:"
    [notice] = received(nasrin, changed)
    assert "19:00" in notice
    [request] = await requests_of(core)
    assert request.starts_at == utc(2026, 11, 28, 18)
    # After it, the request is done; some days later nothing of it points at anyone.
    clock.now = utc(2026, 11, 28, 21)
    await due(core)
    [request] = await requests_of(core)
    assert request.status == "done"


async def test_after_the_retention_period_no_row_refers_to_the_person_and_counts_stay(
    room: Chatroom, core: Core, clock: FakeClock
) -> None:
    coordinator, nasrin, _javad = await pool_of_two(room, core, BOARD_AUTO)
    orga = room.person("orga", "de")
    event_id = await event_with_interpretation(core, utc(2026, 11, 28, 17))
    zahra = await registered(room, "zahra", "fa")
    await ask(zahra, event_id, language="fa", variety="dari", name="Zari")
    open_notice(nasrin, CAN_TAKE)
    await nasrin.taps("🙋 I take it")
    await zahra.says("/interpreter")
    await zahra.taps("✉ Message the interpreter")
    await zahra.says("سلام")
    clock.now = utc(2026, 12, 28, 18, 59)  # 30 days after the end, less a minute
    await due(core)
    [request] = await requests_of(core)
    assert request.user_id is not None and request.status == "done"
    clock.now = utc(2026, 12, 28, 19)
    await due(core)
    [request] = await requests_of(core)
    assert (request.user_id, request.interpreter_id, request.pseudonym, request.topic) == (
        None,
        None,
        None,
        None,
    )
    assert (request.language, request.variety, request.status) == ("fa", "dari", "done")
    async with core.db.transaction() as s:
        kinds = list(
            await s.scalars(
                select(OutboxMessage.kind).where(
                    OutboxMessage.kind.like("interp%"), OutboxMessage.kind != "interp_pool"
                )
            )
        )
    assert kinds == []
    await zahra.says("/interpreter")
    assert consent_asked(zahra)  # nothing of hers is left to show
    await zahra.says("/cancel")
    await orga.says("/report 01.11.2026 31.12.2026")
    report = orga.last[0].attachment
    assert report is not None
    assert ",fa-dari:done=1" in report.content.decode("utf-8-sig")
    assert str(event_id) in report.content.decode("utf-8-sig")
    del coordinator


async def test_deleting_ones_data_cancels_the_request_and_tells_the_interpreter(
    room: Chatroom, core: Core
) -> None:
    _coordinator, nasrin, _javad = await pool_of_two(room, core, BOARD_AUTO)
    event_id = await event_with_interpretation(core, utc(2026, 12, 2, 17))
    zahra = await registered(room, "zahra", "fa")
    await ask(zahra, event_id, language="fa", variety=None, name="Zari")
    open_notice(nasrin, CAN_TAKE)
    await nasrin.taps("🙋 I take it")
    await zahra.says("/deletedata")
    await zahra.taps("🗑 Yes, delete everything")
    assert len(received(nasrin, "✖ Cancelled: you are no longer needed for this appointment.")) == 1
    [request] = await requests_of(core)
    assert (request.user_id, request.pseudonym, request.status) == (None, None, "cancelled")
    # An interpreter who leaves gives back what they held.
    await ask(
        await registered(room, "amal", "ar"), event_id, language="fa", variety=None, name=None
    )
    open_notice(nasrin, CAN_TAKE)
    await nasrin.taps("🙋 I take it")
    await nasrin.says("/deletedata")
    await nasrin.taps("🗑 Yes, delete everything")
    second = (await requests_of(core))[1]
    assert (second.status, second.interpreter_id) == ("requested", None)
    async with core.db.transaction() as s:
        assert list(await s.scalars(select(Interpreter.name))) == ["Javad"]


def _calendar(description: str) -> bytes:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n"
        "BEGIN:VEVENT\r\nUID:werkstatt-1@example.org\r\nDTSTAMP:20261101T100000Z\r\n"
        "DTSTART;TZID=Europe/Berlin:20261210T170000\r\n"
        "DTEND;TZID=Europe/Berlin:20261210T190000\r\n"
        "SUMMARY:Werkstatt der Migrant*innenorganisationen\r\n"
        f"DESCRIPTION:{description}\r\nLOCATION:Dresden\r\n"
        "END:VEVENT\r\nBEGIN:VEVENT\r\nUID:lesung-2@example.org\r\n"
        "DTSTAMP:20261101T100000Z\r\nDTSTART;TZID=Europe/Berlin:20261211T170000\r\n"
        "SUMMARY:Lesung\r\nDESCRIPTION:Eine Lesung auf Deutsch.\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


async def test_an_imported_notice_that_offers_interpretation_gets_the_button(
    room: Chatroom, core: Core
) -> None:
    imports = core.services.imports
    offered = "Auf Anfrage kann Sprachmittlung bereitgestellt werden."
    await imports.import_calendar(_calendar(offered), ORG_NUMBER - 1)
    async with core.db.transaction() as s:
        flags = {
            uid: on
            for uid, on in await s.execute(
                select(Event.uid, Event.interpretation).where(Event.source == "ical")
            )
        }
    assert flags == {"werkstatt-1@example.org": True, "lesung-2@example.org": False}
    async with core.db.transaction() as s:
        werkstatt = await s.scalar(select(Event.id).where(Event.uid == "werkstatt-1@example.org"))
        lesung = await s.scalar(select(Event.id).where(Event.uid == "lesung-2@example.org"))
    amal = await registered(room, "amal", "ar")
    await amal.presses(f"e:{werkstatt}:-")
    amal.button("🗣 I need an interpreter")
    await amal.presses(f"e:{lesung}:-")
    assert all(not b.data.startswith("ip:") for b in amal.buttons())
    # The notice no longer offers it: neither does the card.
    await imports.import_calendar(_calendar("Ohne Übersetzung."), ORG_NUMBER - 1)
    await amal.presses(f"e:{werkstatt}:-")
    assert all(not b.data.startswith("ip:") for b in amal.buttons())
    await amal.presses(f"ip:{werkstatt}")
    amal.sees("This event does not offer interpretation (any more).")


async def test_organisers_switch_interpretation_on_in_newevent_and_off_in_editevent(
    room: Chatroom, core: Core
) -> None:
    orga = await organiser(room, "orga", "de")
    await orga.says("/newevent")
    await orga.says("Elterncafé")
    await orga.says("-")
    await orga.taps("Families")
    await orga.taps("Leipzig")
    await orga.says("10.12.2026 17:00")
    await orga.says("19:00")
    await orga.says("Eisenbahnstraße 1, Leipzig")
    await orga.says("-")
    await orga.says("-")
    orga.sees("Please check the event:")
    await orga.taps("🗣 Interpretation on request: off")
    orga.sees("🗣 Interpretation on request")
    assert "✅" in orga.button("🗣 Interpretation on request: on").label
    await orga.taps("✅ Publish")
    async with core.db.transaction() as s:
        event = await s.scalar(
            select(Event).where(Event.status == "published").order_by(Event.id.desc())
        )
    assert event is not None and event.interpretation
    await orga.says(f"/editevent {event.id}")
    await orga.taps("🗣 Interpretation on request: on")
    orga.sees("Saved: no more requests for an interpreter. Requests already made stay.")
    async with core.db.transaction() as s:
        found = await s.get(Event, event.id)
        assert found is not None
        await s.refresh(found)
    assert not found.interpretation


async def test_a_coordinator_takes_an_unanswered_offer_back_and_a_removed_interpreter_hears_nothing(
    room: Chatroom, core: Core
) -> None:
    coordinator, nasrin, javad = await pool_of_two(
        room, core, "Coordinators offer each request to an interpreter"
    )
    event_id = await event_with_interpretation(core, utc(2026, 12, 2, 17))
    zahra = await registered(room, "zahra", "fa")
    await ask(zahra, event_id, language="fa", variety=None, name=None)
    open_notice(coordinator, NEW_FOR_COORDINATOR)
    await coordinator.taps("👉 Offer to an interpreter")
    await coordinator.taps("Nasrin")
    # Nasrin does not answer: the coordinator takes it back and offers it to Javad.
    await coordinator.says("/requests")
    await coordinator.taps("↩ Take the offer back")
    coordinator.sees("Taken back; the request is open again.")
    assert len(received(nasrin, "The coordinator has taken this request back from you.")) == 1
    open_notice(nasrin, OFFER_TO_YOU)
    await nasrin.taps("✅ Accept")
    nasrin.sees("This request is not for you.")
    await coordinator.says("/requests")
    await coordinator.taps("👉 Offer to an interpreter")
    await coordinator.taps("Javad")
    open_notice(javad, OFFER_TO_YOU)
    await javad.taps("✅ Accept")
    # Javad is removed from the pool: the request is open again, nothing reaches him.
    await coordinator.says("/interpreters")
    coordinator.last = [r for r in coordinator.last if "Javad" in plain(r.text)]
    await coordinator.taps("🗑 Remove")
    coordinator.sees("Removed from the pool: {name}.", name="Javad")
    [request] = await requests_of(core)
    assert (request.status, request.interpreter_id) == ("requested", None)
    before = len(javad.inbox)
    await coordinator.says("/requests")
    await coordinator.taps("👉 Offer to an interpreter")
    assert "Javad" not in " ".join(b.label for b in coordinator.buttons())
    assert [plain(r.text)[:40] for r in javad.inbox[before:]] == []
    assert (
        len(
            received(zahra, "⚠️ Your interpreter can no longer come. I am looking for someone else.")
        )
        == 1
    )
    await javad.says("/requests")
    javad.sees(
        "You are not registered as an interpreter. /interpreter_register joins an "
        "organisation's pool; /interpreter asks for an interpreter."
    )


async def test_a_moved_event_is_told_to_all_sides_and_reminded_again_at_its_new_time(
    room: Chatroom, core: Core, clock: FakeClock
) -> None:
    coordinator, nasrin, _javad = await pool_of_two(room, core, BOARD_AUTO)
    orga = room.person("orga", "de")
    event_id = await event_with_interpretation(core, utc(2026, 11, 28, 17))
    zahra = await registered(room, "zahra", "fa")
    await ask(zahra, event_id, language="fa", variety="dari", name="Zari")
    open_notice(nasrin, CAN_TAKE)
    await nasrin.taps("🙋 I take it")
    reminder = "⏰ Reminder: your appointment with interpreting starts {when}."
    clock.now = utc(2026, 11, 27, 17)
    await due(core)
    assert len(received(nasrin, reminder)) == 1
    # Moved a week later: everyone concerned hears, and the reminders come again.
    clock.now = utc(2026, 11, 27, 18)
    await orga.says(f"/editevent {event_id}")
    await orga.taps("Date and time")
    await orga.says("05.12.2026 18:00")
    assert len(received(zahra, "✏️ The time or place of your appointment has changed:")) == 1
    assert len(received(coordinator, "✏️ The time or place of this request has changed:")) == 1
    assert (
        len(received(nasrin, "✏️ The appointment has changed – please check the time and place:"))
        == 1
    )
    clock.now = utc(2026, 12, 4, 17)
    await due(core)
    assert len(received(nasrin, reminder)) == 2
    assert len(received(zahra, reminder)) == 2


async def test_counselling_hours_without_a_coordinator_reach_the_organisers_and_the_report(
    room: Chatroom, core: Core, clock: FakeClock
) -> None:
    orga = await organiser(room, "orga", "de")
    amal = await registered(room, "amal", "ar")
    await amal.says("/interpreter")
    await amal.taps("✅ I agree")
    await amal.taps("🏢 Counselling hours of an organisation")
    await amal.taps(ORG)
    await amal.says("03.12.2026 10-11 Uhr")  # a time range: no question about the duration
    await amal.presses("ip:l:ku")
    await amal.presses("ip:v:sorani")
    await amal.presses("ip:m:video")
    await amal.presses("ip:g:any")
    await amal.presses("ip:c:school")
    await amal.taps("Without a name")
    await amal.taps("📨 Send request")
    [request] = await requests_of(core)
    assert (request.duration_minutes, request.event_id) == (60, None)
    [notice] = received(
        orga,
        "🆕 A request for an interpreter has come for your organisation, but it has no "
        "coordinator to place it. Invite one with /invite coordinator.",
    )
    assert orga.t("🏷 Topic: {topic}", topic=orga.t("school and childcare")) in notice
    clock.now = utc(2026, 12, 2, 9)
    await due(core)
    assert (
        len(
            received(orga, "⚠️ No interpreter was found in time for a request to your organisation:")
        )
        == 1
    )
    await orga.says("/report 01.11.2026 31.12.2026")
    report = orga.last[0].attachment
    assert report is not None
    rows = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    [counselling] = [r for r in rows if r[2] == "counselling hours"]
    assert len(counselling) == len(rows[0])
    assert counselling[0] == ORG
    assert counselling[rows[0].index("interpreter_requests")] == "ku-sorani:unfilled=1"


async def test_a_message_waiting_in_quiet_hours_goes_nowhere_once_the_interpreter_gave_up(
    room: Chatroom, core: Core, clock: FakeClock
) -> None:
    _coordinator, nasrin, _javad = await pool_of_two(room, core, BOARD_AUTO)
    event_id = await event_with_interpretation(core, utc(2026, 12, 2, 17))
    zahra = await registered(room, "zahra", "fa")
    await ask(zahra, event_id, language="fa", variety="dari", name="Zari")
    open_notice(nasrin, CAN_TAKE)
    await nasrin.taps("🙋 I take it")
    clock.now = utc(2026, 11, 23, 22)  # 23:00 in Berlin: Nasrin's quiet hours
    await zahra.says("/interpreter")
    await zahra.taps("✉ Message the interpreter")
    await zahra.says("آیا مدارکم را بیاورم؟")
    await nasrin.says("/requests")
    await nasrin.taps("🚫 I can no longer come")
    clock.now = utc(2026, 11, 24, 7)
    await core.delivery.run_once()
    assert not [r for r in nasrin.inbox if "مدارکم" in plain(r.text)]
    async with core.db.transaction() as s:
        relays = list(
            await s.scalars(select(OutboxMessage.id).where(OutboxMessage.kind == "interp_message"))
        )
    assert relays == []


def test_only_texts_that_offer_interpretation_switch_it_on() -> None:
    assert offers_interpretation("Auf Anfrage kann Sprachmittlung bereitgestellt werden.")
    assert offers_interpretation("Interpretation into Arabic is available on request.")
    assert offers_interpretation("Eine Lesung. Dolmetscher*innen für Farsi sind da.")
    assert not offers_interpretation("Leider keine Sprachmittlung möglich.")
    assert not offers_interpretation("Without interpretation. Eine Lesung auf Deutsch.")
    assert not offers_interpretation("Eine Lesung auf Deutsch.")
