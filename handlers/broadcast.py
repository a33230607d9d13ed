"""/broadcast: an announcement to many people, each in their language, with a final report."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from bot.core.chat import Button, Reply
from bot.core.context import Context, NoticeContext
from bot.core.conversations import Finish, Goto, Outcome, Stay, Step, Turn, Wizard
from bot.core.errors import StaleButton
from bot.i18n import _, current, language_list, language_name, native_name, ngettext
from bot.i18n.text import fmt, is_blank, join, shorten
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


def _action(turn: Turn, *allowed: str) -> str:
    """Which of this step's actions was pressed; any other is a button of another step."""
    press = turn.press
    if not isinstance(press, BroadcastStep) or press.action not in allowed:
        raise StaleButton("button of another step")
    return press.action


async def start(ctx: Context) -> Reply:
    """/broadcast [organisation]: choose the audience first."""
    chosen = await pick_organisation(ctx, ctx.args)
    if isinstance(chosen, Reply):
        return chosen
    data = {
        "org": chosen.id,
        "org_name": chosen.name,
        "cats": [],
        "regs": [],
        "lang": ctx.me.locale,
        "texts": {},
    }
    return await ctx.conversations.begin(ctx, WIZARD, "audience", data, pressed=False)


# -- who gets it ----------------------------------------------------------------------------


async def _ask_audience(turn: Turn) -> Reply:
    return Reply(
        join(
            [
                fmt(
                    _("Announcement for {organisation}. Who should get it?"),
                    organisation=turn.data["org_name"],
                ),
                fmt(_("(/cancel stops at any step.)")),
            ]
        ),
        (
            (Button(_("🏷 Followers of topics and regions"), BroadcastStep("t").pack()),),
            (Button(_("📅 People who answered an event"), BroadcastStep("e").pack()),),
        ),
    )


async def _organisation_events(turn: Turn) -> list[Any]:
    page = await turn.ctx.services.events.page(None, everything=True, offset=0, limit=50)
    return [v for v in page.views if v.event.organisation_id == int(turn.data["org"])][:20]


async def _audience_chosen(turn: Turn) -> Outcome:
    if _action(turn, "t", "e") == "t":
        return Goto("topics")
    if not await _organisation_events(turn):
        return Stay(Reply(fmt(_("Your organisation has no upcoming events.")), replace=True))
    return Goto("event")


async def _ask_topics(turn: Turn) -> Reply:
    data = turn.data
    state = await turn.ctx.services.topics.state(turn.ctx.me.id)
    rows: list[tuple[Button, ...]] = []
    for c in state.categories:
        on = c.id in data["cats"]
        label = f"{'✅' if on else '▫️'} {category_name(c.slug)}"
        rows.append((Button(label, BroadcastToggle("c", c.id, not on).pack()),))
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
    return Reply(fmt(text), tuple(rows))


async def _topic_pressed(turn: Turn) -> Outcome:
    press = turn.press
    if not isinstance(press, BroadcastToggle):
        _action(turn, "n")
        return Goto("text")
    key = "cats" if press.kind == "c" else "regs"
    state = await turn.ctx.services.topics.state(turn.ctx.me.id)
    known = {c.id for c in (state.categories if press.kind == "c" else state.regions)}
    if press.id not in known:
        raise StaleButton("unknown choice")
    chosen = set(turn.data[key])
    turn.data[key] = sorted(chosen | {press.id} if press.on else chosen - {press.id})
    return Goto("topics")


async def _ask_event(turn: Turn) -> Reply:
    rows = tuple(
        (Button(shorten(title_of(v), 60), BroadcastEvent(v.event.id).pack()),)
        for v in await _organisation_events(turn)
    )
    return Reply(
        fmt(_("Which event? Everyone who answered going, maybe or is waiting gets it.")), rows
    )


async def _event_chosen(turn: Turn) -> Outcome:
    assert isinstance(turn.press, BroadcastEvent)
    ctx = turn.ctx
    view = await ctx.services.events.view(turn.press.event, None)
    if view is None:
        raise StaleButton("event gone")
    if view.event.organisation_id != int(turn.data["org"]):
        # A refusal is answered, not raised: raising would roll its audit entry back.
        await ctx.services.organisers.audit(
            ctx.me.id, "broadcast", view.event.organisation_id, False, "event of another one"
        )
        return Stay(Reply(fmt(_("You can only write to the people who answered your events."))))
    turn.data["event"], turn.data["cats"], turn.data["regs"] = view.event.id, [], []
    return Goto("text")


# -- what it says, in which languages -------------------------------------------------------


async def _ask_text(turn: Turn) -> Reply:
    return Reply(
        fmt(
            _("Write the message in {language}. Translations can follow."),
            language=language_name(turn.data["lang"]),
        )
    )


