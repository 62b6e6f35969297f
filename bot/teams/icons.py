"""The Teams app's two icons, drawn when the package is built (no image files in the repo).

Teams wants a 192×192 full-colour icon and a 32×32 outline icon: white on transparent. Both show
two linked rings, for schools in partnership."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable

Pixel = tuple[int, int, int, int]
WHITE: Pixel = (255, 255, 255, 255)
CLEAR: Pixel = (0, 0, 0, 0)


def hex_color(code: str) -> Pixel:
    code = code.lstrip("#")
    return int(code[0:2], 16), int(code[2:4], 16), int(code[4:6], 16), 255


def png(size: int, pixel: Callable[[float, float], Pixel]) -> bytes:
    """An RGBA PNG of `size`×`size`; `pixel(x, y)` gets the centre of each pixel in 0..1."""
    rows = bytearray()
    for row in range(size):
        rows.append(0)  # filter: none
        for col in range(size):
            rows.extend(pixel((col + 0.5) / size, (row + 0.5) / size))
    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(bytes(rows), 9)) + _chunk(b"IEND", b""))


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def _on_rings(x: float, y: float, radius: float, width: float) -> bool:
    """On one of two rings side by side, overlapping in the middle."""
    for centre_x in (0.38, 0.62):
        distance = ((x - centre_x) ** 2 + (y - 0.5) ** 2) ** 0.5
        if abs(distance - radius) <= width / 2:
            return True
    return False


def color_icon(accent: str) -> bytes:
    """192×192: white rings on the accent colour."""
    background = hex_color(accent)
    return png(192, lambda x, y: WHITE if _on_rings(x, y, 0.2, 0.06) else background)


def outline_icon() -> bytes:
    """32×32: white rings on transparent, as Teams requires of outline icons."""
    return png(32, lambda x, y: WHITE if _on_rings(x, y, 0.22, 0.09) else CLEAR)
