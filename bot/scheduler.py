"""Sending the outbox: reminders and weekly digests posted when due, once, and never lost.

Every bot process runs an `OutboxScheduler`: an APScheduler 3 interval job that polls the
`delivery` table. The table is the only state (APScheduler's own job stores are not safe to share
between processes), so a restart loses nothing and several processes on one PostgreSQL
database never send a delivery twice: each poll claims due rows atomically (storage/outbox.py).

A delivery goes to every channel linked to its partnership. Each post is recorded as soon as it
is made, so a retry goes only to the channels still missing it. Failures (a Slack error, a 429
with Retry-After, a network error) are retried with exponential backoff, honouring Retry-After;
each is logged and kept on the row (`last_error`), and the row ends `sent`, `failed` (retries
used up), `dropped` (too late to be useful) or `skipped` (nothing worth sending): never silently
gone.

Posts keep to each platform's pace (storage/pacing.py, shared by all processes): about one a
second per Slack channel and a steady rate per workspace. A delivery the pace holds back goes
back in the queue, untried, for the moment it is allowed, so hundreds due at the same minute
spread out and all go. A second job plans recurring deliveries (the weekly digests) every few
minutes, and after any poll that sent something."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.delivery import Delivery, DeliveryError
from handlers.dispatch import PLANNERS, SCHEDULED
from handlers.replies import ChannelPost, Skip
from storage import outbox, pacing
from storage.db import UNAVAILABLE, Database, DatabaseStalled
from storage.models import ChannelLink, DeliveryStatus
from storage.outbox import Claimed
from storage.retention import housekeeping
from storage.types import LONDON, utcnow

log = logging.getLogger(__name__)

# The current time, aware and in UTC. Tests pass a clock they move by hand.
Clock = Callable[[], datetime]

POLL_SECONDS = 5.0
# A poll gives up after this long (its deliveries keep their leases and are taken over), so a
# database that stalls mid-poll cannot stop later polls; reminders due meanwhile go out at the
# first poll after it answers again.
POLL_DEADLINE = 30.0
PLAN_SECONDS = 300.0
# How many rows one claim takes, and how many posts run at once.
CLAIM_BATCH = 50
CONCURRENT_SENDS = 8
MAX_ATTEMPTS = 10
FIRST_BACKOFF = timedelta(seconds=5)
LONGEST_BACKOFF = timedelta(minutes=10)
# How far before a delivery's due time its earlier post is looked for: clocks differ a little.
HISTORY_MARGIN = timedelta(minutes=10)


def system_clock() -> datetime:
    return utcnow()


def backoff(attempts: int, retry_after: float | None = None) -> timedelta:
    """Wait before try number `attempts + 1`: doubling from 5 s to 10 min, with some jitter so
    processes do not retry in step, and never sooner than the platform's Retry-After."""
    doubled = FIRST_BACKOFF * (2 ** max(0, attempts - 1))
    wait: timedelta = min(doubled, LONGEST_BACKOFF) * random.uniform(0.8, 1.0)
    if retry_after is not None:
        wait = max(wait, timedelta(seconds=retry_after))
    return wait


