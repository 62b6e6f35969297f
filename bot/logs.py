"""One log format for the whole process, and nothing in it that should not be.

- **One record, one line.** `serve` writes JSON lines (every value its own field); the shell, the
  other commands and the tests write readable text. Either way every character that could end a
  line (newline, carriage return, U+2028 …) is escaped, so nothing a person types, no install
  code and no exception message can start a line of its own or pass for another record.
- **The request on every line.** A request's id, platform, workspace and command are kept in a
  context variable (`bind`) that every line logged while handling it carries, including lines
  from the tasks it starts (Slack commands run after their ack, in a task of their own).
- **No secrets.** The access log drops every query string and shows path segments that look
  like tokens as `{token}`; every logger but the bot's own (libraries write request bodies,
  install codes and statement values in their debug and info lines) is held at WARNING; and
  as a last net, configured secrets and anything shaped like a Slack token, a JWT, a Fernet
  token or a `code=`/`state=` value is replaced with `[redacted]` before a line is written.

The standard library's logging, on purpose: Bolt, slack-sdk, aiohttp, the Agents SDK, SQLAlchemy
and APScheduler all log through it, so one handler on the root logger formats every line alike;
structlog would have to be bridged to it and add a dependency for nothing we need."""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, TextIO
from urllib.parse import quote

from aiohttp.abc import AbstractAccessLogger
from aiohttp.typedefs import Handler, Middleware
from aiohttp.web import (
    BaseRequest,
    HTTPException,
    Request,
    RequestKey,
    StreamResponse,
    json_response,
    middleware,
)

# The fields a request puts on every line, in the order they are shown.
CONTEXT_FIELDS = ("request_id", "platform", "workspace", "command")
# The bot's own loggers, which LOG_LEVEL sets. Every other logger is a library's and stays at
# WARNING or above: below it libraries write request bodies (Bolt), form fields with the client
# secret and codes (slack-sdk), statements with their values (aiosqlite, SQLAlchemy) and more.
OWN_LOGGERS = ("bot", "handlers", "storage", "bench")
ACCESS_LOGGER = "bot.access"
LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
          "error": logging.ERROR}
# ACCESS_LOG_LEVEL=off: above every level, so nothing is written.
OFF = logging.CRITICAL + 10
FORMATS = ("json", "text")
REDACTED = "[redacted]"
# Paths polled by load balancers: their successful requests are logged at DEBUG.
PROBE_PATHS = frozenset({"/healthz"})

_log = logging.getLogger(__name__)
_EMPTY: Mapping[str, str] = MappingProxyType({})
_context: ContextVar[Mapping[str, str]] = ContextVar("log_context", default=_EMPTY)
# The record attribute a request's fields travel in (set by ContextFilter or by the access log).
_RECORD_CONTEXT = "log_context"
_STANDARD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "taskName", _RECORD_CONTEXT}
# What a context value may hold: ids and command names, never free text.
_UNSAFE_IN_CONTEXT = re.compile(r"[^\w.:/@#+-]")


# --- the request's fields -------------------------------------------------------------------


def new_request_id() -> str:
    return secrets.token_hex(6)


def bind(**fields: str | None) -> None:
    """Put these fields on every line logged from here on in this request (and in the tasks it
    starts from here on). Values are ids and names: anything else in them becomes `?`."""
    current = dict(_context.get())
    for name, value in fields.items():
        if value:
            current[name] = _UNSAFE_IN_CONTEXT.sub("?", str(value))[:80]
    _context.set(MappingProxyType(current))


def current_context() -> Mapping[str, str]:
    return _context.get()


