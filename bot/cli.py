"""The `partnership-bot` console script."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import sys
from pathlib import Path

from bot.config import ConfigError, Settings

DESCRIPTION = """Partnership Bot: school improvement partnerships in Slack, Teams and a local shell.

commands:
  shell [--as NAME]        chat with the bot locally (no Slack needed; embedded SQLite);
                           calendar invites, digest charts and your data export are
                           saved in the data folder's files/
  serve [--socket-mode]    serve Slack at /slack/events, Teams at /api/messages, the web
                           pages under /web/ and /healthz on $PORT (each platform that is
                           configured; with SLACK_CLIENT_ID set, Slack installs at
                           /slack/install for many workspaces), and post meeting
                           reminders and weekly digests when due, at Slack's pace (any
                           number of processes may share one PostgreSQL database: each is
                           still posted once)
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
  db upgrade               bring the database schema up to date
  db encrypt-tokens        encrypt every stored Slack token with TOKEN_ENCRYPTION_KEY's first
                           key (after setting a key, or a new one in front of the old)

configuration (environment or a .env file): DATABASE_URL, PORT, HOST, PUBLIC_BASE_URL (the
address people reach the server at, for links to the web pages and files); Slack:
SLACK_SIGNING_SECRET, SLACK_API_URL, and for one workspace SLACK_BOT_TOKEN (SLACK_APP_TOKEN for
Socket Mode) or for many SLACK_CLIENT_ID, SLACK_CLIENT_SECRET, SLACK_REDIRECT_URI, SLACK_SCOPES,
SLACK_INSTALL_PATH, TOKEN_ENCRYPTION_KEY; Teams: TEAMS_APP_ID, TEAMS_APP_PASSWORD,
TEAMS_TENANT_ID (or TEAMS_APP_TYPE=MultiTenant), TEAMS_OPENID_METADATA and
TEAMS_ENTRA_OPENID_METADATA (where signing keys are published: tests, government clouds),
TEAMS_AUTH_DISABLED (Bot Framework Emulator only; needs HOST=127.0.0.1);
PUBLIC_BASE_URL (the https:// address the bot is served at); WORKSPACE_ALIASES (e.g.
T0123ABCD=barnet,<Teams tenant id>=barnet: a Slack team and a Teams
tenant sharing partnerships)"""


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
    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade", "encrypt-tokens"])
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env()
        if args.command == "shell":
            return _shell(settings, args.name or getpass.getuser())
        if args.command == "serve":
            return _serve(settings, args.socket_mode)
        if args.command == "web":
            return _web(settings)
        if args.command == "teams-package":
            return _teams_package(settings, args.out, args.app_id, args.base_url)
        if args.command == "import":
            if not args.file.is_file():
                print(f"partnership-bot: no file at {args.file}", file=sys.stderr)
                return 2
            return asyncio.run(_import(settings, args.file, args.workspace))
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


def _shell(settings: Settings, name: str) -> int:
    from bot.shell import run_shell
    from storage.db import Database, data_folder

    logging.getLogger().setLevel(logging.WARNING)
    asyncio.run(run_shell(Database(settings.database_url), name,
                          files_dir=data_folder() / "files", web_base=settings.web_base))
    return 0


def _serve(settings: Settings, socket_mode: bool) -> int:
    from aiohttp import web

    from bot.server import build_web_app
    from storage.db import Database

    settings.require_platform()
    if settings.slack_enabled or socket_mode:
        settings.require_slack(socket_mode)
    if settings.teams_enabled:
        if socket_mode:
            raise ConfigError("--socket-mode serves Slack only; serve Teams over HTTP "
                              "(without --socket-mode), or unset TEAMS_APP_ID.")
        settings.require_teams()
    db = Database(settings.database_url)
    if socket_mode:
        from bot.slack.socket_mode import run_socket_mode

        asyncio.run(run_socket_mode(settings, db))
        return 0
    web.run_app(build_web_app(settings, db), host=settings.host, port=settings.port)
    return 0


def _web(settings: Settings) -> int:
    """The web pages alone (no chat platform, no outbox): beside the local shell, whose
    `partnership web` links open them."""
    from aiohttp import web

    from bot.server import build_web_app
    from storage.db import Database

    print(f"Serving the web pages at {settings.web_base}/web/ (Ctrl-C stops). In the shell, "
          "`partnership web` gives you a link.")
    web.run_app(build_web_app(settings, Database(settings.database_url), send=False),
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

    db = Database(settings.database_url)
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


async def _digests(settings: Settings, week: str | None, workspace: str | None) -> int:
    from handlers.digest import digest_report, week_asked
    from storage.db import Database

    try:
        week = week_asked(week)
    except ValueError as error:
        print(f"partnership-bot: {error}", file=sys.stderr)
        return 2
    db = Database(settings.database_url)
    try:
        await db.upgrade()
        lines = await digest_report(db, week, workspace)
    finally:
        await db.dispose()
    print("\n".join(lines))
    return 0


async def _upgrade(settings: Settings) -> int:
    from storage.db import Database

    db = Database(settings.database_url)
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
    db = Database(settings.database_url)
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
