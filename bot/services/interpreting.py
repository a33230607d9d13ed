"""Interpreter requests: from "I need an interpreter" to a confirmed interpreter.

A person asks for an interpreter for an event whose organiser offers interpretation, or for an
organisation's counselling hours (a date, a start and a duration). The request carries a
language and variety, a mode (on site, phone, video), a gender preference and a topic category
— never free text about the person's matter.

Interpreters register with an organisation, accept a confidentiality pledge and see nothing
until a coordinator of that organisation has verified them. Each organisation places its
requests in one of two ways:

* ``coordinator``: its coordinators are told of each request and offer it to an interpreter of
  the pool, who accepts (confirmed) or declines (open again);
* ``board``: verified interpreters of the language are told and claim it; the first claim wins
  and is confirmed by a coordinator, or at once when the organisation confirms claims
  automatically.

requested → offered | claimed → confirmed → done; or cancelled, or unfilled when nobody has
taken it ``lead`` hours before the start. Interpreters and coordinators see language, variety,
time, place or mode and topic category; an interpreter learns the pseudonym the requester
chose only once confirmed. Messages between the two are relayed by the bot. Every change is
told to whom it concerns, in their language, through the outbox in the change's unit of work;
a cancellation or change less than 24 hours before reaches the interpreter at once. Some days
after the start a request is anonymised: only its language, variety and outcome stay.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args

from bot.app.settings import Settings
from bot.services.notify import queue
from storage.db import Database
from storage.records import InterpreterRecord, InterpreterRequestRecord
from storage.repositories import EventRepository, InterpreterRepository, Session

log = logging.getLogger(__name__)

# Languages asked for most in Saxony's interpreter pools, with the varieties that matter when
# placing an interpreter (nationality is not language: Syrian and Maghrebi Arabic, Dari and
# Farsi, Kurmanji and Sorani).
LANGUAGES: dict[str, tuple[str, ...]] = {
    "ar": ("levantine", "iraqi", "egyptian", "maghrebi", "gulf", "sudanese"),
    "fa": ("farsi", "dari"),
    "ku": ("kurmanji", "sorani"),
    "ps": (),
    "uk": (),
    "ru": (),
    "tr": (),
    "ti": (),
    "so": (),
    "es": (),
    "fr": (),
    "en": (),
    "vi": (),
    "sq": (),
    "pl": (),
}
Mode = Literal["onsite", "phone", "video"]
GenderWish = Literal["any", "woman", "man"]
Topic = Literal["event", "health", "school", "authority", "counselling", "work", "housing", "other"]
Minutes = Literal[30, 60, 90, 120, 180]
MODES: tuple[Mode, ...] = get_args(Mode)
GENDERS: tuple[GenderWish, ...] = get_args(GenderWish)
TOPICS: tuple[Topic, ...] = get_args(Topic)
DURATIONS: tuple[Minutes, ...] = get_args(Minutes)
# Reminders of a confirmed assignment, minutes before its start.
REMINDERS = (1440, 120)
# Less than this before the start, a cancellation or change reaches the interpreter at once.
URGENT = timedelta(hours=24)
NAME_MAX = 30

TO_REQUESTER = "interp_requester"
TO_INTERPRETER = "interp_interpreter"
TO_COORDINATOR = "interp_coordinator"
TO_ORGANISER = "interp_organiser"
REMINDER = "interp_reminder"
RELAY = "interp_message"
POOL = "interp_pool"

Side = Literal["requester", "interpreter"]
_SPACES = re.compile(r"\s+")


class Refused(Exception):
    """The change cannot be made: ``reason`` says why (for a clear answer)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Draft:
    """What a person asks for (the answers of /interpreter)."""

    organisation_id: int
    event_id: int | None
    language: str
    variety: str | None
    mode: str
    gender: str
    topic: str
    starts_at: datetime
    duration_minutes: int
    pseudonym: str | None


@dataclass(frozen=True)
class Board:
    """What one interpreter sees: their pool entries, requests they may claim, offers to
    them and their confirmed assignments."""

    entries: list[InterpreterRecord]
    claimable: list[InterpreterRequestRecord]
    mine: list[InterpreterRequestRecord]


def fits(entry: InterpreterRecord, request: InterpreterRequestRecord) -> bool:
    """A verified interpreter who may take the request: its language and variety, the gender
    asked for, and never the requester themself."""
    return (
        entry.status == "verified"
        and entry.user_id != request.user_id
        and entry.speaks(request.language, request.variety)
        and request.gender in ("any", entry.gender)
    )


