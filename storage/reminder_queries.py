"""The reads and writes around the reminder outbox that storage/outbox.py does not cover.

Planning reads every active assignment as a ``domain.reminders.AssignmentView`` (with the
occurrences already reported done) and remembers when it last ran; the dispatcher reads what it
needs to word a digest, records each chat message it sent (so a reply can be bound to its items),
hands back claims it could not use yet, and queues coordinator notices. Nothing here commits.
"""

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    case,
    cast,
    func,
    insert,
    literal,
    or_,
)
from sqlalchemy import select as plain_select  # any number of columns, unlike sqlmodel's
from sqlalchemy.dialects import sqlite
from sqlmodel import Session, col, select, update

from domain.deadlines import Deadline, DeadlineKind
from domain.occurrences import occurrences
from domain.plan_import import Role
from domain.reminders import PRECONDITION, AssignmentView
from storage.id_lists import among
from storage.mapping import deadline_of
from storage.models import (
    Assignment,
    AttemptOutcome,
    Audience,
    DeliveryAttempt,
    KeyValue,
    Plan,
    ProgressKind,
    ProgressReport,
    Reminder,
    ReminderState,
    Review,
    SentMessage,
    Task,
)
from storage.outbox import upsert_planned
from storage.types import UTCDateTime

LAST_PLANNING_KEY = "scheduler.last_planning"
PLANNING_REQUEST_KEY = "scheduler.planning_requested"
NOTICE_STEP = "notice"


# --- planning ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanningInput:
    views: list[AssignmentView]
    coordinators: dict[str, str | None]  # plan number -> its coordinating agency's code


def _counts_as_done() -> ColumnElement[bool]:
    """A "done" report counts until a coordinator returns it (pending review stops the nagging:
    the agency said it is done; a returned one means it is not)."""
    review = col(ProgressReport.review)
    return and_(
        col(ProgressReport.kind) == ProgressKind.DONE.value,
        or_(review.is_(None), review != Review.RETURNED.value),
    )


_SERIES = frozenset({DeadlineKind.RECURRING, DeadlineKind.CONTINUOUS})
_FAR_PAST, _FAR_AHEAD = date(1900, 1, 1), date(2200, 12, 31)


def single_occurrence(kind: DeadlineKind, soft_kind: DeadlineKind | None) -> bool:
    """Whether a deadline falls due once (a date, a period's end, a range, or a condition that
    leads to one of those): then any "done" report of the assignment finishes it, whatever
    occurrence key the report carries (as ``storage.status_lines`` counts it too)."""
    if kind is DeadlineKind.CONDITIONAL:
        return soft_kind not in _SERIES
    return kind not in _SERIES and kind is not DeadlineKind.UNKNOWN


def _done_keys(
    reported: set[str], deadline: Deadline, plan_date: date | None, met_on: date | None
) -> frozenset[str]:
    if not single_occurrence(deadline.kind, deadline.soft_kind):
        return frozenset(reported)
    every = occurrences(
        deadline, _FAR_PAST, _FAR_AHEAD, plan_date=plan_date, precondition_met_on=met_on
    )
    return frozenset(reported | {o.key for o in every} | {PRECONDITION})


def planning_input(session: Session) -> PlanningInput:
    """Every active assignment of every active task, as the planner sees it."""
    tasks: dict[int, tuple[str, date | None, Task, Deadline]] = {}
    coordinators: dict[str, str | None] = {}
    for task, number, issued_on, coordinator in session.exec(
        select(Task, col(Plan.number), col(Plan.issued_on), col(Plan.coordinator))
        .join(Plan, col(Plan.id) == col(Task.plan_id))
        .where(col(Task.active).is_(True))
    ):
        if task.id is not None:
            tasks[task.id] = (number, issued_on, task, deadline_of(task))
        coordinators[number] = coordinator

    done: dict[int, set[str]] = defaultdict(set)
    for reported_id, occurrence in session.exec(
        select(ProgressReport.assignment_id, ProgressReport.occurrence).where(_counts_as_done())
    ):
        done[reported_id].add(occurrence)

    views: list[AssignmentView] = []
    for assignment_id, task_id, agency, role in session.exec(
        select(Assignment.id, Assignment.task_id, Assignment.agency_code, Assignment.role)
        .where(col(Assignment.active).is_(True))
        .order_by(col(Assignment.id))
    ):
        found = tasks.get(task_id)
        if found is None or assignment_id is None:
            continue  # the task was deactivated by a re-import
        number, issued_on, task, deadline = found
        reported = done.get(assignment_id)
        views.append(
            AssignmentView(
                assignment_id=assignment_id,
                agency=agency,
                role=Role(role),
                plan=number,
                task=task.number,
                title=task.title,
                deadline=deadline,
                plan_date=issued_on,
                precondition_met_on=task.precondition_met_on,
                done=frozenset()
                if reported is None
                else _done_keys(reported, deadline, issued_on, task.precondition_met_on),
            )
        )
    return PlanningInput(views, coordinators)