@contextmanager
def request_scope(request_id: str | None = None) -> Iterator[str]:
    """A fresh set of fields for one request, starting with its id; the previous set is back
    when the block ends."""
    token = _context.set(MappingProxyType({"request_id": request_id or new_request_id()}))
    try:
        yield _context.get()["request_id"]
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    """Stamps each record with the fields of the request it was logged in."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, _RECORD_CONTEXT):
            setattr(record, _RECORD_CONTEXT, _context.get())
        return True


# --- keeping secrets out --------------------------------------------------------------------


_SECRET_SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    # Slack bot, user, app-level and refresh tokens.
    (re.compile(r"\bxox[a-z]-[A-Za-z0-9-]+"), REDACTED),
    (re.compile(r"\bxapp-[A-Za-z0-9-]+"), REDACTED),
    # JWTs (Teams and Bot Framework bearer tokens): base64url JSON header, payload, signature.
    (re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), REDACTED),
    # Fernet tokens (our encrypted tokens as stored).
    (re.compile(r"\bgAAAAA[A-Za-z0-9_=-]{20,}"), REDACTED),
    (re.compile(r"\b((?i:bearer|basic))\s+[A-Za-z0-9._~+/=-]+"), rf"\1 {REDACTED}"),
    # Secret-bearing URL parameters, wherever a URL or form body is quoted.
    (re.compile(r"\b((?i:code|state|token|access_token|refresh_token|client_secret|secret|"
                r"sig|signature|key|password)=)[^&\s\"'#,;)]+"), rf"\1{REDACTED}"),
    # Slack's response_urls and incoming webhooks: anyone holding one can post.
    (re.compile(r"https://hooks\.slack\.com/[^\s\"'<>]+"), f"https://hooks.slack.com/{REDACTED}"),
)


# Text each shape above must contain, in lower case: most lines hold none of them, and looking
# for these is twenty times quicker than one search for all the shapes.
_SHAPE_MARKERS = ("xox", "xapp-", "eyj", "gaaaaa", "bearer", "basic", "=", "hooks.slack.com")


class Redactor:
    """Replaces configured secrets (as given and URL-encoded) and anything shaped like a token."""

    def __init__(self, known_secrets: Iterable[str | None] = ()) -> None:
        values: set[str] = set()
        for secret in known_secrets:
            # A short value would redact ordinary words; real secrets are long.
            if secret and len(secret) >= 8:
                values.update((secret, quote(secret, safe="")))
        self.secrets = sorted(values, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        lowered = text.lower()
        if any(marker in lowered for marker in _SHAPE_MARKERS):
            for shape, replacement in _SECRET_SHAPES:
                text = shape.sub(replacement, text)
        return text


# --- formats --------------------------------------------------------------------------------


def escape_line_breaks(text: str) -> str:
    """Every character that is not printable (newlines, carriage returns, U+2028, NEL, other
    controls) as its Python escape: the text stays on one line."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii")
                   for ch in text)


