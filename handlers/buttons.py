"""Every kind of button the handlers put on a message, each with its prefix and typed fields.

One module, so that the whole wire vocabulary is seen at once and handlers can build each
other's buttons (an event's card offers the calendar file of handlers/manage) without import
cycles. The page of events is declared in the core (bot.core.buttons.EventsPage): the answer
to every stale button leads there. Packing and unpacking live in the base class.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal, Self, cast, get_args

from bot.core.buttons import Between, ButtonData, EventsPage, Locale, Matches, RowId
from bot.core.errors import StaleButton
from bot.services.interpreting import GenderWish, Minutes, Mode, Topic

AnswerCode = Literal["g", "m", "n"]
YesNo = Literal["y", "n"]
RoleName = Literal["organiser", "coordinator"]
EditableField = Literal["title", "description", "start", "place", "capacity"]
EDITABLE_FIELDS: tuple[EditableField, ...] = get_args(EditableField)
_BACK = re.compile(r"([sa])([0-9]{1,5})")


# -- events (handlers/events.py) -----------------------------------------------------------


@dataclass(frozen=True)
class Back:
    """Where "« Back" under an event's card leads: the page of events it was opened from."""

    mode: Literal["s", "a"]
    offset: int

    def pack_part(self) -> str:
        return f"{self.mode}{self.offset}"

    @classmethod
    def unpack_part(cls, raw: str) -> Self:
        """``a30`` is "all events, from the 31st"; ``s0`` "my topics, from the first"."""
        match = _BACK.fullmatch(raw)
        if match is None:
            raise StaleButton("bad back reference")
        return cls("s" if match[1] == "s" else "a", int(match[2]))

    def page(self) -> EventsPage:
        return EventsPage(self.mode, self.offset)


@dataclass(frozen=True)
class EventCard(ButtonData, prefix="e"):
    """An event's card, opened from a list (or from nowhere: ``back`` is None)."""

    event: RowId
    back: Back | None


@dataclass(frozen=True)
class AnswerEvent(ButtonData, prefix="r"):
    """Going, maybe or not going; the card it answers came from ``back``."""

    event: RowId
    answer: AnswerCode
    back: Back | None


@dataclass(frozen=True)
class WithdrawAnswer(ButtonData, prefix="w"):
    """An answer taken back (a removed reaction on Matrix); "not going" is never withdrawn."""

    event: RowId
    answer: Literal["g", "m"]


@dataclass(frozen=True)
class ReadMore(ButtonData, prefix="d"):
    """Part ``part`` of an event's whole description."""

    event: RowId
    part: Annotated[int, Between(1, 99)]


@dataclass(frozen=True)
class CalendarFile(ButtonData, prefix="ics"):
    """An event as a calendar file (handled in handlers/manage.py)."""

    event: RowId


# -- onboarding, topics, data -------------------------------------------------------------


@dataclass(frozen=True)
class PickLanguage(ButtonData, prefix="l"):
    code: Locale


@dataclass(frozen=True)
class PickSecondLanguage(ButtonData, prefix="l2"):
    """A second language, or None for "no second language"."""

    code: Locale | None


@dataclass(frozen=True)
class Consent(ButtonData, prefix="p"):
    """The answer to the privacy notice, read in the language ``code`` chosen before."""

    choice: YesNo
    code: Locale


@dataclass(frozen=True)
class ConsentThenAnswer(ButtonData, prefix="p"):
    """The answer to the privacy notice that an answer to an event asked for: agreeing
    records that answer too (it waits in the button, nothing is stored before)."""

    choice: YesNo
    code: Locale
    event: RowId
    answer: AnswerCode
    back: Back | None


@dataclass(frozen=True)
class TopicView(ButtonData, prefix="t"):
    """Switch the /topics message: ``c`` categories, ``r`` regions, ``d`` done (a summary)."""

    view: Literal["c", "r", "d"]


@dataclass(frozen=True)
class TopicToggle(ButtonData, prefix="t"):
    """Follow (``on``) or stop following a category (``c``) or region (``g``).

    It carries the state the press sets, never "flip": a double or replayed press lands on
    the same state."""

    kind: Literal["c", "g"]
    id: int
    on: bool


@dataclass(frozen=True)
class DeleteData(ButtonData, prefix="x"):
    choice: YesNo


# -- reminders, seat offers, settings (handlers/reminders.py, handlers/settings.py) -------

ReminderMinutes = Literal[10080, 1440, 120, 30]


def reminder_minutes(value: int) -> ReminderMinutes:
    """An offset as a button carries it; anything else is no reminder of ours."""
    if value not in get_args(ReminderMinutes):
        raise StaleButton("not a reminder offset")
    return cast(ReminderMinutes, value)


@dataclass(frozen=True)
class ReminderReply(ButtonData, prefix="rm"):
    """An answer under a reminder: ``s`` still going, ``g`` I'm going, ``n`` can't come."""

    event: RowId
    minutes: ReminderMinutes
    choice: Literal["s", "g", "n"]


@dataclass(frozen=True)
class OfferReply(ButtonData, prefix="of"):
    """Accept (``a``) or decline (``d``) the seat offered."""

    offer: RowId
    choice: Literal["a", "d"]


