"""Handlers: plain async functions, all registered in :func:`build_registry`."""

from __future__ import annotations

from bot.core.buttons import EventsPage
from bot.core.registry import Registry
from bot.i18n import N_
from bot.services import interpreting as interpreting_kinds
from bot.services.broadcasts import BROADCAST, REPORT
from bot.services.digests import DIGEST, NEW_EVENTS
from bot.services.events import CANCELLED, CHANGED, LINK_ADDED, NEW_EVENT
from bot.services.organisers import ROLE_REMOVED
from bot.services.reminders import REMINDER
from bot.services.seats import OFFER, OFFER_EXPIRED, OFFER_WITHDRAWN
from handlers import (
    broadcast,
    data,
    events,
    help,
    interpreting,
    link,
    manage,
    newevent,
    onboarding,
    organisers,
    reminders,
    settings,
    topics,
)
from handlers.buttons import (
    AnswerEvent,
    BroadcastProgress,
    CalendarFile,
    CancelEvent,
    Consent,
    ConsentThenAnswer,
    DeleteData,
    EditEvent,
    EventCard,
    InviteRole,
    KeepEvent,
    NeedInterpreter,
    NewRequest,
    OfferReply,
    OfferTo,
    PickLanguage,
    PickSecondLanguage,
    PoolAction,
    PoolPattern,
    PoolView,
    ReadMore,
    ReminderReply,
    RemoveRole,
    RequestAction,
    SetDigestDay,
    SetDigestHour,
    SetInterpretation,
    SetNews,
    SetQuiet,
    SetReminder,
    SettingsView,
    SetZone,
    TopicToggle,
    TopicView,
    TranslateEvent,
    WithdrawAnswer,
)


