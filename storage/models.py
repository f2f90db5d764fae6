"""The tables nhacviec keeps, as SQLModel classes, and the closed sets of values their columns take.

This file must not use ``from __future__ import annotations``: SQLModel reads the annotations at
class creation to build the columns (fastapi/sqlmodel issue 196).

Conventions:
- every datetime column is ``UTCDateTime`` (aware in, aware UTC out); nothing here reads the clock,
  so ``created_at`` and friends are always given by the caller;
- rows are deactivated (``active = False``), never deleted, so progress and reminders keep their
  history when a plan is re-imported or a contact leaves;
- the value sets below are ``StrEnum``s stored as plain strings and guarded by CHECK constraints;
  adding a value therefore needs a migration that rewrites the constraint;
- agency codes are plain strings without foreign keys (a plan may name an agency the directory
  learns later); group membership is the exception, as the directory owns both sides.
"""

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Index, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from domain.agencies import AgencyLevel
from domain.deadlines import DeadlineKind, Frequency
from domain.plan_import import Role
from storage.types import UTCDateTime

# Named constraints let SQLite batch migrations drop or alter them later.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Channel(StrEnum):
    TELEGRAM = "telegram"
    ZALO = "zalo"
    CONSOLE = "console"


class ContactRole(StrEnum):
    FOCAL = "focal"  # cán bộ đầu mối: receives the reminders, replies with progress
    HEAD = "head"  # thủ trưởng: receives escalations
    COORDINATOR = "coordinator"  # follows the whole plan, confirms or returns completions


class Language(StrEnum):
    VI = "vi"
    EN = "en"


class ProgressKind(StrEnum):
    DONE = "done"
    PERCENT = "percent"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    EXTENSION = "extension"
    NOT_STARTED = "not_started"
    NOTE = "note"


class Review(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    RETURNED = "returned"


class Disposition(StrEnum):
    """What became of an incoming text (``inbound_message.disposition``)."""

    REPORT = "report"  # it became a progress report
    NOTE = "note"  # it became a progress report of kind "note" (text the parser did not read)
    COMMAND = "command"  # a command, or the number of a task picked from a list
    JOIN = "join"  # an invite code, sent to join
    PENDING = "pending"  # held while the bot asks which task it is about
    UNBOUND = "unbound"  # kept, with no task to attach it to: coordinators see it (/tinnhan)
    STRANGER = "stranger"  # from a chat bound to no contact: kept for audit, never shown


class Audience(StrEnum):
    AGENCY = "agency"
    HEAD = "head"
    COORDINATOR = "coordinator"


class ReminderState(StrEnum):
    PENDING = "pending"  # planned, waiting for send_at
    CLAIMED = "claimed"  # a dispatcher holds it until lease_until
    SENT = "sent"
    FAILED = "failed"  # retried at next_attempt_at; none means given up
    SKIPPED = "skipped"  # no longer worth sending (task done, contact gone): see skip_reason
    UNREACHABLE = "unreachable"  # the chat refuses messages (bot blocked, user gone)


class AttemptOutcome(StrEnum):
    SENT = "sent"
    TRANSIENT = "transient"
    PERMANENT = "permanent"
    UNREACHABLE = "unreachable"


def _one_of(column: str, values: type[StrEnum], *, nullable: bool = False) -> CheckConstraint:
    listed = ", ".join(f"'{v.value}'" for v in values)
    condition = f"{column} IN ({listed})"
    if nullable:
        condition = f"{column} IS NULL OR {condition}"
    return CheckConstraint(condition, name=column)


class Plan(SQLModel, table=True):
    __tablename__ = "plan"

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(unique=True)  # "289/KH-UBND"
    issued_on: date | None = None
    issuer: str | None = None
    title: str | None = None
    source: str = ""  # the file it was imported from
    coordinator: str | None = None  # agency code the reports go to
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)


class AgencyRow(SQLModel, table=True):
    __tablename__ = "agency"
    __table_args__ = (_one_of("level", AgencyLevel),)

    code: str = Field(primary_key=True)
    name: str
    level: str
    aliases: list[str] = Field(default_factory=list, sa_type=JSON)
    valid_from: date | None = None
    valid_until: date | None = None
    successor: str | None = None
    note: str = ""  # the directory's remark ("sáp nhập từ 01/3/2025 ...")
    position: int = 0  # order in the directory file, kept so a loaded directory reads the same


class GroupRow(SQLModel, table=True):
    __tablename__ = "agency_group"

    code: str = Field(primary_key=True)
    name: str
    aliases: list[str] = Field(default_factory=list, sa_type=JSON)
    note: str = ""
    position: int = 0


