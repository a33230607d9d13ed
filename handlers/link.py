"""/link: one person, two messengers — one set of answers, topics and settings."""

from __future__ import annotations

from bot import i18n
from bot.core.chat import Reply
from bot.core.context import Context
from bot.i18n import _, ngettext
from bot.i18n.text import fmt
from bot.services.link import CODE_MINUTES, LinkOutcome


def _linked() -> str:
    return _(
        "Done: this account is now linked with your other one. Your answers, topics and "
        "languages are shared."
    )


async def link(ctx: Context) -> Reply:
    """/link gives a code; /link CODE (sent from the other messenger) joins the accounts."""
    code = ctx.args.strip()
    if not code:
        if ctx.user is None:
            return Reply(
                fmt(
                    _(
                        "To link accounts, send /link in the messenger where you already use "
                        "me, then send “/link CODE” here with the code you get there."
                    )
                )
            )
        new = await ctx.services.links.new_code(ctx.user.id)
        return Reply(
            fmt(
                ngettext(
                    "Your link code is {code}. Within {n} minute, send “/link {code}” to me "
                    "from your other messenger. Then both accounts are one: the same language, "
                    "topics and answers.",
                    "Your link code is {code}. Within {n} minutes, send “/link {code}” to me "
                    "from your other messenger. Then both accounts are one: the same language, "
                    "topics and answers.",
                    CODE_MINUTES,
                ),
                code=new,
                n=CODE_MINUTES,
            )
        )
    sender = ctx.incoming.sender
    outcome = await ctx.services.links.redeem(
        code, sender.platform, sender.user_id, ctx.incoming.chat.chat_id
    )
    person = await ctx.services.users.find(sender.platform, sender.user_id)
    if outcome == LinkOutcome.LINKED and person is not None:
        # From now on this account speaks the person's language, this answer included.
        with i18n.use(ctx.i18n.lang(person.locale, person.second_locale)):
            return Reply(fmt(_linked()))
    messages = {
        LinkOutcome.LINKED: _linked(),
        LinkOutcome.ALREADY: _("This account is already linked with that one."),
        LinkOutcome.INVALID: _(
            "This code is not valid or has expired. Send /link in your other messenger for a "
            "new one."
        ),
        LinkOutcome.TOO_MANY: _("Too many wrong codes. Please wait ten minutes and try again."),
    }
    return Reply(fmt(messages[outcome]))
