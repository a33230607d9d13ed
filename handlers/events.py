"""/events, an event's card, answers (going / maybe / not going) and /myevents."""

from __future__ import annotations

import dataclasses
from typing import Literal
from zoneinfo import ZoneInfo

from markupsafe import Markup

from bot.core.buttons import EventsPage
from bot.core.chat import Button, Reply
from bot.core.context import Context, NoticeContext
from bot.core.errors import EventUnavailable, StaleButton
from bot.i18n import N_, _, current, format_when, ngettext
from bot.i18n.text import bold, chunks, fmt, join, plain, shorten
from bot.services.events import EventView, pick_text
from bot.services.rsvp import Answer, AnswerResult
from bot.services.seats import DEMOTED, PROMOTED
from handlers.buttons import (
    AnswerEvent,
    Back,
    CalendarFile,
    EventCard,
    NeedInterpreter,
    ReadMore,
    RequestAction,
    WithdrawAnswer,
)
from handlers.interpreting import status_label
from handlers.views import (
    ANSWER_CODES,
    ANSWER_ICONS,
    counts_line,
    event_text,
    my_answer_line,
    title_of,
)
from storage.records import InterpreterRequestRecord

__all__ = ["DEMOTED", "PROMOTED"]

PAGE_SIZE = 3
MY_EVENTS_LIMIT = 10
CARD_DESCRIPTION = 1500
LIST_DESCRIPTION = 160
MORE_CHUNK = 3000
# Reactions that answer an event where messages take reactions (Matrix).
REACTIONS = {"g": ("✅", "✔", "👍"), "m": ("❔", "❓", "🤔"), "n": ("❌", "👎")}
# Translators: what people type after /events to see all events ("/events all"): every
# common spelling in your language, separated by commas.
ALL_WORDS = N_("all")


def _personal_user_id(ctx: Context) -> int | None:
    """Personal details (my answer) only in a private chat, never in a group."""
    return ctx.user.id if ctx.user and ctx.incoming.chat.private else None


def _answer_buttons(view: EventView, back: Back | None) -> tuple[Button, ...]:
    current = view.mine.status if view.mine else None
    # Translators: the three answer buttons under an event; keep them short.
    labels = {"g": _("Going"), "m": _("Maybe"), "n": _("Not going")}
    row = []
    event = view.event.id
    for code, status in ANSWER_CODES.items():
        chosen = current == status or (status == "going" and current == "waitlisted")
        label = f"{ANSWER_ICONS[status]} {labels[code]}"
        undo = WithdrawAnswer(event, code).pack() if code != "n" else None
        data = AnswerEvent(event, code, back).pack()
        row.append(Button(f"• {label}" if chosen else label, data, REACTIONS[code], undo))
    return tuple(row)


def card(
    view: EventView,
    tz: ZoneInfo,
    back: Back | None,
    *,
    status_line: Markup | None = None,
    replace: bool = False,
    toast: str | None = None,
    private: bool = True,
    request: InterpreterRequestRecord | None = None,
) -> Reply:
    """One event with everything a person needs to decide, and the answer buttons; in a
    private chat also the way to ask for an interpreter (or how that request stands)."""
    parts = [status_line or Markup(""), event_text(view, tz, description_limit=CARD_DESCRIPTION)]
    parts.append(Markup("\n") + counts_line(view))
    parts.append(my_answer_line(view) or Markup(""))
    if view.offer is not None:
        parts.append(
            fmt(
                _("🎟 A seat is offered to you until {until}: tap “Going” to take it."),
                until=format_when(view.offer.expires_at, None, tz),
            )
        )
    if request is not None:
        parts.append(
            fmt(
                _("🗣 Your request for an interpreter: {status} (/interpreter)"),
                status=status_label(request.status),
            )
        )
    rows: list[tuple[Button, ...]] = [_answer_buttons(view, back)]
    if private and request is None and view.event.interpretation:
        rows.append((Button(_("🗣 I need an interpreter"), NeedInterpreter(view.event.id).pack()),))
    text = pick_text(view.event.texts, current().content_order())
    extra = [Button(_("📅 Add to calendar"), CalendarFile(view.event.id).pack())]
    if text and len(text.description) > CARD_DESCRIPTION:
        extra.append(Button(_("📖 Read more"), ReadMore(view.event.id, 1).pack()))
    rows.append(tuple(extra))
    if back is not None:
        rows.append((Button(_("« Back"), back.page().pack()),))
    return Reply(join([p for p in parts if p]), tuple(rows), replace=replace, toast=toast)


