"""The Teams app package: teams/manifest.json filled in from configuration, plus two icons,
zipped the way Teams (or the Teams Developer Portal) takes an uploaded app."""

from __future__ import annotations

import io
import json
import re
import zipfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.config import ConfigError
from bot.teams.icons import color_icon, outline_icon

MANIFEST = Path(__file__).resolve().parents[2] / "teams" / "manifest.json"
PLACEHOLDER_URL = "https://partnership-bot.example.org"
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
# Fixed timestamps, so the same configuration always builds the same bytes.
ZIP_TIME = (2024, 1, 1, 0, 0, 0)


def load_manifest(path: Path = MANIFEST) -> dict[str, Any]:
    try:
        manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"No Teams manifest at {path}.") from None
    return manifest


def app_version() -> str:
    try:
        return version("partnership-bot")
    except PackageNotFoundError:
        return "0.1.0"


def fill_manifest(manifest: dict[str, Any], app_id: str | None,
                  base_url: str | None) -> dict[str, Any]:
    """The manifest for this deployment: its bot's app id, and its own web address (where it
    serves its about, privacy and terms pages) in place of the example one."""
    if not app_id or not GUID.match(app_id):
        raise ConfigError(
            "Set TEAMS_APP_ID (or pass --app-id) to your Azure Bot's application (client) id, "
            "a GUID such as 6f1d2e3c-0a1b-4c5d-8e9f-001122334455."
        )
    if not base_url:
        raise ConfigError(
            "Set PUBLIC_BASE_URL (or pass --base-url) to the https:// address this bot is "
            "served at: the package links to its /about, /privacy and /terms pages there.")
    parts = urlsplit(base_url)
    if parts.scheme != "https" or not parts.netloc:
        raise ConfigError(f"PUBLIC_BASE_URL (--base-url) must be an https:// address, not "
                          f"{base_url!r}.")
    text = json.dumps(manifest)
    text = text.replace(PLACEHOLDER_URL, base_url.rstrip("/"))
    text = text.replace(urlsplit(PLACEHOLDER_URL).netloc, parts.netloc)
    filled: dict[str, Any] = json.loads(text)
    filled["id"] = app_id
    filled["version"] = app_version()
    for bot in filled.get("bots", []):
        bot["botId"] = app_id
    return filled


def build_package(app_id: str | None, base_url: str | None = None,
                  manifest_path: Path = MANIFEST) -> bytes:
    """The zip: manifest.json, color.png and outline.png at its root."""
    manifest = fill_manifest(load_manifest(manifest_path), app_id, base_url)
    icons = manifest["icons"]
    files = {
        "manifest.json": json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8"),
        icons["color"]: color_icon(manifest["accentColor"]),
        icons["outline"]: outline_icon(),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=ZIP_TIME), data,
                             compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()
