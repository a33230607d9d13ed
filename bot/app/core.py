"""Wiring: settings → database → services → registry → dispatcher and delivery worker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.app.settings import Settings
from bot.core.conversations import Conversations
from bot.core.dispatcher import Dispatcher
from bot.delivery.worker import DeliveryWorker
from bot.i18n import I18n
from bot.services import Clock, Services, system_clock
from handlers import build_registry
from storage.db import Database, migrate


@dataclass
class Core:
    """The transport-neutral bot. Transports hold a reference to it, never the reverse."""

    settings: Settings
    db: Database
    i18n: I18n
    services: Services
    dispatcher: Dispatcher
    delivery: DeliveryWorker

    @classmethod
    async def create(
        cls, settings: Settings, *, clock: Clock = system_clock, run_migrations: bool = True
    ) -> Core:
        if run_migrations:
            await migrate(settings.database_url)
        i18n = I18n(settings.locales_dir, settings.default_language)
        db = Database(settings.database_url)
        services = Services.build(db, settings, clock)
        registry = build_registry()
        conversations = Conversations(
            registry.wizards, timedelta(minutes=settings.conversation_minutes), clock
        )
        dispatcher = Dispatcher(registry, services, i18n, settings, conversations)
        delivery = DeliveryWorker(
            services,
            i18n,
            settings,
            registry.notices,
            shared=frozenset(registry.shared_notices),
            priority=dispatcher.priority,
        )
        dispatcher.after_each(delivery.wake)
        # Jobs (machine translation) run first in each round: the notices they queue go out in it.
        delivery.before_round.append(services.jobs.run_due)

        async def report_finished_broadcasts() -> None:
            if await services.broadcasts.finish_done():
                delivery.wake()

        delivery.after_round.append(report_finished_broadcasts)
        return cls(settings, db, i18n, services, dispatcher, delivery)

    async def recover(self) -> None:
        """After a crash: messages in flight become unknown, jobs that were running run again."""
        await self.delivery.recover()
        await self.services.jobs.recover()

    async def close(self) -> None:
        self.delivery.stop()
        await self.db.dispose()
