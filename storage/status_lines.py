"""From the stored plans and progress to the status lines every report and chat answer is built on.

``domain.status`` decides the state of one assignment for one occurrence; this module finds, in the
database, which assignments and occurrences there are at a given day and which reports belong to
each, in two queries (assignments with their tasks and plans; reports), grouped in Python.

Decisions (written down so that the CLI, the chat and the exports all count alike):

- Lines per deadline kind, as of the day ``on``:
  FIXED / PERIOD_END / RANGE: one line, due on the deadline's date;
  RECURRING: one line per occurrence due from the plan's date up to ``on``, plus the next upcoming
  one (the work agencies are doing now);
  CONTINUOUS: one line, no due date;
  CONDITIONAL whose precondition was not met on or before ``on``: one WAITING line carrying the
  soft due date; once met, the lines of the deadline it became (``domain.occurrences``);
  UNKNOWN: one line without a due date, never overdue (a person must read the text).
- Which reports count: for a deadline with a single line, every report of the assignment, whatever
  its ``occurrence`` key (the key may predate a re-import that moved the date; a continuous task's
  replies carry check-in keys). For a series, a report counts for the occurrence its key names; an
  undated report (key ``""``, or a key naming no occurrence listed) counts for the occurrence that
  was current when it was made: the oldest one not finished by then (no "done" report, other than
  a returned one, counted for it before), or the last one listed when all are. Agencies answer the
  reminder they got, and reminders chase the oldest debt first: "đã xong" sent on 2/1/2025 without
  a key finishes, late, the overdue 31/12/2024 occurrence rather than the 2025 one.
- Successions: a line is shown under the agency answering for the assignment's agency on the
  occurrence's due date, ``Directory.successor_on``: on ``on`` for lines without a due date, and
  on the later of the two for a task still waiting for its precondition (its soft date binds
  nobody yet: whoever exists now will do it). When this
  folds two assignments of one task into one agency (Sở Kế hoạch và Đầu tư merged into Sở Tài
  chính, both leads of the same task), they make ONE line: the reports of both are pooled and the
  role is "lead" if either was. An agency abolished without a single successor keeps its lines.
- ``agency_code`` keeps the lines shown under that agency and the lines of its own assignments
  shown under a successor.
- Lines come in plan order (first imported first), then the plan's task order; in a task, leads
  before supports, agencies in the order the plan named them, each agency's occurrences by date.
- Reports made at the same moment count in the order they were stored (by id), so that any query
  gives the same lines.
- A task's lines depend on nothing outside the task (its plan's number and date, its assignments
  and their reports, the directory, the day): ``lines_by_task`` computes them task by task, for
  some tasks or plans only, which ``storage.status_cache`` uses to recompute what changed.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from itertools import pairwise
from typing import Any

from sqlalchemy import ColumnElement, Connection, false, or_, select
from sqlmodel import Session, col

from domain.agencies import Directory
from domain.calendar import WorkingCalendar, at_local, local_date
from domain.deadlines import Deadline, DeadlineKind
from domain.occurrences import occurrences
from domain.plan_import import Role
from domain.status import ReportView, StatusLine, StatusResult, status_of
from storage.mapping import DEADLINE_COLUMNS, deadline_from_row
from storage.models import AgencyRow, Assignment, Contact, Plan, ProgressReport, Task

_EARLIEST = date(1900, 1, 1)
# Far enough ahead to hold the next occurrence of any series (a yearly one is at most a year off).
_LOOKAHEAD = timedelta(days=400)
_SINGLE = frozenset({DeadlineKind.FIXED, DeadlineKind.PERIOD_END, DeadlineKind.RANGE})


@dataclass(frozen=True, slots=True)
class _Slot:
    """One line an assignment gets: an occurrence, or the whole deadline when it has one line."""

    key: str  # the occurrence key ("2024-12-31"), "" for a line without a due date
    due: date | None
    kind: DeadlineKind  # what status_of is told
    precondition_met: bool


@dataclass(frozen=True, slots=True)
class _Schedule:
    slots: tuple[_Slot, ...]
    series: bool  # reports are matched to slots by key (else every report counts for the slot)


@dataclass(slots=True)
class _Line:
    """A line being gathered: possibly several assignments folded into one agency."""

    task_id: int
    plan: str
    task: str
    title: str
    agency_code: str
    role: str
    deadline_text: str
    slot: _Slot
    sources: set[str]  # the assignments' own agency codes
    reports: list[ReportView] = field(default_factory=list)


def _waiting(deadline: Deadline) -> _Schedule:
    key = deadline.due.isoformat() if deadline.due is not None else ""
    return _Schedule((_Slot(key, deadline.due, DeadlineKind.CONDITIONAL, False),), series=False)


def _one(key: str, due: date | None, kind: DeadlineKind, met: bool = False) -> _Schedule:
    return _Schedule((_Slot(key, due, kind, met),), series=False)


def _schedule(
    deadline: Deadline,
    plan_date: date | None,
    met_on: date | None,
    on: date,
) -> _Schedule:
    kind = deadline.kind
    if kind is DeadlineKind.CONTINUOUS:
        return _one("", None, kind)
    if kind in _SINGLE:
        return _one(deadline.due.isoformat() if deadline.due else "", deadline.due, kind)
    if kind is DeadlineKind.UNKNOWN:
        return _one("", None, kind)
    met = False
    if kind is DeadlineKind.CONDITIONAL:
        if met_on is None or met_on > on:
            return _waiting(deadline)
        if deadline.soft_kind is DeadlineKind.CONTINUOUS:
            return _one("", None, DeadlineKind.CONTINUOUS)
        met = True
        if deadline.soft_kind is not DeadlineKind.RECURRING:
            found = occurrences(deadline, _EARLIEST, date.max, precondition_met_on=met_on)
            if not found:
                return _one("", None, kind, met)
            return _one(found[0].key, found[0].due, kind, met)

    lower = plan_date or _EARLIEST
    past = occurrences(deadline, lower, on, plan_date=plan_date, precondition_met_on=met_on)
    ahead = occurrences(
        deadline,
        on + timedelta(days=1),
        on + _LOOKAHEAD,
        plan_date=plan_date,
        precondition_met_on=met_on,
    )
    if not past and not ahead:
        # A series that starts more than a lookahead from now: its first occurrence is what's next.
        first = deadline.due or deadline.start
        if first is not None and first > on:
            ahead = occurrences(
                deadline,
                on + timedelta(days=1),
                first + _LOOKAHEAD,
                plan_date=plan_date,
                precondition_met_on=met_on,
            )
    found = [*past, *ahead[:1]]
    if not found:
        due = deadline.due
        return _one(due.isoformat() if due else "", due, kind, met)
    return _Schedule(tuple(_Slot(o.key, o.due, kind, met) for o in found), series=True)


def _succession_day(slot: _Slot, on: date) -> date:
    """The day whose agency answers for a slot: its due date; ``on`` when it has none; for a task
    still waiting for its precondition, whichever of its soft date and ``on`` is later."""
    if slot.due is None:
        return on
    if slot.kind is DeadlineKind.CONDITIONAL and not slot.precondition_met:
        return max(slot.due, on)
    return slot.due


def _family(directory: Directory, code: str) -> set[str]:
    """The codes whose succession chains meet ``code``'s: the assignments its lines may pool."""
    own = set(directory.successors(code))
    return {c for c in directory.agencies if own & set(directory.successors(c))} | {code}