async def _text(turn: Turn) -> Outcome:
    if is_blank(turn.text):
        return Stay(Reply(fmt(_("Please write the message."))))
    if len(turn.text) > MAX_TEXT:
        return Stay(
            Reply(fmt(_("This is too long: at most {max} characters, please."), max=MAX_TEXT))
        )
    turn.data["texts"][turn.data["lang"]] = turn.text
    return Goto("translations")


async def _ask_translations(turn: Turn) -> Reply:
    texts = turn.data["texts"]
    missing = [c for c in turn.ctx.i18n.available if c not in texts]
    buttons = [Button(native_name(c), BroadcastLanguage(c).pack()) for c in missing]
    rows = [tuple(buttons[i : i + 3]) for i in range(0, len(buttons), 3)]
    rows.append((Button(_("Preview ▶"), BroadcastStep("p").pack()),))
    done = language_list(list(texts))
    return Reply(
        join(
            [
                fmt(_("Texts so far: {languages}."), languages=done),
                fmt(_("Add a translation? Choose the language, or go on to the preview.")),
            ]
        ),
        tuple(rows),
    )


async def _translation_chosen(turn: Turn) -> Outcome:
    if isinstance(turn.press, BroadcastLanguage):
        turn.data["lang"] = shipped(turn.ctx.i18n.available, turn.press.code)
        return Goto("translation")
    _action(turn, "p")
    if not turn.data["texts"]:
        raise StaleButton("no text yet")
    return Goto("preview")


# -- preview and sending --------------------------------------------------------------------


def _audience(data: dict[str, Any]) -> Audience:
    return Audience(tuple(data["cats"]), tuple(data["regs"]), data.get("event"))


async def _preview(turn: Turn) -> Reply:
    data = turn.data
    languages = await turn.ctx.services.broadcasts.languages(_audience(data))
    lines: list[Markup] = [fmt(_("Please check the announcement:"))]
    lines += [
        fmt("{language}: {text}", language=native_name(c), text=t) for c, t in data["texts"].items()
    ]
    lines.append(fmt(_("Recipients: {n}"), n=sum(languages.values())))
    for code, n in sorted(languages.items(), key=lambda item: -item[1]):
        note = "" if code in data["texts"] else " " + _("(gets a text in another language)")
        lines.append(fmt("· {language}: {n}{note}", language=native_name(code), n=n, note=note))
    buttons = (
        (
            Button(_("📢 Send"), BroadcastStep("s").pack()),
            Button(_("✖ Discard"), BroadcastStep("x").pack()),
        ),
    )
    return Reply(join(lines), buttons)


async def _send(turn: Turn) -> Outcome:
    if _action(turn, "s", "x") == "x":
        return Finish(Reply(fmt(_("Discarded. Nothing was saved.")), replace=True))
    ctx, data = turn.ctx, turn.data
    organisation = int(data["org"])
    if not data["texts"]:
        raise StaleButton("nothing to send")
    if not (await authority_of(ctx)).organiser_of(organisation):
        await ctx.services.organisers.audit(
            ctx.me.id, "broadcast", organisation, False, "no longer an organiser"
        )
        return Finish(Reply(fmt(_("You no longer act for this organisation; nothing was sent."))))
    broadcast_id, total = await ctx.services.broadcasts.send(
        organisation, ctx.me.id, dict(data["texts"]), _audience(data)
    )
    await ctx.services.organisers.audit(
        ctx.me.id, "broadcast", organisation, True, f"broadcast {broadcast_id} to {total}"
    )
    return Finish(
        Reply(
            fmt(
                ngettext(
                    "Sending to {n} person now. You get a report when it is done.",
                    "Sending to {n} people now. You get a report when it is done.",
                    total,
                ),
                n=total,
            ),
            ((Button(_("🔄 Progress"), BroadcastProgress(broadcast_id).pack()),),),
            replace=True,
        )
    )


WIZARD = Wizard(
    KIND,
    "broadcast",
    {
        "audience": Step(_ask_audience, press=_audience_chosen, buttons=(BroadcastStep,)),
        "topics": Step(_ask_topics, press=_topic_pressed, buttons=(BroadcastToggle, BroadcastStep)),
        "event": Step(_ask_event, press=_event_chosen, buttons=(BroadcastEvent,)),
        "text": Step(_ask_text, text=_text),
        "translations": Step(
            _ask_translations,
            press=_translation_chosen,
            buttons=(BroadcastLanguage, BroadcastStep),
        ),
        "translation": Step(_ask_text, text=_text),
        "preview": Step(_preview, press=_send, buttons=(BroadcastStep,)),
    },
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
    if broadcast is None:
        raise StaleButton("broadcast gone")
    if not (await authority_of(ctx)).organiser_of(broadcast.organisation_id):
        await ctx.services.organisers.audit(
            ctx.me.id, "broadcast", broadcast.organisation_id, False, "not their broadcast"
        )
        return Reply(fmt(_("This announcement was sent for an organisation you do not act for.")))
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
