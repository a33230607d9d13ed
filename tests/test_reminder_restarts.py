"""Reminders survive crashes: the real ``treffpunkt run`` process, against the fake Bot API,
is killed with SIGKILL before a reminder is due and again in the middle of sending it, and is
started again each time. Every person gets the reminder exactly once (a send cut off by the
kill is ``unknown``, counted, and never repeated), none is lost, and a restart does not
multiply the scheduler's jobs."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bot.app.settings import PROJECT_ROOT
from bot.delivery.lanes import Lane
from bot.services.reminders import REMINDER, plan
from storage.db import Database, migrate
from storage.models import (
    Category,
    Event,
    EventText,
    Identity,
    Organisation,
    OutboxMessage,
    Region,
    Reminder,
    Rsvp,
    User,
)
from tests.telegram_fake import TOKEN, FakeBotAPI, FakeUser, Message
from tests.test_console import TREFFPUNKT

TITLE = "Neustart-Probe: Abendtreff im Nachbarschaftshaus"
LANGUAGES = ("de", "uk", "ar", "ru", "fa", "en")
PEOPLE = 48
FIRST_CHAT = 31_000  # Telegram user ids (= private chat ids) of the test's people
MAYBE_EVERY = 8  # every 8th person answered "maybe", the others "going"
DUE_IN = timedelta(seconds=25)  # the two-hour reminder is due this long after the set-up
RATE = 4  # messages per second: 48 reminders take about 12 s, time enough to kill mid-way
WAVE = Lane(RATE, 1.0, 3.0).wave  # rows marked "sending" together: 1 at this rate
# The wave in flight, and the next one (marked "sending", waiting for its turn on the lane).
IN_FLIGHT = 2 * WAVE
WAIT = 90.0
FINAL = {"sent", "failed", "unknown"}
JOBS = re.compile(r"scheduler jobs: (.*)$", re.MULTILINE)


def chat_of(i: int) -> int:
    return FIRST_CHAT + i


async def set_up(url: str) -> tuple[datetime, dict[int, int]]:
    """One published event starting in 2 h + DUE_IN, PEOPLE people who answered it, its
    reminders planned; returns the two-hour reminder's due instant and user id → chat id."""
    await migrate(url)
    db = Database(url)
    chats: dict[int, int] = {}
    try:
        async with db.transaction() as s:
            now = datetime.now(UTC)
            organisation = Organisation(slug="neustart-probe", name="Neustart-Probe e. V.")
            s.add(organisation)
            category = await s.scalar(select(Category.id).where(Category.slug == "networking"))
            region = await s.scalar(select(Region.id).where(Region.slug == "leipzig"))
            assert category is not None and region is not None, "the migrations seed them"
            await s.flush()
            event = Event(
                organisation_id=organisation.id,
                category_id=category,
                region_id=region,
                starts_at=now + timedelta(hours=2) + DUE_IN,
                timezone="Europe/Berlin",
                place="Nachbarschaftshaus, Leipzig",
                status="published",
            )
            s.add(event)
            await s.flush()
            s.add(
                EventText(
                    event_id=event.id,
                    locale="de",
                    title=TITLE,
                    description="Wir treffen uns zum Austausch.",
                )
            )
            for i in range(PEOPLE):
                user = User(
                    locale=LANGUAGES[i % len(LANGUAGES)],
                    timezone="Europe/Berlin",
                    consent_version=1,
                    consent_at=now,
                    quiet_from=None,  # the test runs at any hour of the real clock
                    quiet_until=None,
                    reminder_minutes="120",
                )
                s.add(user)
                await s.flush()
                s.add(
                    Identity(
                        user_id=user.id,
                        platform="telegram",
                        platform_user_id=str(chat_of(i)),
                        chat_id=str(chat_of(i)),
                        active=True,
                    )
                )
                status = "maybe" if i % MAYBE_EVERY == 0 else "going"
                s.add(Rsvp(event_id=event.id, user_id=user.id, status=status))
                chats[user.id] = chat_of(i)
            await plan(s, event.id, event.starts_at, event.timezone, now)
            due = await s.scalar(
                select(Reminder.due_at).where(
                    Reminder.event_id == event.id, Reminder.minutes_before == 120
                )
            )
            assert due is not None, "the two-hour reminder is still ahead, so it is planned"
    finally:
        await db.dispose()
    return due, chats


