"""The tables. Every row hangs off a workspace (Slack team, Teams tenant, or "local" for the
shell) so that no query can reach another workspace's data."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, Index, LargeBinary, UniqueConstraint, event, inspect, text
from sqlalchemy.engine import Connection
from sqlmodel import Field, SQLModel

from storage import slack_oauth
from storage.names import name_key
from storage.school_names import match_key
from storage.types import UTCDateTime, utcnow


class PartnershipKind(StrEnum):
    LOOSE = "loose"
    STRUCTURED = "structured"
    HARD = "hard"
    ALLIANCE = "alliance"


class AccessRole(StrEnum):
    LEAD = "lead"
    MEMBER = "member"


# Two years, the default time a walk's notes are kept.
DEFAULT_NOTES_RETENTION_DAYS = 730


def _created_at() -> datetime:
    return utcnow()


class Partnership(SQLModel, table=True):
    __tablename__ = "partnership"
    __table_args__ = (UniqueConstraint("workspace", "name_key"),
                      UniqueConstraint("workspace", "short_key",
                                       name="uq_partnership_workspace_short_key"))

    id: int | None = Field(default=None, primary_key=True)
    workspace: str = Field(max_length=64, index=True)
    name: str = Field(max_length=200)
    name_key: str = Field(max_length=200)
    # A short name its leads give it ("H&H"), found like the name.
    short_name: str | None = Field(default=None, max_length=40)
    short_key: str | None = Field(default=None, max_length=80)
    kind: str = Field(default=PartnershipKind.LOOSE.value, max_length=20)
    # A proposal not yet agreed (e.g. "consultation on a multi academy trust").
    proposed: bool = Field(default=False)
    note: str | None = Field(default=None, max_length=500)
    timezone: str = Field(default="Europe/London", max_length=64)
    # How long a learning walk's notes (about staff) are kept: a daily job removes older ones.
    notes_retention_days: int = Field(default=DEFAULT_NOTES_RETENTION_DAYS,
                                      sa_column_kwargs={"server_default": "730"})
    created_by: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=_created_at, sa_column=Column(UTCDateTime(),
                                                                                 nullable=False))


# The DfE register's status of a school that has closed.
CLOSED = "Closed"


class School(SQLModel, table=True):
    """A school: a name typed or imported, and where the DfE register (GIAS) knows it, its URN
    and register details. Two schools may share a name (in different towns); a URN is one
    school. `name_key` and `match_key` are derived from the name whenever it is saved."""

    __tablename__ = "school"
    __table_args__ = (
        UniqueConstraint("workspace", "urn", name="uq_school_workspace_urn"),
        Index("ix_school_workspace_name_key", "workspace", "name_key"),
        # Lookups start here: the name's own words, without "School", stages or places.
        Index("ix_school_workspace_match_key", "workspace", "match_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workspace: str = Field(max_length=64, index=True)
    name: str = Field(max_length=200)
    name_key: str = Field(default="", max_length=200)
    match_key: str = Field(default="", max_length=200)
    # NLE (National Support School), LLE, Teaching School.
    designation: str | None = Field(default=None, max_length=40)
    # The register's PhaseOfEducation ("Primary", "Secondary", ...) or the phase imported.
    phase: str | None = Field(default=None, max_length=40)
    # The local authority ("Barnet", "Hillingdon").
    authority: str | None = Field(default=None, max_length=100)
    # From the register: Unique Reference Number (six digits), type, status, town, postcode,
    # and whom it teaches ("Boys", "Girls", "Mixed").
    urn: int | None = Field(default=None)
    establishment_type: str | None = Field(default=None, max_length=100)
    status: str | None = Field(default=None, max_length=60)
    town: str | None = Field(default=None, max_length=100)
    postcode: str | None = Field(default=None, max_length=12)
    gender: str | None = Field(default=None, max_length=12)
    created_at: datetime = Field(default_factory=_created_at, sa_column=Column(UTCDateTime(),
                                                                                 nullable=False))

    @property
    def closed(self) -> bool:
        return self.status == CLOSED


class SchoolWord(SQLModel, table=True):
    """Each word of a school's own name (its `match_key`), indexed: "did you mean" finds the
    schools sharing a word, or a word's first letters, with the typed name without reading
    every school."""

    __tablename__ = "school_word"
    __table_args__ = (Index("ix_school_word_workspace_word", "workspace", "word"),)

    school_id: int = Field(foreign_key="school.id", ondelete="CASCADE", primary_key=True)
    word: str = Field(max_length=100, primary_key=True)
    workspace: str = Field(max_length=64)


def school_words(school_id: int, workspace: str, key: str) -> list[dict[str, object]]:
    """The `school_word` rows of a school whose match key is `key`."""
    return [{"school_id": school_id, "workspace": workspace, "word": word[:100]}
            for word in sorted(set(key.split()))]


def _derive_school_keys(_mapper: object, _connection: object, school: School) -> None:
    school.name_key = name_key(school.name)
    school.match_key = match_key(school.name)


def _index_new_school(_mapper: object, connection: Connection, school: School) -> None:
    assert school.id is not None
    rows = school_words(school.id, school.workspace, school.match_key)
    if rows:
        connection.execute(SchoolWord.__table__.insert(), rows)  # type: ignore[attr-defined]


def _reindex_school(_mapper: object, connection: Connection, school: School) -> None:
    if not inspect(school).attrs.match_key.history.has_changes():
        return
    table = SchoolWord.__table__  # type: ignore[attr-defined]
    connection.execute(table.delete().where(table.c.school_id == school.id))
    _index_new_school(_mapper, connection, school)


# The keys always follow the name, however a school is saved (join, importers, merge, tests);
# bulk inserts use storage.schools.insert_schools, which does the same.
event.listen(School, "before_insert", _derive_school_keys)
event.listen(School, "before_update", _derive_school_keys)
event.listen(School, "after_insert", _index_new_school)
event.listen(School, "after_update", _reindex_school)


class SchoolAlias(SQLModel, table=True):
    """Another name a school was known by (a record merged into it): found like its name, so a
    re-import of the old spelling finds the school rather than making it again."""

    __tablename__ = "school_alias"
    __table_args__ = (Index("ix_school_alias_workspace_name_key", "workspace", "name_key"),
                      UniqueConstraint("school_id", "name_key"))

    id: int | None = Field(default=None, primary_key=True)
    school_id: int = Field(foreign_key="school.id", ondelete="CASCADE")
    workspace: str = Field(max_length=64)
    name: str = Field(max_length=200)
    name_key: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=_created_at, sa_column=Column(UTCDateTime(),
                                                                                 nullable=False))


class SchoolReview(SQLModel, table=True):
    """A school the register import could not match alone: a person decides (merge it into one
    of the candidates, or dismiss) with `partnership-bot schools review`/`merge`."""

    __tablename__ = "school_review"

    id: int | None = Field(default=None, primary_key=True)
    workspace: str = Field(max_length=64, index=True)
    school_id: int = Field(foreign_key="school.id", ondelete="CASCADE", unique=True)
    # The register's candidates, as URNs separated by commas.
    candidate_urns: str = Field(max_length=500)
    dismissed: bool = Field(default=False)
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


# --- learning walks and CPD -----------------------------------------------------------------


class CpdTheme(SQLModel, table=True):
    """One of a partnership's CPD themes. Themes taken off the list are retired, not deleted,
    so the sessions already logged under them keep their theme."""

    __tablename__ = "cpd_theme"
    __table_args__ = (UniqueConstraint("partnership_id", "name_key"),)

    id: int | None = Field(default=None, primary_key=True)
    partnership_id: int = Field(foreign_key="partnership.id", ondelete="CASCADE")
    name: str = Field(max_length=150)
    name_key: str = Field(max_length=150)
    position: int = Field(default=0)
    retired: bool = Field(default=False)


class LearningWalk(SQLModel, table=True):
    """A learning walk: a focus looked at across a host school's classes. The notes concern
    staff (personal data): only the partnership's members may see them, and they are never
    logged or posted in channels."""

    __tablename__ = "learning_walk"
    __table_args__ = (
        # `/walk list <partnership> [since:]`: the newest of a partnership straight from the
        # index (id breaks ties), and its count without visiting the table.
        Index("ix_learning_walk_partnership_date", "partnership_id", "walked_on", "id"),
        # `/walk list school: <school>`, likewise.
        Index("ix_learning_walk_school_date", "host_school_id", "walked_on", "partnership_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    partnership_id: int = Field(foreign_key="partnership.id", ondelete="CASCADE")
    host_school_id: int = Field(foreign_key="school.id")
    walked_on: date
    focus: str = Field(max_length=200)
    year_groups: str | None = Field(default=None, max_length=200)
    strengths: str | None = Field(default=None, max_length=1500)
    development: str | None = Field(default=None, max_length=1500)
    # The next steps as typed; each step, with its owner and due date, is an Action.
    next_steps: str | None = Field(default=None, max_length=1500)
    # Who logged it, on which platform (user ids above are that platform's).
    platform: str = Field(max_length=10)
    logged_by_user_id: str = Field(max_length=64)
    logged_by_name: str = Field(max_length=100)
    # When the retention job removed its notes (strengths, development, next steps, people).
    notes_removed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(),
                                                                             nullable=True))
    created_at: datetime = Field(default_factory=_created_at, sa_column=Column(UTCDateTime(),
                                                                                 nullable=False))


class WalkWalker(SQLModel, table=True):
    """One of a walk's walkers: a platform user (id, name when known) or a typed name."""

    __tablename__ = "walk_walker"

    id: int | None = Field(default=None, primary_key=True)
    walk_id: int = Field(foreign_key="learning_walk.id", ondelete="CASCADE", index=True)
    user_id: str | None = Field(default=None, max_length=64)
    name: str | None = Field(default=None, max_length=100)
    position: int = Field(default=0)


