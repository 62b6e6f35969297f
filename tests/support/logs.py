"""The bot's real log set-up (bot/logs.py) writing into strings, for tests to read every line
exactly as `serve` (JSON) or a terminal (text) would get it."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bot.logs import ACCESS_LOGGER, OWN_LOGGERS, configure_logging

# A text record's start: `2026-03-02T10:15:04.123Z INFO    logger: …`.
TEXT_RECORD = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING|ERROR|CRITICAL) +[\w.]+: ")


@dataclass
class Captured:
    json_out: io.StringIO
    text_out: io.StringIO

    @property
    def json_text(self) -> str:
        return self.json_out.getvalue()

    @property
    def text(self) -> str:
        return self.text_out.getvalue()

    def records(self) -> list[dict[str, Any]]:
        """Every JSON line, parsed; splitting as strictly as any reader might (U+2028 too)."""
        return [json.loads(line) for line in self.json_text.splitlines()]

    def text_lines(self) -> list[str]:
        return self.text.splitlines()

    def where(self, **fields: Any) -> list[dict[str, Any]]:
        return [r for r in self.records() if all(r.get(k) == v for k, v in fields.items())]


@contextmanager
def captured_logs(level: int = logging.DEBUG, access_level: int = logging.DEBUG,
                  known_secrets: Iterable[str | None] = ()) -> Iterator[Captured]:
    """Both formats at once, from the same records; everything put back afterwards."""
    names = ["", ACCESS_LOGGER, *OWN_LOGGERS]
    levels = {name: logging.getLogger(name).level for name in names}
    secrets = list(known_secrets)
    captured = Captured(io.StringIO(), io.StringIO())
    text_handler = configure_logging(level=level, fmt="text", access_level=access_level,
                                     known_secrets=secrets, stream=captured.text_out)
    # configure_logging replaces its own earlier handler: set the text one aside first.
    text_handler.partnership_bot = False  # type: ignore[attr-defined]
    json_handler = configure_logging(level=level, fmt="json", access_level=access_level,
                                     known_secrets=secrets, stream=captured.json_out)
    try:
        yield captured
    finally:
        root = logging.getLogger()
        root.removeHandler(text_handler)
        root.removeHandler(json_handler)
        for name, old in levels.items():
            logging.getLogger(name).setLevel(old)
