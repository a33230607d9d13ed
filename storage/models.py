"""Typed SQLAlchemy models. The schema itself is created only by the Alembic migrations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores instants as naive UTC and hands back aware UTC datetimes on every database."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an instant is required")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class User(Base):
    """A person. Their messenger accounts are identities; settings and answers hang here."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    locale: Mapped[str] = mapped_column(String(16))
    second_locale: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Berlin")
    consent_version: Mapped[int] = mapped_column(Integer)
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Notification settings (/settings). Reminders: minutes before an event, comma separated
    # ("" for none). New events: "instant", or a "daily" / "weekly" digest at digest_hour
    # (weekly on digest_weekday, 0 = Monday) in the person's time zone. Quiet hours: from
    # quiet_from to quiet_until o'clock in their time zone; both None for none.
    reminder_minutes: Mapped[str] = mapped_column(
        String(64), default="1440,120", server_default="1440,120"
    )
    news_mode: Mapped[str] = mapped_column(String(16), default="instant", server_default="instant")
    digest_hour: Mapped[int] = mapped_column(Integer, default=18, server_default="18")
    digest_weekday: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    digest_next_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # No default here: the ORM would put it in place of an explicit None (no quiet hours).
    # People are created with the configured ones; rows from before 0007 got 22–8.
    quiet_from: Mapped[int | None] = mapped_column(Integer)
    quiet_until: Mapped[int | None] = mapped_column(Integer)


