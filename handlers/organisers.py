"""Organisations and roles: /orgs, /neworg, /invite, /join, /members, /removerole, and the
organiser and admin guards."""

from __future__ import annotations

import unicodedata

from bot.core.chat import Button, Reply
from bot.core.context import Context, NoticeContext
from bot.core.errors import StaleButton
from bot.core.numbers import parse_id
from bot.i18n import N_, _, format_date, language_name, ngettext
from bot.i18n.text import fmt, is_blank, join
from bot.services.organisers import INVITE_DAYS, JOIN_TRIES, Authority
from handlers.buttons import InviteRole, RemoveRole, RoleName
from storage.repositories import OrganisationRecord

MAX_ORGANISATION_NAME = 120
ROLE_NAMES: dict[RoleName, str] = {"organiser": N_("organiser"), "coordinator": N_("coordinator")}
# Marks (Arabic vowel signs, accents) and format characters (the Persian zero-width non-joiner)
# are often left out or put in when people type a word.
_IGNORED = frozenset({"Mn", "Mc", "Me", "Cf"})


def _role_name(role: str) -> str:
    return _("organiser") if role == "organiser" else _("coordinator")


def _coordinator_purpose() -> str:
    return _(
        "As a coordinator you verify the organisation's interpreters (/interpreters) and place "
        "the requests for interpreters (/requests)."
    )


def _refusal(authority: Authority, private: bool) -> Reply:
    lines = [
        fmt(
            _(
                "Sorry, only organisers of a member organisation can do this. If you organise "
                "events, ask your umbrella organisation for an invite code."
            )
        )
    ]
    if private and authority.coordinator_anywhere:  # a group must not learn who holds a role
        lines.append(fmt(_coordinator_purpose()))
    return Reply(join(lines))


def _keyword(text: str) -> str:
    """A typed word as it is compared: case, accents, joiners and spaces do not count."""
    folded = unicodedata.normalize("NFKD", text).casefold()
    return "".join(c for c in folded if not c.isspace() and unicodedata.category(c) not in _IGNORED)


def _role_keywords(ctx: Context) -> dict[str, RoleName]:
    """Each role by its name in every shipped language (a name written with a slash also as
    the word before it), so /invite understands it whatever language the inviter reads."""
    words: dict[str, RoleName] = {_keyword("organizer"): "organiser"}
    for code in ctx.i18n.available:
        translations = ctx.i18n.lang(code).translations
        for role, name in ROLE_NAMES.items():
            translated = translations.gettext(name)
            for variant in (name, translated, translated.split("/")[0]):
                words[_keyword(variant)] = role
    return words


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
    return _refusal(authority, ctx.incoming.chat.private)


async def require_coordinator(ctx: Context) -> Reply | None:
    """Guard of the coordinators' commands (umbrella admins pass too); refusals are audited."""
    authority = await authority_of(ctx)
    if authority.admin or authority.coordinator_anywhere:
        return None
    command = ctx.incoming.command()
    action = command[0] if command else (ctx.incoming.button or "?").split(":")[0]
    await ctx.services.organisers.audit(
        ctx.user.id if ctx.user else None, action, None, False, "not a coordinator"
    )
    return Reply(fmt(_("Sorry, only the organisation's coordinators can do this.")))


async def require_admin(ctx: Context) -> Reply | None:
    authority = await authority_of(ctx)
    if authority.admin:
        return None
    command = ctx.incoming.command()
    action = command[0] if command else (ctx.incoming.button or "?").split(":")[0]
    await ctx.services.organisers.audit(
        ctx.user.id if ctx.user else None, action, None, False, "not an admin"
    )
    return Reply(fmt(_("Sorry, only the umbrella organisation's admins can do this.")))


async def my_organisations(ctx: Context) -> list[OrganisationRecord]:
    return await ctx.services.organisers.organisations(await authority_of(ctx))


