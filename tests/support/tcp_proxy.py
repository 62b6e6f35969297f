"""A loopback TCP proxy in front of a database that can misbehave the ways networks do:

- `reset()`: every open connection is reset (RST), as when the server restarts; new ones work.
- `freeze()`: open connections stop carrying bytes but stay open, as with a frozen host or a
  failover that left the old address silent; new ones still work unless black-holed too.
- `black_hole()`: new connections are accepted and then never answered (nothing reaches the
  server), as when packets to a dead host are dropped.
- `cut()`: every open connection is closed and new ones are refused, as a crashed server would.
- `heal()`: new connections work again; frozen ones stay frozen (the old host is gone) unless
  `thaw=True`.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from dataclasses import dataclass, field


@dataclass(eq=False)
class _Link:
    """One client connection and its connection to the server."""

    client: asyncio.StreamWriter
    server: asyncio.StreamWriter | None = None
    flowing: asyncio.Event = field(default_factory=asyncio.Event)

    def writers(self) -> list[asyncio.StreamWriter]:
        return [w for w in (self.client, self.server) if w is not None]


class CuttableProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._links: set[_Link] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self.up = True  # new connections are served (False: refused)
        self.holes = False  # new connections are accepted and never answered
        # Connections made since start, for tests that check a pool reconnected.
        self.connections = 0

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    # -- misbehaving -----------------------------------------------------------------------------

    async def reset(self) -> None:
        """Reset every open connection (RST, no goodbye); new ones are served as usual."""
        for link in list(self._links):
            for writer in link.writers():
                _abort(writer)
        self._links.clear()

    async def freeze(self) -> None:
        """Stop carrying bytes on every open connection, without closing any."""
        for link in self._links:
            link.flowing.clear()

    async def black_hole(self) -> None:
        """Accept new connections and never answer them."""
        self.holes = True

    async def cut(self) -> None:
        """Drop every open connection and refuse new ones, as a crashed server would."""
        self.up = False
        for link in list(self._links):
            for writer in link.writers():
                writer.close()
        self._links.clear()

    async def heal(self, thaw: bool = False) -> None:
        """New connections reach the server again; with `thaw`, frozen ones carry on too."""
        self.up, self.holes = True, False
        if thaw:
            for link in self._links:
                link.flowing.set()

    async def stop(self) -> None:
        await self.cut()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    # -- serving ---------------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._connect(reader, writer)
        except asyncio.CancelledError:
            pass  # stopped: asyncio would log a cancelled connection callback as an error
        finally:
            self._tasks.discard(task)

    async def _connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up:
            writer.close()
            return
        link = _Link(writer)
        self._links.add(link)
        if self.holes:
            # Swallow what the client sends; never answer, never close.
            with contextlib.suppress(OSError, ConnectionError):
                while await reader.read(65536):
                    pass
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            self._links.discard(link)
            return
        self.connections += 1
        link.server = up_writer
        link.flowing.set()
        await asyncio.gather(self._pipe(reader, up_writer, link),
                             self._pipe(up_reader, writer, link))
        self._links.discard(link)

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    link: _Link) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            while True:
                await link.flowing.wait()
                chunk = await reader.read(65536)
                if not chunk:
                    break
                await link.flowing.wait()  # frozen meanwhile: hold the bytes, as a dead host
                writer.write(chunk)
                await writer.drain()
        writer.close()


def _abort(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset rather than a goodbye."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