class OutboxSender:
    """Claims due deliveries and posts them; one `tick` drains everything due now."""

    def __init__(self, db: Database, delivery: Delivery, clock: Clock = system_clock,
                 *, batch: int = CLAIM_BATCH, concurrency: int = CONCURRENT_SENDS,
                 lease: timedelta = outbox.LEASE, confirm_reposts: bool = True) -> None:
        self.db = db
        # Look for an unrecorded earlier post before trying again (see _already_posted); off
        # only to measure what it saves (bench/crash_window.py).
        self.confirm_reposts = confirm_reposts
        self.delivery = delivery
        self.clock = clock
        self.batch = batch
        self.lease = lease
        self._slots = asyncio.Semaphore(concurrency)
        # Claimed deliveries whose send was cut short (see _give_back_interrupted).
        self._interrupted: list[Claimed] = []

    async def tick(self, claim_for: float | None = None) -> int:
        """Send what is due; the number of deliveries handled. With `claim_for` (seconds), no
        new batch is claimed after that long: the next poll carries on from there."""
        await self._give_back_interrupted()
        handled = 0
        loop = asyncio.get_running_loop()
        stop_claiming = None if claim_for is None else loop.time() + claim_for
        while stop_claiming is None or loop.time() < stop_claiming:
            claimed = await outbox.claim_due(self.db, self.clock(), self.batch, self.lease)
            if not claimed:
                break
            await asyncio.gather(*(self._send_in_slot(item) for item in claimed))
            handled += len(claimed)
            if len(claimed) < self.batch:
                break
        if handled:
            # A recurring delivery that just went out has its next one queued now.
            await self.plan()
        return handled

    async def plan(self) -> int:
        """Queue recurring deliveries (the weekly digests) that are not queued yet."""
        queued = 0
        for planner in PLANNERS:
            async with self.db.session() as session:
                queued += await planner(session, self.clock())
        return queued

    async def _send_in_slot(self, item: Claimed) -> None:
        try:
            async with self._slots:
                try:
                    await self._send(item)
                except asyncio.CancelledError:
                    raise
                except UNAVAILABLE as error:
                    log.warning("delivery %s (%s): database unavailable (%s); tried again later",
                                item.id, item.dedupe_key, type(error).__name__)
                    await self._failed(item, "the bot's database stopped answering", None)
                except Exception as error:
                    # The row is tried again: logged, not lost.
                    log.exception("delivery %s (%s) failed unexpectedly", item.id,
                                  item.dedupe_key)
                    await self._failed(item, f"unexpected error: {type(error).__name__}", None)
        except BaseException:
            # Stopped half-way (the poll's deadline, or the database could not even be told):
            # given back at the next poll instead of waiting out its lease.
            self._interrupted.append(item)
            raise

    async def _give_back_interrupted(self) -> None:
        """Put deliveries this process was stopped in the middle of back in the queue, due now.
        Their next try looks for a post that went out unrecorded (see `_already_posted`)."""
        items, self._interrupted = self._interrupted, []
        for index, item in enumerate(items):
            try:
                await outbox.retry_at(self.db, item, self.clock(),
                                      "interrupted: the bot's database stopped answering")
            except BaseException:
                self._interrupted.extend(items[index:])
                raise

    async def _send(self, item: Claimed) -> None:
        now = self.clock()
        if item.expires_at is not None and now >= item.expires_at:
            log.warning("delivery %s (%s) dropped: due %s, too late at %s", item.id,
                        item.dedupe_key, item.due_at.isoformat(), now.isoformat())
            await outbox.mark_final(self.db, item, DeliveryStatus.DROPPED,
                                    "too late: its moment had passed before it could be sent")
            return
        renderer = SCHEDULED.get(item.kind)
        if renderer is None:
            await outbox.mark_final(self.db, item, DeliveryStatus.FAILED,
                                    f"no renderer for kind {item.kind!r}")
            log.error("delivery %s has unknown kind %s", item.id, item.kind)
            return
        to = item.payload.get("to")
        # A private message names its one recipient; anything else goes to the channels.
        target = await (outbox.direct_target(self.db, item, to) if isinstance(to, dict)
                        else outbox.target_of(self.db, item))
        if target.unreachable is not None:
            log.warning("delivery %s (%s) dropped: %s", item.id, item.dedupe_key,
                        target.unreachable)
            await outbox.mark_final(self.db, item, DeliveryStatus.DROPPED, target.unreachable)
            return
        links, workspace = self.delivery.reachable(target.links), target.workspace
        todo = [link for link in links if (link.platform, link.channel_id) not in target.done]
        # Looked at before the message is built, so a crowd of digests held back by the pace
        # is not built twice; used (below) only once there is something to post.
        if todo and not await self._within_pace(item, todo[0], workspace, use=False):
            return
        async with self.db.session() as session:
            rendered = await renderer(item.payload, item.due_at, now, session)
        if rendered is None:
            await outbox.mark_final(self.db, item, DeliveryStatus.DROPPED, "no longer needed")
            return
        if isinstance(rendered, Skip):
            await outbox.mark_final(self.db, item, DeliveryStatus.SKIPPED, rendered.reason)
            return
        if not links:
            await self._failed(item, "no linked channel to post in", None)
            return
        message = rendered if isinstance(rendered, ChannelPost) else \
            ChannelPost(item.partnership_id, rendered)
        await self._post_all(item, message, todo, workspace)

    async def _post_all(self, item: Claimed, message: ChannelPost, todo: list[ChannelLink],
                        workspace: str) -> None:
        """Post in each channel still missing it, recording each as it goes out, so that no
        retry (or process taking over) posts in a channel twice."""
        errors: list[DeliveryError] = []
        notes: list[str] = []
        held_until = item.lease_until
        if message.only_channel is not None:
            # A post queued for one channel (bot/delivery.py): the others had theirs.
            todo = [link for link in todo if link.channel_id == message.only_channel]
            if not todo:
                await outbox.mark_sent(self.db, item, self.clock())
                return
        for index, link in enumerate(todo):
            if not await self._within_pace(item, link, workspace, first=index == 0):
                return  # back in the queue; the channels done so far are recorded
            # Renewing also checks that no other process has taken the row over; a lease
            # claimed moments ago is safe to post on as it is.
            if self.clock() > held_until - self.lease / 2:
                if not await outbox.renew(self.db, item, self.clock(), self.lease):
                    log.warning("delivery %s: lease lost; leaving it to its new holder",
                                item.id)
                    return
                held_until = self.clock() + self.lease
            found = await self._already_posted(item, link)
            try:
                ref = found if found is not None else \
                    await self.delivery.send_queued(link, message, item.dedupe_key)
            except DeliveryError as error:
                errors.append(error)
                if error.retry_after is not None:
                    await self._hold(link, workspace, error.retry_after)
                continue
            post = outbox.Post(link.platform, link.channel_id, ref)
            # A post found already there keeps whatever became of its file: sharing it again
            # could double it (the message itself carries the same facts).
            attachment = message.attachment if found is None else None
            if attachment is None and index == len(todo) - 1 and not errors:
                await outbox.mark_sent(self.db, item, self.clock(), post)
                return
            # Recorded before anything else is tried, so no retry posts it again.
            await outbox.record_post(self.db, item.partnership_id, item.dedupe_key,
                                     post.platform, post.channel_id, post.message_ref)
            if attachment is not None:
                try:
                    await self.delivery.share_to(link, attachment, ref)
                except DeliveryError as error:
                    # The message (with the same facts in words) is what counts: it stays sent.
                    log.warning("delivery %s: %s", item.id, error.hint)
                    notes.append(error.hint)
        if errors:
            retry_after = max((e.retry_after for e in errors if e.retry_after is not None),
                              default=None)
            await self._failed(item, "; ".join(e.hint for e in errors), retry_after)
            return
        await outbox.mark_sent(self.db, item, self.clock(), note="; ".join(notes) or None)

    async def _already_posted(self, item: Claimed, link: ChannelLink) -> str | None:
        """On a delivery's second or later try (taken over from a process that died or stalled
        mid-send, or retried after a failure whose post may still have gone out), the
        reference of its post if one is in the channel although none was recorded. The first
        try costs nothing: nothing can be there yet."""
        if item.attempts <= 1 or not self.confirm_reposts:
            return None
        try:
            found = await self.delivery.find_post(link, item.dedupe_key,
                                                  item.due_at - HISTORY_MARGIN)
        except DeliveryError as error:
            # Cannot read the channel (an app installed before the history scopes): post, as
            # before; at worst once more than wanted.
            log.warning("delivery %s: could not look for an earlier post (%s); posting",
                        item.id, error.hint)
            return None
        if found is not None:
            log.info("delivery %s (%s) was already posted in %s; recorded, not repeated",
                     item.id, item.dedupe_key, link.channel_id)
        return found

    async def _within_pace(self, item: Claimed, link: ChannelLink, workspace: str,
                           use: bool = True, first: bool = True) -> bool:
        """Use one post of the channel's and the workspace's allowance (or, `use` False, see
        whether there is one). When either is used up, book the next free slot of each and
        put the delivery back (untried) until the later of them, and say so."""
        limits = self.delivery.limits_for(link)
        paces = limits.paces(link, workspace) if limits else []
        if first and item.slot is not None and item.slot <= self.clock():
            return True  # its first post's slot was booked when it was held back
        if not paces:
            return True
        check = pacing.take_all if use else pacing.free_all_at
        if await check(self.db, paces, self.clock()) is None:
            return True
        slot = await pacing.reserve_all(self.db, paces, self.clock())
        log.info("delivery %s held back until %s by the pace of %s", item.id,
                 slot.isoformat(), paces[0][0])
        await outbox.defer(self.db, item, slot)
        return False

    async def _hold(self, link: ChannelLink, workspace: str, seconds: float) -> None:
        """The platform said to wait: nothing more goes to that workspace until then."""
        limits = self.delivery.limits_for(link)
        until = self.clock() + timedelta(seconds=seconds)
        for key, pace in limits.paces(link, workspace) if limits else []:
            if ":workspace:" in key:
                await pacing.hold(self.db, key, pace, until)

    async def _failed(self, item: Claimed, error: str, retry_after: float | None) -> None:
        now = self.clock()
        next_try = now + backoff(item.attempts, retry_after)
        too_late = item.expires_at is not None and next_try >= item.expires_at
        if item.attempts >= MAX_ATTEMPTS or too_late:
            why = "retries used up" if not too_late else "no time left to try again"
            log.error("delivery %s (%s) failed for good after %d tries (%s): %s", item.id,
                      item.dedupe_key, item.attempts, why, error)
            await outbox.mark_final(self.db, item, DeliveryStatus.FAILED, f"{error} ({why})")
            return
        log.warning("delivery %s (%s) try %d failed, next at %s: %s", item.id,
                    item.dedupe_key, item.attempts, next_try.isoformat(), error)
        await outbox.retry_at(self.db, item, next_try, error)