class CpdSession(SQLModel, table=True):
    """A CPD session held for (some of) a partnership's schools."""

    __tablename__ = "cpd_session"
    __table_args__ = (
        # `/cpd summary` and `/cpd list`: a partnership's sessions by date, grouped by theme
        # and host without visiting the table (the index covers those columns).
        Index("ix_cpd_session_partnership_date", "partnership_id", "held_on", "theme_id",
              "host_school_id", "minutes", "attendee_count"),
        # `/cpd list theme: …`.
        Index("ix_cpd_session_theme_date", "theme_id", "held_on"),
    )

    id: int | None = Field(default=None, primary_key=True)
    partnership_id: int = Field(foreign_key="partnership.id", ondelete="CASCADE")
    theme_id: int = Field(foreign_key="cpd_theme.id")
    title: str = Field(max_length=200)
    held_on: date
    # Length in minutes (typed as hours); None when not given.
    minutes: int | None = Field(default=None)
    host_school_id: int | None = Field(default=None, foreign_key="school.id")
    facilitator: str | None = Field(default=None, max_length=100)
    # A head count, when one was given (with or without the schools and people who came).
    attendee_count: int | None = Field(default=None)
    impact: str | None = Field(default=None, max_length=1500)
    platform: str = Field(max_length=10)
    logged_by_user_id: str = Field(max_length=64)
    logged_by_name: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=_created_at, sa_column=Column(UTCDateTime(),
                                                                                 nullable=False))


