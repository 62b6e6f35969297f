"""A lean load generator for the capacity bench: signed slash commands over kept-alive HTTP/1.1
connections, and a small server standing in for Slack's response_urls, both on raw asyncio
protocols so that the load costs the machine (2 cores, shared with the servers measured) as
little as possible."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import urlencode

from bench.http_bench import Command

BUSY_MARK = b"busy"


class _Reader(asyncio.Protocol):
    """One HTTP/1.1 message stream: complete messages (head, body) are queued as they arrive."""

    def __init__(self) -> None:
        self.buffer = b""
        self.messages: asyncio.Queue[tuple[bytes, bytes]] = asyncio.Queue()
        self.transport: asyncio.Transport | None = None
        self.closed = asyncio.Event()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed.set()

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[:end]
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            body = self.buffer[end + 4:end + 4 + length]
            self.buffer = self.buffer[end + 4 + length:]
            self.messages.put_nowait((head, body))
            self.handle(head, body)

    def handle(self, head: bytes, body: bytes) -> None:
        """For servers: answer each request."""


class _SinkConnection(_Reader):
    def __init__(self, sink: Sink) -> None:
        super().__init__()
        self.sink = sink

    def handle(self, head: bytes, body: bytes) -> None:
        path = head.split(b" ", 2)[1].decode()
        self.sink.arrived(path, body)
        assert self.transport is not None
        self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n"
                             b"Content-Type: text/plain\r\n\r\nok")
        self.messages.get_nowait()


class Sink:
    """Stands in for Slack's response_urls: records when each answer arrived, and whether it
    said "busy"."""

    def __init__(self) -> None:
        self.arrivals: dict[str, tuple[float, bool]] = {}
        self.waiting: dict[str, asyncio.Future[float]] = {}
        self.port = 0
        self._server: asyncio.Server | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _SinkConnection(self), "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def url(self, key: str) -> str:
        return f"http://127.0.0.1:{self.port}/r/{key}"

    def arrived(self, path: str, body: bytes) -> None:
        at = time.perf_counter()
        self.arrivals[path] = (at, BUSY_MARK in body)
        waiter = self.waiting.pop(path, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(at)

    def expect(self, key: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[f"/r/{key}"] = future
        return future

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()


@dataclass
class Tally:
    """What one phase saw."""

    seconds: float = 0.0
    sent: int = 0
    acks: list[float] = field(default_factory=list)  # ack latencies, seconds
    busy_acks: int = 0
    answered: int = 0  # real answers on the response_url within the phase
    answer_delays: list[float] = field(default_factory=list)  # ack -> answer, seconds
    busy_answers: int = 0  # "busy" (waited too long) on the response_url
    errors: int = 0

    def pct(self, values: Sequence[float], p: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else 0.0


class Load:
    """Signed slash commands to `port`, answered at `sink`."""

    def __init__(self, port: int, secret: str, commands: Sequence[Command], sink: Sink) -> None:
        self.port = port
        self.secret = secret.encode()
        self.commands = commands
        self.sink = sink
        self.ids = itertools.count()

    def _request(self, key: str, command: Command) -> bytes:
        body = urlencode({
            "token": "bench", "team_id": command.workspace, "team_domain": "bench",
            "channel_id": "C0BENCH001", "channel_name": "bench", "user_id": command.user,
            "user_name": command.user.lower(), "command": command.command,
            "text": command.text, "api_app_id": "A0BENCH", "is_enterprise_install": "false",
            "response_url": self.sink.url(key), "trigger_id": f"{key}.bench.{time.time_ns()}",
        }).encode()
        stamp = str(int(time.time())).encode()
        signature = hmac.new(self.secret, b"v0:" + stamp + b":" + body,
                             hashlib.sha256).hexdigest()
        return (b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                b"Content-Type: application/x-www-form-urlencoded\r\n"
                b"X-Slack-Request-Timestamp: " + stamp + b"\r\n"
                b"X-Slack-Signature: v0=" + signature.encode() + b"\r\n"
                b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)

    async def _connect(self) -> _Reader:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(_Reader, "127.0.0.1", self.port)
        return protocol

    async def run(self, clients: int, seconds: float, wait_for_answers: bool,
                  drain_within: float = 0.0) -> Tally:
        """`clients` each send a command, take its ack and, with `wait_for_answers`, wait for
        its answer before the next, for `seconds`. Without, they send again at once (an
        overload); answers still coming are then awaited for up to `drain_within` seconds."""
        tally = Tally()
        stop_at = time.perf_counter() + seconds
        pending: list[tuple[str, float, asyncio.Future[float]]] = []

        async def client(n: int) -> None:
            conn = await self._connect()
            turn = n
            while time.perf_counter() < stop_at:
                key = str(next(self.ids))
                answer = self.sink.expect(key)
                turn += 1
                request = self._request(key, self.commands[turn % len(self.commands)])
                started = time.perf_counter()
                assert conn.transport is not None
                conn.transport.write(request)
                head, body = await conn.messages.get()
                acked = time.perf_counter()
                tally.sent += 1
                tally.acks.append(acked - started)
                if not head.startswith(b"HTTP/1.1 200"):
                    tally.errors += 1
                if BUSY_MARK in body:
                    tally.busy_acks += 1
                    self.sink.waiting.pop(f"/r/{key}", None)
                    continue
                if not wait_for_answers:
                    pending.append((key, acked, answer))
                    continue
                try:
                    arrived = await asyncio.wait_for(answer, 120)
                except TimeoutError:
                    tally.errors += 1
                    continue
                if self.sink.arrivals[f"/r/{key}"][1]:
                    tally.busy_answers += 1
                else:
                    tally.answered += 1
                tally.answer_delays.append(arrived - acked)
            assert conn.transport is not None
            conn.transport.close()

        started = time.perf_counter()
        await asyncio.gather(*(client(n) for n in range(clients)))
        tally.seconds = time.perf_counter() - started
        if pending and drain_within > 0:
            done, _ = await asyncio.wait([f for _, _, f in pending], timeout=drain_within)
            for key, acked, future in pending:
                if future not in done:
                    tally.errors += 1
                    continue
                tally.answer_delays.append(future.result() - acked)
                if self.sink.arrivals[f"/r/{key}"][1]:
                    tally.busy_answers += 1
                else:
                    tally.answered += 1
        for key, _, _ in pending:
            self.sink.waiting.pop(f"/r/{key}", None)
        return tally
