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
from typing import TYPE_CHECKING, Any

from bot.app import logs
from bot.app.core import Core
from bot.app.runner import alarm_clock, messengers_configured, prepare, serve
from bot.app.settings import Settings, SettingsError
from bot.app.status import status
from bot.calendar.ical import IcalError
from bot.core.errors import InstanceTaken, MessengerConflict
from bot.demo.events import load_demo
from bot.services import Services
from bot.services.imports import FeedSettingError, FeedSettings
from bot.transports.console import ConsoleTransport
from storage.db import Database, migrate
from storage.repositories import OrganiserRepository

log = logging.getLogger("treffpunkt")
Command = Callable[[Settings], Coroutine[Any, Any, int]]
if TYPE_CHECKING:
    Commands = argparse._SubParsersAction[argparse.ArgumentParser]  # what add_subparsers returns

# Another process runs the same bot: restarting this one would not help.
EXIT_CONFLICT = 3


async def run_console(settings: Settings) -> int:
    await prepare(settings, console=True)
    core = await Core.create(settings, run_migrations=False)
    console = ConsoleTransport(core, sys.stdin.buffer, sys.stdout)
    # Reminders, offers and digests come in the console too, while it waits for a line.
    await core.services.reminders.plan_missing()
    alarms = alarm_clock(core, console.deliver)
    loop = asyncio.get_running_loop()
    with contextlib.suppress(NotImplementedError):  # no signal handlers on some platforms
        loop.add_signal_handler(signal.SIGTERM, console.stop)
    alarms.scheduler.start()
    alarms.start()
    try:
        await console.run()
    finally:
        await alarms.stop()
        alarms.scheduler.shutdown(wait=False)
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
    except (MessengerConflict, InstanceTaken) as conflict:
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


async def show_status(settings: Settings) -> int:
    """treffpunkt status: queue depth, the oldest row due, the last hour, who runs the
    scheduled work, the next due work."""

    db = Database(settings.database_url)  # read only: no migration behind running bots
    try:
        for line in (await status(Services.build(db, settings))).lines():
            print(line)
    finally:
        await db.dispose()
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
    """treffpunkt org list / org add NAME [--feed URL] / org feed SLUG URL, each with the
    language, category and region of the feed's events."""

    async def work(services: Services) -> int:
        if args.org_action == "list":
            return await _list_organisations(services)
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
                    print(
                        f"treffpunkt: no organisation {slug!r} (treffpunkt org list)",
                        file=sys.stderr,
                    )
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


async def _list_organisations(services: Services) -> int:
    async with services.db.transaction() as s:
        found = await OrganiserRepository(s).organisations()
    if not found:
        print('no organisations yet: treffpunkt org add "Name of the association"')
        return 0
    print("number  slug (for --organisation)  name  [feed]")
    for o in found:
        feed = f"  [{o.feed_url}]" if o.feed_url else ""
        print(f"{o.id:>6}  {o.slug}  {o.name}{feed}")
    return 0


def role_command(args: argparse.Namespace) -> Command:
    """treffpunkt role list [--organisation SLUG] / role remove NUMBER."""

    async def work(services: Services) -> int:
        async with services.db.transaction() as s:
            organisations = {o.id: o for o in await OrganiserRepository(s).organisations()}
        if args.role_action == "remove":
            removed = await services.organisers.remove_role(None, args.number)
            if removed is None:
                print(
                    f"treffpunkt: no role number {args.number} (treffpunkt role list)",
                    file=sys.stderr,
                )
                return 2
            slug = organisations[removed.organisation_id].slug
            print(f"removed: {removed.role} of {slug} (number {removed.id}); they will be told")
            return 0
        wanted = None
        if args.organisation is not None:
            wanted = next((o for o in organisations.values() if o.slug == args.organisation), None)
            if wanted is None:
                print(f"treffpunkt: no organisation {args.organisation!r}", file=sys.stderr)
                return 2
        found = await services.organisers.members(wanted.id if wanted else None)
        print("number  organisation  role  since  language")
        for m in found:
            slug = organisations[m.organisation_id].slug
            print(f"{m.id:>6}  {slug}  {m.role}  {m.since:%Y-%m-%d}  {m.locale}")
        return 0

    return lambda settings: _with_services(settings, work)


def admin_command(args: argparse.Namespace) -> Command:
    """treffpunkt admin add|remove PLATFORM USER_ID: give or take the umbrella admin role."""

    async def work(services: Services, settings: Settings) -> int:
        user = await services.users.find(args.platform, args.user_id)
        if user is None:
            print(
                "treffpunkt: that account has not started the bot yet (in the console chat the "
                "account is: console, then the value of TREFFPUNKT_CONSOLE_USER, by default "
                "console)",
                file=sys.stderr,
            )
            return 2
        if args.admin_action == "add":
            await services.organisers.grant_admin(user.id)
            print("umbrella admin added")
            return 0
        if await services.organisers.revoke_admin(user.id):
            print("umbrella admin removed")
        else:
            print("that account was not an umbrella admin here")
        if f"{args.platform}:{args.user_id}" in settings.admins:
            print("note: TREFFPUNKT_ADMINS still names this account; remove it there too")
        return 0

    return lambda settings: _with_services(settings, lambda services: work(services, settings))


