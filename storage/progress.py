"""Progress as the conversation needs it: assignments with their reports, reviews, digest items.

``assignment_refs`` names assignments the way a chat talks about them (plan, task number, title,
deadline); where they stand comes from ``storage.status_lines``, the same rules as every report.
A review of a reported completion is decided with a conditional UPDATE, so two
coordinators pressing "confirm" and "return" at once cannot both win. Nothing here commits.

Every message goes through ``assignment_refs`` and ``digest_items``: they read plain columns
(not ORM objects) with statements built once, so neither the statement nor its cache key is
rebuilt on each call, and they see the session's pending changes (flushed first).
"""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam
from sqlalchemy import select as core_select
from sqlmodel import Session, col, select, update

from domain.deadlines import Deadline, DeadlineKind
from storage.mapping import DEADLINE_COLUMNS, deadline_from_row
from storage.models import (
    Assignment,
    Plan,
    ProgressKind,
    ProgressReport,
    Review,
    SentMessage,
    Task,
)


@dataclass(frozen=True, slots=True)
class AssignmentRef:
    """One active assignment of an active task, with what a chat says about it."""

    assignment_id: int
    agency_code: str
    role: str  # "lead" / "support"
    plan: str  # plan number, "289/KH-UBND"
    plan_coordinator: str | None  # agency code of the plan's coordinator
    task: str  # task number, "3"
    title: str
    deadline: Deadline
    precondition_met_on: date | None

    @property
    def is_series(self) -> bool:
        """Whether its occurrences are reported on one by one (a recurring deadline)."""
        kind = self.deadline.kind
        if kind is DeadlineKind.CONDITIONAL and self.precondition_met_on is not None:
            kind = self.deadline.soft_kind or kind
        return kind is DeadlineKind.RECURRING


@cache
def _refs_query(by_agency: bool, by_id: bool) -> Select[Any]:
    """The statement of ``assignment_refs``, built once per filter: its cache key too."""
    query = (
        core_select(
            col(Assignment.id),
            col(Assignment.agency_code),
            col(Assignment.role),
            col(Plan.number),
            col(Plan.coordinator),
            col(Task.number),
            col(Task.title),
            col(Task.precondition_met_on),
            *DEADLINE_COLUMNS,
        )
        .join(Task, col(Task.id) == col(Assignment.task_id))
        .join(Plan, col(Plan.id) == col(Task.plan_id))
        .where(col(Assignment.active).is_(True), col(Task.active).is_(True))
    )
    if by_agency:
        query = query.where(col(Assignment.agency_code).in_(bindparam("codes", expanding=True)))
    if by_id:
        query = query.where(col(Assignment.id).in_(bindparam("ids", expanding=True)))
    return query.order_by(col(Plan.id), col(Task.position), col(Assignment.id))


def assignment_refs(
    session: Session,
    *,
    agency_codes: Collection[str] | None = None,
    assignment_ids: Collection[int] | None = None,
    tasks: Collection[tuple[str, str]] | None = None,
) -> list[AssignmentRef]:
    """Active assignments of active tasks, filtered by agency and/or id, in plan order.

    ``tasks``: only those (plan number, task number) pairs; filtered here, after the agency and
    id filters, so that the query (and its cached statement) stays the same.
    """
    params: dict[str, list[Any]] = {}
    if agency_codes is not None:
        params["codes"] = list(agency_codes)
    if assignment_ids is not None:
        params["ids"] = list(assignment_ids)
    # Plain columns, not ORM objects: a department answers for hundreds of assignments, and this
    # runs on every message. Pending changes are flushed first, as a query through the session
    # would.
    session.flush()
    rows = session.connection().execute(
        _refs_query(agency_codes is not None, assignment_ids is not None), params
    )
    wanted = set(tasks) if tasks is not None else None
    deadlines: dict[tuple[Any, ...], Deadline] = {}
    refs: list[AssignmentRef] = []
    for row in rows:
        aid, code, role, plan, coordinator, task, title, met_on = row[:8]
        if wanted is not None and (plan, task) not in wanted:
            continue
        columns = tuple(row[8:])
        deadline = deadlines.get(columns)
        if deadline is None:
            deadline = deadlines[columns] = deadline_from_row(columns)
        refs.append(
            AssignmentRef(
                assignment_id=aid,
                agency_code=code,
                role=role,
                plan=plan,
                plan_coordinator=coordinator,
                task=task,
                title=title,
                deadline=deadline,
                precondition_met_on=met_on,
            )
        )
    return refs


def completion_report(
    session: Session, assignment_id: int, occurrence: str | None
) -> ProgressReport | None:
    """The latest "done" report that was not returned (pending or accepted), on ``occurrence``
    (None: on any occurrence, for deadlines whose reports all count for their one line)."""
    query = select(ProgressReport).where(
        ProgressReport.assignment_id == assignment_id,
        ProgressReport.kind == ProgressKind.DONE.value,
        col(ProgressReport.review).is_distinct_from(Review.RETURNED.value),
    )
    if occurrence is not None:
        query = query.where(ProgressReport.occurrence == occurrence)
    return session.exec(
        query.order_by(col(ProgressReport.reported_at).desc(), col(ProgressReport.id).desc())
    ).first()


def decide_review(
    session: Session, report_id: int, decision: Review, *, at: datetime, by: int | None
) -> bool:
    """Confirm or return a pending completion; False when it was not pending any more."""
    if decision is Review.PENDING:
        raise ValueError("a decision is 'confirmed' or 'returned'")
    result = session.connection().execute(
        update(ProgressReport)
        .where(
            col(ProgressReport.id) == report_id,
            col(ProgressReport.kind) == ProgressKind.DONE.value,
            col(ProgressReport.review) == Review.PENDING.value,
        )
        .values(review=decision.value, reviewed_at=at, reviewed_by=by),
        execution_options={"preserve_rowcount": True},
    )
    decided = result.rowcount == 1
    if decided:
        session.expire_all()  # the loaded report, if any, must show the new review
    return decided


def pending_reviews(session: Session, limit: int) -> list[ProgressReport]:
    """Completions still awaiting a coordinator's decision, oldest first."""
    return list(
        session.exec(
            select(ProgressReport)
            .join(Assignment, col(Assignment.id) == col(ProgressReport.assignment_id))
            .where(
                ProgressReport.kind == ProgressKind.DONE.value,
                ProgressReport.review == Review.PENDING.value,
                col(Assignment.active).is_(True),
            )
            .order_by(col(ProgressReport.reported_at), col(ProgressReport.id))
            .limit(limit)
        )
    )


_DIGEST_ITEMS = core_select(col(SentMessage.items)).where(
    col(SentMessage.channel) == bindparam("channel"),
    col(SentMessage.chat_id) == bindparam("chat_id"),
    col(SentMessage.message_id) == bindparam("message_id"),
)


def digest_items(
    session: Session, channel: str, chat_id: str, message_id: str
) -> list[tuple[int, str]] | None:
    """The (assignment id, occurrence) items of a digest message sent to that chat; None when the
    message is not one we recorded."""
    session.flush()
    stored = (
        session.connection()
        .execute(_DIGEST_ITEMS, {"channel": channel, "chat_id": chat_id, "message_id": message_id})
        .first()
    )
    if stored is None:
        return None
    items: list[tuple[int, str]] = []
    for item in stored[0] or []:
        if isinstance(item, list | tuple) and len(item) == 2 and isinstance(item[0], int):
            items.append((item[0], str(item[1] or "")))
    return items
