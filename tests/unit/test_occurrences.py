"""Occurrences: the concrete due dates and check-ins a typed deadline produces in a window."""

from datetime import date

import pytest

from domain.deadlines import Deadline, DeadlineKind, Frequency
from domain.occurrences import Occurrence, occurrences, precondition_notice_day

K = DeadlineKind
SEED_PLAN_DATE = date(2023, 4, 26)  # Kế hoạch 289/KH-UBND


def _dues(found: list[Occurrence]) -> list[date | None]:
    return [o.due for o in found]


@pytest.mark.parametrize(
    "deadline",
    [
        Deadline(
            K.RECURRING,
            "Năm 2023 và những năm tiếp theo",
            due=date(2023, 12, 31),
            start=date(2023, 1, 1),
            frequency=Frequency.YEARLY,
        ),
        Deadline(
            K.RECURRING,
            "Năm 2023 và những năm tiếp theo",
            start=date(2023, 1, 1),
            frequency=Frequency.YEARLY,
        ),
        Deadline(K.RECURRING, "Hằng năm", frequency=Frequency.YEARLY),  # from the plan's date
    ],
)
def test_seed_task_yearly_from_2023_open_ended(deadline: Deadline) -> None:
    found = occurrences(deadline, date(2023, 1, 1), date(2026, 1, 31), plan_date=SEED_PLAN_DATE)
    assert found == [
        Occurrence("2023-12-31", date(2023, 12, 31), "due"),
        Occurrence("2024-12-31", date(2024, 12, 31), "due"),
        Occurrence("2025-12-31", date(2025, 12, 31), "due"),
    ]


@pytest.mark.parametrize(
    ("deadline", "expected"),
    [
        (Deadline(K.PERIOD_END, "Năm 2024", due=date(2024, 12, 31)), [date(2024, 12, 31)]),
        (Deadline(K.PERIOD_END, "Năm 2030", due=date(2030, 12, 31)), []),  # outside the window
        (Deadline(K.FIXED, "Trước ngày 30/6/2024", due=date(2024, 6, 30)), [date(2024, 6, 30)]),
        (
            Deadline(
                K.RANGE, "Giai đoạn 2023 - 2025", start=date(2023, 1, 1), due=date(2025, 12, 31)
            ),
            [date(2025, 12, 31)],
        ),
        (Deadline(K.UNKNOWN, "Theo chỉ đạo của UBND tỉnh"), []),
    ],
)
def test_single_due_kinds(deadline: Deadline, expected: list[date]) -> None:
    found = occurrences(deadline, date(2023, 1, 1), date(2026, 1, 31))
    assert _dues(found) == expected
    assert all(o.key == o.due.isoformat() for o in found if o.due)


SEED_CONDITIONAL = Deadline(
    K.CONDITIONAL,
    "Năm 2024, sau khi có hướng dẫn của Trung ương",
    due=date(2024, 12, 31),
    precondition="sau khi có hướng dẫn của Trung ương",
    soft_kind=K.PERIOD_END,
)


@pytest.mark.parametrize(
    ("deadline", "met_on", "expected"),
    [
        (SEED_CONDITIONAL, None, []),  # nothing until a coordinator records the precondition
        (SEED_CONDITIONAL, date(2024, 3, 1), [date(2024, 12, 31)]),  # the soft date binds
        (SEED_CONDITIONAL, date(2024, 12, 31), [date(2024, 12, 31)]),
        (SEED_CONDITIONAL, date(2025, 1, 10), [date(2025, 2, 9)]),  # soft date past: +30 days
        (
            Deadline(K.CONDITIONAL, "Sau khi Bộ Nội vụ ban hành hướng dẫn", precondition="x"),
            date(2024, 3, 1),
            [date(2024, 3, 31)],  # no soft date: +30 days
        ),
        (
            Deadline(
                K.CONDITIONAL,
                "Hằng năm, sau khi có hướng dẫn",
                start=date(2023, 1, 1),
                frequency=Frequency.YEARLY,
                precondition="x",
                soft_kind=K.RECURRING,
            ),
            date(2024, 3, 1),
            [date(2024, 12, 31), date(2025, 12, 31)],  # the series from the day it was met
        ),
    ],
)
def test_conditional(deadline: Deadline, met_on: date | None, expected: list[date]) -> None:
    found = occurrences(deadline, date(2023, 1, 1), date(2026, 1, 31), precondition_met_on=met_on)
    assert _dues(found) == expected


def test_conditional_continuous_checks_in_after_the_precondition() -> None:
    deadline = Deadline(
        K.CONDITIONAL,
        "Thường xuyên, sau khi có hướng dẫn",
        precondition="x",
        soft_kind=K.CONTINUOUS,
    )
    found = occurrences(
        deadline, date(2024, 1, 1), date(2024, 6, 30), precondition_met_on=date(2024, 3, 15)
    )
    assert [o.key for o in found] == ["checkin-2024-04", "checkin-2024-05", "checkin-2024-06"]


def test_continuous_monthly_checkins_from_the_plan_date() -> None:
    deadline = Deadline(K.CONTINUOUS, "Thường xuyên")
    found = occurrences(deadline, date(2023, 1, 1), date(2023, 8, 15), plan_date=SEED_PLAN_DATE)
    assert found == [
        Occurrence(f"checkin-2023-{m:02d}", date(2023, m, 1), "checkin") for m in range(5, 9)
    ]


