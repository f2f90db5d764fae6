"""A small province for the planning and dispatcher tests: agencies, a plan, contacts, helpers.

Sở Nội vụ (SNV) coordinates; Sở Tài chính (STC) and Sở Y tế (SYT) are given tasks; Sở Kế hoạch và
Đầu tư (SKHDT) merges into STC on 1/3/2025. Times are Asia/Ho_Chi_Minh.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from domain.agencies import Agency, AgencyLevel, Directory
from domain.calendar import ZONE, WorkingCalendar, at_local
from domain.deadlines import Deadline, DeadlineKind
from domain.plan_import import AssignmentDraft, PlanDraft, Role, TaskDraft
from domain.reminders import ReminderPolicy
from scheduler.dispatcher import Backoff, Dispatcher
from storage import repository
from storage.models import Assignment, Contact, Reminder, Task

PLAN = "289/KH-UBND"
POLICY = ReminderPolicy()
DIRECTORY = Directory(
    [
        Agency("SNV", "Sở Nội vụ", AgencyLevel.PROVINCE),
        Agency("STC", "Sở Tài chính", AgencyLevel.PROVINCE),
        Agency("SYT", "Sở Y tế", AgencyLevel.PROVINCE),
        Agency(
            "SKHDT",
            "Sở Kế hoạch và Đầu tư",
            AgencyLevel.PROVINCE,
            valid_until=date(2025, 2, 28),
            successor="STC",
        ),
    ],
    [],
)


@cache
def calendar() -> WorkingCalendar:
    return WorkingCalendar(first_year=2022, last_year=2027)


def at8(day: date) -> datetime:
    return at_local(day, time(8, 0))


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=ZONE)  # type: ignore[misc]


def fixed(due: date) -> Deadline:
    return Deadline(DeadlineKind.FIXED, f"Trước ngày {due:%d/%m/%Y}", due=due)


@dataclass(frozen=True)
class TaskSpec:
    number: str
    deadline: Deadline
    lead: Sequence[str] = ("STC",)
    support: Sequence[str] = ()
    title: str = ""


def save_plan(
    session: Session,
    tasks: Sequence[TaskSpec],
    *,
    number: str = PLAN,
    coordinator: str | None = "SNV",
    now: datetime | None = None,
) -> None:
    drafts = tuple(
        TaskDraft(
            spec.number,
            spec.title or f"Nhiệm vụ số {spec.number} của kế hoạch",
            spec.deadline,
            tuple(AssignmentDraft(code, Role.LEAD) for code in spec.lead)
            + tuple(AssignmentDraft(code, Role.SUPPORT) for code in spec.support),
        )
        for spec in tasks
    )
    draft = PlanDraft(
        number=number,
        issued_on=date(2023, 4, 26),
        issuer="UBND tỉnh Nghệ An",
        title="Kế hoạch thử",
        source="test",
        coordinator=coordinator,
        tasks=drafts,
    )
    repository.save_plan(session, draft, now or local(2023, 5, 1, 7))
    session.commit()


def add_contact(
    session: Session,
    agency: str,
    chat_id: str,
    *,
    role: str = "focal",
    channel: str = "telegram",
    language: str = "vi",
    name: str = "",
    **changes: object,
) -> int:
    contact = Contact(
        agency_code=agency,
        channel=channel,
        chat_id=chat_id,
        role=role,
        language=language,
        display_name=name or f"Cán bộ {chat_id}",
        created_at=local(2023, 5, 1, 7),
        **changes,  # type: ignore[arg-type]
    )
    session.add(contact)
    session.commit()
    assert contact.id is not None
    return contact.id


def assignment_id(session: Session, task: str, agency: str, number: str = PLAN) -> int:
    found = session.exec(
        select(Assignment.id)
        .join(Task, col(Task.id) == col(Assignment.task_id))
        .where(Task.number == task, Assignment.agency_code == agency)
    ).one()
    assert found is not None
    return found


def reminders(session: Session) -> list[Reminder]:
    session.expire_all()
    return list(session.exec(select(Reminder).order_by(col(Reminder.id))).all())


def dispatcher(
    engine: Engine,
    channels: dict[str, object],
    worker: str = "w1",
    **options: object,
) -> Dispatcher:
    return Dispatcher(
        engine,
        channels,  # type: ignore[arg-type]
        directory=DIRECTORY,
        calendar=calendar(),
        worker_id=worker,
        **options,  # type: ignore[arg-type]
    )


NO_JITTER = Backoff()
LEASE = timedelta(minutes=5)