async def pick_organisation(ctx: Context, raw: str) -> OrganisationRecord | Reply:
    """The organisation named by number in ``raw``, or the only one; else a helpful answer."""
    mine = await my_organisations(ctx)
    number = parse_id(raw)
    if number is not None:
        chosen = [o for o in mine if o.id == number]
        if chosen:
            return chosen[0]
        await ctx.services.organisers.audit(
            ctx.me.id, "organisation", number, False, "not their organisation"
        )
        return Reply(fmt(_("You do not act for that organisation.")))
    if len(mine) == 1 and not raw.strip():
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
    name = ctx.args
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
    """/invite organiser|coordinator [organisation]: a one-time code for a new member; the role
    in any shipped language, and buttons for what is missing."""
    words = ctx.args.split()
    organisation: int | None = None
    # Any digits name the organisation, even ones no id has ("²"): pick_organisation says so.
    if words and words[-1].isdigit():
        chosen = await pick_organisation(ctx, words.pop())
        if isinstance(chosen, Reply):
            return chosen
        organisation = chosen.id
    role = _role_keywords(ctx).get(_keyword("".join(words)))
    if role is None:
        names = {r: _role_name(r) for r in ROLE_NAMES}
        buttons = tuple(
            (Button(name[:1].upper() + name[1:], InviteRole(r, organisation).pack()),)
            for r, name in names.items()
        )
        return Reply(fmt(_("Which role should the new member have?")), buttons)
    return await _invite_code(ctx, role, organisation)


async def on_invite_press(ctx: Context, press: InviteRole) -> Reply:
    """The role (and perhaps the organisation) of an invite was chosen by button."""
    reply = await _invite_code(ctx, press.role, press.organisation)
    return Reply(reply.text, reply.buttons, replace=True)


async def _invite_code(ctx: Context, role: RoleName, organisation_id: int | None) -> Reply:
    authority = await authority_of(ctx)
    if organisation_id is None:
        mine = await my_organisations(ctx)
        if len(mine) != 1:
            rows = tuple((Button(o.name, InviteRole(role, o.id).pack()),) for o in mine)
            return Reply(fmt(_("For which organisation?")), rows)
        chosen: OrganisationRecord | None = mine[0]
    else:
        chosen = await ctx.services.organisers.organisation(organisation_id)
    if chosen is None or not authority.organiser_of(chosen.id):
        await ctx.services.organisers.audit(
            ctx.me.id, "invite", organisation_id, False, "not their organisation"
        )
        return Reply(fmt(_("You do not act for that organisation.")))
    code = await ctx.services.organisers.invite(ctx.me.id, chosen.id, role)
    await ctx.services.organisers.audit(ctx.me.id, "invite", chosen.id, True, role)
    lines = [
        fmt(
            _(
                "Invite code for a new {role} of {organisation}: {code}. Give it to that person "
                "yourself; they send “/join {code}” to me within {days} days. It works once."
            ),
            role=_role_name(role),
            organisation=chosen.name,
            code=code,
            days=INVITE_DAYS,
        )
    ]
    if role == "coordinator":
        lines.append(fmt(_coordinator_purpose()))
    return Reply(join(lines))


async def join_organisation(ctx: Context) -> Reply:
    """/join CODE: take up the role an invite code gives; wrong codes are counted."""
    code = ctx.args.strip()
    if not code:
        return Reply(fmt(_("Please write the invite code after the command: /join CODE")))
    joined = await ctx.services.organisers.join(ctx.me.id, code)
    if joined == "throttled":
        text = ngettext(
            "That was too many wrong invite codes: I try at most {n} an hour. Please wait an "
            "hour before you send a code again.",
            "That was too many wrong invite codes: I try at most {n} an hour. Please wait an "
            "hour before you send a code again.",
            JOIN_TRIES,
        )
        return Reply(fmt(text, n=JOIN_TRIES))
    if joined == "wrong":
        return Reply(
            fmt(_("This invite code is not valid or has expired. Please ask for a new one."))
        )
    role_name = _role_name(joined.role)
    if joined.role == "coordinator":
        return Reply(
            join(
                [
                    fmt(
                        _("Welcome! You are now {role} of {organisation}."),
                        role=role_name,
                        organisation=joined.organisation.name,
                    ),
                    fmt(_coordinator_purpose()),
                ]
            )
        )
    return Reply(
        fmt(
            _(
                "Welcome! You are now {role} of {organisation}. "
                "/newevent creates an event, /help shows all commands."
            ),
            role=role_name,
            organisation=joined.organisation.name,
        )
    )


