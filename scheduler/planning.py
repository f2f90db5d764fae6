"""Planning: turn every active assignment into outbox rows, one per reminder and recipient.

The pure planner (``domain.reminders.plan_reminders``) says which reminder each agency gets and
when; this module finds the people (focal points, heads, coordinators) and inserts one ``Reminder``
row per person. The outbox's unique key makes it idempotent, so planning runs on start, after
each import and hourly without ever duplicating a reminder.

The window looks ahead ``horizon_days`` and back ``lookback_days``. By default the look-back
reaches the previous successful run (remembered in the database), one day at least and
``MAX_LOOKBACK_DAYS`` at most: after three days of downtime the reminders that fell due meanwhile
are still created (the dispatcher sends them late, merged), while a first run, or one after months
switched off, does not dig up a history nobody can act on any more.
"""

import math
from collections import defaultdict
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session

from domain.agencies import Directory
from domain.calendar import WorkingCalendar
from domain.reminders import (
    AGENCY,
    COORDINATOR,
    HEAD,
    AssignmentView,
    Planned,
    ReminderPolicy,
    plan_reminders,
)
from storage import reminder_queries
from storage.models import ContactRole
from storage.recipients import ContactInfo, active_contacts, one_per_person

DEFAULT_HORIZON_DAYS = 45
MIN_LOOKBACK_DAYS = 1
MAX_LOOKBACK_DAYS = 14


@dataclass(frozen=True, slots=True)
class PlanningReport:
    assignments: int  # active assignments looked at
    planned: int  # reminders the planner produced in the window
    rows: int  # outbox rows they make, one per recipient
    inserted: int  # rows new to the outbox
    unaddressed: int  # planned reminders no reachable contact can receive
    lookback_days: int
    horizon_days: int


def lookback_for(now: datetime, last_run: datetime | None) -> int:
    """Days to look back: to the previous run plus a day, within the bounds above."""
    if last_run is None or last_run >= now:
        return MIN_LOOKBACK_DAYS
    gap = math.ceil((now - last_run) / timedelta(days=1))
    return max(MIN_LOOKBACK_DAYS, min(MAX_LOOKBACK_DAYS, gap + 1))


def successor_function(directory: Directory) -> Callable[[str, date], str]:
    """``Directory.successor_on`` that leaves codes the directory does not know as they are."""

    def successor(code: str, on: date) -> str:
        return directory.successor_on(code, on) if code in directory.agencies else code

    return successor


class Recipients:
    """Who receives a planned reminder.

    'agency': the agency's focal points; 'head': its head; 'coordinator': the coordinators of the
    plan's coordinating agency, or every coordinator when that agency has none.

    A person bound on several channels is ONE recipient (``storage.recipients.one_per_person``):
    the row goes to their preferred contact, and the dispatcher picks the chat that can take it
    when it is sent.
    """

    def __init__(
        self, contacts: Iterable[ContactInfo], coordinators: Mapping[str, str | None]
    ) -> None:
        self._by_role: dict[tuple[str, str], list[ContactInfo]] = defaultdict(list)
        self._coordinators: list[ContactInfo] = []
        for contact in one_per_person(contacts):
            if contact.role == ContactRole.COORDINATOR:
                self._coordinators.append(contact)
            self._by_role[(contact.role, contact.agency_code)].append(contact)
        self._plan_coordinator = dict(coordinators)

    @classmethod
    def load(cls, session: Session, coordinators: Mapping[str, str | None]) -> "Recipients":
        return cls(active_contacts(session), coordinators)

    def of(self, planned: Planned, plan: str) -> Sequence[ContactInfo]:
        if planned.audience == AGENCY:
            return self._by_role.get((ContactRole.FOCAL.value, planned.agency), [])
        if planned.audience == HEAD:
            return self._by_role.get((ContactRole.HEAD.value, planned.agency), [])
        if planned.audience == COORDINATOR:
            agency = self._plan_coordinator.get(plan)
            found = self._by_role.get((ContactRole.COORDINATOR.value, agency or ""), [])
            return found or self._coordinators
        return []


def compute(
    views: Sequence[AssignmentView],
    *,
    directory: Directory,
    calendar: WorkingCalendar,
    policy: ReminderPolicy,
    now: datetime,
    horizon_days: int,
    lookback_days: int,
) -> list[Planned]:
    """The pure part: every reminder whose send moment is in the window."""
    return plan_reminders(
        views,
        calendar=calendar,
        policy=policy,
        now=now,
        horizon_days=horizon_days,
        lookback_days=lookback_days,
        successor_on=successor_function(directory),
    )


def outbox_rows(
    planned: Iterable[Planned],
    plan_of: Mapping[int, str],
    recipients: Recipients,
    now: datetime,
    known: Container[reminder_queries.OutboxKey] = frozenset(),
) -> tuple[list[dict[str, Any]], int, int]:
    """The column values of one outbox row per planned reminder and recipient whose key is not
    ``known``; also the number of rows (known ones included) and of reminders nobody receives."""
    rows: list[dict[str, Any]] = []
    count = unaddressed = 0
    for item in planned:
        people = recipients.of(item, plan_of[item.assignment_id])
        if not people:
            unaddressed += 1
            continue
        count += len(people)
        payload = {"agency": item.agency}
        for person in people:
            if (item.assignment_id, item.occurrence, item.step, person.id) in known:
                continue
            rows.append(
                {
                    "assignment_id": item.assignment_id,
                    "occurrence": item.occurrence,
                    "step": item.step,
                    "audience": item.audience,
                    "contact_id": person.id,
                    "due": item.due,
                    "send_at": item.send_at,
                    "payload": payload,
                    "created_at": now,
                }
            )
    return rows, count, unaddressed


def plan(
    session: Session,
    *,
    directory: Directory,
    calendar: WorkingCalendar,
    policy: ReminderPolicy,
    now: datetime,
    horizon_days: int = DEFAULT_HORIZON_DAYS,
    lookback_days: int | None = None,
) -> PlanningReport:
    """Insert the reminders of the window into the outbox and remember this run; no commit.

    ``lookback_days`` None: from the previous run (see the module's docstring).
    """
    if lookback_days is None:
        lookback_days = lookback_for(now, reminder_queries.last_planning(session))
    found = reminder_queries.planning_input(session)
    planned = compute(
        found.views,
        directory=directory,
        calendar=calendar,
        policy=policy,
        now=now,
        horizon_days=horizon_days,
        lookback_days=lookback_days,
    )
    plan_of = {view.assignment_id: view.plan for view in found.views}
    recipients = Recipients.load(session, found.coordinators)
    known = reminder_queries.outbox_keys(
        session, now - timedelta(days=lookback_days), now + timedelta(days=horizon_days)
    )
    rows, count, unaddressed = outbox_rows(planned, plan_of, recipients, now, known)
    inserted = reminder_queries.insert_planned(session, rows)
    reminder_queries.set_last_planning(session, now)
    return PlanningReport(
        assignments=len(found.views),
        planned=len(planned),
        rows=count,
        inserted=inserted,
        unaddressed=unaddressed,
        lookback_days=lookback_days,
        horizon_days=horizon_days,
    )
