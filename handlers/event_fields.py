"""What an organiser types about an event, read one way for /newevent and /editevent.

Each reader takes the cleaned text and gives the value, or a :class:`Reply` that says, in the
organiser's language, why it cannot be used. Dates raise :class:`DateProblem`, explained by
:func:`date_problem`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from bot.calendar.dates import (
    FAR_YEARS,
    LONG_AGO_YEARS,
    DateProblem,
    end_after,
    exact,
    parse,
    parse_clock,
)
from bot.core.chat import Reply
from bot.core.numbers import parse_number
from bot.i18n import _, ngettext
from bot.i18n.text import fmt, is_blank

MAX_TITLE = 200
MAX_DESCRIPTION = 4000
MAX_PLACE = 300
MAX_CAPACITY = 100_000
# "Leave it empty": the dashes people type for "nothing".
SKIP = frozenset({"-", "–", "—"})
LINK_SCHEMES = ("https://", "http://")


def skipped(text: str) -> bool:
    return text.strip() in SKIP


def too_long(limit: int) -> Reply:
    return Reply(fmt(_("This is too long: at most {max} characters, please."), max=limit))


def date_problem(problem: DateProblem) -> Reply:
    """A typed date that cannot be used, explained in the organiser's language."""
    texts = {
        "format": _("I could not read this date. Please write it like 05.12.2026 18:00."),
        "clock": _("I could not read this time. Please write it like 20:00."),
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
        "far": ngettext(
            "This is more than {n} year ahead. Please check the year.",
            "This is more than {n} years ahead. Please check the year.",
            FAR_YEARS,
        ),
        "long_ago": ngettext(
            "This is more than {n} year ago. Please check the year.",
            "This is more than {n} years ago. Please check the year.",
            LONG_AGO_YEARS,
        ),
    }
    years = LONG_AGO_YEARS if problem.kind == "long_ago" else FAR_YEARS
    return Reply(fmt(texts.get(problem.kind, texts["format"]), n=years, **problem.details))


def read_title(text: str) -> str | Reply:
    if is_blank(text) or skipped(text):
        return Reply(fmt(_("Please write a title.")))
    if len(text) > MAX_TITLE:
        return too_long(MAX_TITLE)
    return text


def read_description(text: str) -> str | Reply:
    """The description; a dash leaves it empty."""
    if len(text) > MAX_DESCRIPTION:
        return too_long(MAX_DESCRIPTION)
    return "" if skipped(text) else text


@dataclass(frozen=True)
class Place:
    """Where it happens: an address, or a link for an online event."""

    place: str | None
    online_url: str | None


def read_place(text: str) -> Place | Reply:
    if is_blank(text) or skipped(text):
        return Reply(fmt(_("Please write a place or a link.")))
    if len(text) > MAX_PLACE:
        return too_long(MAX_PLACE)
    if text.lower().startswith(LINK_SCHEMES):
        return Place(None, text)
    return Place(text, None)


@dataclass(frozen=True)
class Seats:
    """The number of seats; None is no limit."""

    capacity: int | None


def read_capacity(text: str) -> Seats | Reply:
    if skipped(text):
        return Seats(None)
    seats = parse_number(text, 1, MAX_CAPACITY)
    if seats is not None:
        return Seats(seats)
    return Reply(
        fmt(
            _("Please send a whole number between 1 and {max}, or - for no limit."),
            max=MAX_CAPACITY,
        )
    )


@dataclass(frozen=True)
class When:
    """A start, and an end when one was typed with it ("18.11. 12-18 Uhr")."""

    starts: datetime
    ends: datetime | None


def read_start(text: str, now: datetime, tz: ZoneInfo) -> When:
    """The start (and end) in ``tz``; DateProblem "twice" when a time that happens twice was
    typed without CET or CEST."""
    typed = parse(text, now.astimezone(tz).date())
    if typed.start is None:
        raise DateProblem("no_time")
    starts = exact(typed.day, typed.start, tz, typed.fold)
    if starts < now:
        raise DateProblem("past")
    ends = end_after(starts, typed.day, typed.end, tz, typed.fold) if typed.end else None
    return When(starts, ends)


def read_end(text: str, starts: datetime, tz: ZoneInfo) -> datetime:
    """The end: a time on the start's day ("20:00"), or a date and time."""
    local_start = starts.astimezone(tz)
    clock = parse_clock(text)
    if clock is not None:
        at, fold = clock
        ends = exact(local_start.date(), at, tz, fold)
    else:
        typed = parse(text, local_start.date())
        if typed.start is None:
            raise DateProblem("no_time")
        ends = exact(typed.day, typed.start, tz, typed.fold)
    if ends <= starts:
        raise DateProblem("order")
    return ends


def read_deadline(text: str, now: datetime, starts: datetime, tz: ZoneInfo) -> datetime:
    """Until when people can register: a date (end of that day) or a date and time."""
    typed = parse(text, now.astimezone(tz).date())
    deadline = exact(typed.day, typed.start or time(23, 59), tz, typed.fold)
    if deadline >= starts:
        raise DateProblem("deadline")
    if deadline < now:
        raise DateProblem("past")
    return deadline
