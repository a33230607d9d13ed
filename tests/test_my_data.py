"""/mydata shows everything stored, only to the person; /deletedata leaves no row behind."""

from __future__ import annotations

import json

from sqlalchemy import inspect, select, text

from bot.app.core import Core
from storage.models import Rsvp
from tests.fakes import Chatroom, registered
from tests.test_journey import event_by_uid


async def rows_referring_to(core: Core, user_id: int) -> dict[str, int]:
    """Every table with a user column (or the users table itself), counted for this person."""

    def tables(sync_conn: object) -> list[tuple[str, str]]:
        insp = inspect(sync_conn)
        found = []
        for table in insp.get_table_names():
            columns = {c["name"] for c in insp.get_columns(table)}
            if table == "users":
                found.append((table, "id"))
            elif "user_id" in columns:
                found.append((table, "user_id"))
        return found

    async with core.db.engine.connect() as conn:
        pairs = await conn.run_sync(tables)
        counts = {}
        for table, column in pairs:
            query = f"SELECT count(*) FROM {table} WHERE {column} = :u"  # noqa: S608 - schema names
            n = await conn.scalar(text(query), {"u": user_id})
            counts[table] = int(n or 0)
    return counts


async def test_my_data_lists_every_field_and_attaches_json(room: Chatroom, core: Core) -> None:
    p = await registered(room, "olga", "uk")
    await p.taps("Families")
    event = await event_by_uid(core, "liebe-grenzenlos")
    await p.presses(f"r:{event.id}:m:-")
    await p.says("/language")
    await p.taps("Українська")
    await p.taps("Русский")

    await p.says("/mydata")
    p.sees("This is everything I store about you:")
    p.sees("Time zone: {timezone}", timezone="Берлін")
    attachment = p.last[0].attachment
    assert attachment is not None and attachment.filename.endswith(".json")
    data = json.loads(attachment.content)
    assert data["user"]["language"] == "uk" and data["user"]["second_language"] == "ru"
    assert data["user"]["timezone"] == "Europe/Berlin", "the file keeps the raw value"
    assert data["topics"] == ["families"]
    assert data["accounts"] == [
        {"platform": "fake", "account_id": "olga", "chat_id": "olga", "active": True}
    ]
    assert [(a["event_id"], a["status"]) for a in data["answers"]] == [(event.id, "maybe")]


async def test_delete_data_leaves_no_row_and_gives_the_seat_away(
    room: Chatroom, core: Core
) -> None:
    event = await event_by_uid(core, "beratung-anerkennung")
    people = [await registered(room, f"d{i}", "de") for i in range(4)]
    for person in people:
        await person.presses(f"r:{event.id}:g:-")
    leaving = people[0]
    await leaving.says("/topics")
    await leaving.taps("Families")
    assert sum((await rows_referring_to(core, 1)).values()) > 0

    await leaving.says("/deletedata")
    await leaving.taps("No, keep it")
    leaving.sees("Nothing was deleted.")
    assert (await rows_referring_to(core, 1))["users"] == 1

    await leaving.says("/deletedata")
    await leaving.taps("🗑 Yes, delete everything")
    leaving.sees(
        "Done: I have deleted everything I stored about you. Goodbye! You are welcome back "
        "at any time with /start."
    )
    remaining = await rows_referring_to(core, 1)
    assert set(remaining) >= {"users", "identities", "rsvps", "subscriptions", "outbox"}
    assert sum(remaining.values()) == 0, remaining
    # The person waiting got the seat and was told.
    async with core.db.transaction() as s:
        status = await s.scalar(select(Rsvp.status).where(Rsvp.user_id == 4))
    assert status == "going"
    assert len(people[3].inbox) == 1

    # Repeating is harmless: the bot no longer knows the person and asks for consent.
    await leaving.says("/deletedata")
    assert any(b.data.startswith("p:y:") for b in leaving.buttons())
