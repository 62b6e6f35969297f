"""What a Slack payload says about where it comes from and what it asks for.

The workspace key: a workspace's data and its bot token belong to its team id (T…), except
under an org-wide install (Enterprise Grid, `is_enterprise_install`), where they belong to the
org's enterprise id (E…): one install serves every workspace of the org, and so do its
partnerships, as channels and people are shared across an org's workspaces. A Grid workspace
that installed the app on its own keeps its team id. The fields are read the way Bolt reads them
to find the installation, so data and token always agree."""

from __future__ import annotations

from typing import Any

from slack_bolt.request.internals import (
    extract_enterprise_id,
    extract_is_enterprise_install,
    extract_team_id,
)


def slack_workspace(payload: dict[str, Any]) -> str | None:
    """The workspace key for a slash command, interaction or event payload."""
    if extract_is_enterprise_install(payload):
        enterprise: str | None = extract_enterprise_id(payload)
        if enterprise:
            return enterprise
    team: str | None = extract_team_id(payload)
    return team


def log_fields(payload: dict[str, Any]) -> dict[str, str | None]:
    """The platform, workspace and command to put on every log line of this request: the
    command's name, `action:<id>`, `form:<callback id>` or `event:<type>`; never its text."""
    return {"platform": "slack", "workspace": slack_workspace(payload),
            "command": _asked(payload)}


def _asked(payload: dict[str, Any]) -> str | None:
    if payload.get("command"):
        return str(payload["command"]).lstrip("/")
    kind = payload.get("type")
    if kind == "block_actions":
        actions = payload.get("actions") or [{}]
        return f"action:{actions[0].get('action_id', '')}"
    if kind in ("view_submission", "view_closed"):
        return f"form:{(payload.get('view') or {}).get('callback_id', '')}"
    if kind == "event_callback":
        return f"event:{(payload.get('event') or {}).get('type', '')}"
    return str(kind) if kind else None
