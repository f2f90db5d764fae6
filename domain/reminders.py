"""Which reminders to send, to whom and when: a pure plan the outbox turns into rows.

`plan_reminders` looks at every assignment (one agency's share of one task) and returns the
`Planned` reminders whose send moment falls inside a window around `now`. It neither knows nor
cares what was already sent: the outbox stores each (assignment, occurrence, step, audience) once,
and the dispatcher decides what is too late to be worth sending. Rules:

- Send moments are at `policy.send_time` on working days. A warning ("before:N", N calendar days
  before the nominal due) whose day is off moves to the previous working day, so a reminder that
  would fall on Tết goes out on the last working day before it. When several warnings land on the
  same day that way, only the one closest to the due date is kept.
- "due" goes out on the effective due date (the next working day when the due date is a day off,
  Bộ luật Dân sự 2015 Điều 148).
- Lead agencies get `lead_days_before`, support agencies `support_days_before`; both get "due".
- Only the lead owns the deadline, so only the lead is chased afterwards: "overdue:1" on the
  first working day after the effective due, then every `overdue_every_working_days` working days,
  at most `overdue_max_repeats` times; and once, `escalate_after_days` calendar days after the
  effective due (moved forward to a working day, never before it is that late), an "escalation" to
  the agency's head and, as a separate reminder, to the plan's coordinator. 0 turns it off.
- Continuous tasks: a "checkin" on the first working day of each check-in period, to the lead
  (and to support agencies when `policy.checkin_support`).
- Conditional tasks whose precondition is not met yet: only the coordinator hears about them, once
  per task (from the lead's assignment): a "precondition" reminder 30 days before the soft due
  date, or 30 days after the plan's date when the text names no date.
- Occurrences whose key is in `AssignmentView.done` get nothing.
- `successor_on(agency, day)` names the agency that answers for `agency` on `day` (after a merger,
  its successor); `day` is the occurrence's due date (the send day for the precondition notice).

`Planned.agency` is always the agency the reminder is about, also for the "head" and
"coordinator" audiences: the dispatcher finds the recipients from it and from the plan.
"""

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TypeVar

from domain.calendar import WorkingCalendar, at_local, local_date
from domain.deadlines import Deadline, DeadlineKind
from domain.i18n import t
from domain.occurrences import CHECKIN, occurrences, precondition_notice_day
from domain.plan_import import Role

DUE = "due"
ESCALATION = "escalation"
CHECKIN_STEP = "checkin"
PRECONDITION = "precondition"

AGENCY = "agency"
HEAD = "head"
COORDINATOR = "coordinator"

_SLACK_DAYS = 16  # room for Tết and a weekend when turning working days into calendar days


def before_step(days: int) -> str:
    return f"before:{days}"


def overdue_step(repeat: int) -> str:
    return f"overdue:{repeat}"


@dataclass(frozen=True, slots=True)
class ReminderPolicy:
    lead_days_before: tuple[int, ...] = (30, 14, 7, 3, 1)
    support_days_before: tuple[int, ...] = (7,)
    on_due_day: bool = True
    send_time: time = time(8, 0)
    overdue_every_working_days: int = 3
    overdue_max_repeats: int = 10
    escalate_after_days: int = 7
    checkin_support: bool = False

    def __post_init__(self) -> None:
        if any(n < 1 for n in (*self.lead_days_before, *self.support_days_before)):
            raise ValueError("days before a due date must be at least 1")
        if self.overdue_every_working_days < 1:
            raise ValueError("overdue_every_working_days must be at least 1")
        if self.overdue_max_repeats < 0 or self.escalate_after_days < 0:
            raise ValueError("overdue_max_repeats and escalate_after_days cannot be negative")


@dataclass(frozen=True, slots=True)
class AssignmentView:
    assignment_id: int
    agency: str
    role: Role
    plan: str
    task: str
    title: str
    deadline: Deadline
    plan_date: date | None = None
    precondition_met_on: date | None = None
    done: frozenset[str] = field(default_factory=frozenset)  # occurrence keys reported done


@dataclass(frozen=True, slots=True)
class Planned:
    assignment_id: int
    agency: str
    occurrence: str
    due: date | None
    step: str
    audience: str
    send_at: datetime


_Step = tuple[str, str, datetime]  # step, audience, send_at
# occurrence key, due, step, audience, send_at, day that picks the successor agency
_Row = tuple[str, date | None, str, str, datetime, date]