class CpdAttendance(SQLModel, table=True):
    """A school whose staff attended a CPD session."""

    __tablename__ = "cpd_attendance"
    __table_args__ = (UniqueConstraint("session_id", "school_id"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="cpd_session.id", ondelete="CASCADE")
    school_id: int = Field(foreign_key="school.id", index=True)


class CpdAttendee(SQLModel, table=True):
    """A person who attended a CPD session: a platform user (id, on the session's platform; the
    name when known) or a typed name. Personal data: exported and erased per person."""

    __tablename__ = "cpd_attendee"

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="cpd_session.id", ondelete="CASCADE", index=True)
    user_id: str | None = Field(default=None, max_length=64)
    name: str | None = Field(default=None, max_length=100)
    position: int = Field(default=0)


# slack-sdk's tables for Slack installations, bot tokens and OAuth states, on the same metadata
# so that the migrations and their tests cover them.
slack_oauth.define_tables(SQLModel.metadata)
# --- meetings -------------------------------------------------------------------------------


class MeetingStatus(StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class RsvpAnswer(StrEnum):
    GOING = "going"
    NOT_GOING = "not_going"
    MAYBE = "maybe"


class Meeting(SQLModel, table=True):
    """A partnership's meeting. Times are UTC; `timezone` is the one it was booked in, used for
    showing it and for the calendar invite."""

    __tablename__ = "meeting"
    __table_args__ = (Index("ix_meeting_partnership_starts", "partnership_id", "starts_at"),)

    id: int | None = Field(default=None, primary_key=True)
    partnership_id: int = Field(foreign_key="partnership.id", ondelete="CASCADE")
    # The calendar UID: the same for every version of the invite, so calendars update in place.
    uid: str = Field(max_length=100, unique=True)
    title: str = Field(max_length=200)
    starts_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    ends_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    timezone: str = Field(default="Europe/London", max_length=64)
    location: str | None = Field(default=None, max_length=500)
    status: str = Field(default=MeetingStatus.SCHEDULED.value, max_length=12)
    # The invite's SEQUENCE, and part of each reminder's key: raised by every move or cancel.
    sequence: int = Field(default=0)
    cancel_reason: str | None = Field(default=None, max_length=500)
    # The last day members may add agenda items (in the meeting's time zone); after it only
    # leads can. None: no deadline.
    agenda_by: date | None = Field(default=None)
    created_by: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=_created_at, sa_column=Column(UTCDateTime(),
                                                                                 nullable=False))
    updated_at: datetime = Field(default_factory=_created_at, sa_column=Column(UTCDateTime(),
                                                                                 nullable=False))


