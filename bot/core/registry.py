"""The one explicit registry: commands with their aliases and help, buttons, notices."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from bot.core.buttons import SEP, ButtonData
from bot.core.chat import Reply
from bot.core.conversations import Back, Wizard

if TYPE_CHECKING:
    from bot.core.context import Context, NoticeContext

HandlerResult = Reply | list[Reply] | None
Handler = Callable[["Context"], Awaitable[HandlerResult]]
NoticeRenderer = Callable[["NoticeContext"], Awaitable[Reply | None]]
B = TypeVar("B", bound=ButtonData)


@dataclass(frozen=True)
class Command:
    """A command: ``help`` is an untranslated message id, translated where it is shown.

    ``group_safe``: it may answer in a group, where it runs as for a stranger (no person, no
    stored language); every other command is answered there only with "write to me directly".
    """

    name: str
    handler: Handler
    help: str
    aliases: tuple[str, ...] = ()
    needs_user: bool = True
    group_safe: bool = False
    hidden: bool = False
    guard: Handler | None = None


@dataclass(frozen=True)
class ButtonRoute:
    """Presses of one kind of button: ``codec`` decodes the data for ``handler``;
    ``group_safe`` as for a :class:`Command`."""

    codec: type[ButtonData]
    handler: Callable[[Context, Any], Awaitable[HandlerResult]]
    needs_user: bool = True
    group_safe: bool = False
    guard: Handler | None = None

    def bind(self, press: ButtonData) -> Handler:
        """The handler with the decoded press filled in."""

        async def run(ctx: Context) -> HandlerResult:
            return await self.handler(ctx, press)

        return run


@dataclass
class Registry:
    commands: dict[str, Command] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    # (prefix, number of fields) → route: one prefix may carry kinds of different lengths.
    buttons: dict[tuple[str, int], ButtonRoute] = field(default_factory=dict)
    notices: dict[str, NoticeRenderer] = field(default_factory=dict)
    shared_notices: set[str] = field(default_factory=set)
    wizards: dict[str, Wizard] = field(default_factory=dict)
    fallback: Handler | None = None
    consent_prompt: Handler | None = None

    def command(
        self,
        name: str,
        handler: Handler,
        help: str,
        *,
        aliases: tuple[str, ...] = (),
        needs_user: bool = True,
        group_safe: bool = False,
        hidden: bool = False,
        guard: Handler | None = None,
    ) -> None:
        _check_group_safe(name, needs_user=needs_user, group_safe=group_safe, guard=guard)
        for key in (name, *aliases):
            if key in self.commands or key in self.aliases:
                raise ValueError(f"command name {key!r} registered twice")
        self.commands[name] = Command(
            name, handler, help, aliases, needs_user, group_safe, hidden, guard
        )
        for alias in aliases:
            self.aliases[alias] = name

    def button(
        self,
        codec: type[B],
        handler: Callable[[Context, B], Awaitable[HandlerResult]],
        *,
        needs_user: bool = True,
        group_safe: bool = False,
        guard: Handler | None = None,
    ) -> None:
        """Presses of ``codec``'s kind go to ``handler``, decoded."""
        _check_group_safe(codec.prefix, needs_user=needs_user, group_safe=group_safe, guard=guard)
        key = (codec.prefix, len(codec.fields()))
        if key in self.buttons:
            raise ValueError(f"two kinds of button with prefix {codec.prefix!r} and {key[1]} parts")
        self.buttons[key] = ButtonRoute(codec, handler, needs_user, group_safe, guard)

    def route(self, data: str) -> ButtonRoute | None:
        """The route of the kind of button ``data`` claims to be; the longest prefix wins."""
        parts = data.split(SEP)
        for length in range(len(parts), 0, -1):
            found = self.buttons.get((SEP.join(parts[:length]), len(parts) - length))
            if found is not None:
                return found
        return None

    def wizard(self, wizard: Wizard, *, guard: Handler | None = None) -> None:
        """A guided conversation: text from someone in it, and its buttons, go through it."""
        if wizard.kind in self.wizards:
            raise ValueError(f"conversation {wizard.kind!r} registered twice")
        self.wizards[wizard.kind] = wizard
        for kind in sorted(wizard.button_kinds, key=lambda k: (k.prefix, len(k.fields()))):
            self.button(kind, _pressed_in(wizard), guard=guard)
        if (Back.prefix, len(Back.fields())) not in self.buttons:
            self.button(Back, _back)

    def notice(self, kind: str, renderer: NoticeRenderer, *, shared: bool = False) -> None:
        """``shared``: the text depends only on the language, so one rendering per language
        serves every recipient of the same message (a broadcast to thousands)."""
        self.notices[kind] = renderer
        if shared:
            self.shared_notices.add(kind)

    def find(self, name: str) -> Command | None:
        return self.commands.get(self.aliases.get(name, name))

    def visible(self, *, guarded: bool = False) -> Iterator[Command]:
        """Commands for the help and menus; guarded (organiser) ones only when asked for."""
        return (c for c in self.commands.values() if not c.hidden and (guarded or c.guard is None))


def _check_group_safe(
    name: str, *, needs_user: bool, group_safe: bool, guard: Handler | None
) -> None:
    """In a group a safe handler runs without the person: it can neither need nor check them."""
    if group_safe and (needs_user or guard is not None):
        raise ValueError(f"{name!r} is group-safe, so it cannot need a person or a role")


def _pressed_in(wizard: Wizard) -> Callable[[Context, ButtonData], Awaitable[HandlerResult]]:
    async def pressed(ctx: Context, press: ButtonData) -> HandlerResult:
        return await ctx.conversations.on_press(ctx, wizard, press)

    return pressed


async def _back(ctx: Context, press: Back) -> HandlerResult:
    return await ctx.conversations.on_back(ctx, press)
