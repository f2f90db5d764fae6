"""The nightly housekeeping on SQLite and PostgreSQL: bounded tables, the new day made ready."""

from datetime import date, timedelta

from sqlalchemy import Engine, func, select
from sqlmodel import Session, col

from domain.calendar import WorkingCalendar
from scheduler.clock import ManualClock
from scheduler.housekeeping import HousekeepingSettings, housekeep
from scheduler.jobs import HOUSEKEEPING_JOB
from scheduler.service import ReminderService
from storage import repository
from storage.inbound import record_message
from storage.models import Disposition, InboundMessage, StatusChange
from storage.status_cache import prune_log, shared
from tests.integration.test_status_cache import (
    DIRECTORY,
    SAVED_AT,
    TASKS,
    TODAY,
    at,
    draft,
    expected,
)


def _count(engine: Engine, column: object) -> int:
    with Session(engine) as session:
        return int(session.execute(select(func.count(column))).scalar() or 0)


def _store_plan_many_times(engine: Engine, times: int) -> None:
    with Session(engine) as session:
        repository.save_directory(session, DIRECTORY)
        session.commit()
    for day in range(times):  # each save with another date rewrites the plan: new log rows
        with Session(engine) as session:
            repository.save_plan(session, draft(*TASKS, issued_on=date(2023, 4, 1 + day)),
                                 SAVED_AT)
            session.commit()


def test_the_status_log_keeps_its_newest_rows(engine: Engine) -> None:
    _store_plan_many_times(engine, 4)
    before = _count(engine, StatusChange.seq)
    assert before > 3
    with Session(engine) as session:
        newest = session.execute(select(func.max(col(StatusChange.seq)))).scalar()
        assert prune_log(session, keep=3) == before - 3
        session.commit()
        kept = session.execute(select(col(StatusChange.seq))).scalars().all()
    assert newest is not None and sorted(kept) == [newest - 2, newest - 1, newest]


def test_the_nightly_run_prunes_and_brings_the_cache_to_the_new_day(engine: Engine) -> None:
    _store_plan_many_times(engine, 2)
    calendar = WorkingCalendar()  # this test's own: a cache of its own in the process
    cache = shared(engine, calendar)
    cache.warm(DIRECTORY, TODAY)
    night = at(TODAY + timedelta(days=1), 0)
    with Session(engine) as session:
        for minutes in range(4):
            record_message(session, channel="telegram", chat_id="555", text=f"spam {minutes}",
                           received_at=night - timedelta(minutes=minutes),
                           disposition=Disposition.STRANGER)
        session.commit()

    report = housekeep(engine, directory=DIRECTORY, now=night,
                       settings=HousekeepingSettings(stranger_per_chat=2, status_log_rows=1))

    assert report.strangers_pruned == 2 and _count(engine, InboundMessage.id) == 2
    assert report.status_log_pruned > 0 and _count(engine, StatusChange.seq) == 1
    assert report.caches_warmed >= 1
    # made for the new day (a pruned log means a rebuild), and right
    assert cache.stats.builds == 2
    assert cache.lines(DIRECTORY, night.date()) == expected(engine, night.date())
    assert cache.stats.builds == 2


def test_the_service_runs_housekeeping_after_midnight(engine: Engine) -> None:
    class Services:
        def __init__(self) -> None:
            self.engine = engine
            self.calendar = WorkingCalendar()

        def directory(self) -> object:
            return DIRECTORY

    service = ReminderService(Services(), {}, ManualClock(at(TODAY)))  # type: ignore[arg-type]
    job = service.jobs.scheduler.get_job(HOUSEKEEPING_JOB)
    assert job is not None and job.coalesce is True and job.misfire_grace_time >= 3600
    fields = {f.name: str(f) for f in job.trigger.fields}
    assert (fields["hour"], fields["minute"]) == ("0", "5")
