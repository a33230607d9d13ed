"""The ``treffpunkt`` command line: quiet unless asked, help everywhere, organisations by slug,
roles listed by number and taken away, umbrella admins removed."""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import cli, logs
from bot.app.settings import Settings
from bot.services import Services
from bot.services.users import CONSENT_VERSION
from storage.db import Database, migrate
from storage.models import AuditEntry, Membership, OutboxMessage
from storage.repositories import OrganiserRepository, UserRepository
from tests.test_console import TREFFPUNKT


def test_commands_are_quiet_unless_asked_for_more(tmp_path: Path) -> None:
    env = {**os.environ, "TREFFPUNKT_ENV_FILE": str(tmp_path / "none.env")}

    def run(database: str, *args: str) -> subprocess.CompletedProcess[str]:
        url = f"sqlite+aiosqlite:///{tmp_path / database}"
        return subprocess.run(
            [TREFFPUNKT, *args],
            capture_output=True,
            text=True,
            env={**env, "TREFFPUNKT_DATABASE_URL": url},
            timeout=120,
            check=False,
        )

    quiet = run("quiet.sqlite3", "migrate")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (
        0,
        "Database schema is up to date.\n",
        "",
    )
    verbose = run("verbose.sqlite3", "migrate", "-v")
    assert verbose.returncode == 0
    assert "Running upgrade" in verbose.stderr


def test_every_command_and_argument_has_help() -> None:
    def walk(parser: argparse.ArgumentParser, path: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                helps = {a.dest: a.help for a in action._choices_actions}
                for name, sub in action.choices.items():
                    assert helps.get(name), f"{path} {name}: no help"
                    walk(sub, f"{path} {name}")
            elif not isinstance(action, argparse._HelpAction):
                assert action.help, f"{path} {action.dest}: no help"

    walk(cli._parser(), "treffpunkt")


@pytest.fixture
def command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, Settings, list[int]]:
    """A database with an organisation, an organiser and an umbrella admin; logging left alone
    (the in-process runs must not reconfigure pytest's handlers)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.sqlite3'}"
    monkeypatch.setenv("TREFFPUNKT_DATABASE_URL", url)
    monkeypatch.setenv("TREFFPUNKT_ENV_FILE", str(tmp_path / "none.env"))
    monkeypatch.setattr(logs, "configure", lambda *a, **k: None)
    settings = Settings(database_url=url)

    async def seed() -> list[int]:
        await migrate(url)
        db = Database(url)
        try:
            services = Services.build(db, settings)
            organisation = await services.organisers.create_organisation("Werkstatt MO Leipzig")
            async with db.transaction() as s:
                users = UserRepository(s)
                organiser, admin = [
                    await users.create(
                        platform="console",
                        platform_user_id=account,
                        chat_id=account,
                        locale="uk",
                        timezone="Europe/Berlin",
                        consent_version=CONSENT_VERSION,
                        consent_at=datetime.now(UTC),
                    )
                    for account in ("anna", "console")
                ]
                await OrganiserRepository(s).grant(organiser.id, organisation.id, "organiser")
            await services.organisers.grant_admin(admin.id)
            return [organisation.id, organiser.id, admin.id]
        finally:
            await db.dispose()

    return url, settings, asyncio.run(seed())


def test_org_list_role_list_and_remove(
    command_line: tuple[str, Settings, list[int]], capsys: pytest.CaptureFixture[str]
) -> None:
    url, _settings, [organisation, organiser, _admin] = command_line
    assert cli.main(["org", "list"]) == 0
    listed = capsys.readouterr().out
    assert f"{organisation}  werkstatt-mo-leipzig  Werkstatt MO Leipzig" in listed

    assert cli.main(["role", "list", "--organisation", "werkstatt-mo-leipzig"]) == 0
    roles = capsys.readouterr().out.splitlines()[1:]
    assert len(roles) == 1 and "werkstatt-mo-leipzig  organiser" in roles[0]
    assert "anna" not in roles[0], "no account ids"
    number = int(roles[0].split()[0])

    assert cli.main(["role", "remove", str(number + 1000)]) == 2
    assert cli.main(["role", "remove", str(number)]) == 0
    assert "removed: organiser of werkstatt-mo-leipzig" in capsys.readouterr().out

    async def after() -> tuple[list[int], list[int], list[str]]:
        db = Database(url)
        try:
            async with db.transaction() as s:
                held = list(await s.scalars(select(Membership.user_id)))
                told = list(await s.scalars(select(OutboxMessage.user_id)))
                audited = list(await s.scalars(select(AuditEntry.action)))
        finally:
            await db.dispose()
        return held, told, audited

    held, told, audited = asyncio.run(after())
    assert organiser not in held and told == [organiser] and "removerole" in audited


def test_admin_add_and_remove_name_the_console_account(
    command_line: tuple[str, Settings, list[int]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["admin", "remove", "console", "console"]) == 0
    assert capsys.readouterr().out == "umbrella admin removed\n"
    assert cli.main(["admin", "remove", "console", "console"]) == 0
    assert "was not an umbrella admin" in capsys.readouterr().out
    assert cli.main(["admin", "add", "console", "nobody"]) == 2
    assert "TREFFPUNKT_CONSOLE_USER" in capsys.readouterr().err
    assert cli.main(["admin", "add", "console", "console"]) == 0


def test_status_prints_the_queue_and_who_runs_the_scheduled_work(
    command_line: tuple[str, Settings, list[int]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["status"]) == 0
    printed = capsys.readouterr().out
    assert "Outbox queue:\n  empty" in printed
    assert "Scheduled work runs in: the bot process (SQLite: one process)" in printed
    assert "  interpreting   none" in printed
