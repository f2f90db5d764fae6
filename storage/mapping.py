"""Domain objects <-> table columns, in one place so that a new Deadline field is one edit here.

A ``Deadline`` is stored flattened on its task (``deadline_kind``, ``deadline_text``, ``due``, ...);
agencies and groups are stored one row each, group members in their own table.
"""

from datetime import date
from typing import Any, TypedDict

from sqlmodel import col

from domain.agencies import Agency, AgencyLevel, Group
from domain.deadlines import Deadline, DeadlineKind, Frequency
from storage.models import AgencyRow, GroupRow, Task


class DeadlineColumns(TypedDict):
    deadline_kind: str
    deadline_text: str
    due: date | None
    start: date | None
    until: date | None
    frequency: str | None
    anchor_month: int | None
    anchor_day: int | None
    precondition: str | None
    soft_kind: str | None


def deadline_columns(deadline: Deadline) -> DeadlineColumns:
    return DeadlineColumns(
        deadline_kind=deadline.kind.value,
        deadline_text=deadline.text,
        due=deadline.due,
        start=deadline.start,
        until=deadline.until,
        frequency=deadline.frequency.value if deadline.frequency else None,
        anchor_month=deadline.anchor_month,
        anchor_day=deadline.anchor_day,
        precondition=deadline.precondition,
        soft_kind=deadline.soft_kind.value if deadline.soft_kind else None,
    )


# The task columns a Deadline is made of, in the order of its fields: selected as plain columns
# where tasks are read by the thousand (status lines, work lists), then ``deadline_from_row``.
DEADLINE_COLUMNS = (
    col(Task.deadline_kind),
    col(Task.deadline_text),
    col(Task.due),
    col(Task.start),
    col(Task.until),
    col(Task.frequency),
    col(Task.anchor_month),
    col(Task.anchor_day),
    col(Task.precondition),
    col(Task.soft_kind),
)


def deadline_from_row(columns: tuple[Any, ...]) -> Deadline:
    """The Deadline of the values of ``DEADLINE_COLUMNS``, in that order."""
    kind, text, due, start, until, frequency, anchor_month, anchor_day, precondition, soft = columns
    return Deadline(
        kind=DeadlineKind(kind),
        text=text,
        due=due,
        start=start,
        until=until,
        frequency=Frequency(frequency) if frequency else None,
        anchor_month=anchor_month,
        anchor_day=anchor_day,
        precondition=precondition,
        soft_kind=DeadlineKind(soft) if soft else None,
    )


def deadline_of(task: Task) -> Deadline:
    return Deadline(
        kind=DeadlineKind(task.deadline_kind),
        text=task.deadline_text,
        due=task.due,
        start=task.start,
        until=task.until,
        frequency=Frequency(task.frequency) if task.frequency else None,
        anchor_month=task.anchor_month,
        anchor_day=task.anchor_day,
        precondition=task.precondition,
        soft_kind=DeadlineKind(task.soft_kind) if task.soft_kind else None,
    )


def agency_row(agency: Agency, position: int, note: str = "") -> AgencyRow:
    return AgencyRow(
        code=agency.code,
        name=agency.name,
        level=agency.level.value,
        aliases=list(agency.aliases),
        valid_from=agency.valid_from,
        valid_until=agency.valid_until,
        successor=agency.successor,
        note=note,
        position=position,
    )


def agency_of(row: AgencyRow) -> Agency:
    return Agency(
        code=row.code,
        name=row.name,
        level=AgencyLevel(row.level),
        aliases=tuple(row.aliases),
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        successor=row.successor,
    )


def group_row(group: Group, position: int, note: str = "") -> GroupRow:
    return GroupRow(
        code=group.code, name=group.name, aliases=list(group.aliases), note=note, position=position
    )


def group_of(row: GroupRow, members: tuple[str, ...]) -> Group:
    return Group(code=row.code, name=row.name, aliases=tuple(row.aliases), members=members)
