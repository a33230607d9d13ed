"""The ``treffpunkt`` command: run the bot, chat in the console, migrate, load demo data."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from bot.app import logs
from bot.app.core import Core
from bot.app.runner import messengers_configured, prepare, serve
from bot.app.settings import Settings, SettingsError
from bot.calendar.ical import IcalError
from bot.core.errors import MessengerConflict
from bot.demo.events import load_demo
from bot.services import Services
from bot.services.imports import FeedSettingError, FeedSettings
from bot.transports.console import ConsoleTransport
from storage.db import Database, migrate
from storage.repositories import OrganiserRepository

log = logging.getLogger("treffpunkt")
Command = Callable[[Settings], Coroutine[Any, Any, int]]
# Another process runs the same bot: restarting this one would not help.
EXIT_CONFLICT = 3


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
    try:
        await serve(settings, stop)
    except MessengerConflict as conflict:
        print(f"treffpunkt: stopped: {conflict}", file=sys.stderr)
        return EXIT_CONFLICT
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


async def _with_services(settings: Settings, work: Callable[[Services], Awaitable[int]]) -> int:
    await migrate(settings.database_url)
    db = Database(settings.database_url)
    try:
        return await work(Services.build(db, settings))
    finally:
        await db.dispose()


def import_ics(args: argparse.Namespace) -> Command:
    """treffpunkt import-ics FILE-or-URL --organisation SLUG: create or update its events."""

    async def work(services: Services) -> int:
        async with services.db.transaction() as s:
            organisation = await OrganiserRepository(s).organisation_by_slug(args.organisation)
        if organisation is None:
            print(f"treffpunkt: no organisation {args.organisation!r}", file=sys.stderr)
            return 2
        try:
            source = str(args.source)
            if source.startswith(("http://", "https://")):
                data = await services.imports.fetch(source)
            else:
                data = await asyncio.to_thread(Path(source).read_bytes)
            result = await services.imports.import_calendar(
                data, organisation.id, category=args.category, region=args.region
            )
        except (IcalError, OSError) as exc:
            print(f"treffpunkt: nothing imported: {exc}", file=sys.stderr)
            return 1
        print(
            f"{result.added} added, {result.updated} updated, {result.cancelled} cancelled, "
            f"{result.unchanged} unchanged."
        )
        return 0

    return lambda settings: _with_services(settings, work)


def organisation_command(args: argparse.Namespace) -> Command:
    """treffpunkt org add NAME [--feed URL] / treffpunkt org feed SLUG URL, each with the
    language, category and region of the feed's events."""

    async def work(services: Services) -> int:
        feed = FeedSettings(args.language, args.category, args.region)
        try:
            # One unit: an unknown setting rolls it back, leaving no organisation half made.
            async with services.db.transaction() as s:
                if args.org_action == "add":
                    organisation = await services.organisers.create_organisation(args.name)
                    slug = organisation.slug
                else:
                    slug = args.slug
                repo = OrganiserRepository(s)
                found = await repo.organisation_by_slug(slug)
                if found is None:
                    print(f"treffpunkt: no organisation {slug!r}", file=sys.stderr)
                    return 2
                if args.feed is not None:
                    await repo.set_feed(found.id, args.feed or None)
                await services.imports.describe_feed(found.id, feed)
        except FeedSettingError as exc:
            print(f"treffpunkt: nothing changed: {exc}", file=sys.stderr)
            return 2
        print(f"{found.id} {found.slug} {found.name}")
        return 0

    return lambda settings: _with_services(settings, work)


def admin_command(args: argparse.Namespace) -> Command:
    """treffpunkt admin add PLATFORM USER_ID: make a registered person an umbrella admin."""

    async def work(services: Services) -> int:
        user = await services.users.find(args.platform, args.user_id)
        if user is None:
            print("treffpunkt: that account has not started the bot yet", file=sys.stderr)
            return 2
        await services.organisers.grant_admin(user.id)
        print("umbrella admin added")
        return 0

    return lambda settings: _with_services(settings, work)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="treffpunkt", description=__doc__)
    parser.add_argument("--env-file", help="settings file (default: bot.env)")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the configured messengers (console chat when none is)")
    sub.add_parser("console", help="chat with the bot in this terminal, or pipe a conversation")
    sub.add_parser("migrate", help="create or upgrade the database schema")
    sub.add_parser("demo", help="load demo events built from real notices")
    imp = sub.add_parser("import-ics", help="import events from an iCalendar file or URL")
    imp.add_argument("source", help="a .ics file or an http(s) URL")
    imp.add_argument("--organisation", required=True, help="the organisation's short name (slug)")
    imp.add_argument("--category", default="networking", help="category of new events")
    imp.add_argument("--region", default="saxony", help="region of new events")
    org = sub.add_parser("org", help="add an organisation, or set its iCal feed")
    org_sub = org.add_subparsers(dest="org_action", required=True)
    org_add = org_sub.add_parser("add", help="add a member organisation")
    org_add.add_argument("name", help="the organisation's name")
    org_add.add_argument("--feed", default=None, help="iCal feed URL, re-read on a schedule")
    org_feed = org_sub.add_parser("feed", help="set an organisation's iCal feed")
    org_feed.add_argument("slug", help="the organisation's short name (slug)")
    org_feed.add_argument("feed", help="feed URL, or an empty string to remove it")
    for parser_ in (org_add, org_feed):
        parser_.add_argument(
            "--language", help="language of the feed's texts, e.g. de (default: de)"
        )
        parser_.add_argument(
            "--category", help="category of the feed's events, e.g. workshops (default: networking)"
        )
        parser_.add_argument(
            "--region", help="region of the feed's events, e.g. leipzig (default: saxony)"
        )
    admin = sub.add_parser("admin", help="make a registered account an umbrella admin")
    admin.add_argument("action", choices=["add"])
    admin.add_argument("platform", choices=["telegram", "matrix", "console"])
    admin.add_argument("user_id")
    args = parser.parse_args(argv)

    try:
        settings = Settings.load(env_file=args.env_file)
    except SettingsError as exc:
        for problem in str(exc).splitlines():
            print(f"treffpunkt: {problem}", file=sys.stderr)
        return 2
    command = args.command or "run"
    console = command == "console" or (command == "run" and not messengers_configured(settings))
    # In the console chat, log lines would mix with the conversation: keep only warnings.
    level = "WARNING" if console and settings.log_level == "INFO" else settings.log_level
    logs.configure(level, settings.secrets())
    commands: dict[str, Command] = {
        "run": run,
        "console": run_console,
        "migrate": migrate_only,
        "demo": demo,
        "import-ics": import_ics(args),
        "org": organisation_command(args),
        "admin": admin_command(args),
    }
    try:
        return asyncio.run(commands[command](settings))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
