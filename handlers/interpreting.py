"""Interpreter requests: /interpreter for people, /interpreter_register and /requests for
interpreters, /interpreters for coordinators, and the notices about every change.

What each side sees is decided here and in bot/services/interpreting.py: interpreters and
coordinators see a request's language, variety, time, place or mode, gender wish and topic
category — never the requester's name or account; a confirmed interpreter also sees the first
name or pseudonym the requester chose. Messages between the two go through the bot.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from markupsafe import Markup

from bot.calendar.dates import DateProblem
from bot.core.chat import Button, Reply
from bot.core.context import Context, NoticeContext
from bot.core.conversations import Finish, Goto, Outcome, Stay, Step, Turn, Wizard
from bot.core.errors import StaleButton
from bot.core.numbers import parse_id
from bot.i18n import (
    N_,
    _,
    format_time_left,
    format_when,
    isolate,
    join_list,
    language_name,
    ngettext,
)
from bot.i18n.text import bold, fmt, join, plain, shorten
from bot.services import Services
from bot.services.events import EventView
from bot.services.interpreting import (
    DURATIONS,
    LANGUAGES,
    MODES,
    NAME_MAX,
    TOPICS,
    Draft,
    Refused,
    clean_name,
    variety_known,
)
from handlers import event_fields as fields
from handlers.buttons import (
    AskConsent,
    AskDuration,
    AskEvent,
    AskGender,
    AskLanguage,
    AskMode,
    AskNoName,
    AskOrganisation,
    AskSend,
    AskTopic,
    AskVariety,
    JoinPool,
    NeedInterpreter,
    NewRequest,
    OfferTo,
    PatternCode,
    PickGender,
    PickInterpreting,
    PickVariety,
    Pledge,
    PoolAction,
    PoolPattern,
    PoolView,
    RequestAction,
)
from handlers.organisers import authority_of
from handlers.views import marked, title_of
from storage.records import InterpreterRecord, InterpreterRequestRecord

KIND = "interpreter"
REGISTER_KIND = "interp_register"
RELAY_KIND = "interp_relay"
RELAY_MAX = 1000
LIST_LIMIT = 10
EVENT_CHOICES = 8
DEFAULT_MINUTES = 120

VARIETY_NAMES = {
    "levantine": N_("Levantine (Syria, Lebanon, Palestine, Jordan)"),
    "iraqi": N_("Iraqi"),
    "egyptian": N_("Egyptian"),
    "maghrebi": N_("Maghrebi (Morocco, Algeria, Tunisia)"),
    "gulf": N_("Gulf"),
    "sudanese": N_("Sudanese"),
    "farsi": N_("Farsi (Iran)"),
    "dari": N_("Dari (Afghanistan)"),
    "kurmanji": N_("Kurmanji"),
    "sorani": N_("Sorani"),
}
MODE_NAMES = {
    "onsite": N_("on site"),
    "phone": N_("by phone"),
    "video": N_("by video call"),
}
GENDER_NAMES = {
    "any": N_("no preference"),
    "woman": N_("a woman"),
    "man": N_("a man"),
}
TOPIC_NAMES = {
    "event": N_("the event itself"),
    "health": N_("health"),
    "school": N_("school and childcare"),
    "authority": N_("authorities and offices"),
    "counselling": N_("counselling"),
    "work": N_("work and job centre"),
    "housing": N_("housing"),
    "other": N_("something else"),
}
# Translators: the state of a request for an interpreter, shown as "Status: …".
STATUS_NAMES = {
    "requested": N_("waiting for an interpreter"),
    "offered": N_("an interpreter has been asked"),
    "claimed": N_("an interpreter wants to take it; waiting for confirmation"),
    "confirmed": N_("confirmed"),
    "done": N_("done"),
    "cancelled": N_("cancelled"),
    "unfilled": N_("no interpreter was found"),
}
STATUS_ICONS = {
    "requested": "⏳",
    "offered": "⏳",
    "claimed": "⏳",
    "confirmed": "✅",
    "done": "☑️",
    "cancelled": "✖",
    "unfilled": "⚠️",
}


def _pairs(buttons: list[Button]) -> tuple[tuple[Button, ...], ...]:
    return tuple(tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2))


def language_label(language: str, variety: str | None) -> str:
    name = language_name(language)
    if variety and variety in VARIETY_NAMES:
        return _("{language} – {variety}").format(language=name, variety=_(VARIETY_NAMES[variety]))
    return name


def status_label(status: str) -> str:
    return _(STATUS_NAMES[status]) if status in STATUS_NAMES else status


def _named(names: dict[str, str], key: str | None) -> str:
    return _(names[key]) if key in names else (key or "—")


def _capitalised(text: str) -> str:
    """A label as a menu item: its first letter upper case, the rest as written."""
    return text[:1].upper() + text[1:]


def _duration(minutes: int) -> str:
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("{n} hour", "{n} hours", hours).format(n=hours)
    return ngettext("{n} minute", "{n} minutes", minutes).format(n=minutes)


# -- how a request is shown ---------------------------------------------------------------


async def _appointment(
    services: Services, request: InterpreterRequestRecord, tz: ZoneInfo
) -> list[Markup]:
    """When and where: the event (title, place) or the organisation's counselling hours."""
    ends = request.starts_at + timedelta(minutes=request.duration_minutes)
    lines = [fmt("📅 {when}", when=format_when(request.starts_at, ends, tz))]
    view = await services.events.view(request.event_id, None) if request.event_id else None
    if view is not None:
        lines.append(fmt("🎫 {title}", title=bold(isolate(title_of(view)))))
        where = view.event.place or (_("online") if view.event.online_url else None)
        if where:
            lines.append(fmt("📍 {place}", place=isolate(where)))
    else:
        lines.append(
            fmt(_("🏢 Counselling hours at {organisation}"), organisation=request.organisation_name)
        )
    return lines


async def describe(
    services: Services,
    request: InterpreterRequestRecord,
    tz: ZoneInfo,
    *,
    for_whom: str,
    interpreter: InterpreterRecord | None = None,
) -> Markup:
    """A request as ``for_whom`` may see it: ``requester``, ``interpreter`` (the pseudonym
    only when confirmed) or ``coordinator`` (never the pseudonym)."""
    lines = [
        fmt(
            _("🗣 Request {id}: {language}, {mode}"),
            id=request.id,
            language=language_label(request.language, request.variety),
            mode=_named(MODE_NAMES, request.mode),
        ),
        *await _appointment(services, request, tz),
    ]
    if request.topic and request.topic != "event":
        lines.append(fmt(_("🏷 Topic: {topic}"), topic=_named(TOPIC_NAMES, request.topic)))
    if request.gender != "any":
        lines.append(
            fmt(_("👤 Interpreter wished: {gender}"), gender=_named(GENDER_NAMES, request.gender))
        )
    if for_whom == "interpreter" and request.status == "confirmed":
        lines.append(
            fmt(
                _("🙂 You interpret for: {name}"),
                name=isolate(request.pseudonym) if request.pseudonym else _("(no name given)"),
            )
        )
    lines.append(
        fmt(
            _("Status: {icon} {status}"),
            icon=STATUS_ICONS.get(request.status, ""),
            status=status_label(request.status),
        )
    )
    if interpreter is not None and request.status in ("offered", "claimed", "confirmed"):
        if for_whom == "requester" and request.status == "confirmed":
            lines.append(fmt(_("Your interpreter: {name}"), name=isolate(interpreter.name)))
        elif for_whom == "coordinator":
            lines.append(fmt(_("Interpreter: {name}"), name=isolate(interpreter.name)))
    return join(lines)