class Identity(Base):
    """One messenger account of a user, identified by (platform, platform user id)."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    platform: Mapped[str] = mapped_column(String(16))
    platform_user_id: Mapped[str] = mapped_column(String(255))
    chat_id: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    inactive_reason: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    website: Mapped[str | None] = mapped_column(String(500))
    feed_url: Mapped[str | None] = mapped_column(String(1000))
    # What the feed's events are: the language their text is written in, their topic, region.
    feed_language: Mapped[str | None] = mapped_column(String(16))
    feed_category_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="SET NULL")
    )
    feed_region_id: Mapped[int | None] = mapped_column(
        ForeignKey("regions.id", ondelete="SET NULL")
    )
    # How interpreter requests find an interpreter: "coordinator" (a coordinator offers each
    # request to an interpreter, who accepts or declines) or "board" (verified interpreters
    # of the language see open requests and claim one; a coordinator confirms the claim
    # unless ``auto_confirm``).
    interpreting: Mapped[str] = mapped_column(
        String(16), default="coordinator", server_default="coordinator"
    )
    auto_confirm: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    position: Mapped[int] = mapped_column(Integer)


class Region(Base):
    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    position: Mapped[int] = mapped_column(Integer)


class Subscription(Base):
    """A user follows a category."""

    __tablename__ = "subscriptions"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    category_id: Mapped[int] = mapped_column(
        ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RegionChoice(Base):
    """A user wants events of a region. No choice at all means every region."""

    __tablename__ = "region_choices"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    region_id: Mapped[int] = mapped_column(
        ForeignKey("regions.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("organisation_id", "uid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    uid: Mapped[str | None] = mapped_column(String(255))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Berlin")
    place: Mapped[str | None] = mapped_column(String(500))
    online_url: Mapped[str | None] = mapped_column(String(1000))
    capacity: Mapped[int | None] = mapped_column(Integer)
    registration_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="published")
    source: Mapped[str] = mapped_column(String(16), default="chat", server_default="chat")
    content_hash: Mapped[str | None] = mapped_column(String(64))
    # The organiser offers interpretation on request ("Sprachmittlung auf Anfrage").
    interpretation: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class EventText(Base):
    """Title and description of an event in one language."""

    __tablename__ = "event_texts"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    locale: Mapped[str] = mapped_column(String(16), primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    machine_translated: Mapped[bool] = mapped_column(Boolean, default=False)


class Rsvp(Base):
    """A user's answer to an event: going, maybe, not_going or waitlisted."""

    __tablename__ = "rsvps"
    __table_args__ = (
        UniqueConstraint("event_id", "user_id"),
        # Counts per event and status (every card) read the index only.
        Index("ix_rsvps_event_id_status", "event_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    waitlist_seq: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class OutboxMessage(Base):
    """One message to one recipient, written before it is sent; the delivery worker sends it."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("kind", "ref", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    ref: Mapped[str] = mapped_column(String(128))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(255))
    # The idempotency key of the send (Matrix txn id): the same on every attempt, after a
    # restart too, so the homeserver drops a repeat of a send that arrived.
    send_key: Mapped[str | None] = mapped_column(String(64))
    # The process (TREFFPUNKT_INSTANCE) that claimed the row for sending, and until when the
    # claim holds: other workers leave it alone until then; after, it is taken over.
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class LinkCode(Base):
    """A one-time code that joins a second messenger account to a person (stored hashed)."""

    __tablename__ = "link_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SeenEvent(Base):
    """Inbound events already handled, for transports that may deliver one twice."""

    __tablename__ = "seen_events"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class SendPace(Base):
    """When a platform's bulk lane may send next, shared by every process of the bot (seconds
    since the epoch on the database's clock): the messenger's rate limit holds for all of them
    together. Each process books slots here, a few at a time, and pauses here after a 429."""

    __tablename__ = "send_pace"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    next_at: Mapped[float] = mapped_column(Float(precision=53))


class SentMessage(Base):
    """The buttons of a message on a transport without real buttons (Matrix): numbered
    options and reactions are looked up here, so they still work after a restart."""

    __tablename__ = "sent_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(255), index=True)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    batch: Mapped[str] = mapped_column(String(36))
    buttons: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Membership(Base):
    """A role: umbrella admin (no organisation), or organiser / coordinator of one."""

    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InviteCode(Base):
    """A one-time code that gives a role in an organisation (stored hashed)."""

    __tablename__ = "invite_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE")
    )
    role: Mapped[str] = mapped_column(String(16))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuditEntry(Base):
    """Who did (or was refused) what, when; never the personal data of recipients."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(64))
    organisation_id: Mapped[int | None] = mapped_column(Integer)
    allowed: Mapped[bool] = mapped_column(Boolean)
    detail: Mapped[str] = mapped_column(String(255), default="")


class Conversation(Base):
    """Where a person is in a guided conversation (/newevent, /broadcast, …)."""

    __tablename__ = "conversations"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # The steps answered so far, newest last: where "back" leads.
    history: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Set from the bot's clock on every answer (it decides when a conversation expires).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Broadcast(Base):
    """An announcement to many people; its deliveries are outbox rows (kind "broadcast")."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    texts: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    audience: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    total: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Job(Base):
    """Slow or external work (a web service call) to run after the commit that asked for it."""

    __tablename__ = "jobs"
    __table_args__ = (UniqueConstraint("kind", "ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    ref: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    run_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Reminder(Base):
    """The reminder of one event at one offset, due at an instant in UTC. Its outbox rows (one
    per person who answered and wants that offset) are written only when it is due."""

    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("event_id", "minutes_before"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    minutes_before: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    # planned → sent (its outbox rows written) | skipped_late | cancelled
    status: Mapped[str] = mapped_column(String(16), default="planned", index=True)
    recipients: Mapped[int] = mapped_column(Integer, default=0)
    skipped_late: Mapped[int] = mapped_column(Integer, default=0)
    cant_come: Mapped[int] = mapped_column(Integer, default=0)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Offer(Base):
    """A free seat offered to the first person waiting, held for them until it expires."""

    __tablename__ = "offers"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # open → accepted | declined | expired | withdrawn (fewer seats, event cancelled)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DigestItem(Base):
    """A new event kept for a person's next daily or weekly digest."""

    __tablename__ = "digest_items"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Interpreter(Base):
    """A person in an organisation's pool of interpreters. They see no request before a
    coordinator of that organisation has verified them (and never while paused)."""

    __tablename__ = "interpreters"
    __table_args__ = (UniqueConstraint("organisation_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The first name or pseudonym a requester sees once the interpreter is confirmed.
    name: Mapped[str] = mapped_column(String(40))
    # Languages as "ar" (every variety) or "ar-maghrebi" (one variety).
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    # "woman", "man" or "" (not said: then not chosen for a request that asks for either).
    gender: Mapped[str] = mapped_column(String(8), default="")
    # pending (waiting to be verified) → verified ⇄ paused; removing deletes the row.
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    pledged_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Who verified, paused or removed them is in the audit log.
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class InterpreterRequest(Base):
    """A person's request for an interpreter: for an event, or for an organisation's
    counselling hours at a date, time and duration. After the retention period the row loses
    everything that points at people (requester, interpreter, pseudonym, topic); its language,
    variety and outcome stay for the counts."""

    __tablename__ = "interpreter_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    language: Mapped[str] = mapped_column(String(8))
    variety: Mapped[str | None] = mapped_column(String(16))
    mode: Mapped[str] = mapped_column(String(8))  # onsite, phone, video
    gender: Mapped[str] = mapped_column(String(8), default="any")  # any, woman, man
    topic: Mapped[str | None] = mapped_column(String(16))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    duration_minutes: Mapped[int] = mapped_column(Integer)
    pseudonym: Mapped[str | None] = mapped_column(String(40))
    # requested → offered | claimed → confirmed → done | cancelled | unfilled
    status: Mapped[str] = mapped_column(String(16), default="requested", index=True)
    interpreter_id: Mapped[int | None] = mapped_column(
        ForeignKey("interpreters.id", ondelete="SET NULL"), index=True
    )
    cancelled_by: Mapped[str | None] = mapped_column(String(16))
    # One more with every change: the references of the notices about it.
    version: Mapped[int] = mapped_column(Integer, default=0)
    # The nearest reminder already sent (minutes before the start), if any.
    reminded: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
