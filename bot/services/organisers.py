"""Who may do what for which organisation; invite codes; the audit log."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.app.settings import Settings
from bot.i18n.text import slug
from bot.services import codes
from storage.db import Database
from storage.repositories import (
    CatalogRepository,
    OrganisationRecord,
    OrganiserRepository,
)

ROLES = ("organiser", "coordinator")
INVITE_DAYS = 7


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
            await OrganiserRepository(s).audit(actor, action, organisation_id, allowed, detail)

    async def organisations(self, authority: Authority) -> list[OrganisationRecord]:
        """The organisations a person acts for (all of them for an umbrella admin)."""
        async with self.db.transaction() as s:
            every = await OrganiserRepository(s).organisations()
        return [o for o in every if authority.organiser_of(o.id)]

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
            await OrganiserRepository(s).grant(user_id, None, "admin")

    async def invite(self, actor: int, organisation_id: int, role: str) -> str:
        shown, stored = codes.new_code(10)
        async with self.db.transaction() as s:
            await OrganiserRepository(s).add_invite(
                stored, organisation_id, role, actor, self.clock() + timedelta(days=INVITE_DAYS)
            )
        return shown

    async def join(self, user_id: int, code: str) -> tuple[OrganisationRecord, str] | None:
        """Redeem an invite: the role it carries, in its organisation; None if invalid."""
        async with self.db.transaction() as s:
            repo = OrganiserRepository(s)
            taken = await repo.take_invite(codes.digest(code), self.clock())
            if taken is None:
                return None
            organisation_id, role = taken
            if organisation_id is None:
                return None
            await repo.grant(user_id, organisation_id, role)
            await repo.audit(user_id, "join", organisation_id, True, role)
            organisation = await repo.organisation(organisation_id)
        return (organisation, role) if organisation else None
