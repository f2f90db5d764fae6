"""The reminder outbox: idempotent planning, claiming with a lease, and recording the outcome.

Planning may run any number of times: ``upsert_planned`` inserts only rows whose
(assignment, occurrence, step, contact) is new. Dispatchers, possibly several processes,
``claim_due`` rows whose time has come; a claim holds a lease, so a dispatcher that dies leaves its
rows to be claimed again once the lease runs out. Each ``mark_*`` succeeds only while the row is
still claimed by the same worker, so a slow worker whose lease expired cannot overwrite the outcome
recorded by the worker that took over.

``claim_due`` commits (the claim must be visible to other workers before anything is sent, and
SQLite must not stay locked while a message travels) and returns ``ClaimedReminder`` snapshots:
plain immutable values read from the claiming statement itself, no ORM objects (a tick claims
tens of thousands of rows). The ``mark_*`` functions leave committing to the caller, like the
rest of storage. Every delivery outcome also leaves a ``DeliveryAttempt`` row.

A coordinator notice's JSON payload holds its ``text`` (``text_en`` when worded in both languages)
and, for a conversation message relayed through the outbox (``chat_notice``), the message's
``buttons`` and ``typed``: what a chat without buttons (Zalo) shows instead of them.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select, update

from domain.delivery import Button
from storage.id_lists import among
from storage.models import AttemptOutcome, DeliveryAttempt, Reminder, ReminderState

log = logging.getLogger(__name__)

# SQLite allows 32766 bound values per statement; a reminder row binds about twenty.
_INSERT_CHUNK = 500


@dataclass(frozen=True, slots=True)
class ClaimedReminder:
    """An outbox row as its claim left it: what a dispatcher reads to word and route it."""

    # What the claim wrote, the same for every row of a claim (so not read back).
    state: str
    claimed_by: str
    lease_until: datetime
    # The row's own columns, read back from the claiming statement.
    id: int
    assignment_id: int | None  # None: a coordinator notice, its text in ``payload``
    occurrence: str
    step: str
    audience: str
    contact_id: int
    due: date | None
    send_at: datetime
    attempts: int  # claims so far, this one included
    payload: dict[str, Any] | None


_WRITTEN_BY_THE_CLAIM = ("state", "claimed_by", "lease_until")
# The columns ``claim_due`` reads back, in the order of ``ClaimedReminder``'s fields.
_CLAIMED_COLUMNS = tuple(
    getattr(Reminder, name).expression
    for name in ClaimedReminder.__dataclass_fields__
    if name not in _WRITTEN_BY_THE_CLAIM
)


def upsert_planned(session: Session, rows: Sequence[Reminder]) -> int:
    """Insert the planned reminders that are not in the outbox yet; the number inserted.

    ``rows`` are unsaved ``Reminder`` objects; ids are ignored. Conflicts on either unique key
    (per assignment, or per coordinator notice when ``assignment_id`` is None) are skipped.
    """
    dialect = session.get_bind().dialect.name
    columns = [name for name in Reminder.model_fields if name != "id"]
    values = [{name: getattr(row, name) for name in columns} for row in rows]
    inserted = 0
    for start in range(0, len(values), _INSERT_CHUNK):
        chunk = values[start : start + _INSERT_CHUNK]
        if dialect == "postgresql":
            statement: Any = postgresql.insert(Reminder).values(chunk).on_conflict_do_nothing()
        elif dialect == "sqlite":
            statement = sqlite.insert(Reminder).values(chunk).on_conflict_do_nothing()
        else:
            raise NotImplementedError(f"upsert_planned does not support {dialect}")
        # SQLAlchemy keeps the row count of an INSERT only when asked to.
        result = session.connection().execute(
            statement, execution_options={"preserve_rowcount": True}
        )
        inserted += result.rowcount
    return inserted


def claimable(now: datetime) -> ColumnElement[bool]:
    """Rows a dispatcher may take at ``now``: due, and pending, retryable, or with a dead lease."""
    state = col(Reminder.state)
    next_attempt = col(Reminder.next_attempt_at)
    return and_(
        col(Reminder.send_at) <= now,
        or_(
            and_(
                state == ReminderState.PENDING,
                or_(next_attempt.is_(None), next_attempt <= now),
            ),
            and_(state == ReminderState.FAILED, next_attempt <= now),
            and_(state == ReminderState.CLAIMED, col(Reminder.lease_until) < now),
        ),
    )


def claim_due(
    session: Session, now: datetime, worker: str, lease: timedelta, limit: int
) -> list[ClaimedReminder]:
    """Claim up to ``limit`` due rows for ``worker`` until ``now + lease``, oldest first; commits.

    The rows come back as they were when claimed (``ClaimedReminder``, not bound to any
    session). A claim counts as an attempt (``attempts`` + 1), so a row that kills its
    dispatcher is not retried for ever.
    """
    if limit <= 0:
        return []
    bind = session.get_bind()
    oldest_first = (col(Reminder.send_at), col(Reminder.id))
    claim = {
        "state": ReminderState.CLAIMED.value,
        "claimed_by": worker,
        "lease_until": now + lease,
        "attempts": col(Reminder.attempts) + 1,
    }
    picked = select(Reminder.id).where(claimable(now)).order_by(*oldest_first).limit(limit)
    returning = bind.dialect.update_returning
    connection = session.connection()  # plain rows throughout: no ORM identity map, no objects
    ids: Sequence[int] = ()
    targets: ColumnElement[bool]
    if bind.dialect.name == "postgresql":
        # Rows another worker is claiming right now are locked: skip them rather than wait.
        ids = connection.execute(picked.with_for_update(skip_locked=True)).scalars().all()
        if not ids:
            session.commit()
            return []
        # The ids as one array parameter: thousands of placeholders cost more to prepare than
        # the UPDATE takes to run.
        (targets,) = among(session, col(Reminder.id), ids)
    elif returning:
        # SQLite has one writer at a time, so this single UPDATE is atomic; re-checking the
        # condition keeps it correct whatever snapshot the subquery saw.
        targets = and_(col(Reminder.id).in_(picked.scalar_subquery()), claimable(now))
    else:
        ids = connection.execute(picked).scalars().all()
        targets = and_(col(Reminder.id).in_(ids), claimable(now))

    statement = update(Reminder).where(targets).values(**claim)
    if returning:
        rows = connection.execute(statement.returning(*_CLAIMED_COLUMNS)).all()
    else:
        # SQLite before 3.35 has no RETURNING. The UPDATE holds the write lock until commit, so
        # the candidates now carrying this worker's exact lease are the ones it just claimed.
        connection.execute(statement)
        rows = connection.execute(
            select(*_CLAIMED_COLUMNS).where(
                col(Reminder.id).in_(ids),
                col(Reminder.state) == ReminderState.CLAIMED,
                col(Reminder.claimed_by) == worker,
                col(Reminder.lease_until) == now + lease,
            )
        ).all()
    state, lease_until = ReminderState.CLAIMED.value, now + lease
    claimed = [ClaimedReminder(state, worker, lease_until, *row) for row in rows]
    claimed.sort(key=lambda r: (r.send_at, r.id))
    session.commit()
    return claimed


def mark_sent(
    session: Session, reminder_id: int, worker: str, now: datetime, batch_id: str | None = None
) -> bool:
    """Record a delivery; False (and nothing changed) if ``worker`` no longer holds the claim."""
    values = {"state": ReminderState.SENT.value, "sent_at": now, "batch_id": batch_id}
    return _finish(session, reminder_id, worker, values, now, AttemptOutcome.SENT, None, batch_id)


def mark_failed(
    session: Session,
    reminder_id: int,
    worker: str,
    now: datetime,
    error: str,
    retry_at: datetime | None,
) -> bool:
    """Record a failed try: retried from ``retry_at``, or given up for good when it is None."""
    values = {
        "state": ReminderState.FAILED.value,
        "last_error": error,
        "next_attempt_at": retry_at,
    }
    outcome = AttemptOutcome.TRANSIENT if retry_at is not None else AttemptOutcome.PERMANENT
    return _finish(session, reminder_id, worker, values, now, outcome, error, None)


def mark_unreachable(
    session: Session, reminder_id: int, worker: str, now: datetime, error: str
) -> bool:
    """The chat refuses messages (bot blocked, user gone): stop trying this row."""
    values = {"state": ReminderState.UNREACHABLE.value, "last_error": error}
    return _finish(
        session, reminder_id, worker, values, now, AttemptOutcome.UNREACHABLE, error, None
    )


def mark_skipped(
    session: Session, reminder_id: int, worker: str, now: datetime, reason: str
) -> bool:
    """Nothing was sent because it is no longer worth sending (task done, contact gone)."""
    values = {"state": ReminderState.SKIPPED.value, "skip_reason": reason}
    return _finish(session, reminder_id, worker, values, now, None, None, None)


def _finish(
    session: Session,
    reminder_id: int,
    worker: str,
    values: dict[str, Any],
    now: datetime,
    outcome: AttemptOutcome | None,
    error: str | None,
    batch_id: str | None,
) -> bool:
    result = session.exec(
        update(Reminder)
        .where(
            col(Reminder.id) == reminder_id,
            col(Reminder.state) == ReminderState.CLAIMED,
            col(Reminder.claimed_by) == worker,
        )
        .values(lease_until=None, **values),
        execution_options={"synchronize_session": "fetch"},
    )
    if result.rowcount != 1:
        return False
    if outcome is not None:
        contact_id = session.exec(
            select(Reminder.contact_id).where(Reminder.id == reminder_id)
        ).one()
        session.add(
            DeliveryAttempt(
                reminder_id=reminder_id,
                contact_id=contact_id,
                at=now,
                outcome=outcome.value,
                error=error,
                batch_id=batch_id,
            )
        )
        session.flush()
    return True


def chat_notice(
    text: str, buttons: Sequence[Sequence[Button]] = (), typed: str = ""
) -> dict[str, Any]:
    """The payload of a conversation message relayed through the outbox, buttons included."""
    payload: dict[str, Any] = {"kind": "chat", "text": text}
    rows = [[[button.label, button.data] for button in row] for row in buttons if row]
    if rows:
        payload["buttons"] = rows
    if typed:
        payload["typed"] = typed
    return payload


def notice_buttons(payload: dict[str, Any] | None) -> tuple[tuple[Button, ...], ...]:
    """The buttons ``chat_notice`` stored; a malformed button is left out (and logged), never
    allowed to stop the notice itself."""
    rows: list[tuple[Button, ...]] = []
    stored = (payload or {}).get("buttons")
    for row in stored if isinstance(stored, list) else ():
        kept: list[Button] = []
        for button in row if isinstance(row, list) else ():
            try:
                label, data = button
                kept.append(Button(str(label), str(data)))
            except (TypeError, ValueError):
                log.warning("notice button %r left out: not a (label, data) pair", button)
        if kept:
            rows.append(tuple(kept))
    return tuple(rows)
