"""Roles in organisations, invite codes and the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import AuditEntry, InviteCode, Membership, Organisation


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

    async def grant(self, user_id: int, organisation_id: int | None, role: str) -> bool:
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
        self.session.add(Membership(user_id=user_id, organisation_id=organisation_id, role=role))
        await self.session.flush()
        return True

    async def members(self, organisation_id: int, role: str) -> list[int]:
        rows = await self.session.scalars(
            select(Membership.user_id).where(
                Membership.organisation_id == organisation_id, Membership.role == role
            )
        )
        return list(rows)

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
    ) -> None:
        self.session.add(
            AuditEntry(
                actor_user_id=actor,
                action=action,
                organisation_id=organisation_id,
                allowed=allowed,
                detail=detail[:255],
            )
        )
        await self.session.flush()
