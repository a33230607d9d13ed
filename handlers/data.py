"""/mydata and /deletedata: people see and delete everything stored about them."""

from __future__ import annotations

import json

from bot.core.chat import Attachment, Button, Reply
from bot.core.context import Context
from bot.i18n import N_, _, format_date, join_list, language_name, timezone_name
from bot.i18n.text import fmt, join
from handlers.buttons import DeleteData
from handlers.views import category_name, region_name, status_name

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
    user = data["user"]
    second = user["second_language"]
    answers = data["answers"]
    tally: dict[str, int] = {}
    for answer in answers:
        tally[answer["status"]] = tally.get(answer["status"], 0) + 1
    none = _("none")
    lines = [
        fmt(_("This is everything I store about you:")),
        fmt(_("Language: {language}"), language=language_name(user["language"])),
        fmt(_("Second language: {language}"), language=language_name(second) if second else none),
        fmt(_("Time zone: {timezone}"), timezone=timezone_name(user["timezone"])),
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
            topics=join_list([category_name(t) for t in data["topics"]]) or none,
        ),
        fmt(
            _("Regions: {regions}"),
            regions=join_list([region_name(r) for r in data["regions"]]) or none,
        ),
        fmt(
            _("Answers to events: {answers}"),
            answers=join_list([f"{status_name(s)}: {n}" for s, n in sorted(tally.items())]) or none,
        ),
        fmt(_("The attached file contains all of it. /deletedata deletes it.")),
    ]
    content = json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")
    return Reply(
        join(lines),
        attachment=Attachment("treffpunkt-my-data.json", content, "application/json"),
    )


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