SettingsPage = Literal["m", "r", "n", "h", "w", "q", "z"]


@dataclass(frozen=True)
class SettingsView(ButtonData, prefix="st"):
    """A page of /settings: ``m`` main, ``r`` reminders, ``n`` new events, ``h`` digest hour,
    ``w`` digest day, ``q`` quiet hours, ``z`` time zone."""

    page: SettingsPage


@dataclass(frozen=True)
class SetReminder(ButtonData, prefix="st:r"):
    """Turn one reminder offset on or off; ``minutes`` 0 turns every reminder off."""

    minutes: Literal[10080, 1440, 120, 30, 0]
    on: bool


@dataclass(frozen=True)
class SetNews(ButtonData, prefix="st:n"):
    """How new events reach me: ``i`` at once, ``d`` daily, ``w`` weekly digest."""

    mode: Literal["i", "d", "w"]


@dataclass(frozen=True)
class SetDigestHour(ButtonData, prefix="st:h"):
    hour: Annotated[int, Between(0, 23)]


@dataclass(frozen=True)
class SetDigestDay(ButtonData, prefix="st:w"):
    weekday: Annotated[int, Between(0, 6)]


@dataclass(frozen=True)
class SetQuiet(ButtonData, prefix="st:q"):
    """Quiet hours from ``start`` to ``end`` o'clock; both None for none."""

    start: Annotated[int, Between(0, 23)] | None
    end: Annotated[int, Between(0, 23)] | None


@dataclass(frozen=True)
class SetZone(ButtonData, prefix="st:z"):
    """A time zone by its number in the list offered (IANA names do not fit 64 bytes well)."""

    index: Annotated[int, Between(0, 31)]


# -- organisations and roles (handlers/organisers.py) -------------------------------------


@dataclass(frozen=True)
class InviteRole(ButtonData, prefix="iv"):
    """/invite: an invite code for ``role``, in ``organisation`` (None: not chosen yet)."""

    role: RoleName
    organisation: RowId | None


@dataclass(frozen=True)
class RemoveRole(ButtonData, prefix="rr"):
    """/removerole: yes, take the role numbered ``membership`` away, or no, keep it."""

    membership: RowId
    choice: YesNo


# -- organisers: /newevent, /editevent, /cancelevent, /translate, /broadcast --------------


@dataclass(frozen=True)
class NewEventCategory(ButtonData, prefix="ne:c"):
    """The topic of the event being created."""

    id: RowId


@dataclass(frozen=True)
class NewEventInterpretation(ButtonData, prefix="ne:i"):
    """The preview's switch: interpretation on request yes (``y``) or no."""

    choice: YesNo


@dataclass(frozen=True)
class SetInterpretation(ButtonData, prefix="ev:i"):
    """/editevent: interpretation on request on or off."""

    event: RowId
    on: bool


@dataclass(frozen=True)
class NewEventRegion(ButtonData, prefix="ne:r"):
    """The region of the event being created."""

    id: RowId


@dataclass(frozen=True)
class NewEventFold(ButtonData, prefix="ne:f"):
    """Which of the two 02:30 on the night the clocks go back: 0 summer, 1 winter time."""

    fold: Literal[0, 1]


@dataclass(frozen=True)
class NewEventFinish(ButtonData, prefix="ne"):
    """Publish (``p``) or discard (``x``) the event being created, or change the language its
    text is in (``l``)."""

    action: Literal["p", "x", "l"]


@dataclass(frozen=True)
class NewEventLanguage(ButtonData, prefix="ne:l"):
    """The language the title and description of the event being created are written in."""

    code: Locale


@dataclass(frozen=True)
class EditEvent(ButtonData, prefix="ed"):
    event: RowId
    field: EditableField


@dataclass(frozen=True)
class CancelEvent(ButtonData, prefix="ce"):
    """Yes, cancel the event."""

    event: RowId


@dataclass(frozen=True)
class KeepEvent(ButtonData, prefix="ce:k"):
    """No, keep the event (the other answer to /cancelevent)."""

    event: RowId


@dataclass(frozen=True)
class TranslateEvent(ButtonData, prefix="tr"):
    event: RowId
    code: Locale


@dataclass(frozen=True)
class BroadcastStep(ButtonData, prefix="bc"):
    """A step of /broadcast: audience by topics (``t``) or by event (``e``), next (``n``),
    preview (``p``), send (``s``), discard (``x``)."""

    action: Literal["t", "e", "n", "p", "s", "x"]


@dataclass(frozen=True)
class BroadcastToggle(ButtonData, prefix="bc"):
    """Add (``on``) or remove a category (``c``) or region (``g``) of the audience."""

    kind: Literal["c", "g"]
    id: int
    on: bool


@dataclass(frozen=True)
class BroadcastEvent(ButtonData, prefix="bc:v"):
    """The audience: everyone who answered this event."""

    event: RowId


@dataclass(frozen=True)
class BroadcastLanguage(ButtonData, prefix="bc:l"):
    """Write a translation of the announcement in this language."""

    code: Locale