class AgendaItem(SQLModel, table=True):
    __tablename__ = "agenda_item"
    __table_args__ = (UniqueConstraint("meeting_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", ondelete="CASCADE")
    position: int
    text: str = Field(max_length=500)
    added_by: str = Field(max_length=64)
    added_at: datetime = Field(default_factory=_created_at, sa_column=Column(UTCDateTime(),
                                                                               nullable=False))


class Rsvp(SQLModel, table=True):
    """One person's reply to a meeting; answering again replaces it."""

    __tablename__ = "rsvp"
    __table_args__ = (UniqueConstraint("meeting_id", "platform", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", ondelete="CASCADE")
    platform: str = Field(max_length=10)
    user_id: str = Field(max_length=64)
    display_name: str = Field(max_length=100)
    answer: str = Field(max_length=12)
    # With "can't make it": the apology's reason ("Ofsted call"), for the minutes.
    reason: str | None = Field(default=None, max_length=300)
    answered_at: datetime = Field(default_factory=_created_at, sa_column=Column(UTCDateTime(),
                                                                                  nullable=False))


class MinutesStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"


class MeetingMinutes(SQLModel, table=True):
    """One version of a meeting's minutes. A draft is changed in place by its writer (or a
    lead); once approved a version is read-only, and a change makes the next version (kept
    beside it)."""

    __tablename__ = "meeting_minutes"
    __table_args__ = (UniqueConstraint("meeting_id", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", ondelete="CASCADE")
    version: int = Field(default=1)
    status: str = Field(default=MinutesStatus.DRAFT.value, max_length=10)
    attendees: str = Field(default="", max_length=3000)
    apologies: str = Field(default="", max_length=3000)
    # The items as JSON: [{"title": …, "notes": …, "decisions": …}, …], standing items first.
    items: str = Field(default="[]", max_length=200_000)
    platform: str = Field(max_length=10)
    written_by: str = Field(max_length=64)
    written_by_name: str = Field(max_length=100)
    written_at: datetime = Field(default_factory=_created_at, sa_column=Column(UTCDateTime(),
                                                                                 nullable=False))
    approved_by: str | None = Field(default=None, max_length=64)
    approved_by_name: str | None = Field(default=None, max_length=100)
    approved_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(),
                                                                         nullable=True))


class MeetingSettings(SQLModel, table=True):
    """A partnership's meeting preferences; a partnership without a row uses the defaults."""

    __tablename__ = "meeting_settings"

    id: int | None = Field(default=None, primary_key=True)
    partnership_id: int = Field(foreign_key="partnership.id", ondelete="CASCADE", unique=True)
    # Minutes before the start, largest first, comma separated: "1440,60". Empty: no reminders.
    reminder_minutes: str = Field(default="1440,60", max_length=100)
    updated_by: str | None = Field(default=None, max_length=64)


# --- the outbox -----------------------------------------------------------------------------


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for due_at (or for its next try)
    SENDING = "sending"  # claimed by one process until lease_until
    SENT = "sent"
    FAILED = "failed"  # gave up after retries; last_error says why
    DROPPED = "dropped"  # too late to be useful (e.g. the meeting has started)
    CANCELLED = "cancelled"  # no longer wanted (e.g. the meeting moved or was cancelled)
    SKIPPED = "skipped"  # nothing worth sending (a quiet week's digest, set to send nothing)


class ScheduledDelivery(SQLModel, table=True):
    """A message to post in a partnership's channels at a set time (a reminder, later a digest).

    Any number of bot processes poll this table; a row is claimed atomically (status, lease and
    claim token in one UPDATE), so each is sent once, and nothing is lost across restarts."""

    __tablename__ = "delivery"
    __table_args__ = (
        Index("ix_delivery_due", "status", "next_attempt_at"),
        # "Has this partnership a digest waiting?", asked of every partnership by the planner.
        Index("ix_delivery_partnership_kind_status", "partnership_id", "kind", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=20)  # "reminder", "digest": picks what renders it
    partnership_id: int = Field(foreign_key="partnership.id", ondelete="CASCADE", index=True)
    # Says what this is, so it is never queued twice: "reminder:<meeting>:<minutes>:<sequence>".
    dedupe_key: str = Field(max_length=200, unique=True)
    due_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # When to try next: due_at at first, later after a backoff.
    next_attempt_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    # Past this it is no use any more (a reminder once its meeting has started): dropped.
    expires_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(),
                                                                       nullable=True))
    status: str = Field(default=DeliveryStatus.PENDING.value, max_length=12)
    attempts: int = Field(default=0)
    lease_until: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(),
                                                                        nullable=True))
    # Who holds the lease: a fresh token per claim, so a late finisher cannot overwrite.
    claim_token: str | None = Field(default=None, max_length=40)
    last_error: str | None = Field(default=None, max_length=500)
    sent_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(),
                                                                    nullable=True))
    # A posting slot reserved for its next post when the posting pace held it back: at that
    # moment it posts without asking the pace again (storage/pacing.py).
    slot: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    # What the renderer needs, as JSON: {"meeting_id": 12, "minutes_before": 60}.
    payload: str = Field(default="{}")
    created_at: datetime = Field(default_factory=_created_at, sa_column=Column(UTCDateTime(),
                                                                                 nullable=False))


