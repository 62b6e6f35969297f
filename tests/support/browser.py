"""Headless Chromium for the browser tests: Debian's `chromium` driven by Playwright for Python
(its own browser download is never used), and axe-core for accessibility checks.

axe-core 4.14.1 (tests/support/axe.min.js, Mozilla Public License 2.0, its notice kept at the
top of the file and its licence in axe-core.LICENSE) is vendored unchanged from the npm
registry's package."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
# The flags this machine's Chromium needs: no sandbox as root, nothing that reaches out to the
# network (the machine's closed network refuses it, loudly). Playwright gives each launch a
# fresh, empty profile (--user-data-dir) of its own.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
AXE = Path(__file__).parent / "axe.min.js"
ARTIFACTS = Path(__file__).parent.parent / "artifacts"
# WCAG 2.0, 2.1 and 2.2 A and AA, and axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def browser_reason() -> str | None:
    """None when the browser tests can run; otherwise why they are skipped."""
    if importlib.util.find_spec("playwright") is None:
        return "Playwright for Python is not installed (the dev extra installs it)"
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        return (f"no Chromium at {CHROMIUM} (install Debian's: apt-get install chromium; "
                ".ci/run does where it is missing)")
    return None


async def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is now (WCAG 2.2 A/AA and best practices)."""
    if not await page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, which the page's CSP does not govern.
        await page.evaluate(AXE.read_text(encoding="utf-8"))
    result = await page.evaluate(
        "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags}})",
        AXE_TAGS)
    violations: list[dict[str, Any]] = result["violations"]
    return violations


def describe(violations: list[dict[str, Any]]) -> str:
    return json.dumps([{"id": v["id"], "impact": v["impact"], "help": v["help"],
                        "targets": [n["target"] for n in v["nodes"]][:5]}
                       for v in violations], indent=2)
