"""Planning into the outbox on SQLite and PostgreSQL: idempotent, to the right people, caught up."""

import importlib.util
from datetime import date, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest
from sqlmodel import Session

from domain.deadlines import Deadline, DeadlineKind, Frequency
from scheduler.planning import (
    MAX_LOOKBACK_DAYS,
    MIN_LOOKBACK_DAYS,
    lookback_for,
    plan,
)
from storage import repository
from storage.reminder_queries import last_planning, planning_requested, request_planning
from tests.integration.reminder_world import (
    DIRECTORY,
    POLICY,
    TaskSpec,
    add_contact,
    assignment_id,
    at8,
    calendar,
    fixed,
    local,
    reminders,
    save_plan,
)

DUE = date(2023, 12, 29)  # a Friday
AT = local(2023, 12, 10, 7)  # inside the window of before:30 .. due


def run(session: Session, now: datetime = AT, **options: int) -> tuple[int, int]:
    report = plan(
        session, directory=DIRECTORY, calendar=calendar(), policy=POLICY, now=now, **options
    )
    session.commit()
    return report.inserted, report.rows


def steps(session: Session) -> set[tuple[int, str, str, int]]:
    return {(r.assignment_id or 0, r.step, r.audience, r.contact_id) for r in reminders(session)}


def test_planning_twice_creates_no_duplicates(session: Session) -> None:
    save_plan(session, [TaskSpec("1", fixed(DUE), lead=("STC",), support=("SYT",))])
    add_contact(session, "STC", "100")
    add_contact(session, "SYT", "200")

    inserted, rows = run(session, lookback_days=30)
    assert inserted == rows > 0
    first = reminders(session)

    assert run(session, lookback_days=30) == (0, rows)
    assert run(session, AT + timedelta(hours=1), lookback_days=30) == (0, rows)
    assert [(r.id, r.step, r.contact_id) for r in reminders(session)] == [
        (r.id, r.step, r.contact_id) for r in first
    ]
    # Every row is a distinct (assignment, occurrence, step, contact).
    keys = [(r.assignment_id, r.occurrence, r.step, r.contact_id) for r in first]
    assert len(keys) == len(set(keys))


def test_each_audience_reaches_its_own_people(session: Session) -> None:
    save_plan(session, [TaskSpec("1", fixed(DUE), lead=("STC",), support=("SYT",))])
    stc = add_contact(session, "STC", "100")
    stc_head = add_contact(session, "STC", "101", role="head")
    syt = add_contact(session, "SYT", "200")
    coordinator = add_contact(session, "SNV", "900", role="coordinator")
    add_contact(session, "SYT", "201", active=False)
    add_contact(session, "SYT", "202", unreachable=True, unreachable_reason="blocked")
    lead, sup = assignment_id(session, "1", "STC"), assignment_id(session, "1", "SYT")

    run(session, local(2024, 1, 15, 7), lookback_days=60)

    found = steps(session)
    assert (lead, "before:7", "agency", stc) in found
    assert (sup, "before:7", "agency", syt) in found
    assert (lead, "overdue:1", "agency", stc) in found
    assert (lead, "escalation", "head", stc_head) in found
    assert (lead, "escalation", "coordinator", coordinator) in found
    assert {contact for *_, contact in found} == {stc, stc_head, syt, coordinator}
    assert not any(a == sup and s.startswith("overdue") for a, s, _, _ in found)  # lead only
    for row in reminders(session):
        assert row.payload == {"agency": "STC" if row.assignment_id == lead else "SYT"}
        assert row.state == "pending" and row.send_at.astimezone(at8(DUE).tzinfo).hour == 8


def test_coordinators_of_another_agency_stand_in_when_the_plans_has_none(
    session: Session,
) -> None:
    save_plan(session, [TaskSpec("1", fixed(DUE))], coordinator="SYT")
    add_contact(session, "STC", "100")
    stand_in = add_contact(session, "SNV", "900", role="coordinator")

    run(session, local(2024, 1, 15, 7), lookback_days=60)

    assert {r.contact_id for r in reminders(session) if r.audience == "coordinator"} == {stand_in}


def test_one_person_on_two_channels_gets_each_reminder_once(session: Session) -> None:
    save_plan(session, [TaskSpec("1", fixed(DUE))])
    zalo = add_contact(session, "STC", "z1", channel="zalo", person_key="p1", preference=0)
    add_contact(session, "STC", "100", person_key="p1", preference=1)

    run(session)

    assert {r.contact_id for r in reminders(session)} == {zalo}


YEARLY = Deadline(
    DeadlineKind.RECURRING,
    "Năm 2023 và những năm tiếp theo",
    due=date(2023, 12, 31),
    start=date(2023, 1, 1),
    frequency=Frequency.YEARLY,
)