def last_planning(session: Session) -> datetime | None:
    row = session.get(KeyValue, LAST_PLANNING_KEY)
    return None if row is None else datetime.fromisoformat(row.value)


def set_last_planning(session: Session, now: datetime) -> None:
    row = session.get(KeyValue, LAST_PLANNING_KEY)
    if row is None:
        session.add(KeyValue(key=LAST_PLANNING_KEY, value=now.isoformat(), updated_at=now))
    elif datetime.fromisoformat(row.value) < now:  # a slower, older run must not move it back
        row.value = now.isoformat()
        row.updated_at = now
    session.flush()


def request_planning(session: Session, now: datetime) -> None:
    """Ask the running service, from another process (an import), to plan soon."""
    row = session.get(KeyValue, PLANNING_REQUEST_KEY)
    if row is None:
        session.add(KeyValue(key=PLANNING_REQUEST_KEY, value=now.isoformat(), updated_at=now))
    else:
        row.value = now.isoformat()
        row.updated_at = now
    session.flush()


def planning_requested(session: Session) -> bool:
    """Whether a planning request came after the last planning run."""
    row = session.get(KeyValue, PLANNING_REQUEST_KEY)
    if row is None:
        return False
    last = last_planning(session)
    return last is None or datetime.fromisoformat(row.value) > last


OutboxKey = tuple[int, str, str, int]  # assignment, occurrence, step, contact


def outbox_keys(session: Session, first: datetime, last: datetime) -> set[OutboxKey]:
    """The keys of the reminders already planned to go out between ``first`` and ``last``.

    Planning inserts only what is not among them (the unique key still guards against a planner
    running at the same time): re-planning a window of thousands of rows then costs one read.
    """
    send_at = col(Reminder.send_at)
    return {
        (assignment_id, occurrence, step, contact_id)
        for assignment_id, occurrence, step, contact_id in session.exec(
            select(
                col(Reminder.assignment_id),
                col(Reminder.occurrence),
                col(Reminder.step),
                col(Reminder.contact_id),
            ).where(send_at >= first, send_at <= last, col(Reminder.assignment_id).is_not(None))
        )
        if assignment_id is not None
    }


PLANNED_DEFAULTS: dict[str, Any] = {
    "state": ReminderState.PENDING.value,
    "attempts": 0,
    "next_attempt_at": None,
    "lease_until": None,
    "claimed_by": None,
    "last_error": None,
    "skip_reason": None,
    "sent_at": None,
    "batch_id": None,
}


_UNNEST_CHUNK = 20_000
# PostgreSQL: one statement per chunk, its columns as arrays. A multi-row VALUES list is parsed
# again by the driver for every batch (thousands of placeholders); nine arrays are not.
_INSERT_UNNEST = """
INSERT INTO reminder (assignment_id, occurrence, step, audience, contact_id, due, send_at,
                      state, attempts, payload, created_at)
SELECT a, o, s, au, c, d, sa, 'pending', 0, p::json, ca
FROM unnest(%(a)s::int[], %(o)s::text[], %(s)s::text[], %(au)s::text[], %(c)s::int[],
            %(d)s::date[], %(sa)s::timestamptz[], %(p)s::text[], %(ca)s::timestamptz[])
     AS planned(a, o, s, au, c, d, sa, p, ca)
ON CONFLICT DO NOTHING
RETURNING id
"""


def _aware_moment(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()} refused: give it a time zone")
    return value


