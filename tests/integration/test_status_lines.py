"""Status lines from the database (storage.status_lines), on SQLite and PostgreSQL.

One small province: Sở A, Sở B, and Sở Cũ merged into Sở B on 1/3/2025. The plan's tasks cover every
kind of deadline; progress is recorded through storage.repository as the bot would.
"""

from datetime import date, datetime, time
from time import perf_counter

import pytest
from sqlalchemy import event
from sqlmodel import Session, select

from domain.agencies import Agency, AgencyLevel, Directory
from domain.calendar import ZONE, WorkingCalendar
from domain.deadlines import Deadline, DeadlineKind, Frequency
from domain.plan_import import AssignmentDraft, PlanDraft, Role, TaskDraft
from domain.status import State, StatusLine
from storage import repository
from storage.models import Assignment, Contact, Task
from storage.status_lines import status_lines, unreachable_contacts

CALENDAR = WorkingCalendar()
DIRECTORY = Directory(
    [
        Agency("A", "Sở A", AgencyLevel.PROVINCE),
        Agency("B", "Sở B", AgencyLevel.PROVINCE),
        Agency("OLD", "Sở Cũ", AgencyLevel.PROVINCE, valid_until=date(2025, 2, 28), successor="B"),
    ],
    [],
)
PLAN = "100/KH-UBND"
SAVED_AT = datetime(2023, 5, 2, 8, 0, tzinfo=ZONE)

# Saturday 29/6/2024: the effective due date is Monday 1/7/2024.
BY_29_JUNE = Deadline(DeadlineKind.FIXED, "Trước ngày 29/6/2024", due=date(2024, 6, 29))
YEARLY = Deadline(
    DeadlineKind.RECURRING,
    "Năm 2023 và những năm tiếp theo",
    due=date(2023, 12, 31),
    start=date(2023, 1, 1),
    frequency=Frequency.YEARLY,
)
CONTINUOUS = Deadline(DeadlineKind.CONTINUOUS, "Thường xuyên")
CONDITIONAL = Deadline(
    DeadlineKind.CONDITIONAL,
    "Năm 2024, sau khi có hướng dẫn của Trung ương",
    due=date(2024, 12, 31),
    precondition="sau khi có hướng dẫn của Trung ương",
    soft_kind=DeadlineKind.PERIOD_END,
)
UNKNOWN = Deadline(DeadlineKind.UNKNOWN, "Theo tiến độ dự án")
MID_2025 = Deadline(DeadlineKind.PERIOD_END, "Quý II/2025", due=date(2025, 6, 30))
END_2024 = Deadline(DeadlineKind.PERIOD_END, "Năm 2024", due=date(2024, 12, 31))


def lead(code: str) -> AssignmentDraft:
    return AssignmentDraft(code, Role.LEAD)


def support(code: str) -> AssignmentDraft:
    return AssignmentDraft(code, Role.SUPPORT)


def task(number: str, deadline: Deadline, *assignments: AssignmentDraft) -> TaskDraft:
    return TaskDraft(number, f"Nhiệm vụ {number}", deadline, assignments)


TASKS = (
    task("1", BY_29_JUNE, lead("A"), support("B")),
    task("2", YEARLY, lead("A")),
    task("3", CONTINUOUS, lead("A")),
    task("4", CONDITIONAL, lead("A")),
    task("5", UNKNOWN, lead("A")),
    task("6", MID_2025, lead("OLD"), lead("B"), support("A")),
    task("7", END_2024, lead("OLD")),
)


def draft(*tasks: TaskDraft, number: str = PLAN) -> PlanDraft:
    return PlanDraft(
        number=number,
        issued_on=date(2023, 4, 26),
        issuer="UBND tỉnh Nghệ An",
        title="Kế hoạch thử",
        source="test",
        coordinator="A",
        tasks=tasks,
    )


@pytest.fixture
def db(session: Session) -> Session:
    repository.save_directory(session, DIRECTORY)
    repository.save_plan(session, draft(*TASKS), SAVED_AT)
    session.commit()
    return session


