"""/broadcast: an announcement to many people, each in their language, with a final report."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from bot.core.chat import Button, Reply
from bot.core.context import Context, NoticeContext
from bot.core.errors import StaleButton
from bot.i18n import _, current, join_list, language_name, native_name
from bot.i18n.text import clean_input, fmt, is_blank, join, shorten
from bot.services.broadcasts import Audience
from handlers.buttons import (
    BroadcastEvent,
    BroadcastLanguage,
    BroadcastProgress,
    BroadcastStep,
    BroadcastToggle,
    shipped,
)
from handlers.organisers import authority_of, pick_organisation
from handlers.views import category_name, region_name, title_of

KIND = "broadcast"
MAX_TEXT = 3500


async def _save(ctx: Context, step: str, data: dict[str, Any]) -> None:
    await ctx.services.organisers.save_conversation(ctx.me.id, KIND, step, data)


async def start(ctx: Context) -> Reply:
    """/broadcast [organisation]: choose the audience first."""
    chosen = await pick_organisation(ctx, ctx.args)
    if isinstance(chosen, Reply):
        return chosen
    await _save(
        ctx, "audience", {"org": chosen.id, "org_name": chosen.name, "cats": [], "regs": []}
    )
    return Reply(
        join(
            [
                fmt(
                    _("Announcement for {organisation}. Who should get it?"),
                    organisation=chosen.name,
                ),
                fmt(_("(/cancel stops at any step.)")),
            ]
        ),
        (
            (Button(_("🏷 Followers of topics and regions"), BroadcastStep("t").pack()),),
            (Button(_("📅 People who answered an event"), BroadcastStep("e").pack()),),
        ),
    )


async def _topics(ctx: Context, data: dict[str, Any]) -> Reply:
    state = await ctx.services.topics.state(ctx.me.id)
    rows: list[tuple[Button, ...]] = []
    for c in state.categories:
        on = c.id in data["cats"]
        rows.append(
            (
                Button(
                    f"{'✅' if on else '▫️'} {category_name(c.slug)}",
                    BroadcastToggle("c", c.id, not on).pack(),
                ),
            )
        )
    regions = [
        Button(
            f"{'✅' if r.id in data['regs'] else '▫️'} {region_name(r.slug)}",
            BroadcastToggle("g", r.id, r.id not in data["regs"]).pack(),
        )
        for r in state.regions
    ]
    rows += [tuple(regions[i : i + 2]) for i in range(0, len(regions), 2)]
    rows.append((Button(_("Continue ▶"), BroadcastStep("n").pack()),))
    text = _("Choose topics and regions. With none chosen, everyone who follows any topic gets it.")
    return Reply(fmt(text), tuple(rows), replace=True)


def _ask_text(data: dict[str, Any]) -> Reply:
    return Reply(
        fmt(
            _("Write the message in {language}. Translations can follow."),
            language=language_name(data["lang"]),
        ),
        replace=True,
    )


def _audience(data: dict[str, Any]) -> Audience:
    return Audience(tuple(data["cats"]), tuple(data["regs"]), data.get("event"))


async def _translations(ctx: Context, data: dict[str, Any]) -> Reply:
    missing = [c for c in ctx.i18n.available if c not in data["texts"]]
    buttons = [Button(native_name(c), BroadcastLanguage(c).pack()) for c in missing]
    rows = [tuple(buttons[i : i + 3]) for i in range(0, len(buttons), 3)]
    rows.append((Button(_("Preview ▶"), BroadcastStep("p").pack()),))
    done = join_list([native_name(c) for c in data["texts"]])
    return Reply(
        join(
            [
                fmt(_("Texts so far: {languages}."), languages=done),
                fmt(_("Add a translation? Choose the language, or go on to the preview.")),
            ]
        ),
        tuple(rows),
    )


async def on_text(ctx: Context) -> Reply:
    assert ctx.conversation is not None
    step, data = ctx.conversation.step, dict(ctx.conversation.data)
    if step not in ("text", "translation"):
        return Reply(fmt(_("Please use the buttons above, or /cancel.")))
    text = clean_input(ctx.incoming.text or "")
    if is_blank(text):
        return Reply(fmt(_("Please write the message.")))
    if len(text) > MAX_TEXT:
        return Reply(fmt(_("This is too long: at most {max} characters, please."), max=MAX_TEXT))
    data.setdefault("texts", {})[data["lang"]] = text
    await _save(ctx, "translations", data)
    return await _translations(ctx, data)


async def _preview(ctx: Context, data: dict[str, Any]) -> Reply:
    languages = await ctx.services.broadcasts.languages(_audience(data))
    total = sum(languages.values())
    lines: list[Markup] = [fmt(_("Please check the announcement:"))]
    lines += [
        fmt("{language}: {text}", language=native_name(c), text=t) for c, t in data["texts"].items()
    ]
    lines.append(fmt(_("Recipients: {n}"), n=total))
    for code, n in sorted(languages.items(), key=lambda item: -item[1]):
        note = "" if code in data["texts"] else " " + _("(gets a text in another language)")
        lines.append(fmt("· {language}: {n}{note}", language=native_name(code), n=n, note=note))
    buttons = (
        (
            Button(_("📢 Send"), BroadcastStep("s").pack()),
            Button(_("✖ Discard"), BroadcastStep("x").pack()),
        ),
    )
    await _save(ctx, "preview", data)
    return Reply(join(lines), buttons)


BroadcastPress = BroadcastStep | BroadcastToggle | BroadcastEvent | BroadcastLanguage


async def on_press(ctx: Context, press: BroadcastPress) -> Reply:
    """The buttons of the broadcast conversation."""
    action = press.action if isinstance(press, BroadcastStep) else None
    conversation = await ctx.services.organisers.conversation(ctx.me.id)
    if conversation is None or conversation.kind != KIND:
        raise StaleButton("no broadcast being written")
    data = dict(conversation.data)
    data.setdefault("lang", ctx.me.locale)
    if action == "t":
        await _save(ctx, "topics", data)
        return await _topics(ctx, data)
    if isinstance(press, BroadcastToggle):
        key = "cats" if press.kind == "c" else "regs"
        target, on = press.id, press.on
        state = await ctx.services.topics.state(ctx.me.id)
        known = {c.id for c in (state.categories if press.kind == "c" else state.regions)}
        if target not in known:
            raise StaleButton("unknown choice")
        data[key] = sorted(set(data[key]) | {target} if on else set(data[key]) - {target})
        await _save(ctx, "topics", data)
        return await _topics(ctx, data)
    if action == "e":
        page = await ctx.services.events.page(None, everything=True, offset=0, limit=50)
        mine = [v for v in page.views if v.event.organisation_id == int(data["org"])][:20]
        if not mine:
            return Reply(fmt(_("Your organisation has no upcoming events.")), replace=True)
        rows = tuple(
            (Button(shorten(title_of(v), 60), BroadcastEvent(v.event.id).pack()),) for v in mine
        )
        await _save(ctx, "event", data)
        return Reply(
            fmt(_("Which event? Everyone who answered going, maybe or is waiting gets it.")),
            rows,
            replace=True,
        )
    if isinstance(press, BroadcastEvent):
        view = await ctx.services.events.view(press.event, None)
        if view is None or view.event.organisation_id != int(data["org"]):
            raise StaleButton("not an event of this organisation")
        data["event"], data["cats"], data["regs"] = view.event.id, [], []
        await _save(ctx, "text", data)
        return _ask_text(data)
    if action == "n":
        await _save(ctx, "text", data)
        return _ask_text(data)
    if isinstance(press, BroadcastLanguage):
        data["lang"] = shipped(ctx.i18n.available, press.code)
        await _save(ctx, "translation", data)
        return _ask_text(data)
    if action == "p":
        if not data.get("texts"):
            raise StaleButton("no text yet")
        return await _preview(ctx, data)
    if action == "x":
        await ctx.services.organisers.end_conversation(ctx.me.id)
        return Reply(fmt(_("Discarded. Nothing was saved.")), replace=True)
    return await _send(ctx, data)


async def _send(ctx: Context, data: dict[str, Any]) -> Reply:
    if not data.get("texts"):
        raise StaleButton("nothing to send")
    if not (await authority_of(ctx)).organiser_of(int(data["org"])):
        await ctx.services.organisers.audit(
            ctx.me.id, "broadcast", int(data["org"]), False, "no longer an organiser"
        )
        await ctx.services.organisers.end_conversation(ctx.me.id)
        return Reply(fmt(_("You no longer act for this organisation; nothing was sent.")))
    broadcast_id, total = await ctx.services.broadcasts.send(
        int(data["org"]), ctx.me.id, dict(data["texts"]), _audience(data)
    )
    await ctx.services.organisers.end_conversation(ctx.me.id)
    await ctx.services.organisers.audit(
        ctx.me.id, "broadcast", int(data["org"]), True, f"broadcast {broadcast_id} to {total}"
    )
    return Reply(
        fmt(_("Sending to {n} people now. You get a report when it is done."), n=total),
        ((Button(_("🔄 Progress"), BroadcastProgress(broadcast_id).pack()),),),
        replace=True,
    )


def _counts(tally: dict[str, int]) -> Markup:
    failed = sum(n for k, n in tally.items() if k.startswith("failed:") and "blocked" not in k)
    blocked = sum(n for k, n in tally.items() if "blocked or gone" in k)
    waiting = tally.get("pending", 0) + tally.get("sending", 0)
    return fmt(
        _(
            "Sent: {sent} · could not be reached: {blocked} · failed: {failed} · "
            "unclear: {unknown} · still to send: {waiting}"
        ),
        sent=tally.get("sent", 0),
        blocked=blocked,
        failed=failed,
        unknown=tally.get("unknown", 0),
        waiting=waiting,
    )


async def on_progress(ctx: Context, press: BroadcastProgress) -> Reply:
    """How far a sent announcement has got."""
    broadcast = await ctx.services.broadcasts.get(press.broadcast)
    if broadcast is None or not (await authority_of(ctx)).organiser_of(broadcast.organisation_id):
        raise StaleButton("not your broadcast")
    tally = await ctx.services.broadcasts.progress(broadcast.id)
    return Reply(
        _counts(tally),
        ((Button(_("🔄 Progress"), BroadcastProgress(broadcast.id).pack()),),),
        replace=True,
    )


async def render_broadcast(ctx: NoticeContext) -> Reply | None:
    """The announcement for one recipient: their language, else the fallback, with a note."""
    broadcast = await ctx.services.broadcasts.get(int(ctx.payload["broadcast_id"]))
    if broadcast is None or not broadcast.texts:
        return None
    organisation = await ctx.services.organisers.organisation(broadcast.organisation_id)
    order = current().content_order()
    code = next((c for c in order if c in broadcast.texts), sorted(broadcast.texts)[0])
    lines = [
        fmt(
            _("📢 Message from {organisation}:"),
            organisation=organisation.name if organisation else "",
        )
    ]
    if code != current().code:
        lines.append(fmt(_("ℹ️ This text is in {language}."), language=language_name(code)))
    lines.append(fmt("{text}", text=broadcast.texts[code]))
    return Reply(join(lines, "\n\n"))


async def render_report(ctx: NoticeContext) -> Reply | None:
    """The final report to the organiser who sent a broadcast."""
    broadcast_id = int(ctx.payload["broadcast_id"])
    tally = await ctx.services.broadcasts.progress(broadcast_id)
    reasons = sorted(k.split(":", 1)[1] for k in tally if k.startswith("failed:"))
    lines = [fmt(_("📢 Your announcement has gone out.")), _counts(tally)]
    if reasons:
        lines.append(fmt(_("Reasons: {reasons}"), reasons="; ".join(reasons)))
    return Reply(join(lines))
