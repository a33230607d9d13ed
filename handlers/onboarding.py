"""Greeting, language choice and the privacy notice: nothing is stored before consent."""

from __future__ import annotations

from dataclasses import replace

from markupsafe import Markup

from bot import i18n
from bot.app.settings import Settings
from bot.core.chat import Button, Reply
from bot.core.context import Context
from bot.core.errors import StaleButton
from bot.i18n import _, language_name, ngettext
from bot.i18n.text import fmt, join, plain
from handlers import events, topics
from handlers.buttons import (
    AnswerEvent,
    Consent,
    ConsentThenAnswer,
    PickLanguage,
    PickSecondLanguage,
    YesNo,
    shipped,
)
from handlers.views import language_buttons


def privacy_notice(settings: Settings) -> Markup:
    """What is stored and why, who is responsible and how to reach them, how long it is kept."""
    minutes = settings.conversation_minutes
    return join(
        [
            fmt(_("🔒 A short note on your data.")),
            fmt(
                _(
                    "What I store: your messenger account ID, your languages, the topics and "
                    "regions you follow, and your answers to events."
                )
            ),
            fmt(
                _(
                    "Why: only to show you events that fit, to keep your seat, and to send you "
                    "the messages you asked for. The organisers of an event see the answers to "
                    "that event, nothing else about you. I share nothing with anyone else."
                )
            ),
            fmt(
                _(
                    "Your control: /mydata shows everything I store about you, and /deletedata "
                    "deletes all of it at once."
                )
            ),
            fmt(
                ngettext(
                    "How long: everything stays until you delete it with /deletedata. A "
                    "step-by-step conversation you leave unanswered ends after {n} minute. If "
                    "you act for an organisation, the record of what you did there stays "
                    "after you delete your data, without your name.",
                    "How long: everything stays until you delete it with /deletedata. A "
                    "step-by-step conversation you leave unanswered ends after {n} minutes. If "
                    "you act for an organisation, the record of what you did there stays "
                    "after you delete your data, without your name.",
                    minutes,
                ),
                n=minutes,
            ),
            fmt(
                _(
                    "Responsible for your data: {operator}, reachable at {contact} for any "
                    "question or request about your data."
                ),
                operator=settings.operator_name,
                contact=settings.operator_contact,
            ),
        ],
        "\n\n",
    )


def _consent_buttons(code: str, then: AnswerEvent | None = None) -> tuple[tuple[Button, ...], ...]:
    """Agree or decline; ``then`` is the answer to an event that waits for the agreement."""

    def choice(yes_no: YesNo) -> str:
        if then is None:
            return Consent(yes_no, code).pack()
        return ConsentThenAnswer(yes_no, code, then.event, then.answer, then.back).pack()

    return ((Button(_("✅ I agree"), choice("y")), Button(_("No, thank you"), choice("n"))),)


async def start(ctx: Context) -> Reply:
    """/start: greet and offer the languages, each by its own name."""
    if ctx.user is not None:
        greeting = _("Welcome back to Treffpunkt!")
    else:
        greeting = _(
            "Hello! I am Treffpunkt. I tell you about events of migrant organisations in "
            "Saxony – open meetings, workshops, counselling, culture – in your language."
        )
    text = join([fmt(greeting), fmt(_("Please choose your language:"))], "\n\n")
    # A registered person sees their language marked; a new one the platform's guess.
    mark = (
        ctx.user.locale
        if ctx.user
        else ctx.lang.code
        if ctx.incoming.sender.language_hint
        else None
    )
    rows = language_buttons(PickLanguage, ctx.i18n.available, mark=mark)
    return Reply(text, tuple(tuple(r) for r in rows))


async def on_language(ctx: Context, press: PickLanguage) -> Reply:
    """A language was picked: registered people switch; new people see the privacy notice."""
    code = shipped(ctx.i18n.available, press.code)
    if ctx.user is None:
        sender = ctx.incoming.sender
        ctx.services.users.pending.remember(sender.platform, sender.user_id, code)
        with i18n.use(ctx.i18n.lang(code)):
            text = join([privacy_notice(ctx.settings), fmt(_("Do you agree?"))], "\n\n")
            return Reply(text, _consent_buttons(code), replace=True)
    user = await ctx.services.users.set_language(ctx.user.id, code)
    with i18n.use(ctx.i18n.lang(user.locale, user.second_locale)):
        return _second_language_picker(ctx, user.locale, user.second_locale)