class _Formatter(logging.Formatter):
    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self.redact = redactor or Redactor()
        # With several worker processes, each line says whose it is (`pid`).
        self.process_ids = False

    def fields(self, record: logging.LogRecord) -> dict[str, Any]:
        """The request's fields, then the record's own (`extra=`), secrets redacted."""
        context = getattr(record, _RECORD_CONTEXT, None)
        if context is None:
            context = _context.get()
        fields: dict[str, Any] = {name: context[name] for name in CONTEXT_FIELDS
                                  if name in context}
        if self.process_ids:
            fields["pid"] = record.process
        for name, value in vars(record).items():
            if name in _STANDARD_ATTRIBUTES or name.startswith("_"):
                continue
            if value is None or isinstance(value, bool | int | float):
                fields[name] = value
            else:
                fields[name] = self.redact(str(value))
        return fields

    @staticmethod
    def timestamp(record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    def message(self, record: logging.LogRecord) -> str:
        try:
            text = record.getMessage()
        except (TypeError, ValueError):
            # A library's bad format string: its template, not a crash in the logging call.
            text = str(record.msg)
        return self.redact(text)

    def trace(self, record: logging.LogRecord) -> str | None:
        parts = []
        if record.exc_info:
            parts.append(self.formatException(record.exc_info))
        if record.stack_info:
            parts.append(self.formatStack(record.stack_info))
        return self.redact("\n".join(parts)) if parts else None


class JsonFormatter(_Formatter):
    """One JSON object a line: time (UTC), level, logger, message, the request's fields, the
    record's own fields, and the error type and traceback of an exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self.timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": self.message(record),
        }
        for name, value in self.fields(record).items():
            line.setdefault(name, value)
        trace = self.trace(record)
        if trace is not None:
            if record.exc_info and record.exc_info[0] is not None:
                line["error"] = record.exc_info[0].__name__
            line["traceback"] = trace
        text = json.dumps(line, ensure_ascii=False, default=str)
        # JSON leaves these unescaped, yet some readers break lines at them.
        return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").replace(
            "\x85", "\\u0085")


class TextFormatter(_Formatter):
    """`2026-03-02T10:15:04.123Z INFO    bot.access: message  name=value …`, one line a record;
    a traceback follows on lines indented by four spaces, so none can pass for a record."""

    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{name}={_text_value(value)}"
                          for name, value in self.fields(record).items())
        line = (f"{self.timestamp(record)} {record.levelname:<7} {record.name}: "
                f"{escape_line_breaks(self.message(record))}")
        if fields:
            line += "  " + fields
        trace = self.trace(record)
        if trace is not None:
            line += "".join("\n    " + escape_line_breaks(part) for part in trace.splitlines())
        return line


_BARE_VALUE = re.compile(r"[\w.:/@#+{}\[\]-]+")


def _text_value(value: Any) -> str:
    text = str(value)
    if text and _BARE_VALUE.fullmatch(text):
        return text
    # Quoted, with JSON's escapes and ours for the breaks JSON leaves alone (U+2028, NEL).
    return escape_line_breaks(json.dumps(text, ensure_ascii=False))


# --- the access log -------------------------------------------------------------------------


# A path segment shown as it is: a lowercase word (`oauth_redirect`, `favicon.ico`) or a short
# id (`T0NORTH001`, `42`). Anything else, a link's token above all, is shown as `{token}`.
_WORD_SEGMENT = re.compile(r"[a-z][a-z_-]*(\.[a-z0-9]+)?")
_SHORT_SEGMENT = re.compile(r"[A-Za-z0-9_-]{1,10}")


def loggable_path(raw_path: str) -> str:
    """The path without its query string or fragment, any token-like segment as `{token}`."""
    path = raw_path.split("?", 1)[0].split("#", 1)[0]
    return "/".join(
        segment if not segment or _WORD_SEGMENT.fullmatch(segment)
        or _SHORT_SEGMENT.fullmatch(segment) else "{token}"
        for segment in path.split("/")
    )


# Where the request-scope middleware leaves the request's fields for the access log, which
# writes its line after the handler (and the request's scope) has finished.
REQUEST_FIELDS = RequestKey("log_fields", dict[str, str])


def request_scope_middleware(platforms: Mapping[str, str]) -> Middleware:
    """aiohttp middleware: each request gets its own id (and its platform, from the path's
    start in `platforms`) on every line logged while it is handled, its access line included.
    An error no handler caught is logged here too, with those fields (aiohttp would log it
    after they are gone), and answered with a plain 500."""

    @middleware
    async def scope(request: Request, handler: Handler) -> StreamResponse:
        with request_scope():
            bind(platform=next((name for start, name in platforms.items()
                                if request.path.startswith(start)), None))
            try:
                return await handler(request)
            except HTTPException:
                raise
            except Exception:
                _log.exception("unhandled error in %s %s", request.method,
                               loggable_path(request.rel_url.raw_path))
                return json_response({"error": "internal error"}, status=500)
            finally:
                request[REQUEST_FIELDS] = dict(current_context())

    return scope


class AccessLog(AbstractAccessLogger):
    """One line a request: method, path (see `loggable_path`), status, size and time, with the
    request's fields. INFO; WARNING for a server error; DEBUG for a successful health probe."""

    def log(self, request: BaseRequest, response: StreamResponse, time: float) -> None:
        path = loggable_path(request.rel_url.raw_path)
        status = response.status
        if status >= 500:
            level = logging.WARNING
        elif path in PROBE_PATHS and status < 400:
            level = logging.DEBUG
        else:
            level = logging.INFO
        if not self.logger.isEnabledFor(level):
            return
        context = request.get(REQUEST_FIELDS) or current_context()
        self.logger.log(level, "%s %s %s", request.method, path, status, extra={
            _RECORD_CONTEXT: context, "method": request.method, "path": path,
            "status": status, "bytes": response.body_length,
            "duration_ms": round(time * 1000, 1)})

    @property
    def enabled(self) -> bool:
        # Off only when not even a server error would be written (ACCESS_LOG_LEVEL=off).
        return self.logger.isEnabledFor(logging.WARNING)


# --- setting it up --------------------------------------------------------------------------


def level_named(name: str, setting: str, *, allow_off: bool = False) -> int:
    """LOG_LEVEL / ACCESS_LOG_LEVEL's value as a level; ValueError saying what to write."""
    key = name.strip().lower()
    if allow_off and key == "off":
        return OFF
    if key not in LEVELS:
        choices = ", ".join([*LEVELS, *(["off"] if allow_off else [])])
        raise ValueError(f"{setting} must be one of {choices}, not {name!r}.")
    return LEVELS[key]


def configure_logging(*, level: int = logging.INFO, fmt: str = "text",
                      access_level: int = logging.INFO, known_secrets: Iterable[str | None] = (),
                      stream: TextIO | None = None) -> logging.Handler:
    """Send every logger's lines to `stream` (stderr) in one format; returns the handler.

    `level` is the bot's own loggers' level; every other logger (the libraries') inherits the
    root's, WARNING or above whatever `level` is; `access_level` is the access log's own (`OFF`
    for none)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    redactor = Redactor(known_secrets)
    handler.setFormatter(JsonFormatter(redactor) if fmt == "json" else TextFormatter(redactor))
    handler.addFilter(ContextFilter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "partnership_bot", False)]:
        root.removeHandler(old)
    handler.partnership_bot = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(max(level, logging.WARNING))
    for name in OWN_LOGGERS:
        logging.getLogger(name).setLevel(level)
    logging.getLogger(ACCESS_LOGGER).setLevel(access_level)
    return handler


def show_process_ids() -> None:
    """From now on every line carries its process id (`pid`): for `serve --workers N`."""
    for handler in logging.getLogger().handlers:
        if getattr(handler, "partnership_bot", False) and isinstance(handler.formatter,
                                                                    _Formatter):
            handler.formatter.process_ids = True


def access_log_options() -> dict[str, Any]:
    """How aiohttp should write its access log: ours, on the `bot.access` logger."""
    return {"access_log_class": AccessLog, "access_log": logging.getLogger(ACCESS_LOGGER)}
