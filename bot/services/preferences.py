"""A person's notification settings: reminders, how new events reach them, quiet hours and
their time zone (``/settings``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.services.digests import NEW_EVENTS, flush, next_digest
from bot.services.notify import zone
from bot.services.reminders import CHOICES
from storage.db import Database
from storage.records import UserRecord
from storage.repositories import DigestRepository, UserRepository

DIGEST_HOURS = (7, 8, 12, 17, 18, 20)
# Quiet hours people can choose: (from, until) o'clock; (None, None) for none.
QUIET_CHOICES: tuple[tuple[int | None, int | None], ...] = (
    (None, None),
    (21, 7),
    (22, 8),
    (23, 9),
)
# Time zones offered by button, besides the bot's own: where many readers come from.
ZONE_CHOICES = (
    "Europe/Berlin",
    "Europe/Kyiv",
    "Europe/Moscow",
    "Europe/Istanbul",
    "Asia/Damascus",
    "Asia/Tehran",
    "Asia/Kabul",
    "Europe/London",
)


def quiet_choices(default: tuple[int, int] | None) -> tuple[tuple[int | None, int | None], ...]:
    """The quiet hours on offer: the usual ones, and the operator's default if it is another."""
    if default is None or default in QUIET_CHOICES:
        return QUIET_CHOICES
    return (*QUIET_CHOICES, default)


def zone_choices(default: str) -> tuple[str, ...]:
    """The time zones on offer: the bot's own first, then where many readers come from."""
    return (default, *(name for name in ZONE_CHOICES if name != default))


class PreferenceService:
    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock

    async def set_reminders(self, user_id: int, minutes: int, on: bool) -> UserRecord:
        """Turn one reminder offset on or off (the button says which)."""
        if minutes not in CHOICES:
            raise ValueError(minutes)
        async with self.db.transaction() as s:
            users = UserRepository(s)
            user = await users.get(user_id)
            if user is None:
                raise LookupError(user_id)
            chosen = set(user.reminder_minutes) - {minutes} | ({minutes} if on else set())
            return await users.update(user_id, reminder_minutes=_stored(chosen))

    async def no_reminders(self, user_id: int) -> UserRecord:
        async with self.db.transaction() as s:
            return await UserRepository(s).update(user_id, reminder_minutes="")

    async def set_news(self, user_id: int, **values: Any) -> UserRecord:
        """How new events reach the person (``news_mode``, ``digest_hour``,
        ``digest_weekday``); the next digest is planned anew. Back to "at once", what the
        digest kept comes now, as one message."""
        async with self.db.transaction() as s:
            users = UserRepository(s)
            user = await users.update(user_id, **values)
            now = self.clock()
            await DigestRepository(s).set_next(user_id, next_digest(user, now))
            if user.news_mode == "instant":
                await flush(s, user, now, kind=NEW_EVENTS)
            return user

    async def set_quiet(self, user_id: int, start: int | None, end: int | None) -> UserRecord:
        """Quiet hours from ``start`` to ``end`` o'clock, or none (both None)."""
        hours = (start, end)
        none = hours == (None, None)
        if not none and (start is None or end is None or start == end):
            raise ValueError(hours)
        async with self.db.transaction() as s:
            return await UserRepository(s).update(user_id, quiet_from=start, quiet_until=end)

    async def set_timezone(self, user_id: int, name: str) -> UserRecord:
        """A new time zone; the next digest follows it."""
        if zone(name).key != name:
            raise ValueError(name)
        async with self.db.transaction() as s:
            users = UserRepository(s)
            user = await users.update(user_id, timezone=name)
            await DigestRepository(s).set_next(user_id, next_digest(user, self.clock()))
            return user


def _stored(minutes: set[int]) -> str:
    return ",".join(str(m) for m in sorted(minutes, reverse=True))
