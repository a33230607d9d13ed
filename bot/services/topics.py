"""What a person follows: categories and regions."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.errors import StaleButton
from storage.db import Database
from storage.repositories import CatalogRepository


@dataclass(frozen=True)
class Choice:
    id: int
    slug: str
    on: bool


@dataclass(frozen=True)
class TopicState:
    categories: list[Choice]
    regions: list[Choice]


class TopicService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def state(self, user_id: int) -> TopicState:
        async with self.db.transaction() as s:
            return await self._state(CatalogRepository(s), user_id)

    @staticmethod
    async def _state(repo: CatalogRepository, user_id: int) -> TopicState:
        subscribed = await repo.subscribed(user_id)
        chosen = await repo.chosen_regions(user_id)
        return TopicState(
            categories=[
                Choice(i, slug, i in subscribed) for i, slug in (await repo.categories()).items()
            ],
            regions=[Choice(i, slug, i in chosen) for i, slug in (await repo.regions()).items()],
        )

    async def set_category(self, user_id: int, category_id: int, on: bool) -> TopicState:
        """Follow (``on``) or stop following a category; the same press twice changes nothing."""
        async with self.db.transaction() as s:
            repo = CatalogRepository(s)
            if category_id not in await repo.categories():
                raise StaleButton("unknown category")
            await repo.set_subscription(user_id, category_id, on)
            return await self._state(repo, user_id)

    async def set_region(self, user_id: int, region_id: int, on: bool) -> TopicState:
        async with self.db.transaction() as s:
            repo = CatalogRepository(s)
            if region_id not in await repo.regions():
                raise StaleButton("unknown region")
            await repo.set_region(user_id, region_id, on)
            return await self._state(repo, user_id)
