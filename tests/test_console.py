"""The console chat through the real ``treffpunkt`` command, with a piped conversation."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bot.app.settings import PROJECT_ROOT

TREFFPUNKT = shutil.which("treffpunkt", path=str(Path(sys.executable).parent)) or "treffpunkt"


def chat(tmp_path: Path, conversation: str, **env: str) -> str:
    environment = {
        **os.environ,
        "TREFFPUNKT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'console.sqlite3'}",
        "TREFFPUNKT_FILES_DIR": str(tmp_path / "files"),
        "TREFFPUNKT_ENV_FILE": str(tmp_path / "no-such.env"),
        **env,
    }
    environment.pop("TELEGRAM_BOT_TOKEN", None)
    result = subprocess.run(
        [TREFFPUNKT, "console"],
        input=conversation,
        capture_output=True,
        text=True,
        env=environment,
        cwd=PROJECT_ROOT,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout


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
