"""Reminder planning: which step goes to whom, and when, on the Vietnamese working calendar."""

from datetime import date, datetime, time, timedelta
from itertools import pairwise

import pytest

from domain.calendar import ZONE, WorkingCalendar, at_local
from domain.deadlines import Deadline, DeadlineKind, Frequency
from domain.plan_import import Role
from domain.reminders import (
    AssignmentView,
    Planned,
    ReminderPolicy,
    plan_reminders,
    step_order,
    supersede,
)

K = DeadlineKind
POLICY = ReminderPolicy()


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar()


def _now(d: date, hour: int = 9) -> datetime:
    return datetime(d.year, d.month, d.day, hour, 0, tzinfo=ZONE)


def _at8(d: date) -> datetime:
    return at_local(d, time(8, 0))


def _view(
    deadline: Deadline,
    *,
    role: Role = Role.LEAD,
    agency: str = "STC",
    done: frozenset[str] = frozenset(),
    plan_date: date | None = date(2023, 4, 26),
    met_on: date | None = None,
    assignment_id: int = 1,
) -> AssignmentView:
    return AssignmentView(
        assignment_id=assignment_id,
        agency=agency,
        role=role,
        plan="289/KH-UBND",
        task="3",
        title="Xây dựng kế hoạch",
        deadline=deadline,
        plan_date=plan_date,
        precondition_met_on=met_on,
        done=done,
    )


def _fixed(due: date) -> Deadline:
    return Deadline(K.FIXED, f"Trước ngày {due:%d/%m/%Y}", due=due)


def _steps(planned: list[Planned]) -> list[tuple[str, str, datetime]]:
    return [(p.step, p.audience, p.send_at) for p in planned]


def test_lead_steps_for_a_year_end_due(cal: WorkingCalendar) -> None:
    planned = plan_reminders(
        [_view(_fixed(date(2026, 12, 31)))],
        calendar=cal,
        policy=POLICY,
        now=_now(date(2026, 11, 26)),
    )
    assert _steps(planned) == [
        ("before:30", "agency", _at8(date(2026, 12, 1))),
        ("before:14", "agency", _at8(date(2026, 12, 17))),
        ("before:7", "agency", _at8(date(2026, 12, 24))),
        ("before:3", "agency", _at8(date(2026, 12, 28))),
        ("before:1", "agency", _at8(date(2026, 12, 30))),
        ("due", "agency", _at8(date(2026, 12, 31))),
        ("overdue:1", "agency", _at8(date(2027, 1, 4))),  # 1/1/2027 is a holiday
        ("overdue:2", "agency", _at8(date(2027, 1, 7))),
        ("escalation", "head", _at8(date(2027, 1, 7))),
        ("escalation", "coordinator", _at8(date(2027, 1, 7))),
    ]  # overdue:3 (12/1/2027) is past the 45-day horizon
    assert {(p.assignment_id, p.agency, p.occurrence, p.due) for p in planned} == {
        (1, "STC", "2026-12-31", date(2026, 12, 31))
    }


def test_send_moments_are_at_eight_on_working_days_in_viet_nam(cal: WorkingCalendar) -> None:
    views = [
        _view(_fixed(date(2025, 2, 5))),
        _view(_fixed(date(2025, 1, 24)), role=Role.SUPPORT),
        _view(Deadline(K.CONTINUOUS, "Thường xuyên")),
        _view(
            Deadline(K.RECURRING, "Hằng năm", start=date(2023, 1, 1), frequency=Frequency.YEARLY)
        ),
    ]
    planned = plan_reminders(views, calendar=cal, policy=POLICY, now=_now(date(2025, 1, 1)))
    assert len(planned) > 20
    for p in planned:
        assert p.send_at.utcoffset() == timedelta(hours=7)
        assert p.send_at.timetz().replace(tzinfo=None) == time(8, 0)
        assert cal.is_working_day(p.send_at.date()), p


