"""/help and the friendly answer to anything the bot does not understand."""

from __future__ import annotations

from bot.core.chat import Reply
from bot.core.context import Context
from bot.i18n import _
from bot.i18n.text import fmt, join
from handlers.organisers import authority_of


async def show(ctx: Context) -> Reply:
    """/help: every command with what it does, in the person's language; organisers' commands
    only for organisers, and never in a group (where it runs as for anyone)."""
    lines = [fmt(_("Here is what I can do:"))]
    for command in ctx.registry.visible():
        lines.append(fmt("/{name} – {help}", name=command.name, help=_(command.help)))
    if ctx.user is not None and (await authority_of(ctx)).organiser_anywhere:
        lines.append(fmt("\n{heading}", heading=_("For organisers:")))
        for command in ctx.registry.visible(guarded=True):
            if command.guard is not None:
                lines.append(fmt("/{name} – {help}", name=command.name, help=_(command.help)))
    if not ctx.incoming.chat.private:
        lines.append(fmt(_("Write to me in a private chat to choose your language and topics.")))
    elif ctx.user is None:
        lines.append(fmt(_("Start with /start to choose your language.")))
    return Reply(join(lines))


async def unknown(ctx: Context) -> Reply:
    """Anything that is not a command: a friendly pointer to /help, never an error."""
    return Reply(fmt(_("Sorry, I did not understand that. /help shows what I can do.")))