async def _interpreter(
    ctx: Context | NoticeContext, request: InterpreterRequestRecord
) -> InterpreterRecord | None:
    if request.interpreter_id is None:
        return None
    return await ctx.services.interpreting.interpreter(request.interpreter_id)


async def _described(
    ctx: Context | NoticeContext, request: InterpreterRequestRecord, for_whom: str
) -> Markup:
    """:func:`describe` in the reader's time zone, naming the interpreter where ``for_whom``
    may see them."""
    interpreter = await _interpreter(ctx, request)
    return await describe(ctx.services, request, ctx.tz, for_whom=for_whom, interpreter=interpreter)


def _requester_buttons(request: InterpreterRequestRecord) -> tuple[tuple[Button, ...], ...]:
    rows = []
    if request.status == "confirmed":
        rows.append(
            (Button(_("✉ Message the interpreter"), RequestAction(request.id, "m").pack()),)
        )
    if request.live:
        rows.append((Button(_("✖ Cancel this request"), RequestAction(request.id, "x").pack()),))
    return tuple(rows)


def _refusal(reason: str, ctx: Context | None = None) -> str:
    texts = {
        "twice": _(
            "You have already asked for an interpreter for this event. /interpreter shows it."
        ),
        "not_offered": _("This event does not offer interpretation (any more)."),
        "taken": _("Someone else has already taken this request."),
        "cancelled": _("This request has been cancelled."),
        "done": _("This appointment is over."),
        "unfilled": _("This request is closed: no interpreter was found in time."),
        "unverified": _(
            "A coordinator has not verified you yet, or has paused you; until then you cannot "
            "take requests."
        ),
        "not_interpreter": _("You are not in this organisation's pool of interpreters."),
        "not_yours": _("This request is not for you."),
        "unsuitable": _(
            "This interpreter cannot take this request: language, variety or gender do not fit, "
            "or they are not verified."
        ),
        "pending": _("This interpreter is not verified yet."),
        "verified": _("This interpreter is verified already."),
        "paused": _("This interpreter is paused already."),
    }
    if reason == "late" and ctx is not None:
        hours = int(ctx.settings.interpreter_lead_hours)
        return ngettext(
            "This is too soon: a request must reach the organisation at least {n} hour before. "
            "Please contact the organisation directly.",
            "This is too soon: a request must reach the organisation at least {n} hours before. "
            "Please contact the organisation directly.",
            hours,
        ).format(n=hours)
    if reason == "limit" and ctx is not None:
        n = ctx.settings.interpreter_open_limit
        return ngettext(
            "You already have {n} open request for an interpreter. Please cancel it "
            "(/interpreter) before you make another.",
            "You already have {n} open requests for an interpreter. Please cancel one "
            "(/interpreter) before you make another.",
            n,
        ).format(n=n)
    return texts.get(reason, _("This cannot be done any more."))


# -- /interpreter: the person's requests, or a new one ----------------------------------


async def interpreter(ctx: Context) -> Reply | list[Reply]:
    """/interpreter [event]: my requests and their status, or a new request."""
    event_id = parse_id(ctx.args)
    if event_id is not None:
        return await _begin(ctx, event_id, pressed=False)
    mine = await ctx.services.interpreting.mine(ctx.me.id)
    if not mine:
        return await _begin(ctx, None, pressed=False)
    replies = [Reply(fmt(_("Your requests for an interpreter:")))]
    for request in mine[:LIST_LIMIT]:
        text = await _described(ctx, request, "requester")
        replies.append(Reply(text, _requester_buttons(request)))
    replies.append(
        Reply(
            fmt(_("Need an interpreter for another appointment?")),
            ((Button(_("➕ New request"), NewRequest("y").pack()),),),
        )
    )
    return replies


async def on_need(ctx: Context, press: NeedInterpreter) -> Reply:
    """ "🗣 I need an interpreter" under an event."""
    return await _begin(ctx, press.event, pressed=False)


async def on_new(ctx: Context, press: NewRequest) -> Reply:
    return await _begin(ctx, None, pressed=False)


async def _begin(ctx: Context, event_id: int | None, *, pressed: bool) -> Reply:
    """The conversation, unless it could only end in a refusal: said at once instead."""
    if await ctx.services.interpreting.open_count(ctx.me.id) >= ctx.settings.interpreter_open_limit:
        return Reply(fmt(_refusal("limit", ctx)))
    data: dict[str, Any] = {}
    if event_id is not None:
        view = await ctx.services.events.view(event_id, None)
        refusal = await _cannot_ask(ctx, view)
        if refusal is not None:
            return refusal
        assert view is not None
        data = _event_data(view)
    return await ctx.conversations.begin(ctx, WIZARD, "consent", data, pressed=pressed)


async def _cannot_ask(ctx: Context, view: EventView | None) -> Reply | None:
    """Why no interpreter can be asked for this event (None: one can): it offers none, the
    person asked already (their request is shown), or it is too late."""
    if view is None or view.event.status != "published" or not view.event.interpretation:
        return Reply(fmt(_refusal("not_offered")))
    event_id = view.event.id
    asked = (await ctx.services.interpreting.for_events(ctx.me.id, [event_id])).get(event_id)
    if asked is not None:
        text = await _described(ctx, asked, "requester")
        return Reply(join([fmt(_refusal("twice")), text], "\n\n"), _requester_buttons(asked))
    if ctx.services.interpreting.too_late(view.event.starts_at):
        return Reply(fmt(_refusal("late", ctx)))
    return None


