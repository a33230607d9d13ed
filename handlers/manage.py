"""Organisers manage their events: /editevent, /cancelevent, /translate, /attendees, /report.
People get calendar files: the 📅 button on an event, and /calendar for all they go to."""

from __future__ import annotations

import csv
import io
from datetime import time, timedelta
from typing import Any

from markupsafe import Markup

from bot.calendar.dates import DateProblem, exact, parse
from bot.calendar.ics_export import calendar_ics, event_ics, ics_filename
from bot.core.chat import Attachment, Button, Reply
from bot.core.context import Context, NoticeContext
from bot.core.conversations import Check, Finish, Goto, Outcome, Prompt, Stay, Step, Turn, Wizard
from bot.core.errors import StaleButton
from bot.core.numbers import parse_id
from bot.i18n import N_, _, current, format_when, language_name, native_name, ngettext
from bot.i18n.text import fmt, join
from bot.services.events import EventView, counselling_counts, pick_text
from handlers import event_fields as fields
from handlers.buttons import (
    EDITABLE_FIELDS,
    CalendarFile,
    CancelEvent,
    EditableField,
    EditEvent,
    KeepEvent,
    SetInterpretation,
    TranslateEvent,
    shipped,
)
from handlers.events import card
from handlers.interpreting import language_label, status_label
from handlers.organisers import authority_of
from handlers.views import marked, next_year_line, taken_as_next_year, title_of

EDIT = "editevent"
TRANSLATE = "translate"


async def _own_event(ctx: Context, raw: str, action: str) -> EventView | Reply:
    """The event numbered in ``raw`` if the person organises it; refusals are audited."""
    number = parse_id(raw)
    if number is None:
        return Reply(
            fmt(_("Please add the event's number, for example /{command} 12."), command=action)
        )
    view = await ctx.services.events.view(number, None)
    if view is None:
        return Reply(fmt(_("There is no event with that number.")))
    if not (await authority_of(ctx)).organiser_of(view.event.organisation_id):
        await ctx.services.organisers.audit(
            ctx.me.id, action, view.event.organisation_id, False, "not their event"
        )
        return Reply(fmt(_("You do not act for the organisation of this event.")))
    return view


async def edit_event(ctx: Context) -> Reply:
    """/editevent N: choose what to change."""
    view = await _own_event(ctx, ctx.args, "editevent")
    if isinstance(view, Reply):
        return view
    labels = {
        "title": _("Title"),
        "description": _("Description"),
        "start": _("Date and time"),
        "place": _("Place"),
        "capacity": _("Seats"),
    }
    buttons = (
        *((Button(labels[f], EditEvent(view.event.id, f).pack()),) for f in EDITABLE_FIELDS),
        _interpretation_row(view),
    )
    return Reply(fmt(_("What do you want to change in “{title}”?"), title=title_of(view)), buttons)


def _interpretation_row(view: EventView) -> tuple[Button, ...]:
    on = view.event.interpretation
    label = _("🗣 Interpretation on request: on") if on else _("🗣 Interpretation on request: off")
    return (Button(marked(on, label), SetInterpretation(view.event.id, not on).pack()),)


async def on_interpretation_press(ctx: Context, press: SetInterpretation) -> Reply:
    """Interpretation on request, on or off (nobody is told; requests made stay)."""
    view = await _own_event(ctx, str(press.event), "editevent")
    if isinstance(view, Reply):
        return view
    await ctx.services.events.change(view.event.id, interpretation=press.on)
    await ctx.services.organisers.audit(
        ctx.me.id,
        "editevent",
        view.event.organisation_id,
        True,
        f"event {view.event.id}: interpretation {'on' if press.on else 'off'}",
    )
    if press.on:
        text = _("Saved: people can now ask for an interpreter for this event.")
    else:
        text = _("Saved: no more requests for an interpreter. Requests already made stay.")
    return Reply(fmt(text), replace=True)


