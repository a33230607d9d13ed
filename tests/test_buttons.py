"""Button codecs: every kind packs and unpacks to itself, forged data is stale, and every
registered route decodes the data of its own kind."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

import pytest

from bot.core.buttons import MAX_INT, Between, ButtonData, EventsPage, Matches
from bot.core.chat import MAX_BUTTON_DATA_BYTES, Button
from bot.core.conversations import Back
from bot.core.errors import StaleButton
from bot.core.registry import Registry
from handlers import build_registry
from handlers import buttons as kinds

# At least one example of every registered kind, at the ends of their ranges where they have
# any; the walk below fails when a kind is registered without one.
EXAMPLES: dict[type[ButtonData], list[ButtonData]] = {
    EventsPage: [EventsPage("a", 0), EventsPage("s", 99_999)],
    kinds.EventCard: [
        kinds.EventCard(1, None),
        kinds.EventCard(MAX_INT, kinds.Back("a", 99_999)),
        kinds.EventCard(7, kinds.Back("s", 0)),
    ],
    kinds.AnswerEvent: [
        kinds.AnswerEvent(MAX_INT, "n", kinds.Back("a", 99_999)),
        kinds.AnswerEvent(3, "g", None),
        kinds.AnswerEvent(3, "m", kinds.Back("s", 3)),
    ],
    kinds.WithdrawAnswer: [kinds.WithdrawAnswer(1, "g"), kinds.WithdrawAnswer(MAX_INT, "m")],
    kinds.ReadMore: [kinds.ReadMore(1, 1), kinds.ReadMore(MAX_INT, 99)],
    kinds.CalendarFile: [kinds.CalendarFile(MAX_INT)],
    kinds.PickLanguage: [kinds.PickLanguage("uk"), kinds.PickLanguage("pt_BR")],
    kinds.PickSecondLanguage: [kinds.PickSecondLanguage(None), kinds.PickSecondLanguage("fa")],
    kinds.Consent: [kinds.Consent("y", "ru"), kinds.Consent("n", "de")],
    kinds.ConsentThenAnswer: [
        kinds.ConsentThenAnswer("y", "pt_BR", MAX_INT, "g", kinds.Back("a", 99_999)),
        kinds.ConsentThenAnswer("n", "fa", 1, "m", None),
    ],
    kinds.TopicView: [kinds.TopicView("c"), kinds.TopicView("r"), kinds.TopicView("d")],
    kinds.TopicToggle: [kinds.TopicToggle("c", 0, True), kinds.TopicToggle("g", MAX_INT, False)],
    kinds.DeleteData: [kinds.DeleteData("y"), kinds.DeleteData("n")],
    kinds.ReminderReply: [
        kinds.ReminderReply(1, 10080, "s"),
        kinds.ReminderReply(MAX_INT, 30, "n"),
        kinds.ReminderReply(5, 1440, "g"),
    ],
    kinds.OfferReply: [kinds.OfferReply(1, "a"), kinds.OfferReply(MAX_INT, "d")],
    kinds.SettingsView: [kinds.SettingsView(p) for p in ("m", "r", "n", "h", "w", "q", "z")],
    kinds.SetReminder: [kinds.SetReminder(10080, True), kinds.SetReminder(0, False)],
    kinds.SetNews: [kinds.SetNews("i"), kinds.SetNews("w")],
    kinds.SetDigestHour: [kinds.SetDigestHour(0), kinds.SetDigestHour(23)],
    kinds.SetDigestDay: [kinds.SetDigestDay(0), kinds.SetDigestDay(6)],
    kinds.SetQuiet: [kinds.SetQuiet(None, None), kinds.SetQuiet(22, 8)],
    kinds.SetZone: [kinds.SetZone(0), kinds.SetZone(31)],
    kinds.NewEventCategory: [kinds.NewEventCategory(1), kinds.NewEventCategory(MAX_INT)],
    kinds.NewEventRegion: [kinds.NewEventRegion(1), kinds.NewEventRegion(MAX_INT)],
    Back: [Back("title"), Back("translations")],
    kinds.NewEventFold: [kinds.NewEventFold(0), kinds.NewEventFold(1)],
    kinds.NewEventFinish: [
        kinds.NewEventFinish("p"),
        kinds.NewEventFinish("x"),
        kinds.NewEventFinish("l"),
    ],
    kinds.NewEventLanguage: [kinds.NewEventLanguage("uk"), kinds.NewEventLanguage("fa")],
    kinds.EditEvent: [kinds.EditEvent(MAX_INT, f) for f in kinds.EDITABLE_FIELDS],
    kinds.CancelEvent: [kinds.CancelEvent(1)],
    kinds.KeepEvent: [kinds.KeepEvent(MAX_INT)],
    kinds.TranslateEvent: [kinds.TranslateEvent(MAX_INT, "ar")],
    kinds.BroadcastStep: [kinds.BroadcastStep(a) for a in ("t", "e", "n", "p", "s", "x")],
    kinds.BroadcastToggle: [
        kinds.BroadcastToggle("c", 1, True),
        kinds.BroadcastToggle("g", 2, False),
    ],
    kinds.BroadcastEvent: [kinds.BroadcastEvent(MAX_INT)],
    kinds.BroadcastLanguage: [kinds.BroadcastLanguage("en")],
    kinds.BroadcastProgress: [kinds.BroadcastProgress(MAX_INT)],
    kinds.InviteRole: [kinds.InviteRole("organiser", None), kinds.InviteRole("coordinator", 7)],
    kinds.RemoveRole: [kinds.RemoveRole(1, "y"), kinds.RemoveRole(MAX_INT, "n")],
    kinds.NewEventInterpretation: [
        kinds.NewEventInterpretation("y"),
        kinds.NewEventInterpretation("n"),
    ],
    kinds.SetInterpretation: [
        kinds.SetInterpretation(1, True),
        kinds.SetInterpretation(MAX_INT, False),
    ],
    kinds.NeedInterpreter: [kinds.NeedInterpreter(1), kinds.NeedInterpreter(MAX_INT)],
    kinds.AskConsent: [kinds.AskConsent("y"), kinds.AskConsent("n")],
    kinds.AskEvent: [kinds.AskEvent(None), kinds.AskEvent(MAX_INT)],
    kinds.AskOrganisation: [kinds.AskOrganisation(MAX_INT)],
    kinds.AskDuration: [kinds.AskDuration(30), kinds.AskDuration(180)],
    kinds.AskLanguage: [kinds.AskLanguage("ar"), kinds.AskLanguage("ckb")],
    kinds.AskVariety: [kinds.AskVariety(None), kinds.AskVariety("levantine")],
    kinds.AskMode: [kinds.AskMode(m) for m in ("onsite", "phone", "video")],
    kinds.AskGender: [kinds.AskGender(g) for g in ("any", "woman", "man")],
    kinds.AskTopic: [kinds.AskTopic("event"), kinds.AskTopic("housing")],
    kinds.AskNoName: [kinds.AskNoName("n")],
    kinds.AskSend: [kinds.AskSend("s"), kinds.AskSend("x")],
    kinds.RequestAction: [
        kinds.RequestAction(1, v) for v in ("x", "k", "c", "a", "d", "y", "n", "g", "m", "o")
    ],
    kinds.NewRequest: [kinds.NewRequest("y")],
    kinds.OfferTo: [kinds.OfferTo(1, MAX_INT), kinds.OfferTo(MAX_INT, 1)],
    kinds.PoolAction: [
        kinds.PoolAction(MAX_INT, v) for v in ("verify", "pause", "resume", "remove")
    ],
    kinds.PoolView: [kinds.PoolView(MAX_INT)],
    kinds.PoolPattern: [kinds.PoolPattern(1, p) for p in ("c", "b", "a")],
    kinds.JoinPool: [kinds.JoinPool(MAX_INT)],
    kinds.PickInterpreting: [kinds.PickInterpreting(None), kinds.PickInterpreting("fa")],
    kinds.PickVariety: [kinds.PickVariety(None), kinds.PickVariety("ku-kurmanji")],
    kinds.PickGender: [kinds.PickGender(g) for g in ("woman", "man", "n")],
    kinds.Pledge: [kinds.Pledge("y"), kinds.Pledge("n")],
}
ALL_EXAMPLES = [example for examples in EXAMPLES.values() for example in examples]


@pytest.fixture(scope="module")
def registry() -> Registry:
    return build_registry()


def test_every_registered_route_round_trips_its_own_kind(registry: Registry) -> None:
    codecs = {route.codec for route in registry.buttons.values()}
    assert codecs == set(EXAMPLES), "every kind of button has examples here, and only those"
    for route in registry.buttons.values():
        for example in EXAMPLES[route.codec]:
            data = example.pack()
            assert len(data.encode("utf-8")) <= MAX_BUTTON_DATA_BYTES
            assert registry.route(data) is route, data
            assert route.codec.unpack(data) == example


@pytest.mark.parametrize("example", ALL_EXAMPLES, ids=repr)
def test_no_other_kind_accepts_the_data(example: ButtonData) -> None:
    data = example.pack()
    for codec in EXAMPLES:
        if codec is not type(example):
            with pytest.raises(StaleButton):
                codec.unpack(data)


def test_the_wire_format_stays_as_it_was() -> None:
    """Buttons in messages sent before this codec keep working."""
    assert kinds.AnswerEvent(12, "g", None).pack() == "r:12:g:-"
    assert kinds.EventCard(12, kinds.Back("a", 3)).pack() == "e:12:a3"
    assert kinds.TopicToggle("c", 4, True).pack() == "t:c:4:1"
    assert kinds.PickSecondLanguage(None).pack() == "l2:-"
    assert kinds.NewEventFold(1).pack() == "ne:f:1"
    assert kinds.BroadcastEvent(5).pack() == "bc:v:5"
    assert EventsPage("a", 0).pack() == "ev:a:0"


@pytest.mark.parametrize(
    ("codec", "data"),
    [
        (kinds.AnswerEvent, "r:12:g"),  # a part missing
        (kinds.AnswerEvent, "r:12:g:-:x"),  # one too many
        (kinds.AnswerEvent, "r:12:x:-"),  # unknown choice
        (kinds.AnswerEvent, "r:0:g:-"),  # below the range
        (kinds.AnswerEvent, "r:2147483648:g:-"),  # above it
        (kinds.AnswerEvent, "r:-1:g:-"),
        (kinds.AnswerEvent, "r:１:g:-"),  # full-width digit
        (kinds.AnswerEvent, "r:1;DROP TABLE rsvps:g:-"),
        (kinds.AnswerEvent, "r:1:g:b5"),  # bad back reference
        (kinds.AnswerEvent, "r:1:g:a100000"),
        (kinds.AnswerEvent, "r:1:g:-\x00"),  # not printable
        (kinds.AnswerEvent, "e:1:g:-"),  # another prefix
        (kinds.AnswerEvent, "r:" + "9" * 70),  # over 64 bytes
        (kinds.AnswerEvent, "\udcff"),
        (kinds.AnswerEvent, ""),
        (kinds.ReadMore, "d:1:0"),
        (kinds.ReadMore, "d:1:100"),
        (kinds.TopicToggle, "t:c:1:2"),  # a flag is 0 or 1
        (kinds.TopicToggle, "t:r:1:1"),
        (kinds.PickLanguage, "l:XX"),
        (kinds.PickLanguage, "l:de:extra"),
        (kinds.PickSecondLanguage, "l2:"),
        (kinds.NewEventFold, "ne:f:2"),
        (kinds.NewEventCategory, "ne:f:1"),
        (kinds.NewEventRegion, "ne:r:0"),
        (Back, "cv:b:Title"),
        (Back, "cv:b:"),
        (EventsPage, "ev:s:-3"),
        (EventsPage, "ev:s:100000"),
    ],
)
def test_forged_or_malformed_data_is_stale(codec: type[ButtonData], data: str) -> None:
    with pytest.raises(StaleButton):
        codec.unpack(data)


def test_data_over_64_bytes_is_refused_when_packed() -> None:
    @dataclass(frozen=True)
    class Wide(ButtonData, prefix="wide"):
        text: Annotated[str, Matches("[a-z]+")]

    assert Wide.unpack(Wide("a" * 59).pack()) == Wide("a" * 59)
    with pytest.raises(ValueError, match="64 bytes"):
        Wide("a" * 60).pack()


def test_values_a_kind_would_refuse_are_refused_when_packed() -> None:
    with pytest.raises(ValueError):
        kinds.ReadMore(1, 100).pack()
    with pytest.raises(ValueError):
        kinds.PickLanguage("de:x").pack()
    with pytest.raises(ValueError):
        kinds.AnswerEvent(1, "g", kinds.Back("a", 100_000)).pack()


def test_a_kind_must_be_a_frozen_dataclass_of_known_field_types() -> None:
    @dataclass
    class Loose(ButtonData, prefix="loose"):
        n: int

    @dataclass(frozen=True)
    class Odd(ButtonData, prefix="odd"):
        n: float

    with pytest.raises(TypeError):
        Loose.fields()
    with pytest.raises(TypeError):
        Odd.fields()
    with pytest.raises(ValueError):

        class Bad(ButtonData, prefix="Bad:"):
            pass


def test_two_kinds_with_the_same_prefix_and_length_cannot_be_registered() -> None:
    @dataclass(frozen=True)
    class One(ButtonData, prefix="same"):
        n: Annotated[int, Between(0, 9)]

    @dataclass(frozen=True)
    class Other(ButtonData, prefix="same"):
        choice: Literal["a", "b"]

    async def handler(_ctx: object, _press: object) -> None:
        return None

    registry = Registry()
    registry.button(One, handler)
    with pytest.raises(ValueError, match="same"):
        registry.button(Other, handler)


def test_button_data_stays_within_the_limit_for_undo_too() -> None:
    with pytest.raises(ValueError):
        Button("x", "r:1:g:-", undo="w" * 65)
