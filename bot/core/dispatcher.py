"""The core's single entry point: one incoming update in, a list of replies out."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from bot import i18n
from bot.app.settings import Settings
from bot.core.buttons import EventsPage
from bot.core.chat import Button, Incoming, Reply
from bot.core.context import Context
from bot.core.conversations import Conversations
from bot.core.errors import StaleButton
from bot.core.priority import Priority
from bot.core.registry import Handler, HandlerResult, Registry
from bot.i18n import I18n, Lang, _
from bot.i18n.text import clean_input, fmt
from bot.services import Services
from storage.db import is_transient

log = logging.getLogger(__name__)

DB_ATTEMPTS = 3


def _as_list(result: HandlerResult) -> list[Reply]:
    if result is None:
        return []
    return [result] if isinstance(result, Reply) else list(result)


def cleaned(incoming: Incoming) -> Incoming:
    """What was typed, cleaned once here so that no handler can forget it (clean_input).

    Button data is checked, not rewritten: data that cleaning would change was forged, and
    cleaning it might turn it into a valid press.
    """
    if incoming.button is not None and clean_input(incoming.button) != incoming.button:
        raise StaleButton("button data with characters that cleaning removes")
    if incoming.text is None:
        return incoming
    return replace(incoming, text=clean_input(incoming.text))


def stale_button_reply() -> Reply:
    """The answer to an old, forged or malformed button, with a fresh way on."""
    message = _("This button is no longer valid. Please use the newest message.")
    return Reply(
        fmt(message),
        ((Button(_("📅 Upcoming events"), EventsPage("a", 0).pack()),),),
        toast=message,
    )


def _stranger(ctx: Context) -> Context:
    """The context as anyone would have it: what runs in a group cannot reach the person."""
    return replace(ctx, user=None, authority=None, conversation=None)


@dataclass
class _Attempt:
    """What the latest try of an update learned: the language to answer a failure in."""

    lang: Lang


def _log_retry(state: RetryCallState) -> None:
    log.warning("database busy, trying the update again (attempt %d)", state.attempt_number)


class Dispatcher:
    """Answers each update in one unit of work, routes it, and never lets an error out."""

    def __init__(
        self,
        registry: Registry,
        services: Services,
        i18n_: I18n,
        settings: Settings,
        conversations: Conversations,
        *,
        priority: Priority | None = None,
    ) -> None:
        self.registry = registry
        # Updates in flight: bulk work (delivery, reminder runs) gives way to them.
        self.priority = priority or Priority()
        self.conversations = conversations
        self.services = services
        self.i18n = i18n_
        self.settings = settings
        self._after: list[Callable[[], None]] = []

    def after_each(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` after every update (the delivery worker is woken this way)."""
        self._after.append(callback)

    async def handle(self, incoming: Incoming) -> list[Reply]:
        """Answer one update; unknown people speak their platform's language, else the default.

        Everything the update changes commits together. A transient database error rolls the
        unit back, so trying it again (a bounded number of times) can never do a thing twice.
        The first try only reads until it writes; on SQLite a retry takes the write lock first.
        """
        sender = incoming.sender
        # In a group nothing stored about the sender shows, not even the language they chose.
        picked = (
            self.services.users.pending.get(sender.platform, sender.user_id)
            if incoming.chat.private
            else None
        )
        attempt = _Attempt(self.i18n.lang(picked or sender.language_hint))
        retrying = AsyncRetrying(
            stop=stop_after_attempt(DB_ATTEMPTS),
            wait=wait_exponential(multiplier=0.05, max=1.0),
            retry=retry_if_exception(is_transient),
            before_sleep=_log_retry,
            reraise=True,
        )
        try:
            async for retry in retrying:
                with retry, self.priority.interactive():
                    write = retry.retry_state.attempt_number > 1
                    return await self._unit(incoming, attempt, write=write)
        except StaleButton as exc:
            log.info("stale or forged button: %s", exc)
            with i18n.use(attempt.lang):
                return [stale_button_reply()]
        except Exception as exc:
            with i18n.use(attempt.lang):
                return [self._failure_reply(exc)]
        finally:
            for callback in self._after:
                callback()
        raise AssertionError("unreachable")

    async def _unit(self, incoming: Incoming, attempt: _Attempt, *, write: bool) -> list[Reply]:
        # In this process's line of writers on SQLite from the first try: updates of different
        # people are answered side by side (the transports), and an update may write.
        async with self.services.db.unit_of_work(write=write, in_line=True) as unit:
            sender = incoming.sender
            if incoming.once is not None and not await self.services.messages.first_sight(
                sender.platform, incoming.once
            ):
                return []
            private_chat = incoming.chat.chat_id if incoming.chat.private else None
            user = await self.services.users.find(sender.platform, sender.user_id, private_chat)
            if user is not None and incoming.chat.private:
                attempt.lang = self.i18n.lang(user.locale, user.second_locale)
            with i18n.use(attempt.lang):
                ctx = Context(
                    cleaned(incoming),
                    self.services,
                    self.settings,
                    self.i18n,
                    self.registry,
                    attempt.lang,
                    user,
                    unit,
                    self.conversations,
                )
                return await self._route(ctx)

    async def _route(self, ctx: Context) -> list[Reply]:
        incoming = ctx.incoming
        if incoming.button is not None:
            return await self._press(ctx, incoming.button)
        command = incoming.command()
        if command is None:
            if not incoming.chat.private:
                return []  # in groups the bot speaks only when spoken to with a command
            ctx.conversation = await self.conversations.current(ctx)
            if ctx.conversation is not None:
                return [await self.conversations.on_text(ctx, ctx.conversation)]
            return await self._run(ctx, self.registry.fallback)
        name, ctx.args = command
        found = self.registry.find(name)
        if found is None:
            private = incoming.chat.private
            return await self._run(ctx if private else _stranger(ctx), self.registry.fallback)
        if not incoming.chat.private:
            return await self._in_group(ctx, found.handler, found.group_safe, found.guard)
        if found.guard is not None:
            refusal = await self._run(ctx, found.guard)
            if refusal:
                return refusal
        if found.needs_user and ctx.user is None:
            return await self._run(ctx, self.registry.consent_prompt)
        return await self._run(ctx, found.handler)

    async def _press(self, ctx: Context, data: str) -> list[Reply]:
        route = self.registry.route(data)
        try:
            if route is None:
                raise StaleButton("unknown kind of button")
            press = route.codec.unpack(data)
        except StaleButton as exc:
            log.info("stale or forged button: %s", exc)
            return [stale_button_reply()]
        if not ctx.incoming.chat.private:
            return await self._in_group(ctx, route.bind(press), route.group_safe, route.guard)
        if route.guard is not None:
            refusal = await self._run(ctx, route.guard)
            if refusal:
                return refusal
        if route.needs_user and ctx.user is None:
            return await self._run(ctx, self.registry.consent_prompt)
        return await self._run(ctx, route.bind(press))

    async def _in_group(
        self, ctx: Context, handler: Handler, group_safe: bool, guard: Handler | None
    ) -> list[Reply]:
        """A group sees what a stranger would see: a safe handler runs without the person, and
        anything else gets the same short pointer to a private chat, whoever asks."""
        if group_safe:
            return await self._run(_stranger(ctx), handler)
        if guard is not None:
            await self._run(ctx, guard)  # a refusal is still audited, but not shown
        return [self._private_only_reply(pressed=ctx.incoming.button is not None)]

    async def _run(self, ctx: Context, handler: Handler | None) -> list[Reply]:
        """Errors propagate: they roll the whole unit of work back and are answered above."""
        if handler is None:
            return []
        return _as_list(await handler(ctx))

    @staticmethod
    def _failure_reply(exc: BaseException) -> Reply:
        if is_transient(exc):
            log.warning("database unavailable: %s", type(exc).__name__)
            return Reply(fmt(_("I am very busy right now. Please try again in a moment.")))
        # The traceback names code, not people; message texts are never logged.
        log.exception("handler failed")
        return Reply(fmt(_("Sorry, something went wrong on my side. Please try again.")))

    @staticmethod
    def _private_only_reply(*, pressed: bool) -> Reply:
        """A pressed button is answered only to the presser where the messenger can."""
        message = _(
            "This is personal, so I only do it in a private chat. Please write to me directly."
        )
        return Reply(fmt(message), toast=message, toast_only=pressed)