async def _page(ctx: Context, everything: bool, offset: int, *, replace: bool) -> Reply:
    user_id = _personal_user_id(ctx)
    page = await ctx.services.events.page(
        user_id, everything=everything, offset=offset, limit=PAGE_SIZE
    )
    if not page.views and page.total > 0:
        # A page beyond the end (fewer events now, or a forged offset): the last page instead.
        offset = (page.total - 1) // PAGE_SIZE * PAGE_SIZE
        page = await ctx.services.events.page(
            user_id, everything=everything, offset=offset, limit=PAGE_SIZE
        )
    mode: Literal["s", "a"] = "a" if everything else "s"
    back = Back(mode, offset)
    lines: list[Markup] = []
    if page.total == 0:
        if page.filtered:
            lines.append(fmt(_("There are no upcoming events for your topics right now.")))
        else:
            lines.append(fmt(_("There are no upcoming events right now.")))
    else:
        first, last = offset + 1, offset + len(page.views)
        if page.filtered:
            heading = _("Upcoming events for your topics ({first}–{last} of {total}):")
        else:
            heading = _("All upcoming events ({first}–{last} of {total}):")
        lines.append(fmt(heading, first=first, last=last, total=page.total))
        for number, view in enumerate(page.views, start=first):
            lines.append(
                event_text(view, ctx.tz, number=number, description_limit=LIST_DESCRIPTION)
            )
        lines.append(fmt(_("Tap an event to answer and to read more.")))
    if not page.filtered and not everything and ctx.user is not None:
        lines.append(fmt(_("Tip: with /topics you see only the events that interest you.")))

    rows: list[tuple[Button, ...]] = [
        (Button(f"{n}. {shorten(title_of(v), 40)}", EventCard(v.event.id, back).pack()),)
        for n, v in enumerate(page.views, start=offset + 1)
    ]
    nav = []
    if offset > 0:
        nav.append(Button(_("◀ Previous"), EventsPage(mode, max(offset - PAGE_SIZE, 0)).pack()))
    if offset + PAGE_SIZE < page.total:
        nav.append(Button(_("Next ▶"), EventsPage(mode, offset + PAGE_SIZE).pack()))
    if nav:
        rows.append(tuple(nav))
    if page.filtered:
        rows.append((Button(_("Show all events"), EventsPage("a", 0).pack()),))
    elif everything and _personal_user_id(ctx) is not None:
        rows.append((Button(_("Only my topics"), EventsPage("s", 0).pack()),))
    return Reply(join(lines, "\n\n"), tuple(rows), replace=replace)


async def on_more(ctx: Context, press: ReadMore) -> Reply:
    """The whole description of an event, in parts Telegram can carry."""
    event_id, part = press.event, press.part
    view = await ctx.services.events.view(event_id, None)
    text = pick_text(view.event.texts, current().content_order()) if view else None
    if view is None or view.event.status != "published" or text is None:
        raise StaleButton("event gone")
    parts = chunks(text.description, MORE_CHUNK)
    if part > len(parts):
        raise StaleButton("no such part")
    heading = fmt(
        _("{title} (part {part} of {parts})"), title=bold(text.title), part=part, parts=len(parts)
    )
    buttons: tuple[tuple[Button, ...], ...] = ()
    if part < len(parts):
        buttons = ((Button(_("📖 Read more"), ReadMore(event_id, part + 1).pack()),),)
    return Reply(join([heading, fmt("{chunk}", chunk=parts[part - 1])], "\n\n"), buttons)


