"""Plain, immutable rows that repositories hand to the services."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class UserRecord:
    id: int
    locale: str
    second_locale: str | None
    timezone: str
    consent_version: int
    consent_at: datetime
    created_at: datetime
    # Notification settings (/settings): see storage.models.User.
    reminder_minutes: tuple[int, ...] = (1440, 120)
    news_mode: str = "instant"
    digest_hour: int = 18
    digest_weekday: int = 0
    quiet_from: int | None = 22
    quiet_until: int | None = 8


@dataclass(frozen=True)
class IdentityRecord:
    id: int
    user_id: int
    platform: str
    platform_user_id: str
    chat_id: str | None
    active: bool


@dataclass(frozen=True)
class TextRecord:
    locale: str
    title: str
    description: str
    machine_translated: bool = False


@dataclass(frozen=True)
class Counts:
    going: int = 0
    maybe: int = 0
    not_going: int = 0
    waitlisted: int = 0


@dataclass(frozen=True)
class EventRecord:
    id: int
    organisation_name: str
    category: str
    region: str
    starts_at: datetime
    ends_at: datetime | None
    timezone: str
    place: str | None
    online_url: str | None
    capacity: int | None
    registration_deadline: datetime | None
    status: str
    texts: dict[str, TextRecord] = field(default_factory=dict)
    organisation_id: int = 0
    uid: str | None = None
    # The organiser offers interpretation on request.
    interpretation: bool = False


@dataclass(frozen=True)
class RsvpRecord:
    id: int
    event_id: int
    user_id: int
    status: str
    waitlist_seq: int | None
    updated_at: datetime


@dataclass(frozen=True)
class OutboxRecord:
    id: int
    kind: str
    ref: str
    user_id: int
    payload: dict[str, object]
    status: str
    attempts: int
    send_key: str | None = None


@dataclass(frozen=True)
class ParticipantRecord:
    """One answer to an event, as an organiser may see it: no name, no account id."""

    status: str
    waitlist_seq: int | None
    locale: str
    platform: str | None
    updated_at: datetime


@dataclass(frozen=True)
class EventSourceRecord:
    """What an import needs to know of an event it already has: found by its UID."""

    id: int
    uid: str
    status: str
    content_hash: str | None


@dataclass(frozen=True)
class EventReportRecord:
    """One event of a funders' report: answers per status, languages of those who come."""

    event_id: int
    organisation_id: int
    title: str
    starts_at: datetime
    counts: Counts
    languages: dict[str, int]


@dataclass(frozen=True)
class Audience:
    """Who gets a broadcast: followers of categories × regions, or who answered an event."""

    categories: tuple[int, ...] = ()
    regions: tuple[int, ...] = ()
    event_id: int | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "categories": list(self.categories),
            "regions": list(self.regions),
            "event": self.event_id,
        }


@dataclass(frozen=True)
class BroadcastRecord:
    id: int
    organisation_id: int
    author_user_id: int | None
    texts: dict[str, str]
    total: int
    status: str


@dataclass(frozen=True)
class ReminderRecord:
    id: int
    event_id: int
    minutes_before: int
    due_at: datetime
    status: str
    recipients: int
    skipped_late: int
    cant_come: int


@dataclass(frozen=True)
class OfferRecord:
    id: int
    event_id: int
    user_id: int
    status: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class QuietRecord:
    """What decides when a notice may reach a person: their time zone and quiet hours."""

    user_id: int
    timezone: str
    quiet_from: int | None
    quiet_until: int | None


@dataclass(frozen=True)
class InterpreterRecord:
    """A person in an organisation's pool of interpreters."""

    id: int
    organisation_id: int
    user_id: int
    name: str
    languages: tuple[str, ...]
    gender: str
    status: str
    created_at: datetime

    def speaks(self, language: str, variety: str | None) -> bool:
        """Whether they interpret ``language`` (in ``variety``; None: any variety)."""
        if language in self.languages:
            return True
        if variety is None:
            return any(code.split("-")[0] == language for code in self.languages)
        return f"{language}-{variety}" in self.languages


@dataclass(frozen=True)
class InterpreterRequestRecord:
    """A request for an interpreter, with what is needed to show it (never the requester's
    account: ``user_id`` is only for the bot to reach them)."""

    id: int
    organisation_id: int
    organisation_name: str
    event_id: int | None
    user_id: int | None
    language: str
    variety: str | None
    mode: str
    gender: str
    topic: str | None
    starts_at: datetime
    duration_minutes: int
    pseudonym: str | None
    status: str
    interpreter_id: int | None
    cancelled_by: str | None
    version: int
    reminded: int | None
    created_at: datetime

    @property
    def open(self) -> bool:
        """Still looking for an interpreter, or one is about to be confirmed."""
        return self.status in OPEN_REQUEST

    @property
    def live(self) -> bool:
        """Not finished: open, or confirmed and not yet done."""
        return self.status in OPEN_REQUEST or self.status == "confirmed"


OPEN_REQUEST = frozenset({"requested", "offered", "claimed"})
