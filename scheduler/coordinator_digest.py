"""The coordinators' daily digest, queued in the outbox like any other message.

On each working day the job compares the status lines at the end of the day before the previous
working day with those at the end of yesterday, so every digest covers whole days and each change
appears in exactly one digest (what arrives on a Friday afternoon or a weekend is in Monday's).
``domain.status`` words it; it goes to each reachable coordinator as a notice row whose key names
the day, so a restart or a second instance never sends the same day's digest twice.

A coordinator hears about the plans their agency coordinates (``Plan.coordinator``); one whose
agency coordinates none hears about every plan.

The job also brings this process's status caches (``storage.status_cache``, made by the chat's
first whole-country question) to the new day, before it writes anything, so that the morning's
first /tinhhinh does not wait for 170,000 lines.
"""

from collections import defaultdict
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from domain.agencies import Directory
from domain.calendar import WorkingCalendar, local_date
from domain.status import StatusLine, changes_since, render_coordinator_digest
from storage.models import Plan
from storage.recipients import coordinator_contacts
from storage.reminder_queries import queue_notices
from storage.status_cache import engine_of, registered
from storage.status_lines import status_lines, unreachable_contacts

_ONE_DAY = timedelta(days=1)


def queue_coordinator_digest(
    session: Session,
    *,
    directory: Directory,
    calendar: WorkingCalendar,
    now: datetime,
    require_confirmation: bool = True,
) -> int:
    """Queue today's digest for every coordinator with something to read; rows queued. No commit."""
    today = local_date(now)
    # Before any write: on SQLite a write would hold every other writer back while this runs.
    for status_cache in registered(engine_of(session)):
        status_cache.warm(directory, today)
    if not calendar.is_working_day(today):
        return 0
    since = calendar.add_working_days(today, -1) - _ONE_DAY
    until = today - _ONE_DAY
    plans = list(session.exec(select(Plan.number, Plan.coordinator).order_by(col(Plan.id))))
    coordinators = coordinator_contacts(session, [])
    if not plans or not coordinators:
        return 0
    unreachable = unreachable_contacts(session)
    coordinated: dict[str, list[str]] = defaultdict(list)
    for number, agency in plans:
        if agency:
            coordinated[agency].append(number)
    every = [number for number, _ in plans]

    cache: dict[tuple[str, bool], list[StatusLine]] = {}

    def plan_lines(number: str, new: bool) -> list[StatusLine]:
        key = (number, new)
        if key not in cache:
            cache[key] = status_lines(
                session,
                directory=directory,
                calendar=calendar,
                on=until if new else since,
                plan_number=number,
                require_confirmation=require_confirmation,
            )
        return cache[key]

    queued = 0
    for contact in coordinators:
        numbers = coordinated.get(contact.agency_code) or every
        old = [line for number in numbers for line in plan_lines(number, False)]
        new = [line for number in numbers for line in plan_lines(number, True)]
        changes = changes_since(old, new)
        text = render_coordinator_digest(changes, unreachable, today=today, lang="vi")
        if text is None:
            continue
        english = render_coordinator_digest(changes, unreachable, today=today, lang="en")
        payload = {"kind": "digest", "text": text, "text_en": english}
        queued += queue_notices(
            session,
            key=f"digest:{today.isoformat()}",
            contact_ids=[contact.id],
            payload=payload,
            now=now,
        )
    return queued
