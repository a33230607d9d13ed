"""Interpreter requests from "I need an interpreter" to a confirmed interpreter: both ways of
placing them, in Arabic and Farsi for the people asking and German for the coordinator, with
cancellations from either side, a cancelled event, unfilled requests, and what each side may
see — on the bot's clock, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.app.core import Core
from bot.i18n.text import plain
from bot.services.interpreting import LANGUAGES
from storage.models import InterpreterRequest
from storage.repositories import CatalogRepository
from tests.fakes import Chatroom, FakeClock, Person, registered
from tests.test_organisers import INVITE, organiser
from tests.test_reminders import utc

ORG = "Kültür Kollektiv Leipzig e. V."
ORG_NUMBER = 9  # the demo data holds eight organisations
CONSENT_START = "🗣 Asking for an interpreter"
SENT = (
    "📨 Your request has been sent. I will tell you at every change; /interpreter shows its status."
)
NEW_FOR_COORDINATOR = "🆕 A new request for an interpreter:"
OFFER_TO_YOU = "👉 A coordinator asks you to take this request:"
CAN_TAKE = "🆕 A request you can take:"
CONFIRMED = "✅ Your interpreter is confirmed."


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
    person.sees("Confidentiality pledge")
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
    assert person.t(CONSENT_START) in person.text
    await person.taps("✅ I agree")
    if event_id is None:
        return
    await person.presses(f"ip:l:{language}")
    if variety is not None:
        await person.presses(f"ip:v:{variety}")
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
    coordinator.sees("waiting for a coordinator to verify you")
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
