"""The Vietnamese working calendar: holidays, government swaps, config overrides, arithmetic."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from domain.calendar import (
    VN_GOVERNMENT_DAYS_OFF,
    VN_GOVERNMENT_WORKING_DAYS,
    ZONE,
    WorkingCalendar,
    at_local,
    local_date,
)


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar()


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


@pytest.mark.parametrize(
    ("first", "last"),
    [
        (date(2023, 1, 20), date(2023, 1, 26)),  # Tết Quý Mão
        (date(2024, 2, 8), date(2024, 2, 14)),  # Tết Giáp Thìn
        (date(2025, 1, 25), date(2025, 2, 2)),  # Tết Ất Tỵ: nine days
        (date(2026, 2, 14), date(2026, 2, 22)),  # Tết Bính Ngọ
    ],
)
def test_tet_is_off_and_the_days_around_it_are_working(
    cal: WorkingCalendar, first: date, last: date
) -> None:
    assert [d for d in _days(first, last) if cal.is_working_day(d)] == []
    assert cal.is_working_day(first - timedelta(days=1))
    assert cal.is_working_day(last + timedelta(days=1))


@pytest.mark.parametrize("year", [2023, 2024, 2025, 2026])
@pytest.mark.parametrize(("month", "day"), [(1, 1), (4, 30), (5, 1), (9, 2)])
def test_fixed_public_holidays_are_off(
    cal: WorkingCalendar, year: int, month: int, day: int
) -> None:
    d = date(year, month, day)
    assert not cal.is_working_day(d)
    assert cal.holiday_name(d)


@pytest.mark.parametrize(
    ("d", "working"),
    [
        (date(2024, 4, 29), False),  # Monday given off, made up on Saturday 4/5/2024
        (date(2024, 5, 4), True),
        (date(2025, 5, 2), False),  # Friday given off, made up on Saturday 26/4/2025
        (date(2025, 4, 26), True),
        (date(2024, 9, 3), False),  # Quốc khánh's adjacent day
        (date(2025, 9, 1), False),
        (date(2026, 11, 26), True),  # an ordinary Thursday
        (date(2026, 11, 28), False),  # an ordinary Saturday
    ],
)
def test_government_swaps(cal: WorkingCalendar, d: date, working: bool) -> None:
    assert cal.is_working_day(d) is working


def test_shipped_government_data_is_consistent(cal: WorkingCalendar) -> None:
    assert all(d.weekday() < 5 and not cal.is_working_day(d) for d in VN_GOVERNMENT_DAYS_OFF)
    assert all(d.weekday() == 5 and cal.is_working_day(d) for d in VN_GOVERNMENT_WORKING_DAYS)


def test_config_swaps_a_saturday_into_a_working_day_and_adds_a_day_off() -> None:
    saturday, monday = date(2026, 12, 5), date(2026, 12, 7)
    cal = WorkingCalendar(working_days=[saturday], days_off={monday: "Nghỉ bù làm thứ Bảy"})
    assert cal.is_working_day(saturday)
    assert not cal.is_working_day(monday)
    assert cal.holiday_name(monday) == "Nghỉ bù làm thứ Bảy"
    assert cal.add_working_days(date(2026, 12, 4), 1) == saturday
    assert cal.add_working_days(saturday, 1) == date(2026, 12, 8)


def test_config_working_day_overrides_a_holiday() -> None:
    cal = WorkingCalendar(working_days=[date(2026, 9, 2)])
    assert cal.is_working_day(date(2026, 9, 2))
    assert cal.holiday_name(date(2026, 9, 2)) is None


def test_a_date_cannot_be_both_off_and_working() -> None:
    with pytest.raises(ValueError, match="2026-12-05"):
        WorkingCalendar(days_off=[date(2026, 12, 5)], working_days=[date(2026, 12, 5)])


def test_holiday_names(cal: WorkingCalendar) -> None:
    assert "Quốc khánh" in (cal.holiday_name(date(2024, 9, 2)) or "")
    assert cal.holiday_name(date(2026, 11, 28)) is None  # a plain Saturday
    assert cal.holiday_name(date(2026, 11, 26)) is None  # a working day


@pytest.mark.parametrize(
    ("d", "n", "expected"),
    [
        (date(2024, 2, 7), 1, date(2024, 2, 15)),  # across Tết 2024
        (date(2024, 2, 15), -1, date(2024, 2, 7)),
        (date(2025, 1, 24), 1, date(2025, 2, 3)),  # across Tết 2025
        (date(2025, 1, 24), 3, date(2025, 2, 5)),
        (date(2025, 2, 3), -2, date(2025, 1, 23)),
        (date(2026, 11, 28), 1, date(2026, 11, 30)),  # from a Saturday
        (date(2026, 11, 28), -1, date(2026, 11, 27)),
        (date(2026, 11, 26), 0, date(2026, 11, 26)),
        (date(2026, 11, 20), 5, date(2026, 11, 30)),  # 24/11/2026 is Ngày Văn hóa Việt Nam
    ],
)
def test_add_working_days(cal: WorkingCalendar, d: date, n: int, expected: date) -> None:
    assert cal.add_working_days(d, n) == expected


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (date(2025, 1, 24), date(2025, 2, 3), 1),
        (date(2024, 2, 7), date(2024, 2, 15), 1),
        (date(2026, 11, 26), date(2026, 11, 26), 0),
        (date(2026, 11, 27), date(2026, 11, 20), -4),
        (date(2026, 1, 1), date(2026, 12, 31), 249),
    ],
)
def test_working_days_between(cal: WorkingCalendar, a: date, b: date, expected: int) -> None:
    assert cal.working_days_between(a, b) == expected


@pytest.mark.parametrize(
    ("due", "effective"),
    [
        (date(2026, 11, 29), date(2026, 11, 30)),  # a Sunday moves to Monday
        (date(2024, 2, 10), date(2024, 2, 15)),  # Tết moves past Tết
        (date(2026, 11, 26), date(2026, 11, 26)),  # a working day stays
    ],
)
def test_effective_due_moves_off_days_forward(
    cal: WorkingCalendar, due: date, effective: date
) -> None:
    assert cal.effective_due(due) == effective


def test_on_or_before_and_after(cal: WorkingCalendar) -> None:
    assert cal.on_or_before(date(2025, 1, 29)) == date(2025, 1, 24)
    assert cal.on_or_after(date(2025, 1, 29)) == date(2025, 2, 3)
    assert cal.on_or_before(date(2026, 11, 26)) == date(2026, 11, 26)


def test_working_days_in_and_nth_working_day_of_month(cal: WorkingCalendar) -> None:
    assert cal.working_days_in(date(2025, 1, 23), date(2025, 2, 4)) == [
        date(2025, 1, 23),
        date(2025, 1, 24),
        date(2025, 2, 3),
        date(2025, 2, 4),
    ]
    assert cal.nth_working_day_of_month(2027, 1) == date(2027, 1, 4)  # 1/1 is Tết Dương lịch


def test_dates_outside_the_indexed_years_get_the_same_answers(cal: WorkingCalendar) -> None:
    small = WorkingCalendar(first_year=2026, last_year=2026)
    sample = _days(date(2024, 12, 20), date(2025, 2, 10))
    assert [small.is_working_day(d) for d in sample] == [cal.is_working_day(d) for d in sample]
    for d in sample[::5]:
        assert small.on_or_before(d) == cal.on_or_before(d)
        assert small.on_or_after(d) == cal.on_or_after(d)
        assert small.add_working_days(d, 4) == cal.add_working_days(d, 4)
        assert small.add_working_days(d, -4) == cal.add_working_days(d, -4)
        assert small.working_days_between(d, date(2026, 1, 5)) == cal.working_days_between(
            d, date(2026, 1, 5)
        )


def test_local_date_converts_to_viet_nam() -> None:
    assert local_date(datetime(2026, 11, 25, 18, 0, tzinfo=UTC)) == date(2026, 11, 26)
    assert local_date(datetime(2026, 11, 25, 16, 59, tzinfo=UTC)) == date(2026, 11, 25)


def test_local_date_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="naive"):
        local_date(datetime(2026, 11, 26, 8, 0))


def test_at_local_is_aware_at_plus_seven() -> None:
    moment = at_local(date(2026, 11, 26), time(8, 0))
    assert moment.tzinfo is ZONE
    assert moment.utcoffset() == timedelta(hours=7)
    assert moment.astimezone(UTC) == datetime(2026, 11, 26, 1, 0, tzinfo=UTC)


def test_holidays_are_computed_at_the_first_question_not_when_the_calendar_is_built() -> None:
    calendar = WorkingCalendar()
    # a service's start builds the calendar but may ask nothing of it before its first reminder
    assert "_table" not in vars(calendar) and "_package" not in vars(calendar)
    assert not calendar.is_working_day(date(2025, 9, 2))  # Quốc khánh
    assert "_table" in vars(calendar)