def build_registry() -> Registry:
    """Every command, alias, kind of button and notice the bot knows, in one place.

    Everything is private unless marked ``group_safe``: only what reads the same for anyone
    (the help, the privacy notice, the list of events, an event's card and file) answers in
    a group.
    """
    r = Registry()
    r.command(
        "start",
        onboarding.start,
        N_("Start, and choose your language"),
        needs_user=False,
    )
    r.command(
        "language",
        onboarding.language,
        N_("Change your language, and add a second language"),
        aliases=("lang", "sprache"),
    )
    r.command(
        "topics",
        topics.show,
        N_("Choose the topics and regions you want to hear about"),
        aliases=("themen", "subscribe"),
    )
    r.command(
        "events",
        events.list_events,
        N_("Upcoming events for your topics; “/events all” shows all of them"),
        aliases=("termine", "veranstaltungen"),
        needs_user=False,
        group_safe=True,
    )
    r.command(
        "myevents",
        events.my_events,
        N_("The events you answered, to change your answer"),
        aliases=("meine",),
    )
    r.command(
        "settings",
        settings.show,
        N_("Choose when I remind you, how new events reach you, quiet hours and time zone"),
        aliases=("einstellungen",),
    )
    r.command(
        "reminders",
        reminders.planned,
        N_("Your next reminders, and seats offered to you"),
        aliases=("erinnerungen",),
    )
    _interpreting(r)
    r.command(
        "privacy",
        onboarding.privacy,
        N_("What I store about you, and why"),
        aliases=("datenschutz",),
        needs_user=False,
        group_safe=True,
    )
    r.command(
        "mydata",
        data.my_data,
        N_("See everything I store about you, as a file too"),
    )
    r.command(
        "deletedata",
        data.delete_data,
        N_("Delete everything I store about you"),
    )
    r.command(
        "link",
        link.link,
        N_("Link your accounts on Telegram and Matrix, so they share everything"),
        needs_user=False,
    )
    # Organisers: every command is guarded (role checked, refusals audited) on every call.
    r.command(
        "newevent",
        newevent.start,
        N_("Create an event, step by step"),
        guard=organisers.require_organiser,
    )
    r.command(
        "broadcast",
        broadcast.start,
        N_("Send an announcement to everyone who follows your topics, in their languages"),
        guard=organisers.require_organiser,
    )
    r.command(
        "orgs",
        organisers.organisations,
        N_("The organisations you act for"),
        guard=organisers.require_organiser,
    )
    r.command(
        "invite",
        organisers.invite,
        N_("An invite code for a new organiser or coordinator"),
        guard=organisers.require_organiser,
    )
    r.command(
        "neworg",
        organisers.new_organisation,
        N_("Add a member organisation (umbrella admins)"),
        guard=organisers.require_admin,
    )
    r.command(
        "members",
        organisers.members,
        N_("The roles in an organisation, by number (umbrella admins)"),
        guard=organisers.require_admin,
    )
    r.command(
        "removerole",
        organisers.remove_role,
        N_("Take a role away, by its number in /members (umbrella admins)"),
        guard=organisers.require_admin,
    )
    r.command(
        "join",
        organisers.join_organisation,
        N_("Join an organisation with an invite code"),
    )
    r.command("cancel", organisers.cancel, N_("Stop what you are doing"), needs_user=False)
    for name, handler, text in (
        ("editevent", manage.edit_event, N_("Change an event; everyone who answered is told")),
        ("cancelevent", manage.cancel_event, N_("Cancel an event; everyone who answered is told")),
        ("translate", manage.translate, N_("Add an event's title and description in a language")),
        ("attendees", manage.attendees, N_("The answers to an event, as a CSV file")),
        ("report", manage.report, N_("A report for funders, per event, as a CSV file")),
    ):
        r.command(name, handler, text, guard=organisers.require_organiser)
    r.command("calendar", manage.my_calendar, N_("All events you go to, as one calendar file"))
    r.command(
        "help",
        help.show,
        N_("Show this help"),
        aliases=("hilfe",),
        needs_user=False,
        group_safe=True,
    )

    _buttons(r)
    # Guided conversations: their steps' buttons are guarded like the commands that start them.
    for wizard in (newevent.WIZARD, manage.EDIT_WIZARD, manage.TRANSLATE_WIZARD, broadcast.WIZARD):
        r.wizard(wizard, guard=organisers.require_organiser)

    r.notice(events.PROMOTED, events.render_promoted)
    r.notice(events.DEMOTED, events.render_demoted)
    r.notice(LINK_ADDED, events.render_link)
    r.notice(NEW_EVENT, events.render_new_event)
    r.notice(CHANGED, manage.render_changed)
    r.notice(CANCELLED, manage.render_cancelled, shared=True)
    r.notice(BROADCAST, broadcast.render_broadcast, shared=True)
    r.notice(REPORT, broadcast.render_report)
    r.notice(ROLE_REMOVED, organisers.render_role_removed)
    r.notice(REMINDER, reminders.render_reminder)
    r.notice(OFFER, reminders.render_offer)
    r.notice(OFFER_EXPIRED, reminders.render_offer_expired)
    r.notice(OFFER_WITHDRAWN, reminders.render_offer_withdrawn)
    r.notice(NEW_EVENTS, reminders.render_new_events)
    r.notice(DIGEST, reminders.render_digest)
    r.fallback = help.unknown
    r.consent_prompt = onboarding.consent_prompt
    return r


