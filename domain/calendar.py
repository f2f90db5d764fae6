"""The Vietnamese working calendar: which days an office works, and dates in Asia/Ho_Chi_Minh.

Deadlines, reminders and statuses all count in working days. Public holidays come from the
`holidays` package; on top of it sit the government's yearly days-off decisions (shipped below as
data, in case an older `holidays` release lacks them) and the days off or swapped working days a
deployment adds in its config. Later layers win: config working days > config days off >
government working days > government days off > the package's make-up Saturdays > the package's
holidays > the Monday-to-Friday week.

Dates from `first_year` to `last_year` are indexed once, so that the per-date questions the reminder
planner asks hundreds of thousands of times are a list look-up; dates outside that span are
answered day by day (the package fills in those years on demand).
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from holidays import HolidayBase


ZONE = ZoneInfo("Asia/Ho_Chi_Minh")

_ONE_DAY = timedelta(days=1)

# Days off decided by the Government for civil servants (cán bộ, công chức, viên chức), 2023-2026,
# beyond the plain holidays of the Labour Code. Only days we are confident of are listed; every one
# of them also appears in `holidays` 0.109, so today this layer only guards against older releases
# of the package (pyproject allows >= 0.60), which lack the 2024-2025 swaps. 2026's decisions are
# left to the package (its data for 2026 includes the 31/8 swap); add a year here, or in the
# deployment config, when a new decision is published and the package has not caught up.
VN_GOVERNMENT_DAYS_OFF: Mapping[date, str] = {
    # Tết Quý Mão 2023: Bộ LĐTBXH's announcement (12/2022), off Fri 20/1 to Thu 26/1/2023.
    **{date(2023, 1, day): "Nghỉ Tết Nguyên đán" for day in (20, 23, 24, 25, 26)},
    # Giỗ Tổ (Sat 29/4) and 30/4 (Sun) fell on the weekend: compensatory days off (BLLĐ 2019,
    # Điều 111).
    date(2023, 5, 2): "Nghỉ bù Giỗ Tổ Hùng Vương",
    date(2023, 5, 3): "Nghỉ bù Ngày Chiến thắng",
    # Quốc khánh 2023: 1/9 (adjacent day) and Mon 4/9 in compensation for Sat 2/9.
    date(2023, 9, 1): "Quốc khánh",
    date(2023, 9, 4): "Nghỉ bù Quốc khánh",
    # Tết Giáp Thìn 2024: Bộ LĐTBXH's announcement (2023), off Thu 8/2 to Wed 14/2/2024.
    **{date(2024, 2, day): "Nghỉ Tết Nguyên đán" for day in (8, 9, 12, 13, 14)},
    # 30/4 2024: Công văn 2450/VPCP-KGVX: Mon 29/4 off, made up on Sat 4/5/2024.
    date(2024, 4, 29): "Ngày nghỉ (hoán đổi với thứ Bảy 04/05/2024)",
    # Tết Ất Tỵ 2025: Thông báo 6150/TB-BLĐTBXH (2024), off Sat 25/1 to Sun 2/2/2025.
    **{date(2025, 1, day): "Nghỉ Tết Nguyên đán" for day in (27, 28, 29, 30, 31)},
    # 30/4 2025: Fri 2/5 off, made up on Sat 26/4/2025 (Government's approval, 2025).
    date(2025, 5, 2): "Ngày nghỉ (hoán đổi với thứ Bảy 26/04/2025)",
}

VN_GOVERNMENT_WORKING_DAYS: Mapping[date, str] = {
    date(2024, 5, 4): "Làm bù cho thứ Hai 29/04/2024",
    date(2025, 4, 26): "Làm bù cho thứ Sáu 02/05/2025",
}


def local_date(moment: datetime) -> date:
    """The calendar day of an aware moment in Viet Nam; a naive datetime is refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: a time zone is required")
    return moment.astimezone(ZONE).date()


def at_local(d: date, t: time) -> datetime:
    """The aware moment at wall-clock time `t` on day `d` in Viet Nam (a zone on `t` is ignored)."""
    return datetime.combine(d, t.replace(tzinfo=None), tzinfo=ZONE)


@dataclass(frozen=True, slots=True)
class _DayIndex:
    flags: bytearray  # 1 for a working day, by index from the first day
    before: array[int]  # before[i]: working days among indexes < i
    working: array[int]  # the indexes of working days, in order


def _named(days: Iterable[date], default_name: str) -> dict[date, str]:
    if isinstance(days, Mapping):
        return {d: str(name) for d, name in days.items()}
    return dict.fromkeys(days, default_name)


