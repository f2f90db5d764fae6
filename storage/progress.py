"""Progress as the conversation needs it: assignments with their reports, reviews, digest items.

``assignment_facts`` loads what ``bot.core.items`` needs to tell where an assignment stands (its
task, plan, deadline and every report, grouped by occurrence) in two queries, whatever the number
of assignments. A review of a reported completion is decided with a conditional UPDATE, so two
coordinators pressing "confirm" and "return" at once cannot both win. Nothing here commits.
"""

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, select, update

from domain.deadlines import Deadline
from domain.status import ReportView
from storage.mapping import deadline_of
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
class AssignmentFacts:
    """One active assignment with everything its status depends on."""

    assignment_id: int
    agency_code: str
    role: str  # "lead" / "support"
    plan: str  # plan number, "289/KH-UBND"
    plan_issued_on: date | None
    plan_coordinator: str | None  # agency code of the plan's coordinator
    task: str  # task number, "3"
    title: str
    deadline: Deadline
    precondition_met_on: date | None
    reports: Mapping[str, Sequence[ReportView]]  # by occurrence key, oldest first


def report_view(report: ProgressReport) -> ReportView:
    return ReportView(
        kind=report.kind,
        reported_at=report.reported_at,
        percent=report.percent,
        text=report.text,
        reason=report.reason,
        review=report.review,
        reviewed_at=report.reviewed_at,
    )


def assignment_facts(
    session: Session,
    *,
    agency_codes: Collection[str] | None = None,
    assignment_ids: Collection[int] | None = None,
) -> list[AssignmentFacts]:
    """Active assignments of active tasks, filtered by agency and/or id, in plan order."""
    query = (
        select(Assignment, Task, Plan)
        .join(Task, col(Task.id) == col(Assignment.task_id))
        .join(Plan, col(Plan.id) == col(Task.plan_id))
        .where(col(Assignment.active).is_(True), col(Task.active).is_(True))
    )
    if agency_codes is not None:
        query = query.where(col(Assignment.agency_code).in_(list(agency_codes)))
    if assignment_ids is not None:
        query = query.where(col(Assignment.id).in_(list(assignment_ids)))
    rows = list(
        session.exec(query.order_by(col(Plan.id), col(Task.position), col(Assignment.id)))
    )
    ids = [assignment.id for assignment, _, _ in rows if assignment.id is not None]
    reports: dict[int, dict[str, list[ReportView]]] = defaultdict(lambda: defaultdict(list))
    if ids:
        for report in session.exec(
            select(ProgressReport)
            .where(col(ProgressReport.assignment_id).in_(ids))
            .order_by(col(ProgressReport.reported_at), col(ProgressReport.id))
        ):
            reports[report.assignment_id][report.occurrence].append(report_view(report))
    return [
        AssignmentFacts(
            assignment_id=_id(assignment.id),
            agency_code=assignment.agency_code,
            role=assignment.role,
            plan=plan.number,
            plan_issued_on=plan.issued_on,
            plan_coordinator=plan.coordinator,
            task=task.number,
            title=task.title,
            deadline=deadline_of(task),
            precondition_met_on=task.precondition_met_on,
            reports={key: tuple(views) for key, views in reports[_id(assignment.id)].items()},
        )
        for assignment, task, plan in rows
    ]


def completion_report(
    session: Session, assignment_id: int, occurrence: str
) -> ProgressReport | None:
    """The latest "done" report on that occurrence that was not returned (pending or accepted)."""
    return session.exec(
        select(ProgressReport)
        .where(
            ProgressReport.assignment_id == assignment_id,
            ProgressReport.occurrence == occurrence,
            ProgressReport.kind == ProgressKind.DONE.value,
            col(ProgressReport.review).is_distinct_from(Review.RETURNED.value),
        )
        .order_by(col(ProgressReport.reported_at).desc(), col(ProgressReport.id).desc())
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


def digest_items(
    session: Session, channel: str, chat_id: str, message_id: str
) -> list[tuple[int, str]] | None:
    """The (assignment id, occurrence) items of a digest message sent to that chat; None when the
    message is not one we recorded."""
    sent = session.exec(
        select(SentMessage).where(
            SentMessage.channel == channel,
            SentMessage.chat_id == chat_id,
            SentMessage.message_id == message_id,
        )
    ).first()
    if sent is None:
        return None
    items: list[tuple[int, str]] = []
    for item in sent.items:
        if isinstance(item, list | tuple) and len(item) == 2 and isinstance(item[0], int):
            items.append((item[0], str(item[1] or "")))
    return items


def _id(value: int | None) -> int:
    if value is None:
        raise RuntimeError("row has no id")
    return value