def insert_planned(session: Session, rows: Sequence[Mapping[str, Any]]) -> int:
    """``storage.outbox.upsert_planned`` for plain column values: the same conflict rule (a row
    whose key is in the outbox already is skipped) without a model object per row, in statements
    that stay fast for the 100,000 rows of a province's first planning. Each mapping holds
    assignment_id, occurrence, step, audience, contact_id, due, send_at, payload, created_at; the
    other columns take their planned values. Returns the number inserted."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect
    if dialect.name == "postgresql":
        inserted = 0
        connection = session.connection()
        for start in range(0, len(rows), _UNNEST_CHUNK):
            chunk = rows[start : start + _UNNEST_CHUNK]
            columns = {
                "a": [r["assignment_id"] for r in chunk],
                "o": [r["occurrence"] for r in chunk],
                "s": [r["step"] for r in chunk],
                "au": [r["audience"] for r in chunk],
                "c": [r["contact_id"] for r in chunk],
                "d": [r["due"] for r in chunk],
                "sa": [_aware_moment(r["send_at"]) for r in chunk],
                "p": [None if r["payload"] is None else json.dumps(r["payload"]) for r in chunk],
                "ca": [_aware_moment(r["created_at"]) for r in chunk],
            }
            inserted += len(connection.exec_driver_sql(_INSERT_UNNEST, columns).all())
        return inserted
    values = [{**PLANNED_DEFAULTS, **row} for row in rows]
    if dialect.name != "sqlite" or not dialect.insert_executemany_returning:
        return upsert_planned(session, [Reminder(**row) for row in values])
    # RETURNING counts the rows actually inserted (a skipped conflict returns nothing), where
    # the row count of a batched INSERT is not reliable across drivers.
    result = session.connection().execute(
        sqlite.insert(Reminder).on_conflict_do_nothing().returning(col(Reminder.id)), values
    )
    return len(result.all())


# --- dispatching ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AssignmentDetail:
    """What a digest line says about the assignment a reminder row belongs to."""

    assignment_id: int
    agency_code: str
    role: Role
    plan: str
    coordinator: str | None
    task: str
    title: str
    deadline_text: str
    deadline_kind: DeadlineKind
    single: bool  # falls due once: any "done" report finishes it (see single_occurrence)
    precondition_met_on: date | None
    active: bool  # both the assignment and its task are still in the plan


# Looked up by value, once per row of a tick: a dict is several times faster than Enum(value).
_ROLES = {role.value: role for role in Role}
_DEADLINE_KINDS = {kind.value: kind for kind in DeadlineKind}


def assignment_details(session: Session, ids: Iterable[int]) -> dict[int, AssignmentDetail]:
    found: dict[int, AssignmentDetail] = {}
    connection = session.connection()  # plain rows: a tick may read thousands of them
    for wanted in among(session, col(Assignment.id), ids):
        rows = connection.execute(
            plain_select(
                col(Assignment.id),
                col(Assignment.agency_code),
                col(Assignment.role),
                col(Assignment.active),
                col(Plan.number),
                col(Plan.coordinator),
                col(Task.number),
                col(Task.title),
                col(Task.deadline_text),
                col(Task.deadline_kind),
                col(Task.soft_kind),
                col(Task.precondition_met_on),
                col(Task.active),
            )
            .join(Task, col(Task.id) == col(Assignment.task_id))
            .join(Plan, col(Plan.id) == col(Task.plan_id))
            .where(wanted)
        )
        for row in rows:
            aid, agency, role, active, plan, coordinator, task, title, text = row[:9]
            kind, soft, met, live = row[9:]
            deadline_kind = _DEADLINE_KINDS[kind]
            found[aid] = AssignmentDetail(
                assignment_id=aid,
                agency_code=agency,
                role=_ROLES[role],
                plan=plan,
                coordinator=coordinator,
                task=task,
                title=title,
                deadline_text=text,
                deadline_kind=deadline_kind,
                single=single_occurrence(deadline_kind, _DEADLINE_KINDS[soft] if soft else None),
                precondition_met_on=met,
                active=active and live,
            )
    return found


def done_occurrences(session: Session, assignment_ids: Iterable[int]) -> dict[int, set[str]]:
    """The occurrence keys reported done, per assignment among ``assignment_ids``."""
    found: dict[int, set[str]] = defaultdict(set)
    connection = session.connection()
    for wanted in among(session, col(ProgressReport.assignment_id), assignment_ids):
        for assignment_id, occurrence in connection.execute(
            plain_select(col(ProgressReport.assignment_id), col(ProgressReport.occurrence)).where(
                wanted, _counts_as_done()
            )
        ):
            found[assignment_id].add(occurrence)
    return dict(found)


@dataclass(frozen=True, slots=True)
class SentRecord:
    """A chat message the dispatcher sent, as ``record_sent_messages`` stores it."""

    channel: str
    chat_id: str
    message_id: str
    contact_id: int | None
    batch_id: str | None
    items: list[list[Any]]  # [assignment_id, occurrence] of the items shown, in their order
    sent_at: datetime


# PostgreSQL: the messages as arrays, one statement (as _INSERT_UNNEST, for the same reason).
_SENT_UNNEST = """
INSERT INTO sent_message (channel, chat_id, message_id, contact_id, batch_id, items, sent_at)
SELECT ch, ci, mi, co, b, i::json, sa
FROM unnest(%(ch)s::text[], %(ci)s::text[], %(mi)s::text[], %(co)s::int[], %(b)s::text[],
            %(i)s::text[], %(sa)s::timestamptz[]) AS sent(ch, ci, mi, co, b, i, sa)