def _event_data(view: EventView) -> dict[str, Any]:
    event = view.event
    minutes = DEFAULT_MINUTES
    if event.ends_at is not None and event.ends_at > event.starts_at:
        minutes = int((event.ends_at - event.starts_at).total_seconds() // 60)
    return {
        "event": event.id,
        "org": event.organisation_id,
        "starts_at": event.starts_at.isoformat(),
        "minutes": minutes,
        "topic": "event",
    }


async def _ask_consent(turn: Turn) -> Reply:
    days = turn.ctx.settings.interpreter_keep_days
    text = ngettext(
        "🗣 Asking for an interpreter\n\n"
        "Please read this first: what you tell me here is sensitive – the language you need can "
        "say something about where you come from, your religion or your health. I store only "
        "what is needed to find an interpreter: the appointment, the language, how you want to "
        "be interpreted and a topic category – never details of your matter. Coordinators and "
        "interpreters of the organisation see it without your name or account; your interpreter "
        "learns only the first name or pseudonym you choose, once confirmed. {n} day after the "
        "appointment only the language and the outcome remain, for the organisation's "
        "statistics. You can cancel at any time with /interpreter.",
        "🗣 Asking for an interpreter\n\n"
        "Please read this first: what you tell me here is sensitive – the language you need can "
        "say something about where you come from, your religion or your health. I store only "
        "what is needed to find an interpreter: the appointment, the language, how you want to "
        "be interpreted and a topic category – never details of your matter. Coordinators and "
        "interpreters of the organisation see it without your name or account; your interpreter "
        "learns only the first name or pseudonym you choose, once confirmed. {n} days after the "
        "appointment only the language and the outcome remain, for the organisation's "
        "statistics. You can cancel at any time with /interpreter.",
        days,
    ).format(n=days)
    return Reply(
        fmt("{text}", text=text),
        (
            (
                Button(_("✅ I agree"), AskConsent("y").pack()),
                Button(_("✖ No, stop"), AskConsent("n").pack()),
            ),
        ),
    )


async def _consent(turn: Turn) -> Outcome:
    assert isinstance(turn.press, AskConsent)
    if turn.press.choice == "n":
        return Finish(Reply(fmt(_("Stopped. Nothing was stored.")), replace=True))
    return Goto("language" if "event" in turn.data else "event")


async def _ask_event(turn: Turn) -> Reply:
    services = turn.ctx.services
    buttons = []
    for event_id in (await services.interpreting.events_open())[:EVENT_CHOICES]:
        view = await services.events.view(event_id, None)
        if view is not None:
            when = format_when(view.event.starts_at, None, turn.ctx.tz)
            label = f"{shorten(title_of(view), 32)} · {when}"
            buttons.append((Button(label, AskEvent(event_id).pack()),))
    buttons.append((Button(_("🏢 Counselling hours of an organisation"), AskEvent(None).pack()),))
    text = _("What do you need an interpreter for? These events offer interpretation:")
    if len(buttons) == 1:
        text = _(
            "No upcoming event offers interpretation right now. You can ask for an interpreter "
            "for an organisation's counselling hours:"
        )
    return Reply(fmt(text), tuple(buttons))


async def _event(turn: Turn) -> Outcome:
    assert isinstance(turn.press, AskEvent)
    if turn.press.event is None:
        for key in ("event", "starts_at", "minutes", "topic"):
            turn.data.pop(key, None)
        return Goto("organisation")
    view = await turn.ctx.services.events.view(turn.press.event, None)
    refusal = await _cannot_ask(turn.ctx, view)
    if refusal is not None or view is None:
        return Stay(refusal or Reply(fmt(_refusal("not_offered"))))
    turn.data.update(_event_data(view))
    return Goto("language")


async def _ask_organisation(turn: Turn) -> Reply:
    organisations = await turn.ctx.services.organisers.organisations_all()
    buttons = [Button(o.name, AskOrganisation(o.id).pack()) for o in organisations]
    return Reply(fmt(_("Which organisation's counselling hours?")), _pairs(buttons))


async def _organisation(turn: Turn) -> Outcome:
    assert isinstance(turn.press, AskOrganisation)
    found = await turn.ctx.services.organisers.organisation(turn.press.organisation)
    if found is None:
        raise StaleButton("organisation gone")
    turn.data["org"] = found.id
    return Goto("when")


async def _ask_when(_turn: Turn) -> Reply:
    return Reply(
        join(
            [
                fmt(
                    _(
                        "On which day and at what time? For example 14.12.2026 10:00, "
                        "or 14.12. 10-12 Uhr."
                    )
                ),
                fmt(_("(/cancel stops at any step.)")),
            ]
        )
    )


async def _when(turn: Turn) -> Outcome:
    try:
        when = fields.read_start(turn.text, turn.now, turn.ctx.tz)
    except DateProblem as problem:
        return Stay(fields.date_problem(problem))
    turn.data["starts_at"] = when.starts.isoformat()
    if when.ends is not None:
        minutes = int((when.ends - when.starts).total_seconds() // 60)
        if 0 < minutes <= max(DURATIONS):
            turn.data["minutes"] = minutes
            return Goto("language")
    return Goto("duration")


async def _ask_duration(_turn: Turn) -> Reply:
    buttons = [Button(_duration(m), AskDuration(m).pack()) for m in DURATIONS]
    return Reply(fmt(_("How long will it take?")), _pairs(buttons))


async def _duration_chosen(turn: Turn) -> Outcome:
    assert isinstance(turn.press, AskDuration)
    turn.data["minutes"] = turn.press.minutes
    return Goto("language")


async def _ask_language(_turn: Turn) -> Reply:
    buttons = [Button(language_name(code), AskLanguage(code).pack()) for code in LANGUAGES]
    return Reply(fmt(_("Which language do you need?")), _pairs(buttons))


async def _language(turn: Turn) -> Outcome:
    assert isinstance(turn.press, AskLanguage)
    if turn.press.code not in LANGUAGES:
        raise StaleButton("unknown language")
    turn.data["language"] = turn.press.code
    turn.data.pop("variety", None)
    return Goto("variety" if LANGUAGES[turn.press.code] else "mode")


async def _ask_variety(turn: Turn) -> Reply:
    language = turn.data["language"]
    buttons = [
        Button(_(VARIETY_NAMES[v]), AskVariety(v).pack()) for v in LANGUAGES.get(language, ())
    ]
    buttons.append(Button(_("Any variety is fine"), AskVariety(None).pack()))
    return Reply(
        fmt(_("Which variety of {language}?"), language=language_name(language)), _pairs(buttons)
    )


async def _variety(turn: Turn) -> Outcome:
    assert isinstance(turn.press, AskVariety)
    if not variety_known(turn.data["language"], turn.press.code):
        raise StaleButton("unknown variety")
    turn.data["variety"] = turn.press.code
    return Goto("mode")


async def _ask_mode(_turn: Turn) -> Reply:
    labels = {"onsite": _("📍 On site"), "phone": _("📞 By phone"), "video": _("💻 By video call")}
    return Reply(
        fmt(_("How should the interpreter work with you?")),
        (tuple(Button(labels[m], AskMode(m).pack()) for m in MODES),),
    )


async def _mode(turn: Turn) -> Outcome:
    assert isinstance(turn.press, AskMode)
    turn.data["mode"] = turn.press.mode
    return Goto("gender")


async def _ask_gender(_turn: Turn) -> Reply:
    labels = {"any": _("No preference"), "woman": _("A woman"), "man": _("A man")}
    return Reply(
        fmt(_("Would you like the interpreter to be a woman or a man?")),
        (tuple(Button(labels[g], AskGender(g).pack()) for g in ("any", "woman", "man")),),
    )


async def _gender(turn: Turn) -> Outcome:
    assert isinstance(turn.press, AskGender)
    turn.data["gender"] = turn.press.gender
    return Goto("name" if "event" in turn.data else "topic")


async def _ask_topic(_turn: Turn) -> Reply:
    buttons = [
        Button(_capitalised(_named(TOPIC_NAMES, t)), AskTopic(t).pack())
        for t in TOPICS
        if t != "event"
    ]
    return Reply(
        fmt(_("What is it about? Choose a category only – please do not write details.")),
        _pairs(buttons),
    )


async def _topic(turn: Turn) -> Outcome:
    assert isinstance(turn.press, AskTopic)
    turn.data["topic"] = turn.press.topic
    return Goto("name")


async def _ask_name(_turn: Turn) -> Reply:
    return Reply(
        fmt(
            _(
                "Which first name or pseudonym may your interpreter see once confirmed? "
                "Type it (at most {n} characters), or choose “Without a name”."
            ),
            n=NAME_MAX,
        ),
        ((Button(_("Without a name"), AskNoName("n").pack()),),),
    )


async def _name(turn: Turn) -> Outcome:
    name = clean_name(turn.text)
    if name is None:
        return Stay(
            Reply(
                fmt(
                    _(
                        "Please type only a first name or a pseudonym, at most {n} characters, "
                        "without @ or links."
                    ),
                    n=NAME_MAX,
                ),
                ((Button(_("Without a name"), AskNoName("n").pack()),),),
            )
        )
    turn.data["name"] = name
    return Goto("summary")


async def _no_name(turn: Turn) -> Outcome:
    turn.data["name"] = None
    return Goto("summary")


def _draft(data: dict[str, Any]) -> Draft:
    return Draft(
        organisation_id=int(data["org"]),
        event_id=int(data["event"]) if data.get("event") else None,
        language=str(data["language"]),
        variety=data.get("variety"),
        mode=str(data["mode"]),
        gender=str(data["gender"]),
        topic=str(data.get("topic") or "event"),
        starts_at=datetime.fromisoformat(data["starts_at"]),
        duration_minutes=int(data["minutes"]),
        pseudonym=data.get("name"),
    )


async def _summary(turn: Turn) -> Reply:
    draft = _draft(turn.data)
    organisation = await turn.ctx.services.organisers.organisation(draft.organisation_id)
    ends = draft.starts_at + timedelta(minutes=draft.duration_minutes)
    lines = [
        fmt(_("Please check your request:")),
        fmt(
            _("🗣 {language}, {mode}"),
            language=language_label(draft.language, draft.variety),
            mode=_named(MODE_NAMES, draft.mode),
        ),
        fmt("📅 {when}", when=format_when(draft.starts_at, ends, turn.ctx.tz)),
    ]
    if draft.event_id is not None:
        view = await turn.ctx.services.events.view(draft.event_id, None)
        if view is not None:
            lines.append(fmt("🎫 {title}", title=bold(isolate(title_of(view)))))
    elif organisation is not None:
        lines.append(
            fmt(_("🏢 Counselling hours at {organisation}"), organisation=organisation.name)
        )
    if draft.topic != "event":
        lines.append(fmt(_("🏷 Topic: {topic}"), topic=_named(TOPIC_NAMES, draft.topic)))
    lines.append(
        fmt(_("👤 Interpreter wished: {gender}"), gender=_named(GENDER_NAMES, draft.gender))
    )
    lines.append(
        fmt(
            _("🙂 Name your interpreter sees: {name}"),
            name=isolate(draft.pseudonym) if draft.pseudonym else _("(no name given)"),
        )
    )
    return Reply(
        join(lines),
        (
            (
                Button(_("📨 Send request"), AskSend("s").pack()),
                Button(_("✖ Discard"), AskSend("x").pack()),
            ),
        ),
    )


async def _send(turn: Turn) -> Outcome:
    assert isinstance(turn.press, AskSend)
    if turn.press.action == "x":
        return Finish(Reply(fmt(_("Discarded. Nothing was stored.")), replace=True))
    ctx = turn.ctx
    try:
        request = await ctx.services.interpreting.file(ctx.me.id, _draft(turn.data))
    except Refused as refused:
        return Finish(Reply(fmt(_refusal(refused.reason, ctx)), replace=True))
    text = await describe(ctx.services, request, ctx.tz, for_whom="requester")
    note = fmt(
        _(
            "📨 Your request has been sent. I will tell you at every change; /interpreter shows "
            "its status."
        )
    )
    return Finish(Reply(join([note, text], "\n\n"), _requester_buttons(request), replace=True))


WIZARD = Wizard(
    KIND,
    "interpreter",
    {
        "consent": Step(_ask_consent, press=_consent, buttons=(AskConsent,)),
        "event": Step(_ask_event, press=_event, buttons=(AskEvent,)),
        "organisation": Step(_ask_organisation, press=_organisation, buttons=(AskOrganisation,)),
        "when": Step(_ask_when, text=_when),
        "duration": Step(_ask_duration, press=_duration_chosen, buttons=(AskDuration,)),
        "language": Step(_ask_language, press=_language, buttons=(AskLanguage,)),
        "variety": Step(_ask_variety, press=_variety, buttons=(AskVariety,)),
        "mode": Step(_ask_mode, press=_mode, buttons=(AskMode,)),
        "gender": Step(_ask_gender, press=_gender, buttons=(AskGender,)),
        "topic": Step(_ask_topic, press=_topic, buttons=(AskTopic,)),
        "name": Step(_ask_name, text=_name, press=_no_name, buttons=(AskNoName,)),
        "summary": Step(_summary, press=_send, buttons=(AskSend,)),
    },
)


# -- actions on a request -------------------------------------------------------------------


async def on_action(ctx: Context, press: RequestAction) -> Reply | list[Reply]:
    """A button under a request: what it does depends on who presses it."""
    services = ctx.services.interpreting
    request = await services.request(press.request)
    if request is None:
        raise StaleButton("request gone")
    verb = press.verb
    try:
        if verb == "x":
            request = await services.cancel(ctx.me.id, request.id)
            line = fmt(_("✖ Your request has been cancelled. Whoever was working on it is told."))
            return await _shown(ctx, request, line, "requester")
        if verb == "k":
            if request.user_id != ctx.me.id:
                raise StaleButton("not the requester")
            kept = _("Your request stays as it is.")
            return Reply(fmt(kept), toast=kept, toast_only=True)
        if verb == "m":
            side = await services.side_of(ctx.me.id, request)
            if side is None:
                raise Refused(request.status if request.status != "confirmed" else "not_yours")
            data = {"request": request.id}
            return await ctx.conversations.begin(ctx, RELAY_WIZARD, "text", data, pressed=False)
        if verb == "c":
            request = await services.claim(ctx.me.id, request.id)
            if request.status == "confirmed":
                line = fmt(_("✅ It is yours: you are confirmed for this appointment."))
            else:
                line = fmt(_("🙋 Claimed. A coordinator confirms it; I will tell you."))
            return await _shown(ctx, request, line, "interpreter")
        if verb in ("a", "d"):
            request = await services.answer_offer(ctx.me.id, request.id, accept=verb == "a")
            if verb == "a":
                line = fmt(_("✅ Thank you – you are confirmed for this appointment."))
                return await _shown(ctx, request, line, "interpreter")
            return Reply(fmt(_("Declined. The coordinator will ask someone else.")), replace=True)
        if verb == "g":
            request = await services.give_up(ctx.me.id, request.id)
            return Reply(
                fmt(
                    _(
                        "Understood. The request is open again; the requester and the "
                        "coordinators are told."
                    )
                ),
                replace=True,
            )
        # Coordinators: o (choose an interpreter), y / n (confirm or turn down a claim).
        refusal = await _coordinates(ctx, request.organisation_id, f"request {verb}")
        if refusal is not None:
            return refusal
        if verb == "o":
            return await _offer_choices(ctx, request)
        if verb == "w":
            request = await services.take_back(ctx.me.id, request.id)
            await ctx.services.organisers.audit(
                ctx.me.id,
                "interpreter offer back",
                request.organisation_id,
                True,
                f"request {request.id}",
            )
            line = fmt(_("Taken back; the request is open again."))
            return await _shown(ctx, request, line, "coordinator")
        request = await services.decide_claim(ctx.me.id, request.id, confirm=verb == "y")
        await ctx.services.organisers.audit(
            ctx.me.id,
            "interpreter claim",
            request.organisation_id,
            True,
            f"request {request.id} {verb}",
        )
        line = (
            fmt(_("✅ Confirmed."))
            if verb == "y"
            else fmt(_("Turned down; the request is open again."))
        )
        return await _shown(ctx, request, line, "coordinator")
    except Refused as refused:
        if refused.reason == "gone":
            raise StaleButton("request gone") from refused
        message = _refusal(refused.reason, ctx)
        return Reply(fmt(message), toast=message)


async def _shown(
    ctx: Context, request: InterpreterRequestRecord, line: Markup, for_whom: str
) -> Reply:
    text = await _described(ctx, request, for_whom)
    buttons: tuple[tuple[Button, ...], ...] = ()
    if for_whom == "requester":
        buttons = _requester_buttons(request)
    elif for_whom == "interpreter":
        buttons = _interpreter_buttons(request, mine=True)
    return Reply(join([line, text], "\n\n"), buttons, replace=True, toast=plain(line))


def _interpreter_buttons(
    request: InterpreterRequestRecord, *, mine: bool
) -> tuple[tuple[Button, ...], ...]:
    if not mine:
        return ((Button(_("🙋 I take it"), RequestAction(request.id, "c").pack()),),)
    if request.status == "offered":
        return (
            (
                Button(_("✅ Accept"), RequestAction(request.id, "a").pack()),
                Button(_("✖ Decline"), RequestAction(request.id, "d").pack()),
            ),
        )
    if request.status == "confirmed":
        return (
            (Button(_("✉ Message the person"), RequestAction(request.id, "m").pack()),),
            (Button(_("🚫 I can no longer come"), RequestAction(request.id, "g").pack()),),
        )
    if request.status == "claimed":
        return ((Button(_("🚫 Withdraw my claim"), RequestAction(request.id, "g").pack()),),)
    return ()


def _coordinator_buttons(
    request: InterpreterRequestRecord, pattern: str
) -> tuple[tuple[Button, ...], ...]:
    if request.status == "claimed":
        return (
            (
                Button(_("✅ Confirm"), RequestAction(request.id, "y").pack()),
                Button(_("✖ Turn down"), RequestAction(request.id, "n").pack()),
            ),
        )
    if request.status == "requested":
        return ((Button(_("👉 Offer to an interpreter"), RequestAction(request.id, "o").pack()),),)
    if request.status == "offered":
        return ((Button(_("↩ Take the offer back"), RequestAction(request.id, "w").pack()),),)
    return ()


async def _coordinates(ctx: Context, organisation_id: int, action: str) -> Reply | None:
    """None when the person coordinates the organisation; else a refusal (audited)."""
    authority = await authority_of(ctx)
    if authority.coordinator_of(organisation_id):
        return None
    await ctx.services.organisers.audit(
        ctx.me.id, "interpreting", organisation_id, False, f"not a coordinator: {action}"
    )
    return Reply(fmt(_("Sorry, only the organisation's coordinators can do this.")))


async def _offer_choices(ctx: Context, request: InterpreterRequestRecord) -> Reply:
    candidates = await ctx.services.interpreting.candidates(request.id)
    text = await describe(ctx.services, request, ctx.tz, for_whom="coordinator")
    if not candidates:
        note = fmt(
            _(
                "Nobody verified in your pool fits this request (language, variety, gender). "
                "Invite interpreters to register with /interpreter_register."
            )
        )
        return Reply(join([text, note], "\n\n"))
    buttons = [
        (Button(f"{c.name} · {_languages_of(c)}", OfferTo(request.id, c.id).pack()),)
        for c in candidates[:LIST_LIMIT]
    ]
    return Reply(join([text, fmt(_("Offer it to:"))], "\n\n"), tuple(buttons))


def _languages_of(entry: InterpreterRecord) -> str:
    labels = []
    for code in entry.languages:
        language, _sep, variety = code.partition("-")
        labels.append(language_label(language, variety or None))
    return join_list(labels)


async def on_offer_to(ctx: Context, press: OfferTo) -> Reply:
    request = await ctx.services.interpreting.request(press.request)
    if request is None:
        raise StaleButton("request gone")
    refusal = await _coordinates(ctx, request.organisation_id, "offer")
    if refusal is not None:
        return refusal
    try:
        request = await ctx.services.interpreting.offer(ctx.me.id, request.id, press.interpreter)
    except Refused as refused:
        message = _refusal(refused.reason, ctx)
        return Reply(fmt(message), toast=message)
    await ctx.services.organisers.audit(
        ctx.me.id, "interpreter offer", request.organisation_id, True, f"request {request.id}"
    )
    return await _shown(
        ctx, request, fmt(_("👉 Offered. I will tell you the answer.")), "coordinator"
    )


# -- relayed messages ----------------------------------------------------------------------


async def _ask_relay(turn: Turn) -> Reply:
    return Reply(
        fmt(
            _(
                "Type your message. I pass it on without your name or account (at most {n} "
                "characters; /cancel stops)."
            ),
            n=RELAY_MAX,
        )
    )


async def _relay(turn: Turn) -> Outcome:
    text = turn.text.strip()
    if not text:
        return Stay(await _ask_relay(turn))
    if len(text) > RELAY_MAX:
        return Stay(fields.too_long(RELAY_MAX))
    try:
        await turn.ctx.services.interpreting.relay(turn.ctx.me.id, int(turn.data["request"]), text)
    except Refused as refused:
        return Finish(Reply(fmt(_refusal(refused.reason, turn.ctx))))
    return Finish(Reply(fmt(_("✉ Passed on."))))


RELAY_WIZARD = Wizard(RELAY_KIND, "interpreter", {"text": Step(_ask_relay, text=_relay)})


# -- interpreters: registering, and what they may take ---------------------------------


async def register(ctx: Context) -> Reply:
    """/interpreter_register: join an organisation's pool of interpreters."""
    organisations = await ctx.services.organisers.organisations_all()
    if not organisations:
        return Reply(fmt(_("There is no organisation to register with yet.")))
    data: dict[str, Any] = {"languages": [], "varieties": []}
    if len(organisations) == 1:
        data["org"] = organisations[0].id
        return await ctx.conversations.begin(ctx, REGISTER_WIZARD, "languages", data, pressed=False)
    return await ctx.conversations.begin(ctx, REGISTER_WIZARD, "organisation", data, pressed=False)


async def _ask_pool(turn: Turn) -> Reply:
    organisations = await turn.ctx.services.organisers.organisations_all()
    buttons = [Button(o.name, JoinPool(o.id).pack()) for o in organisations]
    return Reply(fmt(_("For which organisation do you want to interpret?")), _pairs(buttons))


async def _pool(turn: Turn) -> Outcome:
    assert isinstance(turn.press, JoinPool)
    if await turn.ctx.services.organisers.organisation(turn.press.organisation) is None:
        raise StaleButton("organisation gone")
    turn.data["org"] = turn.press.organisation
    return Goto("languages")


async def _ask_languages(turn: Turn) -> Reply:
    chosen = set(turn.data.get("languages", []))
    buttons = [
        Button(marked(code in chosen, language_name(code)), PickInterpreting(code).pack())
        for code in LANGUAGES
    ]
    rows = [*_pairs(buttons), (Button(_("✔ Done"), PickInterpreting(None).pack()),)]
    return Reply(
        fmt(_("Which languages do you interpret (besides German)? Tap each one.")), tuple(rows)
    )


async def _languages(turn: Turn) -> Outcome:
    assert isinstance(turn.press, PickInterpreting)
    chosen: list[str] = list(turn.data.get("languages", []))
    code = turn.press.code
    if code is None:
        if not chosen:
            return Stay(Reply(fmt(_("Please choose at least one language."))))
        with_varieties = [c for c in chosen if LANGUAGES.get(c)]
        return Goto("varieties" if with_varieties else "gender")
    if code not in LANGUAGES:
        raise StaleButton("unknown language")
    turn.data["languages"] = [c for c in chosen if c != code] if code in chosen else [*chosen, code]
    return Goto("languages")


async def _ask_varieties(turn: Turn) -> Reply:
    chosen = set(turn.data.get("varieties", []))
    buttons = []
    for language in turn.data.get("languages", []):
        for variety in LANGUAGES.get(language, ()):
            code = f"{language}-{variety}"
            label = language_label(language, variety)
            buttons.append(Button(marked(code in chosen, label), PickVariety(code).pack()))
    rows = [*((b,) for b in buttons), (Button(_("✔ Done"), PickVariety(None).pack()),)]
    return Reply(
        fmt(
            _(
                "Which varieties do you interpret? Choose none of a language to take requests "
                "for all of its varieties."
            )
        ),
        tuple(rows),
    )


async def _varieties(turn: Turn) -> Outcome:
    assert isinstance(turn.press, PickVariety)
    code = turn.press.code
    if code is None:
        return Goto("gender")
    language, _sep, variety = code.partition("-")
    if language not in turn.data.get("languages", []) or not variety_known(language, variety):
        raise StaleButton("unknown variety")
    chosen: list[str] = list(turn.data.get("varieties", []))
    turn.data["varieties"] = [c for c in chosen if c != code] if code in chosen else [*chosen, code]
    return Goto("varieties")


async def _ask_own_gender(_turn: Turn) -> Reply:
    return Reply(
        fmt(
            _(
                "Some people ask for a woman or a man as interpreter. Are you a woman or a man? "
                "If you prefer not to say, you are not offered such requests."
            )
        ),
        (
            (
                Button(_("A woman"), PickGender("woman").pack()),
                Button(_("A man"), PickGender("man").pack()),
                Button(_("Prefer not to say"), PickGender("n").pack()),
            ),
        ),
    )


async def _own_gender(turn: Turn) -> Outcome:
    assert isinstance(turn.press, PickGender)
    turn.data["gender"] = "" if turn.press.gender == "n" else turn.press.gender
    return Goto("display_name")


async def _ask_display_name(_turn: Turn) -> Reply:
    return Reply(
        fmt(
            _(
                "Which first name or pseudonym should the people you interpret for see? "
                "(at most {n} characters)"
            ),
            n=NAME_MAX,
        )
    )


async def _display_name(turn: Turn) -> Outcome:
    name = clean_name(turn.text)
    if name is None:
        return Stay(
            Reply(
                fmt(
                    _(
                        "Please type only a first name or a pseudonym, at most {n} characters, "
                        "without @ or links."
                    ),
                    n=NAME_MAX,
                )
            )
        )
    turn.data["name"] = name
    return Goto("pledge")


async def _ask_pledge(_turn: Turn) -> Reply:
    text = _(
        "Confidentiality pledge\n\n"
        "I keep everything I learn as an interpreter confidential: the people, their matters "
        "and what is said. I pass on nothing to others, use nothing for myself, interpret "
        "completely and neutrally, and say so when I am biased or cannot do it. I contact the "
        "people only through the bot."
    )
    return Reply(
        fmt("{text}", text=text),
        (
            (
                Button(_("✅ I promise"), Pledge("y").pack()),
                Button(_("✖ No"), Pledge("n").pack()),
            ),
        ),
    )


async def _pledge(turn: Turn) -> Outcome:
    assert isinstance(turn.press, Pledge)
    if turn.press.choice == "n":
        return Finish(
            Reply(
                fmt(_("Without the pledge you cannot interpret here. Nothing was stored.")),
                replace=True,
            )
        )
    data = turn.data
    varieties = list(data.get("varieties", []))
    languages = [
        c for c in data["languages"] if not any(v.startswith(f"{c}-") for v in varieties)
    ] + varieties
    entry, _new = await turn.ctx.services.interpreting.register(
        turn.ctx.me.id,
        int(data["org"]),
        name=str(data["name"]),
        languages=languages,
        gender=str(data.get("gender", "")),
    )
    organisation = await turn.ctx.services.organisers.organisation(entry.organisation_id)
    name = organisation.name if organisation else "—"
    if entry.status == "verified":
        text = _(
            "Thank you – your languages for {organisation} are saved. /requests shows what "
            "you can take."
        )
    else:
        text = _(
            "Thank you. A coordinator of {organisation} will verify you; until then you see no "
            "requests. I will tell you. /requests shows your status."
        )
    return Finish(Reply(fmt(text, organisation=name), replace=True))


REGISTER_WIZARD = Wizard(
    REGISTER_KIND,
    "interpreter_register",
    {
        "organisation": Step(_ask_pool, press=_pool, buttons=(JoinPool,)),
        "languages": Step(_ask_languages, press=_languages, buttons=(PickInterpreting,)),
        "varieties": Step(_ask_varieties, press=_varieties, buttons=(PickVariety,)),
        "gender": Step(_ask_own_gender, press=_own_gender, buttons=(PickGender,)),
        "display_name": Step(_ask_display_name, text=_display_name),
        "pledge": Step(_ask_pledge, press=_pledge, buttons=(Pledge,)),
    },
)


# An interpreter's own entry, as they read it in /requests …
ENTRY_STATUS = {
    "pending": N_("waiting for a coordinator to verify you"),
    "verified": N_("verified"),
    "paused": N_("paused by a coordinator"),
}
# … and as coordinators read it in /interpreters.
POOL_STATUS = {
    "pending": N_("not verified yet"),
    "verified": N_("verified"),
    "paused": N_("paused"),
}


async def requests(ctx: Context) -> list[Reply]:
    """/requests: for interpreters, what they may take and what they have; for coordinators,
    the open requests of their organisations."""
    replies: list[Reply] = []
    board = await ctx.services.interpreting.board(ctx.me.id)
    authority = await authority_of(ctx)
    coordinated = [
        o
        for o in await ctx.services.organisers.organisations_all()
        if authority.coordinator_of(o.id)
    ]
    if board.entries:
        lines = [fmt(_("You are registered as an interpreter:"))]
        for entry in board.entries:
            organisation = await ctx.services.organisers.organisation(entry.organisation_id)
            lines.append(
                fmt(
                    "• {organisation}: {languages} – {status}",
                    organisation=organisation.name if organisation else "—",
                    languages=_languages_of(entry),
                    status=_named(ENTRY_STATUS, entry.status),
                )
            )
        replies.append(Reply(join(lines)))
        for request in board.mine[:LIST_LIMIT]:
            text = await describe(ctx.services, request, ctx.tz, for_whom="interpreter")
            replies.append(Reply(text, _interpreter_buttons(request, mine=True)))
        if board.claimable:
            replies.append(Reply(fmt(_("Open requests you can take:"))))
        for request in board.claimable[:LIST_LIMIT]:
            text = await describe(ctx.services, request, ctx.tz, for_whom="interpreter")
            replies.append(Reply(text, _interpreter_buttons(request, mine=False)))
        if (
            not board.mine
            and not board.claimable
            and any(e.status == "verified" for e in board.entries)
        ):
            replies.append(
                Reply(fmt(_("There is nothing for you right now. I will tell you when there is.")))
            )
    if coordinated:
        live = await ctx.services.interpreting.queue_of([o.id for o in coordinated])
        if not live:
            replies.append(
                Reply(fmt(_("Your organisations have no open requests for an interpreter.")))
            )
        else:
            replies.append(Reply(fmt(_("Requests for an interpreter in your organisations:"))))
        for request in live[:LIST_LIMIT]:
            pattern, _auto = await ctx.services.interpreting.pattern(request.organisation_id)
            text = await _described(ctx, request, "coordinator")
            replies.append(Reply(text, _coordinator_buttons(request, pattern)))
    if not replies:
        replies.append(
            Reply(
                fmt(
                    _(
                        "You are not registered as an interpreter. /interpreter_register joins an "
                        "organisation's pool; /interpreter asks for an interpreter."
                    )
                )
            )
        )
    return replies


# -- coordinators: the pool ---------------------------------------------------------------

PATTERN_NAMES: dict[PatternCode, str] = {
    "c": N_("Coordinators offer each request to an interpreter"),
    "b": N_("Interpreters claim requests; a coordinator confirms"),
    "a": N_("Interpreters claim requests; confirmed at once"),
}


def _pattern_code(pattern: str, auto: bool) -> PatternCode:
    if pattern != "board":
        return "c"
    return "a" if auto else "b"


async def pool(ctx: Context) -> Reply | list[Reply]:
    """/interpreters [organisation]: the pool of interpreters, verifying, pausing, removing,
    and how requests are placed."""
    authority = await authority_of(ctx)
    mine = [
        o
        for o in await ctx.services.organisers.organisations_all()
        if authority.coordinator_of(o.id)
    ]
    number = parse_id(ctx.args)
    chosen = [o for o in mine if o.id == number] if number is not None else mine
    if len(chosen) > 1:
        buttons = [Button(o.name, PoolView(o.id).pack()) for o in chosen]
        return Reply(fmt(_("Which organisation's interpreters?")), _pairs(buttons))
    if not chosen:
        return Reply(fmt(_("Sorry, only the organisation's coordinators can do this.")))
    return await _pool_of(ctx, chosen[0].id)


async def on_pool_view(ctx: Context, press: PoolView) -> Reply | list[Reply]:
    refusal = await _coordinates(ctx, press.organisation, "pool")
    return refusal or await _pool_of(ctx, press.organisation)


async def _pool_of(ctx: Context, organisation_id: int) -> list[Reply]:
    organisation = await ctx.services.organisers.organisation(organisation_id)
    if organisation is None:
        raise StaleButton("organisation gone")
    pattern, auto = await ctx.services.interpreting.pattern(organisation_id)
    current = _pattern_code(pattern, auto)
    rows = tuple(
        (Button(marked(code == current, _(label)), PoolPattern(organisation_id, code).pack()),)
        for code, label in PATTERN_NAMES.items()
    )
    entries = await ctx.services.interpreting.pool(organisation_id)
    heading = fmt(
        ngettext(
            "Interpreters of {organisation}: {n}. How requests are placed:",
            "Interpreters of {organisation}: {n}. How requests are placed:",
            len(entries),
        ),
        organisation=organisation.name,
        n=len(entries),
    )
    replies = [Reply(heading, rows)]
    for entry in entries:
        replies.append(_entry_reply(entry))
    return replies


def _entry_reply(entry: InterpreterRecord, *, replace: bool = False) -> Reply:
    text = fmt(
        "👤 {name} · {languages}\n{status}",
        name=isolate(entry.name),
        languages=_languages_of(entry),
        status=_named(POOL_STATUS, entry.status),
    )
    buttons = []
    if entry.status == "pending":
        buttons.append(Button(_("✅ Verify"), PoolAction(entry.id, "verify").pack()))
    elif entry.status == "verified":
        buttons.append(Button(_("⏸ Pause"), PoolAction(entry.id, "pause").pack()))
    elif entry.status == "paused":
        buttons.append(Button(_("⏯ Resume"), PoolAction(entry.id, "resume").pack()))
    buttons.append(Button(_("🗑 Remove"), PoolAction(entry.id, "remove").pack()))
    return Reply(text, (tuple(buttons),), replace=replace)


async def on_pool_action(ctx: Context, press: PoolAction) -> Reply:
    entry = await ctx.services.interpreting.interpreter(press.interpreter)
    if entry is None:
        raise StaleButton("interpreter gone")
    refusal = await _coordinates(ctx, entry.organisation_id, press.verb)
    if refusal is not None:
        return refusal
    try:
        changed = await ctx.services.interpreting.set_status(ctx.me.id, entry.id, press.verb)
    except Refused as refused:
        message = _refusal(refused.reason, ctx)
        return Reply(fmt(message), toast=message)
    await ctx.services.organisers.audit(
        ctx.me.id,
        f"interpreter {press.verb}",
        entry.organisation_id,
        True,
        f"interpreter {entry.id}",
    )
    if press.verb == "remove":
        return Reply(fmt(_("Removed from the pool: {name}."), name=entry.name), replace=True)
    return _entry_reply(changed, replace=True)


async def on_pool_pattern(ctx: Context, press: PoolPattern) -> Reply | list[Reply]:
    refusal = await _coordinates(ctx, press.organisation, "pattern")
    if refusal is not None:
        return refusal
    pattern = "coordinator" if press.pattern == "c" else "board"
    await ctx.services.interpreting.set_pattern(press.organisation, pattern, press.pattern == "a")
    await ctx.services.organisers.audit(
        ctx.me.id, "interpreting pattern", press.organisation, True, press.pattern
    )
    replies = await _pool_of(ctx, press.organisation)
    return [replace(replies[0], replace=True), *replies[1:]]


# -- notices --------------------------------------------------------------------------------


async def _notice_request(ctx: NoticeContext) -> InterpreterRequestRecord | None:
    return await ctx.services.interpreting.request(int(ctx.payload["request"]))


async def render_to_requester(ctx: NoticeContext) -> Reply | None:
    request = await _notice_request(ctx)
    if request is None or request.user_id != ctx.user.id:
        return None
    say = ctx.payload.get("say")
    texts = {
        "offered": _("⏳ A coordinator has asked an interpreter for your request."),
        "claimed": _("⏳ An interpreter wants to take your request; a coordinator confirms it."),
        "confirmed": _("✅ Your interpreter is confirmed."),
        "reopened": _("⚠️ Your interpreter can no longer come. I am looking for someone else."),
        "searching": _(
            "⏳ That interpreter cannot take your request after all. I am still looking for "
            "someone."
        ),
        "unfilled": _(
            "⚠️ Sorry: no interpreter could be found in time for your request. Please contact "
            "the organisation directly."
        ),
        "cancelled": _("✖ Your request was cancelled because the event was cancelled."),
        "changed": _("✏️ The time or place of your appointment has changed:"),
    }
    if say not in texts:
        return None
    text = await _described(ctx, request, "requester")
    return Reply(join([fmt(texts[say]), text], "\n\n"), _requester_buttons(request))


async def render_to_interpreter(ctx: NoticeContext) -> Reply | None:
    request = await _notice_request(ctx)
    if request is None:
        return None
    entries = {e.id for e in await ctx.services.interpreting.entries(ctx.user.id)}
    mine = request.interpreter_id in entries
    say = ctx.payload.get("say")
    if say == "new":
        if request.status != "requested" or not await ctx.services.interpreting.may_take(
            ctx.user.id, request
        ):
            return None  # taken, or they were paused or removed, before this could be sent
        line = fmt(_("🆕 A request you can take:"))
        buttons = _interpreter_buttons(request, mine=False)
    elif say == "offer":
        if request.status != "offered" or not mine:
            return None
        line = fmt(_("👉 A coordinator asks you to take this request:"))
        buttons = _interpreter_buttons(request, mine=True)
    else:
        texts = {
            "confirmed": _("✅ Your claim is confirmed: the appointment is yours."),
            "rejected": _("The coordinator has given this request to someone else."),
            "cancelled": _("✖ Cancelled: you are no longer needed for this appointment."),
            "changed": _("✏️ The appointment has changed – please check the time and place:"),
            "unfilled": _("This request has closed: it is too near to be placed."),
            "withdrawn": _("The coordinator has taken this request back from you."),
        }
        if say not in texts:
            return None
        line = fmt(texts[say])
        buttons = _interpreter_buttons(request, mine=True) if mine else ()
    text = await describe(
        ctx.services,
        request,
        ctx.tz,
        for_whom="interpreter" if mine or say == "new" else "coordinator",
    )
    return Reply(join([line, text], "\n\n"), buttons)


async def render_to_coordinator(ctx: NoticeContext) -> Reply | None:
    request = await _notice_request(ctx)
    if request is None:
        return None
    say = ctx.payload.get("say")
    texts = {
        "new": _("🆕 A new request for an interpreter:"),
        "nobody": _("🆕 A new request – nobody verified in your pool speaks this language:"),
        "claimed": _("🙋 An interpreter has claimed this request; please confirm it:"),
        "accepted": _("✅ The interpreter accepted:"),
        "declined": _("✖ The interpreter declined; please offer it to someone else:"),
        "withdrew": _("⚠️ The interpreter can no longer come; the request is open again:"),
        "cancelled": _("✖ This request was cancelled:"),
        "unfilled": _("⚠️ No interpreter was found in time for this request:"),
        "changed": _("✏️ The time or place of this request has changed:"),
    }
    if say not in texts:
        return None
    pattern, _auto = await ctx.services.interpreting.pattern(request.organisation_id)
    text = await _described(ctx, request, "coordinator")
    return Reply(join([fmt(texts[say]), text], "\n\n"), _coordinator_buttons(request, pattern))


async def render_to_organiser(ctx: NoticeContext) -> Reply | None:
    request = await _notice_request(ctx)
    if request is None:
        return None
    text = await describe(ctx.services, request, ctx.tz, for_whom="coordinator")
    if ctx.payload.get("say") == "no_coordinator":
        line = fmt(
            _(
                "🆕 A request for an interpreter has come for your organisation, but it has no "
                "coordinator to place it. Invite one with /invite coordinator."
            )
        )
    elif request.event_id is None:
        line = fmt(_("⚠️ No interpreter was found in time for a request to your organisation:"))
    else:
        line = fmt(_("⚠️ No interpreter was found in time for a request for your event:"))
    return Reply(join([line, text], "\n\n"))


async def render_reminder(ctx: NoticeContext) -> Reply | None:
    request = await _notice_request(ctx)
    if request is None or request.status != "confirmed":
        return None
    side = await ctx.services.interpreting.side_of(ctx.user.id, request)
    if side is None:
        return None
    left = request.starts_at - ctx.services.users.clock()
    line = fmt(
        _("⏰ Reminder: your appointment with interpreting starts {when}."),
        when=format_time_left(left),
    )
    for_whom = "requester" if side == "requester" else "interpreter"
    text = await _described(ctx, request, for_whom)
    buttons = (
        _requester_buttons(request)
        if side == "requester"
        else _interpreter_buttons(request, mine=True)
    )
    return Reply(join([line, text], "\n\n"), buttons)


async def render_relay(ctx: NoticeContext) -> Reply | None:
    request = await _notice_request(ctx)
    if request is None:
        return None
    side = await ctx.services.interpreting.side_of(ctx.user.id, request)
    if side is None or side == ctx.payload.get("from"):
        return None  # no longer the other side of a confirmed request
    if ctx.payload.get("from") == "interpreter":
        interpreter = await _interpreter(ctx, request)
        who = _("your interpreter {name}").format(
            name=isolate(interpreter.name) if interpreter else "—"
        )
    else:
        who = isolate(request.pseudonym) if request.pseudonym else _("the person you interpret for")
    heading = fmt(_("✉ Message about request {id} from {who}:"), id=request.id, who=who)
    body = fmt("{text}", text=str(ctx.payload.get("text", "")))
    reply = (Button(_("↩ Reply"), RequestAction(request.id, "m").pack()),)
    return Reply(join([heading, body], "\n\n"), (reply,))


async def render_pool(ctx: NoticeContext) -> Reply | None:
    entry = await ctx.services.interpreting.interpreter(int(ctx.payload["interpreter"]))
    say = ctx.payload.get("say")
    if say == "registered":
        if entry is None or entry.status != "pending":
            return None
        line = fmt(_("🆕 Someone registered as an interpreter and waits for you to verify them:"))
        shown = _entry_reply(entry)
        return Reply(join([line, shown.text], "\n\n"), shown.buttons)
    organisation = await ctx.services.organisers.organisation(
        int(ctx.payload.get("organisation") or 0)
    )
    name = organisation.name if organisation else "—"
    texts = {
        "verify": _(
            "✅ A coordinator of {organisation} has verified you. /requests shows what you "
            "can take."
        ),
        "resume": _(
            "⏯ A coordinator of {organisation} has resumed you. /requests shows what you can take."
        ),
        "pause": _(
            "⏸ A coordinator of {organisation} has paused you: you see no requests for now."
        ),
        "remove": _("A coordinator of {organisation} has removed you from its interpreters."),
    }
    if say not in texts:
        return None
    return Reply(fmt(texts[say], organisation=name))