class WorkingCalendar:
    """Working days of a Vietnamese public office: Monday to Friday, minus holidays and days off."""

    def __init__(
        self,
        *,
        days_off: Iterable[date] = (),
        working_days: Iterable[date] = (),
        first_year: int = 2020,
        last_year: int = 2040,
        government_days_off: Mapping[date, str] = VN_GOVERNMENT_DAYS_OFF,
        government_working_days: Mapping[date, str] = VN_GOVERNMENT_WORKING_DAYS,
    ) -> None:
        """`days_off` / `working_days` come from config (a mapping date -> name is also accepted).

        Pass `government_days_off={}` (or another mapping) to replace the shipped decisions.
        """
        if first_year > last_year:
            raise ValueError(f"first_year {first_year} is after last_year {last_year}")
        self._config_off = _named(days_off, "Ngày nghỉ (theo cấu hình)")
        self._config_working = _named(working_days, "Ngày làm việc (theo cấu hình)")
        clash = sorted(set(self._config_off) & set(self._config_working))
        if clash:
            shown = ", ".join(d.isoformat() for d in clash)
            raise ValueError(f"dates both days off and working days in config: {shown}")
        self._gov_off = dict(government_days_off)
        self._gov_working = dict(government_working_days)
        self._years = range(first_year, last_year + 1)
        self._first = date(first_year, 1, 1)
        self._last = date(last_year, 12, 31)
        self._base = self._first.toordinal()
        self._size = self._last.toordinal() - self._base + 1

    # The holidays and the day index are built at the first question, not with the calendar: a
    # service's start, or a command that never counts days, does not wait for 21 years of
    # holidays. Both are pure functions of the settings above, so two threads that race to build
    # them build the same thing.

    @cached_property
    def _package(self) -> HolidayBase:
        import holidays  # 0.1 s to import: only when a date is first asked about

        return holidays.country_holidays("VN", years=self._years, language="vi")

    @cached_property
    def _table(self) -> _DayIndex:
        flags = bytearray(self._size)
        # before[i]: working days among indexes < i; working: indexes of working days, in order.
        before = array("l", [0]) * (self._size + 1)
        working = array("l")
        day = self._first
        for i in range(self._size):
            if self._decide(day):
                flags[i] = 1
                working.append(i)
            before[i + 1] = len(working)
            day += _ONE_DAY
        return _DayIndex(flags, before, working)

    def _decide(self, d: date) -> bool:
        if d in self._config_working:
            return True
        if d in self._config_off:
            return False
        if d in self._gov_working:
            return True
        if d in self._gov_off:
            return False
        if d in getattr(self._package, "weekend_workdays", ()):
            return True
        if d in self._package:
            return False
        return d.weekday() < 5

    def _index(self, d: date) -> int | None:
        i = d.toordinal() - self._base
        return i if 0 <= i < self._size else None

    def _from_index(self, i: int) -> date:
        return date.fromordinal(self._base + i)

    def is_working_day(self, d: date) -> bool:
        i = self._index(d)
        return self._decide(d) if i is None else self._table.flags[i] == 1

    def holiday_name(self, d: date) -> str | None:
        """Why an office is closed on `d`; None on a working day or a plain weekend."""
        if self.is_working_day(d):
            return None
        if d in self._config_off:
            return self._config_off[d]
        name = self._package.get(d)
        if name is not None:
            return str(name)
        return self._gov_off.get(d)

    def on_or_before(self, d: date) -> date:
        """The latest working day on or before `d`."""
        i = self._index(d)
        if i is not None:
            count = self._table.before[i + 1]
            if count:
                return self._from_index(self._table.working[count - 1])
            d = self._first - _ONE_DAY
        while not self.is_working_day(d):
            d -= _ONE_DAY
        return d

    def on_or_after(self, d: date) -> date:
        """The earliest working day on or after `d`."""
        i = self._index(d)
        if i is not None:
            count = self._table.before[i]
            if count < len(self._table.working):
                return self._from_index(self._table.working[count])
            d = self._last + _ONE_DAY
        while not self.is_working_day(d):
            d += _ONE_DAY
        return d

    def add_working_days(self, d: date, n: int) -> date:
        """The n-th working day after `d` (before it when n < 0); `d` itself when n == 0.

        `d` need not be a working day: one working day after a Saturday is the next Monday.
        """
        if n == 0:
            return d
        i = self._index(d)
        if i is not None:
            target = self._table.before[i + 1] + n - 1 if n > 0 else self._table.before[i] + n
            if 0 <= target < len(self._table.working):
                return self._from_index(self._table.working[target])
        step = _ONE_DAY if n > 0 else -_ONE_DAY
        left = abs(n)
        while left:
            d += step
            if self.is_working_day(d):
                left -= 1
        return d

    def working_days_between(self, a: date, b: date) -> int:
        """Working days in (a, b]; negative when b is before a."""
        if b < a:
            return -self.working_days_between(b, a)
        i, j = self._index(a), self._index(b)
        if i is not None and j is not None:
            return self._table.before[j + 1] - self._table.before[i + 1]
        count = 0
        day = a
        while day < b:
            day += _ONE_DAY
            if self.is_working_day(day):
                count += 1
        return count

    def effective_due(self, due: date) -> date:
        """A due date that falls on a day off moves to the next working day.

        Bộ luật Dân sự 2015, Điều 148(5): when the last day of a period is a weekly rest day or a
        holiday, the period ends at the end of the next working day.
        """
        return self.on_or_after(due)

    def working_days_in(self, first: date, last: date) -> list[date]:
        """The working days from `first` to `last`, both included."""
        if last < first:
            return []
        i, j = self._index(first), self._index(last)
        if i is not None and j is not None:
            lo, hi = self._table.before[i], self._table.before[j + 1]
            return [self._from_index(k) for k in self._table.working[lo:hi]]
        days = []
        day = first
        while day <= last:
            if self.is_working_day(day):
                days.append(day)
            day += _ONE_DAY
        return days

    def nth_working_day_of_month(self, year: int, month: int, n: int = 1) -> date:
        """The n-th working day of a month (n >= 1), e.g. the first one for monthly check-ins."""
        if n < 1:
            raise ValueError("n counts from 1")
        return self.add_working_days(date(year, month, 1) - _ONE_DAY, n)
