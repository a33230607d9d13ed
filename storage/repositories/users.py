"""People and their messenger identities; export and complete deletion of a person's data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    AuditEntry,
    Broadcast,
    Category,
    Conversation,
    Event,
    EventText,
    Identity,
    InviteCode,
    LinkCode,
    Membership,
    OutboxMessage,
    Region,
    RegionChoice,
    Rsvp,
    SentMessage,
    Subscription,
    User,
)
from storage.records import IdentityRecord, UserRecord


def _user(row: User) -> UserRecord:
    return UserRecord(
        id=row.id,
        locale=row.locale,
        second_locale=row.second_locale,
        timezone=row.timezone,
        consent_version=row.consent_version,
        consent_at=row.consent_at,
        created_at=row.created_at,
    )


def _identity(row: Identity) -> IdentityRecord:
    return IdentityRecord(
        id=row.id,
        user_id=row.user_id,
        platform=row.platform,
        platform_user_id=row.platform_user_id,
        chat_id=row.chat_id,
        active=row.active,
    )


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_identity(self, platform: str, platform_user_id: str) -> UserRecord | None:
        row = await self.session.scalar(
            select(User)
            .join(Identity, Identity.user_id == User.id)
            .where(Identity.platform == platform, Identity.platform_user_id == platform_user_id)
        )
        return _user(row) if row else None

    async def get(self, user_id: int) -> UserRecord | None:
        row = await self.session.get(User, user_id)
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
    ) -> UserRecord:
        user = User(
            locale=locale,
            timezone=timezone,
            consent_version=consent_version,
            consent_at=consent_at,
            created_at=consent_at,
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
        """Every stored field that refers to the person, as plain JSON-ready data."""
        user = await self.session.get(User, user_id)
        if user is None:
            return {}
        identities = await self.identities(user_id)
        categories = await self.session.scalars(
            select(Category.slug)
            .join(Subscription, Subscription.category_id == Category.id)
            .where(Subscription.user_id == user_id)
            .order_by(Category.position)
        )
        regions = await self.session.scalars(
            select(Region.slug)
            .join(RegionChoice, RegionChoice.region_id == Region.id)
            .where(RegionChoice.user_id == user_id)
            .order_by(Region.position)
        )
        rsvps = await self.session.execute(
            select(Rsvp, Event.starts_at, EventText.title)
            .join(Event, Event.id == Rsvp.event_id)
            .outerjoin(EventText, EventText.event_id == Event.id)
            .where(Rsvp.user_id == user_id)
            .order_by(Event.starts_at, Rsvp.id)
        )
        answers: dict[int, dict[str, Any]] = {}
        for rsvp, starts_at, title in rsvps:
            answers.setdefault(
                rsvp.id,
                {
                    "event_id": rsvp.event_id,
                    "event_title": title,
                    "event_starts_at": starts_at.isoformat(),
                    "status": rsvp.status,
                    "waitlist_seq": rsvp.waitlist_seq,
                    "answered_at": rsvp.created_at.isoformat(),
                    "changed_at": rsvp.updated_at.isoformat(),
                },
            )
        outbox = await self.session.scalars(
            select(OutboxMessage).where(OutboxMessage.user_id == user_id).order_by(OutboxMessage.id)
        )
        return {
            "user": {
                "id": user.id,
                "language": user.locale,
                "second_language": user.second_locale,
                "timezone": user.timezone,
                "privacy_notice_version_accepted": user.consent_version,
                "privacy_notice_accepted_at": user.consent_at.isoformat(),
                "created_at": user.created_at.isoformat(),
            },
            "accounts": [
                {
                    "platform": i.platform,
                    "account_id": i.platform_user_id,
                    "chat_id": i.chat_id,
                    "active": i.active,
                }
                for i in identities
            ],
            "topics": list(categories),
            "regions": list(regions),
            "answers": list(answers.values()),
            "messages_to_you": [
                {"kind": m.kind, "status": m.status, "created_at": m.created_at.isoformat()}
                for m in outbox
            ],
        }

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
        await self.session.execute(delete(User).where(User.id == user_id))