def test_continuous_quarterly_checkins_in_a_late_window() -> None:
    deadline = Deadline(K.CONTINUOUS, "Thường xuyên, liên tục")
    found = occurrences(
        deadline,
        date(2026, 1, 1),
        date(2026, 12, 31),
        plan_date=SEED_PLAN_DATE,
        checkin=Frequency.QUARTERLY,
    )
    assert [o.key for o in found] == [
        "checkin-2026-01",
        "checkin-2026-04",
        "checkin-2026-07",
        "checkin-2026-10",
    ]


def test_continuous_respects_until() -> None:
    deadline = Deadline(K.CONTINUOUS, "Thường xuyên đến hết năm 2023", until=date(2023, 12, 31))
    found = occurrences(deadline, date(2023, 10, 1), date(2024, 3, 31))
    assert [o.key for o in found] == ["checkin-2023-10", "checkin-2023-11", "checkin-2023-12"]


ANCHORED = Deadline(
    K.RECURRING,
    "Trước ngày 15/12 hằng năm",
    frequency=Frequency.YEARLY,
    anchor_month=12,
    anchor_day=15,
)


@pytest.mark.parametrize(
    ("deadline", "plan_date", "expected"),
    [
        (ANCHORED, date(2023, 4, 26), [date(2023, 12, 15), date(2024, 12, 15), date(2025, 12, 15)]),
        (ANCHORED, date(2023, 12, 20), [date(2024, 12, 15), date(2025, 12, 15)]),  # 2023's passed
        (
            Deadline(
                K.RECURRING,
                "Trước ngày 15/12 hằng năm, đến năm 2024",
                frequency=Frequency.YEARLY,
                anchor_month=12,
                anchor_day=15,
                until=date(2024, 12, 31),
            ),
            date(2023, 4, 26),
            [date(2023, 12, 15), date(2024, 12, 15)],
        ),
        (
            Deadline(
                K.RECURRING,
                "Ngày 31 hằng tháng",
                start=date(2024, 1, 1),
                frequency=Frequency.MONTHLY,
                anchor_day=31,
                until=date(2024, 4, 30),
            ),
            None,
            [date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 31), date(2024, 4, 30)],
        ),
        (
            Deadline(
                K.RECURRING,
                "Định kỳ hằng quý",
                start=date(2024, 1, 1),
                frequency=Frequency.QUARTERLY,
                until=date(2024, 12, 31),
            ),
            None,
            [date(2024, 3, 31), date(2024, 6, 30), date(2024, 9, 30), date(2024, 12, 31)],
        ),
        (
            Deadline(
                K.RECURRING,
                "6 tháng một lần",
                start=date(2024, 1, 1),
                frequency=Frequency.HALF_YEARLY,
                until=date(2024, 12, 31),
            ),
            None,
            [date(2024, 6, 30), date(2024, 12, 31)],
        ),
        (
            Deadline(
                K.RECURRING,
                "Ngày 20 tháng cuối quý",
                start=date(2024, 4, 1),
                frequency=Frequency.QUARTERLY,
                anchor_day=20,
                until=date(2024, 12, 31),
            ),
            None,
            [date(2024, 6, 20), date(2024, 9, 20), date(2024, 12, 20)],
        ),
    ],
)
def test_recurring_anchors_and_until(
    deadline: Deadline, plan_date: date | None, expected: list[date]
) -> None:
    found = occurrences(deadline, date(2023, 1, 1), date(2025, 12, 31), plan_date=plan_date)
    assert _dues(found) == expected


def test_a_late_window_on_a_long_monthly_series_holds_only_its_months() -> None:
    deadline = Deadline(
        K.RECURRING, "Hằng tháng", start=date(2024, 1, 1), frequency=Frequency.MONTHLY
    )
    found = occurrences(deadline, date(2026, 11, 1), date(2026, 12, 31))
    assert _dues(found) == [date(2026, 11, 30), date(2026, 12, 31)]


def test_recurring_with_no_date_at_all_has_no_occurrence() -> None:
    deadline = Deadline(K.RECURRING, "Hằng năm", frequency=Frequency.YEARLY)
    assert occurrences(deadline, date(2023, 1, 1), date(2026, 12, 31)) == []


@pytest.mark.parametrize(
    ("deadline", "plan_date", "expected"),
    [
        (SEED_CONDITIONAL, SEED_PLAN_DATE, date(2024, 12, 1)),
        (
            Deadline(K.CONDITIONAL, "Sau khi có hướng dẫn", precondition="x"),
            SEED_PLAN_DATE,
            date(2023, 5, 26),
        ),
        (Deadline(K.CONDITIONAL, "Sau khi có hướng dẫn", precondition="x"), None, None),
        (Deadline(K.PERIOD_END, "Năm 2024", due=date(2024, 12, 31)), SEED_PLAN_DATE, None),
    ],
)
def test_precondition_notice_day(
    deadline: Deadline, plan_date: date | None, expected: date | None
) -> None:
    assert precondition_notice_day(deadline, plan_date) == expected
