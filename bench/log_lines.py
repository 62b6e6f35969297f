"""What a log line costs: the bot's JSON and text formats (bot/logs.py: request fields,
escaping, redaction, the token-free access path) against the baseline of the set-up they
replaced in the same run (logging.basicConfig's format, and aiohttp's own access log line with
its full address), writing to memory.

    .venv/bin/python -m bench.log_lines

Prints microseconds per line (median of several rounds) and the ratio to the baseline, for a
command's warning and for an access line."""

from __future__ import annotations

import io
import logging
import statistics
import time
from collections.abc import Callable

from bot.logs import (
    ContextFilter,
    JsonFormatter,
    Redactor,
    TextFormatter,
    bind,
    loggable_path,
    request_scope,
)

LINES = 20_000
ROUNDS = 7
SECRETS = ["xoxb-1001-2001-notarealtokennotarealtok", "client-secret-not-real-0123",
           "signing-secret-not-real-0123", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="]
RAW_PATH = "/slack/oauth_redirect?code=4724469134.4644010092847.232b4e6d&state=8f14e45f-ceea"


def logger_with(formatter: logging.Formatter, filtered: bool) -> logging.Logger:
    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(formatter)
    if filtered:
        handler.addFilter(ContextFilter())
    logger = logging.Logger(f"bench.{id(handler)}", logging.DEBUG)
    logger.addHandler(handler)
    logger.propagate = False
    return logger


def per_line(emit: Callable[[], None]) -> float:
    """Median microseconds per line over ROUNDS rounds of LINES lines."""
    rounds = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for _ in range(LINES):
            emit()
        rounds.append((time.perf_counter() - start) / LINES * 1e6)
    return statistics.median(rounds)


def main() -> None:
    baseline = logger_with(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"),
                           filtered=False)
    ours = {
        "json": logger_with(JsonFormatter(Redactor(SECRETS)), filtered=True),
        "text": logger_with(TextFormatter(Redactor(SECRETS)), filtered=True),
    }

    def warning(logger: logging.Logger) -> Callable[[], None]:
        return lambda: logger.warning("%s to %s failed: %s", "chat.postMessage", "C0HEADS001",
                                      "not_in_channel")

    def baseline_access() -> None:
        # aiohttp's default format: '%a %t "%r" %s %b "%{Referer}i" "%{User-Agent}i"'.
        baseline.info('%s [%s] "%s %s HTTP/1.1" %s %s "%s" "%s"', "127.0.0.1",
                      "30/Nov/2026:17:07:51 +0000", "GET", RAW_PATH, 200, 1772, "-",
                      "Python/3.11 aiohttp/3.14.5")

    def access(logger: logging.Logger) -> Callable[[], None]:
        def line() -> None:
            path = loggable_path(RAW_PATH)
            logger.info("%s %s %s", "GET", path, 200, extra={
                "method": "GET", "path": path, "status": 200, "bytes": 1772,
                "duration_ms": 19.9})
        return line

    with request_scope():
        bind(platform="slack", workspace="T0NORTH001", command="partnership")
        results = [("warning", "baseline", per_line(warning(baseline)))]
        results += [("warning", name, per_line(warning(lg))) for name, lg in ours.items()]
        results.append(("access line", "baseline", per_line(baseline_access)))
        results += [("access line", name, per_line(access(lg))) for name, lg in ours.items()]
    base = {kind: us for kind, name, us in results if name == "baseline"}
    print(f"{LINES:,} lines a round, median of {ROUNDS} rounds")
    print(f"{'line':<12} {'format':<9} {'µs/line':>8} {'ratio':>6}")
    for kind, name, us in results:
        print(f"{kind:<12} {name:<9} {us:>8.1f} {us / base[kind]:>6.2f}")


if __name__ == "__main__":
    main()