def test_a_warning_on_tet_goes_out_on_the_last_working_day_before_it(cal: WorkingCalendar) -> None:
    planned = plan_reminders(
        [_view(_fixed(date(2025, 2, 5)))], calendar=cal, policy=POLICY, now=_now(date(2025, 1, 1))
    )
    before = [(p.step, p.send_at) for p in planned if p.step.startswith("before:")]
    # before:7 (29/1, Tết) and before:3 (2/2, Sunday) both move to Friday 24/1: one is enough.
    assert before == [
        ("before:30", _at8(date(2025, 1, 6))),
        ("before:14", _at8(date(2025, 1, 22))),
        ("before:3", _at8(date(2025, 1, 24))),
        ("before:1", _at8(date(2025, 2, 4))),
    ]


def test_support_gets_fewer_steps_and_is_not_chased(cal: WorkingCalendar) -> None:
    planned = plan_reminders(
        [_view(_fixed(date(2025, 2, 5)), role=Role.SUPPORT)],
        calendar=cal,
        policy=POLICY,
        now=_now(date(2025, 1, 1)),
    )
    assert _steps(planned) == [
        ("before:7", "agency", _at8(date(2025, 1, 24))),
        ("due", "agency", _at8(date(2025, 2, 5))),
    ]


def test_a_due_date_on_sunday_is_due_on_monday(cal: WorkingCalendar) -> None:
    planned = plan_reminders(
        [_view(_fixed(date(2026, 11, 29)), role=Role.SUPPORT)],
        calendar=cal,
        policy=ReminderPolicy(support_days_before=(3, 1)),
        now=_now(date(2026, 11, 20)),
    )
    assert _steps(planned) == [
        ("before:3", "agency", _at8(date(2026, 11, 26))),
        ("before:1", "agency", _at8(date(2026, 11, 27))),  # Saturday 28/11 -> Friday
        ("due", "agency", _at8(date(2026, 11, 30))),
    ]


@pytest.mark.parametrize(
    ("deadline", "done", "now", "left"),
    [
        (_fixed(date(2025, 2, 5)), frozenset({"2025-02-05"}), date(2025, 1, 1), set()),
        (_fixed(date(2025, 2, 5)), frozenset({"2024-12-31"}), date(2025, 1, 1), {"2025-02-05"}),
        (
            Deadline(K.CONTINUOUS, "Thường xuyên"),
            frozenset({"checkin-2027-01"}),
            date(2026, 12, 20),
            {"checkin-2027-02"},
        ),
    ],
)
def test_done_occurrences_get_nothing(
    cal: WorkingCalendar, deadline: Deadline, done: frozenset[str], now: date, left: set[str]
) -> None:
    planned = plan_reminders(
        [_view(deadline, done=done)], calendar=cal, policy=POLICY, now=_now(now), lookback_days=0
    )
    assert {p.occurrence for p in planned} == left


def test_overdue_repeats_every_three_working_days_up_to_ten_times(cal: WorkingCalendar) -> None:
    planned = plan_reminders(
        [_view(_fixed(date(2026, 10, 30)))],
        calendar=cal,
        policy=POLICY,
        now=_now(date(2026, 11, 26)),
    )
    overdue = [p.send_at.date() for p in planned if p.step.startswith("overdue:")]
    assert [p.step for p in planned if p.step.startswith("overdue:")] == [
        f"overdue:{k}" for k in range(1, 11)
    ]
    assert overdue[:6] == [
        date(2026, 11, 2),
        date(2026, 11, 5),
        date(2026, 11, 10),
        date(2026, 11, 13),
        date(2026, 11, 18),
        date(2026, 11, 23),
    ]
    assert all(cal.working_days_between(a, b) == 3 for a, b in pairwise(overdue))
    escalations = [(p.audience, p.send_at) for p in planned if p.step == "escalation"]
    assert escalations == [
        ("head", _at8(date(2026, 11, 6))),
        ("coordinator", _at8(date(2026, 11, 6))),
    ]


def test_overdue_limits_come_from_the_policy(cal: WorkingCalendar) -> None:
    policy = ReminderPolicy(
        overdue_every_working_days=1, overdue_max_repeats=2, escalate_after_days=0
    )
    planned = plan_reminders(
        [_view(_fixed(date(2026, 10, 30)))],
        calendar=cal,
        policy=policy,
        now=_now(date(2026, 11, 26)),
    )
    late = [
        (p.step, p.send_at.date())
        for p in planned
        if p.step in ("overdue:1", "overdue:2", "escalation")
    ]
    assert late == [("overdue:1", date(2026, 11, 2)), ("overdue:2", date(2026, 11, 3))]
    assert not any(p.step == "overdue:3" for p in planned)


