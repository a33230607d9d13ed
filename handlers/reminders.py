"""Reminders, seat offers and lists of new events: what the bot sends on its own, in the
reader's language and time zone, and the buttons under it; /reminders shows what is planned."""

from __future__ import annotations

import time
from datetime import datetime
from zoneinfo import ZoneInfo

from markupsafe import Markup

from bot.core.chat import Button, Reply
from bot.core.context import Context, NoticeContext
from bot.core.errors import EventUnavailable, StaleButton
from bot.i18n import _, format_offset, format_time_left, format_when, isolate, ngettext
from bot.i18n.text import bold, fmt, join, plain, shorten
from bot.services import Services
from bot.services.events import EventView
from bot.services.rsvp import Answer
from bot.services.seats import OfferGone
from handlers.buttons import (
    EventCard,
    OfferReply,
    ReminderMinutes,
    ReminderReply,
    reminder_minutes,
)
from handlers.events import answer_line, card, unavailable_text
from handlers.views import event_text, title_of

REMINDER_DESCRIPTION = 300
# A batch's read of answers, places and offers is used for this long, then read again (the
# rendering of a batch can be drawn out by people tapping meanwhile).
BATCH_READ_SECONDS = 2.0
LIST_LIMIT = 10
REMINDED = ("going", "maybe", "waitlisted")


def _now(services: Services) -> datetime:
    return services.users.clock()


# -- reminders ----------------------------------------------------------------------------


def _reminder(view: EventView, tz: ZoneInfo, now: datetime, status: Markup) -> Markup:
    heading = fmt(
        _("⏰ Reminder: {title} starts {when}."),
        title=bold(isolate(title_of(view))),
        when=format_time_left(view.event.starts_at - now),
    )
    body = event_text(view, tz, description_limit=REMINDER_DESCRIPTION)
    return join([heading, body, Markup("\n") + status])


def _question(
    view: EventView, minutes: ReminderMinutes, tz: ZoneInfo
) -> tuple[Markup, tuple[Button, ...]]:
    """What the reminder says about the reader's answer, and the buttons that change it."""
    assert view.mine is not None
    event, status = view.event.id, view.mine.status
    if view.offer is not None:  # waiting, and a seat is offered to them right now
        return _offer_question(view.offer.id, view.offer.expires_at, tz)
    cant = Button(_("❌ Can't come"), ReminderReply(event, minutes, "n").pack())
    if status == "going":
        still = Button(_("👍 Still going"), ReminderReply(event, minutes, "s").pack())
        return fmt(_("You said you are going.")), (still, cant)
    if status == "maybe":
        going = Button(_("✅ I'm going"), ReminderReply(event, minutes, "g").pack())
        return fmt(_("You said maybe. Will you come?")), (going, cant)
    leave = Button(_("❌ Leave the waitlist"), ReminderReply(event, minutes, "n").pack())
    line = fmt(
        _(
            "⏳ You are number {position} on the waitlist. I will tell you at once if a seat "
            "becomes free."
        ),
        position=view.waitlist_position or 0,
    )
    return line, (leave,)


async def render_reminder(ctx: NoticeContext) -> Reply | None:
    """A reminder before an event the reader answered going or maybe, or waits for.

    A reminder run goes to thousands: the event's reminder rows and everyone's view of it
    are read once for all recipients in the batch (the first row reads them)."""
    services, payload, memo = ctx.services, ctx.payload, ctx.batch.memo
    event_id, minutes = int(payload["event_id"]), reminder_minutes(int(payload["minutes"]))
    read_at = memo.get("read_at")
    if read_at is None or time.monotonic() - read_at > BATCH_READ_SECONDS:
        # Both read before either is kept: a failed read leaves the memo as it was.
        rows = await services.reminders.of_event(event_id)
        views = await services.events.notice_views(event_id, ctx.batch.users)
        memo.update(rows=rows, views=views, read_at=time.monotonic())
    wanted, due = ctx.user.reminder_minutes, str(payload["due"])
    if not services.reminders.wanted_among(memo["rows"], minutes, due, wanted):
        return None  # moved, turned off meanwhile, or a nearer reminder goes out with it
    view = memo["views"].get(ctx.user.id)
    if view is None:  # not among the batch's recipients (rendered on its own)
        view = await services.events.notice_view(event_id, ctx.user.id)
    now = _now(services)
    if view is None or view.event.status != "published" or view.event.starts_at <= now:
        return None
    if view.mine is None or view.mine.status not in REMINDED:
        return None
    status, buttons = _question(view, minutes, ctx.tz)
    return Reply(_reminder(view, ctx.tz, now, status), (buttons,))


