"""/newevent: a guided conversation that creates an event, step by step, with checks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any, Literal
from zoneinfo import ZoneInfo

from markupsafe import Markup

from bot.calendar.dates import DateProblem, end_after, exact, parse
from bot.core.chat import Button, Reply
from bot.core.context import Context
from bot.core.errors import StaleButton
from bot.i18n import _, format_when, isolate
from bot.i18n.text import bold, clean_input, fmt, is_blank, join
from handlers.buttons import NewEventChoice, NewEventFinish, NewEventFold
from handlers.organisers import authority_of, pick_organisation
from handlers.views import category_name, region_name

KIND = "newevent"
MAX_TITLE = 200
MAX_DESCRIPTION = 4000
MAX_PLACE = 300
MAX_CAPACITY = 100_000
SKIP = {"-", "–", "—"}


def _too_long(limit: int) -> Reply:
    return Reply(fmt(_("This is too long: at most {max} characters, please."), max=limit))


def date_problem(problem: DateProblem) -> Reply:
    """A typed date that cannot be used, explained in the organiser's language."""
    texts = {
        "format": _("I could not read this date. Please write it like 05.12.2026 18:00."),
        "impossible": _("This date does not exist. Please check the day and the month."),
        "no_time": _("Please add a time, for example 05.12.2026 18:00."),
        "past": _("This is in the past. Please give a date in the future."),
        "order": _("The end must be after the start."),
        "gap": _(
            "On that day the clocks go forward: {time} does not exist. Please choose another "
            "time, for example an hour later."
        ),
        "deadline": _("The registration deadline must be before the event starts."),
        "twice": _(
            "On that day the clocks go back, so {time} happens twice. Please add CEST for "
            "summer time or CET for winter time, for example 31.10.2027 02:30 CET."
        ),
    }
    return Reply(fmt(texts.get(problem.kind, texts["format"]), **problem.details))


async def _save(ctx: Context, step: str, data: dict[str, Any]) -> None:
    await ctx.services.organisers.save_conversation(ctx.me.id, KIND, step, data)


def _ask(step: str) -> Reply:
    questions = {
        "title": _("What is the title of the event?"),
        "description": _("Describe the event in a few sentences (or send - to leave it empty)."),
        "start": _(
            "When does it start? For example 05.12.2026 18:00, or 18.11. 12-18 Uhr for a time "
            "range."
        ),
        "end": _("When does it end? A time like 20:00, a date and time, or - if it is open."),
        "place": _(
            "Where does it take place? An address, or an online link starting with https://"
        ),
        "capacity": _("How many seats are there? A number, or - for no limit."),
        "deadline": _(
            "Until when can people register? A date like 01.12.2026, or - for no deadline."
        ),
    }
    hint = _("(/cancel stops at any step.)")
    return Reply(join([fmt(questions[step]), fmt(hint)]))


async def start(ctx: Context) -> Reply:
    """/newevent [organisation]: begin."""
    chosen = await pick_organisation(ctx, ctx.args)
    if isinstance(chosen, Reply):
        return chosen
    await _save(ctx, "title", {"org": chosen.id, "org_name": chosen.name})
    intro = fmt(_("New event for {organisation}."), organisation=chosen.name)
    return Reply(join([intro, _ask("title").text]))


def _choice_buttons(
    kind: Literal["c", "r"], names: dict[int, str]
) -> tuple[tuple[Button, ...], ...]:
    buttons = [Button(name, NewEventChoice(kind, i).pack()) for i, name in names.items()]
    return tuple(tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2))


async def _categories(ctx: Context) -> Reply:
    state = await ctx.services.topics.state(ctx.me.id)
    names = {c.id: category_name(c.slug) for c in state.categories}
    return Reply(fmt(_("Which topic fits best?")), _choice_buttons("c", names))


async def _regions(ctx: Context) -> Reply:
    state = await ctx.services.topics.state(ctx.me.id)
    names = {r.id: region_name(r.slug) for r in state.regions}
    return Reply(fmt(_("In which region?")), _choice_buttons("r", names), replace=True)