def test_an_escalation_falling_on_tet_waits_for_the_next_working_day(cal: WorkingCalendar) -> None:
    planned = plan_reminders(
        [_view(_fixed(date(2025, 1, 24)))], calendar=cal, policy=POLICY, now=_now(date(2025, 1, 20))
    )
    assert {(p.audience, p.send_at) for p in planned if p.step == "escalation"} == {
        ("head", _at8(date(2025, 2, 3))),
        ("coordinator", _at8(date(2025, 2, 3))),
    }


def test_a_merged_agency_s_later_occurrences_go_to_its_successor(cal: WorkingCalendar) -> None:
    asked: list[tuple[str, date]] = []

    def successor_on(agency: str, day: date) -> str:
        asked.append((agency, day))
        return "SKHCN-MOI" if agency == "STTTT" and day >= date(2025, 3, 1) else agency

    deadline = Deadline(
        K.RECURRING,
        "Năm 2023 và những năm tiếp theo",
        due=date(2023, 12, 31),
        start=date(2023, 1, 1),
        frequency=Frequency.YEARLY,
    )
    planned = plan_reminders(
        [_view(deadline, agency="STTTT")],
        calendar=cal,
        policy=POLICY,
        now=_now(date(2026, 1, 15)),
        successor_on=successor_on,
    )
    by_occurrence = {(p.occurrence, p.agency) for p in planned}
    assert by_occurrence == {("2024-12-31", "STTTT"), ("2025-12-31", "SKHCN-MOI")}
    assert sorted(set(asked)) == [("STTTT", date(2024, 12, 31)), ("STTTT", date(2025, 12, 31))]


SOFT = Deadline(
    K.CONDITIONAL,
    "Năm 2026, sau khi có hướng dẫn của Trung ương",
    due=date(2026, 12, 31),
    precondition="sau khi có hướng dẫn của Trung ương",
    soft_kind=K.PERIOD_END,
)


def test_a_pending_precondition_is_only_told_to_the_coordinator(cal: WorkingCalendar) -> None:
    views = [
        _view(SOFT, assignment_id=7),
        _view(SOFT, assignment_id=8, role=Role.SUPPORT, agency="SNV"),
    ]
    planned = plan_reminders(views, calendar=cal, policy=POLICY, now=_now(date(2026, 11, 26)))
    assert planned == [
        Planned(
            assignment_id=7,
            agency="STC",
            occurrence="precondition",
            due=date(2026, 12, 31),
            step="precondition",
            audience="coordinator",
            send_at=_at8(date(2026, 12, 1)),
        )
    ]


def test_a_pending_precondition_without_a_date_is_noticed_after_the_plan(
    cal: WorkingCalendar,
) -> None:
    deadline = Deadline(K.CONDITIONAL, "Sau khi Bộ Nội vụ ban hành hướng dẫn", precondition="x")
    planned = plan_reminders(
        [_view(deadline, plan_date=date(2026, 11, 1))],
        calendar=cal,
        policy=POLICY,
        now=_now(date(2026, 11, 26)),
    )
    assert _steps(planned) == [("precondition", "coordinator", _at8(date(2026, 12, 1)))]


def test_once_the_precondition_is_met_the_agencies_are_reminded(cal: WorkingCalendar) -> None:
    planned = plan_reminders(
        [_view(SOFT, met_on=date(2026, 10, 1))],
        calendar=cal,
        policy=POLICY,
        now=_now(date(2026, 11, 26)),
    )
    assert [p.step for p in planned][:2] == ["before:30", "before:14"]
    assert all(p.audience != "coordinator" or p.step == "escalation" for p in planned)
    assert not any(p.step == "precondition" for p in planned)