class _Planner:
    """The caches of one `plan_reminders` call: most assignments share a few deadlines and dates,
    so each (deadline, plan date, precondition date, role) is planned once, as rows that only need
    the assignment's id and agency."""

    def __init__(
        self,
        calendar: WorkingCalendar,
        policy: ReminderPolicy,
        low: datetime,
        high: datetime,
    ) -> None:
        self.calendar = calendar
        self.policy = policy
        self.low = low
        self.high = high
        every = policy.overdue_every_working_days
        overdue_working = 1 + max(0, policy.overdue_max_repeats - 1) * every
        after = max(math.ceil(overdue_working * 7 / 5), policy.escalate_after_days) + _SLACK_DAYS
        before = max((*policy.lead_days_before, *policy.support_days_before), default=0)
        self.first_due = local_date(low) - timedelta(days=after)
        self.last_due = local_date(high) + timedelta(days=before + 1)
        self._moments: dict[date, datetime] = {}
        self._schedules: dict[tuple[date, bool], tuple[_Step, ...]] = {}
        self._rows: dict[tuple[Deadline, date | None, date | None, bool], tuple[_Row, ...]] = {}

    def moment(self, day: date) -> datetime:
        found = self._moments.get(day)
        if found is None:
            found = self._moments[day] = at_local(day, self.policy.send_time)
        return found

    def _inside(self, moment: datetime) -> bool:
        return self.low <= moment <= self.high

    def schedule(self, due: date, lead: bool) -> tuple[_Step, ...]:
        """The steps of one due occurrence for a lead or support agency, inside the window."""
        key = (due, lead)
        found = self._schedules.get(key)
        if found is not None:
            return found
        calendar, policy = self.calendar, self.policy
        effective = calendar.effective_due(due)
        warnings: dict[date, str] = {}
        days_before = policy.lead_days_before if lead else policy.support_days_before
        for n in sorted(set(days_before), reverse=True):  # the closest warning wins a shared day
            warnings[calendar.on_or_before(due - timedelta(days=n))] = before_step(n)
        steps: list[tuple[str, str, date]] = [(s, AGENCY, d) for d, s in sorted(warnings.items())]
        if policy.on_due_day:
            steps.append((DUE, AGENCY, effective))
        if lead:
            every = policy.overdue_every_working_days
            for k in range(1, policy.overdue_max_repeats + 1):
                day = calendar.add_working_days(effective, 1 + (k - 1) * every)
                steps.append((overdue_step(k), AGENCY, day))
            if policy.escalate_after_days:
                day = calendar.on_or_after(effective + timedelta(days=policy.escalate_after_days))
                steps.append((ESCALATION, HEAD, day))
                steps.append((ESCALATION, COORDINATOR, day))
        found = tuple(
            (step, audience, moment)
            for step, audience, day in steps
            if self._inside(moment := self.moment(day))
        )
        self._schedules[key] = found
        return found

    def rows(self, view: AssignmentView, lead: bool) -> tuple[_Row, ...]:
        deadline, plan_date, met_on = view.deadline, view.plan_date, view.precondition_met_on
        key = (deadline, plan_date, met_on, lead)
        found = self._rows.get(key)
        if found is None:
            found = self._rows[key] = tuple(self._plan(deadline, plan_date, met_on, lead))
        return found

    def _plan(
        self, deadline: Deadline, plan_date: date | None, met_on: date | None, lead: bool
    ) -> list[_Row]:
        if deadline.kind is DeadlineKind.CONDITIONAL and met_on is None:
            day = precondition_notice_day(deadline, plan_date) if lead else None
            if day is None:
                return []
            moment = self.moment(self.calendar.on_or_before(day))
            if not self._inside(moment):
                return []
            on = deadline.due or moment.date()
            return [(PRECONDITION, deadline.due, PRECONDITION, COORDINATOR, moment, on)]
        found: list[_Row] = []
        for occ in occurrences(
            deadline, self.first_due, self.last_due, plan_date=plan_date, precondition_met_on=met_on
        ):
            due = occ.due
            if due is None:
                continue
            if occ.kind == CHECKIN:
                if lead or self.policy.checkin_support:
                    moment = self.moment(self.calendar.on_or_after(due))
                    if self._inside(moment):
                        found.append((occ.key, due, CHECKIN_STEP, AGENCY, moment, due))
                continue
            for step, audience, moment in self.schedule(due, lead):
                found.append((occ.key, due, step, audience, moment, due))
        return found


def plan_reminders(
    assignments: Iterable[AssignmentView],
    *,
    calendar: WorkingCalendar,
    policy: ReminderPolicy,
    now: datetime,
    horizon_days: int = 45,
    lookback_days: int = 400,
    successor_on: Callable[[str, date], str] | None = None,
) -> list[Planned]:
    """Every reminder whose send moment lies in [now - lookback_days, now + horizon_days].

    The result follows the input order, each occurrence's steps in time order.
    """
    planner = _Planner(
        calendar, policy, now - timedelta(days=lookback_days), now + timedelta(days=horizon_days)
    )
    successors: dict[tuple[str, date], str] = {}
    planned: list[Planned] = []
    add = planned.append
    for view in assignments:
        rows = planner.rows(view, view.role is Role.LEAD)
        if not rows:
            continue
        aid, agency, done = view.assignment_id, view.agency, view.done
        for key, due, step, audience, moment, on in rows:
            if done and key in done:
                continue
            who = agency
            if successor_on is not None:
                who_key = (agency, on)
                found = successors.get(who_key)
                if found is None:
                    found = successors[who_key] = successor_on(agency, on)
                who = found
            add(Planned(aid, who, key, due, step, audience, moment))
    return planned


def step_order(step: str) -> tuple[int, int] | None:
    """Where a step sits in an occurrence's sequence: before:30 < ... < before:1 < due <
    overdue:1 < overdue:2 < ...; None for steps outside it (escalation, checkin, precondition),
    which never supersede nor are superseded."""
    kind, _, arg = step.partition(":")
    if step == DUE:
        return (1, 0)
    if kind in ("before", "overdue") and arg.isdigit():
        return (0, -int(arg)) if kind == "before" else (2, int(arg))
    return None


Id = TypeVar("Id")


def supersede(rows: Sequence[tuple[Id, str]]) -> list[tuple[Id, str]]:
    """Catch-up after downtime: of the due rows (id, step) of ONE (assignment, occurrence), only
    the latest step in `step_order` is worth sending. Returns the others as (id, reason), the
    reason in Vietnamese for the audit trail ("đã có nhắc việc mới hơn: overdue:2"). Among equal
    steps the last row is kept."""
    ranked = [
        (order, i) for i, (_, step) in enumerate(rows) if (order := step_order(step)) is not None
    ]
    if len(ranked) < 2:
        return []
    keep = max(ranked)[1]
    reason = t("reminder.superseded", "vi", step=rows[keep][1])
    return [(rows[i][0], reason) for _, i in ranked if i != keep]