class PostedMessage(SQLModel, table=True):
    """Where a message went (a meeting's card, a reminder), so it can be edited later and so a
    retried delivery skips the channels it already reached."""

    __tablename__ = "posted_message"
    __table_args__ = (UniqueConstraint("key", "platform", "channel_id"),)

    id: int | None = Field(default=None, primary_key=True)
    partnership_id: int = Field(foreign_key="partnership.id", ondelete="CASCADE", index=True)
    key: str = Field(max_length=200)  # "meeting:12", or a delivery's dedupe key
    platform: str = Field(max_length=10)
    channel_id: str = Field(max_length=200)
    # The platform's handle on the message: Slack's ts, a Teams activity id.
    message_ref: str | None = Field(default=None, max_length=200)
    posted_at: datetime = Field(default_factory=_created_at, sa_column=Column(UTCDateTime(),
                                                                                nullable=False))


# --- the weekly digest ----------------------------------------------------------------------


class QuietWeek(StrEnum):
    NOTE = "note"  # a one-line "quiet week" message
    SKIP = "skip"  # nothing at all


class BankHolidays(StrEnum):
    """What the weekly digest does when its day is an England and Wales bank holiday."""

    MOVE = "move"  # posted the next working day, saying why
    KEEP = "keep"  # posted on the holiday as usual