async def on_reminder_reply(ctx: Context, press: ReminderReply) -> Reply:
    """Still going, I'm going, or can't come: the reminder is edited to show the choice."""
    services = ctx.services
    before = await services.events.view(press.event, ctx.me.id)
    if before is None:
        raise StaleButton("reminder of an unknown event")
    previous = before.mine.status if before.mine else None
    view = before  # "still going" changes nothing
    try:
        if press.choice == "s":
            if previous != "going":
                raise StaleButton("not going any more")
            line = fmt(_("👍 Great – see you there!"))
        else:
            answer = Answer.GOING if press.choice == "g" else Answer.NOT_GOING
            result = await services.rsvps.answer(ctx.me.id, press.event, answer)
            view = result.view  # read in the answer's own transaction
            if answer == Answer.NOT_GOING and previous in REMINDED:
                await services.reminders.count_cant_come(press.event, press.minutes)
            line = _after_cant_come(previous) if answer == Answer.NOT_GOING else answer_line(result)
    except EventUnavailable as exc:
        if exc.reason == "gone":
            raise StaleButton("reminder of a vanished event") from exc
        message = unavailable_text(exc.reason)
        return Reply(fmt(message), replace=True, toast=message)
    text = _reminder(view, ctx.tz, _now(services), line)
    return Reply(text, replace=True, toast=plain(line))


def _after_cant_come(previous: str | None) -> Markup:
    if previous == "going":
        return fmt(
            _("❌ Thank you for telling us. Your seat goes to the next person waiting, if any.")
        )
    if previous == "waitlisted":
        return fmt(_("❌ You have left the waitlist."))
    return fmt(_("❌ Saved: you are not going."))


# -- seat offers --------------------------------------------------------------------------


def _offer_question(
    offer_id: int, expires_at: datetime, tz: ZoneInfo
) -> tuple[Markup, tuple[Button, ...]]:
    line = fmt(
        _(
            "🎟 A seat became free, and it is offered to you. It is held for you until {until}. "
            "Do you want it?"
        ),
        until=format_when(expires_at, None, tz),
    )
    buttons = (
        Button(_("✅ Yes, I take the seat"), OfferReply(offer_id, "a").pack()),
        Button(_("✖ No, give it to someone else"), OfferReply(offer_id, "d").pack()),
    )
    return line, buttons


async def render_offer(ctx: NoticeContext) -> Reply | None:
    """A free seat offered to the reader, with Accept and Decline."""
    offer_id = int(ctx.payload["offer_id"])
    view = await ctx.services.events.view(int(ctx.payload["event_id"]), ctx.user.id)
    if view is None or view.offer is None or view.offer.id != offer_id:
        return None  # answered, expired or withdrawn before it could be sent
    line, buttons = _offer_question(offer_id, view.offer.expires_at, ctx.tz)
    return Reply(join([line, event_text(view, ctx.tz, description_limit=300)], "\n\n"), (buttons,))


async def on_offer_reply(ctx: Context, press: OfferReply) -> Reply:
    """Accept or decline a seat offered; the offer's message shows the outcome."""
    services = ctx.services
    try:
        offer = await services.seats.offer_to(press.offer, ctx.me.id, accepting=press.choice == "a")
    except OfferGone as gone:
        if gone.reason == "gone":
            raise StaleButton("not an offer to this person") from gone
        message = _offer_gone_text(gone.reason)
        return Reply(fmt(message), replace=True, toast=message)
    answer = Answer.GOING if press.choice == "a" else Answer.NOT_GOING
    try:
        result = await services.rsvps.answer(ctx.me.id, offer.event_id, answer, offer_id=offer.id)
    except OfferGone as gone:  # it ran out, or was withdrawn, between the press and now
        message = _offer_gone_text(gone.reason)
        return Reply(fmt(message), replace=True, toast=message)
    except EventUnavailable as exc:
        if exc.reason == "gone":
            raise StaleButton("offer of a vanished event") from exc
        message = unavailable_text(exc.reason)
        return Reply(fmt(message), replace=True, toast=message)
    view = result.view  # read in the answer's own transaction
    if result.accepted_offer:
        line = fmt(_("🎉 The seat is yours. You are registered as going – see you there!"))
    else:
        line = fmt(_("Thank you. The seat goes to the next person waiting."))
    return card(view, ctx.tz, None, status_line=line, replace=True, toast=plain(line))


def _offer_gone_text(reason: str) -> str:
    texts = {
        "expired": _("This offer has expired, and the seat went to the next person waiting."),
        "accepted": _("You have already taken this seat."),
        "declined": _("You have already declined this seat."),
        "withdrawn": _("This offer was withdrawn: the seat is no longer free."),
    }
    return texts.get(reason, texts["withdrawn"])


async def render_offer_expired(ctx: NoticeContext) -> Reply | None:
    """The reader did not answer an offer in time."""
    view = await ctx.services.events.view(int(ctx.payload["event_id"]), ctx.user.id)
    if view is None or view.event.status != "published":
        return None
    line = fmt(
        _(
            "⌛ You did not answer in time, so the seat offered to you went to the next person "
            "waiting. If you still want to come, tap “Going” to join the waitlist again."
        )
    )
    return card(view, ctx.tz, None, status_line=line)


