"""The ``treffpunkt`` command: run the bot, chat in the console, migrate, load demo data."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence

from bot import logs
from bot.app import Core
from bot.demo import load_demo
from bot.runner import messengers_configured, prepare, serve
from bot.settings import Settings, SettingsError
from bot.transports.console import ConsoleTransport
from storage.db import Database, migrate

log = logging.getLogger("treffpunkt")


async def run_console(settings: Settings) -> int:
    await prepare(settings, console=True)
    core = await Core.create(settings, run_migrations=False)
    console = ConsoleTransport(core, sys.stdin, sys.stdout)
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):  # no signal handlers on some platforms
        loop.add_signal_handler(signal.SIGTERM, console.stop)
    try:
        await console.run()
    finally:
        await core.close()
    return 0


async def run(settings: Settings) -> int:
    """Run every configured messenger; with none configured, the console chat."""
    if not messengers_configured(settings):
        return await run_console(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stop.set)
    await serve(settings, stop)
    return 0


async def demo(settings: Settings) -> int:
    await migrate(settings.database_url)
    db = Database(settings.database_url)
    try:
        added = await load_demo(db, tz_name=settings.timezone)
    finally:
        await db.dispose()
    print(f"{added} demo events added.")
    return 0


async def migrate_only(settings: Settings) -> int:
    await migrate(settings.database_url)
    print("Database schema is up to date.")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="treffpunkt", description=__doc__)
    parser.add_argument("--env-file", help="settings file (default: bot.env)")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the configured messengers (console chat when none is)")
    sub.add_parser("console", help="chat with the bot in this terminal, or pipe a conversation")
    sub.add_parser("migrate", help="create or upgrade the database schema")
    sub.add_parser("demo", help="load demo events built from real notices")
    args = parser.parse_args(argv)

    try:
        settings = Settings.load(env_file=args.env_file)
    except SettingsError as exc:
        print(f"treffpunkt: {exc}", file=sys.stderr)
        return 2
    command = args.command or "run"
    console = command == "console" or (command == "run" and not messengers_configured(settings))
    # In the console chat, log lines would mix with the conversation: keep only warnings.
    level = "WARNING" if console and settings.log_level == "INFO" else settings.log_level
    logs.configure(level, settings.secrets())
    commands = {"run": run, "console": run_console, "migrate": migrate_only, "demo": demo}
    try:
        return asyncio.run(commands[command](settings))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
