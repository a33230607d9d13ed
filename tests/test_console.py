"""The console chat through the real ``treffpunkt`` command, with a piped conversation."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app.core import Core
from bot.app.settings import PROJECT_ROOT
from bot.i18n import I18n
from bot.transports.console import ConsoleTransport
from storage.models import Event, Subscription
from tests.fakes import Chatroom, registered
from tests.test_manage import demo_event_of_new_org
from tests.test_organisers import INVITE

TREFFPUNKT = shutil.which("treffpunkt", path=str(Path(sys.executable).parent)) or "treffpunkt"
CATALOGS = I18n(PROJECT_ROOT / "locales")


def t(locale: str, message: str) -> str:
    return CATALOGS.lang(locale).translations.gettext(message)


def chat(tmp_path: Path, conversation: str | bytes, **env: str) -> str:
    environment = {
        **os.environ,
        "TREFFPUNKT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'console.sqlite3'}",
        "TREFFPUNKT_FILES_DIR": str(tmp_path / "files"),
        "TREFFPUNKT_ENV_FILE": str(tmp_path / "no-such.env"),
        # The console runs on the real clock: quiet hours would hold notices at night.
        "TREFFPUNKT_QUIET_HOURS": "off",
        **env,
    }
    environment.pop("TELEGRAM_BOT_TOKEN", None)
    result = subprocess.run(
        [TREFFPUNKT, "console"],
        input=conversation.encode() if isinstance(conversation, str) else conversation,
        capture_output=True,
        env=environment,
        cwd=PROJECT_ROOT,
        timeout=120,
        check=False,
    )
    stderr = result.stderr.decode()
    assert result.returncode == 0, stderr
    assert "Traceback" not in stderr, stderr
    return result.stdout.decode()


def test_piped_conversation_in_english(tmp_path: Path) -> None:
    out = chat(tmp_path, "/start\n2\n1\n1\n12\n/events\n1\n1\n/myevents\n/mydata\n")
    assert "[1] Deutsch   [2] English" in out
    assert "[5] Русский   [6] فارسی" in out
    assert "🔒 A short note on your data." in out
    assert "[1] ✅ Networking and open meetings" in out  # the mark after the first tap
    assert "You follow: Networking and open meetings." in out
    assert "Upcoming events for your topics (1–" in out
    assert "✅ You are going. See you there!" in out
    assert "You answered 1 upcoming event:" in out
    saved = list((tmp_path / "files").glob("*.json"))
    assert len(saved) == 1 and '"language": "en"' in saved[0].read_text()


def test_fresh_database_gets_demo_data_and_state_survives_a_restart(tmp_path: Path) -> None:
    first = chat(tmp_path, "/start\n4\n1\n")
    assert "🔒" in first
    second = chat(tmp_path, "/events all\n")
    # Arabic was saved in the first run; the demo events were loaded once, not twice.
    assert "/events all" in second and "Please choose" not in second
    totals = re.findall(r"\((\d+)–(\d+) [^\d]+ (\d+)\)", second)
    assert totals and int(totals[0][2]) >= 8, second


def test_unknown_number_and_default_language(tmp_path: Path) -> None:
    out = chat(tmp_path, "7\n/start\n9\n", TREFFPUNKT_DEFAULT_LANGUAGE="uk")
    # Not registered: the configured default language speaks, and 7/9 are not buttons.
    assert out.count("/help") >= 2
    assert "Будь ласка" in out or "мову" in out


@pytest.mark.parametrize("bad", ["TREFFPUNKT_TIMEZONE=Mars/Base", "TREFFPUNKT_DEMO_DATA=maybe"])
def test_bad_settings_are_refused_clearly(tmp_path: Path, bad: str) -> None:
    name, value = bad.split("=")
    env = {**os.environ, name: value, "TREFFPUNKT_ENV_FILE": str(tmp_path / "none.env")}
    result = subprocess.run(
        [TREFFPUNKT, "console"],
        input="",
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert name in result.stderr and "Traceback" not in result.stderr


def test_superscript_digits_and_bytes_that_are_not_utf8_get_an_answer(tmp_path: Path) -> None:
    # "²" is a digit to str.isdigit() but not to int(); \xff and a lone \xe9 are not UTF-8.
    out = chat(tmp_path, b"/start\n\xc2\xb2\ncaf\xe9\n\xff\xfe\n/start\n2\n/help\n")
    refusal = t(
        "de",
        "That line is not UTF-8 text, so it was not sent. Please check the encoding "
        "of the terminal or the file.",
    )
    assert out.count(refusal) == 2
    assert "» ²\n" + t("de", "Sorry, I did not understand that. /help shows what I can do.") in out
    assert "Here is what I can do:" in out, "the chat goes on after the bad lines"


async def console_chat(core: Core, *lines: str) -> str:
    """What the console chat prints when these lines are piped into it."""
    typed = "".join(f"{line}\n" for line in lines).encode()
    out = io.StringIO()
    await ConsoleTransport(core, io.BytesIO(typed), out, interactive=False).run()
    return out.getvalue()


async def invite_code(room: Chatroom) -> str:
    admin = await registered(room, "umbrella-admin", "en")
    await admin.says("/neworg Kültür Kollektiv Leipzig e. V.")
    number = re.search(r"\(number (\d+)\)", admin.text)
    assert number, admin.text
    await admin.says(f"/invite organiser {number.group(1)}")
    code = INVITE.search(admin.text)
    assert code, admin.text
    return code.group(0)


async def test_a_number_presses_only_the_latest_answers_buttons(room: Chatroom, core: Core) -> None:
    code = await invite_code(room)
    event_id = await demo_event_of_new_org(core, "offener-treff-leipzig")
    out = await console_chat(
        core,
        *("/start", "2", "1"),  # English, I agree: the topics screen with its numbered buttons
        f"/join {code}",  # an answer without buttons: the topics' numbers are void now
        "1",
        f"/editevent {event_id}",
        "5",  # the fifth button: Seats
        "5",  # the number of seats, typed as the question asks, not the fifth button again
        "/newevent",
        "Sommerfest",
        "#1",  # while a typed answer is awaited, "#1" presses "◀ Back"
        "/cancel",
    )
    assert "Sorry, I did not understand that. /help shows what I can do." in out
    assert out.count("How many seats are there now?") == 1
    assert "[#1] ◀ Back" in out
    assert out.count("What is the title of the event?") == 2
    async with core.db.transaction() as s:
        assert await s.scalar(select(func.count()).select_from(Subscription)) == 0
        event = await s.get(Event, event_id)
    assert event is not None and event.capacity == 5


def test_arabic_and_persian_digits_press_buttons(tmp_path: Path) -> None:
    # "٤" (Arabic-Indic four) picks the fourth language, العربية; "۱" (Persian one) agrees.
    out = chat(tmp_path, "/start\n٤\n۱\n/help\n")
    assert t("ar", "🔒 A short note on your data.") in out
    assert t("ar", "Thank you! Now choose the topics you want to hear about.") in out