def _instant(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass
class Answer:
    """One answer in the conversation, with what every step needs to check it."""

    ctx: Context
    data: dict[str, Any]
    text: str
    now: datetime

    @property
    def skipped(self) -> bool:
        return self.text in SKIP

    @property
    def tz(self) -> ZoneInfo:
        return self.ctx.settings.tz


async def _title(a: Answer) -> Reply:
    if is_blank(a.text):
        return Reply(fmt(_("Please write a title.")))
    if len(a.text) > MAX_TITLE:
        return _too_long(MAX_TITLE)
    a.data["title"] = a.text
    await _save(a.ctx, "description", a.data)
    return _ask("description")


async def _description(a: Answer) -> Reply:
    if len(a.text) > MAX_DESCRIPTION:
        return _too_long(MAX_DESCRIPTION)
    a.data["description"] = "" if a.skipped else a.text
    await _save(a.ctx, "category", a.data)
    return await _categories(a.ctx)


async def _start(a: Answer) -> Reply:
    try:
        typed = parse(a.text, a.now.astimezone(a.tz).date())
        if typed.start is None:
            raise DateProblem("no_time")
        try:
            starts = exact(typed.day, typed.start, a.tz)
        except DateProblem as problem:
            if problem.kind != "twice":
                raise
            end = typed.end.isoformat() if typed.end else None
            a.data["pending"] = [typed.day.isoformat(), typed.start.isoformat(), end]
            await _save(a.ctx, "fold", a.data)
            return _fold_question(typed.start)
        if starts < a.now:
            raise DateProblem("past")
        ends = end_after(starts, typed.day, typed.end, a.tz) if typed.end else None
    except DateProblem as problem:
        return date_problem(problem)
    return await _after_start(a.ctx, a.data, starts, ends)


def _read_end(a: Answer, starts: datetime) -> datetime:
    local_start = starts.astimezone(a.tz)
    if re.fullmatch(r"\d{1,2}[:.]\d{2}", a.text):
        hours, minutes = (int(x) for x in re.split(r"[:.]", a.text))
        try:
            return exact(local_start.date(), time(hours, minutes), a.tz)
        except ValueError as exc:
            raise DateProblem("impossible") from exc
    typed = parse(a.text, local_start.date())
    if typed.start is None:
        raise DateProblem("no_time")
    return exact(typed.day, typed.start, a.tz)


async def _end(a: Answer) -> Reply:
    starts = datetime.fromisoformat(a.data["starts_at"])
    ends = None
    if not a.skipped:
        try:
            ends = _read_end(a, starts)
        except DateProblem as problem:
            return date_problem(problem)
        if ends <= starts:
            return date_problem(DateProblem("order"))
    a.data["ends_at"] = ends.isoformat() if ends else None
    await _save(a.ctx, "place", a.data)
    return _ask("place")


async def _place(a: Answer) -> Reply:
    if is_blank(a.text):
        return Reply(fmt(_("Please write a place or a link.")))
    if len(a.text) > MAX_PLACE:
        return _too_long(MAX_PLACE)
    is_link = a.text.lower().startswith(("https://", "http://"))
    a.data["online_url"] = a.text if is_link else None
    a.data["place"] = None if is_link else a.text
    await _save(a.ctx, "capacity", a.data)
    return _ask("capacity")


async def _capacity(a: Answer) -> Reply:
    if a.skipped:
        a.data["capacity"] = None
    elif a.text.isascii() and a.text.isdigit() and 1 <= int(a.text) <= MAX_CAPACITY:
        a.data["capacity"] = int(a.text)
    else:
        return Reply(
            fmt(
                _("Please send a whole number between 1 and {max}, or - for no limit."),
                max=MAX_CAPACITY,
            )
        )
    await _save(a.ctx, "deadline", a.data)
    return _ask("deadline")


async def _deadline(a: Answer) -> Reply:
    starts = datetime.fromisoformat(a.data["starts_at"])
    deadline = None
    if not a.skipped:
        try:
            typed = parse(a.text, a.now.astimezone(a.tz).date())
            deadline = exact(typed.day, typed.start or time(23, 59), a.tz)
        except DateProblem as problem:
            return date_problem(problem)
        if deadline >= starts:
            return date_problem(DateProblem("deadline"))
        if deadline < a.now:
            return date_problem(DateProblem("past"))
    a.data["deadline"] = deadline.isoformat() if deadline else None
    await _save(a.ctx, "preview", a.data)
    return await _preview(a.ctx, a.data)


STEPS = {
    "title": _title,
    "description": _description,
    "start": _start,
    "end": _end,
    "place": _place,
    "capacity": _capacity,
    "deadline": _deadline,
}


async def on_text(ctx: Context) -> Reply:
    """The organiser's answer to the current question."""
    assert ctx.conversation is not None
    step = STEPS.get(ctx.conversation.step)
    if step is None:
        return Reply(fmt(_("Please use the buttons above, or /cancel.")))
    text = clean_input(ctx.incoming.text or "")
    return await step(Answer(ctx, dict(ctx.conversation.data), text, ctx.services.events.clock()))


def _fold_question(at: time) -> Reply:
    shown = at.strftime("%H:%M")
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


async def _after_start(
    ctx: Context, data: dict[str, Any], starts: datetime, ends: datetime | None
) -> Reply:
    data["starts_at"] = starts.isoformat()
    data.pop("pending", None)
    if ends is not None:
        data["ends_at"] = ends.isoformat()
        await _save(ctx, "place", data)
        return _ask("place")
    await _save(ctx, "end", data)
    return _ask("end")


async def _preview(ctx: Context, data: dict[str, Any]) -> Reply:
    starts = _instant(data["starts_at"])
    assert starts is not None
    lines: list[Markup] = [
        fmt(_("Please check the event:")),
        bold(data["title"]),
        fmt("📅 {when}", when=format_when(starts, _instant(data.get("ends_at")), ctx.settings.tz)),
        fmt("📍 {place}", place=isolate(data.get("place") or data.get("online_url") or "")),
        fmt("🏢 {organiser}", organiser=data["org_name"]),
        fmt("🏷 {category} · {region}", category=data["category_name"], region=data["region_name"]),
    ]
    if data.get("capacity"):
        lines.append(fmt(_("Seats: {n}"), n=data["capacity"]))
    if data.get("deadline"):
        deadline = _instant(data["deadline"])
        assert deadline is not None
        lines.append(
            fmt(_("Registration until {when}"), when=format_when(deadline, None, ctx.settings.tz))
        )
    if data.get("description"):
        lines.append(Markup("\n") + fmt("{d}", d=data["description"]))
    buttons = (
        (
            Button(_("✅ Publish"), NewEventFinish("p").pack()),
            Button(_("✖ Discard"), NewEventFinish("x").pack()),
        ),
    )
    return Reply(join(lines), buttons)


async def on_press(ctx: Context, press: NewEventChoice | NewEventFold | NewEventFinish) -> Reply:
    """Category or region chosen, which 02:30 was meant, publish or discard."""
    conversation = await ctx.services.organisers.conversation(ctx.me.id)
    if conversation is None or conversation.kind != KIND:
        raise StaleButton("no event being created")
    data = dict(conversation.data)
    action: str
    if isinstance(press, NewEventChoice):
        action = press.kind
    elif isinstance(press, NewEventFold):
        action = "f"
    else:
        action = press.action
    expected = {"c": "category", "r": "region", "f": "fold", "p": "preview", "x": conversation.step}
    if conversation.step != expected[action]:
        raise StaleButton("button of another step")
    if isinstance(press, NewEventChoice):
        state = await ctx.services.topics.state(ctx.me.id)
        options, key, name = (
            (state.categories, "category", category_name)
            if action == "c"
            else (state.regions, "region", region_name)
        )
        chosen = next((o for o in options if o.id == press.id), None)
        if chosen is None:
            raise StaleButton(f"unknown {key}")
        data[key], data[f"{key}_name"] = chosen.id, name(chosen.slug)
        if action == "c":
            await _save(ctx, "region", data)
            return await _regions(ctx)
        await _save(ctx, "start", data)
        return Reply(_ask("start").text, replace=True)
    if isinstance(press, NewEventFold):
        fold = press.fold
        day, at, end = data["pending"]
        tz = ctx.settings.tz
        starts = exact(datetime.fromisoformat(day).date(), time.fromisoformat(at), tz, fold)
        ends = (
            end_after(starts, datetime.fromisoformat(day).date(), time.fromisoformat(end), tz)
            if end
            else None
        )
        return await _after_start(ctx, data, starts, ends)
    if action == "x":
        await ctx.services.organisers.end_conversation(ctx.me.id)
        return Reply(fmt(_("Discarded. Nothing was saved.")), replace=True)
    return await _publish(ctx, data)


async def _publish(ctx: Context, data: dict[str, Any]) -> Reply:
    authority = await authority_of(ctx)
    if not authority.organiser_of(int(data["org"])):
        await ctx.services.organisers.audit(
            ctx.me.id, "newevent", int(data["org"]), False, "no longer an organiser"
        )
        await ctx.services.organisers.end_conversation(ctx.me.id)
        return Reply(fmt(_("You no longer act for this organisation; nothing was published.")))
    starts = _instant(data["starts_at"])
    assert starts is not None
    if starts < ctx.services.events.clock():
        return date_problem(DateProblem("past"))
    # Machine translation (if configured) runs after this update commits, as a job; the
    # notices to followers wait for it.
    translate_to = ctx.i18n.available if ctx.services.translator is not None else ()
    event_id, told = await ctx.services.events.publish(
        translate_to=translate_to,
        organisation_id=int(data["org"]),
        category_id=int(data["category"]),
        region_id=int(data["region"]),
        locale=ctx.me.locale,
        title=data["title"],
        description=data.get("description", ""),
        starts_at=starts,
        ends_at=_instant(data.get("ends_at")),
        place=data.get("place"),
        online_url=data.get("online_url"),
        capacity=data.get("capacity"),
        registration_deadline=_instant(data.get("deadline")),
        timezone=ctx.settings.timezone,
    )
    await ctx.services.organisers.end_conversation(ctx.me.id)
    await ctx.services.organisers.audit(
        ctx.me.id, "newevent", int(data["org"]), True, f"event {event_id}"
    )
    return Reply(
        fmt(
            _("Published (event {id}). I am telling the people who follow this topic: {n}."),
            id=event_id,
            n=told,
        ),
        replace=True,
    )