@dataclass(frozen=True)
class BroadcastProgress(ButtonData, prefix="bc:r"):
    """How far a sent announcement has got."""

    broadcast: RowId


def shipped(available: tuple[str, ...], code: str) -> str:
    """``code`` if the bot speaks that language, else the button is stale."""
    if code not in available:
        raise StaleButton("unknown language")
    return code


# -- interpreters (handlers/interpreting.py) ----------------------------------------------

LanguageCode = Annotated[str, Matches(r"[a-z]{2,3}")]
VarietyCode = Annotated[str, Matches(r"[a-z]{3,16}")]


@dataclass(frozen=True)
class NeedInterpreter(ButtonData, prefix="ip"):
    """ "🗣 I need an interpreter" under an event's card."""

    event: RowId


@dataclass(frozen=True)
class AskConsent(ButtonData, prefix="ip:ok"):
    """The consent to store the request (sensitive data): yes, or no."""

    choice: YesNo


@dataclass(frozen=True)
class AskEvent(ButtonData, prefix="ip:e"):
    """The event the interpreter is for; None: an organisation's counselling hours."""

    event: RowId | None


@dataclass(frozen=True)
class AskOrganisation(ButtonData, prefix="ip:o"):
    organisation: RowId


@dataclass(frozen=True)
class AskDuration(ButtonData, prefix="ip:t"):
    minutes: Minutes


@dataclass(frozen=True)
class AskLanguage(ButtonData, prefix="ip:l"):
    code: LanguageCode


@dataclass(frozen=True)
class AskVariety(ButtonData, prefix="ip:v"):
    """A variety of the language chosen; None: any variety will do."""

    code: VarietyCode | None


@dataclass(frozen=True)
class AskMode(ButtonData, prefix="ip:m"):
    mode: Mode


@dataclass(frozen=True)
class AskGender(ButtonData, prefix="ip:g"):
    gender: GenderWish


@dataclass(frozen=True)
class AskTopic(ButtonData, prefix="ip:c"):
    topic: Topic


@dataclass(frozen=True)
class AskNoName(ButtonData, prefix="ip:n"):
    """No first name or pseudonym for the interpreter to see."""

    none: Literal["n"]


@dataclass(frozen=True)
class AskSend(ButtonData, prefix="ip:s"):
    """Send the request (``s``) or discard it (``x``)."""

    action: Literal["s", "x"]


RequestVerb = Literal["x", "k", "c", "a", "d", "y", "n", "g", "m", "o", "w"]


@dataclass(frozen=True)
class RequestAction(ButtonData, prefix="iq"):
    """Something done to a request: ``x`` cancel and ``k`` keep (requester), ``c`` claim,
    ``a`` accept and ``d`` decline an offer, ``g`` give it up (interpreter), ``y`` confirm and
    ``n`` turn down a claim, ``o`` choose an interpreter to offer it to and ``w`` take an
    offer back (coordinator), ``m``
    a message to the other side (requester or confirmed interpreter)."""

    request: RowId
    verb: RequestVerb


@dataclass(frozen=True)
class NewRequest(ButtonData, prefix="iq:new"):
    """ "New request" under the list of one's requests."""

    go: Literal["y"]


@dataclass(frozen=True)
class OfferTo(ButtonData, prefix="iq:o"):
    """A coordinator offers the request to this interpreter of the pool."""

    request: RowId
    interpreter: RowId


PoolVerb = Literal["verify", "pause", "resume", "remove"]


@dataclass(frozen=True)
class PoolAction(ButtonData, prefix="ipl"):
    """A coordinator verifies, pauses, resumes or removes an interpreter."""

    interpreter: RowId
    verb: PoolVerb


@dataclass(frozen=True)
class PoolView(ButtonData, prefix="ipl:v"):
    """The pool of one organisation (/interpreters)."""

    organisation: RowId


PatternCode = Literal["c", "b", "a"]


@dataclass(frozen=True)
class PoolPattern(ButtonData, prefix="ipl:m"):
    """How an organisation places requests: ``c`` coordinators offer them, ``b`` interpreters
    claim and a coordinator confirms, ``a`` interpreters claim and are confirmed at once."""

    organisation: RowId
    pattern: PatternCode


@dataclass(frozen=True)
class JoinPool(ButtonData, prefix="ir:o"):
    """/interpreter_register: the organisation whose pool to join."""

    organisation: RowId


@dataclass(frozen=True)
class PickInterpreting(ButtonData, prefix="ir:l"):
    """/interpreter_register: a language on or off (``code`` None: done)."""

    code: LanguageCode | None


@dataclass(frozen=True)
class PickVariety(ButtonData, prefix="ir:v"):
    """/interpreter_register: a variety of a chosen language on or off (None: done)."""

    code: Annotated[str, Matches(r"[a-z]{2,3}-[a-z]{3,16}")] | None


@dataclass(frozen=True)
class PickGender(ButtonData, prefix="ir:g"):
    """/interpreter_register: ``n`` for not saying."""

    gender: Literal["woman", "man", "n"]


@dataclass(frozen=True)
class Pledge(ButtonData, prefix="ir:p"):
    choice: YesNo
