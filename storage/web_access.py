"""Sign-in links, browser sessions and personal file links for the web pages.

Every token is 32 random bytes (URL-safe base64) shown once, in chat or in a cookie; only its
SHA-256 is stored, so a copy of the database lets no one in. A token starts with a letter naming
its kind ("s" a sign-in link, "f" a file), so a token pasted into the wrong address is told
apart from an altered one. Checks that compare a token compare hashes from the database, looked
up by their unique index, so no secret is compared byte by byte in Python."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, update
from sqlalchemy.engine import CursorResult
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.db import Database
from storage.models import FileLink, WebLink, WebSession

SIGN_IN_FOR = timedelta(minutes=15)
SESSION_FOR = timedelta(hours=8)
SIGN_IN_PREFIX = "s"
FILE_PREFIX = "f"
SESSION_PREFIX = "c"  # the cookie's
# Link creation paced per person: at most this many of each kind in the window.
PACE_WINDOW = timedelta(minutes=10)
SIGN_INS_PER_WINDOW = 10
FILES_PER_WINDOW = 30
MAX_FILE_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Person:
    """One chat identity, as a link or session names it."""

    workspace: str
    platform: str
    user_id: str
    user_name: str = ""


def new_token(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def kind_of(token: str) -> str | None:
    """The kind letter of a well-formed token, or None."""
    prefix, sep, rest = token.partition("_")
    return prefix if sep and len(prefix) == 1 and 40 <= len(rest) <= 64 else None


def csrf_token(session_token: str) -> str:
    """The CSRF token of a session: derived from its secret, so it needs no storage, differs per
    session, and cannot be guessed from outside."""
    return hmac.new(session_token.encode(), b"csrf", hashlib.sha256).hexdigest()


def csrf_matches(session_token: str, offered: str) -> bool:
    return hmac.compare_digest(csrf_token(session_token), offered)


class Paced(Exception):
    """The person asked for too many links lately; `until` is when they may ask again."""

    def __init__(self, until: datetime) -> None:
        super().__init__("too many links")
        self.until = until


async def _pace(session: AsyncSession, table: type[WebLink] | type[FileLink], person: Person,
                most: int, now: datetime) -> None:
    """Refuse a new link past `most` in the window; the rows are the record (any process)."""
    since = now - PACE_WINDOW
    recent = (await session.exec(
        select(table.created_at).where(
            table.platform == person.platform, table.user_id == person.user_id,
            col(table.created_at) > since)
        .order_by(col(table.created_at).desc()).limit(most))).all()
    if len(recent) >= most:
        raise Paced(min(recent) + PACE_WINDOW)


# --- sign-in links --------------------------------------------------------------------------


async def new_sign_in(session: AsyncSession, person: Person, partnership_id: int | None,
                      now: datetime) -> tuple[str, datetime]:
    """A fresh single-use link's token and when it stops working (Paced if too many lately)."""
    await _pace(session, WebLink, person, SIGN_INS_PER_WINDOW, now)
    token = new_token(SIGN_IN_PREFIX)
    expires = now + SIGN_IN_FOR
    session.add(WebLink(token_hash=token_hash(token), workspace=person.workspace,
                        platform=person.platform, user_id=person.user_id,
                        user_name=person.user_name, partnership_id=partnership_id,
                        created_at=now, expires_at=expires))
    return token, expires


class LinkState(StrEnum):
    GOOD = "good"
    UNKNOWN = "unknown"  # altered, made up, or erased (forget me)
    FOREIGN = "foreign"  # a well-formed token of another kind
    USED = "used"
    EXPIRED = "expired"


def _state(token: str, prefix: str, row_found: bool, used: bool, expires: datetime | None,
           now: datetime) -> LinkState:
    kind = kind_of(token)
    if kind is not None and kind != prefix:
        return LinkState.FOREIGN
    if not row_found:
        return LinkState.UNKNOWN
    if used:
        return LinkState.USED
    if expires is None or expires <= now:
        return LinkState.EXPIRED
    return LinkState.GOOD


