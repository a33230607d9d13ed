"""Guided conversations: each written as its steps, in one place, with the way between them.

A :class:`Wizard` names its steps. A :class:`Step` has a prompt (the question, perhaps with
buttons), a check for a typed answer and one for a pressed button, and the kinds of button it
offers. A check returns an outcome: :class:`Stay` (the answer did not pass: say why, ask
again), :class:`Goto` (save the answers and ask the next question) or :class:`Finish` (done;
the conversation ends). The mechanism gives every wizard the same rest: the state saved in the
update's unit of work, "◀ Back" under every question after the first, ``/cancel``, refusing
buttons of another step, and expiry after a quiet while.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Annotated, Any

from bot.core.buttons import ButtonData, Matches
from bot.core.chat import Button, Reply
from bot.core.context import Context
from bot.core.errors import StaleButton
from bot.i18n import _, ngettext
from bot.i18n.text import fmt, join
from storage.repositories import ConversationRecord, ConversationRepository

STEP_NAME = r"[a-z][a-z_]{0,23}"


@dataclass(frozen=True)
class Back(ButtonData, prefix="cv:b"):
    """ "◀ Back" under the question of ``step``: to the question answered before it."""

    step: Annotated[str, Matches(STEP_NAME)]


@dataclass(frozen=True)
class Stay:
    """The answer did not pass: ``reply`` says why; the question stays."""

    reply: Reply


@dataclass(frozen=True)
class Goto:
    """Save the answers and go on to ``step`` (to the same step: show it again)."""

    step: str


@dataclass(frozen=True)
class Finish:
    """The conversation is over (done or given up); ``reply`` says so."""

    reply: Reply


Outcome = Stay | Goto | Finish


@dataclass
class Turn:
    """One answer in a conversation: the answers so far (``data``, to change) and this one."""

    ctx: Context
    data: dict[str, Any]
    now: datetime
    text: str = ""
    press: ButtonData | None = None


Prompt = Callable[[Turn], Awaitable[Reply]]
Check = Callable[[Turn], Awaitable[Outcome]]


@dataclass(frozen=True)
class Step:
    """One question: how it is asked, and how a typed or a pressed answer is checked."""

    prompt: Prompt
    text: Check | None = None
    press: Check | None = None
    buttons: tuple[type[ButtonData], ...] = ()


@dataclass(frozen=True)
class Wizard:
    """A guided conversation: ``kind`` is stored with it, ``command`` starts it again."""

    kind: str
    command: str
    steps: Mapping[str, Step]
    button_kinds: frozenset[type[ButtonData]] = field(init=False)

    def __post_init__(self) -> None:
        for name, step in self.steps.items():
            if not re.fullmatch(STEP_NAME, name):
                raise ValueError(f"{self.kind}: bad step name {name!r}")
            if step.buttons and step.press is None:
                raise ValueError(f"{self.kind}.{name}: buttons without a press check")
        kinds = frozenset(b for step in self.steps.values() for b in step.buttons)
        object.__setattr__(self, "button_kinds", kinds)


@dataclass(frozen=True)
class Conversations:
    """The core's store of conversations, and the way through them."""

    wizards: Mapping[str, Wizard]
    lifetime: timedelta
    clock: Callable[[], datetime]

    async def current(self, ctx: Context) -> ConversationRecord | None:
        """The person's conversation, if they are in one."""
        if ctx.user is None:
            return None
        async with ctx.services.db.transaction() as s:
            return await ConversationRepository(s).get(ctx.user.id)

    def expired(self, record: ConversationRecord) -> bool:
        """Left without an answer for longer than the lifetime of a conversation."""
        return record.updated_at is not None and record.updated_at + self.lifetime < self.clock()

    async def begin(
        self, ctx: Context, wizard: Wizard, step: str, data: dict[str, Any], *, pressed: bool
    ) -> Reply:
        """Start ``wizard`` at ``step`` (any earlier conversation of the person ends)."""
        await self._save(ctx, wizard, step, data, ())
        turn = Turn(ctx, data, self.clock())
        return await self._ask(wizard, step, turn, (), pressed=pressed)

    async def end(self, ctx: Context) -> bool:
        """End the person's conversation; False if there was none."""
        if ctx.user is None:
            return False
        async with ctx.services.db.transaction() as s:
            repo = ConversationRepository(s)
            found = await repo.get(ctx.user.id) is not None
            await repo.end(ctx.user.id)
        return found

    async def on_text(self, ctx: Context, record: ConversationRecord) -> Reply:
        """A typed answer to the question of the current step."""
        wizard = self.wizards.get(record.kind)
        if wizard is None or self.expired(record):
            return await self._close_expired(ctx, wizard, pressed=False)
        step = wizard.steps.get(record.step)
        if step is None:  # a step this version no longer has
            return await self._close_expired(ctx, None, pressed=False)
        turn = Turn(ctx, dict(record.data), self.clock(), text=ctx.incoming.text or "")
        if step.text is None:
            return await self._ask_again(wizard, record, turn)
        return await self._follow(wizard, record, turn, await step.text(turn), pressed=False)

    async def on_press(self, ctx: Context, wizard: Wizard, press: ButtonData) -> Reply:
        """A button of ``wizard``: only the current step's buttons count."""
        record = await self.current(ctx)
        if record is None or record.kind != wizard.kind:
            raise StaleButton(f"no {wizard.kind} conversation")
        if self.expired(record):
            return await self._close_expired(ctx, wizard)
        step = wizard.steps.get(record.step)
        if step is None or step.press is None or type(press) not in step.buttons:
            raise StaleButton("button of another step")
        turn = Turn(ctx, dict(record.data), self.clock(), press=press)
        return await self._follow(wizard, record, turn, await step.press(turn), pressed=True)

    async def on_back(self, ctx: Context, press: Back) -> Reply:
        """ "◀ Back": the question answered before, with the answers kept."""
        record = await self.current(ctx)
        wizard = self.wizards.get(record.kind) if record else None
        if record is None or wizard is None or record.step != press.step:
            raise StaleButton("no such step to go back from")
        if self.expired(record):
            return await self._close_expired(ctx, wizard)
        if not record.history:
            raise StaleButton("nothing before the first question")
        history, previous = record.history[:-1], record.history[-1]
        await self._save(ctx, wizard, previous, record.data, history)
        turn = Turn(ctx, dict(record.data), self.clock())
        return await self._ask(wizard, previous, turn, history, pressed=True)

    async def _ask_again(self, wizard: Wizard, record: ConversationRecord, turn: Turn) -> Reply:
        """Text where a button is wanted: the question again, with its buttons under it."""
        question = await self._ask(wizard, record.step, turn, record.history, pressed=False)
        note = fmt(_("Please choose one of the buttons below, or /cancel."))
        return replace(question, text=join([question.text, note], "\n\n"))

    async def _close_expired(
        self, ctx: Context, wizard: Wizard | None, *, pressed: bool = True
    ) -> Reply:
        await self.end(ctx)
        reply = _expired(wizard, self.lifetime)
        return replace(reply, replace=True) if pressed else reply

    async def _follow(
        self,
        wizard: Wizard,
        record: ConversationRecord,
        turn: Turn,
        outcome: Outcome,
        *,
        pressed: bool,
    ) -> Reply:
        if isinstance(outcome, Stay):
            typed = wizard.steps[record.step].text is not None
            reply = replace(outcome.reply, expects_text=typed)
            if reply.buttons or not record.history:
                return reply
            # The question stays, and so does the way back from it.
            return replace(reply, buttons=(_back_row(record.step),))
        if isinstance(outcome, Finish):
            await self.end(turn.ctx)
            return outcome.reply
        history = _path_to(outcome.step, record)
        await self._save(turn.ctx, wizard, outcome.step, turn.data, history)
        return await self._ask(wizard, outcome.step, turn, history, pressed=pressed)

    async def _ask(
        self, wizard: Wizard, step: str, turn: Turn, history: tuple[str, ...], *, pressed: bool
    ) -> Reply:
        reply = await wizard.steps[step].prompt(turn)
        if wizard.steps[step].text is not None:
            reply = replace(reply, expects_text=True)
        if history:
            reply = replace(reply, buttons=(*reply.buttons, _back_row(step)))
        return replace(reply, replace=True) if pressed else reply

    async def _save(
        self,
        ctx: Context,
        wizard: Wizard,
        step: str,
        data: dict[str, Any],
        history: tuple[str, ...],
    ) -> None:
        if step not in wizard.steps:
            raise ValueError(f"{wizard.kind}: no step {step!r}")
        async with ctx.services.db.transaction() as s:
            await ConversationRepository(s).save(
                ctx.me.id, wizard.kind, step, data, history=history, at=self.clock()
            )


def _path_to(step: str, record: ConversationRecord) -> tuple[str, ...]:
    """The steps behind ``step``: going to an earlier step is like going back to it."""
    if step == record.step:
        return record.history
    if step in record.history:
        return record.history[: record.history.index(step)]
    return (*record.history, record.step)


def _back_row(step: str) -> tuple[Button, ...]:
    return (Button(_("◀ Back"), Back(step).pack()),)


def _expired(wizard: Wizard | None, lifetime: timedelta) -> Reply:
    if wizard is None:
        return Reply(fmt(_("That conversation has expired; nothing of it was saved.")))
    minutes = int(lifetime.total_seconds() // 60)
    text = ngettext(
        "That conversation expired after {n} minute without an answer; nothing of it was "
        "saved. Start again with /{command}.",
        "That conversation expired after {n} minutes without an answer; nothing of it was "
        "saved. Start again with /{command}.",
        minutes,
    )
    return Reply(fmt(text, n=minutes, command=wizard.command))
