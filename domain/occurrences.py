"""The concrete due dates a typed deadline produces inside a window of days.

A deadline cell says "Năm 2023 và những năm tiếp theo"; reminders, statuses and reports need
"31/12/2023, 31/12/2024, ...". Each such date is an `Occurrence`, named by a stable key that
progress reports and sent reminders refer to:

- a due date: key ``YYYY-MM-DD`` (the nominal due; moving it off a holiday is the calendar's job);
- a periodic check-in on a continuous task ("Thường xuyên"): key ``checkin-YYYY-MM``. Its ``due``
  is the first day of the check-in period (1st of the month for monthly check-ins); the caller
  moves it to the first working day with the calendar.

Conditional deadlines produce nothing until a coordinator records the day the precondition was
met; from then on they behave as their soft deadline. If that soft due date is already past on that
day, or there is none, the agency gets `PRECONDITION_GRACE` (30 calendar days) from that day.
"""

from dataclasses import dataclass, replace
from datetime import date, timedelta

from domain.deadlines import Deadline, DeadlineKind, Frequency

DUE = "due"
CHECKIN = "checkin"

PRECONDITION_GRACE = timedelta(days=30)
# How long before the soft due date the coordinator hears that a condition is still pending.
PRECONDITION_NOTICE = timedelta(days=30)

MONTHS_PER_PERIOD: dict[Frequency, int] = {
    Frequency.YEARLY: 12,
    Frequency.HALF_YEARLY: 6,
    Frequency.QUARTERLY: 3,
    Frequency.MONTHLY: 1,
}

_SINGLE = frozenset({DeadlineKind.FIXED, DeadlineKind.PERIOD_END, DeadlineKind.RANGE})


@dataclass(frozen=True, slots=True)
class Occurrence:
    key: str
    due: date | None
    kind: str  # DUE or CHECKIN


def _month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def _last_day(year: int, month: int) -> int:
    if month == 12:
        return 31
    return (date(year, month + 1, 1) - timedelta(days=1)).day


def _day_in(year: int, month: int, day: int | None) -> date:
    """Day `day` of the month, clamped to its length (day 31 of June is 30/6); None: last day."""
    last = _last_day(year, month)
    return date(year, month, last if day is None else max(1, min(day, last)))


def _period_due(first_month: int, months: int, deadline: Deadline) -> date:
    """The due date of the period starting at month index `first_month`.

    Yearly periods use anchor_month/anchor_day ("Trước ngày 15/12 hằng năm"); shorter periods use
    anchor_day in their last month ("ngày 20 hằng tháng"); unanchored periods end on their last day.
    """
    if months == 12 and deadline.anchor_month is not None:
        return _day_in(first_month // 12, deadline.anchor_month, deadline.anchor_day)
    year, month0 = divmod(first_month + months - 1, 12)
    return _day_in(year, month0 + 1, deadline.anchor_day)


def _single(due: date | None, start: date, end: date) -> list[Occurrence]:
    if due is None or not start <= due <= end:
        return []
    return [Occurrence(due.isoformat(), due, DUE)]


def _recurring(
    deadline: Deadline, start: date, end: date, plan_date: date | None, not_before: date | None
) -> list[Occurrence]:
    """The series of a recurring deadline (frequency None is read as yearly, the common case).

    The first period is the one holding ``deadline.start`` (else ``due``, else the plan's date);
    dues before ``deadline.due`` (else ``start``, else the plan's date) are dropped, so a plan
    issued on 20/12 owes nothing for a "15/12 hằng năm" that already passed. A period counts while
    its due is on or before ``until``.
    """
    months = MONTHS_PER_PERIOD[deadline.frequency or Frequency.YEARLY]
    origin = deadline.start or deadline.due or plan_date
    if origin is None:
        return []
    lower = deadline.due or deadline.start or plan_date
    if not_before is not None and (lower is None or not_before > lower):
        lower = not_before
    first_month = _month_index(origin) // months * months
    skip = max(0, (_month_index(start) - first_month) // months - 1)
    found: list[Occurrence] = []
    period = first_month + skip * months
    while True:
        due = _period_due(period, months, deadline)
        if due > end or (deadline.until is not None and due > deadline.until):
            return found
        if due >= start and (lower is None or due >= lower):
            found.append(Occurrence(due.isoformat(), due, DUE))
        period += months


def _checkins(
    deadline: Deadline, start: date, end: date, not_before: date | None, every: Frequency
) -> list[Occurrence]:
    """Check-ins on the first day of each period of `every`, from the later of the task's start
    and `not_before` (the plan's date), until ``deadline.until`` if any."""
    months = MONTHS_PER_PERIOD[every]
    lower = max(d for d in (deadline.start, not_before, start) if d is not None)
    month = _month_index(lower) + (lower.day > 1)  # the first month starting on or after lower
    period = (month + months - 1) // months * months
    found: list[Occurrence] = []
    while True:
        year, month0 = divmod(period, 12)
        day = date(year, month0 + 1, 1)
        if day > end or (deadline.until is not None and day > deadline.until):
            return found
        found.append(Occurrence(f"checkin-{year:04d}-{month0 + 1:02d}", day, CHECKIN))
        period += months


def _after_precondition(deadline: Deadline, met_on: date) -> Deadline:
    """The deadline a conditional one becomes once its precondition is met on `met_on`."""
    soft = deadline.soft_kind
    if soft in _SINGLE and deadline.due is not None and deadline.due >= met_on:
        return replace(deadline, kind=soft)
    if soft is DeadlineKind.RECURRING:
        return replace(deadline, kind=soft)
    if soft is DeadlineKind.CONTINUOUS:
        return replace(deadline, kind=soft, start=met_on)
    return Deadline(DeadlineKind.FIXED, deadline.text, due=met_on + PRECONDITION_GRACE)


def occurrences(
    deadline: Deadline,
    start: date,
    end: date,
    *,
    plan_date: date | None = None,
    precondition_met_on: date | None = None,
    checkin: Frequency = Frequency.MONTHLY,
) -> list[Occurrence]:
    """The occurrences of `deadline` whose due date lies in [start, end], in date order."""
    kind = deadline.kind
    not_before = None
    if kind is DeadlineKind.CONDITIONAL:
        if precondition_met_on is None:
            return []
        deadline = _after_precondition(deadline, precondition_met_on)
        kind = deadline.kind
        not_before = precondition_met_on
    if kind in _SINGLE:
        return _single(deadline.due, start, end)
    if kind is DeadlineKind.RECURRING:
        return _recurring(deadline, start, end, plan_date, not_before)
    if kind is DeadlineKind.CONTINUOUS:
        return _checkins(deadline, start, end, not_before or plan_date, checkin)
    return []  # UNKNOWN: a person must read the text; nothing is guessed


def precondition_notice_day(deadline: Deadline, plan_date: date | None) -> date | None:
    """When to tell the coordinator that a conditional task still waits for its precondition:
    `PRECONDITION_NOTICE` before the soft due date, or `PRECONDITION_GRACE` after the plan's date
    when the text names no date. None for other kinds, or when neither date is known."""
    if deadline.kind is not DeadlineKind.CONDITIONAL:
        return None
    if deadline.due is not None:
        return deadline.due - PRECONDITION_NOTICE
    return None if plan_date is None else plan_date + PRECONDITION_GRACE
