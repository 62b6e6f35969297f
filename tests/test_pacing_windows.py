"""Teams' per-conversation limits (7 posts in any second, 8 in any 2 seconds, 60 in any 30 and
1,800 in any hour) kept by the shared posting allowances (storage/pacing.py): a sender that
posts the moment it is allowed, on a test clock, never has more in any window than Teams
allows, and still uses most of what it allows; so do two processes sharing the database."""

from __future__ import annotations

import asyncio
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from bot.teams.app import TEAMS_CONVERSATION_PACES, TeamsPoster
from storage import pacing
from storage.db import Database
from storage.models import ChannelLink
from storage.pacing import Allowance, Pace
from tests.conftest import FakeClock
from tests.support.teams_requests import CHANNEL_ID, TENANT

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
# Teams' documented limits per bot per conversation: (posts, seconds).
TEAMS_WINDOWS = [(7, 1.0), (8, 2.0), (60, 30.0), (1800, 3600.0)]


def allowances() -> list[Allowance]:
    link = ChannelLink(partnership_id=1, platform="teams", channel_id=CHANNEL_ID,
                       channel_name="Heads")
    return TeamsPoster.limits.paces(link, TENANT)


def busiest(sent: list[datetime], seconds: float) -> int:
    """The most posts in any span of `seconds`, both ends included."""
    times = [t.timestamp() for t in sent]
    return max(bisect_right(times, t + seconds) - bisect_left(times, t) for t in times)


def test_every_teams_window_has_a_pace_and_the_channel_a_key_per_pace() -> None:
    assert len(TEAMS_CONVERSATION_PACES) == len(TEAMS_WINDOWS)
    keys = [key for key, _ in allowances()]
    # Four windows in three paces (7 in 1 s and 8 in 2 s come out the same), and the tenant's.
    assert len(set(keys)) == len(keys) == 4
    assert all(key.startswith(f"teams:channel:{CHANNEL_ID}:") for key in keys[:3])
    assert keys[3] == f"teams:workspace:{TENANT}"


@pytest.mark.parametrize(("count", "seconds", "burst"), [(7, 1.0, 6), (7, 1.0, 1), (3, 10, 2)])
def test_a_window_pace_is_spaced_so_its_count_holds(count: int, seconds: float,
                                                    burst: int) -> None:
    pace = Pace.at_most(count, seconds, burst)
    assert pace.burst == burst and pace.interval * (count - burst) == pytest.approx(seconds)
    with pytest.raises(ValueError, match="below count"):
        Pace.at_most(count, seconds, count)


def greedy(ask: Callable[[float], float | None], until: float) -> list[float]:
    """Post each time `ask` allows it, from 0 until `until` seconds: the moments posted at."""
    now, sent = 0.0, []
    while now <= until:
        wait = ask(now)
        if wait is None:
            sent.append(now)
        else:
            assert wait > now
            now = wait
    return sent


def test_two_hours_of_greedy_posting_keep_to_every_teams_window() -> None:
    """The pacer's arithmetic (storage.pacing.plan_post) on a test clock: a sender posting the
    moment it may, for two hours, counted in every window."""
    used_until: dict[str, float] = {}

    def ask(now: float) -> float | None:
        booked, moment = pacing.plan_post(used_until, allowances(), now, wait=False)
        return None if booked else moment

    sent = [START + timedelta(seconds=s) for s in greedy(ask, 2 * 3600)]
    for count, seconds in TEAMS_WINDOWS:
        assert busiest(sent, seconds) <= count, (count, seconds)
    # Not so careful as to waste what Teams allows: the burst, and the windows filled.
    assert sent[:6] == [START] * 6 and sent[6] == START + timedelta(seconds=1)
    assert busiest(sent, 1.0) == 7 and busiest(sent, 2.0) == 8
    assert busiest(sent, 30.0) == 36  # one a second after the burst
    assert busiest(sent, 3600.0) == 1800
    assert len(sent) >= 3500  # two hours at the hour's rate, near enough
    gaps = [later - earlier for earlier, later in pairwise(sent[200:])]
    assert max(gaps) - min(gaps) < timedelta(milliseconds=1)  # then a steady pace


async def test_a_greedy_sender_on_the_database_keeps_to_every_teams_window(
    db: Database,
) -> None:
    """The same through the shared allowances in the database, for two minutes of posts;
    and booking ahead (how a crowd held back is spread out) keeps to them too."""
    clock = FakeClock(START)
    sent: list[datetime] = []
    while clock() < START + timedelta(seconds=120):
        wait = await pacing.take_all(db, allowances(), clock())
        if wait is None:
            sent.append(clock())
        else:
            assert wait > clock()
            clock.set(wait)
    for count, seconds in TEAMS_WINDOWS:
        assert busiest(sent, seconds) <= count, (count, seconds)
    assert busiest(sent, 1.0) == 7 and busiest(sent, 2.0) == 8
    booked = [await pacing.reserve_all(db, allowances(), clock()) for _ in range(40)]
    assert booked == sorted(booked) and booked[0] >= clock()
    for count, seconds in TEAMS_WINDOWS:
        assert busiest(sent + booked, seconds) <= count, (count, seconds)


async def test_two_processes_share_the_allowance(db: Database) -> None:
    """Two engines on one database (as two bot processes): asking at the same moments, they
    post no more between them than one would."""
    other = Database(db.url)
    clock = FakeClock(START)
    sent: list[datetime] = []
    try:
        while len(sent) < 70:
            answers = await asyncio.gather(
                pacing.take_all(db, allowances(), clock()),
                pacing.take_all(other, allowances(), clock()))
            allowed = sum(1 for answer in answers if answer is None)
            sent.extend([clock()] * allowed)
            if not allowed:
                clock.set(min(a for a in answers if a is not None))
    finally:
        await other.dispose()
    for count, seconds in TEAMS_WINDOWS:
        assert busiest(sent, seconds) <= count, (count, seconds)
    assert busiest(sent, 2.0) == 8


async def test_a_post_uses_every_window_or_none(db: Database) -> None:
    """When one window says no, the others are not used up by a post that does not go."""
    hour = TEAMS_CONVERSATION_PACES[3]
    key, _ = next(a for a in allowances() if a[1] == hour)
    await pacing.hold(db, key, hour, START + timedelta(seconds=30))
    assert await pacing.take_all(db, allowances(), START) == START + timedelta(seconds=30)
    for other_key, pace in allowances():
        if other_key != key:
            assert await pacing.free_at(db, other_key, pace, START) is None