class DigestSettings(SQLModel, table=True):
    """When a partnership's weekly digest is posted, in the partnership's time zone. A
    partnership without a row gets it on Mondays at 08:00, with a note in quiet weeks."""

    __tablename__ = "digest_settings"

    id: int | None = Field(default=None, primary_key=True)
    partnership_id: int = Field(foreign_key="partnership.id", ondelete="CASCADE", unique=True)
    enabled: bool = Field(default=True)
    weekday: int = Field(default=0)  # Monday is 0, as in Python's date.weekday()
    hour: int = Field(default=8)
    minute: int = Field(default=0)
    quiet_week: str = Field(default=QuietWeek.NOTE.value, max_length=10)
    bank_holidays: str = Field(default=BankHolidays.MOVE.value, max_length=10,
                               sa_column_kwargs={"server_default": BankHolidays.MOVE.value})
    updated_by: str | None = Field(default=None, max_length=64)
    updated_at: datetime = Field(default_factory=_created_at, sa_column=Column(UTCDateTime(),
                                                                                 nullable=False))


class PostingAllowance(SQLModel, table=True):
    """How fast the bot may post in a channel or a workspace, shared by every bot process.

    One row per pace (e.g. "slack:workspace:T0123"), holding the moment the pace's allowance is
    used up to (a generic cell rate algorithm's "theoretical arrival time"), as seconds since the
    Unix epoch (UTC): a plain number, so that one UPDATE can advance it on either database."""

    __tablename__ = "posting_allowance"

    key: str = Field(primary_key=True, max_length=250)
    used_until: float = Field(default=0.0)


class ChangeAction(StrEnum):
    EDITED = "edited"
    DELETED = "deleted"