def assignment_id(session: Session, task_number: str, agency: str, plan: str = PLAN) -> int:
    for row, number in session.exec(
        select(Assignment, Task.number).join(Task).where(Task.number == task_number)
    ):
        if row.agency_code == agency and number == task_number:
            assert row.id is not None
            return row.id
    raise AssertionError(f"no assignment of {agency} on task {task_number}")


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=ZONE)


def report(
    session: Session,
    task_number: str,
    agency: str,
    kind: str,
    day: date,
    *,
    occurrence: str = "",
    percent: int | None = None,
    review: str | None = None,
    reviewed_on: date | None = None,
    text: str = "",
    reason: str | None = None,
) -> None:
    row = repository.add_progress(
        session,
        assignment_id=assignment_id(session, task_number, agency),
        kind=kind,
        reported_at=at(day),
        occurrence=occurrence,
        percent=percent,
        review=review,
        text=text,
        reason=reason,
    )
    if reviewed_on is not None:
        row.reviewed_at = at(reviewed_on, 15)
    session.commit()


def lines_at(session: Session, on: date, **options: object) -> list[StatusLine]:
    return status_lines(
        session,
        directory=DIRECTORY,
        calendar=CALENDAR,
        on=on,
        **options,  # type: ignore[arg-type]
    )


def line_of(
    lines: list[StatusLine], task_number: str, agency: str, due: date | None = None
) -> StatusLine:
    found = [
        line
        for line in lines
        if line.task == task_number
        and line.agency_code == agency
        and (due is None or line.due == due)
    ]
    assert len(found) == 1, found
    return found[0]


# --- one due date: the four official states and their boundaries ------------------------------


@pytest.fixture
def task1_progress(db: Session) -> Session:
    report(db, "1", "A", "percent", date(2024, 5, 10), percent=50, text="Đã xong dự thảo")
    report(db, "1", "A", "done", date(2024, 7, 1), review="confirmed", reviewed_on=date(2024, 7, 3))
    return db


@pytest.mark.parametrize(
    ("on", "agency", "state", "counted_as", "percent", "days_overdue"),
    [
        # before the due date: the percent reported; the later "done" is not known yet
        (date(2024, 6, 1), "A", State.IN_PROGRESS, State.IN_PROGRESS, 50, None),
        (date(2024, 6, 1), "B", State.NO_ANSWER, State.IN_PROGRESS, None, None),
        # done on the effective due date (Monday after the Saturday due), review two days later
        (date(2024, 7, 1), "A", State.AWAITING_CONFIRMATION, State.IN_PROGRESS, 100, None),
        (date(2024, 7, 2), "A", State.AWAITING_CONFIRMATION, State.OVERDUE, 100, 1),
        (date(2024, 7, 3), "A", State.DONE_ON_TIME, State.DONE_ON_TIME, 100, None),
        # the support agency never answered: overdue from the day after the effective due date
        (date(2024, 7, 1), "B", State.NO_ANSWER, State.IN_PROGRESS, None, None),
        (date(2024, 7, 2), "B", State.OVERDUE, State.OVERDUE, None, 1),
        (date(2024, 7, 31), "B", State.OVERDUE, State.OVERDUE, None, 30),
    ],
)
def test_one_due_date_as_days_pass(
    task1_progress: Session,
    on: date,
    agency: str,
    state: State,
    counted_as: State,
    percent: int | None,
    days_overdue: int | None,
) -> None:
    line = line_of(lines_at(task1_progress, on), "1", agency)
    assert line.due == date(2024, 6, 29)
    assert line.deadline_text == "Trước ngày 29/6/2024"
    assert line.role == ("lead" if agency == "A" else "support")
    assert (line.result.state, line.result.counted_as) == (state, counted_as)
    assert (line.result.percent, line.result.days_overdue) == (percent, days_overdue)


def test_done_the_day_after_the_effective_due_date_is_late(db: Session) -> None:
    report(db, "1", "B", "done", date(2024, 7, 2), review="confirmed")
    line = line_of(lines_at(db, date(2024, 8, 1)), "1", "B")
    assert line.result.state is State.DONE_LATE
    assert line.result.days_overdue == 1
    assert line.result.done_on == date(2024, 7, 2)


