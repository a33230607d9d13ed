"""/settings: when I am reminded, how new events reach me, quiet hours and my time zone.

Every button sets the state written on it (never "flip"), so a double or replayed press lands
on the same settings; each page is edited in place and shows what is chosen with ✅.
"""

from __future__ import annotations

from datetime import datetime

from bot.core.chat import Button, Reply
from bot.core.context import Context
from bot.core.errors import StaleButton
from bot.i18n import (
    _,
    format_clock,
    format_hour,
    format_offset,
    join_list,
    timezone_name,
    weekday_name,
)
from bot.i18n.text import fmt, join
from bot.services.preferences import DIGEST_HOURS, quiet_choices, zone_choices
from bot.services.reminders import CHOICES
from handlers.buttons import (
    SetDigestDay,
    SetDigestHour,
    SetNews,
    SetQuiet,
    SetReminder,
    SettingsView,
    SetZone,
    reminder_minutes,
)
from handlers.views import marked
from storage.records import UserRecord


def _back() -> Button:
    return Button(_("« Settings"), SettingsView("m").pack())


def reminders_summary(user: UserRecord) -> str:
    if not user.reminder_minutes:
        return _("off")
    return join_list([format_offset(m) for m in user.reminder_minutes])


def news_summary(user: UserRecord) -> str:
    if user.news_mode == "daily":
        return _("a daily digest at {hour}").format(hour=format_hour(user.digest_hour))
    if user.news_mode == "weekly":
        return _("a weekly digest on {day} at {hour}").format(
            day=weekday_name(user.digest_weekday), hour=format_hour(user.digest_hour)
        )
    return _("each at once")


def quiet_summary(user: UserRecord) -> str:
    if user.quiet_from is None or user.quiet_until is None:
        return _("none")
    return _("{start}–{end}").format(
        start=format_hour(user.quiet_from), end=format_hour(user.quiet_until)
    )


def _main(user: UserRecord, *, replace: bool) -> Reply:
    lines = [
        fmt(_("⚙️ Your notification settings")),
        fmt(_("⏰ Reminders: {value}"), value=reminders_summary(user)),
        fmt(_("🆕 New events: {value}"), value=news_summary(user)),
        fmt(_("🌙 Quiet hours: {value}"), value=quiet_summary(user)),
        fmt(_("🌍 Time zone: {value}"), value=timezone_name(user.timezone)),
    ]
    rows = (
        (
            Button(_("⏰ Reminders"), SettingsView("r").pack()),
            Button(_("🆕 New events"), SettingsView("n").pack()),
        ),
        (
            Button(_("🌙 Quiet hours"), SettingsView("q").pack()),
            Button(_("🌍 Time zone"), SettingsView("z").pack()),
        ),
    )
    return Reply(join(lines), rows, replace=replace)


def _reminders_page(user: UserRecord) -> Reply:
    text = join(
        [
            fmt(_("When should I remind you of events you answered “Going” or “Maybe”?")),
            fmt(_("Tap to choose one or more; tap again to remove.")),
        ],
        "\n\n",
    )
    rows: list[tuple[Button, ...]] = [
        (
            Button(
                marked(m in user.reminder_minutes, format_offset(m)),
                SetReminder(reminder_minutes(m), m not in user.reminder_minutes).pack(),
            ),
        )
        for m in CHOICES
    ]
    rows.append(
        (Button(marked(not user.reminder_minutes, _("No reminders")), SetReminder(0, True).pack()),)
    )
    rows.append((_back(),))
    return Reply(text, tuple(rows), replace=True)


def _news_page(user: UserRecord) -> Reply:
    text = join(
        [
            fmt(_("How should new events for your topics reach you?")),
            fmt(
                _(
                    "A digest collects them in one message a day or a week. Reminders and "
                    "seats offered to you always come at once."
                )
            ),
        ],
        "\n\n",
    )
    mode = user.news_mode
    rows: list[tuple[Button, ...]] = [
        (Button(marked(mode == "instant", _("Each at once")), SetNews("i").pack()),),
        (Button(marked(mode == "daily", _("Daily digest")), SetNews("d").pack()),),
        (Button(marked(mode == "weekly", _("Weekly digest")), SetNews("w").pack()),),
    ]
    if mode != "instant":
        timing = [
            Button(
                _("🕐 At {hour}").format(hour=format_hour(user.digest_hour)),
                SettingsView("h").pack(),
            )
        ]
        if mode == "weekly":
            timing.append(
                Button(
                    _("📆 On {day}").format(day=weekday_name(user.digest_weekday)),
                    SettingsView("w").pack(),
                )
            )
        rows.append(tuple(timing))
    rows.append((_back(),))
    return Reply(text, tuple(rows), replace=True)


def _hours_page(user: UserRecord) -> Reply:
    buttons = [
        Button(marked(h == user.digest_hour, format_hour(h)), SetDigestHour(h).pack())
        for h in DIGEST_HOURS
    ]
    rows = [tuple(buttons[i : i + 3]) for i in range(0, len(buttons), 3)]
    rows.append((Button(_("« New events"), SettingsView("n").pack()),))
    text = fmt(
        _("At what time should your digest come? (Your time zone: {zone})"),
        zone=timezone_name(user.timezone),
    )
    return Reply(text, tuple(rows), replace=True)


