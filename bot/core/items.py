"""Which occurrence of an assignment a chat is talking about, and where it stands.

A task given to an agency can fall due many times (a yearly report, a monthly check-in). A person
who writes "đã xong" or presses a task in /report means the *current* one:
- a continuous task: the latest check-in period that has started (else the first one);
- a dated task: the earliest occurrence already due that is not finished (work is caught up in
  order), else the next one to fall due, else the last one;
- a task with no occurrence at all (deadline unreadable, precondition not met): the key "".
"Finished" means done on time or late; a completion awaiting confirmation is still open.
Pure: the facts come from ``storage.progress.assignment_facts``; ``on`` is a parameter.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from domain.calendar import WorkingCalendar
from domain.deadlines import DeadlineKind
from domain.occurrences import CHECKIN, Occurrence, occurrences
from domain.status import State, StatusResult, status_of
from storage.progress import AssignmentFacts

_EARLIEST = date(2000, 1, 1)
_AHEAD = timedelta(days=400)
FINISHED = frozenset({State.DONE_ON_TIME, State.DONE_LATE})


@dataclass(frozen=True, slots=True)
class WorkItem:
    """One assignment at one occurrence, with its status: what a chat shows and reports on."""

    facts: AssignmentFacts
    occurrence: str
    due: date | None
    result: StatusResult

    @property
    def assignment_id(self) -> int:
        return self.facts.assignment_id

    @property
    def is_open(self) -> bool:
        return self.result.state not in FINISHED

    @property
    def sort_key(self) -> tuple[date, str, tuple[int, str]]:
        task = self.facts.task
        head = task.split(".")[0]
        return (self.due or date.max, self.facts.plan, (int(head), task) if head.isdigit()
                else (10**6, task))


def _occurrences(facts: AssignmentFacts, on: date) -> list[Occurrence]:
    deadline = facts.deadline
    end = max(on, deadline.due or on, deadline.start or on) + _AHEAD
    return occurrences(
        deadline,
        _EARLIEST,
        end,
        plan_date=facts.plan_issued_on,
        precondition_met_on=facts.precondition_met_on,
    )


def _status(
    facts: AssignmentFacts,
    key: str,
    due: date | None,
    checkin: bool,
    on: date,
    calendar: WorkingCalendar,
    require_confirmation: bool,
) -> StatusResult:
    deadline = facts.deadline
    kind = DeadlineKind.CONTINUOUS if checkin else deadline.kind
    return status_of(
        due=due,
        kind=kind,
        precondition_met=facts.precondition_met_on is not None,
        reports=facts.reports.get(key, ()),
        on=on,
        calendar=calendar,
        require_confirmation=require_confirmation,
    )


def work_item(
    facts: AssignmentFacts,
    *,
    on: date,
    calendar: WorkingCalendar,
    require_confirmation: bool = True,
    occurrence: str | None = None,
) -> WorkItem:
    """The item for ``occurrence`` (None: the current one, see the module docstring)."""
    found = _occurrences(facts, on)

    def make(occ: Occurrence) -> WorkItem:
        result = _status(facts, occ.key, occ.due, occ.kind == CHECKIN, on, calendar,
                         require_confirmation)  # fmt: skip
        return WorkItem(facts, occ.key, occ.due, result)

    if occurrence is not None:
        for occ in found:
            if occ.key == occurrence:
                return make(occ)
        due = date.fromisoformat(occurrence) if _is_iso_day(occurrence) else None
        checkin = occurrence.startswith(CHECKIN)
        return make(Occurrence(occurrence, due, CHECKIN if checkin else "due"))
    if not found:
        return make(Occurrence("", facts.deadline.due, "due"))
    if found[0].kind == CHECKIN:
        started = [occ for occ in found if occ.due is not None and occ.due <= on]
        return make(started[-1] if started else found[0])
    for occ in found:
        if occ.due is not None and occ.due > on:
            return make(occ)
        item = make(occ)
        if item.is_open:
            return item
    return make(found[-1])


def _is_iso_day(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def current_items(
    facts: Sequence[AssignmentFacts],
    *,
    on: date,
    calendar: WorkingCalendar,
    require_confirmation: bool = True,
) -> list[WorkItem]:
    """Each assignment's current item, sorted by due date (undated last), plan and task."""
    items = [
        work_item(f, on=on, calendar=calendar, require_confirmation=require_confirmation)
        for f in facts
    ]
    return sorted(items, key=lambda item: item.sort_key)