@pytest.mark.parametrize(
    ("require_confirmation", "state"),
    [(True, State.AWAITING_CONFIRMATION), (False, State.DONE_ON_TIME)],
)
def test_an_unreviewed_completion_counts_only_without_required_confirmation(
    db: Session, require_confirmation: bool, state: State
) -> None:
    report(db, "1", "A", "done", date(2024, 6, 20), review="pending")
    line = line_of(
        lines_at(db, date(2024, 9, 1), require_confirmation=require_confirmation), "1", "A"
    )
    assert line.result.state is state
    assert line.result.done_on == date(2024, 6, 20)


def test_a_returned_completion_leaves_the_task_overdue(db: Session) -> None:
    report(
        db,
        "1",
        "A",
        "done",
        date(2024, 6, 20),
        review="returned",
        reviewed_on=date(2024, 6, 21),
    )
    line = line_of(lines_at(db, date(2024, 7, 10)), "1", "A")
    assert line.result.state is State.OVERDUE
    assert line.result.days_overdue == 9


# --- recurring deadlines: one line per occurrence ---------------------------------------------


def test_a_yearly_series_has_each_past_occurrence_and_the_next_one(db: Session) -> None:
    lines = [line for line in lines_at(db, date(2025, 6, 15)) if line.task == "2"]
    assert [line.due for line in lines] == [
        date(2023, 12, 31),
        date(2024, 12, 31),
        date(2025, 12, 31),
    ]
    assert [line.result.state for line in lines] == [
        State.OVERDUE,
        State.OVERDUE,
        State.NO_ANSWER,
    ]
    assert lines[0].result.days_overdue == (date(2025, 6, 15) - date(2024, 1, 2)).days


def test_a_series_before_its_first_due_date_has_just_that_occurrence(db: Session) -> None:
    lines = [line for line in lines_at(db, date(2023, 6, 1)) if line.task == "2"]
    assert [(line.due, line.result.state) for line in lines] == [
        (date(2023, 12, 31), State.NO_ANSWER)
    ]


def test_reports_count_for_the_occurrence_they_name_or_the_oldest_unfinished(
    db: Session,
) -> None:
    # Keyed: the 2023 occurrence, on time.
    report(db, "2", "A", "done", date(2023, 12, 20), occurrence="2023-12-31", review="confirmed")
    # Undated, after the 2024 due date: finishes the overdue 2024 occurrence, late.
    report(db, "2", "A", "done", date(2025, 1, 2), review="confirmed")
    # Undated again: the 2024 occurrence is finished, so this is about 2025.
    report(db, "2", "A", "percent", date(2025, 3, 1), percent=30)
    lines = [line for line in lines_at(db, date(2025, 6, 15)) if line.task == "2"]
    assert [(line.due, line.result.state) for line in lines] == [
        (date(2023, 12, 31), State.DONE_ON_TIME),
        (date(2024, 12, 31), State.DONE_LATE),
        (date(2025, 12, 31), State.IN_PROGRESS),
    ]
    assert lines[1].result.days_overdue == 2
    assert lines[2].result.percent == 30


def test_an_undated_report_after_a_returned_completion_goes_to_the_same_occurrence(
    db: Session,
) -> None:
    report(
        db,
        "2",
        "A",
        "done",
        date(2023, 12, 20),
        review="returned",
        reviewed_on=date(2023, 12, 21),
    )
    report(db, "2", "A", "done", date(2023, 12, 28), review="confirmed")
    lines = [line for line in lines_at(db, date(2024, 2, 1)) if line.task == "2"]
    assert [(line.due, line.result.state) for line in lines] == [
        (date(2023, 12, 31), State.DONE_ON_TIME),
        (date(2024, 12, 31), State.NO_ANSWER),
    ]


# --- continuous, waiting, unknown -------------------------------------------------------------