async def on_edit_press(ctx: Context, press: EditEvent) -> Reply:
    """What to change was chosen: ask for the new value."""
    view = await _own_event(ctx, str(press.event), "editevent")
    if isinstance(view, Reply):
        return view
    data = {"event": view.event.id, "locale": _text_locale(view, ctx.me.locale)}
    return await ctx.conversations.begin(ctx, EDIT_WIZARD, press.field, data, pressed=True)


def _text_locale(view: EventView, preferred: str) -> str:
    if preferred in view.event.texts:
        return preferred
    return next(iter(sorted(view.event.texts)), preferred)


def _edit_question(text: str) -> Prompt:
    async def ask(_turn: Turn) -> Reply:
        return Reply(join([fmt(_(text)), fmt(_("(/cancel stops at any step.)"))]))

    return ask


def _read(field: EditableField, turn: Turn, view: EventView) -> dict[str, Any] | Reply:
    """The new value of ``field``, read as /newevent reads it."""
    if field == "title":
        title = fields.read_title(turn.text)
        return title if isinstance(title, Reply) else {"title": title}
    if field == "description":
        description = fields.read_description(turn.text)
        return description if isinstance(description, Reply) else {"description": description}
    if field == "place":
        place = fields.read_place(turn.text)
        return place if isinstance(place, Reply) else vars(place)
    if field == "capacity":
        seats = fields.read_capacity(turn.text)
        return seats if isinstance(seats, Reply) else {"capacity": seats.capacity}
    try:
        when = fields.read_start(turn.text, turn.now, turn.ctx.settings.tz)
    except DateProblem as problem:
        return fields.date_problem(problem)
    if when.ends is not None:
        return {"starts_at": when.starts, "ends_at": when.ends}
    # Only the start was typed: the event moves, and lasts as long as before.
    event = view.event
    length = event.ends_at - event.starts_at if event.ends_at is not None else None
    return {"starts_at": when.starts, "ends_at": when.starts + length if length else None}


def _edit(field: EditableField) -> Check:
    async def check(turn: Turn) -> Outcome:
        ctx = turn.ctx
        view = await _own_event(ctx, str(turn.data["event"]), "editevent")
        if isinstance(view, Reply):
            return Finish(view)
        values = _read(field, turn, view)
        if isinstance(values, Reply):
            return Stay(values)
        if "title" in values or "description" in values:
            values["locale"] = turn.data["locale"]
        changed, told = await ctx.services.events.change(view.event.id, **values)
        await ctx.services.organisers.audit(
            ctx.me.id,
            "editevent",
            view.event.organisation_id,
            True,
            f"event {view.event.id}: {','.join(changed)}",
        )
        if not changed:
            return Finish(Reply(fmt(_("Nothing changed."))))
        lines = [
            fmt(
                ngettext(
                    "Saved. I told {n} person who answered.",
                    "Saved. I told {n} people who answered.",
                    told,
                ),
                n=told,
            )
        ]
        tz = ctx.settings.tz
        if "starts_at" in values and taken_as_next_year(
            turn.text, values["starts_at"], turn.now, tz
        ):
            lines.append(next_year_line(values["starts_at"], tz))
        return Finish(Reply(join(lines)))

    return check


EDIT_WIZARD = Wizard(
    EDIT,
    "editevent",
    {
        "title": Step(_edit_question(N_("What is the new title?")), text=_edit("title")),
        "description": Step(
            _edit_question(N_("What is the new description?")), text=_edit("description")
        ),
        "start": Step(
            _edit_question(
                N_("When does it start now? For example 05.12.2026 18:00, or 05.12.2026 18-20 Uhr.")
            ),
            text=_edit("start"),
        ),
        "place": Step(
            _edit_question(N_("Where does it take place now? An address, or an online link.")),
            text=_edit("place"),
        ),
        "capacity": Step(
            _edit_question(N_("How many seats are there now? A number, or - for no limit.")),
            text=_edit("capacity"),
        ),
    },
)


