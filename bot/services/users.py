"""People: registration after consent, languages, export and deletion of their data."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.app.settings import Settings
from bot.services.interpreting import InterpreterService
from bot.services.seats import Seats
from storage.db import Database
from storage.records import UserRecord
from storage.repositories import OfferRepository, RsvpRepository, UserRepository

# Raise when the privacy notice changes in substance; people are asked again.
CONSENT_VERSION = 1
# Before consent, a picked language is kept only in memory, briefly, and never written down.
PENDING_LANGUAGE_SECONDS = 30 * 60
PENDING_LANGUAGE_MAX = 10_000


class PendingLanguages:
    """The language a not-yet-registered person picked: in memory only, for a short while."""

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self.clock = clock
        self._entries: OrderedDict[tuple[str, str], tuple[str, datetime]] = OrderedDict()

    def remember(self, platform: str, platform_user_id: str, locale: str) -> None:
        key = (platform, platform_user_id)
        self._entries.pop(key, None)
        self._entries[key] = (locale, self.clock() + timedelta(seconds=PENDING_LANGUAGE_SECONDS))
        while len(self._entries) > PENDING_LANGUAGE_MAX:
            self._entries.popitem(last=False)

    def get(self, platform: str, platform_user_id: str) -> str | None:
        entry = self._entries.get((platform, platform_user_id))
        if entry is None:
            return None
        if entry[1] < self.clock():
            del self._entries[(platform, platform_user_id)]
            return None
        return entry[0]

    def forget(self, platform: str, platform_user_id: str) -> None:
        self._entries.pop((platform, platform_user_id), None)


class UserService:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        clock: Callable[[], datetime],
        seats: Seats,
        interpreting: InterpreterService,
    ) -> None:
        self.db = db
        self.seats = seats
        self.interpreting = interpreting
        self.settings = settings
        self.clock = clock
        self.pending = PendingLanguages(clock)

    async def find(
        self, platform: str, platform_user_id: str, private_chat: str | None = None
    ) -> UserRecord | None:
        """The person behind a messenger account, if they ever accepted the privacy notice.

        ``private_chat``: the direct chat this came from; notices go to the newest one (a
        person can open a new direct chat on Matrix), and an account marked unreachable is
        reachable again. Kept in the same transaction.
        """
        async with self.db.transaction() as s:
            repo = UserRepository(s)
            account = await repo.by_account(platform, platform_user_id)
            user = account.user if account is not None else None
            if (
                account is not None
                and private_chat is not None
                and (account.chat_id != private_chat or not account.active)
            ):
                await repo.reached(platform, platform_user_id, private_chat)
        if user is not None and user.consent_version < CONSENT_VERSION:
            return None
        return user

    async def register(
        self, platform: str, platform_user_id: str, chat_id: str | None, locale: str
    ) -> UserRecord:
        """Store a person who accepted the privacy notice; accepting again is harmless."""
        self.pending.forget(platform, platform_user_id)
        async with self.db.transaction() as s:
            repo = UserRepository(s)
            existing = await repo.by_account(platform, platform_user_id)
            if existing is not None:
                return await repo.update(
                    existing.user.id,
                    locale=locale,
                    consent_version=CONSENT_VERSION,
                    consent_at=self.clock(),
                )
            return await repo.create(
                platform=platform,
                platform_user_id=platform_user_id,
                chat_id=chat_id,
                locale=locale,
                timezone=self.settings.timezone,
                consent_version=CONSENT_VERSION,
                consent_at=self.clock(),
                quiet_hours=self.settings.quiet_hours,
            )

    async def set_language(self, user_id: int, locale: str) -> UserRecord:
        async with self.db.transaction() as s:
            repo = UserRepository(s)
            user = await repo.get(user_id)
            second = user.second_locale if user and user.second_locale != locale else None
            return await repo.update(user_id, locale=locale, second_locale=second)

    async def set_second_language(self, user_id: int, locale: str | None) -> UserRecord:
        async with self.db.transaction() as s:
            return await UserRepository(s).update(user_id, second_locale=locale)

    async def export(self, user_id: int) -> dict[str, Any]:
        async with self.db.transaction() as s:
            return await UserRepository(s).export(user_id)

    async def delete(self, user_id: int) -> None:
        """Forget the person completely; their seats go to the next people waiting."""
        async with self.db.transaction() as s:
            held = [o.event_id for o in await OfferRepository(s).open_of_user(user_id)]
            for event_id in sorted({*await RsvpRepository(s).event_ids_going(user_id), *held}):
                await self.seats.leave(s, event_id, user_id)
            await self.interpreting.forget(s, user_id)
            await UserRepository(s).delete(user_id)
