"""Neutral replies as plain text, for the local shell."""

from __future__ import annotations

import re

from handlers.replies import Reply, Tone

_CODE = re.compile(r"`([^`]*)`")
_MARK = {Tone.SUCCESS: "✓ ", Tone.WARNING: "! ", Tone.ERROR: "✗ ", Tone.INFO: ""}


def _plain(text: str) -> str:
    return _CODE.sub(r"\1", text)


def render(reply: Reply) -> str:
    out = [_MARK[reply.tone] + _plain(reply.title)]
    for section in reply.sections:
        if section.heading:
            out.append("")
            out.append(_plain(section.heading))
        width = max((len(f.label) for f in section.facts), default=0)
        out.extend(f"  {f.label.ljust(width)}  {_plain(f.value)}" for f in section.facts)
        out.extend(f"  • {_plain(line)}" for line in section.lines)
        if section.buttons:
            out.append("  [" + "] [".join(b.label for b in section.buttons) + "]")
    return "\n".join(out)