async def sign_in_link(session: AsyncSession, token: str,
                       now: datetime) -> tuple[LinkState, WebLink | None]:
    row = (await session.exec(select(WebLink).where(
        WebLink.token_hash == token_hash(token)))).first()
    state = _state(token, SIGN_IN_PREFIX, row is not None,
                   row is not None and row.used_at is not None,
                   row.expires_at if row else None, now)
    return state, row


async def use_sign_in(session: AsyncSession, token: str,
                      now: datetime) -> tuple[LinkState, WebLink | None, str | None]:
    """Spend a sign-in link and start a session: its state, the link, and the new session's
    cookie token. Spending is one conditional UPDATE, so of two browsers racing with the same
    link exactly one gets in."""
    state, link = await sign_in_link(session, token, now)
    if state is not LinkState.GOOD or link is None:
        return state, link, None
    spent = await session.exec(update(WebLink).where(
        col(WebLink.id) == link.id, col(WebLink.used_at).is_(None)).values(used_at=now))
    assert isinstance(spent, CursorResult)
    if spent.rowcount != 1:
        return LinkState.USED, link, None
    cookie = new_token(SESSION_PREFIX)
    session.add(WebSession(token_hash=token_hash(cookie), workspace=link.workspace,
                           platform=link.platform, user_id=link.user_id,
                           user_name=link.user_name, created_at=now,
                           expires_at=now + SESSION_FOR))
    return LinkState.GOOD, link, cookie


# --- sessions -------------------------------------------------------------------------------


async def session_of(session: AsyncSession, cookie: str, now: datetime) -> WebSession | None:
    """The live session this cookie belongs to, if any."""
    if kind_of(cookie) != SESSION_PREFIX:
        return None
    row = (await session.exec(select(WebSession).where(
        WebSession.token_hash == token_hash(cookie)))).first()
    if row is None or row.expires_at <= now:
        return None
    return row


async def end_session(session: AsyncSession, cookie: str) -> None:
    await session.exec(delete(WebSession).where(
        col(WebSession.token_hash) == token_hash(cookie)))


# --- files ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewFile:
    filename: str
    title: str
    mimetype: str
    content: bytes


async def new_file_links(session: AsyncSession, person: Person, files: Sequence[NewFile],
                         lasts: timedelta, single_use: bool,
                         now: datetime) -> list[tuple[NewFile, str]]:
    """Each file stored for `person` behind a fresh link token (Paced if too many lately)."""
    await _pace(session, FileLink, person, FILES_PER_WINDOW, now)
    made = []
    for file in files:
        if len(file.content) > MAX_FILE_BYTES:
            raise ValueError(f"{file.filename} is too large to serve")
        token = new_token(FILE_PREFIX)
        session.add(FileLink(token_hash=token_hash(token), workspace=person.workspace,
                             platform=person.platform, user_id=person.user_id,
                             filename=file.filename, title=file.title, mimetype=file.mimetype,
                             content=file.content, single_use=single_use, created_at=now,
                             expires_at=now + lasts))
        made.append((file, token))
    return made


async def take_file(session: AsyncSession, token: str,
                    now: datetime) -> tuple[LinkState, FileLink | None]:
    """The file behind a link, if it may be served now; a single-use one is spent (atomically,
    as sign-in links are)."""
    row = (await session.exec(select(FileLink).where(
        FileLink.token_hash == token_hash(token)))).first()
    state = _state(token, FILE_PREFIX, row is not None,
                   row is not None and row.single_use and row.used_at is not None,
                   row.expires_at if row else None, now)
    if state is not LinkState.GOOD or row is None:
        return state, row
    spent = await session.exec(update(FileLink).where(
        col(FileLink.id) == row.id,
        col(FileLink.used_at).is_(None) | ~col(FileLink.single_use)).values(used_at=now))
    assert isinstance(spent, CursorResult)
    if spent.rowcount != 1:
        return LinkState.USED, row
    return LinkState.GOOD, row


# --- keeping it tidy ------------------------------------------------------------------------


async def forget_expired(db: Database, now: datetime) -> int:
    """Delete links, sessions and files past their time (the daily housekeeping)."""
    removed = 0
    async with db.session() as session:
        for table in (WebLink, WebSession, FileLink):
            result = await session.exec(delete(table).where(
                col(table.expires_at) <= now))
            removed += int(result.rowcount)
    return removed
