"""/newevent: a guided conversation that creates an event, step by step, with checks."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time
from typing import Any

from markupsafe import Markup

from bot.calendar.dates import DateProblem, end_after, exact, parse
from bot.core.chat import Button, Reply
from bot.core.context import Context
from bot.core.conversations import Finish, Goto, Outcome, Stay, Step, Turn, Wizard
from bot.core.errors import StaleButton
from bot.i18n import _, format_when, isolate, language_name, native_name, ngettext
from bot.i18n.text import bold, fmt, join
from bot.services.topics import Choice
from handlers import event_fields as fields
from handlers.buttons import (
    NewEventCategory,
    NewEventFinish,
    NewEventFold,
    NewEventInterpretation,
    NewEventLanguage,
    NewEventRegion,
    shipped,
)
from handlers.organisers import authority_of, pick_organisation
from handlers.views import (
    category_name,
    marked,
    next_year_line,
    region_name,
    taken_as_next_year,
)

KIND = "newevent"


def _question(text: str) -> Reply:
    return Reply(join([fmt(text), fmt(_("(/cancel stops at any step.)"))]))


def _instant(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _pairs(buttons: list[Button]) -> tuple[tuple[Button, ...], ...]:
    return tuple(tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2))


async def start(ctx: Context) -> Reply:
    """/newevent [organisation]: begin."""
    chosen = await pick_organisation(ctx, ctx.args)
    if isinstance(chosen, Reply):
        return chosen
    # The text is taken to be in the organiser's own language; the preview can change that.
    data = {"org": chosen.id, "org_name": chosen.name, "locale": ctx.me.locale}
    question = await ctx.conversations.begin(ctx, WIZARD, "title", data, pressed=False)
    intro = fmt(_("New event for {organisation}."), organisation=chosen.name)
    return Reply(join([intro, question.text]), question.buttons)


# -- title and description ----------------------------------------------------------------


async def _ask_title(_turn: Turn) -> Reply:
    return _question(_("What is the title of the event?"))


async def _title(turn: Turn) -> Outcome:
    title = fields.read_title(turn.text)
    if isinstance(title, Reply):
        return Stay(title)
    turn.data["title"] = title
    return Goto("description")


async def _ask_description(_turn: Turn) -> Reply:
    return _question(_("Describe the event in a few sentences (or send - to leave it empty)."))


async def _description(turn: Turn) -> Outcome:
    description = fields.read_description(turn.text)
    if isinstance(description, Reply):
        return Stay(description)
    turn.data["description"] = description
    return Goto("category")


# -- topic and region ---------------------------------------------------------------------


async def _ask_category(turn: Turn) -> Reply:
    state = await turn.ctx.services.topics.state(turn.ctx.me.id)
    buttons = [
        Button(category_name(c.slug), NewEventCategory(c.id).pack()) for c in state.categories
    ]
    return Reply(fmt(_("Which topic fits best?")), _pairs(buttons))


def _pick(options: list[Choice], wanted: int) -> Choice:
    """The option a button names; one that no longer exists makes the button stale."""
    chosen = next((o for o in options if o.id == wanted), None)
    if chosen is None:
        raise StaleButton("unknown option")
    return chosen


async def _category(turn: Turn) -> Outcome:
    assert isinstance(turn.press, NewEventCategory)
    state = await turn.ctx.services.topics.state(turn.ctx.me.id)
    chosen = _pick(state.categories, turn.press.id)
    turn.data["category"], turn.data["category_name"] = chosen.id, category_name(chosen.slug)
    return Goto("region")


async def _ask_region(turn: Turn) -> Reply:
    state = await turn.ctx.services.topics.state(turn.ctx.me.id)
    buttons = [Button(region_name(r.slug), NewEventRegion(r.id).pack()) for r in state.regions]
    return Reply(fmt(_("In which region?")), _pairs(buttons))


async def _region(turn: Turn) -> Outcome:
    assert isinstance(turn.press, NewEventRegion)
    state = await turn.ctx.services.topics.state(turn.ctx.me.id)
    chosen = _pick(state.regions, turn.press.id)
    turn.data["region"], turn.data["region_name"] = chosen.id, region_name(chosen.slug)
    return Goto("start")


# -- start, the twice-happening hour, end -------------------------------------------------


async def _ask_start(_turn: Turn) -> Reply:
    return _question(
        _("When does it start? For example 05.12.2026 18:00, or 18.11. 12-18 Uhr for a time range.")
    )


def _times(data: dict[str, Any], starts: datetime, ends: datetime | None) -> Outcome:
    data["starts_at"] = starts.isoformat()
    data.pop("pending", None)
    if ends is None:
        data.pop("ends_at", None)
        return Goto("end")
    data["ends_at"] = ends.isoformat()
    return Goto("place")


async def _start(turn: Turn) -> Outcome:
    tz = turn.ctx.settings.tz
    try:
        when = fields.read_start(turn.text, turn.now, tz)
    except DateProblem as problem:
        if problem.kind != "twice":
            return Stay(fields.date_problem(problem))
        # Asked with two buttons rather than explained: which of the two is meant.
        typed = parse(turn.text, turn.now.astimezone(tz).date())
        assert typed.start is not None
        end = typed.end.isoformat() if typed.end else None
        turn.data["pending"] = [typed.day.isoformat(), typed.start.isoformat(), end]
        _remember_year(turn, exact(typed.day, typed.start, tz, 0))
        return Goto("fold")
    _remember_year(turn, when.starts)
    return _times(turn.data, when.starts, when.ends)


def _remember_year(turn: Turn, starts: datetime) -> None:
    """Whether the date was typed without a year and taken as next year's: the next question
    says so."""
    if taken_as_next_year(turn.text, starts, turn.now, turn.ctx.settings.tz):
        turn.data["next_year"] = True
    else:
        turn.data.pop("next_year", None)


def _with_year_note(turn: Turn, question: Reply) -> Reply:
    starts = _instant(turn.data.get("starts_at"))
    if starts is None or not turn.data.get("next_year"):
        return question
    note = next_year_line(starts, turn.ctx.settings.tz)
    return replace(question, text=join([note, question.text]))


async def _ask_fold(turn: Turn) -> Reply:
    shown = time.fromisoformat(turn.data["pending"][1]).strftime("%H:%M")
    return Reply(
        fmt(
            _("On that day the clocks go back, so {time} happens twice. Which one do you mean?"),
            time=shown,
        ),
        (
            (
                Button(_("{time} summer time (CEST)").format(time=shown), NewEventFold(0).pack()),
                Button(_("{time} winter time (CET)").format(time=shown), NewEventFold(1).pack()),
            ),
        ),
    )


async def _fold(turn: Turn) -> Outcome:
    assert isinstance(turn.press, NewEventFold)
    day, at, end = turn.data["pending"]
    tz = turn.ctx.settings.tz
    date_ = datetime.fromisoformat(day).date()
    try:
        starts = exact(date_, time.fromisoformat(at), tz, turn.press.fold)
        ends = (
            end_after(starts, date_, time.fromisoformat(end), tz, turn.press.fold) if end else None
        )
    except DateProblem as problem:
        return Stay(fields.date_problem(problem))
    return _times(turn.data, starts, ends)


async def _ask_end(turn: Turn) -> Reply:
    return _with_year_note(
        turn,
        _question(_("When does it end? A time like 20:00, a date and time, or - if it is open.")),
    )


async def _end(turn: Turn) -> Outcome:
    ends = None
    if not fields.skipped(turn.text):
        starts = datetime.fromisoformat(turn.data["starts_at"])
        try:
            ends = fields.read_end(turn.text, starts, turn.ctx.settings.tz)
        except DateProblem as problem:
            return Stay(fields.date_problem(problem))
    turn.data["ends_at"] = ends.isoformat() if ends else None
    turn.data.pop("next_year", None)
    return Goto("place")


# -- place, seats, deadline ---------------------------------------------------------------


async def _ask_place(turn: Turn) -> Reply:
    return _with_year_note(
        turn,
        _question(
            _("Where does it take place? An address, or an online link starting with https://")
        ),
    )


async def _place(turn: Turn) -> Outcome:
    place = fields.read_place(turn.text)
    if isinstance(place, Reply):
        return Stay(place)
    turn.data.pop("next_year", None)
    turn.data["place"], turn.data["online_url"] = place.place, place.online_url
    return Goto("capacity")


async def _ask_capacity(_turn: Turn) -> Reply:
    return _question(_("How many seats are there? A number, or - for no limit."))


async def _capacity(turn: Turn) -> Outcome:
    seats = fields.read_capacity(turn.text)
    if isinstance(seats, Reply):
        return Stay(seats)
    turn.data["capacity"] = seats.capacity
    return Goto("deadline")


async def _ask_deadline(_turn: Turn) -> Reply:
    return _question(
        _("Until when can people register? A date like 01.12.2026, or - for no deadline.")
    )


async def _deadline(turn: Turn) -> Outcome:
    deadline = None
    if not fields.skipped(turn.text):
        starts = datetime.fromisoformat(turn.data["starts_at"])
        try:
            deadline = fields.read_deadline(turn.text, turn.now, starts, turn.ctx.settings.tz)
        except DateProblem as problem:
            return Stay(fields.date_problem(problem))
    turn.data["deadline"] = deadline.isoformat() if deadline else None
    return Goto("preview")


# -- preview and publishing ---------------------------------------------------------------


async def _preview(turn: Turn) -> Reply:
    data, tz = turn.data, turn.ctx.settings.tz
    starts = _instant(data["starts_at"])
    assert starts is not None
    lines: list[Markup] = [
        fmt(_("Please check the event:")),
        bold(data["title"]),
        fmt("📅 {when}", when=format_when(starts, _instant(data.get("ends_at")), tz)),
        fmt("📍 {place}", place=isolate(data.get("place") or data.get("online_url") or "")),
        fmt("🏢 {organiser}", organiser=data["org_name"]),
        fmt("🏷 {category} · {region}", category=data["category_name"], region=data["region_name"]),
        fmt(_("🌐 Text in {language}"), language=language_name(_text_language(turn.ctx, data))),
    ]
    if data.get("capacity"):
        lines.append(fmt(_("Seats: {n}"), n=data["capacity"]))
    deadline = _instant(data.get("deadline"))
    if deadline is not None:
        lines.append(fmt(_("Registration until {when}"), when=format_when(deadline, None, tz)))
    if data.get("interpretation"):
        lines.append(fmt(_("🗣 Interpretation on request")))
    if data.get("description"):
        lines.append(Markup("\n") + fmt("{d}", d=data["description"]))
    buttons = (
        (
            Button(_("✅ Publish"), NewEventFinish("p").pack()),
            Button(_("✖ Discard"), NewEventFinish("x").pack()),
        ),
        (Button(_("🌐 Change language"), NewEventFinish("l").pack()),),
        (_interpretation_button(bool(data.get("interpretation"))),),
    )
    return Reply(join(lines), buttons)


def _interpretation_button(on: bool) -> Button:
    """Interpretation on request ("Sprachmittlung auf Anfrage"): people can then ask for an
    interpreter with one tap."""
    label = _("🗣 Interpretation on request: on") if on else _("🗣 Interpretation on request: off")
    return Button(marked(on, label), NewEventInterpretation("n" if on else "y").pack())


async def _finish(turn: Turn) -> Outcome:
    if isinstance(turn.press, NewEventInterpretation):
        turn.data["interpretation"] = turn.press.choice == "y"
        return Goto("preview")
    assert isinstance(turn.press, NewEventFinish)
    if turn.press.action == "x":
        return Finish(Reply(fmt(_("Discarded. Nothing was saved.")), replace=True))
    if turn.press.action == "l":
        return Goto("language")
    return await _publish(turn.ctx, turn.data, turn.now)


# -- the language of the text -------------------------------------------------------------


def _text_language(ctx: Context, data: dict[str, Any]) -> str:
    """The language the title and description are in (a draft begun before it was asked: the
    organiser's own)."""
    return str(data.get("locale") or ctx.me.locale)


async def _ask_language(turn: Turn) -> Reply:
    chosen = _text_language(turn.ctx, turn.data)
    others = [code for code in turn.ctx.i18n.available if code != chosen]
    buttons = [Button(f"✓ {native_name(chosen)}", NewEventLanguage(chosen).pack())] + [
        Button(native_name(code), NewEventLanguage(code).pack()) for code in others
    ]
    return Reply(
        fmt(_("In which language are the title and description written?")), _pairs(buttons)
    )


async def _language(turn: Turn) -> Outcome:
    assert isinstance(turn.press, NewEventLanguage)
    turn.data["locale"] = shipped(turn.ctx.i18n.available, turn.press.code)
    return Goto("preview")


async def _publish(ctx: Context, data: dict[str, Any], now: datetime) -> Outcome:
    organisation = int(data["org"])
    if not (await authority_of(ctx)).organiser_of(organisation):
        await ctx.services.organisers.audit(
            ctx.me.id, "newevent", organisation, False, "no longer an organiser"
        )
        return Finish(
            Reply(fmt(_("You no longer act for this organisation; nothing was published.")))
        )
    starts = _instant(data["starts_at"])
    assert starts is not None
    if starts < now:
        return Stay(fields.date_problem(DateProblem("past")))
    # Machine translation (if configured) runs after this update commits, as a job; the
    # notices to followers wait for it.
    translate_to = ctx.i18n.available if ctx.services.translator is not None else ()
    event_id, told = await ctx.services.events.publish(
        translate_to=translate_to,
        organisation_id=organisation,
        category_id=int(data["category"]),
        region_id=int(data["region"]),
        locale=_text_language(ctx, data),
        title=data["title"],
        description=data.get("description", ""),
        starts_at=starts,
        ends_at=_instant(data.get("ends_at")),
        place=data.get("place"),
        online_url=data.get("online_url"),
        capacity=data.get("capacity"),
        registration_deadline=_instant(data.get("deadline")),
        timezone=ctx.settings.timezone,
        interpretation=bool(data.get("interpretation")),
    )
    await ctx.services.organisers.audit(
        ctx.me.id, "newevent", organisation, True, f"event {event_id}"
    )
    return Finish(
        Reply(
            fmt(
                ngettext(
                    "Published (event {id}). {n} person follows this topic and hears of it.",
                    "Published (event {id}). {n} people follow this topic and hear of it.",
                    told,
                ),
                id=event_id,
                n=told,
            ),
            replace=True,
        )
    )


WIZARD = Wizard(
    KIND,
    "newevent",
    {
        "title": Step(_ask_title, text=_title),
        "description": Step(_ask_description, text=_description),
        "category": Step(_ask_category, press=_category, buttons=(NewEventCategory,)),
        "region": Step(_ask_region, press=_region, buttons=(NewEventRegion,)),
        "start": Step(_ask_start, text=_start),
        "fold": Step(_ask_fold, press=_fold, buttons=(NewEventFold,)),
        "end": Step(_ask_end, text=_end),
        "place": Step(_ask_place, text=_place),
        "capacity": Step(_ask_capacity, text=_capacity),
        "deadline": Step(_ask_deadline, text=_deadline),
        "preview": Step(_preview, press=_finish, buttons=(NewEventFinish, NewEventInterpretation)),
        "language": Step(_ask_language, press=_language, buttons=(NewEventLanguage,)),
    },
)