async def cancel_event(ctx: Context) -> Reply:
    """/cancelevent N: asks once, then cancels and tells everyone who answered."""
    view = await _own_event(ctx, ctx.args, "cancelevent")
    if isinstance(view, Reply):
        return view
    return Reply(
        fmt(
            _("Really cancel “{title}”? Everyone who answered will be told."), title=title_of(view)
        ),
        (
            (
                Button(_("Yes, cancel the event"), CancelEvent(view.event.id).pack()),
                Button(_("No, keep the event"), KeepEvent(view.event.id).pack()),
            ),
        ),
    )


async def on_cancel_press(ctx: Context, press: CancelEvent) -> Reply:
    """The cancellation confirmed: cancel, and tell everyone who answered."""
    view = await _own_event(ctx, str(press.event), "cancelevent")
    if isinstance(view, Reply):
        return view
    told = await ctx.services.events.cancel(view.event.id)
    await ctx.services.organisers.audit(
        ctx.me.id, "cancelevent", view.event.organisation_id, True, f"event {view.event.id}"
    )
    return Reply(
        fmt(
            ngettext(
                "The event is cancelled. I told {n} person who answered.",
                "The event is cancelled. I told {n} people who answered.",
                told,
            ),
            n=told,
        ),
        replace=True,
    )


async def on_keep_press(ctx: Context, press: KeepEvent) -> Reply:
    """The cancellation called off: nothing changes."""
    view = await _own_event(ctx, str(press.event), "cancelevent")
    if isinstance(view, Reply):
        return view
    return Reply(
        fmt(_("Nothing changed: “{title}” takes place."), title=title_of(view)), replace=True
    )


async def translate(ctx: Context) -> Reply:
    """/translate N: add or replace the title and description in one more language."""
    view = await _own_event(ctx, ctx.args, "translate")
    if isinstance(view, Reply):
        return view
    texts = view.event.texts
    buttons = [
        Button(
            native_name(c) + (" ✅" if c in texts and not texts[c].machine_translated else ""),
            TranslateEvent(view.event.id, c).pack(),
        )
        for c in ctx.i18n.available
    ]
    rows = tuple(tuple(buttons[i : i + 3]) for i in range(0, len(buttons), 3))
    return Reply(fmt(_("Which language? ✅ marks texts written by people.")), rows)


async def on_translate_press(ctx: Context, press: TranslateEvent) -> Reply:
    """The language was chosen: ask for the title in it."""
    view = await _own_event(ctx, str(press.event), "translate")
    if isinstance(view, Reply):
        return view
    code = shipped(ctx.i18n.available, press.code)
    data = {"event": view.event.id, "locale": code}
    return await ctx.conversations.begin(ctx, TRANSLATE_WIZARD, "title", data, pressed=True)


async def _ask_translated_title(turn: Turn) -> Reply:
    return Reply(fmt(_("The title in {language}:"), language=language_name(turn.data["locale"])))


async def _translated_title(turn: Turn) -> Outcome:
    title = fields.read_title(turn.text)
    if isinstance(title, Reply):
        return Stay(title)
    turn.data["title"] = title
    return Goto("description")


async def _ask_translated_description(turn: Turn) -> Reply:
    return Reply(
        fmt(
            _("The description in {language} (or - to leave it empty):"),
            language=language_name(turn.data["locale"]),
        )
    )


async def _translated_description(turn: Turn) -> Outcome:
    description = fields.read_description(turn.text)
    if isinstance(description, Reply):
        return Stay(description)
    view = await _own_event(turn.ctx, str(turn.data["event"]), "translate")
    if isinstance(view, Reply):
        return Finish(view)
    locale = turn.data["locale"]
    await turn.ctx.services.events.change(
        view.event.id, locale=locale, title=turn.data["title"], description=description
    )
    return Finish(Reply(fmt(_("Saved: the text in {language}."), language=language_name(locale))))


TRANSLATE_WIZARD = Wizard(
    TRANSLATE,
    "translate",
    {
        "title": Step(_ask_translated_title, text=_translated_title),
        "description": Step(_ask_translated_description, text=_translated_description),
    },
)


# A spreadsheet reads a cell starting with one of these as a formula (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """The value, with a leading ' where a spreadsheet would run it as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _csv(rows: list[list[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([spreadsheet_safe(c) for c in row])
    return buffer.getvalue().encode("utf-8-sig")


