"""Callers for tests of the core, without a chat platform in between."""

from __future__ import annotations

from handlers.context import Caller, Platform


def caller(name: str = "Ann", *, workspace: str = "T0001", channel: str | None = "C0001",
           platform: Platform = Platform.SLACK) -> Caller:
    return Caller(platform=platform, workspace=workspace, user_id=f"U-{name}", user_name=name,
                  channel_id=channel, channel_name=channel and f"ch-{channel.lower()}")