def _interpreting(r: Registry) -> None:
    """Interpreter requests: people ask, interpreters take, coordinators place and vet."""
    r.command(
        "interpreter",
        interpreting.interpreter,
        N_("Ask for an interpreter for an event or an appointment, and see your requests"),
        aliases=("dolmetscher", "sprachmittlung"),
    )
    r.command(
        "interpreter_register",
        interpreting.register,
        N_("Register as an interpreter with an organisation"),
    )
    r.command(
        "requests",
        interpreting.requests,
        N_("Requests for an interpreter you can take or place (interpreters, coordinators)"),
        aliases=("anfragen",),
    )
    r.command(
        "interpreters",
        interpreting.pool,
        N_("Verify, pause or remove interpreters; how requests are placed (coordinators)"),
        guard=organisers.require_coordinator,
    )
    for wizard in (interpreting.WIZARD, interpreting.REGISTER_WIZARD, interpreting.RELAY_WIZARD):
        r.wizard(wizard)
    r.notice(interpreting_kinds.TO_REQUESTER, interpreting.render_to_requester)
    r.notice(interpreting_kinds.TO_INTERPRETER, interpreting.render_to_interpreter)
    r.notice(interpreting_kinds.TO_COORDINATOR, interpreting.render_to_coordinator)
    r.notice(interpreting_kinds.TO_ORGANISER, interpreting.render_to_organiser)
    r.notice(interpreting_kinds.REMINDER, interpreting.render_reminder)
    r.notice(interpreting_kinds.RELAY, interpreting.render_relay)
    r.notice(interpreting_kinds.POOL, interpreting.render_pool)


def _buttons(r: Registry) -> None:
    """Every kind of button with its handler (the kinds are declared in handlers/buttons.py)."""
    r.button(PickLanguage, onboarding.on_language, needs_user=False)
    r.button(PickSecondLanguage, onboarding.on_second_language)
    r.button(Consent, onboarding.on_privacy, needs_user=False)
    r.button(ConsentThenAnswer, onboarding.on_privacy, needs_user=False)
    r.button(TopicView, topics.on_view)
    r.button(TopicToggle, topics.on_toggle)
    r.button(EventsPage, events.on_page, needs_user=False, group_safe=True)
    r.button(EventCard, events.on_card, needs_user=False, group_safe=True)
    r.button(ReadMore, events.on_more, needs_user=False, group_safe=True)
    r.button(AnswerEvent, events.on_answer)
    r.button(WithdrawAnswer, events.on_withdraw)
    r.button(CalendarFile, manage.on_calendar_press, needs_user=False, group_safe=True)
    r.button(DeleteData, data.on_delete)
    r.button(ReminderReply, reminders.on_reminder_reply)
    r.button(OfferReply, reminders.on_offer_reply)
    r.button(SettingsView, settings.on_view)
    r.button(SetReminder, settings.on_reminder)
    r.button(SetNews, settings.on_news)
    r.button(SetDigestHour, settings.on_digest_hour)
    r.button(SetDigestDay, settings.on_digest_day)
    r.button(SetQuiet, settings.on_quiet)
    r.button(SetZone, settings.on_zone)
    r.button(NeedInterpreter, interpreting.on_need)
    r.button(NewRequest, interpreting.on_new)
    r.button(RequestAction, interpreting.on_action)
    # Coordinators: the guard lets coordinators through; each press checks the organisation.
    coordinator = organisers.require_coordinator
    r.button(OfferTo, interpreting.on_offer_to, guard=coordinator)
    r.button(PoolView, interpreting.on_pool_view, guard=coordinator)
    r.button(PoolAction, interpreting.on_pool_action, guard=coordinator)
    r.button(PoolPattern, interpreting.on_pool_pattern, guard=coordinator)
    # Organisers: every press is guarded (role checked, refusals audited), like the commands.
    organiser = organisers.require_organiser
    r.button(EditEvent, manage.on_edit_press, guard=organiser)
    r.button(CancelEvent, manage.on_cancel_press, guard=organiser)
    r.button(KeepEvent, manage.on_keep_press, guard=organiser)
    r.button(SetInterpretation, manage.on_interpretation_press, guard=organiser)
    r.button(TranslateEvent, manage.on_translate_press, guard=organiser)
    r.button(BroadcastProgress, broadcast.on_progress, guard=organiser)
    r.button(InviteRole, organisers.on_invite_press, guard=organiser)
    r.button(RemoveRole, organisers.on_remove_press, guard=organisers.require_admin)
