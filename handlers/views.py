"""Pieces of replies that several handlers show: pickers, names, event texts."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from markupsafe import Markup

from bot.core.buttons import ButtonData
from bot.core.chat import Button
from bot.i18n import (
    N_,
    _,
    current,
    format_date,
    format_when,
    isolate,
    language_name,
    native_name,
    ngettext,
)
from bot.i18n.text import bold, fmt, join, link, shorten
from bot.services.events import EventView, pick_text
from handlers.buttons import AnswerCode
from storage.records import TextRecord

CATEGORY_NAMES = {
    "networking": N_("Networking and open meetings"),
    "workshops": N_("Workshops and training"),
    "funding": N_("Funding and running an association"),
    "politics": N_("Politics and participation"),
    "counselling": N_("Counselling, recognition and work"),
    "health": N_("Health and wellbeing"),
    "culture": N_("Culture and media"),
    "youth": N_("Youth"),
    "antiracism": N_("Anti-racism and empowerment"),
    "families": N_("Families"),
}
REGION_NAMES = {
    "leipzig": N_("Leipzig"),
    "dresden": N_("Dresden"),
    "chemnitz": N_("Chemnitz"),
    "bautzen": N_("Bautzen and Upper Lusatia"),
    "zwickau": N_("Zwickau and the Ore Mountains"),
    "saxony": N_("All of Saxony"),
    # Translators: the "region" of events that take place on the internet.
    "online": N_("Online"),
}
# Translators: a person's answer to an event, shown as "Your answer: …".
STATUS_NAMES = {
    "going": N_("Going"),
    "maybe": N_("Maybe"),
    "not_going": N_("Not going"),
    "waitlisted": N_("On the waitlist"),
}
ANSWER_CODES: dict[AnswerCode, str] = {"g": "going", "m": "maybe", "n": "not_going"}
ANSWER_ICONS = {"going": "✅", "maybe": "❔", "not_going": "❌", "waitlisted": "⏳"}
# A day and month typed without a year ("18.11.", "18.11. 12-18 Uhr"), as the date parser
# reads it: two digits right after the second dot would be the year.
_YEARLESS = re.compile(r"\s*\d{1,2}\.\d{1,2}\.(?!\d{2})")


def marked(on: bool, label: str) -> str:
    """A choice's label with ✅ when it is chosen (topics, settings)."""
    return f"{'✅' if on else '▫️'} {label}"


def category_name(slug: str) -> str:
    return _(CATEGORY_NAMES[slug]) if slug in CATEGORY_NAMES else slug


def region_name(slug: str) -> str:
    return _(REGION_NAMES[slug]) if slug in REGION_NAMES else slug


def status_name(status: str) -> str:
    return _(STATUS_NAMES[status]) if status in STATUS_NAMES else status


def language_buttons(
    press: Callable[[str], ButtonData], codes: tuple[str, ...], *, mark: str | None = None
) -> list[list[Button]]:
    """Each language by its own name in its own script, two to a row."""
    buttons = [
        Button(("• " if code == mark else "") + native_name(code), press(code).pack())
        for code in codes
    ]
    return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]


def title_of(view: EventView) -> str:
    text = pick_text(view.event.texts, current().content_order())
    return text.title if text else "—"


def _language_note(text: TextRecord | None) -> Markup | None:
    """Says when the text shown is not in the reader's language, or machine-translated."""
    if text is None:
        return None
    notes = []
    if text.locale != current().code:
        notes.append(fmt(_("ℹ️ This text is in {language}."), language=language_name(text.locale)))
    if text.machine_translated:
        notes.append(fmt(_("ℹ️ Machine translation: it may contain mistakes.")))
    return join(notes) if notes else None


def seats_line(view: EventView) -> Markup | None:
    if view.event.capacity is None:
        return None
    left = view.seats_left or 0
    if left == 0:
        return fmt(_("🎟 Fully booked – you can join the waitlist."))
    return fmt(
        ngettext("🎟 {n} seat left of {total}", "🎟 {n} seats left of {total}", left),
        n=left,
        total=view.event.capacity,
    )


def where_line(view: EventView) -> Markup | None:
    event = view.event
    lines = []
    if event.place:
        lines.append(fmt("📍 {place}", place=isolate(event.place)))
    if event.online_url:
        lines.append(
            fmt(_("💻 Online: {link}"), link=link(event.online_url, isolate(event.online_url)))
        )
    elif event.region == "online" and not event.place:
        lines.append(
            fmt(
                _(
                    "💻 Online – the link is not known yet. Everyone going gets it here as soon "
                    "as it is."
                )
            )
        )
    return join(lines) if lines else None


def counts_line(view: EventView) -> Markup:
    c = view.counts
    parts = [
        fmt(ngettext("✅ {n} going", "✅ {n} going", c.going), n=c.going),
        fmt(ngettext("❔ {n} maybe", "❔ {n} maybe", c.maybe), n=c.maybe),
    ]
    if c.waitlisted:
        parts.append(
            fmt(ngettext("⏳ {n} waiting", "⏳ {n} waiting", c.waitlisted), n=c.waitlisted)
        )
    return join(parts, " · ")


def my_answer_line(view: EventView) -> Markup | None:
    if view.mine is None:
        return None
    if view.mine.status == "waitlisted" and view.waitlist_position:
        return fmt(
            _("Your answer: ⏳ waitlist, position {position}"), position=view.waitlist_position
        )
    return fmt(
        _("Your answer: {icon} {status}"),
        icon=ANSWER_ICONS.get(view.mine.status, ""),
        status=status_name(view.mine.status),
    )


def event_text(
    view: EventView, tz: ZoneInfo, *, number: int | None = None, description_limit: int
) -> Markup:
    """An event as text: title, language note, when, where, who, seats, description."""
    event = view.event
    text = pick_text(event.texts, current().content_order())
    title = text.title if text else "—"
    heading = bold(f"{number}. {title}" if number is not None else title)
    description = (
        shorten(text.description, description_limit, keep_lines=number is None)
        if text and text.description
        else ""
    )
    lines: list[Markup] = [
        heading,
        _language_note(text) or Markup(""),
        fmt("📅 {when}", when=format_when(event.starts_at, event.ends_at, tz)),
        where_line(view) or Markup(""),
        fmt("🏢 {organiser}", organiser=isolate(event.organisation_name)),
        seats_line(view) or Markup(""),
    ]
    if description:
        lines.append(Markup("\n") + fmt("{description}", description=description))
    return join([line for line in lines if line])


def taken_as_next_year(typed: str, starts: datetime, now: datetime, tz: ZoneInfo) -> bool:
    """A date typed without a year ("18.11." on 1 December) became next year's."""
    return bool(_YEARLESS.match(typed)) and starts.astimezone(tz).year > now.astimezone(tz).year


def next_year_line(starts: datetime, tz: ZoneInfo) -> Markup:
    """Which year a date typed without one was taken to be."""
    return fmt(_("ℹ️ That is {date}, next year."), date=format_date(starts, tz))