def _words_for_all(ctx: Context) -> set[str]:
    """What people type after /events to see everything, in every shipped language."""
    words = {"all", "*"}
    for code in ctx.i18n.available:
        spellings = ctx.i18n.lang(code).translations.gettext(ALL_WORDS)
        words.update(word.strip().casefold() for word in spellings.split(","))
    return words


async def list_events(ctx: Context) -> Reply:
    """/events: upcoming events for my topics, a few at a time; "/events all" shows all."""
    everything = ctx.args.strip().casefold() in _words_for_all(ctx)
    return await _page(ctx, everything, 0, replace=False)


async def on_page(ctx: Context, press: EventsPage) -> Reply:
    """Turns the page."""
    return await _page(ctx, press.mode == "a", press.offset, replace=True)


async def on_card(ctx: Context, press: EventCard) -> Reply:
    """The event's card."""
    view = await ctx.services.events.view(press.event, _personal_user_id(ctx))
    if view is None or view.event.status != "published":
        raise StaleButton("event gone")
    private = ctx.incoming.chat.private
    request = None
    if private and ctx.user is not None:
        asked = await ctx.services.interpreting.for_events(ctx.user.id, [press.event])
        request = asked.get(press.event)
    return card(view, ctx.tz, press.back, replace=True, private=private, request=request)


def answer_line(result: AnswerResult) -> Markup:
    if result.accepted_offer:
        return fmt(_("🎉 The seat is yours. You are registered as going – see you there!"))
    if result.status == "waitlisted":
        return fmt(
            _(
                "⏳ The event is full. You are number {position} on the waitlist; "
                "I will tell you when a seat becomes free."
            ),
            position=result.waitlist_position or 0,
        )
    if result.status == "going":
        return fmt(_("✅ You are going. See you there!"))
    if result.status == "maybe":
        return fmt(_("❔ Saved: maybe."))
    return fmt(_("❌ Saved: you are not going."))


def unavailable_text(reason: str) -> str:
    texts = {
        "cancelled": _("This event has been cancelled."),
        "over": _("This event is already over."),
        "closed": _("Registration for this event has closed."),
    }
    return texts[reason]


async def on_answer(ctx: Context, press: AnswerEvent) -> Reply:
    """Record the answer (an upsert), show choice and counts."""
    event_id, answer = press.event, Answer(ANSWER_CODES[press.answer])
    try:
        result = await ctx.services.rsvps.answer(ctx.me.id, event_id, answer)
    except EventUnavailable as exc:
        if exc.reason == "gone":
            raise StaleButton("answer to an unknown event") from exc
        message = unavailable_text(exc.reason)
        return Reply(fmt(message), toast=message)
    view = result.view
    line = answer_line(result)
    requests = await ctx.services.interpreting.for_events(ctx.me.id, [event_id])
    request = requests.get(event_id)
    reply = card(
        view, ctx.tz, press.back, status_line=line, replace=True, toast=plain(line), request=request
    )
    if request is None or result.status != "not_going":
        return reply
    # Not coming: the interpreter asked for would wait in vain.
    question = fmt(_("You asked for an interpreter for this event. Shall I cancel that request?"))
    row = (
        Button(_("✖ Cancel the request"), RequestAction(request.id, "x").pack()),
        Button(_("Keep it"), RequestAction(request.id, "k").pack()),
    )
    return dataclasses.replace(
        reply, text=join([reply.text, question], "\n\n"), buttons=(*reply.buttons, row)
    )


async def on_withdraw(ctx: Context, press: WithdrawAnswer) -> Reply | None:
    """An answer taken back (a removed reaction on Matrix)."""
    event_id, answer = press.event, Answer(ANSWER_CODES[press.answer])
    try:
        result = await ctx.services.rsvps.withdraw(ctx.me.id, event_id, answer)
    except EventUnavailable as exc:
        if exc.reason == "gone":
            raise StaleButton("withdrawal for an unknown event") from exc
        return None  # the answer of a past or cancelled event stays as it was
    if result is None:
        return None  # the answer had changed already: nothing to take back
    view = await ctx.services.events.view(event_id, ctx.me.id)
    if view is None:
        return None
    return card(view, ctx.tz, None, status_line=answer_line(result))