class OutboxScheduler:
    """Runs `OutboxSender.tick` every few seconds, and its planners every few minutes, on
    APScheduler, in this event loop."""

    JOB_ID = "outbox"
    HOUSEKEEPING_ID = "housekeeping"
    PLAN_JOB_ID = "plan"

    def __init__(self, sender: OutboxSender, poll_seconds: float = POLL_SECONDS,
                 plan_seconds: float = PLAN_SECONDS,
                 poll_deadline: float = POLL_DEADLINE) -> None:
        self.sender = sender
        self.poll_seconds = poll_seconds
        self.plan_seconds = plan_seconds
        self.poll_deadline = poll_deadline
        self._scheduler: AsyncIOScheduler | None = None
        self._ticking = asyncio.Lock()
        self._planning = asyncio.Lock()
        # Polls finished since start: for health checks, and for tests to wait on.
        self.ticks = 0
        self._polled = asyncio.Condition()

    def start(self) -> None:
        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.add_job(
            self._tick, "interval", seconds=self.poll_seconds, id=self.JOB_ID,
            # A tick drains everything due, so ticks missed while the loop was busy or the
            # machine asleep collapse into one, run however late: nothing due is skipped.
            coalesce=True, misfire_grace_time=None,
            # A poll due while a long one is still draining returns at once (see _tick),
            # rather than APScheduler warning that it skipped it.
            max_instances=2,
            # The first poll right away: deliveries that fell due while the bot was down.
            next_run_time=utcnow(),
        )
        # Retention and clean-up, daily in the small hours; idempotent, so several processes
        # running it is harmless.
        scheduler.add_job(self._housekeeping, CronTrigger(hour=3, minute=15, timezone=LONDON),
                          id=self.HOUSEKEEPING_ID, coalesce=True, misfire_grace_time=6 * 3600)
        scheduler.add_job(
            self._plan, "interval", seconds=self.plan_seconds, id=self.PLAN_JOB_ID,
            coalesce=True, misfire_grace_time=None, max_instances=1,
            # At start too: partnerships whose digest was never queued (or the bot was down).
            next_run_time=utcnow(),
        )
        # APScheduler logs every run at INFO; a poll every few seconds would drown the log.
        logging.getLogger("apscheduler.executors.default").setLevel(logging.WARNING)
        scheduler.start()
        self._scheduler = scheduler

    async def _plan(self) -> None:
        if self._planning.locked():
            return
        async with self._planning:
            try:
                queued = await self.sender.db.within(self.sender.plan, self.poll_deadline)
            except asyncio.CancelledError:
                raise
            except UNAVAILABLE as error:  # DatabaseStalled (its deadline) included
                log.warning("planning recurring deliveries: database unavailable (%s); the "
                            "next run tries again", type(error).__name__)
                return
            except Exception:
                log.exception("planning recurring deliveries failed; the next run tries again")
                return
        if queued:
            log.info("queued %d recurring deliveries", queued)

    async def _tick(self) -> None:
        if self._ticking.locked():
            return
        async with self._ticking:
            try:
                # The poll's own deadline: a database that went silent mid-poll cannot hold
                # the lock (and so every later poll) past it. New batches stop being claimed
                # half-way, so a long drain ends on its own and the next poll carries on.
                await self.sender.db.within(
                    lambda: self.sender.tick(claim_for=self.poll_deadline / 2),
                    self.poll_deadline)
            except asyncio.CancelledError:
                raise
            except DatabaseStalled:
                log.warning("outbox poll stopped at its deadline (%g s); the next poll "
                            "carries on", self.poll_deadline)
            except UNAVAILABLE as error:
                log.warning("outbox poll: database unavailable (%s); the next poll tries "
                            "again", type(error).__name__)
            except Exception:
                # The database may be down for a moment; the next poll tries again.
                log.exception("outbox poll failed")
            finally:
                async with self._polled:
                    self.ticks += 1
                    self._polled.notify_all()

    async def _housekeeping(self) -> None:
        try:
            await housekeeping(self.sender.db, self.sender.clock())
        except Exception:
            log.exception("housekeeping failed; it runs again tomorrow")

    async def polled(self, n: int = 1) -> None:
        """Wait until `n` more polls have finished."""
        async with self._polled:
            target = self.ticks + n
            await self._polled.wait_for(lambda: self.ticks >= target)

    async def stop(self, grace: float = 10.0) -> None:
        """Stop polling, letting a send in progress finish (up to `grace` seconds)."""
        if self._scheduler is None:
            return
        self._scheduler.pause()
        try:
            async with asyncio.timeout(grace), self._ticking, self._planning:
                pass
        except TimeoutError:
            log.warning("outbox: a send was still running at shutdown; its lease will expire "
                        "and another poll will finish it")
        self.kill()

    def kill(self) -> None:
        """Stop at once, abandoning any send in progress, as a crash would."""
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        self._scheduler = None
