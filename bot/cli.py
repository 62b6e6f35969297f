"""The `partnership-bot` console script."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from dataclasses import replace
from pathlib import Path

from bot.config import ConfigError, Settings
from bot.logs import access_log_options, configure_logging, show_process_ids

# By name: run as `python -m bot.cli`, __name__ is "__main__", outside the bot's loggers.
log = logging.getLogger("bot.cli")

# How long one statement of a batch job (a register import) may take, in seconds.
BATCH_SECONDS = 600.0

DESCRIPTION = """Partnership Bot: school improvement partnerships in Slack, Teams and a local shell.

commands:
  shell [--as NAME]        chat with the bot locally (no Slack needed; embedded SQLite);
                           calendar invites, digest charts and your data export are
                           saved in the data folder's files/
  serve [--socket-mode] [--workers N]
                           serve Slack at /slack/events, Teams at /api/messages, the web
                           pages under /web/ and /healthz on $PORT (each platform that is
                           configured; with SLACK_CLIENT_ID set, Slack installs at
                           /slack/install for many workspaces), and post meeting reminders
                           and weekly digests when due, at Slack's pace; N processes share
                           the port (default: one per core; one on SQLite), and any number
                           of processes and machines may share one PostgreSQL database (each
                           post is still made once)
  web                      serve only the web pages on $PORT (no chat platform, no
                           reminders): open them from the shell's `partnership web` links
  teams-package --out FILE [--app-id GUID] [--base-url URL]
                           build the Teams app package (manifest and icons, zipped),
                           linking to this bot's /about, /privacy and /terms pages at
                           --base-url (default PUBLIC_BASE_URL)
  digests [--week YYYY-Www] [--workspace ID]
                           what became of each partnership's weekly digest that week (default
                           this week): sent (when, UK time), failed (and why), pending,
                           skipped (a quiet week), with its attempts
  import FILE [--workspace ID]
                           load partnerships and schools from a YAML file (safe to repeat)
  schools import-gias FILE.csv [--la NAME] [--workspace ID] [--encoding ENC]
                           load or refresh schools from the DfE register (a GIAS extract,
                           UTF-8 or Windows-1252; --la keeps one local authority, and may be
                           given again): URN, type, status, phase, authority, town, postcode;
                           safe to repeat
  schools review [--workspace ID] [--dismiss N]
                           schools the register could not match alone, to decide by hand
  schools merge FROM INTO [--dry-run] [--workspace ID]
                           join two records that are one school (by URN, #number or name):
                           memberships, members, walks and CPD move to INTO
  db upgrade               bring the database schema up to date
  db encrypt-tokens        encrypt every stored Slack token with TOKEN_ENCRYPTION_KEY's first
                           key (after setting a key, or a new one in front of the old)

configuration (environment or a .env file): DATABASE_URL, PORT, HOST, DATABASE_POOL_SIZE,
DATABASE_CONNECTIONS, COMMAND_BACKLOG, PUBLIC_BASE_URL (the address people reach the server at,
for links to the web pages and files); how long to wait on the database (seconds):
DATABASE_CONNECT_TIMEOUT, DATABASE_STATEMENT_TIMEOUT, DATABASE_POOL_TIMEOUT, COMMAND_DEADLINE;
Slack:
SLACK_SIGNING_SECRET, SLACK_API_URL, and for one workspace SLACK_BOT_TOKEN (SLACK_APP_TOKEN for
Socket Mode) or for many SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLACK_REDIRECT_URI, SLACK_SCOPES,
SLACK_INSTALL_PATH, TOKEN_ENCRYPTION_KEY; Teams: TEAMS_APP_ID, TEAMS_APP_PASSWORD,
TEAMS_TENANT_ID (or TEAMS_APP_TYPE=MultiTenant), TEAMS_OPENID_METADATA and
TEAMS_ENTRA_OPENID_METADATA (where signing keys are published: tests, government clouds),
TEAMS_AUTH_DISABLED (Bot Framework Emulator only; needs HOST=127.0.0.1);
PUBLIC_BASE_URL (the https:// address the bot is served at); WORKSPACE_ALIASES (e.g.
T0123ABCD=barnet,<Teams tenant id>=barnet: a Slack team and a Teams
tenant sharing partnerships); logs: LOG_LEVEL (debug, info, warning, error; default info),
LOG_FORMAT (json or text; default json for serve, text otherwise), ACCESS_LOG_LEVEL (debug
adds health probes, warning only server errors, off none; default info)"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="partnership-bot", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    shell = sub.add_parser("shell", help="chat with the bot locally")
    shell.add_argument("--as", dest="name", default=None,
                       help="who you are in the shell (default: your login name)")
    serve = sub.add_parser("serve", help="serve Slack and/or Teams over HTTP")
    serve.add_argument("--socket-mode", action="store_true",
                       help="connect to Slack over Socket Mode (needs SLACK_APP_TOKEN; "
                            "Slack only)")
    serve.add_argument("--workers", type=int, default=None, metavar="N",
                       help="processes serving the one port (default: one per CPU core; "
                            "always one on SQLite or over Socket Mode)")
    sub.add_parser("web", help="serve the web pages alone, for the local shell")
    package = sub.add_parser("teams-package", help="build the Teams app package zip")
    package.add_argument("--out", type=Path, required=True, help="where to write the zip")
    package.add_argument("--app-id", default=None,
                         help="the Azure Bot's application id (default: $TEAMS_APP_ID)")
    package.add_argument("--base-url", default=None,
                         help="the https:// address this bot is served at, for the "
                              "manifest's about, privacy and terms links (default: "
                              "$PUBLIC_BASE_URL)")
    digests = sub.add_parser("digests", help="what became of a week's digests")
    digests.add_argument("--week", default=None,
                         help="the ISO week, like 2026-W10 (default: this week, UK time)")
    digests.add_argument("--workspace", default=None,
                         help="only this workspace's partnerships (Slack team id, Teams "
                              "tenant id, or shared name; default: all)")
    importer = sub.add_parser("import", help="load partnerships from YAML")
    importer.add_argument("file", type=Path)
    importer.add_argument("--workspace", default="local",
                          help="the Slack team id (T…), Teams tenant id or shared "
                               "WORKSPACE_ALIASES name to import into (default: local, "
                               "the shell's)")
    _schools_parser(sub)
    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade", "encrypt-tokens"])
    return parser


WORKSPACE_HELP = ("the Slack team id (T…), Teams tenant id or shared WORKSPACE_ALIASES name "
                  "(default: local, the shell's)")


def _schools_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    schools = sub.add_parser("schools", help="schools and the DfE register")
    actions = schools.add_subparsers(dest="action", metavar="ACTION", required=True)
    gias = actions.add_parser("import-gias", help="load or refresh schools from a GIAS CSV")
    gias.add_argument("file", type=Path)
    gias.add_argument("--la", action="append", default=[], metavar="NAME",
                      help="only this local authority (its LA (name), e.g. Barnet); repeat "
                           "for several")
    gias.add_argument("--encoding", default=None,
                      help="the file's encoding (default: UTF-8, else Windows-1252)")
    gias.add_argument("--workspace", default="local", help=WORKSPACE_HELP)
    review = actions.add_parser("review", help="schools to match to the register by hand")
    review.add_argument("--dismiss", type=int, default=None, metavar="N",
                        help="take school #N off the list (it is none of its candidates)")
    review.add_argument("--workspace", default="local", help=WORKSPACE_HELP)
    merge = actions.add_parser("merge", help="join two records that are one school")
    merge.add_argument("source", metavar="FROM",
                       help="the record to merge away: URN, #number or exact name")
    merge.add_argument("target", metavar="INTO", help="the record to keep")
    merge.add_argument("--dry-run", action="store_true", help="say what would move; change "
                                                              "nothing")
    merge.add_argument("--workspace", default="local", help=WORKSPACE_HELP)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        _log_as(settings, args.command)
        if args.command == "shell":
            return _shell(settings, args.name or getpass.getuser())
        if args.command == "serve":
            return _serve(settings, args.socket_mode, args.workers)
        if args.command == "web":
            return _web(settings)
        if args.command == "teams-package":
            return _teams_package(settings, args.out, args.app_id, args.base_url)
        if args.command == "import":
            if not args.file.is_file():
                print(f"partnership-bot: no file at {args.file}", file=sys.stderr)
                return 2
            return asyncio.run(_import(settings, args.file, args.workspace))
        if args.command == "schools":
            return asyncio.run(_schools(settings, args))
        if args.command == "digests":
            return asyncio.run(_digests(settings, args.week, args.workspace))
        if args.command == "db" and args.action == "encrypt-tokens":
            return asyncio.run(_encrypt_tokens(settings))
        if args.command == "db":
            return asyncio.run(_upgrade(settings))
    except ConfigError as error:
        print(f"partnership-bot: {error}", file=sys.stderr)
        return 2
    parser.print_help()
    return 0


def _log_as(settings: Settings, command: str | None) -> None:
    """One log format for the process: JSON lines for `serve` (unless LOG_FORMAT says text),
    readable text otherwise; the shell shows only warnings, between its own lines."""
    fmt = settings.log_format or ("json" if command == "serve" else "text")
    level = max(settings.log_level, logging.WARNING) if command == "shell" else settings.log_level
    configure_logging(level=level, fmt=fmt, access_level=settings.access_log_level,
                      known_secrets=settings.secrets)


def _shell(settings: Settings, name: str) -> int:
    from bot.shell import run_shell
    from storage.db import Database, data_folder

    db = Database(settings.database_url, timeouts=settings.database_timeouts)
    asyncio.run(run_shell(db, name,
                          files_dir=data_folder() / "files",
                          history_file=data_folder() / "shell-history",
                          web_base=settings.web_base))
    return 0


def _serve(settings: Settings, socket_mode: bool, workers_asked: int | None = None) -> int:
    from aiohttp import web

    from bot.server import build_web_app
    from bot.workers import plan_pool, supervise, workers_for
    from storage.db import Database, async_url

    settings.require_platform()
    if settings.slack_enabled or socket_mode:
        settings.require_slack(socket_mode)
    if settings.teams_enabled:
        if socket_mode:
            raise ConfigError("--socket-mode serves Slack only; serve Teams over HTTP "
                              "(without --socket-mode), or unset TEAMS_APP_ID.")
        settings.require_teams()
    fast_event_loop()
    sqlite = async_url(settings.database_url).startswith("sqlite")
    workers = workers_for(settings, workers_asked, socket_mode, sqlite)
    pool_size = plan_pool(settings, workers)

    def database() -> Database:
        return Database(settings.database_url, pool_size, timeouts=settings.database_timeouts)

    if socket_mode:
        from bot.slack.socket_mode import run_socket_mode

        asyncio.run(run_socket_mode(settings, database()))
        return 0
    if workers == 1:
        app = build_web_app(settings, database())

        async def announce(_: web.Application) -> None:
            # After the app's own start-up (schema, token check), which may still refuse.
            log.info("serving on http://%s:%d", settings.host, settings.port,
                     extra={"host": settings.host, "port": settings.port, "workers": 1})

        app.on_startup.append(announce)
        # No banner on stdout: every line the server writes is a log record.
        web.run_app(app, host=settings.host, port=settings.port, print=None,
                    **access_log_options())
        return 0
    # Once, before the workers start: the schema, and the stored tokens' key (a worker that
    # refused to start would only be started again).
    asyncio.run(_prepare_for_workers(settings))
    show_process_ids()  # whose line is whose
    log.info("serving on http://%s:%d with %d workers, each with up to %s database connections",
             settings.host, settings.port, workers, pool_size,
             extra={"host": settings.host, "port": settings.port, "workers": workers})

    def serve_one(_index: int) -> None:
        web.run_app(build_web_app(settings, database()),
                    host=settings.host, port=settings.port, reuse_port=True, print=None,
                    **access_log_options())

    return supervise(workers, serve_one)


def fast_event_loop() -> None:
    """uvloop's event loop (libuv, in C) where it is installed: the same asyncio API for less CPU
    per request and per database round trip (README, Performance). Linux and macOS only;
    elsewhere Python's own loop serves."""
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


async def _prepare_for_workers(settings: Settings) -> None:
    from bot.server import require_readable_tokens
    from storage.db import Database
    from storage.slack_oauth import SlackInstallationStore, token_cipher

    db = Database(settings.database_url, pool_size=1, timeouts=settings.database_timeouts)
    try:
        await db.upgrade()
        if settings.slack_oauth and settings.slack_client_id:
            await require_readable_tokens(SlackInstallationStore(
                settings.slack_client_id, db.engine, token_cipher(settings.token_encryption_key)))
    finally:
        await db.dispose()


def _web(settings: Settings) -> int:
    """The web pages alone (no chat platform, no outbox): beside the local shell, whose
    `partnership web` links open them."""
    from aiohttp import web

    from bot.server import build_web_app
    from storage.db import Database

    print(f"Serving the web pages at {settings.web_base}/web/ (Ctrl-C stops). In the shell, "
          "`partnership web` gives you a link.")
    db = Database(settings.database_url, timeouts=settings.database_timeouts)
    web.run_app(build_web_app(settings, db, send=False),
                host=settings.host, port=settings.port, print=None)
    return 0


def _teams_package(settings: Settings, out: Path, app_id: str | None,
                   base_url: str | None) -> int:
    from bot.teams.package import build_package

    data = build_package(app_id or settings.teams_app_id, base_url or settings.public_base_url)
    try:
        out.write_bytes(data)
    except OSError as error:
        print(f"partnership-bot: can't write {out}: {error.strerror}", file=sys.stderr)
        return 1
    print(f"Wrote the Teams app package to {out} ({len(data):,} bytes). Upload it in Teams "
          "(Apps > Manage your apps > Upload an app) or the Teams Developer Portal.")
    return 0


async def _import(settings: Settings, path: Path, workspace: str) -> int:
    from storage.db import Database
    from storage.importer import ImportError_, import_file

    db = Database(settings.database_url, timeouts=settings.database_timeouts)
    try:
        await db.upgrade()
        report = await import_file(db, path, workspace)
    except ImportError_ as error:
        print(f"partnership-bot: {error} Nothing was imported.", file=sys.stderr)
        return 1
    finally:
        await db.dispose()
    print(f"Imported {path} into workspace {workspace}:")
    for line in report.lines():
        print("  " + line)
    return 0


async def _schools(settings: Settings, args: argparse.Namespace) -> int:
    from storage.db import Database
    from storage.gias import Progress, RegisterError, import_register
    from storage.school_admin import (
        SchoolAdminError,
        dismiss_review,
        merge_schools,
        resolve_school,
        review_lines,
    )

    if args.action == "import-gias" and not args.file.is_file():
        print(f"partnership-bot: no file at {args.file}", file=sys.stderr)
        return 2
    # A register import writes tens of thousands of rows: no command-sized statement timeout.
    db = Database(settings.database_url, timeouts=replace(
        settings.database_timeouts, statement=BATCH_SECONDS, command=BATCH_SECONDS))
    try:
        await db.upgrade()
        if args.action == "import-gias":
            from tqdm import tqdm

            def bar(total: int) -> Progress:
                # Drawn on a terminal only (disable=None), so logs and pipes stay clean.
                return tqdm(total=total, desc="schools", unit=" rows", file=sys.stderr,
                            disable=None, dynamic_ncols=True)

            report = await import_register(db, args.file, args.workspace, args.la,
                                           args.encoding, progress_bar=bar)
            print(f"Loaded {args.file} into workspace {args.workspace}:")
            lines = report.lines() + [f"  {m}" for m in report.matched[:50]]
        elif args.action == "review":
            async with db.session() as session:
                lines = ([await dismiss_review(session, args.workspace, args.dismiss)]
                         if args.dismiss is not None else
                         await review_lines(session, args.workspace))
        else:
            async with db.session() as session:
                source = await resolve_school(session, args.workspace, args.source)
                target = await resolve_school(session, args.workspace, args.target)
                plan = await merge_schools(session, source, target, args.dry_run)
                lines = plan.lines(done=not args.dry_run)
    except (RegisterError, SchoolAdminError) as error:
        print(f"partnership-bot: {error}", file=sys.stderr)
        return 1
    finally:
        await db.dispose()
    print("\n".join(lines))
    return 0


async def _digests(settings: Settings, week: str | None, workspace: str | None) -> int:
    from handlers.digest import digest_report, week_asked
    from storage.db import Database

    try:
        week = week_asked(week)
    except ValueError as error:
        print(f"partnership-bot: {error}", file=sys.stderr)
        return 2
    db = Database(settings.database_url, timeouts=settings.database_timeouts)
    try:
        await db.upgrade()
        lines = await digest_report(db, week, workspace)
    finally:
        await db.dispose()
    print("\n".join(lines))
    return 0


async def _upgrade(settings: Settings) -> int:
    from storage.db import Database

    db = Database(settings.database_url, timeouts=settings.database_timeouts)
    try:
        await db.upgrade()
    finally:
        await db.dispose()
    print("The database schema is up to date.")
    return 0


async def _encrypt_tokens(settings: Settings) -> int:
    from storage.db import Database
    from storage.slack_oauth import (
        GENERATE_KEY_HINT,
        TokenKeyError,
        encrypt_stored_tokens,
        token_cipher,
    )

    try:
        cipher = token_cipher(settings.token_encryption_key)
    except TokenKeyError as error:
        raise ConfigError(str(error)) from None
    if cipher is None:
        raise ConfigError(f"Set TOKEN_ENCRYPTION_KEY first; {GENERATE_KEY_HINT}.")
    db = Database(settings.database_url, timeouts=settings.database_timeouts)
    try:
        await db.upgrade()
        changed = await encrypt_stored_tokens(db.engine, cipher)
    except TokenKeyError as error:
        print(f"partnership-bot: {error}", file=sys.stderr)
        return 1
    finally:
        await db.dispose()
    print(f"Encrypted the Slack tokens of {changed} stored installation and bot records with "
          "the first key in TOKEN_ENCRYPTION_KEY.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
