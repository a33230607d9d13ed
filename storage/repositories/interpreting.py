"""Interpreters in organisations' pools, and the requests for them."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Event,
    Interpreter,
    InterpreterRequest,
    Membership,
    Organisation,
    OutboxMessage,
)
from storage.records import (
    OPEN_REQUEST,
    InterpreterRecord,
    InterpreterRequestRecord,
)

LIVE = (*sorted(OPEN_REQUEST), "confirmed")


def _interpreter(row: Interpreter) -> InterpreterRecord:
    return InterpreterRecord(
        id=row.id,
        organisation_id=row.organisation_id,
        user_id=row.user_id,
        name=row.name,
        languages=tuple(row.languages or ()),
        gender=row.gender,
        status=row.status,
        created_at=row.created_at,
    )


def _request(row: InterpreterRequest, organisation: str) -> InterpreterRequestRecord:
    return InterpreterRequestRecord(
        id=row.id,
        organisation_id=row.organisation_id,
        organisation_name=organisation,
        event_id=row.event_id,
        user_id=row.user_id,
        language=row.language,
        variety=row.variety,
        mode=row.mode,
        gender=row.gender,
        topic=row.topic,
        starts_at=row.starts_at,
        duration_minutes=row.duration_minutes,
        pseudonym=row.pseudonym,
        status=row.status,
        interpreter_id=row.interpreter_id,
        cancelled_by=row.cancelled_by,
        version=row.version,
        reminded=row.reminded,
        created_at=row.created_at,
    )


class InterpreterRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # -- the pool ---------------------------------------------------------------------------

    async def register(
        self,
        organisation_id: int,
        user_id: int,
        *,
        name: str,
        languages: list[str],
        gender: str,
        now: datetime,
    ) -> tuple[int, bool]:
        """Add the person to the pool, or change their languages, gender and name; (id, new).
        Verification is of the person: it stays."""
        row = await self.session.scalar(
            select(Interpreter).where(
                Interpreter.organisation_id == organisation_id, Interpreter.user_id == user_id
            )
        )
        if row is None:
            row = Interpreter(
                organisation_id=organisation_id,
                user_id=user_id,
                name=name,
                languages=languages,
                gender=gender,
                status="pending",
                pledged_at=now,
                created_at=now,
            )
            self.session.add(row)
            await self.session.flush()
            return row.id, True
        row.name, row.languages, row.gender, row.pledged_at = name, languages, gender, now
        await self.session.flush()
        return row.id, False

    async def interpreter(self, interpreter_id: int) -> InterpreterRecord | None:
        row = await self.session.get(Interpreter, interpreter_id)
        return _interpreter(row) if row else None

    async def of_user(self, user_id: int) -> list[InterpreterRecord]:
        rows = await self.session.scalars(
            select(Interpreter).where(Interpreter.user_id == user_id).order_by(Interpreter.id)
        )
        return [_interpreter(r) for r in rows]

    async def pool(self, organisation_id: int) -> list[InterpreterRecord]:
        rows = await self.session.scalars(
            select(Interpreter)
            .where(Interpreter.organisation_id == organisation_id)
            .order_by(Interpreter.id)
        )
        return [_interpreter(r) for r in rows]

    async def set_status(self, interpreter_id: int, status: str, *, now: datetime) -> bool:
        values: dict[str, Any] = {"status": status}
        if status == "verified":
            values["verified_at"] = now
        result = await self.session.execute(
            update(Interpreter)
            .where(Interpreter.id == interpreter_id, Interpreter.status != status)
            .values(**values)
        )
        return bool(getattr(result, "rowcount", 0))

    async def remove(self, interpreter_id: int) -> None:
        await self.session.execute(delete(Interpreter).where(Interpreter.id == interpreter_id))

    async def coordinators(self, organisation_id: int) -> list[int]:
        rows = await self.session.scalars(
            select(Membership.user_id)
            .where(Membership.organisation_id == organisation_id, Membership.role == "coordinator")
            .order_by(Membership.user_id)
        )
        return list(dict.fromkeys(rows))

    async def organisers(self, organisation_id: int) -> list[int]:
        rows = await self.session.scalars(
            select(Membership.user_id)
            .where(Membership.organisation_id == organisation_id, Membership.role == "organiser")
            .order_by(Membership.user_id)
        )
        return list(dict.fromkeys(rows))

    async def set_pattern(self, organisation_id: int, pattern: str, auto_confirm: bool) -> None:
        await self.session.execute(
            update(Organisation)
            .where(Organisation.id == organisation_id)
            .values(interpreting=pattern, auto_confirm=auto_confirm)
        )

    async def pattern(self, organisation_id: int) -> tuple[str, bool]:
        row = (
            await self.session.execute(
                select(Organisation.interpreting, Organisation.auto_confirm).where(
                    Organisation.id == organisation_id
                )
            )
        ).one_or_none()
        return (row[0], bool(row[1])) if row else ("coordinator", False)

    # -- requests ---------------------------------------------------------------------------

    async def add(self, **values: Any) -> int:
        row = InterpreterRequest(status="requested", version=0, **values)
        self.session.add(row)
        await self.session.flush()
        return row.id

    def _select(self) -> Any:
        return select(InterpreterRequest, Organisation.name).join(
            Organisation, Organisation.id == InterpreterRequest.organisation_id
        )

    async def get(self, request_id: int, *, lock: bool = False) -> InterpreterRequestRecord | None:
        query = self._select().where(
            InterpreterRequest.id == request_id, InterpreterRequest.anonymised_at.is_(None)
        )
        if lock:
            query = query.with_for_update(of=InterpreterRequest)
        row = (await self.session.execute(query)).one_or_none()
        return _request(row[0], row[1]) if row else None

    async def _many(self, *where: Any) -> list[InterpreterRequestRecord]:
        rows = await self.session.execute(
            self._select()
            .where(InterpreterRequest.anonymised_at.is_(None), *where)
            .order_by(InterpreterRequest.starts_at, InterpreterRequest.id)
        )
        return [_request(r[0], r[1]) for r in rows]

    async def of_requester(self, user_id: int) -> list[InterpreterRequestRecord]:
        return await self._many(InterpreterRequest.user_id == user_id)

    async def open_count(self, user_id: int) -> int:
        return int(
            await self.session.scalar(
                select(func.count()).where(
                    InterpreterRequest.user_id == user_id,
                    InterpreterRequest.status.in_(LIVE),
                )
            )
            or 0
        )

    async def live_for_event(self, user_id: int, event_id: int) -> InterpreterRequestRecord | None:
        found = await self._many(
            InterpreterRequest.user_id == user_id,
            InterpreterRequest.event_id == event_id,
            InterpreterRequest.status.in_(LIVE),
        )
        return found[0] if found else None

    async def live_for_events(
        self, user_id: int, event_ids: Collection[int]
    ) -> dict[int, InterpreterRequestRecord]:
        found = await self._many(
            InterpreterRequest.user_id == user_id,
            InterpreterRequest.event_id.in_(list(event_ids)),
            InterpreterRequest.status.in_(LIVE),
        )
        return {r.event_id: r for r in found if r.event_id is not None}

    async def of_event(self, event_id: int) -> list[InterpreterRequestRecord]:
        return await self._many(InterpreterRequest.event_id == event_id)

    async def of_interpreters(
        self, interpreter_ids: Collection[int]
    ) -> list[InterpreterRequestRecord]:
        """Requests offered to, claimed by or confirmed for these pool entries (not finished)."""
        return await self._many(
            InterpreterRequest.interpreter_id.in_(list(interpreter_ids)),
            InterpreterRequest.status.in_(LIVE),
        )

    async def open_in(
        self, organisation_ids: Collection[int], *, after: datetime
    ) -> list[InterpreterRequestRecord]:
        """Live requests of these organisations, for what has not begun yet."""
        return await self._many(
            InterpreterRequest.organisation_id.in_(list(organisation_ids)),
            InterpreterRequest.status.in_(LIVE),
            InterpreterRequest.starts_at > after,
        )

    async def move(
        self,
        request_id: int,
        *,
        from_status: Collection[str],
        now: datetime,
        **values: Any,
    ) -> bool:
        """Change a request only if it is still in one of ``from_status`` (first claim wins:
        the second finds it moved on). Every change counts up its version."""
        result = await self.session.execute(
            update(InterpreterRequest)
            .where(
                InterpreterRequest.id == request_id,
                InterpreterRequest.status.in_(list(from_status)),
                InterpreterRequest.anonymised_at.is_(None),
            )
            .values(version=InterpreterRequest.version + 1, updated_at=now, **values)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def live_of_event(
        self, event_id: int, *, lock: bool = False
    ) -> list[InterpreterRequestRecord]:
        """The event's live requests; ``lock``ed, a claim or offer at the same moment comes
        before or after the change (PostgreSQL; SQLite has one writer anyway)."""
        query = (
            self._select()
            .where(
                InterpreterRequest.event_id == event_id,
                InterpreterRequest.status.in_(LIVE),
                InterpreterRequest.anonymised_at.is_(None),
            )
            .order_by(InterpreterRequest.id)
        )
        if lock:
            query = query.with_for_update(of=InterpreterRequest)
        return [_request(r[0], r[1]) for r in await self.session.execute(query)]

    async def drop_pending_relays(self, request_id: int) -> None:
        """Relayed messages not yet sent go when the two sides are no longer together."""
        await self.session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.kind == "interp_message",
                OutboxMessage.status == "pending",
                OutboxMessage.ref.like(f"{request_id}:m%"),
            )
        )

    # -- due work ---------------------------------------------------------------------------

    async def due(
        self, now: datetime, lead: timedelta, keep: timedelta, offsets: tuple[int, ...]
    ) -> tuple[list[int], list[int], list[int], list[int]]:
        """Ids of requests with work due at ``now``: (unfilled by now, done, a reminder due,
        to anonymise)."""
        unfilled = list(
            await self.session.scalars(
                select(InterpreterRequest.id).where(
                    InterpreterRequest.status.in_(list(OPEN_REQUEST)),
                    InterpreterRequest.starts_at <= now + lead,
                    InterpreterRequest.anonymised_at.is_(None),
                )
            )
        )
        done: list[int] = []
        remind: list[int] = []
        for request_id, at, starts_at in await self._confirmed_next(offsets, now):
            if at <= now:
                (remind if at < starts_at else done).append(request_id)
        anonymise = [
            request_id for request_id, ends in await self._ends(now - keep) if ends <= now - keep
        ]
        return unfilled, done, remind, anonymise

    async def _confirmed_next(
        self, offsets: tuple[int, ...], now: datetime
    ) -> list[tuple[int, datetime, datetime]]:
        """Confirmed requests: (id, when the bot next needs to act on it, its start)."""
        rows = (
            await self.session.execute(
                select(
                    InterpreterRequest.id,
                    InterpreterRequest.starts_at,
                    InterpreterRequest.duration_minutes,
                    InterpreterRequest.reminded,
                ).where(
                    InterpreterRequest.status == "confirmed",
                    InterpreterRequest.anonymised_at.is_(None),
                )
            )
        ).all()
        return [(r[0], next_for_confirmed(r[1], r[2], r[3], offsets, now), r[1]) for r in rows]

    async def next_due(
        self, now: datetime, lead: timedelta, keep: timedelta, offsets: tuple[int, ...]
    ) -> datetime | None:
        """The earliest instant at which something of :meth:`due` falls due."""
        open_start = await self.session.scalar(
            select(func.min(InterpreterRequest.starts_at)).where(
                InterpreterRequest.status.in_(list(OPEN_REQUEST)),
                InterpreterRequest.anonymised_at.is_(None),
            )
        )
        ends = [end for _id, end in await self._ends(None)]
        candidates = [at for _id, at, _start in await self._confirmed_next(offsets, now)]
        if open_start is not None:
            candidates.append(open_start - lead)
        if ends:
            candidates.append(min(ends) + keep)
        return min(candidates, default=None)

    async def _ends(self, started_by: datetime | None) -> list[tuple[int, datetime]]:
        """Requests not anonymised yet (that started by ``started_by``) with their ends: the
        retention counts from the end of the appointment."""
        query = select(
            InterpreterRequest.id,
            InterpreterRequest.starts_at,
            InterpreterRequest.duration_minutes,
        ).where(InterpreterRequest.anonymised_at.is_(None))
        if started_by is not None:
            query = query.where(InterpreterRequest.starts_at <= started_by)
        rows = await self.session.execute(query)
        return [(r[0], r[1] + timedelta(minutes=r[2])) for r in rows]

    async def anonymise(self, request_id: int, now: datetime) -> None:
        """Nothing of the request points at a person any more; the counts stay."""
        await self.session.execute(
            update(InterpreterRequest)
            .where(InterpreterRequest.id == request_id)
            .values(
                user_id=None,
                interpreter_id=None,
                pseudonym=None,
                topic=None,
                gender="any",
                anonymised_at=now,
                version=InterpreterRequest.version + 1,
            )
        )
        # The notices about it, the relayed messages among them, go too.
        await self.session.execute(
            delete(OutboxMessage).where(
                OutboxMessage.kind.like("interp%"),
                or_(
                    OutboxMessage.ref == str(request_id),
                    OutboxMessage.ref.like(f"{request_id}:%"),
                ),
            )
        )

    # -- counts -----------------------------------------------------------------------------

    async def counts(
        self, event_ids: Collection[int]
    ) -> dict[int, dict[tuple[str, str | None, str], int]]:
        """Per event: requests per (language, variety, status), anonymised ones included."""
        rows = await self.session.execute(
            select(
                InterpreterRequest.event_id,
                InterpreterRequest.language,
                InterpreterRequest.variety,
                InterpreterRequest.status,
                func.count(),
            )
            .where(InterpreterRequest.event_id.in_(list(event_ids)))
            .group_by(
                InterpreterRequest.event_id,
                InterpreterRequest.language,
                InterpreterRequest.variety,
                InterpreterRequest.status,
            )
        )
        result: dict[int, dict[tuple[str, str | None, str], int]] = {}
        for event_id, language, variety, status, n in rows:
            if event_id is None:
                continue
            result.setdefault(event_id, {})[(language, variety, status)] = int(n)
        return result

    async def counts_without_event(
        self, organisation_ids: Collection[int], first: datetime, last: datetime
    ) -> dict[int, dict[tuple[str, str | None, str], int]]:
        """Per organisation: requests for counselling hours (no event) in the period, per
        (language, variety, status), anonymised ones included."""
        rows = await self.session.execute(
            select(
                InterpreterRequest.organisation_id,
                InterpreterRequest.language,
                InterpreterRequest.variety,
                InterpreterRequest.status,
                func.count(),
            )
            .where(
                InterpreterRequest.event_id.is_(None),
                InterpreterRequest.organisation_id.in_(list(organisation_ids)),
                InterpreterRequest.starts_at >= first,
                InterpreterRequest.starts_at <= last,
            )
            .group_by(
                InterpreterRequest.organisation_id,
                InterpreterRequest.language,
                InterpreterRequest.variety,
                InterpreterRequest.status,
            )
        )
        result: dict[int, dict[tuple[str, str | None, str], int]] = {}
        for organisation_id, language, variety, status, n in rows:
            result.setdefault(organisation_id, {})[(language, variety, status)] = int(n)
        return result

    async def events_with_interpretation(self, now: datetime) -> list[int]:
        rows = await self.session.scalars(
            select(Event.id)
            .where(
                Event.interpretation.is_(True),
                Event.status == "published",
                Event.starts_at > now,
            )
            .order_by(Event.starts_at, Event.id)
        )
        return list(rows)

    async def move_person(self, keep: int, gone: int) -> None:
        """Linking accounts: the requests and pool entries of ``gone`` become ``keep``'s (a
        pool entry of both in one organisation: ``keep``'s stays, with the requests)."""
        await self.session.execute(
            update(InterpreterRequest)
            .where(InterpreterRequest.user_id == gone)
            .values(user_id=keep)
        )
        kept = {
            row.organisation_id: row.id
            for row in await self.session.scalars(
                select(Interpreter).where(Interpreter.user_id == keep)
            )
        }
        for row in list(
            await self.session.scalars(select(Interpreter).where(Interpreter.user_id == gone))
        ):
            if row.organisation_id in kept:
                await self.session.execute(
                    update(InterpreterRequest)
                    .where(InterpreterRequest.interpreter_id == row.id)
                    .values(interpreter_id=kept[row.organisation_id])
                )
                await self.session.delete(row)
            else:
                row.user_id = keep
        await self.session.flush()


def next_for_confirmed(
    starts_at: datetime,
    duration: int,
    reminded: int | None,
    offsets: tuple[int, ...],
    now: datetime,
) -> datetime:
    """When a confirmed request next needs the bot: its next reminder not yet sent while it
    has not begun (one whose time has passed is due now), else its end."""
    if starts_at > now:
        for minutes in sorted(offsets, reverse=True):
            if reminded is None or minutes < reminded:
                return starts_at - timedelta(minutes=minutes)
    return starts_at + timedelta(minutes=duration)