@pytest.mark.parametrize(
    ("role", "checkin_support", "expected"),
    [
        (
            Role.LEAD,
            False,
            [("checkin-2027-01", date(2027, 1, 4)), ("checkin-2027-02", date(2027, 2, 1))],
        ),
        (Role.SUPPORT, False, []),
        (
            Role.SUPPORT,
            True,
            [("checkin-2027-01", date(2027, 1, 4)), ("checkin-2027-02", date(2027, 2, 1))],
        ),
    ],
)
def test_continuous_tasks_check_in_on_the_first_working_day_of_the_month(
    cal: WorkingCalendar, role: Role, checkin_support: bool, expected: list[tuple[str, date]]
) -> None:
    planned = plan_reminders(
        [_view(Deadline(K.CONTINUOUS, "Thường xuyên"), role=role)],
        calendar=cal,
        policy=ReminderPolicy(checkin_support=checkin_support),
        now=_now(date(2026, 12, 20)),
        lookback_days=0,
    )
    assert [(p.occurrence, p.send_at.date()) for p in planned] == expected
    assert {(p.step, p.audience) for p in planned} <= {("checkin", "agency")}


def test_only_send_moments_inside_the_window_are_planned(cal: WorkingCalendar) -> None:
    now = _now(date(2026, 11, 26))
    views = [_view(_fixed(date(2026, 10, 30))), _view(_fixed(date(2027, 1, 29)))]
    planned = plan_reminders(
        views, calendar=cal, policy=POLICY, now=now, horizon_days=10, lookback_days=3
    )
    assert planned
    assert all(now - timedelta(days=3) <= p.send_at <= now + timedelta(days=10) for p in planned)
    # 29/1/2027 minus 30 days is 30/12/2026: beyond the 10-day horizon.
    assert {p.occurrence for p in planned} == {"2026-10-30"}


def test_policy_options_shape_the_steps(cal: WorkingCalendar) -> None:
    policy = ReminderPolicy(lead_days_before=(2,), on_due_day=False, send_time=time(7, 30))
    planned = plan_reminders(
        [_view(_fixed(date(2026, 12, 31)))],
        calendar=cal,
        policy=policy,
        now=_now(date(2026, 11, 26)),
    )
    assert [p.step for p in planned][:2] == ["before:2", "overdue:1"]
    assert {p.send_at.timetz().replace(tzinfo=None) for p in planned} == {time(7, 30)}


def test_unknown_deadlines_plan_nothing(cal: WorkingCalendar) -> None:
    view = _view(Deadline(K.UNKNOWN, "Theo chỉ đạo"))
    assert plan_reminders([view], calendar=cal, policy=POLICY, now=_now(date(2026, 11, 26))) == []


@pytest.mark.parametrize(
    "kwargs",
    [{"overdue_every_working_days": 0}, {"lead_days_before": (7, 0)}, {"overdue_max_repeats": -1}],
)
def test_nonsense_policies_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ReminderPolicy(**kwargs)  # type: ignore[arg-type]


def test_step_order() -> None:
    steps = ["overdue:10", "due", "before:1", "overdue:2", "before:30", "before:7"]
    assert sorted(steps, key=lambda s: step_order(s) or (9, 9)) == [
        "before:30",
        "before:7",
        "before:1",
        "due",
        "overdue:2",
        "overdue:10",
    ]
    assert step_order("escalation") is None
    assert step_order("checkin") is None
    assert step_order("precondition") is None


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            [(1, "before:3"), (2, "due"), (3, "overdue:2"), (4, "escalation"), (5, "overdue:1")],
            [
                (1, "đã có nhắc việc mới hơn: overdue:2"),
                (2, "đã có nhắc việc mới hơn: overdue:2"),
                (5, "đã có nhắc việc mới hơn: overdue:2"),
            ],
        ),
        ([(1, "before:30"), (2, "before:7")], [(1, "đã có nhắc việc mới hơn: before:7")]),
        ([(1, "due")], []),
        ([(1, "escalation"), (2, "checkin")], []),
        ([], []),
    ],
)
def test_supersede_keeps_only_the_latest_step(
    rows: list[tuple[int, str]], expected: list[tuple[int, str]]
) -> None:
    assert supersede(rows) == expected


def test_supersede_works_with_string_ids() -> None:
    assert supersede([("a", "due"), ("b", "before:1")]) == [("b", "đã có nhắc việc mới hơn: due")]
