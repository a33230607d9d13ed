"""Services hold the rules; they talk to repositories, never to transports."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.app.settings import Settings
from bot.services.broadcasts import BroadcastService
from bot.services.codes import CodeKeeper
from bot.services.digests import DigestService
from bot.services.event_translation import EventTranslationJob
from bot.services.events import TRANSLATE_EVENT, EventService
from bot.services.imports import ImportService
from bot.services.interpreting import InterpreterService
from bot.services.jobs import JobQueue
from bot.services.link import LinkService
from bot.services.messages import MessageService
from bot.services.organisers import OrganiserService
from bot.services.preferences import PreferenceService
from bot.services.reminders import ReminderService
from bot.services.rsvp import RsvpService
from bot.services.seats import Seats
from bot.services.topics import TopicService
from bot.services.translation import Translator, make_translator
from bot.services.users import UserService
from storage.db import Database

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    db: Database
    users: UserService
    topics: TopicService
    events: EventService
    rsvps: RsvpService
    links: LinkService
    organisers: OrganiserService
    broadcasts: BroadcastService
    imports: ImportService
    jobs: JobQueue
    messages: MessageService
    seats: Seats
    reminders: ReminderService
    digests: DigestService
    preferences: PreferenceService
    codes: CodeKeeper
    interpreting: InterpreterService
    translator: Translator | None = None

    @classmethod
    def build(cls, db: Database, settings: Settings, clock: Clock = system_clock) -> Services:
        jobs = JobQueue(db, clock)
        seats = Seats(db, clock, settings.offer_hours)
        events = EventService(db, clock, jobs, seats)
        interpreting = InterpreterService(db, settings, clock)
        services = cls(
            db=db,
            users=UserService(db, settings, clock, seats, interpreting),
            topics=TopicService(db),
            events=events,
            rsvps=RsvpService(db, clock, seats),
            links=LinkService(db, clock, seats),
            organisers=OrganiserService(db, settings, clock),
            broadcasts=BroadcastService(db, clock),
            imports=ImportService(db, events, clock),
            jobs=jobs,
            messages=MessageService(db),
            seats=seats,
            reminders=ReminderService(db, clock),
            digests=DigestService(db, clock),
            preferences=PreferenceService(db, clock),
            codes=CodeKeeper(db, clock),
            interpreting=interpreting,
            translator=make_translator(settings.mt_backend, settings.mt_url, settings.mt_api_key),
        )
        jobs.register(TRANSLATE_EVENT, EventTranslationJob(db, lambda: services.translator, clock))
        return services
