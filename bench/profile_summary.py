"""Where a server's CPU goes, from a py-spy "raw" (collapsed stacks) profile: the share of
samples whose innermost frame lies in each library, and of samples under some call sites.
Used by bench/capacity.py --profile; py-spy is not a dependency (pip install py-spy)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

# The innermost frame's file decides the library (site-packages names, our own packages).
LIBRARIES = ("sqlalchemy", "sqlmodel", "asyncpg", "aiohttp", "yarl", "multidict", "slack_bolt",
             "slack_sdk", "pydantic", "apscheduler", "handlers/", "storage/", "bot/", "asyncio/",
             "selectors", "json/", "logging/", "urllib/", "hmac", "re/", "enum")
CALL_SITES = {
    "the command's database work (ORM, driver, socket)": ("AsyncSession.exec",
                                                          "greenlet_spawn"),
    "  of which socket writes to PostgreSQL": ("PreparedStatement",),
    "Bolt's dispatch of the request": ("async_dispatch",),
    "answering on the response_url (client)": ("respond (bot/slack", "ClientRequest.write",
                                               "webhook"),
    "acknowledging (HTTP response)": ("finish_response",),
    "access log": ("AccessLogger",),
}


def summarize(path: Path) -> list[str]:
    inner: Counter[str] = Counter()
    sites: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frame = stack.rsplit(";", 1)[-1]
        where = frame[frame.find("(") + 1:]
        inner[next((lib.rstrip("/") for lib in LIBRARIES if where.startswith(lib)
                    or f"/{lib}" in where), "other")] += n
        for label, needles in CALL_SITES.items():
            if any(needle in stack for needle in needles):
                sites[label] += n
    if not total:
        return ["(no samples)"]
    lines = [f"{total} samples; innermost frame in:"]
    lines += [f"  {share / total:6.1%}  {name}" for name, share in inner.most_common(12)]
    lines.append("under:")
    lines += [f"  {sites[label] / total:6.1%}  {label}" for label in CALL_SITES]
    return lines