class GroupMember(SQLModel, table=True):
    __tablename__ = "group_member"

    group_code: str = Field(foreign_key="agency_group.code", primary_key=True)
    agency_code: str = Field(foreign_key="agency.code", primary_key=True, index=True)
    position: int = 0


class Task(SQLModel, table=True):
    __tablename__ = "task"
    __table_args__ = (
        UniqueConstraint("plan_id", "number"),
        _one_of("deadline_kind", DeadlineKind),
        _one_of("frequency", Frequency, nullable=True),
        _one_of("soft_kind", DeadlineKind, nullable=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    number: str  # "1", "2.1"; the reporting duty is "BC"
    title: str
    section: str | None = None
    position: int = 0  # order in the plan's table
    is_report_duty: bool = False
    product: str = ""
    note: str = ""
    lead_text: str = ""
    support_text: str = ""
    location: str = ""  # where the row is in the file, for messages
    # domain.deadlines.Deadline, flattened; storage/mapping.py converts both ways.
    deadline_kind: str = DeadlineKind.UNKNOWN.value
    deadline_text: str = ""
    due: date | None = None
    start: date | None = None
    until: date | None = None
    frequency: str | None = None
    anchor_month: int | None = None
    anchor_day: int | None = None
    precondition: str | None = None
    soft_kind: str | None = None
    precondition_met_on: date | None = None  # set by a coordinator: the condition came true
    active: bool = True


class Assignment(SQLModel, table=True):
    __tablename__ = "assignment"
    __table_args__ = (
        UniqueConstraint("task_id", "agency_code", "role"),
        _one_of("role", Role),
    )

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id", index=True)
    agency_code: str = Field(index=True)
    role: str
    via_group: str | None = None  # group code when the plan named a group ("các sở, ban, ngành")
    active: bool = True


class Contact(SQLModel, table=True):
    __tablename__ = "contact"
    __table_args__ = (
        UniqueConstraint("channel", "chat_id", "agency_code", "role"),
        _one_of("channel", Channel),
        _one_of("role", ContactRole),
        _one_of("language", Language),
    )

    id: int | None = Field(default=None, primary_key=True)
    agency_code: str = Field(index=True)
    channel: str
    chat_id: str
    user_id: str | None = None
    display_name: str = ""
    role: str = ContactRole.FOCAL.value
    language: str = Language.VI.value
    person_key: str | None = Field(default=None, index=True)  # one person on several channels
    preference: int = 0  # a person's channels are tried smallest first
    unreachable: bool = False
    unreachable_reason: str | None = None
    last_interaction_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(sa_type=UTCDateTime)
    active: bool = True


class ProgressReport(SQLModel, table=True):
    __tablename__ = "progress_report"
    __table_args__ = (
        Index(None, "assignment_id", "occurrence"),
        _one_of("kind", ProgressKind),
        _one_of("review", Review, nullable=True),
        CheckConstraint("percent IS NULL OR (percent >= 0 AND percent <= 100)", name="percent"),
    )

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id")
    occurrence: str = ""  # the due date it answers ("2023-12-31"), "" for undated tasks
    kind: str
    percent: int | None = None
    text: str = ""
    evidence: str | None = None  # "QĐ số 12/QĐ-UBND"
    reason: str | None = None  # why blocked / why an extension is asked
    requested_until: date | None = None
    reported_at: datetime = Field(sa_type=UTCDateTime)
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    review: str | None = None
    reviewed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    reviewed_by: int | None = Field(default=None, foreign_key="contact.id")


class Reminder(SQLModel, table=True):
    """One message to send: the outbox. Planning inserts, dispatchers claim with a lease."""

    __tablename__ = "reminder"
    __table_args__ = (
        # Planning runs again and again; these make it idempotent.
        UniqueConstraint("assignment_id", "occurrence", "step", "contact_id"),
        # NULLs never collide in a unique constraint, so coordinator notices get their own.
        Index(
            "uq_reminder_notice_occurrence_step_contact_id",
            "occurrence",
            "step",
            "contact_id",
            unique=True,
            sqlite_where=text("assignment_id IS NULL"),
            postgresql_where=text("assignment_id IS NULL"),
        ),
        Index(None, "state", "next_attempt_at"),
        Index(None, "state", "send_at"),
        _one_of("audience", Audience),
        _one_of("state", ReminderState),
    )

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int | None = Field(default=None, foreign_key="assignment.id")
    occurrence: str = ""
    step: str  # "before:30", "before:7", "due", "overdue:1", "escalation", "checkin", "notice"
    audience: str = Audience.AGENCY.value
    contact_id: int = Field(foreign_key="contact.id")
    due: date | None = None
    send_at: datetime = Field(sa_type=UTCDateTime)
    state: str = ReminderState.PENDING.value
    attempts: int = 0  # claims so far: a row that crashes its sender still counts
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    claimed_by: str | None = None
    last_error: str | None = None
    skip_reason: str | None = None
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    batch_id: str | None = None  # the digest message it went out in
    payload: dict[str, Any] | None = Field(default=None, sa_type=JSON)
    created_at: datetime = Field(sa_type=UTCDateTime)


class DeliveryAttempt(SQLModel, table=True):
    """Audit trail: one row per try to deliver a reminder."""

    __tablename__ = "delivery_attempt"
    __table_args__ = (_one_of("outcome", AttemptOutcome),)

    id: int | None = Field(default=None, primary_key=True)
    reminder_id: int = Field(foreign_key="reminder.id", index=True)
    contact_id: int = Field(foreign_key="contact.id")
    at: datetime = Field(sa_type=UTCDateTime)
    outcome: str
    error: str | None = None
    batch_id: str | None = None


class Invite(SQLModel, table=True):
    __tablename__ = "invite"
    __table_args__ = (_one_of("role", ContactRole),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True)
    agency_code: str
    role: str = ContactRole.FOCAL.value
    created_at: datetime = Field(sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    used_by_chat: str | None = None


class ChatThrottle(SQLModel, table=True):
    __tablename__ = "chat_throttle"
    __table_args__ = (_one_of("channel", Channel),)

    channel: str = Field(primary_key=True)
    chat_id: str = Field(primary_key=True)
    failures: int = 0
    blocked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class KeyValue(SQLModel, table=True):
    """Small settings the program itself changes, such as the rotating Zalo access token."""

    __tablename__ = "key_value"

    key: str = Field(primary_key=True)
    value: str
    updated_at: datetime = Field(sa_type=UTCDateTime)


class SentMessage(SQLModel, table=True):
    """A chat message the dispatcher sent, and the items it carried.

    A person who answers by replying to a digest is bound to its items through this row.
    ``items`` is a list of ``[assignment_id, occurrence]`` pairs in the order they were shown.
    """

    __tablename__ = "sent_message"
    __table_args__ = (
        UniqueConstraint("channel", "chat_id", "message_id"),
        _one_of("channel", Channel),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str
    chat_id: str
    message_id: str
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    batch_id: str | None = Field(default=None, index=True)
    items: list[Any] = Field(default_factory=list, sa_type=JSON)
    sent_at: datetime = Field(sa_type=UTCDateTime)


class InboundEvent(SQLModel, table=True):
    """A webhook event already taken in, so a platform's redelivery is processed only once.

    ``event_id`` is the platform's own id (Zalo's ``msg_id``, or a key built from the event when it
    has none). Rows are only useful for as long as a platform may redeliver: prune old ones.
    """

    __tablename__ = "inbound_event"
    __table_args__ = (
        UniqueConstraint("channel", "event_id"),
        _one_of("channel", Channel),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str
    event_id: str
    received_at: datetime = Field(sa_type=UTCDateTime, index=True)


class InboundMessage(SQLModel, table=True):
    """Every text a chat sent us, and what became of it, so that nothing a person writes is lost.

    The conversation stores the row before it reads the text and updates ``disposition`` as it
    goes; a report made from it points back through ``progress_report_id``. ``contact_id`` is the
    chat's (first) contact when the chat is bound, None for a stranger.
    """

    __tablename__ = "inbound_message"
    __table_args__ = (
        Index(None, "channel", "chat_id"),
        Index(None, "disposition", "received_at"),
        _one_of("channel", Channel),
        _one_of("disposition", Disposition),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str
    chat_id: str
    user_id: str | None = None
    contact_id: int | None = Field(default=None, foreign_key="contact.id")
    text: str
    received_at: datetime = Field(sa_type=UTCDateTime)
    disposition: str
    progress_report_id: int | None = Field(default=None, foreign_key="progress_report.id")


class StatusChange(SQLModel, table=True):
    """A change that may alter status lines, written by database triggers, never by our code.

    Migration 0002 installs triggers on ``plan``, ``task``, ``assignment`` and ``progress_report``:
    every write to them, from any process or tool, adds a row naming the task (or the plan) whose
    lines may differ; a row naming neither means "everything". ``storage.status_cache`` reads the
    rows after the last one it saw. ``txid`` is the writing transaction's id on PostgreSQL (None on
    SQLite), so a reader also finds rows of transactions that committed after later ones did.
    ``seq`` is never reused (AUTOINCREMENT on SQLite), so a reader notices a pruned log.
    """

    __tablename__ = "status_change"
    __table_args__ = (Index(None, "txid", "task_id"), {"sqlite_autoincrement": True})

    seq: int | None = Field(default=None, primary_key=True)
    task_id: int | None = None
    plan_id: int | None = None
    txid: int | None = Field(default=None, sa_type=BigInteger)
