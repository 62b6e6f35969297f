"""manifest.yml is a valid Slack app manifest and declares what the code really uses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import jsonschema
import yaml

from bot.config import SLACK_REDIRECT_PATH_DEFAULT, SLACK_SCOPES_DEFAULT
from bot.slack.oauth import REVOCATION_EVENTS
from handlers.dispatch import COMMANDS

ROOT = Path(__file__).parent.parent
# Slack's published schema (github.com/slackapi/manifest-schema, MIT), vendored.
SCHEMA = Path(__file__).parent / "fixtures" / "slack" / "manifest.schema.1.0.0.json"


def manifest() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))
    return data


def test_manifest_validates_against_slacks_schema() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(manifest())


def test_manifest_declares_every_command_the_bot_handles_and_no_others() -> None:
    declared = {c["command"] for c in manifest()["features"]["slash_commands"]}
    assert declared == {f"/{name}" for name in COMMANDS}


def test_every_request_url_is_the_events_endpoint() -> None:
    data = manifest()
    urls = [c["url"] for c in data["features"]["slash_commands"]]
    interactivity = data["settings"].get("interactivity", {})
    if interactivity:
        urls.append(interactivity["request_url"])
    events = data["settings"].get("event_subscriptions", {})
    if events:
        urls.append(events["request_url"])
    assert urls and all(url.endswith("/slack/events") for url in urls)


def test_the_default_oauth_scopes_are_the_manifests_bot_scopes() -> None:
    assert list(SLACK_SCOPES_DEFAULT) == manifest()["oauth_config"]["scopes"]["bot"]


def test_the_redirect_url_is_the_oauth_redirect_endpoint() -> None:
    urls = manifest()["oauth_config"]["redirect_urls"]
    assert urls and all(urlparse(url).path == SLACK_REDIRECT_PATH_DEFAULT for url in urls)


def test_the_bot_subscribes_to_uninstalls_and_revocations() -> None:
    events = manifest()["settings"]["event_subscriptions"]["bot_events"]
    assert set(REVOCATION_EVENTS) <= set(events)


def test_org_wide_installs_are_offered_as_the_bot_supports_them() -> None:
    """Enterprise Grid orgs may install for every workspace at once: payloads, tokens and posts
    are keyed by the org (bot/slack/payloads.py; tests/test_slack_oauth.py)."""
    assert manifest()["settings"]["org_deploy_enabled"] is True


def test_each_commands_description_and_usage_hint_come_from_its_declarations() -> None:
    """The manifest's words for a command are the code's: a subcommand added, renamed or
    re-described without the manifest fails here."""
    declared = {c["command"]: c for c in manifest()["features"]["slash_commands"]}
    for name, command in COMMANDS.items():
        entry = declared[f"/{name}"]
        assert entry["description"] == command.description
        assert entry["usage_hint"] == command.usage_hint()
