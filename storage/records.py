"""Plain, immutable rows that repositories hand to the services."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class UserRecord:
    id: int
    locale: str
    second_locale: str | None
    timezone: str
    consent_version: int
    consent_at: datetime
    created_at: datetime


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
