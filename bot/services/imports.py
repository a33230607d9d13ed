"""Events from the organisations' own websites (iCalendar files and feeds), by their UID.

Importing the same file twice changes nothing; a changed event is updated and the people who
answered are told; a cancelled one is cancelled. A broken file imports nothing of it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import httpx

from bot.calendar.ical import IcalError, ImportedEvent, parse_calendar
from bot.i18n import TIER1
from bot.services import reminders
from bot.services.digests import announce
from bot.services.events import CHANGED, EventService, cancel_event, tell_attendees
from bot.services.interpreting import offers_interpretation, on_event_changed
from storage.db import Database
from storage.records import TextRecord
from storage.repositories import CatalogRepository, EventRepository, OrganiserRepository

log = logging.getLogger(__name__)

MAX_FEED_BYTES = 2_000_000
# What an organisation's events are when its feed does not say: German notices for all Saxony.
DEFAULT_LANGUAGE = "de"
DEFAULT_CATEGORY = "networking"
DEFAULT_REGION = "saxony"


class FeedSettingError(ValueError):
    """A feed setting names a language, topic or region that does not exist."""


@dataclass(frozen=True)
class FeedSettings:
    """What an organisation's feed holds: the language of its texts, its topic and region
    (slugs); None leaves a setting as it is."""

    language: str | None = None
    category: str | None = None
    region: str | None = None


@dataclass(frozen=True)
class ImportResult:
    added: int = 0
    updated: int = 0
    cancelled: int = 0
    unchanged: int = 0


class ImportService:
    def __init__(self, db: Database, events: EventService, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.events = events
        self.clock = clock

    async def fetch(self, url: str) -> bytes:
        """A feed's bytes, refusing anything too large to be a calendar."""
        if not url.lower().startswith(("https://", "http://")):
            raise IcalError("the feed address must start with https://")
        async with (
            httpx.AsyncClient(timeout=20, follow_redirects=True) as client,
            client.stream("GET", url) as response,
        ):
            if response.status_code != 200:
                raise IcalError(f"the feed answered HTTP {response.status_code}")
            data = b""
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > MAX_FEED_BYTES:
                    raise IcalError("the feed is larger than 2 MB")
        return data

    async def describe_feed(self, organisation_id: int, feed: FeedSettings) -> None:
        """Store what the organisation's feed holds; an unknown setting changes nothing."""
        if feed.language is not None and feed.language not in TIER1:
            raise FeedSettingError(
                f"unknown language {feed.language!r} (one of: {', '.join(TIER1)})"
            )
        async with self.db.transaction() as s:
            catalog = CatalogRepository(s)
            category_id = region_id = None
            if feed.category is not None:
                category_id = await catalog.category_id(feed.category)
                if category_id is None:
                    raise FeedSettingError(f"unknown category {feed.category!r}")
            if feed.region is not None:
                region_id = await catalog.region_id(feed.region)
                if region_id is None:
                    raise FeedSettingError(f"unknown region {feed.region!r}")
            await OrganiserRepository(s).describe_feed(
                organisation_id,
                language=feed.language,
                category_id=category_id,
                region_id=region_id,
            )

    async def import_calendar(
        self,
        data: bytes,
        organisation_id: int,
        *,
        category: str | None = None,
        region: str | None = None,
        locale: str | None = None,
    ) -> ImportResult:
        """Create or update the organisation's events from an iCalendar file, by UID.

        Their topic, region and language are the ones given, else the ones set for the
        organisation's feed, else German notices about networking for all of Saxony."""
        # Parsing a large file takes seconds: off the loop. IcalError means nothing is imported.
        parsed = await asyncio.to_thread(parse_calendar, data, now=self.clock())
        added = updated = cancelled = unchanged = 0
        now = self.clock()
        fresh: list[tuple[int, int, int]] = []
        timed: list[tuple[int, datetime, str]] = []  # events whose reminders are planned
        async with self.db.transaction() as s:
            catalog, events = CatalogRepository(s), EventRepository(s)
            organisation = await OrganiserRepository(s).organisation(organisation_id)
            if organisation is None:
                raise IcalError(f"no organisation {organisation_id}")
            category_id = await _choice(
                catalog.category_id, category, organisation.feed_category_id, DEFAULT_CATEGORY
            )
            region_id = await _choice(
                catalog.region_id, region, organisation.feed_region_id, DEFAULT_REGION
            )
            if category_id is None or region_id is None:
                raise IcalError(f"unknown category {category!r} or region {region!r}")
            locale = locale or organisation.feed_language or DEFAULT_LANGUAGE
            known = await events.by_uids(organisation_id, [item.uid for item in parsed])
            for item in parsed:
                existing = known.get(item.uid)
                if existing is None:
                    if item.cancelled:
                        continue
                    event_id = await events.add(
                        organisation_id=organisation_id,
                        category_id=category_id,
                        region_id=region_id,
                        starts_at=item.starts_at,
                        ends_at=item.ends_at,
                        texts=[TextRecord(locale, item.title[:300], item.description)],
                        place=item.place,
                        online_url=item.url,
                        uid=item.uid,
                        timezone=item.timezone,
                        interpretation=offers_interpretation(f"{item.title}\n{item.description}"),
                    )
                    await events.change(event_id, source="ical", content_hash=item.fingerprint)
                    timed.append((event_id, item.starts_at, item.timezone))
                    fresh.append((event_id, category_id, region_id))
                    added += 1
                    continue
                if item.cancelled:
                    if existing.status != "cancelled":
                        await cancel_event(s, existing.id, self.events.seats, now)
                        cancelled += 1
                    else:
                        unchanged += 1
                    continue
                if existing.content_hash == item.fingerprint:
                    unchanged += 1
                    continue
                changed = await self._update(events, existing.id, item, locale)
                await events.change(existing.id, content_hash=item.fingerprint)
                if {"starts_at", "timezone", "status"} & set(changed):
                    timed.append((existing.id, item.starts_at, item.timezone))
                if changed:
                    ref = f"{existing.id}:{item.fingerprint[:12]}"
                    await tell_attendees(s, existing.id, CHANGED, ref, changed, now=now)
                    await on_event_changed(s, existing.id, changed, now)
                updated += 1
            await reminders.plan_all(s, timed, now)
            # Every new event of the file in one message per follower, not one each.
            await announce(s, fresh, now)
        return ImportResult(added, updated, cancelled, unchanged)

    @staticmethod
    async def _update(
        events: EventRepository, event_id: int, item: ImportedEvent, locale: str
    ) -> list[str]:
        changed = await events.change(
            event_id,
            starts_at=item.starts_at,
            ends_at=item.ends_at,
            place=item.place,
            online_url=item.url,
            timezone=item.timezone,
            status="published",
        )
        changed += await events.set_text(event_id, locale, item.title[:300], item.description)
        if {"title", "description"} & set(changed):
            # A new text says anew whether interpretation is offered (an organiser's own
            # choice in /editevent stays until then); nobody is told of that alone.
            text = f"{item.title}\n{item.description}"
            await events.change(event_id, interpretation=offers_interpretation(text))
        return changed


async def _choice(
    lookup: Callable[[str], Awaitable[int | None]],
    given: str | None,
    of_feed: int | None,
    default: str,
) -> int | None:
    """The id of the slug given, else the feed's setting, else the default's."""
    if given is not None:
        return await lookup(given)
    if of_feed is not None:
        return of_feed
    return await lookup(default)