def _filters(
    plan_number: str | None,
    codes: set[str] | None,
    task_ids: Collection[int] | None = None,
    plan_ids: Collection[int] | None = None,
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [
        col(Assignment.active).is_(True),
        col(Task.active).is_(True),
    ]
    if plan_number is not None:
        where.append(col(Plan.number) == plan_number)
    if codes is not None:
        where.append(col(Assignment.agency_code).in_(sorted(codes)))
    if task_ids is not None or plan_ids is not None:
        # No empty IN: SQLAlchemy compiles one anew on every execution (about 8 ms).
        chosen = []
        if task_ids:
            chosen.append(col(Task.id).in_(sorted(task_ids)))
        if plan_ids:
            chosen.append(col(Task.plan_id).in_(sorted(plan_ids)))
        where.append(or_(*chosen) if chosen else false())
    return where


@dataclass(frozen=True, slots=True)
class TaskLines:
    """One task's status lines, with where the task comes among all the lines."""

    order: tuple[int, int, int]  # (plan id, task position, task id): plans first imported first
    lines: tuple[StatusLine, ...]

    @property
    def plan_id(self) -> int:
        return self.order[0]


def status_lines(
    session: Session,
    *,
    directory: Directory,
    calendar: WorkingCalendar,
    on: date,
    plan_number: str | None = None,
    agency_code: str | None = None,
    require_confirmation: bool = True,
) -> list[StatusLine]:
    """Every active assignment's status lines as of ``on`` (see the module notes for the rules)."""
    codes = _family(directory, agency_code) if agency_code is not None else None
    # The session's pending changes are flushed first, as a query through the session would.
    session.flush()
    lines, _ = _gather(
        session.connection(), _filters(plan_number, codes), directory, on, agency_code
    )
    return [line for line, _ in _results(lines, directory, calendar, on, require_confirmation)]


def lines_by_task(
    connection: Connection,
    *,
    directory: Directory,
    calendar: WorkingCalendar,
    on: date,
    require_confirmation: bool = True,
    task_ids: Collection[int] | None = None,
    plan_ids: Collection[int] | None = None,
) -> dict[int, TaskLines]:
    """The status lines of every active task as of ``on``, task by task (by task id).

    ``task_ids`` and ``plan_ids`` (either or both) keep the tasks named and the tasks of the plans
    named. A task without an active assignment has no lines and is not in the result. Joining the
    tasks' lines in ``order`` gives what ``status_lines`` gives: lines never span two tasks.
    """
    lines, order = _gather(connection, _filters(None, None, task_ids, plan_ids), directory, on)
    found: dict[int, list[StatusLine]] = {}
    for line, task_id in _results(lines, directory, calendar, on, require_confirmation):
        found.setdefault(task_id, []).append(line)
    return {task_id: TaskLines(order[task_id], tuple(rows)) for task_id, rows in found.items()}


def _gather(
    connection: Connection,
    where: list[ColumnElement[bool]],
    directory: Directory,
    on: date,
    agency_code: str | None = None,
) -> tuple[list[_Line], dict[int, tuple[int, int, int]]]:
    """The lines of the assignments ``where`` keeps, in order, and each task's place."""
    # Plain column rows, not ORM objects: a province has 100,000 assignments.
    assignment_rows = connection.execute(
        select(
            col(Assignment.id),
            col(Assignment.agency_code),
            col(Assignment.role),
            col(Task.id),
            col(Task.number),
            col(Task.title),
            col(Task.precondition_met_on),
            col(Plan.number),
            col(Plan.issued_on),
            col(Plan.id),
            col(Task.position),
            *DEADLINE_COLUMNS,
        )
        .join(Task, col(Task.id) == col(Assignment.task_id))
        .join(Plan, col(Plan.id) == col(Task.plan_id))
        .where(*where)
        .order_by(
            col(Plan.id),
            col(Task.position),
            col(Task.id),
            col(Assignment.role),
            col(Assignment.id),
        )
    ).all()

    # Reports made after ``on`` are ignored by status_of anyway; not reading them saves the time.
    day_after = at_local(on + timedelta(days=1), time(0, 0))
    reports: dict[int, list[tuple[str, ReportView]]] = {}
    ids: dict[int, list[int]] = {}
    unordered: set[int] = set()
    for (
        rid,
        aid,
        occurrence,
        kind,
        percent,
        text,
        reason,
        at,
        review,
        reviewed_at,
    ) in connection.execute(
        select(
            col(ProgressReport.id),
            col(ProgressReport.assignment_id),
            col(ProgressReport.occurrence),
            col(ProgressReport.kind),
            col(ProgressReport.percent),
            col(ProgressReport.text),
            col(ProgressReport.reason),
            col(ProgressReport.reported_at),
            col(ProgressReport.review),
            col(ProgressReport.reviewed_at),
        )
        .join(Assignment, col(Assignment.id) == col(ProgressReport.assignment_id))
        .join(Task, col(Task.id) == col(Assignment.task_id))
        .join(Plan, col(Plan.id) == col(Task.plan_id))
        .where(*where, col(ProgressReport.reported_at) < day_after)
    ):
        view = ReportView(kind, at, percent, text, reason, review, reviewed_at)
        listed = reports.setdefault(aid, [])
        stored = ids.setdefault(aid, [])
        if stored and stored[-1] > rid:
            unordered.add(aid)
        listed.append((occurrence, view))
        stored.append(rid)
    # Reports made at the same moment count in the order they were stored (their ids), whatever
    # order the database returned them in: the same lines from any query, cached or not.
    for aid in unordered:
        pairs = sorted(zip(ids[aid], reports[aid], strict=True), key=lambda pair: pair[0])
        reports[aid] = [report for _, report in pairs]

    deadlines: dict[tuple[Any, ...], Deadline] = {}
    schedules: dict[tuple[Deadline, date | None, date | None], _Schedule] = {}
    successors: dict[tuple[str, date], str] = {}
    shown_by: dict[tuple[str, int], tuple[str, ...]] = {}  # (code, id of schedule) -> per slot
    lines: dict[tuple[int, str, str], _Line] = {}
    order: dict[int, tuple[int, int, int]] = {}

    def answering(code: str, day: date) -> str:
        found = successors.get((code, day))
        if found is None:
            found = successors[(code, day)] = (
                directory.successor_on(code, day) if code in directory.agencies else code
            )
        return found

    last_task: int | None = None
    schedule = _Schedule((), series=False)
    task_number = title = plan = text = ""
    roles: dict[str, str] = {}
    for row in assignment_rows:
        aid, code, role, task_id = row[:4]
        role = roles.setdefault(role, role)  # one string per role, not one per line
        if task_id != last_task:  # rows come task by task: the deadline is read once per task
            last_task = task_id
            # The task's texts are kept once per task: the lines of its assignments share them.
            task_number, title, met_on, plan, plan_date = row[4:9]
            order[task_id] = (row[9], row[10], task_id)
            columns = tuple(row[11:])
            deadline = deadlines.get(columns)
            if deadline is None:
                deadline = deadlines[columns] = deadline_from_row(columns)
            schedule_key = (deadline, plan_date, met_on)
            found_schedule = schedules.get(schedule_key)
            if found_schedule is None:
                found_schedule = schedules[schedule_key] = _schedule(
                    deadline, plan_date, met_on, on
                )
            schedule = found_schedule
            text = deadline.text
        shown_key = (code, id(schedule))
        shown = shown_by.get(shown_key)
        if shown is None:
            shown = shown_by[shown_key] = tuple(
                answering(code, _succession_day(slot, on)) for slot in schedule.slots
            )

        own: list[_Line] = []
        for slot, agency in zip(schedule.slots, shown, strict=True):
            line_key = (task_id, slot.key, agency)
            line = lines.get(line_key)
            if line is None:
                line = lines[line_key] = _Line(
                    task_id, plan, task_number, title, agency, role, text, slot, {code}
                )
            else:
                if role == Role.LEAD.value:
                    line.role = role
                line.sources.add(code)
            own.append(line)
        found = reports.get(aid)
        if found:
            _attach(found, schedule, own, on)

    ordered = _in_order(lines)
    if agency_code is not None:
        ordered = [
            line
            for line in ordered
            if line.agency_code == agency_code or agency_code in line.sources
        ]
    return ordered, order


def _in_order(lines: dict[tuple[int, str, str], _Line]) -> list[_Line]:
    """Task by task as read; in a task, agencies in the order their first line came (leads were
    read first), each agency's occurrences by date.

    Lines are gathered task by task and, inside an assignment, by date, so only an agency that
    also answers for a predecessor's assignment can have its dates out of order.
    """
    out: list[_Line] = []
    groups: dict[str, list[_Line]] = {}
    current: int | None = None
    for (task_id, _, agency), line in lines.items():
        if task_id != current:
            _flush(groups, out)
            current = task_id
        groups.setdefault(agency, []).append(line)
    _flush(groups, out)
    return out


def _flush(groups: dict[str, list[_Line]], out: list[_Line]) -> None:
    for group in groups.values():
        dues = [line.slot.due or date.max for line in group]
        if any(a > b for a, b in pairwise(dues)):
            group.sort(key=lambda line: line.slot.due or date.max)
        out.extend(group)
    groups.clear()


def _closes(view: ReportView, on: date) -> bool:
    """Whether a report finished its occurrence as it stood on ``on`` (a done not returned)."""
    if view.kind != "done":
        return False
    if view.review != "returned":
        return True
    # A return decided after ``on`` had not happened yet: the report was still under review.
    return view.reviewed_at is not None and local_date(view.reviewed_at) > on


def _attach(
    found: Sequence[tuple[str, ReportView]], schedule: _Schedule, own: Sequence[_Line], on: date
) -> None:
    """Give each report of one assignment to the line (of ``own``, one per slot) it answers."""
    if not schedule.series:
        own[0].reports.extend(view for _, view in found)
        return
    index = {slot.key: i for i, slot in enumerate(schedule.slots)}
    if all(occurrence in index for occurrence, _ in found):
        for occurrence, view in found:
            own[index[occurrence]].reports.append(view)
        return
    # Undated reports go, in time order, to the oldest occurrence not finished when they came.
    last = len(own) - 1
    finished = [False] * len(own)
    oldest = 0  # the first occurrence not finished yet (``last`` when all are)
    for occurrence, view in sorted(found, key=lambda item: item[1].reported_at):
        i = index.get(occurrence, oldest)
        own[i].reports.append(view)
        if _closes(view, on):
            finished[i] = True
            while oldest < last and finished[oldest]:
                oldest += 1


def _results(
    lines: Sequence[_Line],
    directory: Directory,
    calendar: WorkingCalendar,
    on: date,
    require_confirmation: bool,
) -> list[tuple[StatusLine, int]]:
    """Each line's status, with the id of its task."""
    # Most assignments have no report yet: their result depends on the slot alone, computed once.
    silent: dict[_Slot, StatusResult] = {}
    names: dict[str, str] = {}
    out: list[tuple[StatusLine, int]] = []
    for line in lines:
        slot = line.slot
        result: StatusResult | None = silent.get(slot) if not line.reports else None
        if result is None:
            result = status_of(
                due=slot.due,
                kind=slot.kind,
                precondition_met=slot.precondition_met,
                reports=line.reports,
                on=on,
                calendar=calendar,
                require_confirmation=require_confirmation,
            )
            if not line.reports:
                silent[slot] = result
        name = names.get(line.agency_code)
        if name is None:
            agency = directory.agencies.get(line.agency_code)
            name = names[line.agency_code] = agency.name if agency else line.agency_code
        status = StatusLine(
            plan=line.plan,
            task=line.task,
            title=line.title,
            agency=name,
            agency_code=line.agency_code,
            role=line.role,
            deadline_text=line.deadline_text,
            due=slot.due,
            result=result,
        )
        out.append((status, line.task_id))
    return out


_CHANNEL_NAMES = {"telegram": "Telegram", "zalo": "Zalo", "console": "bảng điều khiển"}


def unreachable_contacts(session: Session) -> list[str]:
    """Active contacts whose chat refuses messages, as "Nguyễn Văn A (Sở Nội vụ, Zalo)".

    In the directory's order of agencies, then by name; for the coordinator's daily digest.
    """
    session.flush()
    rows = (
        session.connection()
        .execute(
            select(
                col(Contact.display_name),
                col(Contact.channel),
                col(Contact.chat_id),
                col(Contact.agency_code),
                col(AgencyRow.name),
                col(AgencyRow.position),
            )
            .outerjoin(AgencyRow, col(AgencyRow.code) == col(Contact.agency_code))
            .where(col(Contact.active).is_(True), col(Contact.unreachable).is_(True))
        )
        .all()
    )
    # Sorted here: SQLite and PostgreSQL put the NULL position of an unknown agency differently.
    ordered = sorted(
        rows,
        key=lambda r: (r[5] is None, r[5] or 0, r[4] or r[3], r[0] or "", r[1], r[2]),
    )
    shown: list[str] = []
    for name, channel, chat_id, code, agency, _ in ordered:
        channel_name = _CHANNEL_NAMES.get(channel, channel)
        if name.strip():
            shown.append(f"{name.strip()} ({agency or code}, {channel_name})")
        else:  # nobody typed a name: the chat id is all the coordinator can look for
            shown.append(f"{channel_name} {chat_id} ({agency or code})")
    return shown