def _parser() -> argparse.ArgumentParser:
    """Every sub-command and argument, each with its help."""
    verbose = argparse.ArgumentParser(add_help=False)
    verbose.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=argparse.SUPPRESS,
        help="say more: -v shows the database migrations and progress, -vv debug output",
    )
    parser = argparse.ArgumentParser(prog="treffpunkt", description=__doc__)
    parser.add_argument("--env-file", help="settings file (default: bot.env)")
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="say more: -v shows the database migrations and progress, -vv debug output",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(
        name: str, text: str, within: Commands = sub, epilog: str | None = None
    ) -> argparse.ArgumentParser:
        return within.add_parser(
            name, help=text, description=text, epilog=epilog, parents=[verbose]
        )

    command("run", "run the configured messengers (the console chat when none is)")
    command("console", "chat with the bot in this terminal, or pipe a conversation in")
    command("migrate", "create or upgrade the database schema")
    command(
        "status",
        "the outbox queue per kind of message, the oldest row due, what was sent in the last "
        "hour, which process runs the scheduled work, and the next due work",
    )
    command("demo", "load demo events built from real notices (twice adds nothing)")
    imp = command("import-ics", "import events from an iCalendar file or URL")
    imp.add_argument("source", help="a .ics file or an http(s) URL")
    imp.add_argument(
        "--organisation",
        required=True,
        metavar="SLUG",
        help="the organisation's short name, as 'treffpunkt org list' shows it",
    )
    imp.add_argument(
        "--category", default=None, help="topic of new events (slug; default: the feed's)"
    )
    imp.add_argument(
        "--region", default=None, help="region of new events (slug; default: the feed's)"
    )

    org = command("org", "list and add organisations, set their iCal feeds")
    org_sub = org.add_subparsers(dest="org_action", required=True, metavar="ACTION")
    command("list", "every organisation with its number and slug", org_sub)
    org_add = command("add", "add a member organisation", org_sub)
    org_add.add_argument("name", help="the organisation's name, in quotes")
    org_add.add_argument("--feed", default=None, help="iCal feed URL, re-read on a schedule")
    org_feed = command("feed", "set or remove an organisation's iCal feed", org_sub)
    org_feed.add_argument("slug", help="the organisation's slug, as 'treffpunkt org list' shows it")
    org_feed.add_argument("feed", help="feed URL, or an empty string to remove it")
    for feed_parser in (org_add, org_feed):
        feed_parser.add_argument(
            "--language", help="language of the feed's texts, e.g. de (default: de)"
        )
        feed_parser.add_argument(
            "--category", help="topic of the feed's events, e.g. workshops (default: networking)"
        )
        feed_parser.add_argument(
            "--region", help="region of the feed's events, e.g. leipzig (default: saxony)"
        )

    role = command("role", "list the roles in organisations, take one away")
    role_sub = role.add_subparsers(dest="role_action", required=True, metavar="ACTION")
    role_list = command("list", "the roles by number (no account ids)", role_sub)
    role_list.add_argument("--organisation", metavar="SLUG", help="only this organisation's")
    role_remove = command("remove", "take a role away; the person is told", role_sub)
    role_remove.add_argument("number", type=int, help="the role's number, as 'role list' shows it")

    admin = command("admin", "give or take the umbrella admin role")
    admin_sub = admin.add_subparsers(dest="admin_action", required=True, metavar="ACTION")
    for action, text in (
        ("add", "make an account that has started the bot an umbrella admin"),
        ("remove", "take the umbrella admin role away from an account"),
    ):
        one = command(
            action,
            text,
            admin_sub,
            epilog="The console chat's account: console console (or TREFFPUNKT_CONSOLE_USER).",
        )
        one.add_argument("platform", choices=["telegram", "matrix", "console"], help="messenger")
        one.add_argument(
            "user_id",
            help="the account id: a Telegram number, a Matrix id like @anna:example.org, or "
            "the console user",
        )
    return parser


def _log_level(settings: Settings, command: str, verbose: int) -> str:
    """One-shot commands and the console chat say only what went wrong, unless asked for more."""
    if verbose >= 2:
        return "DEBUG"
    if verbose == 1 or settings.log_level != "INFO":
        return settings.log_level
    serving = command == "run" and messengers_configured(settings)
    return "INFO" if serving else "WARNING"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.load(env_file=args.env_file)
    except SettingsError as exc:
        for problem in str(exc).splitlines():
            print(f"treffpunkt: {problem}", file=sys.stderr)
        return 2
    command = args.command or "run"
    logs.configure(
        _log_level(settings, command, args.verbose), settings.secrets(), verbose=args.verbose > 0
    )
    commands: dict[str, Command] = {
        "run": run,
        "console": run_console,
        "migrate": migrate_only,
        "status": show_status,
        "demo": demo,
        "import-ics": import_ics(args),
        "org": organisation_command(args),
        "role": role_command(args),
        "admin": admin_command(args),
    }
    try:
        return asyncio.run(commands[command](settings))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
