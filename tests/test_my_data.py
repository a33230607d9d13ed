"""/mydata shows everything stored, only to the person; /deletedata leaves no row behind."""

from __future__ import annotations

import json

from sqlalchemy import inspect, select, text

from bot.app.core import Core
from handlers.data import retention
from storage.models import (
    Base,
    Broadcast,
    DigestItem,
    Interpreter,
    InterpreterRequest,
    InviteCode,
    LinkCode,
    Membership,
    Offer,
    OutboxMessage,
    Rsvp,
)
from storage.repositories.users import CODE_SECTIONS, PERSONAL, USER_COLUMNS
from tests.fakes import Chatroom, registered
from tests.test_journey import event_by_uid
from tests.test_organisers import organiser


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
    assert [t["category"] for t in data["topics"]] == ["families"]
    assert [
        (a["platform"], a["account_id"], a["chat_id"], a["active"]) for a in data["accounts"]
    ] == [("fake", "olga", "olga", True)]
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
    # The person waiting is offered the seat and told; it is held for them.
    async with core.db.transaction() as s:
        status = await s.scalar(select(Rsvp.status).where(Rsvp.user_id == 4))
        offered = await s.scalar(select(Offer.status).where(Offer.user_id == 4))
    assert (status, offered) == ("waitlisted", "open")
    assert len(people[3].inbox) == 1

    # Repeating is harmless: the bot no longer knows the person and asks for consent.
    await leaving.says("/deletedata")
    assert any(b.data.startswith("p:y:") for b in leaving.buttons())


def test_the_export_covers_every_table_and_column_that_refers_to_a_person() -> None:
    """Walks the schema: a new table or column pointing at users fails here until the export
    (storage/repositories/users.py) shows it and /mydata says how long it is kept."""
    users = Base.metadata.tables["users"]
    referring = {
        (table.name, fk.parent.name)
        for table in Base.metadata.tables.values()
        for fk in table.foreign_keys
        if fk.column.table is users
    }
    declared = {(t.model.__tablename__, t.owner) for t in PERSONAL}
    assert referring == declared
    assert set(retention(60)) == {"user"} | {t.section for t in PERSONAL}
    assert set(USER_COLUMNS) <= set(users.columns.keys())
    for t in PERSONAL:
        columns = set(t.model.__table__.columns.keys())
        assert set(t.renamed) | t.secret | {t.owner} <= columns, t.section


async def test_my_data_holds_every_row_and_column_and_never_a_code(
    room: Chatroom, core: Core
) -> None:
    """Someone with a row in every table that refers to a person sees every column of each."""
    me = await organiser(room, "rania", "ar")
    await me.says("/topics")
    await me.taps("Families")
    await me.taps("📍 Regions")
    await me.taps("Leipzig")
    event = await event_by_uid(core, "offener-treff-leipzig")
    await me.presses(f"r:{event.id}:g:-")
    await me.says("/link")
    await me.says("/invite organiser")
    await me.says("/neworg Refused e. V.")  # refused and audited
    await me.says("/newevent")  # a draft
    async with core.db.transaction() as s:
        organisation = await s.scalar(
            select(Membership.organisation_id).where(Membership.user_id == 2)
        )
        assert organisation is not None
        s.add(Broadcast(organisation_id=organisation, author_user_id=2, texts={"ar": "…"}))
        s.add(OutboxMessage(kind="broadcast", ref="1", user_id=2, payload={"broadcast_id": 1}))
        now = core.services.users.clock()
        s.add(Offer(event_id=event.id, user_id=2, created_at=now, expires_at=now))
        s.add(DigestItem(user_id=2, event_id=event.id, added_at=now))
        s.add(
            Interpreter(
                organisation_id=organisation, user_id=2, name="R.", languages=["ar"], pledged_at=now
            )
        )
        s.add(
            InterpreterRequest(
                organisation_id=organisation,
                event_id=event.id,
                user_id=2,
                language="fa",
                variety="dari",
                mode="onsite",
                topic="event",
                starts_at=event.starts_at,
                duration_minutes=120,
                created_at=now,
                updated_at=now,
            )
        )
    async with core.db.transaction() as s:
        hashes = [
            *await s.scalars(select(LinkCode.code_hash)),
            *await s.scalars(select(InviteCode.code_hash)),
        ]
    assert len(hashes) == 2

    await me.says("/mydata")
    attachment = me.last[0].attachment
    assert attachment is not None
    content = attachment.content.decode("utf-8")
    data = json.loads(content)
    assert data["user"]["id"] == 2
    for t in PERSONAL:
        rows = data[t.section]
        assert rows, t.section
        expected = {
            t.renamed.get(c.name, c.name)
            for c in t.model.__table__.columns
            if c.name != t.owner and c.name not in t.secret
        }
        for row in rows:
            assert expected <= set(row), (t.section, expected - set(row))
        assert data["kept"][t.section]
    for code_hash in hashes:
        assert code_hash not in content
    valid_until = me.t("a code you made, valid until {moment}", moment="")
    for section in CODE_SECTIONS:
        assert data[section][0]["code"].startswith(valid_until)
    assert [r["role"] for r in data["roles"]] == ["organiser"]
    assert data["roles"][0]["organisation"] == "Kültür Kollektiv Leipzig e. V."
    assert [a["action"] for a in data["audit_entries"]] == ["join", "invite", "neworg"]
    assert [d["kind"] for d in data["conversation_drafts"]] == ["newevent"]
    assert data["answers"][0]["event_title"] and data["topics"][0]["category"] == "families"
    me.sees("Unfinished step-by-step conversation: {command}", command="/newevent")
    me.sees("How long I keep it:")
    assert (
        me.tn(
            "until you finish it or send /cancel; after {n} minute without an answer it ends, "
            "and is deleted when you next write to me",
            "until you finish it or send /cancel; after {n} minutes without an answer it ends, "
            "and is deleted when you next write to me",
            core.settings.conversation_minutes,
        )
        in me.text
    )
