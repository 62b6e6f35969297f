"""One entry point for every chat platform: command name and text in, outcome out."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlmodel.ext.asyncio.session import AsyncSession

from handlers import partnership
from handlers.context import Caller
from handlers.errors import CommandError
from handlers.parsing import ParseError
from handlers.replies import Outcome, Reply
from storage.db import Database

log = logging.getLogger(__name__)

Handler = Callable[[str, Caller, AsyncSession], Awaitable[Outcome]]

COMMANDS: dict[str, Handler] = {
    "partnership": partnership.run,
}


def command_names() -> list[str]:
    return sorted(COMMANDS)


async def run_command(db: Database, command: str, text: str, caller: Caller) -> Outcome:
    """Run one command in one transaction: it is saved whole or not at all."""
    name = command.strip().lstrip("/").lower()
    handler = COMMANDS.get(name)
    if handler is None:
        return Outcome(Reply.error(
            f"I don't know the command `{command}`.",
            "I know " + ", ".join(caller.cmd(c) for c in command_names())
            + f". Try {caller.cmd('partnership help')}.",
        ))
    try:
        async with db.session() as session:
            return await handler(text, caller, session)
    except ParseError as error:
        return Outcome(Reply.error(error.problem, *error.hints))
    except CommandError as error:
        return Outcome(error.reply)
    except IntegrityError:
        # Two people made the same change at the same moment; the other one won.
        log.warning("integrity conflict while running /%s", name)
        return Outcome(Reply.error(
            "Someone else changed the same thing at the same moment, so I saved nothing.",
            "Please look again and repeat your command if it is still needed.",
        ))
    except (OperationalError, InterfaceError, DBAPIError, OSError, TimeoutError):
        # Never the statement or its parameters: they may hold notes about staff.
        log.error("database unavailable while running /%s", name, exc_info=False)
        return Outcome(Reply.error(
            "I can't reach my database just now, so nothing was saved.",
            "Please try again shortly.",
        ))
    except Exception:
        log.exception("unexpected error while running /%s", name)
        return Outcome(Reply.error(
            "Something went wrong on my side, so nothing was saved.",
            "Please try again; if it keeps happening, tell whoever runs this bot.",
        ))