def test_a_continuous_task_is_one_line_with_its_latest_check_in(db: Session) -> None:
    report(db, "3", "A", "percent", date(2024, 4, 2), occurrence="checkin-2024-04", percent=40)
    report(
        db,
        "3",
        "A",
        "blocked",
        date(2024, 5, 3),
        occurrence="checkin-2024-05",
        reason="Chưa có kinh phí",
    )
    line = line_of(lines_at(db, date(2024, 6, 1)), "3", "A")
    assert line.due is None
    assert line.result.state is State.CONTINUOUS
    assert line.result.official is None
    assert line.result.percent == 40
    assert line.result.blocker == "Chưa có kinh phí"


def test_a_conditional_task_waits_until_its_precondition_is_met(db: Session) -> None:
    waiting = line_of(lines_at(db, date(2025, 6, 15)), "4", "A")
    assert (waiting.due, waiting.result.state) == (date(2024, 12, 31), State.WAITING)
    assert waiting.result.days_overdue is None

    # Met on 10/1/2025, after its soft date: 30 days of grace, due Sunday 9/2/2025.
    row = db.exec(select(Task).where(Task.number == "4")).one()
    row.precondition_met_on = date(2025, 1, 10)
    db.commit()
    before = line_of(lines_at(db, date(2025, 1, 5)), "4", "A")
    assert before.result.state is State.WAITING
    after = line_of(lines_at(db, date(2025, 2, 10)), "4", "A")
    assert (after.due, after.result.state) == (date(2025, 2, 9), State.NO_ANSWER)
    late = line_of(lines_at(db, date(2025, 2, 11)), "4", "A")
    assert (late.result.state, late.result.days_overdue) == (State.OVERDUE, 1)


def test_a_task_whose_deadline_could_not_be_read_is_never_overdue(db: Session) -> None:
    line = line_of(lines_at(db, date(2030, 1, 1)), "5", "A")
    assert (line.due, line.deadline_text) == (None, "Theo tiến độ dự án")
    assert line.result.state is State.NO_ANSWER
    assert line.result.counted_as is State.IN_PROGRESS


# --- successions ------------------------------------------------------------------------------


def test_work_due_after_a_merger_is_shown_under_the_successor_once(db: Session) -> None:
    report(db, "6", "OLD", "percent", date(2025, 1, 15), percent=20, text="Sở Cũ đã khởi động")
    report(db, "6", "B", "done", date(2025, 6, 25), review="confirmed")
    lines = lines_at(db, date(2025, 7, 10))
    six = [line for line in lines if line.task == "6"]
    assert [(line.agency_code, line.agency, line.role) for line in six] == [
        ("B", "Sở B", "lead"),
        ("A", "Sở A", "support"),
    ]
    assert six[0].result.state is State.DONE_ON_TIME
    # Work due before the merger stays with the agency that owed it then.
    seven = line_of(lines, "7", "OLD")
    assert (seven.agency, seven.result.state) == ("Sở Cũ", State.OVERDUE)


def test_an_agency_filter_keeps_its_own_work_and_what_it_inherited(db: Session) -> None:
    on = date(2025, 7, 10)
    old = {(line.task, line.agency_code) for line in lines_at(db, on, agency_code="OLD")}
    assert old == {("6", "B"), ("7", "OLD")}
    b = {(line.task, line.agency_code) for line in lines_at(db, on, agency_code="B")}
    assert b == {("1", "B"), ("6", "B")}
    a_tasks = {line.task for line in lines_at(db, on, agency_code="A")}
    assert a_tasks == {"1", "2", "3", "4", "5", "6"}


# --- selection and order ----------------------------------------------------------------------


def test_lines_follow_plan_then_task_order_leads_first_and_skip_removed_work(
    db: Session,
) -> None:
    other = draft(task("1", END_2024, support("A"), lead("B")), number="200/KH-UBND")
    repository.save_plan(db, other, SAVED_AT)
    # Task 7 disappears from the first plan on re-import: its line goes.
    repository.save_plan(db, draft(*TASKS[:6]), SAVED_AT)
    db.commit()
    lines = lines_at(db, date(2024, 3, 1))
    assert [(line.plan, line.task, line.agency_code) for line in lines] == [
        (PLAN, "1", "A"),
        (PLAN, "1", "B"),
        (PLAN, "2", "A"),
        (PLAN, "2", "A"),
        (PLAN, "3", "A"),
        (PLAN, "4", "A"),
        (PLAN, "5", "A"),
        (PLAN, "6", "B"),  # Sở Cũ's and Sở B's leads: due after the merger, one line
        (PLAN, "6", "A"),
        ("200/KH-UBND", "1", "B"),
        ("200/KH-UBND", "1", "A"),
    ]
    only = lines_at(db, date(2024, 3, 1), plan_number="200/KH-UBND")
    assert [(line.task, line.role) for line in only] == [("1", "lead"), ("1", "support")]