async def render_offer_withdrawn(ctx: NoticeContext) -> Reply | None:
    """The organiser reduced the seats while a seat was offered to the reader."""
    view = await ctx.services.events.view(int(ctx.payload["event_id"]), ctx.user.id)
    if view is None or view.event.status != "published" or view.mine is None:
        return None
    line = fmt(
        _(
            "The organiser has reduced the number of seats, so the seat offered to you is no "
            "longer free. You stay on the waitlist, number {position}."
        ),
        position=view.waitlist_position or 0,
    )
    return card(view, ctx.tz, None, status_line=line)


# -- lists of new events ------------------------------------------------------------------


async def _listed(ctx: NoticeContext) -> list[EventView]:
    now = _now(ctx.services)
    views = []
    for event_id in ctx.payload.get("event_ids", []):
        view = await ctx.services.events.view(int(event_id), ctx.user.id)
        if view is not None and view.event.status == "published" and view.event.starts_at > now:
            views.append(view)
    return views


def _event_list(heading: Markup, views: list[EventView], tz: ZoneInfo) -> Reply:
    lines = [heading]
    shown = views[:LIST_LIMIT]
    for number, view in enumerate(shown, start=1):
        lines.append(event_text(view, tz, number=number, description_limit=120))
    if len(views) > LIST_LIMIT:
        rest = len(views) - LIST_LIMIT
        lines.append(
            fmt(
                ngettext(
                    "… and {n} more: /events shows everything.",
                    "… and {n} more: /events shows everything.",
                    rest,
                ),
                n=rest,
            )
        )
    lines.append(fmt(_("Tap an event to answer and to read more.")))
    rows = tuple(
        (Button(f"{n}. {shorten(title_of(v), 40)}", EventCard(v.event.id, None).pack()),)
        for n, v in enumerate(shown, start=1)
    )
    return Reply(join(lines, "\n\n"), rows)


async def render_new_events(ctx: NoticeContext) -> Reply | None:
    """Several new events at once (an import), in one message."""
    views = await _listed(ctx)
    if not views:
        return None
    heading = fmt(
        ngettext(
            "🆕 {n} new event for your topics:",
            "🆕 {n} new events for your topics:",
            len(views),
        ),
        n=len(views),
    )
    return _event_list(heading, views, ctx.tz)


async def render_digest(ctx: NoticeContext) -> Reply | None:
    """The daily or weekly digest of new events."""
    views = await _listed(ctx)
    if not views:
        return None
    if ctx.user.news_mode == "weekly":
        text = ngettext(
            "📰 Your weekly digest: {n} new event for your topics.",
            "📰 Your weekly digest: {n} new events for your topics.",
            len(views),
        )
    else:
        text = ngettext(
            "📰 Your daily digest: {n} new event for your topics.",
            "📰 Your daily digest: {n} new events for your topics.",
            len(views),
        )
    return _event_list(fmt(text, n=len(views)), views, ctx.tz)


# -- /reminders -----------------------------------------------------------------------------


async def planned(ctx: Context) -> Reply:
    """/reminders: the reminders planned for me, seats offered to me, and my next digest."""
    services, user = ctx.services, ctx.me
    lines: list[Markup] = []
    rows = await services.reminders.planned_for(user.id, user.reminder_minutes)
    if rows:
        lines.append(fmt(_("⏰ Your next reminders:")))
        for row in rows[:LIST_LIMIT]:
            view = await services.events.view(row.event_id, user.id)
            if view is None:
                continue
            lines.append(
                fmt(
                    "• {when} – {title} ({offset})",
                    when=format_when(row.due_at, None, ctx.tz),
                    title=bold(isolate(title_of(view))),
                    offset=format_offset(row.minutes_before),
                )
            )
    elif user.reminder_minutes:
        lines.append(
            fmt(
                _(
                    "⏰ No reminders are planned for you. You get them for events you answered "
                    "“Going” or “Maybe”, or whose waitlist you are on."
                )
            )
        )
    else:
        lines.append(fmt(_("⏰ You have turned reminders off.")))
    offers = await services.seats.offers_to(user.id)
    for offer in offers:
        view = await services.events.view(offer.event_id, user.id)
        if view is not None:
            lines.append(
                fmt(
                    _("🎟 A seat is offered to you for {title} until {until}."),
                    title=bold(isolate(title_of(view))),
                    until=format_when(offer.expires_at, None, ctx.tz),
                )
            )
    waiting = await services.digests.waiting(user.id)
    if user.news_mode != "instant" and waiting:
        lines.append(
            fmt(
                ngettext(
                    "📰 {n} new event waits for your next digest.",
                    "📰 {n} new events wait for your next digest.",
                    waiting,
                ),
                n=waiting,
            )
        )
    lines.append(fmt(_("/settings chooses when you are reminded.")))
    buttons = tuple(
        (Button(_("🎟 Show the offer"), EventCard(o.event_id, None).pack()),) for o in offers[:3]
    )
    return Reply(join(lines, "\n"), buttons)
