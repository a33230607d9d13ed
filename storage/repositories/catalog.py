"""Categories, regions, organisations, and what each person follows."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Category, Organisation, Region, RegionChoice, Subscription


class CatalogRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def categories(self) -> dict[int, str]:
        rows = await self.session.execute(
            select(Category.id, Category.slug).order_by(Category.position)
        )
        return {row.id: row.slug for row in rows}

    async def regions(self) -> dict[int, str]:
        rows = await self.session.execute(select(Region.id, Region.slug).order_by(Region.position))
        return {row.id: row.slug for row in rows}

    async def category_id(self, slug: str) -> int | None:
        return await self.session.scalar(select(Category.id).where(Category.slug == slug))

    async def region_id(self, slug: str) -> int | None:
        return await self.session.scalar(select(Region.id).where(Region.slug == slug))

    async def subscribed(self, user_id: int) -> set[int]:
        rows = await self.session.scalars(
            select(Subscription.category_id).where(Subscription.user_id == user_id)
        )
        return set(rows)

    async def chosen_regions(self, user_id: int) -> set[int]:
        rows = await self.session.scalars(
            select(RegionChoice.region_id).where(RegionChoice.user_id == user_id)
        )
        return set(rows)

    async def _set(
        self, model: type[Subscription] | type[RegionChoice], key: tuple[int, int], on: bool
    ) -> None:
        """Set, not toggle: the same call twice leaves the same state."""
        existing = await self.session.get(model, key)
        if on and existing is None:
            columns = [column.key for column in model.__table__.primary_key]
            self.session.add(model(**dict(zip(columns, key, strict=True))))
        elif not on and existing is not None:
            await self.session.delete(existing)
        await self.session.flush()

    async def set_subscription(self, user_id: int, category_id: int, on: bool) -> None:
        await self._set(Subscription, (user_id, category_id), on)

    async def set_region(self, user_id: int, region_id: int, on: bool) -> None:
        await self._set(RegionChoice, (user_id, region_id), on)

    async def subscribers(self, category_id: int, region_id: int) -> list[int]:
        """People who follow the category and want events of that region (or everywhere)."""
        statewide = await self.region_id("saxony")
        chose = select(RegionChoice.user_id).where(RegionChoice.user_id == Subscription.user_id)
        chose_here = chose.where(RegionChoice.region_id.in_([region_id, statewide or -1]))
        query = select(Subscription.user_id).where(Subscription.category_id == category_id)
        if region_id != statewide:
            query = query.where(or_(~chose.exists(), chose_here.exists()))
        return list(await self.session.scalars(query.order_by(Subscription.user_id)))

    async def organisation(self, slug: str, name: str, website: str | None = None) -> int:
        """The id of the organisation ``slug``, created (or renamed) as given."""
        row = await self.session.scalar(select(Organisation).where(Organisation.slug == slug))
        if row is None:
            row = Organisation(slug=slug, name=name, website=website)
            self.session.add(row)
        else:
            row.name, row.website = name, website
        await self.session.flush()
        return row.id