async def my_events(ctx: Context) -> list[Reply]:
    """/myevents: my answers to upcoming events, each card with buttons to change it."""
    mine = await ctx.services.rsvps.mine(ctx.me.id)
    if not mine:
        return [
            Reply(
                fmt(
                    _(
                        "You have not answered any upcoming event yet. "
                        "/events shows what is coming up."
                    )
                )
            )
        ]
    heading = fmt(
        ngettext(
            "You answered {n} upcoming event:",
            "You answered {n} upcoming events:",
            len(mine),
        ),
        n=len(mine),
    )
    replies = [Reply(heading)]
    shown = mine[:MY_EVENTS_LIMIT]
    requests = await ctx.services.interpreting.for_events(ctx.me.id, [r.event_id for r in shown])
    for rsvp in shown:
        view = await ctx.services.events.view(rsvp.event_id, ctx.me.id)
        if view is not None:
            replies.append(card(view, ctx.tz, None, request=requests.get(rsvp.event_id)))
    if len(mine) > MY_EVENTS_LIMIT:
        replies.append(
            Reply(
                fmt(
                    ngettext(
                        "I showed the next {n} event. The others follow once it is over.",
                        "I showed the next {n} events. The others follow once these are over.",
                        MY_EVENTS_LIMIT,
                    ),
                    n=MY_EVENTS_LIMIT,
                )
            )
        )
    return replies


async def render_new_event(ctx: NoticeContext) -> Reply | None:
    """A new event for someone who follows its topic, in their language."""
    view = await ctx.services.events.notice_view(int(ctx.payload["event_id"]), ctx.user.id)
    if view is None or view.event.status != "published":
        return None
    if view.event.starts_at <= ctx.services.users.clock():
        return None  # held through the quiet hours until it had begun: no news any more
    line = fmt(_("🆕 New event from {organiser}:"), organiser=view.event.organisation_name)
    return card(view, ctx.tz, None, status_line=line)


async def render_promoted(ctx: NoticeContext) -> Reply | None:
    """The notice for someone who moved up from the waitlist, in their own language."""
    view = await ctx.services.events.notice_view(int(ctx.payload["event_id"]), ctx.user.id)
    if view is None or view.mine is None or view.mine.status != "going":
        return None
    line = fmt(
        _(
            "🎉 Good news: a seat became free, and it is yours. You are now registered as going. "
            "If you cannot come, please tap “Not going” so that someone else can have it."
        )
    )
    return card(view, ctx.tz, None, status_line=line)


async def render_demoted(ctx: NoticeContext) -> Reply | None:
    """The notice for someone who went back to the waitlist because the seats were reduced."""
    view = await ctx.services.events.notice_view(int(ctx.payload["event_id"]), ctx.user.id)
    if view is None or view.mine is None or view.mine.status != "waitlisted":
        return None
    line = fmt(
        _(
            "⏳ The organiser has reduced the number of seats. You were among the last to take "
            "a seat, so you are now number {position} on the waitlist; I will tell you when a "
            "seat becomes free."
        ),
        position=view.waitlist_position or 0,
    )
    return card(view, ctx.tz, None, status_line=line)


async def render_link(ctx: NoticeContext) -> Reply | None:
    """The link of an online event, once it is known, for everyone going."""
    view = await ctx.services.events.notice_view(int(ctx.payload["event_id"]), ctx.user.id)
    if view is None or view.event.status != "published" or not view.event.online_url:
        return None
    if view.mine is None or view.mine.status != "going":
        return None
    line = fmt(_("🔗 The link for this online event is here:"))
    return card(view, ctx.tz, None, status_line=line)