def environment(tmp_path: Path, url: str, api_url: str) -> dict[str, str]:
    """The process environment, without any Treffpunkt, Telegram or Matrix setting of the
    machine running the test."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TREFFPUNKT_", "TELEGRAM_", "MATRIX_"))
    }
    return env | {
        "TREFFPUNKT_DATABASE_URL": url,
        "TREFFPUNKT_ENV_FILE": str(tmp_path / "none.env"),
        "TREFFPUNKT_DEMO_DATA": "no",
        "TREFFPUNKT_FILES_DIR": str(tmp_path / "files"),
        "TREFFPUNKT_LOG_LEVEL": "INFO",  # the scheduler's jobs are logged at INFO
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_BASE_URL": api_url,
        "TELEGRAM_BULK_RATE": str(RATE),
    }


async def start(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    """``treffpunkt run``, its output (stdout and stderr) in ``log``: a file never fills up
    the way an unread pipe does."""
    with log.open("wb") as out:
        return await asyncio.create_subprocess_exec(
            TREFFPUNKT,
            "run",
            env=env,
            cwd=PROJECT_ROOT,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=out,
        )


def text_of(log: Path | None) -> str:
    return log.read_text(errors="replace") if log is not None else ""


async def until(
    condition: Callable[[], object],
    what: str,
    process: asyncio.subprocess.Process | None = None,
    log: Path | None = None,
    within: float = WAIT,
) -> None:
    """Wait until ``condition()`` is truthy; fail (with the process's log) if the process
    ends or ``within`` seconds pass first."""
    deadline = time.monotonic() + within
    while not condition():
        if process is not None and process.returncode is not None:
            shown = text_of(log)
            raise AssertionError(
                f"the process ended ({process.returncode}) before {what}:\n{shown}"
            )
        if time.monotonic() > deadline:
            shown = text_of(log)
            raise AssertionError(f"no {what} within {within} s:\n{shown}")
        await asyncio.sleep(0.05)


async def running(api: FakeBotAPI, env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    """Start the process and wait until it logged its jobs and polls the fake."""
    polls = sum(1 for method, _ in api.calls if method == "getUpdates")
    process = await start(env, log)

    def started() -> bool:
        text = text_of(log)
        polled = sum(1 for method, _ in api.calls if method == "getUpdates") > polls
        return "scheduler jobs: " in text and "Treffpunkt is running" in text and polled

    await until(
        started,
        "start (scheduler jobs logged, updates polled)",
        process,
        log,
    )
    return process


async def kill(process: asyncio.subprocess.Process) -> None:
    process.send_signal(signal.SIGKILL)
    await asyncio.wait_for(process.wait(), 30)
    assert process.returncode == -signal.SIGKILL


def reminders_in(api: FakeBotAPI, chat: int) -> list[Message]:
    """The reminders a chat shows: messages with the reminder's buttons ("rm:…")."""
    return [
        m
        for m in api.bot_messages(chat)
        if any(str(b.get("callback_data", "")).startswith("rm:") for b in m.buttons())
    ]


async def outbox(db: Database) -> dict[int, str]:
    """The reminder rows of the outbox, user id → status; read without a write lock."""
    async with db.unit_of_work(write=False) as unit:
        rows = await unit.session.execute(
            select(OutboxMessage.user_id, OutboxMessage.status).where(
                OutboxMessage.kind == REMINDER
            )
        )
        return {user_id: status for user_id, status in rows}


async def two_hour_reminder(db: Database) -> tuple[str, int]:
    async with db.unit_of_work(write=False) as unit:
        row = await unit.session.scalar(select(Reminder).where(Reminder.minutes_before == 120))
        assert row is not None
        return row.status, row.recipients


async def test_reminders_survive_kills_before_due_and_while_sending(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'reminders.sqlite3'}"
    due, chats = await set_up(url)
    api = FakeBotAPI(TOKEN)
    await api.start()
    for i in range(PEOPLE):
        api.private_chat(FakeUser(chat_of(i), f"Person {i}"))
    env = environment(tmp_path, url, api.url)
    logs = [tmp_path / f"start-{n}.log" for n in (1, 2, 3)]
    db = Database(url)
    process: asyncio.subprocess.Process | None = None

    def delivered() -> int:
        return sum(len(reminders_in(api, chat)) for chat in chats.values())

    try:
        # 1. Killed well before the reminder is due: nothing has gone out, nothing is written.
        process = await running(api, env, logs[0])
        assert datetime.now(UTC) < due - timedelta(seconds=3), (
            "the process took so long to start that the reminder was almost due"
        )
        await kill(process)
        assert delivered() == 0
        assert await outbox(db) == {}
        assert await two_hour_reminder(db) == ("planned", 0)

        # 2. Started again, it sends when due; killed in the middle of sending.
        process = await running(api, env, logs[1])
        await until(lambda: delivered() >= PEOPLE // 3, "reminders sent", process, logs[1])
        # The worker marks a wave "sending", then sends each at its turn on the lane
        # (1 / RATE s apart): killed in between, the wave's rows not yet sent are unknown.
        await asyncio.sleep(0.4 / RATE)
        await kill(process)
        halfway = delivered()
        assert 0 < halfway < PEOPLE, "killed in the middle of sending"
        rows = await outbox(db)
        assert len(rows) == PEOPLE, "one unit of work wrote every person's reminder"
        assert list(rows.values()).count("pending") > 0, "some were still to send"
        assert list(rows.values()).count("sending") <= IN_FLIGHT, "at most two waves in flight"
        assert await two_hour_reminder(db) == ("sent", PEOPLE)

        # 3. Started a third time, it sends the rest; stopped with SIGTERM when all are final.
        process = await running(api, env, logs[2])

        async def all_final() -> None:
            while True:
                now = await outbox(db)
                if len(now) == PEOPLE and set(now.values()) <= FINAL:
                    return
                if process is not None and process.returncode is not None:
                    raise AssertionError(text_of(logs[2]))
                await asyncio.sleep(0.25)

        await asyncio.wait_for(all_final(), WAIT)
        seen, stable_since = delivered(), time.monotonic()
        while time.monotonic() - stable_since < 1.5:  # nothing more arrives
            await asyncio.sleep(0.1)
            if delivered() != seen:
                seen, stable_since = delivered(), time.monotonic()
        process.send_signal(signal.SIGTERM)
        await asyncio.wait_for(process.wait(), 30)
        assert process.returncode == 0, text_of(logs[2])
        rows = await outbox(db)
        reminder = await two_hour_reminder(db)
    finally:
        if process is not None and process.returncode is None:
            process.kill()
            await process.wait()
        await api.stop()
        await db.dispose()

    # Every person: at most one reminder, and none without a trace. A row that was being sent
    # when the process was killed is "unknown" (it may or may not have arrived) and is never
    # sent again; the worker has a wave in flight and the next one waiting for its turn, so at
    # most two waves' rows are unknown.
    states = list(rows.values())
    assert "pending" not in states and "sending" not in states, rows
    assert states.count("failed") == 0, f"no reminder may be lost: {rows}"
    assert states.count("unknown") <= IN_FLIGHT, f"only the rows in flight at the kill: {rows}"
    for user_id, chat in chats.items():
        got = reminders_in(api, chat)
        sends = [p for m, p in api.calls if m == "sendMessage" and int(p["chat_id"]) == chat]
        assert len(got) <= 1, f"chat {chat} got the reminder {len(got)} times"
        assert len(sends) <= 1, f"the reminder to chat {chat} was sent {len(sends)} times"
        assert all(TITLE in m.visible_text for m in got), "the reminder names the event"
        if rows[user_id] == "sent":
            assert len(got) == 1, f"chat {chat}: sent, but nothing arrived"
        else:
            assert rows[user_id] == "unknown", f"chat {chat}: {rows[user_id]}"
    received = delivered()
    unknown = states.count("unknown")
    assert PEOPLE - received <= unknown, "every missing reminder is counted as unknown"
    assert received + unknown >= PEOPLE
    assert reminder == ("sent", PEOPLE), "written once, for everyone who answered"

    # Each start built the same jobs: a restart does not multiply them.
    texts = [text_of(log) for log in logs]
    jobs = []
    for n, text in enumerate(texts, 1):
        found = JOBS.findall(text)
        assert len(found) == 1, f"start {n} logged its jobs once:\n{text}"
        jobs.append(sorted(j.strip() for j in found[0].split(",")))
    assert jobs[0] == jobs[1] == jobs[2], jobs
    assert "reminders" in jobs[0]
    assert len(jobs[0]) == len(set(jobs[0])), "one job per kind"
    for n, text in enumerate(texts, 1):
        assert "Traceback" not in text, f"start {n}:\n{text}"
    assert "Treffpunkt is stopping" in texts[2]
