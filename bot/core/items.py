"""The tasks a chat may see and report on, each tied to the assignment and occurrence it names.

Where a task stands comes from ``storage.status_lines`` (the same lines /status, the exports and
the digests count), so a focal point and the coordinator never see two different truths. A line
says "Sở Tài chính, task 3, due 31/12/2024"; a report must name an assignment and an occurrence, so
each line is tied back to the assignment it comes from. The occurrence key of a line is its due
date ("2024-12-31"), or "" when it has none: exactly the keys ``status_lines`` matches reports on.

Mergers: an agency answers for its own assignments and for those of the agencies it succeeded
(Sở Tài chính for Sở Kế hoạch và Đầu tư after 1/3/2025), never for anyone else's. ``answers_for``
is checked on every button press, since a button's data can be forged.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from domain.agencies import Directory
from domain.calendar import WorkingCalendar
from domain.status import State, StatusLine
from storage.progress import AssignmentRef, assignment_refs
from storage.status_lines import status_lines

FINISHED = frozenset({State.DONE_ON_TIME, State.DONE_LATE})


@dataclass(frozen=True, slots=True)
class WorkItem:
    """A status line with the assignment and occurrence a report on it is recorded against."""

    line: StatusLine
    ref: AssignmentRef
    occurrence: str

    @property
    def assignment_id(self) -> int:
        return self.ref.assignment_id

    @property
    def is_open(self) -> bool:
        return self.line.result.state not in FINISHED


def occurrence_key(line: StatusLine) -> str:
    return line.due.isoformat() if line.due is not None else ""


def answers_for(directory: Directory, agency_codes: Collection[str], assignment_code: str) -> bool:
    """Whether one of ``agency_codes`` answers for an assignment of ``assignment_code``."""
    chain = directory.successors(assignment_code)
    return any(code in chain for code in agency_codes)


def _answerable_codes(directory: Directory, agency_codes: Collection[str]) -> set[str]:
    # An agency without a successor is answered for by itself alone: only merged ones are checked.
    return {*agency_codes} | {
        code
        for code, agency in directory.agencies.items()
        if agency.successor is not None and answers_for(directory, agency_codes, code)
    }


def work_items(
    session: Session,
    *,
    directory: Directory,
    calendar: WorkingCalendar,
    on: date,
    agency_codes: Collection[str],
    require_confirmation: bool = True,
    open_only: bool = False,
) -> list[WorkItem]:
    """The lines of the agencies in ``agency_codes`` as of ``on`` (``open_only``: those not
    finished), each tied to an assignment they answer for, sorted by due date (undated last),
    then plan and task order."""
    codes = sorted(set(agency_codes))
    lines: list[StatusLine] = []
    seen: set[tuple[str, str, str, date | None]] = set()
    for code in codes:
        for line in status_lines(
            session,
            directory=directory,
            calendar=calendar,
            on=on,
            agency_code=code,
            require_confirmation=require_confirmation,
        ):
            if open_only and line.result.state in FINISHED:
                continue
            if len(codes) > 1:  # one agency's lines are distinct; two agencies may share some
                if line.key in seen:
                    continue
                seen.add(line.key)
            lines.append(line)
    if not lines:
        return []
    # Only the assignments of the tasks those lines are on: plain rows, no ORM objects.
    refs: dict[tuple[str, str], list[AssignmentRef]] = {}
    for ref in assignment_refs(
        session,
        agency_codes=_answerable_codes(directory, codes),
        tasks={(line.plan, line.task) for line in lines},
    ):
        refs.setdefault((ref.plan, ref.task), []).append(ref)
    chosen: dict[tuple[str, str, str], AssignmentRef | None] = {}  # a series has many lines
    items: list[WorkItem] = []
    for line in lines:
        key = (line.plan, line.task, line.agency_code)
        if key in chosen:
            found = chosen[key]
        else:
            found = chosen[key] = _assignment_of(directory, line, refs.get(key[:2], ()))
        if found is not None:
            items.append(WorkItem(line, found, occurrence_key(line)))
    items.sort(key=lambda item: item.line.due or date.max)  # stable: plan order kept on a tie
    return items


def _assignment_of(
    directory: Directory, line: StatusLine, candidates: Sequence[AssignmentRef]
) -> AssignmentRef | None:
    """The assignment a line comes from: the line agency's own, else one it succeeded to."""
    for ref in candidates:
        if ref.agency_code == line.agency_code:
            return ref
    for ref in candidates:
        if line.agency_code in directory.successors(ref.agency_code):
            return ref
    return None


def find_item(items: Collection[WorkItem], assignment_id: int, occurrence: str) -> WorkItem | None:
    for item in items:
        if item.assignment_id == assignment_id and item.occurrence == occurrence:
            return item
    return None
