"""The tables. Every row hangs off a workspace (Slack team, Teams tenant, or "local" for the
shell) so that no query can reach another workspace's data."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage import slack_oauth
from storage.types import UTCDateTime, utcnow


class PartnershipKind(StrEnum):
    LOOSE = "loose"
    STRUCTURED = "structured"
    HARD = "hard"
    ALLIANCE = "alliance"


class AccessRole(StrEnum):
    LEAD = "lead"
    MEMBER = "member"


def _created_at() -> datetime:
    return utcnow()


class Partnership(SQLModel, table=True):
    __tablename__ = "partnership"
    __table_args__ = (UniqueConstraint("workspace", "name_key"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace: str = Field(max_length=64, index=True)
    name: str = Field(max_length=200)
    name_key: str = Field(max_length=200)
    kind: str = Field(default=PartnershipKind.LOOSE.value, max_length=20)
    # A proposal not yet agreed (e.g. "consultation on a multi academy trust").
    proposed: bool = Field(default=False)
    note: str | None = Field(default=None, max_length=500)
    timezone: str = Field(default="Europe/London", max_length=64)
    created_by: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=_created_at, sa_column=Column(UTCDateTime(),
                                                                                 nullable=False))


class School(SQLModel, table=True):
    __tablename__ = "school"
    __table_args__ = (UniqueConstraint("workspace", "name_key"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace: str = Field(max_length=64, index=True)
    name: str = Field(max_length=200)
    name_key: str = Field(max_length=200)
    # NLE (National Support School), LLE, Teaching School.
    designation: str | None = Field(default=None, max_length=40)
    phase: str | None = Field(default=None, max_length=20)
    # The local authority, where it is not the partnership's own (e.g. "Hillingdon").
    authority: str | None = Field(default=None, max_length=100)
    created_at: datetime = Field(default_factory=_created_at, sa_column=Column(UTCDateTime(),
                                                                                 nullable=False))


class PartnershipSchool(SQLModel, table=True):
    __tablename__ = "partnership_school"
    __table_args__ = (UniqueConstraint("partnership_id", "school_id"),)

    id: int | None = Field(default=None, primary_key=True)
    partnership_id: int = Field(foreign_key="partnership.id", ondelete="CASCADE")
    school_id: int = Field(foreign_key="school.id", ondelete="CASCADE", index=True)
    joined_at: datetime = Field(default_factory=_created_at, sa_column=Column(UTCDateTime(),
                                                                                nullable=False))


class Member(SQLModel, table=True):
    """A person in a partnership, on behalf of a school. Slack and Teams users are separate."""

    __tablename__ = "member"
    __table_args__ = (
        UniqueConstraint("partnership_id", "platform", "user_id"),
        # "Which partnerships am I in?" is asked by nearly every command.
        Index("ix_member_platform_user", "platform", "user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    partnership_id: int = Field(foreign_key="partnership.id", ondelete="CASCADE")
    platform: str = Field(max_length=10)
    user_id: str = Field(max_length=64)
    display_name: str = Field(max_length=100)
    school_id: int | None = Field(default=None, foreign_key="school.id", ondelete="SET NULL")
    # What they do at their school: "headteacher", "SENCO", ...
    job_title: str | None = Field(default=None, max_length=80)
    access_role: str = Field(default=AccessRole.MEMBER.value, max_length=10)
    joined_at: datetime = Field(default_factory=_created_at, sa_column=Column(UTCDateTime(),
                                                                                nullable=False))


class ChannelLink(SQLModel, table=True):
    """A chat channel where a partnership's reminders and digests are posted."""

    __tablename__ = "channel_link"
    __table_args__ = (UniqueConstraint("partnership_id", "platform", "channel_id"),)

    id: int | None = Field(default=None, primary_key=True)
    partnership_id: int = Field(foreign_key="partnership.id", ondelete="CASCADE", index=True)
    platform: str = Field(max_length=10)
    channel_id: str = Field(max_length=200)
    channel_name: str | None = Field(default=None, max_length=200)
    # Teams needs a stored conversation reference (JSON) to post proactively.
    conversation_ref: str | None = Field(default=None)
    linked_by: str | None = Field(default=None, max_length=64)
    linked_at: datetime = Field(default_factory=_created_at, sa_column=Column(UTCDateTime(),
                                                                                nullable=False))


class RequestSeen(SQLModel, table=True):
    """Chat requests already handled, by the platform's request id (Slack trigger_id or
    event_id, Teams activity id): a retry or replay of one is acknowledged and not run again."""

    __tablename__ = "request_seen"

    key: str = Field(primary_key=True, max_length=120)
    received_at: datetime = Field(default_factory=_created_at,
                                  sa_column=Column(UTCDateTime(), nullable=False, index=True))


# slack-sdk's tables for Slack installations, bot tokens and OAuth states, on the same metadata
# so that the migrations and their tests cover them.
slack_oauth.define_tables(SQLModel.metadata)