async def attendees(ctx: Context) -> Reply:
    """/attendees N: the answers to an event as CSV — pseudonymous, with languages."""
    view = await _own_event(ctx, ctx.args, "attendees")
    if isinstance(view, Reply):
        return view
    rows = await ctx.services.events.answers(view.event.id)
    table: list[list[object]] = [
        ["participant", "answer", "waitlist_position", "language", "messenger", "answered_at"]
    ]
    table += [list(r) for r in rows]
    await ctx.services.organisers.audit(
        ctx.me.id, "attendees", view.event.organisation_id, True, f"event {view.event.id}"
    )
    lines = [
        fmt(
            ngettext(
                "The answers to “{title}”: {n} person. People appear by number only.",
                "The answers to “{title}”: {n} people. People appear by number only.",
                len(rows),
            ),
            title=title_of(view),
            n=len(rows),
        ),
        *await _reminders_and_offers(ctx, view),
        *await _interpretation(ctx, view),
    ]
    return Reply(
        join(lines),
        attachment=Attachment(f"attendees-event-{view.event.id}.csv", _csv(table), "text/csv"),
    )


async def _interpretation(ctx: Context, view: EventView) -> list[Markup]:
    """Who needs interpretation in which language and variety, and how the requests stand
    (counts only: no name, no account)."""
    counts = (await ctx.services.interpreting.counts([view.event.id])).get(view.event.id, {})
    by_language: dict[tuple[str, str | None], dict[str, int]] = {}
    for (language, variety, status), n in counts.items():
        by_language.setdefault((language, variety), {})[status] = n
    lines = []
    for (language, variety), statuses in sorted(
        by_language.items(), key=lambda i: (i[0][0], i[0][1] or "")
    ):
        parts = [f"{n} {status_label(status)}" for status, n in sorted(statuses.items()) if n]
        lines.append(
            fmt(
                _("🗣 {language}: {statuses}"),
                language=language_label(language, variety),
                statuses=", ".join(parts),
            )
        )
    return lines


async def _reminders_and_offers(ctx: Context, view: EventView) -> list[Markup]:
    """What the organiser sees of reminders and seat offers for one event."""
    stats = await ctx.services.reminders.stats(view.event)
    lines = [
        fmt(
            ngettext(
                "⏰ {n} reminder went out; “can't come” after a reminder: {cant}.",
                "⏰ {n} reminders went out; “can't come” after a reminder: {cant}.",
                stats.sent,
            ),
            n=stats.sent,
            cant=stats.cant_come,
        )
    ]
    if stats.skipped_late:
        lines.append(
            fmt(
                ngettext(
                    "⚠️ {n} reminder could not go out in time (the bot was not running).",
                    "⚠️ {n} reminders could not go out in time (the bot was not running).",
                    stats.skipped_late,
                ),
                n=stats.skipped_late,
            )
        )
    offers = await ctx.services.seats.open_offers(view.event.id)
    if offers:
        lines.append(
            fmt(
                ngettext(
                    "🎟 {n} seat is offered to the next person waiting, until {until}.",
                    "🎟 {n} seats are offered to the next people waiting, the first until {until}.",
                    len(offers),
                ),
                n=len(offers),
                until=format_when(min(o.expires_at for o in offers), None, ctx.tz),
            )
        )
    return lines