def _days_page(user: UserRecord) -> Reply:
    buttons = [
        Button(marked(d == user.digest_weekday, weekday_name(d)), SetDigestDay(d).pack())
        for d in range(7)
    ]
    rows = [tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2)]
    rows.append((Button(_("« New events"), SettingsView("n").pack()),))
    return Reply(fmt(_("On which day should your weekly digest come?")), tuple(rows), replace=True)


def _quiet_page(user: UserRecord, default: tuple[int, int] | None) -> Reply:
    text = join(
        [
            fmt(_("During quiet hours I send you nothing; what comes then waits until they end.")),
            fmt(
                _(
                    "Only what would be too late afterwards still comes: a reminder of an event "
                    "that starts before, or a seat offered to you that would expire."
                )
            ),
        ],
        "\n\n",
    )
    rows: list[tuple[Button, ...]] = []
    for start, end in quiet_choices(default):
        chosen = (start, end) == (user.quiet_from, user.quiet_until)
        if start is None or end is None:
            label = _("No quiet hours")
        else:
            label = _("{start}–{end}").format(start=format_hour(start), end=format_hour(end))
        rows.append((Button(marked(chosen, label), SetQuiet(start, end).pack()),))
    rows.append((_back(),))
    return Reply(text, tuple(rows), replace=True)


def _zones_page(user: UserRecord, now: datetime, default: str) -> Reply:
    text = join(
        [
            fmt(_("Which time zone should I use for your reminders and digests?")),
            fmt(_("Times of events, reminders and digests are shown in it.")),
        ],
        "\n\n",
    )
    buttons = [
        Button(
            marked(name == user.timezone, f"{timezone_name(name)} ({format_clock(now, name)})"),
            SetZone(index).pack(),
        )
        for index, name in enumerate(zone_choices(default))
    ]
    rows = [tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2)]
    rows.append((_back(),))
    return Reply(text, tuple(rows), replace=True)


async def show(ctx: Context) -> Reply:
    """/settings: what is chosen, with a button for each part."""
    return _main(ctx.me, replace=False)


async def on_view(ctx: Context, press: SettingsView) -> Reply:
    """Open a page of the settings."""
    user = ctx.me
    pages = {
        "m": lambda: _main(user, replace=True),
        "r": lambda: _reminders_page(user),
        "n": lambda: _news_page(user),
        "h": lambda: _hours_page(user),
        "w": lambda: _days_page(user),
        "q": lambda: _quiet_page(user, ctx.settings.quiet_hours),
        "z": lambda: _zones_page(user, ctx.services.users.clock(), ctx.settings.timezone),
    }
    return pages[press.page]()


def _saved(reply: Reply) -> Reply:
    return Reply(reply.text, reply.buttons, replace=True, toast=_("Saved."))


async def on_reminder(ctx: Context, press: SetReminder) -> Reply:
    """Turn a reminder on or off, or all of them off."""
    prefs = ctx.services.preferences
    if press.minutes == 0:
        user = await prefs.no_reminders(ctx.me.id)
    else:
        user = await prefs.set_reminders(ctx.me.id, press.minutes, press.on)
    return _saved(_reminders_page(user))


async def on_news(ctx: Context, press: SetNews) -> Reply:
    """New events at once, or in a daily or weekly digest."""
    mode = {"i": "instant", "d": "daily", "w": "weekly"}[press.mode]
    user = await ctx.services.preferences.set_news(ctx.me.id, news_mode=mode)
    return _saved(_news_page(user))


async def on_digest_hour(ctx: Context, press: SetDigestHour) -> Reply:
    if press.hour not in DIGEST_HOURS:
        raise StaleButton("not an hour on offer")
    user = await ctx.services.preferences.set_news(ctx.me.id, digest_hour=press.hour)
    return _saved(_news_page(user))


async def on_digest_day(ctx: Context, press: SetDigestDay) -> Reply:
    user = await ctx.services.preferences.set_news(ctx.me.id, digest_weekday=press.weekday)
    return _saved(_news_page(user))


async def on_quiet(ctx: Context, press: SetQuiet) -> Reply:
    if (press.start, press.end) not in quiet_choices(ctx.settings.quiet_hours):
        raise StaleButton("not quiet hours on offer")
    user = await ctx.services.preferences.set_quiet(ctx.me.id, press.start, press.end)
    return _saved(_quiet_page(user, ctx.settings.quiet_hours))


async def on_zone(ctx: Context, press: SetZone) -> Reply:
    zones = zone_choices(ctx.settings.timezone)
    if press.index >= len(zones):
        raise StaleButton("not a time zone on offer")
    user = await ctx.services.preferences.set_timezone(ctx.me.id, zones[press.index])
    return _saved(_main(user, replace=True))
