"""The delivery outbox: messages due at a set time, claimed atomically so each is sent once.

Any number of bot processes may poll one database. A claim is a single UPDATE that moves due
rows to `sending` with a lease and a fresh claim token; on PostgreSQL the rows are picked with
`FOR UPDATE SKIP LOCKED`, so concurrent pollers take disjoint rows without waiting; on SQLite
the UPDATE runs under the database's single write lock. Every later change (renew, finish,
retry) names the token, so a process whose lease ran out can no longer touch the row."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, exists, or_, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage import personal_chats
from storage.db import Database
from storage.models import (
    ChannelLink,
    DeliveryStatus,
    Partnership,
    PostedMessage,
    ScheduledDelivery,
)
from storage.types import utcnow

# Long enough for one delivery's posts, Slack's own 429 waits included; the sender renews it
# before every post, so only a process that died (or stalled this long) loses its rows.
LEASE = timedelta(minutes=2)
# Platforms whose private messages need the person's personal chat kept (storage/personal_chats).
NEEDS_PERSONAL_CHAT = frozenset({"teams"})
MAX_ERROR_LENGTH = 500


@dataclass(frozen=True)
class Claimed:
    """A delivery this process holds the lease on."""

    id: int
    kind: str
    partnership_id: int
    dedupe_key: str
    due_at: datetime
    expires_at: datetime | None
    attempts: int  # this try included
    payload: dict[str, Any]
    token: str
    lease_until: datetime
    # A posting slot held for its next post (see `defer`), if it has one.
    slot: datetime | None = None


def new_token() -> str:
    return uuid.uuid4().hex


async def enqueue(
    session: AsyncSession,
    *,
    kind: str,
    partnership_id: int,
    dedupe_key: str,
    due_at: datetime,
    expires_at: datetime | None = None,
    payload: dict[str, Any] | None = None,
    slot: datetime | None = None,
) -> bool:
    """Queue a delivery in the caller's transaction. False when that key was queued before
    (whatever became of it): a key is delivered at most once, ever. `slot` is a posting slot
    already booked for its first post (storage/pacing.py), used by its sender then.

    One INSERT that does nothing on a key already there, so two processes queueing the same
    key at the same moment both succeed and only one row results (no IntegrityError)."""
    table = ScheduledDelivery
    values = {
        "kind": kind, "partnership_id": partnership_id, "dedupe_key": dedupe_key,
        "due_at": due_at, "next_attempt_at": due_at, "expires_at": expires_at,
        "status": DeliveryStatus.PENDING.value, "attempts": 0,
        "payload": json.dumps(payload or {}), "created_at": utcnow(), "slot": slot,
    }
    insert = _insert_for(session).values(**values).on_conflict_do_nothing(
        index_elements=[col(table.dedupe_key)]).returning(col(table.id))
    inserted = (await session.exec(insert)).first()
    return inserted is not None


def _insert_for(session: AsyncSession) -> Any:
    """INSERT with the dialect's ON CONFLICT clause (both databases speak it)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql_insert(ScheduledDelivery)
    return sqlite_insert(ScheduledDelivery)


async def reschedule(session: AsyncSession, dedupe_key: str, due_at: datetime,
                     expires_at: datetime | None) -> bool:
    """Move a delivery that has not gone out yet to a new time, in the caller's transaction: a
    waiting one, or one cancelled before it went (wanted again). False if there is none such:
    it never existed, or it was sent, or is being sent, or failed."""
    table = ScheduledDelivery
    result = await session.exec(
        update(table)
        .where(col(table.dedupe_key) == dedupe_key,
               col(table.status).in_([DeliveryStatus.PENDING, DeliveryStatus.CANCELLED]))
        .values(status=DeliveryStatus.PENDING.value, due_at=due_at, next_attempt_at=due_at,
                expires_at=expires_at, last_error=None)
    )
    return int(result.rowcount) == 1


