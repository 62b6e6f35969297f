"""One clock for the whole code base: storage.types.utcnow. Reading the system clock anywhere
else in bot/, handlers/ or storage/ would escape the frozen instants test.sh runs the
date-sensitive tests at (tests/conftest.py, `now`), and so escape the tests."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from handlers.schoolyear import today_in_london
from storage.types import LONDON, utcnow
from tests.conftest import frozen_at, instant

ROOT = Path(__file__).resolve().parent.parent
CHECKED = ("bot", "handlers", "storage")
THE_CLOCK = Path("storage/types.py")
# The calls that read the wall clock for a date or a time of day. time.monotonic and the event
# loop's clock measure durations, never dates, and stay allowed.
READS_THE_CLOCK = re.compile(
    r"\b(?:datetime\s*\.\s*(?:now|utcnow|today)|date\s*\.\s*today|time\s*\.\s*time(?:_ns)?)\s*\(")


def clock_reads(source: str) -> list[int]:
    """The line numbers in `source` that read the system clock directly."""
    return [number for number, line in enumerate(source.splitlines(), 1)
            if READS_THE_CLOCK.search(line.split("#", 1)[0])]


def test_the_check_finds_each_way_of_reading_the_clock() -> None:
    source = "\n".join([
        "a = datetime.now(UTC)", "b = datetime.now(LONDON).date()", "c = date.today()",
        "d = datetime.utcnow()", "e = time.time()", "f = datetime.today()",
        "g = dt.datetime.now()", "h = time.time_ns()",
        "ok = utcnow()", "ok = loop.time()", "ok = time.monotonic()",
        "ok = 'see datetime.now in the docs'", "# datetime.now( in a comment",
    ])
    assert clock_reads(source) == [1, 2, 3, 4, 5, 6, 7, 8]


def test_nothing_but_the_one_clock_reads_the_system_time() -> None:
    found = []
    for folder in CHECKED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if relative == THE_CLOCK:
                continue
            found += [f"{relative}:{n}" for n in clock_reads(path.read_text(encoding="utf-8"))]
    assert found == [], ("read the time with storage.types.utcnow() (or "
                         f"handlers.schoolyear.today_in_london()), not directly: {found}")
    assert clock_reads((ROOT / THE_CLOCK).read_text(encoding="utf-8")), "the clock moved?"


@pytest.mark.clock
def test_the_now_fixture_is_the_code_base_clock(now: datetime,
                                                 request: pytest.FixtureRequest) -> None:
    """At a frozen instant, `now` is that instant and the bot's clock reads it too, ticking
    on."""
    assert now.tzinfo is UTC
    callspec = getattr(request.node, "callspec", None)
    given = callspec.params.get("now") if callspec is not None else None
    frozen = instant(given) if given else frozen_at()
    if frozen is not None:
        assert timedelta(0) <= now - frozen < timedelta(minutes=1)
    later = utcnow()
    assert timedelta(0) <= later - now < timedelta(minutes=1)
    assert today_in_london() == later.astimezone(LONDON).date()
