"""The digest's CPD coverage chart: sessions per theme this term, and which schools' staff
attended them, as a PNG.

matplotlib is imported here, lazily, and only when a chart is drawn: the server and the shell
start without it, and only a process that sends a digest with CPD in it pays its memory. Charts
are drawn with the object-oriented API on the Agg canvas (no pyplot, no global figure state), so
they are safe to draw in worker threads, off the event loop."""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass

# Wider than this and the school names become unreadable: the rest are summed in one column.
MAX_SCHOOLS_SHOWN = 24
MAX_LABEL = 38


@dataclass(frozen=True)
class CoverageGrid:
    """What the chart shows: a row per theme, a column per school."""

    title: str
    themes: list[str]
    sessions: list[int]  # per theme, this term
    schools: list[str]
    # counts[theme][school]: sessions of that theme the school's staff attended
    counts: list[list[int]]
    # Attendance the grid can't show: sessions that gave a head count or names but not the
    # schools ("SENCO leadership: 14 attendees (schools not recorded)"), printed beneath it.
    notes: tuple[str, ...] = ()


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL else label[: MAX_LABEL - 1] + "…"


def coverage_png(grid: CoverageGrid) -> bytes:
    """A heat map of the grid; empty cells (a theme a school has had no session of) stay white,
    so the gaps show."""
    from matplotlib.colors import LinearSegmentedColormap
    from matplotlib.figure import Figure

    rows, columns = len(grid.themes), max(1, len(grid.schools))
    width = min(16.0, 4.6 + 0.45 * columns)
    height = min(12.0, 2.2 + 0.4 * rows)
    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    colours = LinearSegmentedColormap.from_list("coverage", ["#ffffff", "#2c4a6e"])
    peak = max((n for row in grid.counts for n in row), default=0)
    axes.imshow(grid.counts or [[0]], cmap=colours, vmin=0, vmax=max(peak, 1), aspect="auto")
    for r, row in enumerate(grid.counts):
        for c, count in enumerate(row):
            if count:
                axes.text(c, r, str(count), ha="center", va="center", fontsize=8,
                          color="white" if count > peak / 2 else "#1b2a3a")
    labels = [f"{_short(theme)} ({n})" for theme, n in zip(grid.themes, grid.sessions,
                                                           strict=True)]
    axes.set_yticks(range(rows), labels, fontsize=8)
    axes.set_xticks(range(len(grid.schools)), [_short(s) for s in grid.schools], fontsize=8,
                    rotation=45, ha="right", rotation_mode="anchor")
    # Thin lines between the cells, so an empty row still reads as a row.
    axes.set_xticks([c - 0.5 for c in range(1, columns)], minor=True)
    axes.set_yticks([r - 0.5 for r in range(1, rows)], minor=True)
    axes.grid(which="minor", color="#d5dbe3", linewidth=0.6)
    axes.tick_params(which="both", length=0)
    for side in axes.spines.values():
        side.set_color("#d5dbe3")
    figure.suptitle("\n".join(textwrap.wrap(grid.title, int(width * 11))), fontsize=10,
                    x=0.01, ha="left")
    if grid.notes:
        lines = [wrapped for note in grid.notes
                 for wrapped in textwrap.wrap(note, int(width * 13))]
        figure.supxlabel("\n".join(lines), fontsize=8, x=0.01, ha="left")
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
