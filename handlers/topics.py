"""/topics: follow categories and choose regions, with buttons that set what they say."""

from __future__ import annotations

from typing import Literal

from bot.core.chat import Button, Reply
from bot.core.context import Context
from bot.i18n import _, join_list
from bot.i18n.text import fmt, join
from bot.services.topics import Choice, TopicState
from handlers.buttons import TopicToggle, TopicView
from handlers.views import category_name, marked, region_name


def _toggle(choice: Choice, kind: Literal["c", "g"], name: str) -> Button:
    data = TopicToggle(kind, choice.id, not choice.on).pack()
    return Button(marked(choice.on, name), data)


def _categories_reply(state: TopicState, *, replace: bool) -> Reply:
    text = join(
        [
            fmt(_("Which topics do you want to hear about?")),
            fmt(_("Tap a topic to follow it. ✅ marks what you follow; tap it again to stop.")),
        ],
        "\n\n",
    )
    rows: list[tuple[Button, ...]] = [
        (_toggle(c, "c", category_name(c.slug)),) for c in state.categories
    ]
    # Translators: "Done" closes the topic choice and shows a summary.
    rows.append(
        (Button(_("📍 Regions"), TopicView("r").pack()), Button(_("Done"), TopicView("d").pack()))
    )
    return Reply(text, tuple(rows), replace=replace)


def _regions_reply(state: TopicState) -> Reply:
    text = join(
        [
            fmt(_("Where should the events take place?")),
            fmt(
                _(
                    "✅ marks your choice. If you choose nothing, or “All of Saxony”, you see "
                    "events everywhere. Events for all of Saxony are always shown."
                )
            ),
        ],
        "\n\n",
    )
    buttons = [_toggle(r, "g", region_name(r.slug)) for r in state.regions]
    rows = [tuple(buttons[i : i + 2]) for i in range(0, len(buttons), 2)]
    rows.append(
        (Button(_("« Topics"), TopicView("c").pack()), Button(_("Done"), TopicView("d").pack()))
    )
    return Reply(text, tuple(rows), replace=True)


def _summary(state: TopicState) -> Reply:
    topics = [category_name(c.slug) for c in state.categories if c.on]
    regions = [region_name(r.slug) for r in state.regions if r.on]
    lines = []
    if topics:
        lines.append(fmt(_("You follow: {topics}."), topics=join_list(topics)))
    else:
        lines.append(fmt(_("You follow no topics yet, so /events shows all events.")))
    if regions:
        lines.append(fmt(_("Regions: {regions}."), regions=join_list(regions)))
    else:
        lines.append(fmt(_("Regions: everywhere.")))
    lines.append(fmt(_("/events shows what is coming up. /topics changes your choice.")))
    return Reply(join(lines, "\n"), replace=True, toast=_("Saved."))


async def topics_reply(ctx: Context) -> Reply:
    return _categories_reply(await ctx.services.topics.state(ctx.me.id), replace=False)


async def show(ctx: Context) -> Reply:
    """/topics: the categories as buttons, with a mark on the ones followed."""
    return await topics_reply(ctx)


async def on_view(ctx: Context, press: TopicView) -> Reply:
    """Switch between the categories, the regions and a summary."""
    state = await ctx.services.topics.state(ctx.me.id)
    if press.view == "r":
        return _regions_reply(state)
    if press.view == "d":
        return _summary(state)
    return _categories_reply(state, replace=True)


async def on_toggle(ctx: Context, press: TopicToggle) -> Reply:
    """Follow or stop following a category or a region."""
    topics = ctx.services.topics
    if press.kind == "c":
        return _categories_reply(
            await topics.set_category(ctx.me.id, press.id, press.on), replace=True
        )
    return _regions_reply(await topics.set_region(ctx.me.id, press.id, press.on))
