"""People and their messenger identities; export and complete deletion of a person's data."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Row, delete, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped

from storage.models import (
    AuditEntry,
    Base,
    Broadcast,
    Category,
    Conversation,
    DigestItem,
    Event,
    EventText,
    Identity,
    Interpreter,
    InterpreterRequest,
    InviteCode,
    LinkCode,
    Membership,
    Offer,
    Organisation,
    OutboxMessage,
    Region,
    RegionChoice,
    Rsvp,
    SentMessage,
    Subscription,
    User,
)
from storage.records import IdentityRecord, UserRecord

T = TypeVar("T")


@dataclass(frozen=True)
class PersonalTable:
    """A table that holds data about a person: the column that points at them (``owner``),
    names the export gives some columns, and columns never shown (hashed codes)."""

    section: str
    model: type[Base]
    owner: str
    renamed: Mapping[str, str] = field(default_factory=dict)
    secret: frozenset[str] = frozenset()


# The users table itself, shown as "user".
USER_COLUMNS: Mapping[str, str] = {
    "locale": "language",
    "second_locale": "second_language",
    "consent_version": "privacy_notice_version_accepted",
    "consent_at": "privacy_notice_accepted_at",
}
# Every other table that refers to a person (a test walks the schema and holds this to it).
PERSONAL: tuple[PersonalTable, ...] = (
    PersonalTable("accounts", Identity, "user_id", {"platform_user_id": "account_id"}),
    PersonalTable("topics", Subscription, "user_id"),
    PersonalTable("regions", RegionChoice, "user_id"),
    PersonalTable(
        "answers", Rsvp, "user_id", {"created_at": "answered_at", "updated_at": "changed_at"}
    ),
    PersonalTable("messages_to_you", OutboxMessage, "user_id"),
    PersonalTable("roles", Membership, "user_id"),
    PersonalTable("conversation_drafts", Conversation, "user_id"),
    PersonalTable("link_codes", LinkCode, "user_id", secret=frozenset({"code_hash"})),
    PersonalTable("invite_codes", InviteCode, "created_by", secret=frozenset({"code_hash"})),
    PersonalTable("broadcasts_you_wrote", Broadcast, "author_user_id"),
    PersonalTable("audit_entries", AuditEntry, "actor_user_id"),
    PersonalTable("seat_offers", Offer, "user_id"),
    PersonalTable("events_for_your_digest", DigestItem, "user_id"),
    PersonalTable("interpreter_requests", InterpreterRequest, "user_id"),
    PersonalTable("interpreter_registrations", Interpreter, "user_id"),
)
# The sections whose rows are codes the person made: shown only as "a code, valid until …".
CODE_SECTIONS = frozenset(t.section for t in PERSONAL if t.secret)


def _json(value: object) -> object:
    return value.isoformat() if isinstance(value, datetime) else value


def _row(
    row: Base, renamed: Mapping[str, str], owner: str, secret: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Every column of ``row`` but the one pointing at the person and the secret ones."""
    return {
        renamed.get(c.key, c.key): _json(getattr(row, c.key))
        for c in inspect(type(row)).column_attrs
        if c.key != owner and c.key not in secret
    }


async def _names(
    session: AsyncSession, key: Mapped[int], name: Mapped[T], ids: set[int]
) -> dict[int, T]:
    rows = await session.execute(select(key, name).where(key.in_(ids)))
    return {row[0]: row[1] for row in rows}


async def _label(session: AsyncSession, export: dict[str, Any], locale: str) -> None:
    """Next to an id of a category, region, organisation or event, what people call it."""
    rows = [row for section in export.values() if isinstance(section, list) for row in section]

    def ids(key: str) -> set[int]:
        return {row[key] for row in rows if isinstance(row.get(key), int)}

    categories = await _names(session, Category.id, Category.slug, ids("category_id"))
    regions = await _names(session, Region.id, Region.slug, ids("region_id"))
    organisations = await _names(
        session, Organisation.id, Organisation.name, ids("organisation_id")
    )
    starts = await _names(session, Event.id, Event.starts_at, ids("event_id"))
    titles: dict[int, str] = {}
    texts = await session.execute(
        select(EventText.event_id, EventText.locale, EventText.title)
        .where(EventText.event_id.in_(starts))
        .order_by(EventText.event_id, EventText.locale)
    )
    for event_id, text_locale, title in texts:
        if event_id not in titles or text_locale == locale:
            titles[event_id] = title
    for row in rows:
        if row.get("category_id") in categories:
            row["category"] = categories[row["category_id"]]
        if row.get("region_id") in regions:
            row["region"] = regions[row["region_id"]]
        if row.get("organisation_id") in organisations:
            row["organisation"] = organisations[row["organisation_id"]]
        if row.get("event_id") in starts:
            row["event_title"] = titles.get(row["event_id"])
            row["event_starts_at"] = starts[row["event_id"]].isoformat()