ON CONFLICT (channel, chat_id, message_id) DO UPDATE
SET contact_id = excluded.contact_id, batch_id = excluded.batch_id, items = excluded.items,
    sent_at = excluded.sent_at
"""
_SENT_REPLACED = ("contact_id", "batch_id", "items", "sent_at")


def record_sent_messages(session: Session, messages: Sequence[SentRecord]) -> None:
    """Remember messages and the items each showed, in order (one statement for them all).

    A message id seen before in that chat replaces the old row: only channels whose ids restart
    (the console, after a restart) reuse them, and the newer message is the one a reply means.
    """
    latest = {(m.channel, m.chat_id, m.message_id): m for m in messages}  # the last one wins
    if not latest:
        return
    connection = session.connection()
    dialect = connection.dialect.name
    if dialect == "postgresql":
        sent = list(latest.values())
        columns = {
            "ch": [m.channel for m in sent],
            "ci": [m.chat_id for m in sent],
            "mi": [m.message_id for m in sent],
            "co": [m.contact_id for m in sent],
            "b": [m.batch_id for m in sent],
            "i": [json.dumps(m.items) for m in sent],
            "sa": [_aware_moment(m.sent_at) for m in sent],
        }
        connection.exec_driver_sql(_SENT_UNNEST, columns)
        return
    if dialect != "sqlite":
        raise NotImplementedError(f"record_sent_messages does not support {dialect}")
    statement = sqlite.insert(SentMessage)
    upsert = statement.on_conflict_do_update(
        index_elements=["channel", "chat_id", "message_id"],
        set_={name: statement.excluded[name] for name in _SENT_REPLACED},
    )
    fields = SentRecord.__dataclass_fields__
    connection.execute(
        upsert, [{name: getattr(m, name) for name in fields} for m in latest.values()]
    )


def mark_sent_many(
    session: Session, ids: Sequence[int], worker: str, now: datetime, batch_prefix: str
) -> list[tuple[int, int]]:
    """``storage.outbox.mark_sent`` for the rows of many messages at once: the same guard (only
    rows ``worker`` still holds) and audit rows, in one UPDATE and one INSERT ... SELECT (per few
    thousand rows on SQLite). Each row's batch id is ``batch_prefix`` followed by its contact's
    id: one batch per person and dispatch, as the ``SentMessage`` rows of that person's digest
    say. ``batch_prefix`` must be new to this call: the audit rows are those of the rows it marked.
    Returns the (id, contact) of the rows marked.
    """
    batch = literal(batch_prefix, String).concat(cast(col(Reminder.contact_id), String))
    connection = session.connection()
    returning = connection.dialect.update_returning
    marked: list[tuple[int, int]] = []
    for wanted in among(session, col(Reminder.id), ids):
        held = and_(
            wanted,
            col(Reminder.state) == ReminderState.CLAIMED.value,
            col(Reminder.claimed_by) == worker,
        )
        statement = (
            update(Reminder)
            .where(held)
            .values(state=ReminderState.SENT.value, sent_at=now, batch_id=batch, lease_until=None)
        )
        if returning:
            found = connection.execute(
                statement.returning(col(Reminder.id), col(Reminder.contact_id))
            )
            marked.extend((row_id, contact_id) for row_id, contact_id in found)
        else:  # SQLite before 3.35: read, then update under the same guard
            found = connection.execute(
                plain_select(col(Reminder.id), col(Reminder.contact_id)).where(held)
            )
            marked.extend((row_id, contact_id) for row_id, contact_id in found)
            connection.execute(statement)
        # The audit rows, written by the database from the rows just marked: no row's values
        # travel through Python again.
        just_marked = plain_select(
            col(Reminder.id),
            col(Reminder.contact_id),
            literal(now, UTCDateTime()),
            literal(AttemptOutcome.SENT.value, String),
            col(Reminder.batch_id),
        ).where(
            wanted, col(Reminder.state) == ReminderState.SENT.value, col(Reminder.batch_id) == batch
        )
        connection.execute(
            insert(DeliveryAttempt).from_select(
                ["reminder_id", "contact_id", "at", "outcome", "batch_id"], just_marked
            )
        )
    return marked


def release_claims(session: Session, ids: Sequence[int], worker: str, retry_at: datetime) -> int:
    """Give claimed rows back untouched, to be claimed again from ``retry_at``.

    For rows that were never tried (their channel is paused): the claim does not count as an
    attempt. Only rows ``worker`` still holds are released; the number released.
    """
    attempts = col(Reminder.attempts)
    released = 0
    for wanted in among(session, col(Reminder.id), ids):
        result = session.exec(
            update(Reminder)
            .where(
                wanted,
                col(Reminder.state) == ReminderState.CLAIMED,
                col(Reminder.claimed_by) == worker,
            )
            .values(
                state=ReminderState.PENDING.value,
                claimed_by=None,
                lease_until=None,
                next_attempt_at=retry_at,
                attempts=case((attempts > 0, attempts - 1), else_=0),
            ),
            execution_options={"synchronize_session": False},
        )
        released += result.rowcount
    return released


def next_due(session: Session) -> datetime | None:
    """The earliest moment a row becomes claimable, or None when nothing is waiting.

    A clock driving the dispatcher (a simulation, a test) jumps straight there.
    """
    send_at, next_attempt = col(Reminder.send_at), col(Reminder.next_attempt_at)
    later = case((next_attempt > send_at, next_attempt), else_=send_at)
    state = col(Reminder.state)
    moments: list[datetime | None] = [
        session.exec(select(func.min(later)).where(state == ReminderState.PENDING)).one(),
        session.exec(
            select(func.min(later)).where(state == ReminderState.FAILED, next_attempt.is_not(None))
        ).one(),
        session.exec(
            select(func.min(col(Reminder.lease_until))).where(state == ReminderState.CLAIMED)
        ).one(),
    ]
    known = [_aware(m) for m in moments if m is not None]
    return min(known) if known else None


def _aware(moment: Any) -> datetime:
    # min() over a CASE loses the column type: SQLite hands back text, PostgreSQL a timestamptz.
    value = moment if isinstance(moment, datetime) else datetime.fromisoformat(str(moment))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def queue_notices(
    session: Session,
    *,
    key: str,
    contact_ids: Iterable[int],
    payload: dict[str, Any],
    now: datetime,
) -> int:
    """Queue one coordinator notice per contact, due now; the number actually queued.

    ``key`` names the event (stored as the occurrence): the same key for the same contact is
    queued once, so a notice repeated by two dispatchers or a retry reaches each person once.
    """
    rows = [
        Reminder(
            assignment_id=None,
            occurrence=key,
            step=NOTICE_STEP,
            audience=Audience.COORDINATOR.value,
            contact_id=contact_id,
            due=None,
            send_at=now,
            payload=payload,
            created_at=now,
        )
        for contact_id in sorted(set(contact_ids))
    ]
    return upsert_planned(session, rows) if rows else 0