async def members(ctx: Context) -> Reply:
    """/members [organisation] (umbrella admins): its roles by number, without account ids."""
    chosen = await pick_organisation(ctx, ctx.args)
    if isinstance(chosen, Reply):
        return chosen
    found = await ctx.services.organisers.members(chosen.id)
    if not found:
        return Reply(
            fmt(
                _("Nobody has a role in {organisation} yet. Invite with /invite organiser {id}."),
                organisation=chosen.name,
                id=chosen.id,
            )
        )
    lines = [fmt(_("Roles in {organisation}:"), organisation=chosen.name)]
    lines += [
        fmt(
            _("{number} – {role} since {date}, language: {language}"),
            number=m.id,
            role=_role_name(m.role),
            date=format_date(m.since, ctx.tz),
            language=language_name(m.locale),
        )
        for m in found
    ]
    lines.append(fmt(_("/removerole and the number takes a role away.")))
    return Reply(join(lines))


async def remove_role(ctx: Context) -> Reply:
    """/removerole N (umbrella admins): asks once, then takes role N away."""
    number = parse_id(ctx.args)
    if number is None:
        return Reply(fmt(_("Please add the role's number as /members shows it: /removerole 12")))
    member = await ctx.services.organisers.member(number)
    organisation = (
        await ctx.services.organisers.organisation(member.organisation_id) if member else None
    )
    if member is None or organisation is None:
        await ctx.services.organisers.audit(ctx.me.id, "removerole", None, False, "no such role")
        return Reply(fmt(_("There is no role with that number. /members shows them.")))
    return Reply(
        fmt(
            _("Take the role {role} of {organisation} away from number {number}? They are told."),
            role=_role_name(member.role),
            organisation=organisation.name,
            number=member.id,
        ),
        (
            (
                Button(_("Yes, take the role away"), RemoveRole(member.id, "y").pack()),
                Button(_("No, keep the role"), RemoveRole(member.id, "n").pack()),
            ),
        ),
    )


async def on_remove_press(ctx: Context, press: RemoveRole) -> Reply:
    """The removal of a role confirmed, or called off."""
    if press.choice == "n":
        return Reply(fmt(_("Nothing changed.")), replace=True)
    removed = await ctx.services.organisers.remove_role(ctx.me.id, press.membership)
    if removed is None:
        raise StaleButton("role gone")
    return Reply(
        fmt(
            _("Done: number {number} is no longer {role}. I am telling them."),
            number=removed.id,
            role=_role_name(removed.role),
        ),
        replace=True,
    )


async def render_role_removed(ctx: NoticeContext) -> Reply | None:
    """The notice to a person whose role was taken away, in their language."""
    organisation = await ctx.services.organisers.organisation(int(ctx.payload["organisation_id"]))
    if organisation is None:
        return None
    return Reply(
        fmt(
            _("You are no longer {role} of {organisation}."),
            role=_role_name(str(ctx.payload["role"])),
            organisation=organisation.name,
        )
    )


async def cancel(ctx: Context) -> Reply:
    """/cancel: leave the current guided conversation; nothing of it is saved."""
    if await ctx.conversations.end(ctx):
        return Reply(fmt(_("Cancelled. Nothing was saved.")))
    return Reply(fmt(_("There is nothing to cancel.")))
