"""Settings are read once, environment over file; logs carry no secrets and no message text."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from bot.app import logs
from bot.app.core import Core
from bot.app.settings import PROJECT_ROOT, Settings, SettingsError
from bot.core.chat import Reply
from bot.core.errors import RecipientGone
from bot.delivery.lanes import Lane
from storage.models import Identity, OutboxMessage
from tests.fakes import Chatroom, registered
from tests.test_journey import event_by_uid

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"


def test_environment_wins_over_the_file(tmp_path: Path) -> None:
    env_file = tmp_path / "bot.env"
    env_file.write_text(
        "TREFFPUNKT_DEFAULT_LANGUAGE=uk\nTREFFPUNKT_DATABASE_URL=sqlite+aiosqlite:///a.db\n"
        f"TELEGRAM_BOT_TOKEN={TOKEN}\n"
    )
    settings = Settings.load({"TREFFPUNKT_DEFAULT_LANGUAGE": "ar"}, env_file)
    assert settings.default_language == "ar"
    assert settings.database_url == "sqlite+aiosqlite:///a.db"
    assert settings.telegram_bot_token == TOKEN
    assert TOKEN not in repr(settings)


def test_defaults_without_any_configuration(tmp_path: Path) -> None:
    settings = Settings.load({}, tmp_path / "missing.env")
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.timezone == "Europe/Berlin" and settings.telegram_bot_token is None


def test_lists_and_empty_values(tmp_path: Path) -> None:
    env_file = tmp_path / "bot.env"
    env_file.write_text(
        "TREFFPUNKT_ADMINS=telegram:1, matrix:@a:b.example console:console\n"
        "TELEGRAM_BULK_RATE=\nTREFFPUNKT_FEED_HOURS=0.1\nTELEGRAM_WEBHOOK_PATH=/hook/\n"
    )
    settings = Settings.load(
        {"TREFFPUNKT_LOG_LEVEL": " ", "MATRIX_ALLOWED_USERS": "@x:y.example @z:w.example"},
        env_file,
    )
    assert settings.admins == ("telegram:1", "matrix:@a:b.example", "console:console")
    assert settings.matrix_allowed_users == ("@x:y.example", "@z:w.example")
    assert settings.telegram_bulk_rate == 25.0 and settings.log_level == "INFO"
    assert settings.feed_hours == 0.1 and settings.telegram_webhook_path == "hook"


def test_keyword_construction_reads_neither_environment_nor_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bot.env").write_text(f"TELEGRAM_BOT_TOKEN={TOKEN}\n")
    monkeypatch.setenv("TREFFPUNKT_DEFAULT_LANGUAGE", "fa")
    settings = Settings(database_url="sqlite+aiosqlite:///k.db")
    assert settings.telegram_bot_token is None and settings.default_language == "de"
    with pytest.raises(ValidationError, match="frozen"):
        settings.default_language = "en"


def test_example_file_documents_every_setting() -> None:
    """The example names exactly the declared settings: none undocumented, none made up."""
    example = PROJECT_ROOT / "bot.env.example"
    documented = re.findall(r"^#? ?([A-Z][A-Z0-9_]*)=", example.read_text(), re.MULTILINE)
    assert sorted(documented) == sorted(Settings.variables())
    assert all(Settings.variables().values()), "every setting says what it is for"
    loaded = Settings.load({}, example)
    assert loaded.timezone == "Europe/Berlin"


def test_bad_values_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="TREFFPUNKT_TIMEZONE"):
        Settings.load({"TREFFPUNKT_TIMEZONE": "Europe/Atlantis"}, tmp_path / "x")
    webhook = {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_WEBHOOK_URL": "https://b.example/t"}
    with pytest.raises(SettingsError, match="TELEGRAM_WEBHOOK_SECRET"):
        Settings.load(webhook, tmp_path / "x")
    with pytest.raises(SettingsError, match="TELEGRAM_WEBHOOK_SECRET"):
        Settings.load({**webhook, "TELEGRAM_WEBHOOK_SECRET": "short"}, tmp_path / "x")
    with pytest.raises(SettingsError, match="TELEGRAM_WEBHOOK_PORT"):
        Settings.load({"TELEGRAM_WEBHOOK_PORT": "99999"}, tmp_path / "x")
    with pytest.raises(SettingsError, match="MATRIX_USER_ID"):
        Settings.load({"MATRIX_HOMESERVER": "https://m.example"}, tmp_path / "x")
    with pytest.raises(SettingsError, match="MATRIX_ACCESS_TOKEN or MATRIX_PASSWORD"):
        Settings.load(
            {"MATRIX_HOMESERVER": "https://m.example", "MATRIX_USER_ID": "@b:m.example"},
            tmp_path / "x",
        )
    matrix = Settings.load(
        {
            "MATRIX_HOMESERVER": "https://m.example/",
            "MATRIX_USER_ID": "@b:m.example",
            "MATRIX_PASSWORD": "pw-123456",
            "MATRIX_ALLOWED_SERVERS": "a.example, b.example",
        },
        tmp_path / "x",
    )
    assert matrix.matrix_enabled and matrix.matrix_server_name == "m.example"
    assert matrix.matrix_allowed_servers == ("a.example", "b.example")
    assert "pw-123456" in matrix.secrets() and "pw-123456" not in repr(matrix)
    secret = "a" * 20
    loaded = Settings.load({**webhook, "TELEGRAM_WEBHOOK_SECRET": secret}, tmp_path / "x")
    assert loaded.secrets() == [TOKEN, secret] and secret not in repr(loaded)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TELEGRAM_BULK_RATE", "0"),
        ("TELEGRAM_BULK_RATE", "1000.5"),
        ("MATRIX_BULK_RATE", "-1"),
        ("MATRIX_BULK_RATE", "1001"),
        ("TREFFPUNKT_FEED_HOURS", "0.05"),
        ("TREFFPUNKT_FEED_HOURS", "169"),
        ("TREFFPUNKT_FEED_HOURS", "often"),
        ("TELEGRAM_WEBHOOK_PORT", "0"),
        ("TREFFPUNKT_ADMINS", "telegram:1 anna"),
        ("TREFFPUNKT_LOG_LEVEL", "loud"),
        ("TREFFPUNKT_MT_BACKEND", "google"),
        ("MATRIX_USER_ID", "treffpunkt"),
    ],
)
def test_each_refusal_names_its_variable(tmp_path: Path, name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=f"^{name} "):
        Settings.load({name: value}, tmp_path / "x")


def test_every_refusal_is_reported_at_once(tmp_path: Path) -> None:
    env = {"TREFFPUNKT_TIMEZONE": "Mars/Base", "TELEGRAM_BULK_RATE": "2000"}
    with pytest.raises(SettingsError) as refused:
        Settings.load(env, tmp_path / "x")
    assert [line.split()[0] for line in str(refused.value).splitlines()] == list(env)
    edges = {"TELEGRAM_BULK_RATE": "1000", "TREFFPUNKT_FEED_HOURS": "168"}
    assert Settings.load(edges, tmp_path / "x").feed_hours == 168


def test_tokens_are_redacted_from_messages_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    redactor = logs.RedactingFilter([TOKEN])
    logger = logging.getLogger("test.redaction")
    logger.addFilter(redactor)
    try:
        with caplog.at_level(logging.INFO, logger="test.redaction"):
            logger.info("POST https://api.telegram.org/bot%s/getUpdates", TOKEN)
            logger.info("another bot 987654321:ZZHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw9 seen")
            try:
                raise RuntimeError(f"secret {TOKEN} and a person's message")
            except RuntimeError:
                logger.exception("failed")
    finally:
        logger.removeFilter(redactor)
    text = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    assert TOKEN not in text and "ZZHdqTcv" not in text
    assert "[redacted]" in text
    assert "a person's message" not in text, "exception messages are not logged"
    assert "RuntimeError" in text


async def test_a_conversation_leaves_no_personal_text_in_logs(
    room: Chatroom, caplog: pytest.LogCaptureFixture
) -> None:
    """With the bot's own logging set-up at its most verbose (drivers would log parameters)."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    logs.configure("DEBUG")
    root.addHandler(caplog.handler)
    try:
        p = await registered(room, "secret-person-42", "de")
        await p.says("Meine Telefonnummer ist 0170 1234567")
        await p.presses("r:1;DROP TABLE users:g:-")
    finally:
        root.handlers[:], _level = saved
        root.setLevel(saved[1])
    assert caplog.records, "the conversation was logged at all"
    for record in caplog.records:
        message = record.getMessage()
        assert "0170" not in message and "secret-person-42" not in message


async def test_unreachable_person_is_marked_inactive(room: Chatroom, core: Core) -> None:
    class Blocked:
        platform = "fake"
        lane = Lane(0, 0, 0)

        def is_group(self, chat_id: str) -> bool:
            return False

        async def send(self, chat_id: str, reply: Reply) -> None:
            raise RecipientGone("bot was blocked by the user")

    event = await event_by_uid(core, "beratung-anerkennung")
    people = [await registered(room, f"b{i}", "en") for i in range(4)]
    for p in people:
        await p.presses(f"r:{event.id}:g:-")
    core.delivery.add_sender(Blocked())
    await people[0].presses(f"r:{event.id}:n:-")  # frees a seat for b3, who blocked the bot
    async with core.db.transaction() as s:
        rows = list(await s.scalars(select(OutboxMessage)))
        identity = await s.scalar(select(Identity).where(Identity.platform_user_id == "b3"))
    assert [(r.status, r.last_error) for r in rows] == [
        ("failed", "blocked or gone: bot was blocked by the user")
    ]
    assert identity is not None and not identity.active