async def report(ctx: Context) -> Reply:
    """/report [from] [to]: per event of my organisations, answers and languages, as CSV."""
    words = ctx.args.split()
    tz = ctx.settings.tz
    now = ctx.services.events.clock()
    try:
        first = (
            exact(parse(words[0], now.date()).day, time(0), tz)
            if words
            else now - timedelta(days=365)
        )
        last = (
            exact(parse(words[1], now.date()).day, time(23, 59), tz)
            if len(words) > 1
            else now + timedelta(days=365)
        )
    except DateProblem as problem:
        return fields.date_problem(problem)
    if first > last:
        return Reply(
            fmt(
                _(
                    "The first date is after the second. Please give the period from its "
                    "first to its last day, for example /report 01.01.2026 31.12.2026."
                )
            )
        )
    organisations = await ctx.services.organisers.organisations(await authority_of(ctx))
    table: list[list[object]] = [
        [
            "organisation",
            "event",
            "title",
            "starts_at",
            "going",
            "maybe",
            "not_going",
            "waitlisted",
            "languages",
            "reminders",
            "cant_come_after_reminder",
            "interpreter_requests",
        ]
    ]
    ids = [o.id for o in organisations]
    rows = await ctx.services.events.report(ids, first, last)
    counselling = await counselling_counts(ctx.services.db, ids, first, last)
    for organisation in organisations:
        for row in rows.get(organisation.id, []):
            table.append([organisation.name, *row])
        if organisation.id in counselling:
            # Requests for its counselling hours: a row without an event.
            blank = [""] * (len(table[0]) - 5)
            table.append(
                [
                    organisation.name,
                    "",
                    "counselling hours",
                    "",
                    *blank,
                    counselling[organisation.id],
                ]
            )
    events = sum(len(rows.get(o.id, [])) for o in organisations)
    await ctx.services.organisers.audit(ctx.me.id, "report", None, True, f"{events} events")
    return Reply(
        fmt(
            ngettext(
                "The report for your organisations: {n} event.",
                "The report for your organisations: {n} events.",
                events,
            ),
            n=events,
        ),
        attachment=Attachment("treffpunkt-report.csv", _csv(table), "text/csv"),
    )


async def on_calendar_press(ctx: Context, press: CalendarFile) -> Reply:
    """This event as a calendar file."""
    view = await ctx.services.events.view(press.event, None)
    if view is None:
        raise StaleButton("event gone")
    text = pick_text(view.event.texts, current().content_order())
    title = text.title if text else ""
    data = event_ics(
        view.event,
        title=title,
        description=text.description if text else "",
        url=view.event.online_url,
        now=ctx.services.events.clock(),
    )
    return Reply(
        fmt(_("Open the file to add the event to your calendar.")),
        attachment=Attachment(ics_filename(title or "event"), data, "text/calendar"),
    )


async def my_calendar(ctx: Context) -> Reply:
    """/calendar: one calendar file with every event I am going to."""
    items = []
    for rsvp in await ctx.services.rsvps.mine(ctx.me.id):
        if rsvp.status != "going":
            continue
        view = await ctx.services.events.view(rsvp.event_id, None)
        if view is not None:
            text = pick_text(view.event.texts, current().content_order())
            items.append((view.event, text.title if text else "", text.description if text else ""))
    if not items:
        return Reply(fmt(_("You are not going to any upcoming event yet.")))
    data = calendar_ics(items, name="Treffpunkt", now=ctx.services.events.clock())
    return Reply(
        fmt(
            ngettext(
                "The {n} event you are going to, as one calendar file.",
                "The {n} events you are going to, as one calendar file.",
                len(items),
            ),
            n=len(items),
        ),
        attachment=Attachment("treffpunkt.ics", data, "text/calendar"),
    )


async def render_changed(ctx: NoticeContext) -> Reply | None:
    view = await ctx.services.events.notice_view(int(ctx.payload["event_id"]), ctx.user.id)
    if view is None or view.event.status != "published":
        return None
    labels = {
        "title": _("title"),
        "description": _("description"),
        "starts_at": _("date and time"),
        "ends_at": _("date and time"),
        "place": _("place"),
        "online_url": _("place"),
        "capacity": _("seats"),
    }
    what = sorted({labels.get(c, c) for c in ctx.payload.get("changed", [])})
    line = fmt(_("✏️ This event has changed ({what}):"), what=", ".join(what))
    return card(view, ctx.tz, None, status_line=line)


async def render_cancelled(ctx: NoticeContext) -> Reply | None:
    view = await ctx.services.events.view(int(ctx.payload["event_id"]), None)
    if view is None:
        return None
    return Reply(
        fmt(
            _("❌ Cancelled: “{title}” ({organiser}) does not take place."),
            title=title_of(view),
            organiser=view.event.organisation_name,
        )
    )