_USER_COLUMNS = (
    User.id,
    User.locale,
    User.second_locale,
    User.timezone,
    User.consent_version,
    User.consent_at,
    User.created_at,
    User.reminder_minutes,
    User.news_mode,
    User.digest_hour,
    User.digest_weekday,
    User.quiet_from,
    User.quiet_until,
)
# In the order of IdentityRecord's fields.
_IDENTITY_COLUMNS = (
    Identity.id,
    Identity.user_id,
    Identity.platform,
    Identity.platform_user_id,
    Identity.chat_id,
    Identity.active,
)


def _user(row: User | Row[*tuple[Any, ...]]) -> UserRecord:
    """The person from their row: an ORM object, or a plain row of :data:`_USER_COLUMNS`."""
    return UserRecord(
        id=row.id,
        locale=row.locale,
        second_locale=row.second_locale,
        timezone=row.timezone,
        consent_version=row.consent_version,
        consent_at=row.consent_at,
        created_at=row.created_at,
        reminder_minutes=minutes_of(row.reminder_minutes),
        news_mode=row.news_mode,
        digest_hour=row.digest_hour,
        digest_weekday=row.digest_weekday,
        quiet_from=row.quiet_from,
        quiet_until=row.quiet_until,
    )


def minutes_of(stored: str | None) -> tuple[int, ...]:
    """The reminder offsets as stored ("1440,120"), longest first."""
    found = {int(part) for part in (stored or "").split(",") if part.strip().isdigit()}
    return tuple(sorted(found, reverse=True))


def _identity(row: Identity) -> IdentityRecord:
    return IdentityRecord(
        id=row.id,
        user_id=row.user_id,
        platform=row.platform,
        platform_user_id=row.platform_user_id,
        chat_id=row.chat_id,
        active=row.active,
    )