async def pending_keys(session: AsyncSession, key_prefix: str) -> list[str]:
    result = await session.exec(
        select(ScheduledDelivery.dedupe_key).where(
            col(ScheduledDelivery.dedupe_key).startswith(key_prefix, autoescape=True),
            ScheduledDelivery.status == DeliveryStatus.PENDING,
        )
    )
    return list(result.all())


async def cancel(session: AsyncSession, keys: Sequence[str], reason: str) -> int:
    """Cancel these deliveries if they are still waiting, in the caller's transaction.

    One being sent right now is left to finish: its post may already be out."""
    if not keys:
        return 0
    result = await session.exec(
        update(ScheduledDelivery)
        .where(col(ScheduledDelivery.dedupe_key).in_(keys),
               col(ScheduledDelivery.status) == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.CANCELLED.value, last_error=reason[:MAX_ERROR_LENGTH])
    )
    return int(result.rowcount)


def _claimable(now: datetime) -> Any:
    table = ScheduledDelivery
    return or_(
        and_(col(table.status) == DeliveryStatus.PENDING, col(table.next_attempt_at) <= now),
        # Its sender died or stalled past the lease: someone else may take it over.
        and_(col(table.status) == DeliveryStatus.SENDING, col(table.lease_until) < now),
    )


async def claim_due(db: Database, now: datetime, limit: int,
                    lease: timedelta = LEASE) -> list[Claimed]:
    """Take up to `limit` due deliveries for this process, oldest first."""
    table = ScheduledDelivery
    token = new_token()
    candidates = (
        select(table.id).where(_claimable(now))
        .order_by(col(table.next_attempt_at)).limit(limit)
        .with_for_update(skip_locked=True)
    )
    statement = (
        update(table)
        # The conditions again: a row another poller took meanwhile no longer matches.
        .where(col(table.id).in_(candidates.scalar_subquery()), _claimable(now))
        .values(status=DeliveryStatus.SENDING.value, lease_until=now + lease,
                claim_token=token, attempts=col(table.attempts) + 1)
        .returning(col(table.id), col(table.kind), col(table.partnership_id),
                   col(table.dedupe_key), col(table.due_at), col(table.expires_at),
                   col(table.attempts), col(table.payload), col(table.slot))
    )
    async with db.autocommit() as conn:  # one statement: atomic by itself
        rows = (await conn.execute(statement)).all()
    claimed = [Claimed(id=r[0] or 0, kind=r[1], partnership_id=r[2], dedupe_key=r[3],
                       due_at=r[4], expires_at=r[5], attempts=r[6],
                       payload=json.loads(r[7] or "{}"), token=token, lease_until=now + lease,
                       slot=r[8])
               for r in rows]
    return sorted(claimed, key=lambda c: c.due_at)


def _guarded(claimed: Claimed, **values: Any) -> Any:
    """An UPDATE of the row that only applies while this claim still holds it."""
    table = ScheduledDelivery
    return (
        update(table)
        .where(col(table.id) == claimed.id, col(table.claim_token) == claimed.token,
               col(table.status) == DeliveryStatus.SENDING)
        .values(**values)
    )


async def _guarded_update(db: Database, claimed: Claimed, **values: Any) -> bool:
    async with db.autocommit() as conn:
        result = await conn.execute(_guarded(claimed, **values))
    return int(result.rowcount) == 1


async def renew(db: Database, claimed: Claimed, now: datetime, lease: timedelta = LEASE) -> bool:
    """Extend the lease before a post; False means the row was taken over: post nothing."""
    return await _guarded_update(db, claimed, lease_until=now + lease)


@dataclass(frozen=True)
class Post:
    """Where one message of a delivery went."""

    platform: str
    channel_id: str
    message_ref: str | None


