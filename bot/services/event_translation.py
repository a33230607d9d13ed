"""Machine translation of a new event, as a job after the commit that published it.

``EventService.publish`` queues the job (kind ``TRANSLATE_EVENT``, with the event, its
language, the languages wanted and the topic and region to announce it to). The web service is
called with no transaction open. The texts it returns are stored in the
same unit of work that queues the event's notices, so readers get the news once, in their
language where the service could translate, else in the event's own language.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bot.services.digests import announce
from bot.services.translation import Translator
from storage.db import Database
from storage.records import TextRecord
from storage.repositories import EventRepository

MAX_TITLE = 300


class EventTranslationJob:
    """Fills an event's other languages, marked as machine-translated, then tells readers."""

    def __init__(
        self,
        db: Database,
        translator: Callable[[], Translator | None],
        clock: Callable[[], datetime],
    ) -> None:
        self.db = db
        self.translator = translator
        self.clock = clock

    async def prepare(self, payload: dict[str, Any]) -> list[TextRecord]:
        async with self.db.transaction() as s:
            event = await EventRepository(s).get(int(payload["event_id"]))
        source = str(payload["source"])
        original = event.texts.get(source) if event else None
        translator = self.translator()
        if event is None or original is None or translator is None:
            return []
        texts = []
        for code in payload["targets"]:
            existing = event.texts.get(code)
            if existing is not None and not existing.machine_translated:
                continue  # an organiser's own translation is never replaced
            title = await translator.translate(original.title, source, code)
            description = (
                await translator.translate(original.description, source, code)
                if original.description
                else ""
            )
            if title and description is not None:
                texts.append(TextRecord(code, title[:MAX_TITLE], description, True))
        return texts

    async def apply(self, payload: dict[str, Any], texts: list[TextRecord]) -> None:
        event_id = int(payload["event_id"])
        async with self.db.transaction() as s:
            events = EventRepository(s)
            event = await events.get(event_id, lock=True)
            if event is None:
                return
            for text in texts:
                existing = event.texts.get(text.locale)
                if existing is None or existing.machine_translated:
                    await events.set_text(
                        event_id, text.locale, text.title, text.description, machine=True
                    )
        await self._announce(payload)

    async def give_up(self, payload: dict[str, Any]) -> None:
        """Without translations the news still goes out, in the languages the event has."""
        await self._announce(payload)

    async def _announce(self, payload: dict[str, Any]) -> None:
        async with self.db.transaction() as s:
            event = await EventRepository(s).get(int(payload["event_id"]))
            if event is not None and event.status == "published" and payload.get("notify"):
                category_id, region_id = payload["notify"]
                await announce(s, [(event.id, int(category_id), int(region_id))], self.clock())
