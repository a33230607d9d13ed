"""/mydata and /deletedata: people see and delete everything stored about them."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from markupsafe import Markup

from bot.core.chat import Attachment, Button, Reply
from bot.core.context import Context
from bot.i18n import (
    N_,
    _,
    format_date,
    format_when,
    join_list,
    language_name,
    ngettext,
    timezone_name,
)
from bot.i18n.text import fmt, join
from handlers.buttons import DeleteData
from handlers.settings import news_summary, quiet_summary, reminders_summary
from handlers.views import category_name, region_name, status_name
from storage.repositories.users import CODE_SECTIONS


def retention(minutes: int, keep_days: int = 30) -> dict[str, tuple[str, str]]:
    """Per section of the export: what it holds, and how long it is kept — the rules the code
    has (``minutes`` is TREFFPUNKT_CONVERSATION_MINUTES, ``keep_days``
    TREFFPUNKT_INTERPRETER_KEEP_DAYS)."""
    until_deleted = _("until you delete your data with /deletedata")
    until_changed = _("until you change your choice, or delete your data with /deletedata")
    kept_without_you = _(
        "kept as the organisation's record; when you delete your data, it stays without your name"
    )
    return {
        "user": (_("your settings"), until_deleted),
        "accounts": (_("your accounts"), until_deleted),
        "topics": (_("topics"), until_changed),
        "regions": (_("regions"), until_changed),
        "answers": (_("answers to events"), until_deleted),
        "messages_to_you": (_("messages to you"), until_deleted),
        "roles": (_("roles"), until_deleted),
        "conversation_drafts": (
            _("an unfinished step-by-step conversation"),
            ngettext(
                "until you finish it or send /cancel; after {n} minute without an answer it "
                "ends, and is deleted when you next write to me",
                "until you finish it or send /cancel; after {n} minutes without an answer it "
                "ends, and is deleted when you next write to me",
                minutes,
            ).format(n=minutes),
        ),
        "link_codes": (
            _("link codes you made"),
            _("until the code is used or expires, or you make a new one or delete your data"),
        ),
        "invite_codes": (
            _("invite codes you made"),
            _(
                "until the code is used or expires; when you delete your data, it stays without "
                "your name"
            ),
        ),
        "broadcasts_you_wrote": (_("announcements you wrote"), kept_without_you),
        "audit_entries": (
            _("records of what you did or tried as an organiser"),
            kept_without_you,
        ),
        "seat_offers": (_("seats offered to you"), until_deleted),
        "events_for_your_digest": (
            _("new events kept for your next digest"),
            _("until your next digest is sent, or you delete your data"),
        ),
        "interpreter_requests": (
            _("your requests for an interpreter"),
            ngettext(
                "until {n} day after the appointment; then only their language and outcome stay, "
                "without you",
                "until {n} days after the appointment; then only their language and outcome "
                "stay, without you",
                keep_days,
            ).format(n=keep_days),
        ),
        "interpreter_registrations": (
            _("your registration as an interpreter"),
            _("until a coordinator removes you, or you delete your data with /deletedata"),
        ),
    }


def _role(row: dict[str, Any]) -> str:
    if row["role"] == "admin":
        return _("umbrella admin")
    role = _("organiser") if row["role"] == "organiser" else _("coordinator")
    return _("{role} of {organisation}").format(role=role, organisation=row.get("organisation"))


# Messengers by the names people know them by; the console is no product, so it is described.
MESSENGERS = {"telegram": "Telegram", "matrix": "Matrix", "console": N_("console chat")}


def _account(account: dict[str, str]) -> str:
    """One account as a person reads it: "Telegram (123456)"."""
    platform = account["platform"]
    name = MESSENGERS.get(platform)
    messenger = _(name) if name else platform.capitalize()
    return _("{messenger} ({account})").format(messenger=messenger, account=account["account_id"])


async def my_data(ctx: Context) -> Reply:
    """/mydata: every stored field, as a message and as a JSON file, only to the person."""
    data = await ctx.services.users.export(ctx.me.id)
    kinds = retention(ctx.settings.conversation_minutes, ctx.settings.interpreter_keep_days)
    data["kept"] = {section: kept for section, (_what, kept) in kinds.items()}
    for section in CODE_SECTIONS:
        for row in data[section]:
            row["code"] = _code(datetime.fromisoformat(row["expires_at"]), ctx)
    user = data["user"]
    second = user["second_language"]
    tally: dict[str, int] = {}
    for answer in data["answers"]:
        tally[answer["status"]] = tally.get(answer["status"], 0) + 1
    none = _("none")
    lines = [
        fmt(_("This is everything I store about you:")),
        fmt(_("Language: {language}"), language=language_name(user["language"])),
        fmt(_("Second language: {language}"), language=language_name(second) if second else none),
        fmt(_("Time zone: {timezone}"), timezone=timezone_name(user["timezone"])),
        fmt(_("⏰ Reminders: {value}"), value=reminders_summary(ctx.me)),
        fmt(_("🆕 New events: {value}"), value=news_summary(ctx.me)),
        fmt(_("🌙 Quiet hours: {value}"), value=quiet_summary(ctx.me)),
        fmt(
            _("Privacy notice accepted on {date}"),
            date=format_date(ctx.me.consent_at, ctx.tz),
        ),
        fmt(
            _("Accounts: {accounts}"),
            accounts=join_list([_account(a) for a in data["accounts"]]),
        ),
        fmt(
            _("Topics: {topics}"),
            topics=join_list([category_name(t["category"]) for t in data["topics"]]) or none,
        ),
        fmt(
            _("Regions: {regions}"),
            regions=join_list([region_name(r["region"]) for r in data["regions"]]) or none,
        ),
        fmt(
            _("Answers to events: {answers}"),
            answers=join_list([f"{status_name(s)}: {n}" for s, n in sorted(tally.items())]) or none,
        ),
    ]
    lines += _more(ctx, data)
    lines.append(fmt("\n{heading}", heading=_("How long I keep it:")))
    lines += _kept_lines(data, kinds)
    lines.append(fmt(_("The attached file contains all of it. /deletedata deletes it.")))
    content = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    return Reply(
        join(lines),
        attachment=Attachment("treffpunkt-my-data.json", content, "application/json"),
    )


def _code(expires_at: datetime, ctx: Context) -> str:
    return _("a code you made, valid until {moment}").format(
        moment=format_when(expires_at, None, ctx.tz)
    )


def _more(ctx: Context, data: dict[str, Any]) -> list[Markup]:
    """The lines for what only some people have: roles, drafts, codes, messages, records."""
    lines = []
    if data["roles"]:
        lines.append(fmt(_("Roles: {roles}"), roles=join_list([_role(r) for r in data["roles"]])))
    for draft in data["conversation_drafts"]:
        wizard = ctx.registry.wizards.get(draft["kind"])
        command = f"/{wizard.command}" if wizard else draft["kind"]
        lines.append(fmt(_("Unfinished step-by-step conversation: {command}"), command=command))
    lines += [
        fmt("{code}", code=row["code"])
        for section in sorted(CODE_SECTIONS)
        for row in data[section]
    ]
    if n := len(data["messages_to_you"]):
        text = ngettext(
            "{n} message to you, sent or waiting", "{n} messages to you, sent or waiting", n
        )
        lines.append(fmt(text, n=n))
    if n := len(data["interpreter_requests"]):
        text = ngettext(
            "{n} request for an interpreter (/interpreter)",
            "{n} requests for an interpreter (/interpreter)",
            n,
        )
        lines.append(fmt(text, n=n))
    if data["interpreter_registrations"]:
        lines.append(fmt(_("Registered as an interpreter (/requests)")))
    if n := len(data["broadcasts_you_wrote"]):
        text = ngettext("{n} announcement you wrote", "{n} announcements you wrote", n)
        lines.append(fmt(text, n=n))
    if n := len(data["audit_entries"]):
        text = ngettext(
            "{n} record of what you did or tried as an organiser",
            "{n} records of what you did or tried as an organiser",
            n,
        )
        lines.append(fmt(text, n=n))
    return lines


def _kept_lines(data: dict[str, Any], kinds: dict[str, tuple[str, str]]) -> list[Markup]:
    """One line per rule, naming the kinds of data present that it applies to."""
    rules: dict[str, list[str]] = {}
    for section, (what, kept) in kinds.items():
        if section == "user" or data[section]:
            rules.setdefault(kept, []).append(what)
    return [
        fmt("• {what}: {kept}", what=join_list(whats), kept=kept) for kept, whats in rules.items()
    ]


async def delete_data(ctx: Context) -> Reply:
    """/deletedata: asks once, then deletes everything."""
    text = _(
        "Do you really want me to delete everything I store about you: your languages, topics, "
        "regions and answers? Your seats at events are given to the next people waiting. "
        "This cannot be undone."
    )
    buttons = (
        (
            Button(_("🗑 Yes, delete everything"), DeleteData("y").pack()),
            Button(_("No, keep it"), DeleteData("n").pack()),
        ),
    )
    return Reply(fmt(text), buttons)


async def on_delete(ctx: Context, press: DeleteData) -> Reply:
    """The answer to /deletedata: delete everything, or nothing."""
    if press.choice == "n":
        return Reply(fmt(_("Nothing was deleted.")), replace=True)
    await ctx.services.users.delete(ctx.me.id)
    text = _(
        "Done: I have deleted everything I stored about you. Goodbye! You are welcome back "
        "at any time with /start."
    )
    return Reply(fmt(text), replace=True, toast=_("Deleted."))
