"""Who may do what for which organisation; invite codes; the audit log."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from bot.app.settings import Settings
from bot.i18n.text import slug
from bot.services import codes
from bot.services.notify import queue
from storage.db import Database
from storage.repositories import (
    CatalogRepository,
    OrganisationRecord,
    OrganiserRepository,
)
from storage.repositories.organisers import MemberRecord

INVITE_DAYS = 7
# Wrong invite codes a person may try per hour; the refusals in the audit log are the count,
# so the limit holds across restarts and processes.
JOIN_TRIES = 5
JOIN_WINDOW = timedelta(hours=1)
ROLE_REMOVED = "role_removed"

JoinRefusal = Literal["wrong", "throttled"]


def slugify(name: str) -> str:
    """An organisation's short name from its name; 60 characters leave room for "-2"."""
    return slug(name, 60) or "org"


@dataclass(frozen=True)
class Authority:
    """What one person may do: umbrella admin, and roles per organisation."""

    admin: bool = False
    roles: dict[int, set[str]] = field(default_factory=dict)

    def organiser_of(self, organisation_id: int) -> bool:
        return self.admin or "organiser" in self.roles.get(organisation_id, set())

    @property
    def organiser_anywhere(self) -> bool:
        return self.admin or any("organiser" in r for r in self.roles.values())

    @property
    def coordinator_anywhere(self) -> bool:
        return any("coordinator" in r for r in self.roles.values())

    def coordinator_of(self, organisation_id: int) -> bool:
        """Coordinates the organisation's interpreters (umbrella admins may too)."""
        return self.admin or "coordinator" in self.roles.get(organisation_id, set())


@dataclass(frozen=True)
class Joined:
    """An invite redeemed: the role it gave, in which organisation."""

    organisation: OrganisationRecord
    role: str


class OrganiserService:
    def __init__(self, db: Database, settings: Settings, clock: Callable[[], datetime]) -> None:
        self.db = db
        self.admins = set(settings.admins)
        self.clock = clock

    async def authority(self, user_id: int, platform: str, platform_user_id: str) -> Authority:
        async with self.db.transaction() as s:
            rows = await OrganiserRepository(s).roles(user_id)
        admin = f"{platform}:{platform_user_id}" in self.admins or (None, "admin") in rows
        roles: dict[int, set[str]] = {}
        for organisation_id, role in rows:
            if organisation_id is not None:
                roles.setdefault(organisation_id, set()).add(role)
        return Authority(admin, roles)

    async def audit(
        self,
        actor: int | None,
        action: str,
        organisation_id: int | None,
        allowed: bool,
        detail: str = "",
    ) -> None:
        async with self.db.transaction() as s:
            await OrganiserRepository(s).audit(
                actor, action, organisation_id, allowed, detail, at=self.clock()
            )

    async def organisations(self, authority: Authority) -> list[OrganisationRecord]:
        """The organisations a person acts for (all of them for an umbrella admin)."""
        async with self.db.transaction() as s:
            every = await OrganiserRepository(s).organisations()
        return [o for o in every if authority.organiser_of(o.id)]

    async def organisations_all(self) -> list[OrganisationRecord]:
        """Every organisation, by name (to register as an interpreter, or ask for one)."""
        async with self.db.transaction() as s:
            return await OrganiserRepository(s).organisations()

    async def organisation(self, organisation_id: int) -> OrganisationRecord | None:
        async with self.db.transaction() as s:
            return await OrganiserRepository(s).organisation(organisation_id)

    async def create_organisation(self, name: str) -> OrganisationRecord:
        async with self.db.transaction() as s:
            repo = OrganiserRepository(s)
            base = slugify(name)
            slug, n = base, 1
            while await repo.organisation_by_slug(slug) is not None:
                n += 1
                slug = f"{base}-{n}"
            organisation_id = await CatalogRepository(s).organisation(slug, name)
            found = await repo.organisation(organisation_id)
        assert found is not None
        return found

    async def grant_admin(self, user_id: int) -> None:
        async with self.db.transaction() as s:
            await OrganiserRepository(s).grant(user_id, None, "admin", at=self.clock())

    async def revoke_admin(self, user_id: int) -> bool:
        """Take the umbrella admin role away; False when the person did not hold it."""
        async with self.db.transaction() as s:
            repo = OrganiserRepository(s)
            removed = await repo.revoke_admin(user_id)
            if removed:
                await repo.audit(
                    None, "admin remove", None, True, f"user {user_id}", at=self.clock()
                )
        return removed

    async def members(self, organisation_id: int | None = None) -> list[MemberRecord]:
        """The roles held in one organisation (or in all), by their numbers."""
        async with self.db.transaction() as s:
            return await OrganiserRepository(s).members(organisation_id)

    async def member(self, membership_id: int) -> MemberRecord | None:
        async with self.db.transaction() as s:
            return await OrganiserRepository(s).member(membership_id)

    async def remove_role(self, actor: int | None, membership_id: int) -> MemberRecord | None:
        """Take a role away and tell the person, in their language; None if it is gone."""
        async with self.db.transaction() as s:
            repo = OrganiserRepository(s)
            member = await repo.member(membership_id)
            if member is None:
                return None
            await repo.revoke(membership_id)
            await repo.audit(
                actor,
                "removerole",
                member.organisation_id,
                True,
                f"{member.role} {membership_id}",
                at=self.clock(),
            )
            payload = {"organisation_id": member.organisation_id, "role": member.role}
            await queue(
                s, ROLE_REMOVED, str(membership_id), [member.user_id], payload, now=self.clock()
            )
        return member

    async def invite(self, actor: int, organisation_id: int, role: str) -> str:
        shown, stored = codes.new_code(10)
        async with self.db.transaction() as s:
            await OrganiserRepository(s).add_invite(
                stored, organisation_id, role, actor, self.clock() + timedelta(days=INVITE_DAYS)
            )
        return shown

    async def join(self, user_id: int, code: str) -> Joined | JoinRefusal:
        """Redeem an invite; wrong codes are audited and, past JOIN_TRIES an hour, not tried."""
        now = self.clock()
        async with self.db.transaction() as s:
            repo = OrganiserRepository(s)
            await repo.lock_person(user_id)
            if await repo.refusals_since(user_id, "join", now - JOIN_WINDOW) >= JOIN_TRIES:
                await repo.audit(user_id, "join", None, False, "throttled", at=now)
                return "throttled"
            taken = await repo.take_invite(codes.digest(code), now)
            organisation = await repo.organisation(taken[0]) if taken and taken[0] else None
            if taken is None or organisation is None:
                await repo.audit(user_id, "join", None, False, "wrong or expired code", at=now)
                return "wrong"
            role = taken[1]
            await repo.grant(user_id, organisation.id, role, at=now)
            await repo.audit(user_id, "join", organisation.id, True, role, at=now)
        return Joined(organisation, role)