@dataclass(frozen=True)
class Account:
    """A person as one of their messenger accounts finds them."""

    user: UserRecord
    chat_id: str | None  # the account's direct chat, where notices go
    active: bool  # False: marked unreachable (blocked the bot)


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_account(self, platform: str, platform_user_id: str) -> Account | None:
        """The person behind an account, with the account's direct chat and whether it is
        reachable: one statement of plain columns (every update asks)."""
        row = (
            await self.session.execute(
                select(*_USER_COLUMNS, Identity.chat_id.label("at"), Identity.active.label("on"))
                .join(Identity, Identity.user_id == User.id)
                .where(Identity.platform == platform, Identity.platform_user_id == platform_user_id)
            )
        ).first()
        return Account(_user(row), row.at, row.on) if row is not None else None

    async def get(self, user_id: int, *, lock: bool = False) -> UserRecord | None:
        """The person; ``lock`` keeps other processes from changing them until the commit."""
        row = await self.session.get(User, user_id, with_for_update=lock or None)
        return _user(row) if row else None

    async def create(
        self,
        *,
        platform: str,
        platform_user_id: str,
        chat_id: str | None,
        locale: str,
        timezone: str,
        consent_version: int,
        consent_at: datetime,
        quiet_hours: tuple[int, int] | None = (22, 8),
    ) -> UserRecord:
        start, end = quiet_hours if quiet_hours is not None else (None, None)
        user = User(
            locale=locale,
            timezone=timezone,
            consent_version=consent_version,
            consent_at=consent_at,
            created_at=consent_at,
            quiet_from=start,
            quiet_until=end,
        )
        self.session.add(user)
        await self.session.flush()
        self.session.add(
            Identity(
                user_id=user.id,
                platform=platform,
                platform_user_id=platform_user_id,
                chat_id=chat_id,
                active=True,
            )
        )
        await self.session.flush()
        return _user(user)

    async def update(self, user_id: int, **values: Any) -> UserRecord:
        row = await self.session.get(User, user_id)
        if row is None:
            raise LookupError(user_id)
        for key, value in values.items():
            setattr(row, key, value)
        await self.session.flush()
        return _user(row)

    async def identities(self, user_id: int) -> list[IdentityRecord]:
        rows = await self.session.scalars(
            select(Identity).where(Identity.user_id == user_id).order_by(Identity.id)
        )
        return [_identity(r) for r in rows]

    async def recipients(
        self, user_ids: Collection[int]
    ) -> dict[int, tuple[UserRecord, list[IdentityRecord]]]:
        """Many people with their accounts (oldest first), in two statements of plain rows
        (no ORM objects: the delivery worker reads these for every message); the ones gone
        are missing."""
        if not user_ids:
            return {}
        ids = list(set(user_ids))
        found: dict[int, tuple[UserRecord, list[IdentityRecord]]] = {}
        for row in await self.session.execute(select(*_USER_COLUMNS).where(User.id.in_(ids))):
            found[row.id] = (_user(row), [])
        accounts = await self.session.execute(
            select(*_IDENTITY_COLUMNS).where(Identity.user_id.in_(ids)).order_by(Identity.id)
        )
        for account in accounts:
            if account.user_id in found:
                found[account.user_id][1].append(IdentityRecord(*account))
        return found

    async def reached(self, platform: str, platform_user_id: str, chat_id: str) -> None:
        """The account wrote from its direct chat ``chat_id``: notices go there again, also
        after it was marked unreachable (a person who blocked the bot and came back)."""
        row = await self.session.scalar(
            select(Identity).where(
                Identity.platform == platform, Identity.platform_user_id == platform_user_id
            )
        )
        if row is None:
            return
        if row.chat_id != chat_id:
            row.chat_id = chat_id
        if not row.active:
            row.active, row.inactive_reason = True, None

    async def move_chat(self, identity_id: int, chat_id: str) -> None:
        """The account's chat has a new id (a Telegram group became a supergroup)."""
        await self.session.execute(
            update(Identity).where(Identity.id == identity_id).values(chat_id=chat_id)
        )

    async def deactivate(self, identity_id: int, reason: str) -> None:
        """The account blocked the bot or is gone: nothing more is sent to it."""
        await self.session.execute(
            update(Identity)
            .where(Identity.id == identity_id)
            .values(active=False, inactive_reason=reason[:255])
        )

    async def export(self, user_id: int) -> dict[str, Any]:
        """Every stored row that refers to the person, every column of it, as JSON-ready data:
        ``user`` and one list per entry of :data:`PERSONAL`, each row with readable names of
        what it points at. Secret columns (hashed codes) are left out."""
        user = await self.session.get(User, user_id)
        if user is None:
            return {}
        export: dict[str, Any] = {"user": _row(user, USER_COLUMNS, owner="")}
        for table in PERSONAL:
            owner = getattr(table.model, table.owner)
            rows = await self.session.scalars(
                select(table.model)
                .where(owner == user_id)
                .order_by(*inspect(table.model).primary_key)
            )
            export[table.section] = [
                _row(r, table.renamed, table.owner, table.secret) for r in rows
            ]
        await _label(self.session, export, user.locale)
        return export

    async def delete(self, user_id: int) -> None:
        """Remove the person and every row that refers to them."""
        chats = [i.chat_id for i in await self.identities(user_id) if i.chat_id]
        await self.session.execute(delete(SentMessage).where(SentMessage.chat_id.in_(chats)))
        for model in (
            OutboxMessage,
            Rsvp,
            Subscription,
            RegionChoice,
            LinkCode,
            Membership,
            Conversation,
            Identity,
        ):
            await self.session.execute(delete(model).where(model.user_id == user_id))
        # What the person did as an organiser stays, without pointing to them.
        await self.session.execute(
            update(AuditEntry).where(AuditEntry.actor_user_id == user_id).values(actor_user_id=None)
        )
        await self.session.execute(
            update(Broadcast).where(Broadcast.author_user_id == user_id).values(author_user_id=None)
        )
        await self.session.execute(
            update(InviteCode).where(InviteCode.created_by == user_id).values(created_by=None)
        )
        # Requests for an interpreter stay for the counts, with nothing pointing at the person;
        # those they took as an interpreter lose them (the caller gave them back to the pool).
        await self.session.execute(
            update(InterpreterRequest)
            .where(InterpreterRequest.user_id == user_id)
            .values(user_id=None, pseudonym=None, topic=None, gender="any")
        )
        theirs = select(Interpreter.id).where(Interpreter.user_id == user_id)
        await self.session.execute(
            update(InterpreterRequest)
            .where(InterpreterRequest.interpreter_id.in_(theirs))
            .values(interpreter_id=None)
        )
        await self.session.execute(delete(Interpreter).where(Interpreter.user_id == user_id))
        await self.session.execute(delete(User).where(User.id == user_id))