def variety_known(language: str, variety: str | None) -> bool:
    return language in LANGUAGES and (variety is None or variety in LANGUAGES[language])


def clean_name(raw: str) -> str | None:
    """A first name or pseudonym as typed: one line, at most NAME_MAX characters; None when
    there is nothing left or it looks like a handle or a link."""
    name = _SPACES.sub(" ", raw).strip()
    if not name or len(name) > NAME_MAX or any(c in name for c in "@/:<>"):
        return None
    return name


def offers_interpretation(text: str) -> bool:
    """Whether an event's text offers interpretation ("Auf Anfrage kann Sprachmittlung
    bereitgestellt werden"), and does not say the opposite ("keine Dolmetscher")."""
    for sentence in _SENTENCES.split(text):
        if _OFFERED.search(sentence) and not _NEGATED.search(sentence):
            return True
    return False


_OFFERED = re.compile(
    r"sprachmittl|dolmetsch|übersetzung\s+(?:ist\s+)?(?:auf\s+anfrage|möglich)"
    r"|interpret(?:ation|ers?|ing)\b",
    re.I,
)
_NEGATED = re.compile(r"\b(?:kein\w*|nicht|ohne|no|not|without)\b", re.I)
_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+")


class InterpreterService:
    def __init__(self, db: Database, settings: Settings, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.clock = clock
        self.lead = timedelta(hours=settings.interpreter_lead_hours)
        self.keep = timedelta(days=settings.interpreter_keep_days)
        self.open_limit = settings.interpreter_open_limit

    # -- requesting -------------------------------------------------------------------------

    def too_late(self, starts_at: datetime) -> bool:
        """Whether a request for an appointment at ``starts_at`` comes too late to be placed."""
        return starts_at - self.lead <= self.clock()

    async def events_open(self) -> list[int]:
        """Upcoming events that offer interpretation and can still be asked for."""
        now = self.clock()
        async with self.db.transaction() as s:
            return await InterpreterRepository(s).events_with_interpretation(now + self.lead)

    async def file(self, user_id: int, draft: Draft) -> InterpreterRequestRecord:
        """File a request (Refused: ``limit``, ``twice``, ``late``, ``not_offered``)."""
        now = self.clock()
        async with self.db.transaction() as s:
            repo = InterpreterRepository(s)
            if await repo.open_count(user_id) >= self.open_limit:
                raise Refused("limit")
            if draft.event_id is not None:
                # Locked: a cancellation of the event at the same moment comes before or after.
                event = await EventRepository(s).get(draft.event_id, lock=True)
                if event is None or event.status != "published" or not event.interpretation:
                    raise Refused("not_offered")
                if await repo.live_for_event(user_id, draft.event_id) is not None:
                    raise Refused("twice")
            if self.too_late(draft.starts_at):
                raise Refused("late")
            request_id = await repo.add(
                organisation_id=draft.organisation_id,
                event_id=draft.event_id,
                user_id=user_id,
                language=draft.language,
                variety=draft.variety,
                mode=draft.mode,
                gender=draft.gender,
                topic=draft.topic,
                starts_at=draft.starts_at,
                duration_minutes=draft.duration_minutes,
                pseudonym=draft.pseudonym,
                created_at=now,
                updated_at=now,
            )
            request = await _get(s, request_id)
            await self._announce(s, request, now)
        return request

    async def _announce(
        self,
        s: Session,
        request: InterpreterRequestRecord,
        now: datetime,
        *,
        leaving: int | None = None,
        coordinators_told: bool = False,
    ) -> None:
        """A request open (again): to the interpreters who may claim it (not ``leaving``, who
        just gave it up or was turned down), or to the coordinators (also when nobody in the
        pool fits; not when ``coordinators_told`` already); without coordinators, to the
        organisers, who can invite one."""
        repo = InterpreterRepository(s)
        pattern, _auto = await repo.pattern(request.organisation_id)
        say = "new"
        if pattern == "board":
            people = [i.user_id for i in await self._candidates(s, request) if i.user_id != leaving]
            if people:
                await _tell(
                    s,
                    TO_INTERPRETER,
                    request,
                    "new",
                    people,
                    now=now,
                    useful_until=self._due(request),
                )
                return
            say = "nobody"
        if coordinators_told:
            return
        coordinators = await repo.coordinators(request.organisation_id)
        if coordinators:
            await _tell(s, TO_COORDINATOR, request, say, coordinators, now=now)
        else:
            organisers = await repo.organisers(request.organisation_id)
            await _tell(s, TO_ORGANISER, request, "no_coordinator", organisers, now=now)

    def _due(self, request: InterpreterRequestRecord) -> datetime:
        return request.starts_at - self.lead

    async def _candidates(
        self, s: Session, request: InterpreterRequestRecord
    ) -> list[InterpreterRecord]:
        """Verified interpreters of the organisation for the request's language, variety and
        gender (never the requester themself)."""
        pool = await InterpreterRepository(s).pool(request.organisation_id)
        return [i for i in pool if fits(i, request)]

    async def candidates(self, request_id: int) -> list[InterpreterRecord]:
        async with self.db.transaction() as s:
            request = await InterpreterRepository(s).get(request_id)
            return await self._candidates(s, request) if request else []

    async def may_take(self, user_id: int, request: InterpreterRequestRecord) -> bool:
        """Whether the person is (still) a verified interpreter who fits the request."""
        async with self.db.transaction() as s:
            entries = await InterpreterRepository(s).of_user(user_id)
        return any(
            e.organisation_id == request.organisation_id and fits(e, request) for e in entries
        )

    async def open_count(self, user_id: int) -> int:
        """The person's requests that are not finished (the limit counts these)."""
        async with self.db.transaction() as s:
            return await InterpreterRepository(s).open_count(user_id)

    async def mine(self, user_id: int) -> list[InterpreterRequestRecord]:
        """The person's requests: the live ones, then what became of the others."""
        async with self.db.transaction() as s:
            found = await InterpreterRepository(s).of_requester(user_id)
        return sorted(found, key=lambda r: (not r.live, r.starts_at))

    async def for_events(
        self, user_id: int, event_ids: Collection[int]
    ) -> dict[int, InterpreterRequestRecord]:
        async with self.db.transaction() as s:
            return await InterpreterRepository(s).live_for_events(user_id, event_ids)

    async def request(self, request_id: int) -> InterpreterRequestRecord | None:
        async with self.db.transaction() as s:
            return await InterpreterRepository(s).get(request_id)

    async def cancel(self, user_id: int, request_id: int) -> InterpreterRequestRecord:
        """The requester takes the request back; whoever was working on it is told."""
        now = self.clock()
        async with self.db.transaction() as s:
            repo = InterpreterRepository(s)
            request = await repo.get(request_id, lock=True)
            if request is None or request.user_id != user_id:
                raise Refused("gone")
            if not request.live:
                raise Refused(request.status)
            await _cancel(s, request, "requester", now)
            return await _get(s, request_id)

    # -- the pool ---------------------------------------------------------------------------

    async def register(
        self, user_id: int, organisation_id: int, *, name: str, languages: list[str], gender: str
    ) -> tuple[InterpreterRecord, bool]:
        """Join an organisation's pool (pledge given): waiting for a coordinator to verify.
        (entry, new). Registering again changes languages, gender and name; a verification
        (of the person) stays."""
        now = self.clock()
        async with self.db.transaction() as s:
            repo = InterpreterRepository(s)
            interpreter_id, new = await repo.register(
                organisation_id, user_id, name=name, languages=languages, gender=gender, now=now
            )
            entry = await repo.interpreter(interpreter_id)
            assert entry is not None
            if new:
                coordinators = await repo.coordinators(organisation_id)
                await queue(
                    s,
                    POOL,
                    f"p{interpreter_id}:registered",
                    [c for c in coordinators if c != user_id],
                    {"interpreter": interpreter_id, "say": "registered"},
                    now=now,
                )
        return entry, new

    async def entries(self, user_id: int) -> list[InterpreterRecord]:
        async with self.db.transaction() as s:
            return await InterpreterRepository(s).of_user(user_id)

    async def pool(self, organisation_id: int) -> list[InterpreterRecord]:
        async with self.db.transaction() as s:
            return await InterpreterRepository(s).pool(organisation_id)

    async def interpreter(self, interpreter_id: int) -> InterpreterRecord | None:
        async with self.db.transaction() as s:
            return await InterpreterRepository(s).interpreter(interpreter_id)

    async def set_status(
        self,
        actor: int,
        interpreter_id: int,
        action: Literal["verify", "pause", "resume", "remove"],
    ) -> InterpreterRecord:
        """A coordinator verifies (from pending), pauses (a verified one), resumes (a paused
        one) or removes an interpreter; the caller checked that they coordinate the
        organisation. What a paused or removed interpreter held goes back to the pool, and the
        requesters hear."""
        now = self.clock()
        allowed = {"verify": "pending", "pause": "verified", "resume": "paused"}
        async with self.db.transaction() as s:
            repo = InterpreterRepository(s)
            entry = await repo.interpreter(interpreter_id)
            if entry is None:
                raise Refused("gone")
            held = await repo.of_interpreters([entry.id])
            if action == "remove":
                await repo.remove(interpreter_id)
            else:
                if entry.status != allowed[action]:
                    raise Refused(entry.status)
                status = "paused" if action == "pause" else "verified"
                if not await repo.set_status(interpreter_id, status, now=now):
                    raise Refused(entry.status)
            if action in ("remove", "pause"):
                # Gone from the candidates first: nothing they held is offered back to them.
                for request in held:
                    await self._reopen(s, request, now)
            await queue(
                s,
                POOL,
                f"p{interpreter_id}:{uuid.uuid4().hex[:12]}",
                [entry.user_id],
                {
                    "interpreter": interpreter_id,
                    "say": action,
                    "organisation": entry.organisation_id,
                },
                now=now,
            )
            return await repo.interpreter(interpreter_id) or entry

    async def _reopen(
        self,
        s: Session,
        request: InterpreterRequestRecord,
        now: datetime,
        *,
        leaving: int | None = None,
        coordinators_told: bool = False,
    ) -> bool:
        """The request is open again (its interpreter gave up, was paused or removed, or
        left): the requester hears, and it is offered again (see :meth:`_announce`)."""
        repo = InterpreterRepository(s)
        if not await repo.move(
            request.id,
            from_status=(request.status,),
            now=now,
            status="requested",
            interpreter_id=None,
            reminded=None,
        ):
            return False
        await repo.drop_pending_relays(request.id)
        fresh = await _get(s, request.id)
        told = "reopened" if request.status == "confirmed" else "searching"
        await _tell_requester(s, fresh, told, now)
        await self._announce(s, fresh, now, leaving=leaving, coordinators_told=coordinators_told)
        return True

    async def set_pattern(self, organisation_id: int, pattern: str, auto: bool) -> None:
        async with self.db.transaction() as s:
            await InterpreterRepository(s).set_pattern(organisation_id, pattern, auto)

    async def pattern(self, organisation_id: int) -> tuple[str, bool]:
        async with self.db.transaction() as s:
            return await InterpreterRepository(s).pattern(organisation_id)

    # -- interpreters' side -----------------------------------------------------------------

    async def board(self, user_id: int) -> Board:
        now = self.clock()
        async with self.db.transaction() as s:
            repo = InterpreterRepository(s)
            entries = await repo.of_user(user_id)
            verified = [e for e in entries if e.status == "verified"]
            mine = await repo.of_interpreters([e.id for e in entries])
            claimable: list[InterpreterRequestRecord] = []
            for entry in verified:
                pattern, _auto = await repo.pattern(entry.organisation_id)
                if pattern != "board":
                    continue
                for request in await repo.open_in([entry.organisation_id], after=now):
                    if request.status == "requested" and fits(entry, request):
                        claimable.append(request)
        return Board(entries, claimable, mine)

    async def _entry_for(
        self, s: Session, user_id: int, request: InterpreterRequestRecord, *, verified: bool = True
    ) -> InterpreterRecord:
        """The person's entry in the request's organisation's pool (verified, unless
        ``verified`` is False: giving back what one holds needs no verification), or Refused."""
        for entry in await InterpreterRepository(s).of_user(user_id):
            if entry.organisation_id == request.organisation_id:
                if verified and entry.status != "verified":
                    raise Refused("unverified")
                return entry
        raise Refused("not_interpreter")

    async def claim(self, user_id: int, request_id: int) -> InterpreterRequestRecord:
        """Board: the first claim wins; confirmed at once where the organisation says so."""
        now = self.clock()
        async with self.db.transaction() as s:
            repo = InterpreterRepository(s)
            request = await _locked(s, request_id)
            entry = await self._entry_for(s, user_id, request)
            pattern, auto = await repo.pattern(request.organisation_id)
            if pattern != "board" or not fits(entry, request):
                raise Refused("not_yours")
            status = "confirmed" if auto else "claimed"
            if not await repo.move(
                request_id,
                from_status=("requested",),
                now=now,
                status=status,
                interpreter_id=entry.id,
                reminded=self._passed(request, now) if auto else None,
            ):
                raise Refused("taken" if request.live else request.status)
            fresh = await _get(s, request_id)
            await _tell_requester(s, fresh, status, now)
            if not auto:
                coordinators = await repo.coordinators(request.organisation_id)
                await _tell(s, TO_COORDINATOR, fresh, "claimed", coordinators, now=now)
            return fresh

    def _passed(self, request: InterpreterRequestRecord, now: datetime) -> int | None:
        """The nearest reminder whose time has passed at confirmation: it is not sent (the
        confirmation itself says as much)."""
        passed = [m for m in REMINDERS if request.starts_at - timedelta(minutes=m) <= now]
        return min(passed) if passed else None

    async def answer_offer(
        self, user_id: int, request_id: int, accept: bool
    ) -> InterpreterRequestRecord:
        """Coordinator pattern: the interpreter asked accepts (confirmed) or declines (open)."""
        now = self.clock()
        async with self.db.transaction() as s:
            repo = InterpreterRepository(s)
            request = await _locked(s, request_id)
            entry = await self._entry_for(s, user_id, request, verified=accept)
            if request.status != "offered" or request.interpreter_id != entry.id:
                raise Refused("not_yours" if request.live else request.status)
            coordinators = await repo.coordinators(request.organisation_id)
            if accept:
                await repo.move(
                    request_id,
                    from_status=("offered",),
                    now=now,
                    status="confirmed",
                    reminded=self._passed(request, now),
                )
                fresh = await _get(s, request_id)
                await _tell_requester(s, fresh, "confirmed", now)
                await _tell(s, TO_COORDINATOR, fresh, "accepted", coordinators, now=now)
                return fresh
            await repo.move(
                request_id,
                from_status=("offered",),
                now=now,
                status="requested",
                interpreter_id=None,
            )
            fresh = await _get(s, request_id)
            await _tell_requester(s, fresh, "searching", now)
            await _tell(s, TO_COORDINATOR, fresh, "declined", coordinators, now=now)
            return fresh

    async def give_up(self, user_id: int, request_id: int) -> InterpreterRequestRecord:
        """A confirmed (or claiming) interpreter can no longer come: the request is open again,
        the requester and the coordinators are told (at once when it is near)."""
        now = self.clock()
        async with self.db.transaction() as s:
            repo = InterpreterRepository(s)
            request = await _locked(s, request_id)
            entry = await self._entry_for(s, user_id, request, verified=False)
            if request.interpreter_id != entry.id or request.status not in ("claimed", "confirmed"):
                raise Refused("not_yours")
            # The coordinators hear "can no longer come" (with the way to offer it again),
            # not also "new request"; the one who gave it up is not offered it again.
            await self._reopen(s, request, now, leaving=user_id, coordinators_told=True)
            fresh = await _get(s, request_id)
            coordinators = await repo.coordinators(request.organisation_id)
            await _tell(
                s,
                TO_COORDINATOR,
                fresh,
                "withdrew",
                coordinators,
                now=now,
                urgent=request.starts_at - now < URGENT,
            )
            return fresh

    # -- coordinators' side -----------------------------------------------------------------

    async def queue_of(self, organisation_ids: Collection[int]) -> list[InterpreterRequestRecord]:
        """The live requests of these organisations, the soonest first."""
        async with self.db.transaction() as s:
            return await InterpreterRepository(s).open_in(organisation_ids, after=self.clock())

    async def offer(
        self, actor: int, request_id: int, interpreter_id: int
    ) -> InterpreterRequestRecord:
        """A coordinator offers the request to an interpreter of the pool."""
        now = self.clock()
        async with self.db.transaction() as s:
            repo = InterpreterRepository(s)
            request = await _locked(s, request_id)
            if request.status != "requested":
                raise Refused("taken" if request.live else request.status)
            chosen = next(
                (i for i in await self._candidates(s, request) if i.id == interpreter_id), None
            )
            if chosen is None:
                raise Refused("unsuitable")
            await repo.move(
                request_id,
                from_status=("requested",),
                now=now,
                status="offered",
                interpreter_id=interpreter_id,
            )
            fresh = await _get(s, request_id)
            await _tell(
                s,
                TO_INTERPRETER,
                fresh,
                "offer",
                [chosen.user_id],
                now=now,
                useful_until=self._due(fresh),
            )
            await _tell_requester(s, fresh, "offered", now)
            return fresh

    async def take_back(self, actor: int, request_id: int) -> InterpreterRequestRecord:
        """A coordinator takes back an offer nobody answers: the request is open again (to
        offer it to someone else); the interpreter asked is told."""
        now = self.clock()
        async with self.db.transaction() as s:
            repo = InterpreterRepository(s)
            request = await _locked(s, request_id)
            if request.status != "offered":
                raise Refused("taken" if request.live else request.status)
            interpreter = await _interpreter_of(s, request)
            await repo.move(
                request_id,
                from_status=("offered",),
                now=now,
                status="requested",
                interpreter_id=None,
            )
            fresh = await _get(s, request_id)
            if interpreter is not None:
                await _tell(s, TO_INTERPRETER, fresh, "withdrawn", [interpreter.user_id], now=now)
            await _tell_requester(s, fresh, "searching", now)
            return fresh

    async def decide_claim(
        self, actor: int, request_id: int, confirm: bool
    ) -> InterpreterRequestRecord:
        """A coordinator confirms a claim, or turns it down (the request is open again)."""
        now = self.clock()
        async with self.db.transaction() as s:
            repo = InterpreterRepository(s)
            request = await _locked(s, request_id)
            if request.status != "claimed" or request.interpreter_id is None:
                raise Refused("taken" if request.live else request.status)
            interpreter = await repo.interpreter(request.interpreter_id)
            if confirm:
                if interpreter is None or interpreter.status != "verified":
                    raise Refused("unverified")
                await repo.move(
                    request_id,
                    from_status=("claimed",),
                    now=now,
                    status="confirmed",
                    reminded=self._passed(request, now),
                )
                fresh = await _get(s, request_id)
                await _tell_requester(s, fresh, "confirmed", now)
            else:
                await repo.move(
                    request_id,
                    from_status=("claimed",),
                    now=now,
                    status="requested",
                    interpreter_id=None,
                )
                fresh = await _get(s, request_id)
                await _tell_requester(s, fresh, "searching", now)
            if interpreter is not None:
                say = "confirmed" if confirm else "rejected"
                await _tell(
                    s,
                    TO_INTERPRETER,
                    fresh,
                    say,
                    [interpreter.user_id],
                    now=now,
                    useful_until=request.starts_at,
                )
            if not confirm:
                leaving = interpreter.user_id if interpreter is not None else None
                await self._announce(s, fresh, now, leaving=leaving)
            return fresh

    # -- relayed messages -------------------------------------------------------------------

    async def side_of(self, user_id: int, request: InterpreterRequestRecord) -> Side | None:
        """Which side of a confirmed request the person is on (None: neither)."""
        if request.status != "confirmed":
            return None
        if request.user_id == user_id:
            return "requester"
        async with self.db.transaction() as s:
            entry = await _interpreter_of(s, request)
        return "interpreter" if entry is not None and entry.user_id == user_id else None

    async def relay(self, user_id: int, request_id: int, text: str) -> None:
        """Pass a message to the other side of a confirmed request; neither learns the
        other's account."""
        now = self.clock()
        async with self.db.transaction() as s:
            request = await InterpreterRepository(s).get(request_id)
            if request is None:
                raise Refused("gone")
            side = await self.side_of(user_id, request)
            if side is None:
                raise Refused(request.status if request.status != "confirmed" else "not_yours")
            if side == "requester":
                entry = await _interpreter_of(s, request)
                assert entry is not None
                to = entry.user_id
            else:
                assert request.user_id is not None
                to = request.user_id
            await queue(
                s,
                RELAY,
                f"{request_id}:m{uuid.uuid4().hex[:12]}",
                [to],
                {"request": request_id, "from": side, "text": text},
                now=now,
                useful_until=request.starts_at + timedelta(minutes=request.duration_minutes),
            )

    # -- what organisers see ----------------------------------------------------------------

    async def counts(
        self, event_ids: Collection[int]
    ) -> dict[int, dict[tuple[str, str | None, str], int]]:
        async with self.db.transaction() as s:
            return await InterpreterRepository(s).counts(event_ids)

    # -- due work (the "interpreting" alarm) ------------------------------------------------

    async def run_due(self) -> int:
        """Unfilled requests, reminders of confirmed ones, finished ones, and the anonymising
        of old ones; each in its own unit of work."""
        now = self.clock()
        async with self.db.reading() as s:
            unfilled, done, remind, anonymise = await InterpreterRepository(s).due(
                now, self.lead, self.keep, REMINDERS
            )
        for request_id in unfilled:
            await self._unfilled(request_id, now)
        for request_id in remind:
            await self._remind(request_id, now)
        for request_id in done:
            async with self.db.transaction() as s:
                await InterpreterRepository(s).move(
                    request_id, from_status=("confirmed",), now=now, status="done"
                )
        for request_id in anonymise:
            async with self.db.transaction() as s:
                await self._finish_off(s, request_id, now)
        handled = len(unfilled) + len(remind) + len(done) + len(anonymise)
        if anonymise:
            log.info("interpreter requests anonymised: %d", len(anonymise))
        return handled

    async def _finish_off(self, s: Session, request_id: int, now: datetime) -> None:
        """Anonymise a request whose retention is over (a live one is closed first)."""
        repo = InterpreterRepository(s)
        request = await repo.get(request_id, lock=True)
        if request is None:
            return
        if request.open:
            await repo.move(request_id, from_status=(request.status,), now=now, status="unfilled")
        elif request.status == "confirmed":
            await repo.move(request_id, from_status=("confirmed",), now=now, status="done")
        await repo.anonymise(request_id, now)

    async def _unfilled(self, request_id: int, now: datetime) -> None:
        async with self.db.transaction() as s:
            repo = InterpreterRepository(s)
            request = await repo.get(request_id, lock=True)
            if request is None or not request.open:
                return
            if not await repo.move(
                request_id,
                from_status=(request.status,),
                now=now,
                status="unfilled",
                interpreter_id=None,
            ):
                return
            fresh = await _get(s, request_id)
            await _tell_requester(s, fresh, "unfilled", now)
            organisers = await repo.organisers(request.organisation_id)
            await _tell(s, TO_ORGANISER, fresh, "unfilled", organisers, now=now)
            coordinators = [
                c for c in await repo.coordinators(request.organisation_id) if c not in organisers
            ]
            await _tell(s, TO_COORDINATOR, fresh, "unfilled", coordinators, now=now)
            interpreter = await _interpreter_of(s, request)
            if interpreter is not None:
                await _tell(s, TO_INTERPRETER, fresh, "unfilled", [interpreter.user_id], now=now)

    async def _remind(self, request_id: int, now: datetime) -> None:
        async with self.db.transaction() as s:
            repo = InterpreterRepository(s)
            request = await repo.get(request_id, lock=True)
            if request is None or request.status != "confirmed" or request.starts_at <= now:
                return
            passed = [
                m
                for m in REMINDERS
                if request.starts_at - timedelta(minutes=m) <= now
                and (request.reminded is None or m < request.reminded)
            ]
            if not passed:
                return
            minutes = min(passed)
            await repo.move(request_id, from_status=("confirmed",), now=now, reminded=minutes)
            people = []
            interpreter = await _interpreter_of(s, request)
            if interpreter is not None:
                people.append(interpreter.user_id)
            if request.user_id is not None:
                people.append(request.user_id)
            # The start is in the reference: an appointment moved later is reminded again.
            await queue(
                s,
                REMINDER,
                f"{request_id}:r{minutes}:{int(request.starts_at.timestamp())}",
                people,
                {"request": request_id, "minutes": minutes},
                now=now,
                useful_until=request.starts_at,
            )

    async def next_due(self) -> datetime | None:
        async with self.db.reading() as s:
            return await InterpreterRepository(s).next_due(
                self.clock(), self.lead, self.keep, REMINDERS
            )

    # -- a person leaving -------------------------------------------------------------------

    async def forget(self, s: Session, user_id: int) -> None:
        """Before a person's data is deleted: their live requests are cancelled (whoever was
        working on them hears), what they held as an interpreter goes back to the pool."""
        now = self.clock()
        repo = InterpreterRepository(s)
        for request in await repo.of_requester(user_id):
            if request.live:
                await _cancel(s, request, "requester", now)
        entries = await repo.of_user(user_id)
        held = await repo.of_interpreters([e.id for e in entries])
        for entry in entries:
            await repo.remove(entry.id)
        for request in held:
            await self._reopen(s, request, now)


# -- shared by the service and by changes to events (inside their unit of work) --------


async def _tell(
    s: Session,
    kind: str,
    request: InterpreterRequestRecord,
    say: str,
    people: Iterable[int],
    *,
    now: datetime,
    urgent: bool = False,
    useful_until: datetime | None = None,
    extra: dict[str, object] | None = None,
) -> None:
    """A notice about a request at its current version: one reference per version and kind
    of news, so two notices of one change never swallow each other, and a retry adds none."""
    payload: dict[str, object] = {"request": request.id, "say": say, **(extra or {})}
    await queue(
        s,
        kind,
        f"{request.id}:{request.version}:{say}",
        people,
        payload,
        now=now,
        urgent=urgent,
        useful_until=useful_until,
    )


async def _cancel(s: Session, request: InterpreterRequestRecord, by: str, now: datetime) -> bool:
    """Cancel a live request: its interpreter (at once when it is near) and the coordinators
    hear of it; relayed messages not yet sent go."""
    repo = InterpreterRepository(s)
    if not await repo.move(
        request.id, from_status=(request.status,), now=now, status="cancelled", cancelled_by=by
    ):
        return False
    await repo.drop_pending_relays(request.id)
    fresh = await _get(s, request.id)
    interpreter = await _interpreter_of(s, request)
    if interpreter is not None:
        near = request.starts_at - now < URGENT
        await _tell(
            s, TO_INTERPRETER, fresh, "cancelled", [interpreter.user_id], now=now, urgent=near
        )
    coordinators = await repo.coordinators(request.organisation_id)
    await _tell(s, TO_COORDINATOR, fresh, "cancelled", coordinators, now=now)
    return True


async def _interpreter_of(
    s: Session, request: InterpreterRequestRecord
) -> InterpreterRecord | None:
    if request.interpreter_id is None or request.status not in ("offered", "claimed", "confirmed"):
        return None
    return await InterpreterRepository(s).interpreter(request.interpreter_id)


async def _locked(s: Session, request_id: int) -> InterpreterRequestRecord:
    """The request, locked for the change about to be made (Refused "gone" when it is not
    there any more, or anonymised)."""
    found = await InterpreterRepository(s).get(request_id, lock=True)
    if found is None:
        raise Refused("gone")
    return found


async def _get(s: Session, request_id: int) -> InterpreterRequestRecord:
    found = await InterpreterRepository(s).get(request_id)
    assert found is not None
    return found


async def _tell_requester(
    s: Session, request: InterpreterRequestRecord, say: str, now: datetime
) -> None:
    if request.user_id is not None:
        await _tell(
            s,
            TO_REQUESTER,
            request,
            say,
            [request.user_id],
            now=now,
            useful_until=request.starts_at,
        )


async def on_event_cancelled(s: Session, event_id: int, now: datetime) -> None:
    """The organiser cancelled the event: its requests are cancelled; the requester and
    the interpreter (at once when it is near) are told."""
    for request in await InterpreterRepository(s).live_of_event(event_id, lock=True):
        if await _cancel(s, request, "organiser", now):
            await _tell_requester(s, await _get(s, request.id), "cancelled", now)


async def on_event_changed(
    s: Session, event_id: int, changed: Iterable[str], now: datetime
) -> None:
    """The event moved (time or place): its requests follow the new time; the requester, the
    coordinators and the interpreter (at once when it is near) are told."""
    relevant = {"starts_at", "ends_at", "place", "online_url"} & set(changed)
    if not relevant:
        return
    repo = InterpreterRepository(s)
    event = await EventRepository(s).get(event_id)
    if event is None:
        return
    for request in await repo.live_of_event(event_id, lock=True):
        values: dict[str, object] = {}
        if event.starts_at != request.starts_at:
            values["starts_at"] = event.starts_at
            values["reminded"] = None
        if event.ends_at is not None and event.ends_at > event.starts_at:
            values["duration_minutes"] = int(
                (event.ends_at - event.starts_at).total_seconds() // 60
            )
        if not await repo.move(request.id, from_status=(request.status,), now=now, **values):
            continue
        fresh = await _get(s, request.id)
        near = min(request.starts_at, event.starts_at) - now < URGENT
        interpreter = await _interpreter_of(s, fresh)
        if interpreter is not None:
            await _tell(
                s, TO_INTERPRETER, fresh, "changed", [interpreter.user_id], now=now, urgent=near
            )
        await _tell_requester(s, fresh, "changed", now)
        coordinators = await repo.coordinators(request.organisation_id)
        await _tell(s, TO_COORDINATOR, fresh, "changed", coordinators, now=now)
