"""Plans, tasks, the directory and progress through storage.repository, on both databases."""

from dataclasses import fields, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, col, select

from domain.agencies import Agency, AgencyLevel, Directory, Group
from domain.deadlines import Deadline, DeadlineKind, Frequency
from domain.plan_import import AssignmentDraft, PlanDraft, Role, TaskDraft
from storage import repository
from storage.models import Assignment, Plan, ProgressReport, Task

NOW = datetime(2024, 1, 8, 8, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
LATER = NOW + timedelta(days=30)


def lead(code: str, via: str | None = None) -> AssignmentDraft:
    return AssignmentDraft(code, Role.LEAD, via)


def support(code: str, via: str | None = None) -> AssignmentDraft:
    return AssignmentDraft(code, Role.SUPPORT, via)


def task(number: str, *assignments: AssignmentDraft, **changes: object) -> TaskDraft:
    base = TaskDraft(
        number=number,
        title=f"Nhiệm vụ {number}",
        deadline=Deadline(DeadlineKind.FIXED, "Tháng 12/2023", due=date(2023, 12, 31)),
        assignments=assignments,
        section="I. Công tác tổ chức",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def plan(*tasks: TaskDraft, number: str = "289/KH-UBND", **changes: object) -> PlanDraft:
    base = PlanDraft(
        number=number,
        issued_on=date(2023, 4, 26),
        issuer="UBND tỉnh Nghệ An",
        title="Kế hoạch thực hiện Đề án",
        source="ke-hoach-289.txt",
        coordinator="SNV",
        tasks=tasks,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


SEED = plan(
    task("1", lead("SNV"), support("STC")),
    task("2", lead("STC"), support("H-A", "UBND-HUYEN"), support("H-B", "UBND-HUYEN")),
    task("3", lead("H-A", "UBND-HUYEN"), lead("H-B", "UBND-HUYEN")),
)


def active_assignments(session: Session, task_number: str) -> set[tuple[str, str]]:
    rows = session.exec(
        select(Assignment)
        .join(Task, col(Task.id) == col(Assignment.task_id))
        .where(Task.number == task_number, col(Assignment.active).is_(True))
    )
    return {(a.agency_code, a.role) for a in rows}


# --- save_plan ---------------------------------------------------------------------------------


def test_first_save_creates_plan_tasks_and_assignments(session: Session) -> None:
    result = repository.save_plan(session, SEED, NOW)
    session.commit()

    assert (result.created, result.tasks_added, result.tasks_updated) == (True, 3, 0)
    assert result.tasks_deactivated == 0
    stored = session.exec(select(Plan)).one()
    assert (stored.id, stored.number, stored.coordinator) == (result.plan_id, "289/KH-UBND", "SNV")
    assert stored.created_at == NOW == stored.updated_at
    assert active_assignments(session, "2") == {
        ("STC", "lead"),
        ("H-A", "support"),
        ("H-B", "support"),
    }
    via = session.exec(select(Assignment.via_group).where(Assignment.agency_code == "H-A")).all()
    assert sorted(v or "" for v in via) == ["UBND-HUYEN", "UBND-HUYEN"]


def test_saving_the_same_plan_again_changes_nothing_and_duplicates_nothing(
    session: Session,
) -> None:
    first = repository.save_plan(session, SEED, NOW)
    again = repository.save_plan(session, SEED, LATER)
    session.commit()

    assert again == repository.SaveResult(first.plan_id, False, 0, 0, 0)
    assert len(session.exec(select(Plan)).all()) == 1
    assert len(session.exec(select(Task)).all()) == 3
    assert len(session.exec(select(Assignment)).all()) == 7
    assert session.exec(select(Plan)).one().updated_at == LATER


def test_reimport_updates_adds_and_deactivates(session: Session) -> None:
    repository.save_plan(session, SEED, NOW)
    changed = plan(
        task("1", lead("SNV"), title="Nhiệm vụ 1 (sửa)"),  # STC no longer supports
        task("3", lead("H-A", "UBND-HUYEN"), lead("H-B", "UBND-HUYEN")),  # moved up one row
        task("4", lead("STC")),  # new; task 2 is gone
        title="Kế hoạch (sửa đổi)",
    )
    result = repository.save_plan(session, changed, LATER)
    session.commit()

    assert (result.created, result.tasks_added, result.tasks_updated) == (False, 1, 2)
    assert result.tasks_deactivated == 1
    by_number = {t.number: t for t in session.exec(select(Task))}
    assert {n: t.active for n, t in by_number.items()} == {
        "1": True,
        "2": False,
        "3": True,
        "4": True,
    }
    assert by_number["1"].title == "Nhiệm vụ 1 (sửa)"
    assert [by_number[n].position for n in ("1", "3", "4")] == [0, 1, 2]
    assert active_assignments(session, "1") == {("SNV", "lead")}
    assert active_assignments(session, "2") == set()  # a gone task keeps no live assignment
    assert session.exec(select(Plan.title)).one() == "Kế hoạch (sửa đổi)"


def test_a_task_or_assignment_that_comes_back_is_reactivated_not_duplicated(
    session: Session,
) -> None:
    repository.save_plan(session, SEED, NOW)
    repository.save_plan(session, plan(task("1", lead("SNV"))), NOW)
    result = repository.save_plan(session, SEED, LATER)
    session.commit()

    assert (result.tasks_added, result.tasks_updated, result.tasks_deactivated) == (0, 3, 0)
    assert len(session.exec(select(Task)).all()) == 3
    assert len(session.exec(select(Assignment)).all()) == 7
    assert all(session.exec(select(Assignment.active)).all())


def test_reimport_keeps_progress_history(session: Session) -> None:
    repository.save_plan(session, SEED, NOW)
    assignment_id = session.exec(
        select(Assignment.id).where(Assignment.agency_code == "STC", Assignment.role == "lead")
    ).one()
    assert assignment_id is not None
    repository.add_progress(
        session,
        assignment_id=assignment_id,
        kind="percent",
        percent=50,
        text="được 50%",
        occurrence="2023-12-31",
        reported_at=NOW,
    )
    session.commit()

    repository.save_plan(session, plan(task("1", lead("SNV"))), LATER)  # task 2 dropped
    repository.save_plan(session, SEED, LATER)  # and back
    session.commit()

    reports = session.exec(select(ProgressReport)).all()
    assert [(r.assignment_id, r.kind, r.percent, r.text) for r in reports] == [
        (assignment_id, "percent", 50, "được 50%")
    ]
    assert session.get(Assignment, assignment_id) is not None
    assert active_assignments(session, "2") >= {("STC", "lead")}


def test_repeated_task_numbers_are_refused(session: Session) -> None:
    with pytest.raises(ValueError, match="repeated: 1"):
        repository.save_plan(session, plan(task("1"), task("2"), task("1")), NOW)


def test_a_repeated_assignment_in_one_task_is_stored_once(session: Session) -> None:
    draft = plan(task("1", lead("H-A"), lead("H-A", "UBND-HUYEN")))
    repository.save_plan(session, draft, NOW)
    session.commit()
    rows = session.exec(select(Assignment)).all()
    assert [(a.agency_code, a.role, a.via_group) for a in rows] == [("H-A", "lead", None)]


def test_precondition_met_on_survives_reimport(session: Session) -> None:
    repository.save_plan(session, SEED, NOW)
    first = session.exec(select(Task).where(Task.number == "1")).one()
    first.precondition_met_on = date(2024, 1, 5)  # set by a coordinator
    session.commit()

    repository.save_plan(session, SEED, LATER)
    session.commit()
    assert repository.list_tasks(session)[0].precondition_met_on == date(2024, 1, 5)


# --- deadlines ---------------------------------------------------------------------------------

DEADLINES = [
    Deadline(DeadlineKind.FIXED, "Trước 30/6/2023", due=date(2023, 6, 30)),
    Deadline(DeadlineKind.PERIOD_END, "Quý III/2023", due=date(2023, 9, 30)),
    Deadline(DeadlineKind.RANGE, "2023-2025", start=date(2023, 1, 1), due=date(2025, 12, 31)),
    Deadline(
        DeadlineKind.RECURRING,
        "Trước ngày 15/12 hằng năm",
        due=date(2023, 12, 15),
        start=date(2023, 1, 1),
        until=date(2025, 12, 31),
        frequency=Frequency.YEARLY,
        anchor_month=12,
        anchor_day=15,
    ),
    Deadline(DeadlineKind.CONTINUOUS, "Thường xuyên"),
    Deadline(
        DeadlineKind.CONDITIONAL,
        "Năm 2024, sau khi có hướng dẫn của Trung ương",
        due=date(2024, 12, 31),
        precondition="có hướng dẫn của Trung ương",
        soft_kind=DeadlineKind.PERIOD_END,
    ),
    Deadline(DeadlineKind.UNKNOWN, "Theo tiến độ"),
]
EVERY_FIELD = Deadline(
    DeadlineKind.CONDITIONAL,
    "every field set",
    due=date(2024, 3, 31),
    start=date(2024, 1, 1),
    until=date(2026, 12, 31),
    frequency=Frequency.QUARTERLY,
    anchor_month=3,
    anchor_day=20,
    precondition="sau khi ...",
    soft_kind=DeadlineKind.RECURRING,
)


def test_a_deadline_with_every_field_set_is_the_sample_for_new_fields() -> None:
    # If Deadline grows a field, EVERY_FIELD must set it so the round trip below covers it.
    assert all(getattr(EVERY_FIELD, f.name) is not None for f in fields(Deadline))


@pytest.mark.parametrize("deadline", [*DEADLINES, EVERY_FIELD], ids=lambda d: d.text[:20])
def test_deadlines_round_trip_through_the_task_columns(
    session: Session, deadline: Deadline
) -> None:
    repository.save_plan(session, plan(task("1", lead("SNV"), deadline=deadline)), NOW)
    session.commit()
    session.expunge_all()
    assert repository.list_tasks(session)[0].deadline == deadline


# --- list_tasks and list_plans -----------------------------------------------------------------


def test_list_tasks_filters_by_plan_and_agency_and_keeps_order(session: Session) -> None:
    repository.save_plan(session, SEED, NOW)
    other = plan(
        task("2", lead("SNV")),
        task("1", lead("STC"), support("SNV"), is_report_duty=True),
        number="12/KH-UBND",
    )
    repository.save_plan(session, other, NOW)
    repository.save_plan(session, replace(SEED, tasks=SEED.tasks[:2]), NOW)  # task 3 goes
    session.commit()

    everything = repository.list_tasks(session)
    assert [(t.plan, t.number) for t in everything] == [
        ("289/KH-UBND", "1"),
        ("289/KH-UBND", "2"),
        ("12/KH-UBND", "2"),
        ("12/KH-UBND", "1"),
    ]
    snv = repository.list_tasks(session, agency_code="SNV")
    assert [(t.plan, t.number, t.lead, t.support) for t in snv] == [
        ("289/KH-UBND", "1", ("SNV",), ("STC",)),
        ("12/KH-UBND", "2", ("SNV",), ()),
        ("12/KH-UBND", "1", ("STC",), ("SNV",)),
    ]
    both = repository.list_tasks(session, plan_number="12/KH-UBND", agency_code="STC")
    assert [(t.number, t.is_report_duty) for t in both] == [("1", True)]
    second = repository.list_tasks(session, plan_number="289/KH-UBND")[1]
    assert (second.lead, second.support) == (("STC",), ("H-A", "H-B"))
    assert second.title == "Nhiệm vụ 2"
    assert second.section == "I. Công tác tổ chức"
    gone_task_3 = repository.list_tasks(session, agency_code="H-A")
    assert [(t.number, t.lead, t.support) for t in gone_task_3] == [("2", ("STC",), ("H-A", "H-B"))]
    assert repository.list_tasks(session, plan_number="nope") == []
    assert [p.number for p in repository.list_plans(session)] == ["289/KH-UBND", "12/KH-UBND"]


def test_an_empty_database_lists_nothing(session: Session) -> None:
    assert repository.list_plans(session) == []
    assert repository.list_tasks(session) == []


# --- the directory -----------------------------------------------------------------------------

DIRECTORY = Directory(
    [
        Agency("SNV", "Sở Nội vụ", AgencyLevel.PROVINCE, aliases=("Sở NV",)),
        Agency("STC", "Sở Tài chính", AgencyLevel.PROVINCE),
        Agency(
            "SKHDT",
            "Sở Kế hoạch và Đầu tư",
            AgencyLevel.PROVINCE,
            aliases=("Sở KH&ĐT", "Sở KHĐT"),
            valid_until=date(2025, 2, 28),
            successor="STC",
        ),
        Agency("H-A", "UBND huyện Anh Sơn", AgencyLevel.DISTRICT, valid_until=date(2025, 6, 30)),
        Agency("H-B", "UBND huyện Bình Lộc", AgencyLevel.DISTRICT, valid_until=date(2025, 6, 30)),
        Agency("X-C", "UBND xã Cẩm Sơn", AgencyLevel.COMMUNE, valid_from=date(2025, 7, 1)),
    ],
    [
        Group("SO-BAN-NGANH", "Các sở, ban, ngành cấp tỉnh", members=("SNV", "STC", "SKHDT")),
        Group(
            "UBND-HUYEN", "UBND các huyện, thành phố, thị xã", ("UBND cấp huyện",), ("H-B", "H-A")
        ),
    ],
    notes={"SKHDT": "Hợp nhất vào Sở Tài chính từ 01/3/2025", "UBND-HUYEN": "đến 30/6/2025"},
)


def directory_as_data(directory: Directory) -> tuple[object, ...]:
    return (
        list(directory.agencies.values()),
        list(directory.groups.values()),
        {code: directory.note(code) for code in [*directory.agencies, *directory.groups]},
    )


def test_an_empty_database_has_an_empty_directory(session: Session) -> None:
    loaded = repository.load_directory(session)
    assert (len(loaded.agencies), len(loaded.groups)) == (0, 0)


def test_directory_round_trip_keeps_everything_in_order(session: Session) -> None:
    repository.save_directory(session, DIRECTORY)
    session.commit()
    session.expunge_all()

    loaded = repository.load_directory(session)
    assert directory_as_data(loaded) == directory_as_data(DIRECTORY)
    assert loaded.resolve("so noi vu").agency == "SNV"


def test_saving_a_changed_directory_replaces_the_old_one(session: Session) -> None:
    repository.save_directory(session, DIRECTORY)
    session.commit()
    before = repository.load_directory(session)  # rows now in the session's identity map
    assert "X-C" in before.agencies
    renamed = Agency("SNV", "Sở Nội vụ tỉnh Nghệ An", AgencyLevel.PROVINCE)
    changed = Directory(
        [renamed, DIRECTORY.agencies["STC"], DIRECTORY.agencies["H-A"]],
        [Group("UBND-HUYEN", "UBND cấp huyện", members=("H-A",))],
    )
    repository.save_directory(session, changed)
    session.commit()
    session.expunge_all()

    assert directory_as_data(repository.load_directory(session)) == directory_as_data(changed)


# --- progress ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "percent", "message"),
    [("finished", None, "finished"), ("percent", 120, "between 0 and 100")],
)
def test_add_progress_refuses_unknown_kinds_and_bad_percentages(
    session: Session, kind: str, percent: int | None, message: str
) -> None:
    repository.save_plan(session, SEED, NOW)
    assignment_id = session.exec(select(Assignment.id)).first()
    assert assignment_id is not None
    with pytest.raises(ValueError, match=message):
        repository.add_progress(
            session, assignment_id=assignment_id, kind=kind, percent=percent, reported_at=NOW
        )


def test_add_progress_stores_a_reply(session: Session) -> None:
    repository.save_plan(session, SEED, NOW)
    assignment_id = session.exec(select(Assignment.id)).first()
    assert assignment_id is not None
    report = repository.add_progress(
        session,
        assignment_id=assignment_id,
        kind="extension",
        text="xin gia hạn đến 30/6",
        reason="chờ hướng dẫn của Bộ",
        requested_until=date(2024, 6, 30),
        review="pending",
        reported_at=NOW,
    )
    report_id = report.id
    session.commit()
    session.expunge_all()

    stored = session.exec(select(ProgressReport)).one()
    assert stored.id == report_id is not None
    assert (stored.kind, stored.requested_until, stored.review) == (
        "extension",
        date(2024, 6, 30),
        "pending",
    )
    assert stored.reported_at == NOW.astimezone(UTC)
