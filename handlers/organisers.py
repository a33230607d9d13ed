"""Organisations and roles: /orgs, /neworg, /invite, /join, and the organiser guard."""

from __future__ import annotations

from bot.core.chat import Reply
from bot.core.context import Context
from bot.i18n import _
from bot.i18n.text import clean_input, fmt, is_blank, join
from bot.services.organisers import INVITE_DAYS, ROLES, Authority
from storage.repositories import OrganisationRecord

MAX_ORGANISATION_NAME = 120


def _role_name(role: str) -> str:
    return _("organiser") if role == "organiser" else _("coordinator")


def _refusal() -> Reply:
    return Reply(
        fmt(
            _(
                "Sorry, only organisers of a member organisation can do this. If you organise "
                "events, ask your umbrella organisation for an invite code."
            )
        )
    )


async def authority_of(ctx: Context) -> Authority:
    if ctx.authority is None:
        if ctx.user is None:
            ctx.authority = Authority()
        else:
            sender = ctx.incoming.sender
            ctx.authority = await ctx.services.organisers.authority(
                ctx.user.id, sender.platform, sender.user_id
            )
    return ctx.authority


async def require_organiser(ctx: Context) -> Reply | None:
    """Guard of every organiser command: checked on every call, refusals are audited."""
    authority = await authority_of(ctx)
    if authority.organiser_anywhere:
        return None
    command = ctx.incoming.command()
    action = command[0] if command else (ctx.incoming.button or "?").split(":")[0]
    where = "private" if ctx.incoming.chat.private else "group"
    await ctx.services.organisers.audit(
        ctx.user.id if ctx.user else None, action, None, False, f"not an organiser ({where})"
    )
    return _refusal()


async def require_admin(ctx: Context) -> Reply | None:
    authority = await authority_of(ctx)
    if authority.admin:
        return None
    command = ctx.incoming.command()
    await ctx.services.organisers.audit(
        ctx.user.id if ctx.user else None,
        command[0] if command else "?",
        None,
        False,
        "not an admin",
    )
    return Reply(fmt(_("Sorry, only the umbrella organisation's admins can do this.")))


async def my_organisations(ctx: Context) -> list[OrganisationRecord]:
    return await ctx.services.organisers.organisations(await authority_of(ctx))


async def pick_organisation(ctx: Context, raw: str) -> OrganisationRecord | Reply:
    """The organisation named by number in ``raw``, or the only one; else a helpful answer."""
    mine = await my_organisations(ctx)
    if raw.strip().isdigit():
        chosen = [o for o in mine if o.id == int(raw.strip())]
        if chosen:
            return chosen[0]
        await ctx.services.organisers.audit(
            ctx.me.id, "organisation", int(raw.strip()), False, "not their organisation"
        )
        return Reply(fmt(_("You do not act for that organisation.")))
    if len(mine) == 1:
        return mine[0]
    return Reply(
        join(
            [fmt(_("Which organisation? Add its number to the command:"))]
            + [fmt("{id} – {name}", id=o.id, name=o.name) for o in mine]
        )
    )


async def organisations(ctx: Context) -> Reply:
    """/orgs: the organisations I act for, with their numbers."""
    mine = await my_organisations(ctx)
    lines = [fmt(_("You act for these organisations:"))]
    lines += [fmt("{id} – {name}", id=o.id, name=o.name) for o in mine]
    return Reply(join(lines))


async def new_organisation(ctx: Context) -> Reply:
    """/neworg NAME (umbrella admins): a member organisation."""
    name = clean_input(ctx.args)
    if is_blank(name):
        return Reply(
            fmt(_("Please write the name after the command: /neworg Name of the association"))
        )
    if len(name) > MAX_ORGANISATION_NAME:
        return Reply(
            fmt(_("This is too long: at most {max} characters, please."), max=MAX_ORGANISATION_NAME)
        )
    organisation = await ctx.services.organisers.create_organisation(name)
    await ctx.services.organisers.audit(ctx.me.id, "neworg", organisation.id, True)
    return Reply(
        fmt(
            _(
                "Organisation {name} created (number {id}). "
                "Invite its organisers with /invite organiser {id}."
            ),
            name=organisation.name,
            id=organisation.id,
        )
    )


async def invite(ctx: Context) -> Reply:
    """/invite organiser|coordinator [organisation]: a one-time code for a new member."""
    words = ctx.args.split()
    role = words[0].lower() if words else ""
    if role not in ROLES:
        return Reply(fmt(_("Please say which role: /invite organiser or /invite coordinator")))
    chosen = await pick_organisation(ctx, words[1] if len(words) > 1 else "")
    if isinstance(chosen, Reply):
        return chosen
    code = await ctx.services.organisers.invite(ctx.me.id, chosen.id, role)
    await ctx.services.organisers.audit(ctx.me.id, "invite", chosen.id, True, role)
    role_name = _role_name(role)
    return Reply(
        fmt(
            _(
                "Invite code for a new {role} of {organisation}: {code}. Give it to that person "
                "yourself; they send “/join {code}” to me within {days} days. It works once."
            ),
            role=role_name,
            organisation=chosen.name,
            code=code,
            days=INVITE_DAYS,
        )
    )


async def join_organisation(ctx: Context) -> Reply:
    """/join CODE: take up the role an invite code gives."""
    code = ctx.args.strip()
    joined = await ctx.services.organisers.join(ctx.me.id, code) if code else None
    if joined is None:
        return Reply(
            fmt(_("This invite code is not valid or has expired. Please ask for a new one."))
        )
    organisation, role = joined
    role_name = _role_name(role)
    return Reply(
        fmt(
            _(
                "Welcome! You are now {role} of {organisation}. "
                "/newevent creates an event, /help shows all commands."
            ),
            role=role_name,
            organisation=organisation.name,
        )
    )


async def cancel(ctx: Context) -> Reply:
    """/cancel: leave the current guided conversation; nothing of it is saved."""
    if await ctx.conversations.end(ctx):
        return Reply(fmt(_("Cancelled. Nothing was saved.")))
    return Reply(fmt(_("There is nothing to cancel.")))