def test_reports_made_after_the_day_are_ignored(db: Session) -> None:
    report(db, "1", "A", "done", date(2024, 6, 3), review="confirmed")
    assert line_of(lines_at(db, date(2024, 6, 2)), "1", "A").result.state is State.NO_ANSWER
    assert line_of(lines_at(db, date(2024, 6, 3)), "1", "A").result.state is State.DONE_ON_TIME


# --- unreachable contacts ---------------------------------------------------------------------


def test_unreachable_contacts_name_the_person_and_the_agency(db: Session) -> None:
    made = datetime(2024, 1, 1, 8, 0, tzinfo=ZONE)
    base = Contact(agency_code="A", channel="telegram", chat_id="1", created_at=made)
    for changes in (
        {"agency_code": "B", "chat_id": "2", "display_name": "Trần Thị B", "unreachable": True},
        {"chat_id": "3", "display_name": "Nguyễn Văn A", "unreachable": True, "channel": "zalo"},
        {"chat_id": "4", "unreachable": True},
        {"chat_id": "5", "display_name": "Lê Văn C", "unreachable": True, "active": False},
        {"chat_id": "6", "display_name": "Phạm Văn D"},
        {"agency_code": "XYZ", "chat_id": "7", "display_name": "Ngô E", "unreachable": True},
    ):
        db.add(Contact(**{**base.model_dump(exclude={"id"}), **changes}))
    db.commit()
    assert unreachable_contacts(db) == [
        "Telegram 4 (Sở A)",
        "Nguyễn Văn A (Sở A, Zalo)",
        "Trần Thị B (Sở B, Telegram)",
        "Ngô E (XYZ, Telegram)",
    ]


def test_no_unreachable_contacts_is_an_empty_list(db: Session) -> None:
    assert unreachable_contacts(db) == []


# --- cost ------------------------------------------------------------------------------------


def test_lines_take_two_queries_however_many_assignments(db: Session) -> None:
    for number in range(10, 40):
        repository.save_plan(
            db,
            draft(task(str(number), YEARLY, lead("A"), support("B")), number=f"{number}/KH"),
            SAVED_AT,
        )
    report(db, "1", "A", "percent", date(2024, 5, 2), percent=10)
    db.commit()
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", count)
    try:
        lines = lines_at(db, date(2025, 1, 1))
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(lines) > 60
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 2


@pytest.mark.slow
def test_a_province_sized_plan_builds_its_lines_quickly(session: Session) -> None:
    agencies = [f"A{i}" for i in range(100)]
    directory = Directory(
        [Agency(code, f"Đơn vị {code}", AgencyLevel.PROVINCE) for code in agencies], []
    )
    kinds = (BY_29_JUNE, YEARLY, CONTINUOUS, CONDITIONAL, END_2024)
    tasks = [
        task(
            str(n), kinds[n % len(kinds)], lead(agencies[60 + n % 40]), *map(support, agencies[:60])
        )
        for n in range(300)
    ]
    repository.save_plan(session, draft(*tasks), SAVED_AT)
    session.commit()
    started = perf_counter()
    lines = status_lines(session, directory=directory, calendar=CALENDAR, on=date(2025, 6, 15))
    elapsed = perf_counter() - started
    # 61 agencies a task; the 60 yearly tasks have a 2023, a 2024 and a 2025 line each.
    assert len(lines) == 61 * (240 + 60 * 3)
    assert elapsed < 10, f"{elapsed:.1f} s for {len(lines)} lines"