async def mark_sent(db: Database, claimed: Claimed, now: datetime,
                    last_post: Post | None = None, note: str | None = None) -> bool:
    """Sent everywhere: the last post's record and the status change at once (one statement on
    PostgreSQL, one transaction on SQLite). `note` keeps what went partly wrong on the row (a
    chart that could not be shared)."""
    sent = _guarded(claimed, status=DeliveryStatus.SENT.value, sent_at=now, lease_until=None,
                    last_error=_short(note))
    if last_post is None:
        async with db.autocommit() as conn:
            result = await conn.execute(sent)
        return int(result.rowcount) == 1
    # Kept even if the lease was lost meanwhile: the post did go out.
    recorded = _record(db, claimed.partnership_id, claimed.dedupe_key, last_post.platform,
                       last_post.channel_id, last_post.message_ref)
    if db.is_postgres:
        async with db.autocommit() as conn:
            result = await conn.execute(sent.add_cte(recorded.cte("recorded")))
    else:
        async with db.engine.begin() as conn:
            await conn.execute(recorded)
            result = await conn.execute(sent)
    return int(result.rowcount) == 1


async def mark_final(db: Database, claimed: Claimed, status: DeliveryStatus,
                     reason: str) -> bool:
    """Failed for good, or dropped as no longer useful; the reason is kept on the row."""
    return await _guarded_update(db, claimed, status=status.value, lease_until=None,
                                 last_error=_short(reason))


async def retry_at(db: Database, claimed: Claimed, at: datetime, error: str) -> bool:
    """Put it back in the queue for another try at `at`."""
    return await _guarded_update(db, claimed, status=DeliveryStatus.PENDING.value,
                                 next_attempt_at=at, lease_until=None, claim_token=None,
                                 slot=None, last_error=_short(error))


async def defer(db: Database, claimed: Claimed, slot: datetime) -> bool:
    """Put it back untried until `slot`, a posting slot reserved for it (the pace allowed no
    post sooner): this claim does not count as an attempt."""
    table = ScheduledDelivery
    return await _guarded_update(db, claimed, status=DeliveryStatus.PENDING.value,
                                 next_attempt_at=slot, slot=slot, lease_until=None,
                                 claim_token=None, attempts=col(table.attempts) - 1)


def _short(text: str | None) -> str | None:
    return None if text is None else text[:MAX_ERROR_LENGTH]


# --- where messages went --------------------------------------------------------------------


async def record_post(db: Database, partnership_id: int, key: str, platform: str,
                      channel_id: str, message_ref: str | None) -> None:
    async with db.autocommit() as conn:
        await conn.execute(_record(db, partnership_id, key, platform, channel_id, message_ref))


def _record(db: Database, partnership_id: int, key: str, platform: str, channel_id: str,
            message_ref: str | None) -> Any:
    """One statement recording where a message went (or, posted there again, its new ref)."""
    table = PostedMessage
    insert = (postgresql_insert if db.is_postgres else sqlite_insert)(table).values(
        partnership_id=partnership_id, key=key, platform=platform, channel_id=channel_id,
        message_ref=message_ref, posted_at=utcnow())
    return insert.on_conflict_do_update(
        index_elements=[col(table.key), col(table.platform), col(table.channel_id)],
        set_={"message_ref": insert.excluded.message_ref})


@dataclass(frozen=True)
class Target:
    """Where a delivery goes: its partnership's workspace, its linked channels, and the
    channels it has already reached."""

    workspace: str
    links: list[ChannelLink]
    done: set[tuple[str, str]]
    # A private message that cannot reach its person at all, and why (it is dropped).
    unreachable: str | None = None


_LINKS = ChannelLink.__table__  # type: ignore[attr-defined]
_TARGET: Any = (
    select(col(Partnership.workspace).label("partnership_workspace"), _LINKS,
           exists().where(col(PostedMessage.key) == bindparam("key"),
                          col(PostedMessage.platform) == col(ChannelLink.platform),
                          col(PostedMessage.channel_id) == col(ChannelLink.channel_id))
           .label("reached"))
    .select_from(Partnership)
    .outerjoin(_LINKS, col(ChannelLink.partnership_id) == Partnership.id)
    .where(col(Partnership.id) == bindparam("partnership_id"))
    .order_by(col(ChannelLink.linked_at))
)


