"""Events with their texts in several languages, and the numbers of answers."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Category, Event, EventText, Organisation, Region, Rsvp, User
from storage.records import Counts, EventRecord, EventReportRecord, EventSourceRecord, TextRecord

_COLUMNS = (Event, Organisation.name, Category.slug, Region.slug)
ATTENDING = ("going", "maybe", "waitlisted")
# UIDs per IN list: well below the number of parameters SQLite and asyncpg allow.
UID_CHUNK = 1000


def _base() -> Select[Event, str, str, str]:
    return (
        select(*_COLUMNS)
        .join(Organisation, Organisation.id == Event.organisation_id)
        .join(Category, Category.id == Event.category_id)
        .join(Region, Region.id == Event.region_id)
    )


class EventRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _texts(self, event_ids: Collection[int]) -> dict[int, dict[str, TextRecord]]:
        texts: dict[int, dict[str, TextRecord]] = {i: {} for i in event_ids}
        if not event_ids:
            return texts
        rows = await self.session.scalars(
            select(EventText).where(EventText.event_id.in_(event_ids))
        )
        for t in rows:
            texts[t.event_id][t.locale] = TextRecord(
                t.locale, t.title, t.description, t.machine_translated
            )
        return texts

    async def _records(self, rows: Iterable[tuple[Event, str, str, str]]) -> list[EventRecord]:
        rows = list(rows)
        texts = await self._texts([e.id for e, *_ in rows])
        return [
            EventRecord(
                id=e.id,
                organisation_name=org,
                category=cat,
                region=reg,
                starts_at=e.starts_at,
                ends_at=e.ends_at,
                timezone=e.timezone,
                place=e.place,
                online_url=e.online_url,
                capacity=e.capacity,
                registration_deadline=e.registration_deadline,
                status=e.status,
                texts=texts[e.id],
                organisation_id=e.organisation_id,
                uid=e.uid,
                interpretation=e.interpretation,
            )
            for e, org, cat, reg in rows
        ]

    async def get(self, event_id: int, *, lock: bool = False) -> EventRecord | None:
        """One event; ``lock`` serialises answers to it (row lock on PostgreSQL)."""
        query = _base().where(Event.id == event_id)
        if lock:
            query = query.with_for_update(of=Event)
        rows = (await self.session.execute(query)).all()
        records = await self._records(rows)
        return records[0] if records else None

    async def upcoming(
        self,
        now: datetime,
        *,
        category_ids: Collection[int] | None = None,
        region_ids: Collection[int] | None = None,
        offset: int = 0,
        limit: int = 3,
    ) -> tuple[list[EventRecord], int]:
        """Published events not yet over, soonest first, optionally filtered; and their total."""
        condition = [
            Event.status == "published",
            func.coalesce(Event.ends_at, Event.starts_at) >= now,
        ]
        if category_ids is not None:
            condition.append(Event.category_id.in_(category_ids))
        if region_ids is not None:
            condition.append(Event.region_id.in_(region_ids))
        total = await self.session.scalar(select(func.count(Event.id)).where(*condition)) or 0
        query = (
            _base()
            .where(*condition)
            .order_by(Event.starts_at, Event.id)
            .offset(offset)
            .limit(limit)
        )
        rows = (await self.session.execute(query)).all()
        return await self._records(rows), total

    async def counts(self, event_ids: Collection[int]) -> dict[int, Counts]:
        if not event_ids:
            return {}
        return await self._counts(Rsvp.event_id.in_(event_ids), event_ids)

    async def _counts(
        self, which: ColumnElement[bool], event_ids: Collection[int]
    ) -> dict[int, Counts]:
        """Answers per status of the events ``which`` selects, one query for all of them."""
        rows = await self.session.execute(
            select(Rsvp.event_id, Rsvp.status, func.count())
            .where(which)
            .group_by(Rsvp.event_id, Rsvp.status)
        )
        tallies: dict[int, dict[str, int]] = {i: {} for i in event_ids}
        for event_id, status, n in rows:
            if event_id in tallies:  # an event added since ``event_ids`` were read is not asked
                tallies[event_id][status] = n
        return {
            event_id: Counts(
                going=tally.get("going", 0),
                maybe=tally.get("maybe", 0),
                not_going=tally.get("not_going", 0),
                waitlisted=tally.get("waitlisted", 0),
            )
            for event_id, tally in tallies.items()
        }

    async def report(
        self, organisation_ids: Collection[int], first: datetime, last: datetime
    ) -> list[EventReportRecord]:
        """The organisations' events starting in [first, last], soonest first: answers per
        status and the languages of those going, maybe going or waiting. Four queries."""
        chosen = (
            Event.organisation_id.in_(organisation_ids),
            Event.starts_at >= first,
            Event.starts_at <= last,
        )
        events = (
            await self.session.execute(
                select(Event.id, Event.organisation_id, Event.starts_at)
                .where(*chosen)
                .order_by(Event.starts_at, Event.id)
            )
        ).all()
        if not events:
            return []
        in_period = Rsvp.event_id.in_(select(Event.id).where(*chosen))
        counts = await self._counts(in_period, [e.id for e in events])
        languages: dict[int, dict[str, int]] = {e.id: {} for e in events}
        for event_id, locale, n in await self.session.execute(
            select(Rsvp.event_id, User.locale, func.count())
            .join(User, User.id == Rsvp.user_id)
            .where(in_period, Rsvp.status.in_(ATTENDING))
            .group_by(Rsvp.event_id, User.locale)
        ):
            if event_id in languages:
                languages[event_id][locale] = n
        # The title in the first language by code: the same one every time.
        titles: dict[int, str] = {}
        for event_id, title in await self.session.execute(
            select(EventText.event_id, EventText.title)
            .where(EventText.event_id.in_(select(Event.id).where(*chosen)))
            .order_by(EventText.event_id, EventText.locale)
        ):
            titles.setdefault(event_id, title)
        return [
            EventReportRecord(
                event_id=e.id,
                organisation_id=e.organisation_id,
                title=titles.get(e.id, ""),
                starts_at=e.starts_at,
                counts=counts[e.id],
                languages=languages[e.id],
            )
            for e in events
        ]

    async def count(self) -> int:
        return await self.session.scalar(select(func.count(Event.id))) or 0

    async def add(
        self,
        *,
        organisation_id: int,
        category_id: int,
        region_id: int,
        starts_at: datetime,
        ends_at: datetime | None,
        texts: Iterable[TextRecord],
        place: str | None = None,
        online_url: str | None = None,
        capacity: int | None = None,
        registration_deadline: datetime | None = None,
        uid: str | None = None,
        timezone: str = "Europe/Berlin",
        interpretation: bool = False,
    ) -> int:
        event = Event(
            organisation_id=organisation_id,
            category_id=category_id,
            region_id=region_id,
            uid=uid,
            starts_at=starts_at,
            ends_at=ends_at,
            timezone=timezone,
            place=place,
            online_url=online_url,
            capacity=capacity,
            registration_deadline=registration_deadline,
            status="published",
            interpretation=interpretation,
        )
        self.session.add(event)
        await self.session.flush()
        for text in texts:
            self.session.add(
                EventText(
                    event_id=event.id,
                    locale=text.locale,
                    title=text.title,
                    description=text.description,
                    machine_translated=text.machine_translated,
                )
            )
        await self.session.flush()
        return event.id

    async def change(self, event_id: int, **values: object) -> list[str]:
        """Set fields of an event; returns the names of those that really changed."""
        row = await self.session.get(Event, event_id)
        if row is None:
            raise LookupError(event_id)
        changed = []
        for key, value in values.items():
            if getattr(row, key) != value:
                setattr(row, key, value)
                changed.append(key)
        await self.session.flush()
        return changed

    async def set_text(
        self, event_id: int, locale: str, title: str, description: str, machine: bool = False
    ) -> list[str]:
        row = await self.session.get(EventText, (event_id, locale))
        if row is None:
            self.session.add(
                EventText(
                    event_id=event_id,
                    locale=locale,
                    title=title,
                    description=description,
                    machine_translated=machine,
                )
            )
            await self.session.flush()
            return ["title", "description"]
        changed = [
            k for k, v in (("title", title), ("description", description)) if getattr(row, k) != v
        ]
        row.title, row.description, row.machine_translated = title, description, machine
        await self.session.flush()
        return changed

    async def attendees(self, event_id: int) -> list[int]:
        """Everyone who answered going or maybe, or is waiting: they hear of changes."""
        rows = await self.session.scalars(
            select(Rsvp.user_id).where(Rsvp.event_id == event_id, Rsvp.status.in_(ATTENDING))
        )
        return list(rows)

    async def by_uid(self, organisation_id: int, uid: str) -> EventSourceRecord | None:
        return (await self.by_uids(organisation_id, [uid])).get(uid)

    async def by_uids(
        self, organisation_id: int, uids: Collection[str]
    ) -> dict[str, EventSourceRecord]:
        """The organisation's events with these UIDs, by UID, in one query per thousand."""
        found: dict[str, EventSourceRecord] = {}
        wanted = sorted(set(uids))
        for start in range(0, len(wanted), UID_CHUNK):
            rows = await self.session.execute(
                select(Event.id, Event.uid, Event.status, Event.content_hash).where(
                    Event.organisation_id == organisation_id,
                    Event.uid.in_(wanted[start : start + UID_CHUNK]),
                )
            )
            for event_id, uid, status, content_hash in rows:
                if uid is not None:
                    found[uid] = EventSourceRecord(event_id, uid, status, content_hash)
        return found
