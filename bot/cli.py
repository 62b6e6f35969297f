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
                           calendar invites are saved in the data folder's invites/
  serve [--socket-mode]    serve Slack at /slack/events and /healthz on $PORT, and post
                           meeting reminders when due (any number of processes may share
                           one PostgreSQL database: each reminder is still posted once)
  import FILE [--workspace ID]
                           load partnerships and schools from a YAML file (safe to repeat)
  db upgrade               bring the database schema up to date

configuration (environment or a .env file): DATABASE_URL, PORT, SLACK_BOT_TOKEN,
SLACK_SIGNING_SECRET, SLACK_APP_TOKEN, SLACK_API_URL"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="partnership-bot", description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    shell = sub.add_parser("shell", help="chat with the bot locally")
    shell.add_argument("--as", dest="name", default=None,
                       help="who you are in the shell (default: your login name)")
    serve = sub.add_parser("serve", help="serve Slack over HTTP (or Socket Mode)")
    serve.add_argument("--socket-mode", action="store_true",
                       help="connect to Slack over Socket Mode (needs SLACK_APP_TOKEN)")
    importer = sub.add_parser("import", help="load partnerships from YAML")
    importer.add_argument("file", type=Path)
    importer.add_argument("--workspace", default="local",
                          help="the Slack team id (T…) or Teams tenant to import into "
                               "(default: local, the shell's)")
    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"])
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
        if args.command == "import":
            if not args.file.is_file():
                print(f"partnership-bot: no file at {args.file}", file=sys.stderr)
                return 2
            return asyncio.run(_import(settings, args.file, args.workspace))
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
                          files_dir=data_folder() / "invites"))
    return 0


def _serve(settings: Settings, socket_mode: bool) -> int:
    from aiohttp import web

    from bot.server import build_web_app
    from storage.db import Database

    settings.require_slack(socket_mode)
    db = Database(settings.database_url)
    if socket_mode:
        from bot.slack.socket_mode import run_socket_mode

        asyncio.run(run_socket_mode(settings, db))
        return 0
    web.run_app(build_web_app(settings, db), host=settings.host, port=settings.port)
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


async def _upgrade(settings: Settings) -> int:
    from storage.db import Database

    db = Database(settings.database_url)
    try:
        await db.upgrade()
    finally:
        await db.dispose()
    print("The database schema is up to date.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
