"""Roles in organisations, invite codes and the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry, InviteCode, Membership, Organisation, User


@dataclass(frozen=True)
class OrganisationRecord:
    id: int
    slug: str
    name: str
    feed_url: str | None
    # What the feed's events are; None: the defaults of an import.
    feed_language: str | None = None
    feed_category_id: int | None = None
    feed_region_id: int | None = None


@dataclass(frozen=True)
class MemberRecord:
    """A role held in an organisation; ``id`` is the number people see, never an account id."""

    id: int
    user_id: int
    organisation_id: int
    role: str
    since: datetime
    locale: str


def _organisation(row: Organisation) -> OrganisationRecord:
    return OrganisationRecord(
        row.id,
        row.slug,
        row.name,
        row.feed_url,
        row.feed_language,
        row.feed_category_id,
        row.feed_region_id,
    )


class OrganiserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def organisations(self) -> list[OrganisationRecord]:
        rows = await self.session.scalars(select(Organisation).order_by(Organisation.name))
        return [_organisation(r) for r in rows]

    async def organisation(self, organisation_id: int) -> OrganisationRecord | None:
        row = await self.session.get(Organisation, organisation_id)
        return _organisation(row) if row else None

    async def organisation_by_slug(self, slug: str) -> OrganisationRecord | None:
        row = await self.session.scalar(select(Organisation).where(Organisation.slug == slug))
        return _organisation(row) if row else None

    async def set_feed(self, organisation_id: int, url: str | None) -> None:
        row = await self.session.get(Organisation, organisation_id)
        if row is not None:
            row.feed_url = url

    async def describe_feed(
        self,
        organisation_id: int,
        *,
        language: str | None = None,
        category_id: int | None = None,
        region_id: int | None = None,
    ) -> None:
        """Set the language, topic and region of the feed's events; None keeps the one set."""
        row = await self.session.get(Organisation, organisation_id)
        if row is None:
            return
        if language is not None:
            row.feed_language = language
        if category_id is not None:
            row.feed_category_id = category_id
        if region_id is not None:
            row.feed_region_id = region_id

    async def roles(self, user_id: int) -> list[tuple[int | None, str]]:
        rows = await self.session.execute(
            select(Membership.organisation_id, Membership.role).where(Membership.user_id == user_id)
        )
        return [(org, role) for org, role in rows]

    async def grant(
        self, user_id: int, organisation_id: int | None, role: str, at: datetime | None = None
    ) -> bool:
        """Give a role; False when the person already had it."""
        exists = await self.session.scalar(
            select(Membership.id).where(
                Membership.user_id == user_id,
                Membership.organisation_id.is_(None)
                if organisation_id is None
                else Membership.organisation_id == organisation_id,
                Membership.role == role,
            )
        )
        if exists is not None:
            return False
        membership = Membership(user_id=user_id, organisation_id=organisation_id, role=role)
        if at is not None:
            membership.created_at = at
        self.session.add(membership)
        await self.session.flush()
        return True

    async def members(self, organisation_id: int | None = None) -> list[MemberRecord]:
        """The roles held in one organisation (or in all of them), oldest first."""
        query = (
            select(Membership, User.locale)
            .join(User, User.id == Membership.user_id)
            .where(Membership.organisation_id.is_not(None))
            .order_by(Membership.id)
        )
        if organisation_id is not None:
            query = query.where(Membership.organisation_id == organisation_id)
        return [_member(m, locale) for m, locale in await self.session.execute(query)]

    async def member(self, membership_id: int) -> MemberRecord | None:
        """One role in an organisation by its number; None for an admin role or none."""
        row = (
            await self.session.execute(
                select(Membership, User.locale)
                .join(User, User.id == Membership.user_id)
                .where(Membership.id == membership_id, Membership.organisation_id.is_not(None))
            )
        ).first()
        return _member(row[0], row[1]) if row else None

    async def revoke(self, membership_id: int) -> None:
        await self.session.execute(delete(Membership).where(Membership.id == membership_id))

    async def revoke_admin(self, user_id: int) -> bool:
        """Take the umbrella admin role away; False when the person did not hold it."""
        result = await self.session.execute(
            delete(Membership).where(
                Membership.user_id == user_id,
                Membership.organisation_id.is_(None),
                Membership.role == "admin",
            )
        )
        return bool(getattr(result, "rowcount", 0))

    async def lock_person(self, user_id: int) -> None:
        """Serialise one person's attempts across processes (a row lock on PostgreSQL)."""
        await self.session.execute(select(User.id).where(User.id == user_id).with_for_update())

    async def refusals_since(self, user_id: int, action: str, since: datetime) -> int:
        """How often ``action`` was refused to this person since ``since``."""
        count = await self.session.scalar(
            select(func.count(AuditEntry.id)).where(
                AuditEntry.actor_user_id == user_id,
                AuditEntry.action == action,
                AuditEntry.allowed.is_(False),
                AuditEntry.at >= since,
            )
        )
        return count or 0

    async def add_invite(
        self,
        code_hash: str,
        organisation_id: int | None,
        role: str,
        created_by: int,
        expires_at: datetime,
    ) -> None:
        self.session.add(
            InviteCode(
                code_hash=code_hash,
                organisation_id=organisation_id,
                role=role,
                created_by=created_by,
                expires_at=expires_at,
            )
        )
        await self.session.flush()

    async def take_invite(self, code_hash: str, now: datetime) -> tuple[int | None, str] | None:
        """(organisation, role) of a valid invite; the code is used up either way."""
        row = await self.session.scalar(select(InviteCode).where(InviteCode.code_hash == code_hash))
        if row is None:
            return None
        await self.session.delete(row)
        return (row.organisation_id, row.role) if row.expires_at >= now else None

    async def audit(
        self,
        actor: int | None,
        action: str,
        organisation_id: int | None,
        allowed: bool,
        detail: str = "",
        *,
        at: datetime | None = None,
    ) -> None:
        entry = AuditEntry(
            actor_user_id=actor,
            action=action,
            organisation_id=organisation_id,
            allowed=allowed,
            detail=detail[:255],
        )
        if at is not None:
            entry.at = at
        self.session.add(entry)
        await self.session.flush()


def _member(row: Membership, locale: str) -> MemberRecord:
    assert row.organisation_id is not None
    return MemberRecord(row.id, row.user_id, row.organisation_id, row.role, row.created_at, locale)