def test_reported_occurrences_get_nothing_unless_the_report_was_returned(
    session: Session,
) -> None:
    save_plan(
        session,
        [
            TaskSpec("1", fixed(DUE)),
            TaskSpec("2", fixed(DUE)),
            TaskSpec("3", fixed(DUE)),
            TaskSpec("4", YEARLY),
            TaskSpec("5", YEARLY),
        ],
    )
    add_contact(session, "STC", "100")
    ids = {task: assignment_id(session, task, "STC") for task in "12345"}
    reports = [
        ("1", DUE.isoformat(), "confirmed"),
        ("2", DUE.isoformat(), "returned"),
        ("3", "", None),  # no key, unreviewed: a task due once is done all the same
        ("4", "2023-12-31", "pending"),
        ("5", "2022-12-31", "confirmed"),  # last year's: this year's is still owed
    ]
    for task, occurrence, review in reports:
        repository.add_progress(
            session,
            assignment_id=ids[task],
            kind="done",
            occurrence=occurrence,
            reported_at=local(2023, 11, 20, 9),
            review=review,
        )
    session.commit()

    run(session)

    assert {r.assignment_id for r in reminders(session)} == {ids["2"], ids["5"]}


def test_tasks_removed_by_a_reimport_are_not_planned(session: Session) -> None:
    save_plan(session, [TaskSpec("1", fixed(DUE)), TaskSpec("2", fixed(DUE))])
    add_contact(session, "STC", "100")
    save_plan(session, [TaskSpec("2", fixed(DUE))])

    run(session)

    assert {r.assignment_id for r in reminders(session)} == {assignment_id(session, "2", "STC")}


def test_work_of_a_merged_agency_goes_to_its_successor(session: Session) -> None:
    save_plan(session, [TaskSpec("1", fixed(date(2025, 6, 30)), lead=("SKHDT",))])
    add_contact(session, "SKHDT", "300")
    stc = add_contact(session, "STC", "100")

    run(session, local(2025, 6, 20, 7))

    rows = reminders(session)
    assert rows and {(r.contact_id, r.payload["agency"]) for r in rows if r.payload} == {
        (stc, "STC")
    }


def test_a_conditional_task_reaches_only_the_coordinator_until_its_precondition_is_met(
    session: Session,
) -> None:
    waiting = Deadline(
        DeadlineKind.CONDITIONAL,
        "Năm 2024, sau khi có hướng dẫn của Trung ương",
        due=date(2024, 12, 31),
        precondition="sau khi có hướng dẫn của Trung ương",
        soft_kind=DeadlineKind.PERIOD_END,
    )
    save_plan(session, [TaskSpec("5", waiting)])
    add_contact(session, "STC", "100")
    coordinator = add_contact(session, "SNV", "900", role="coordinator")

    run(session, local(2024, 11, 28, 7), lookback_days=3)

    assert [(r.step, r.audience, r.contact_id, r.send_at) for r in reminders(session)] == [
        ("precondition", "coordinator", coordinator, at8(date(2024, 11, 29)))
    ]


@pytest.mark.parametrize(
    ("gap", "expected"),
    [
        (None, MIN_LOOKBACK_DAYS),  # first run: no history dug up
        (timedelta(hours=1), 2),
        (timedelta(days=3), 4),  # three days down: those days and one more
        (timedelta(days=3, hours=1), 5),
        (timedelta(days=200), MAX_LOOKBACK_DAYS),
        (timedelta(hours=-2), MIN_LOOKBACK_DAYS),  # a clock that went back
    ],
)
def test_lookback_reaches_the_previous_run(gap: timedelta | None, expected: int) -> None:
    assert lookback_for(AT, None if gap is None else AT - gap) == expected


def test_a_restart_after_downtime_plans_what_fell_due_meanwhile(session: Session) -> None:
    add_contact(session, "STC", "100")
    run(session, local(2023, 12, 22, 20))  # the last run before going down
    assert last_planning(session) == local(2023, 12, 22, 20)
    save_plan(session, [TaskSpec("1", fixed(DUE))])  # imported while the service was down

    run(session, local(2023, 12, 26, 9))  # back on Tuesday morning

    sends = {r.step: r.send_at for r in reminders(session)}
    assert sends["before:7"] == at8(date(2023, 12, 22))  # fell due while down: caught up
    assert sends["before:3"] == at8(date(2023, 12, 26))
    assert "before:14" not in sends  # older than the previous run: not dug up
    assert last_planning(session) == local(2023, 12, 26, 9)


def test_the_planning_benchmark_runs_at_a_tiny_size(capsys: pytest.CaptureFixture[str]) -> None:
    bench = _bench("bench_planning")
    bench.main(["--tasks", "16", "--agencies", "4", "--db"])
    printed = capsys.readouterr().out
    assert "pure planning: 64 assignments" in printed
    assert "second run (idempotent)" in printed and "inserted=0" in printed


def _bench(name: str) -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "bench" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_an_import_in_another_process_asks_the_service_to_plan(session: Session) -> None:
    assert not planning_requested(session)  # nothing asked yet
    run(session, local(2023, 12, 10, 7))
    request_planning(session, local(2023, 12, 10, 9))  # `nhacviec import` at 09:00
    session.commit()
    assert planning_requested(session)
    run(session, local(2023, 12, 10, 9, 30))  # the service's next tick plans
    assert not planning_requested(session)
