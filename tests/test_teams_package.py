"""teams/manifest.json against Microsoft's published schema, and the app package zip.

The schema is vendored in tests/fixtures/teams: MicrosoftTeams.schema.json v1.30, as shipped in
the npm package @microsoft/app-manifest 1.1.2 (MIT), build/json-schemas/teams/v1.30."""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft4Validator, FormatChecker

from bot.config import ConfigError
from bot.legal import ABOUT_PATH, PAGES, PRIVACY_PATH, TERMS_PATH
from bot.teams.package import MANIFEST, build_package, fill_manifest, load_manifest
from handlers.dispatch import COMMANDS
from tests.test_cli import cli

SCHEMA = Path(__file__).parent / "fixtures" / "teams" / "MicrosoftTeams.v1.30.schema.json"
APP_ID = "6f1d2e3c-0a1b-4c5d-8e9f-001122334455"
BASE_URL = "https://bots.barnet-schools.example"


def validate(manifest: dict[str, Any]) -> list[str]:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = Draft4Validator(schema, format_checker=FormatChecker())
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(manifest)]


def test_the_checked_in_manifest_is_valid() -> None:
    manifest = load_manifest()
    assert manifest["manifestVersion"] == "1.30"
    assert manifest["$schema"].endswith("/v1.30/MicrosoftTeams.schema.json")
    assert validate(manifest) == []


def test_the_schema_really_checks() -> None:
    manifest = load_manifest()
    manifest["bots"][0]["botId"] = "not-a-guid"
    del manifest["developer"]["privacyUrl"]
    problems = validate(manifest)
    assert any(p.startswith("bots/0/botId") for p in problems)
    assert any("privacyUrl" in p for p in problems)


def test_the_manifest_lists_exactly_the_commands_there_are() -> None:
    commands = load_manifest()["bots"][0]["commandLists"][0]["commands"]
    assert {c["title"] for c in commands} == {"help", "home", *COMMANDS}


def png_facts(data: bytes) -> tuple[int, int, int, list[tuple[int, ...]]]:
    """Width, height, colour type and the distinct RGBA pixels of one of our PNGs."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, _, colour_type = struct.unpack(">IIBB", data[16:26])
    idat = data[data.index(b"IDAT") + 4 : data.index(b"IEND") - 8]
    raw = zlib.decompress(idat)
    stride = width * 4 + 1
    pixels = {tuple(raw[row * stride + 1 + col * 4 : row * stride + 5 + col * 4])
              for row in range(height) for col in range(width)}
    return width, height, colour_type, sorted(pixels)


def test_the_package_holds_the_filled_in_manifest_and_two_icons() -> None:
    data = build_package(APP_ID, "https://bots.barnet-schools.example/")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        color = archive.read("color.png")
        outline = archive.read("outline.png")
    assert validate(manifest) == []
    assert manifest["id"] == APP_ID and manifest["bots"][0]["botId"] == APP_ID
    assert manifest["developer"]["privacyUrl"] == "https://bots.barnet-schools.example/privacy"
    assert manifest["developer"]["termsOfUseUrl"] == "https://bots.barnet-schools.example/terms"
    assert manifest["developer"]["websiteUrl"] == "https://bots.barnet-schools.example/about"
    assert manifest["validDomains"] == ["bots.barnet-schools.example"]
    assert "example.org" not in json.dumps(manifest)
    width, height, colour_type, pixels = png_facts(color)
    assert (width, height, colour_type) == (192, 192, 6)
    assert set(pixels) == {(255, 255, 255, 255), (0x2C, 0x4A, 0x6E, 255)}
    width, height, colour_type, pixels = png_facts(outline)
    assert (width, height, colour_type) == (32, 32, 6)
    # An outline icon is white on transparent, nothing else.
    assert set(pixels) == {(255, 255, 255, 255), (0, 0, 0, 0)}
    assert len(data) < 10_000
    assert build_package(APP_ID, "https://bots.barnet-schools.example/") == data  # repeatable


@pytest.mark.parametrize("app_id", [None, "", "28:6f1d2e3c", "not-a-guid"])
def test_the_package_needs_the_bots_app_id(app_id: str | None) -> None:
    with pytest.raises(ConfigError, match="TEAMS_APP_ID"):
        build_package(app_id, BASE_URL)


@pytest.mark.parametrize("base_url", [None, "", "http://insecure.example", "https://"])
def test_the_package_needs_the_https_address_of_its_pages(base_url: str | None) -> None:
    with pytest.raises(ConfigError, match=r"PUBLIC_BASE_URL .*https://"):
        build_package(APP_ID, base_url)


def test_the_command_writes_the_zip(tmp_path: Path) -> None:
    out = tmp_path / "partnership-bot-teams.zip"
    result = cli("teams-package", "--out", str(out), tmp_path=tmp_path, TEAMS_APP_ID=APP_ID,
                 PUBLIC_BASE_URL=BASE_URL)
    assert result.returncode == 0, result.stderr
    assert "Wrote the Teams app package" in result.stdout
    with zipfile.ZipFile(out) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert manifest["bots"][0]["botId"] == APP_ID
    assert manifest["developer"]["privacyUrl"] == f"{BASE_URL}/privacy"


def test_the_command_without_a_base_url_is_one_clear_line(tmp_path: Path) -> None:
    result = cli("teams-package", "--out", str(tmp_path / "x.zip"), tmp_path=tmp_path,
                 TEAMS_APP_ID=APP_ID)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "Set PUBLIC_BASE_URL (or pass --base-url)" in result.stderr


# --- Teams' store rules on names, links and icons -------------------------------------------


def test_names_and_descriptions_keep_to_the_store_rules() -> None:
    manifest = fill_manifest(load_manifest(), APP_ID, BASE_URL)
    name, description = manifest["name"], manifest["description"]
    assert 0 < len(name["short"]) <= 30 and len(name["full"]) <= 100
    assert 0 < len(description["short"]) <= 80 and len(description["full"]) <= 4000
    assert description["short"] != description["full"]
    assert len(manifest["developer"]["name"]) <= 32
    # The store refuses names that borrow Microsoft's.
    assert not any(word in name["short"].lower() for word in ("teams", "microsoft"))
    # Commands as Teams lists them: short titles, descriptions within 128 characters.
    for command in manifest["bots"][0]["commandLists"][0]["commands"]:
        assert len(command["title"]) <= 32 and len(command["description"]) <= 128


def test_every_link_is_https_on_the_bots_own_address_and_is_served() -> None:
    manifest = fill_manifest(load_manifest(), APP_ID, BASE_URL)
    developer = manifest["developer"]
    links = {key: developer[key] for key in ("websiteUrl", "privacyUrl", "termsOfUseUrl")}
    assert {key: urlsplit(url).path for key, url in links.items()} == {
        "websiteUrl": ABOUT_PATH, "privacyUrl": PRIVACY_PATH, "termsOfUseUrl": TERMS_PATH}
    for url in links.values():
        assert url.startswith(f"{BASE_URL}/")
    assert set(PAGES) == {ABOUT_PATH, PRIVACY_PATH, TERMS_PATH}
    assert manifest["validDomains"] == [urlsplit(BASE_URL).netloc]


def test_the_command_without_an_app_id_is_one_clear_line(tmp_path: Path) -> None:
    result = cli("teams-package", "--out", str(tmp_path / "x.zip"), tmp_path=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "Set TEAMS_APP_ID" in result.stderr
    assert MANIFEST.is_file()