class RecordChange(SQLModel, table=True):
    """The audit trail of a logged record (a walk, a CPD session): who changed which fields,
    from what to what, or deleted it. A walk's notes are recorded only as "changed", never
    copied here. Kept when the record is deleted, so a deletion can still be accounted for."""

    __tablename__ = "record_change"
    __table_args__ = (Index("ix_record_change_record", "record_kind", "record_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    partnership_id: int = Field(foreign_key="partnership.id", ondelete="CASCADE", index=True)
    record_kind: str = Field(max_length=10)  # "walk" or "cpd"
    record_id: int
    action: str = Field(max_length=10)
    # {"field": ["old", "new"], …} as JSON; a deletion holds the record's summary instead.
    changes: str = Field(default="{}", max_length=20_000)
    platform: str = Field(max_length=10)
    by_user_id: str = Field(max_length=64)
    by_name: str = Field(max_length=100)
    changed_at: datetime = Field(default_factory=_created_at,
                                 sa_column=Column(UTCDateTime(), nullable=False))


# --- the web pages ----------------------------------------------------------------------------
# Links and sessions are bearer secrets: only the SHA-256 of each token is stored, so a copy of
# the database gives no one a way in. Each names one chat identity (workspace, platform, user).


class WebLink(SQLModel, table=True):
    """A private link, asked for in chat, that signs its person in to the web pages: it works
    once, for 15 minutes."""

    __tablename__ = "web_link"
    __table_args__ = (
        # Pacing: how many links this person asked for lately.
        Index("ix_web_link_person", "platform", "user_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    workspace: str = Field(max_length=64)
    platform: str = Field(max_length=10)
    user_id: str = Field(max_length=64)
    user_name: str = Field(max_length=100)
    # The page it opens: a partnership's, or (None) the person's partnerships.
    partnership_id: int | None = Field(default=None, foreign_key="partnership.id",
                                       ondelete="CASCADE")
    created_at: datetime = Field(default_factory=_created_at, sa_column=Column(UTCDateTime(),
                                                                                 nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(),
                                                                    nullable=True))


class WebSession(SQLModel, table=True):
    """A browser signed in through a link: its cookie's token (hashed) and whose it is. Deleted
    on signing out, on `forget me`, and once expired."""

    __tablename__ = "web_session"
    __table_args__ = (Index("ix_web_session_person", "platform", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    workspace: str = Field(max_length=64)
    platform: str = Field(max_length=10)
    user_id: str = Field(max_length=64)
    user_name: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=_created_at, sa_column=Column(UTCDateTime(),
                                                                                 nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))


class FileLink(SQLModel, table=True):
    """A file made for one person (a calendar invite, a chart, their data export) and served at
    a personal link until it expires: how every platform, Teams included, gets files."""

    __tablename__ = "file_link"
    __table_args__ = (Index("ix_file_link_person", "platform", "user_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    workspace: str = Field(max_length=64)
    platform: str = Field(max_length=10)
    user_id: str = Field(max_length=64)
    filename: str = Field(max_length=200)
    title: str = Field(max_length=200)
    mimetype: str = Field(max_length=100)
    content: bytes = Field(sa_column=Column(LargeBinary(), nullable=False))
    # Personal data (an export) is handed out once; an invite or a chart may be opened again
    # until it expires (calendar apps and phones fetch a file more than once).
    single_use: bool = Field(default=False)
    created_at: datetime = Field(default_factory=_created_at, sa_column=Column(UTCDateTime(),
                                                                                 nullable=False))
    expires_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    used_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(),
                                                                    nullable=True))


class ActionStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    DROPPED = "dropped"


class ActionSource(StrEnum):
    TYPED = "typed"
    WALK = "walk"
    MEETING = "meeting"


# Actions still to do: the only ones nudges, "matters arising" and overdue lists read.
OPEN_ACTIONS = text("status = 'open'")


class Action(SQLModel, table=True):
    """Something someone (a member, or a school) will do by a date: typed on its own, a
    learning walk's next step, or agreed at a meeting (an agenda item)."""

    __tablename__ = "partnership_action"
    __table_args__ = (
        # `/partnership actions <p> [overdue]` and "matters arising": open ones by due date.
        Index("ix_partnership_action_open", "partnership_id", "due_on", "id",
              sqlite_where=OPEN_ACTIONS, postgresql_where=OPEN_ACTIONS),
        # `mine`, the Home tab, the digest's "your actions", nudges: an owner's open ones.
        Index("ix_partnership_action_owner", "platform", "owner_user_id", "status"),
        Index("ix_partnership_action_partnership", "partnership_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    partnership_id: int = Field(foreign_key="partnership.id", ondelete="CASCADE")
    description: str = Field(max_length=1500)
    # The owner: a platform user (id when known, name to show), or a school.
    platform: str = Field(max_length=10)
    owner_user_id: str | None = Field(default=None, max_length=64)
    owner_name: str | None = Field(default=None, max_length=100)
    owner_school_id: int | None = Field(default=None, foreign_key="school.id",
                                        ondelete="SET NULL")
    due_on: date | None = Field(default=None)
    source: str = Field(default=ActionSource.TYPED.value, max_length=10)
    walk_id: int | None = Field(default=None, foreign_key="learning_walk.id",
                                ondelete="CASCADE", index=True)
    # The agenda item of the meeting it came from.
    agenda_item_id: int | None = Field(default=None, foreign_key="agenda_item.id",
                                       ondelete="SET NULL")
    status: str = Field(default=ActionStatus.OPEN.value, max_length=10)
    drop_reason: str | None = Field(default=None, max_length=300)
    created_by_user_id: str = Field(max_length=64)
    created_by_name: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=_created_at, sa_column=Column(UTCDateTime(),
                                                                                 nullable=False))
    closed_by_user_id: str | None = Field(default=None, max_length=64)
    closed_by_name: str | None = Field(default=None, max_length=100)
    closed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(),
                                                                       nullable=True))


class NudgeSetting(SQLModel, table=True):
    """Someone who has turned off the private nudges about their actions
    (`/partnership nudges off`); no row means nudges are on."""

    __tablename__ = "nudge_setting"
    __table_args__ = (UniqueConstraint("workspace", "platform", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace: str = Field(max_length=64)
    platform: str = Field(max_length=10)
    user_id: str = Field(max_length=64)
    nudges_off: bool = Field(default=False)
    changed_at: datetime = Field(default_factory=_created_at, sa_column=Column(UTCDateTime(),
                                                                                 nullable=False))


class PersonalChat(SQLModel, table=True):
    """Where the bot can write to one person privately on a platform that needs an address for
    it (Teams: the conversation reference of their personal chat with the bot, as JSON), kept
    from the last thing they sent there (or the app's personal install)."""

    __tablename__ = "personal_chat"
    __table_args__ = (UniqueConstraint("workspace", "platform", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    workspace: str = Field(max_length=64)
    platform: str = Field(max_length=10)
    user_id: str = Field(max_length=64)
    conversation_ref: str
    updated_at: datetime = Field(default_factory=_created_at, sa_column=Column(UTCDateTime(),
                                                                                 nullable=False))