async def target_of(db: Database, claimed: Claimed) -> Target:
    """A delivery's `Target`, in one statement (prebuilt Core: storage/core.py)."""
    async with db.engine.connect() as conn:
        rows = (await conn.execute(_TARGET, {"key": claimed.dedupe_key,
                                             "partnership_id": claimed.partnership_id})).all()
    columns = [c.name for c in _LINKS.columns]
    links, done = [], set()
    for row in rows:
        if row.id is None:
            continue  # no linked channel
        link = ChannelLink.model_construct(**{name: row._mapping[name] for name in columns})
        links.append(link)
        if row.reached:
            done.add((link.platform, link.channel_id))
    return Target(rows[0].partnership_workspace if rows else "", links, done)


async def direct_target(db: Database, claimed: Claimed, to: dict[str, Any]) -> Target:
    """A private message's `Target`: the one person in `to` ({"platform", "user_id"}), as a
    "channel" whose id is theirs (Slack posts it in the app's direct messages with them; Teams
    in their personal chat with the bot, by the reference kept when they last wrote there)."""
    platform, user_id = str(to.get("platform")), str(to.get("user_id"))
    async with db.session() as session:
        workspace = (await session.exec(select(Partnership.workspace).where(
            Partnership.id == claimed.partnership_id))).first()
        reached = (await session.exec(select(PostedMessage.id).where(
            PostedMessage.key == claimed.dedupe_key))).first()
        ref = (await personal_chats.reference_of(session, workspace or "", platform, user_id)
               if platform in NEEDS_PERSONAL_CHAT else None)
    unreachable = None
    if platform in NEEDS_PERSONAL_CHAT and ref is None:
        unreachable = ("they have never said anything to me in a personal chat, so I have "
                       "no way to write to them privately")
    link = ChannelLink.model_construct(
        id=None, partnership_id=claimed.partnership_id, platform=platform,
        channel_id=user_id, channel_name="their personal chat",
        conversation_ref=ref, linked_by=None)
    done = {(link.platform, link.channel_id)} if reached is not None else set()
    return Target(workspace or "", [link], done, unreachable)


async def posts_of(session: AsyncSession, key: str) -> Sequence[PostedMessage]:
    result = await session.exec(select(PostedMessage).where(PostedMessage.key == key)
                                .order_by(col(PostedMessage.id)))
    return result.all()


async def deliveries_with_prefix(session: AsyncSession,
                                 key_prefix: str) -> Sequence[ScheduledDelivery]:
    result = await session.exec(
        select(ScheduledDelivery)
        .where(col(ScheduledDelivery.dedupe_key).startswith(key_prefix, autoescape=True))
        .order_by(col(ScheduledDelivery.due_at))
    )
    return result.all()


async def deliveries_of_kind(
    session: AsyncSession, kind: str, key_suffix: str, workspace: str | None,
) -> Sequence[tuple[ScheduledDelivery, Partnership]]:
    """Deliveries of one kind whose key ends with `key_suffix` (a digest's week), with their
    partnerships, by partnership name; one workspace's only when given."""
    query = (
        select(ScheduledDelivery, Partnership)
        .join(Partnership, col(Partnership.id) == ScheduledDelivery.partnership_id)
        .where(ScheduledDelivery.kind == kind,
               col(ScheduledDelivery.dedupe_key).endswith(key_suffix, autoescape=True))
        .order_by(col(Partnership.workspace), col(Partnership.name))
    )
    if workspace is not None:
        query = query.where(Partnership.workspace == workspace)
    return (await session.exec(query)).all()