def _second_language_picker(ctx: Context, primary: str, second: str | None) -> Reply:
    text = join(
        [
            fmt(_("✅ I will speak {language} with you."), language=language_name(primary)),
            fmt(
                _(
                    "Do you read a second language? When an event has no text in your "
                    "language, I show it in your second language before English or German."
                )
            ),
        ],
        "\n\n",
    )
    others = tuple(code for code in ctx.i18n.available if code != primary)
    rows = language_buttons(PickSecondLanguage, others, mark=second)
    none = PickSecondLanguage(None).pack()
    rows.append([Button(("• " if second is None else "") + _("No second language"), none)])
    return Reply(text, tuple(tuple(r) for r in rows), replace=True)


async def language(ctx: Context) -> Reply:
    """/language: choose the language again, then an optional second one."""
    text = fmt(_("Please choose your language:"))
    rows = language_buttons(PickLanguage, ctx.i18n.available, mark=ctx.me.locale)
    return Reply(text, tuple(tuple(r) for r in rows))


async def on_second_language(ctx: Context, press: PickSecondLanguage) -> Reply:
    """The second language picked, or none."""
    raw = None if press.code is None else shipped(ctx.i18n.available, press.code)
    second = None if raw == ctx.me.locale else raw
    user = await ctx.services.users.set_second_language(ctx.me.id, second)
    with i18n.use(ctx.i18n.lang(user.locale, user.second_locale)):
        if second is None:
            message = fmt(
                _("Done. I will use only {language}."), language=language_name(user.locale)
            )
        else:
            message = fmt(
                _("Done. Your second language is {language}."), language=language_name(second)
            )
        hint = fmt(_("/topics chooses what you hear about, /events shows what is coming up."))
        return Reply(join([message, hint], "\n\n"), replace=True, toast=plain(message))


async def on_privacy(ctx: Context, press: Consent | ConsentThenAnswer) -> list[Reply]:
    """The answer to the privacy notice: agreeing stores the person (and the answer to an
    event that asked for it), declining stores nothing."""
    code = shipped(ctx.i18n.available, press.code)
    waiting = (
        AnswerEvent(press.event, press.answer, press.back)
        if isinstance(press, ConsentThenAnswer)
        else None
    )
    with i18n.use(ctx.i18n.lang(code)):
        if press.choice == "n":
            lines = [fmt(_("Your answer to the event was not saved."))] if waiting else []
            lines.append(
                fmt(
                    _(
                        "All right, I have stored nothing about you. You can still look at "
                        "events with /events, and start again at any time with /start."
                    )
                )
            )
            return [Reply(join(lines, "\n\n"), replace=True, toast=_("Nothing stored."))]
        sender = ctx.incoming.sender
        ctx.user = await ctx.services.users.register(
            sender.platform, sender.user_id, ctx.incoming.chat.chat_id, code
        )
        thanks = Reply(
            fmt(_("Thank you! Now choose the topics you want to hear about.")),
            replace=waiting is None,
            toast=_("Saved."),
        )
        if waiting is None:
            return [thanks, await topics.topics_reply(ctx)]
        # The answer that asked for the agreement, recorded in this same unit of work.
        try:
            answered = await events.on_answer(ctx, waiting)
        except StaleButton:  # the event is gone: the agreement still counts
            answered = Reply(fmt(_("That event no longer exists, so there is no answer to save.")))
        return [replace(answered, replace=True), thanks, await topics.topics_reply(ctx)]


async def privacy(ctx: Context) -> Reply:
    """/privacy: the notice again; people who have not agreed yet can agree here (in a
    private chat: a group gets the notice alone, the same for everyone)."""
    if ctx.user is not None or not ctx.incoming.chat.private:
        return Reply(privacy_notice(ctx.settings))
    return await consent_prompt(ctx)


async def consent_prompt(ctx: Context) -> Reply:
    """Asked just in time (only ever in a private chat): when someone who has not agreed wants
    to store something."""
    waiting = _pressed_answer(ctx)
    text = join(
        [
            fmt(_("For this I need to store a few things about you.")),
            privacy_notice(ctx.settings),
            fmt(_("Do you agree? Then I save your answer to the event right away."))
            if waiting
            else fmt(_("Do you agree?")),
        ],
        "\n\n",
    )
    return Reply(text, _consent_buttons(ctx.lang.code, waiting))


def _pressed_answer(ctx: Context) -> AnswerEvent | None:
    """The answer to an event that was pressed, if that is what needs the agreement."""
    data = ctx.incoming.button
    if data is None:
        return None
    try:
        return AnswerEvent.unpack(data)
    except StaleButton:
        return None  # another kind of button
