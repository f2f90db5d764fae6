"""The fixed APScheduler jobs, and the whole service sending a due reminder end to end."""

import asyncio
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine
from sqlmodel import Session

from bot.recording import RecordingChannel
from domain.agencies import Directory
from domain.calendar import WorkingCalendar
from domain.delivery import OutgoingMessage, SendResult
from scheduler.clock import ManualClock, SystemClock
from scheduler.coordinator_digest import queue_coordinator_digest
from scheduler.jobs import (
    DIGEST_JOB,
    DISPATCH_JOB,
    PLANNING_JOB,
    JobSettings,
    ReminderJobs,
    build_scheduler,
)
from scheduler.service import ReminderService, ServiceSettings, run_service
from storage import repository
from tests.integration.reminder_world import (
    DIRECTORY,
    TaskSpec,
    add_contact,
    assignment_id,
    at8,
    calendar,
    dispatcher,
    fixed,
    local,
    reminders,
    save_plan,
)

NOW = at8(date(2023, 12, 22))
WAIT = 10  # seconds: only reached when the behaviour under test is broken


class Calls:
    """Job functions that record the ``now`` they are given and can be held back."""

    def __init__(self) -> None:
        self.planned: list[datetime] = []
        self.dispatched: list[datetime] = []
        self.digests: list[datetime] = []
        self.planning_started = asyncio.Event()
        self.release_planning = asyncio.Event()
        self.release_planning.set()
        self.dispatch_seen = asyncio.Event()

    async def plan(self, now: datetime) -> None:
        self.planned.append(now)
        self.planning_started.set()
        await self.release_planning.wait()

    async def dispatch(self, now: datetime) -> None:
        self.dispatched.append(now)
        self.dispatch_seen.set()

    async def digest(self, now: datetime) -> None:
        self.digests.append(now)


def jobs_of(calls: Calls, clock: object = None) -> ReminderJobs:
    return ReminderJobs(
        clock=clock or ManualClock(NOW),  # type: ignore[arg-type]
        plan=calls.plan,
        dispatch=calls.dispatch,
        coordinator_digest=calls.digest,
    )


def test_the_three_jobs_and_their_settings() -> None:
    scheduler = jobs_of(Calls()).scheduler

    assert isinstance(scheduler, AsyncIOScheduler)
    assert str(scheduler.timezone) == "Asia/Ho_Chi_Minh"
    assert isinstance(scheduler._jobstores["default"], MemoryJobStore)
    assert set(scheduler._jobstores) == {"default"}  # no persistent job store
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {PLANNING_JOB, DISPATCH_JOB, DIGEST_JOB}
    for job in jobs.values():
        assert job.coalesce is True
        assert job.max_instances == 1
        assert isinstance(job.misfire_grace_time, int) and job.misfire_grace_time > 1
    assert jobs[PLANNING_JOB].trigger.interval == timedelta(hours=1)
    assert jobs[DISPATCH_JOB].trigger.interval == timedelta(seconds=30)
    assert isinstance(jobs[PLANNING_JOB].trigger, IntervalTrigger)
    digest = jobs[DIGEST_JOB].trigger
    assert isinstance(digest, CronTrigger) and str(digest.timezone) == "Asia/Ho_Chi_Minh"
    fields = {f.name: str(f) for f in digest.fields}
    assert (fields["hour"], fields["minute"]) == ("8", "0")
    assert jobs[DISPATCH_JOB].misfire_grace_time == 30


def test_build_scheduler_gives_the_same_jobs_with_other_settings() -> None:
    calls = Calls()
    scheduler = build_scheduler(
        clock=SystemClock(),
        plan=calls.plan,
        dispatch=calls.dispatch,
        settings=JobSettings(dispatch_every=timedelta(seconds=10)),
    )
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert jobs[DISPATCH_JOB].trigger.interval == timedelta(seconds=10)
    assert set(jobs) == {PLANNING_JOB, DISPATCH_JOB, DIGEST_JOB}


async def test_planning_runs_on_start_and_again_when_asked_during_a_run() -> None:
    calls = Calls()
    calls.release_planning.clear()
    jobs = jobs_of(calls)
    jobs.start()
    try:
        await asyncio.wait_for(calls.planning_started.wait(), WAIT)
        jobs.request_planning()  # an import finished while planning runs
        jobs.request_planning()  # asked twice: still one more run, not two
        calls.release_planning.set()
        await asyncio.wait_for(calls.dispatch_seen.wait(), WAIT)
    finally:
        await jobs.shutdown()

    assert calls.planned == [NOW, NOW]  # the injected clock, not the system's
    assert calls.dispatched == [NOW]  # planning asked for a tick as soon as it finished
    assert not jobs.scheduler.running


@dataclass
class Wiring:
    engine: Engine
    calendar: WorkingCalendar

    def directory(self) -> Directory:
        return DIRECTORY


async def test_the_service_plans_and_sends_a_due_reminder(engine: Engine, session: Session) -> None:
    save_plan(session, [TaskSpec("1", fixed(date(2023, 12, 29)))])
    add_contact(session, "STC", "100")
    delivered = asyncio.Event()

    def notice(message: OutgoingMessage) -> SendResult | None:
        delivered.set()
        return None

    channel = RecordingChannel(channel_name="telegram", outcome_for=notice)
    stop = asyncio.Event()
    started: list[ReminderService] = []
    service = asyncio.create_task(
        run_service(
            Wiring(engine, calendar()),
            {"telegram": channel},
            ManualClock(NOW + timedelta(minutes=1)),
            stop,
            settings=ServiceSettings(worker_id="svc"),
            ready=started.append,
        )
    )
    try:
        await asyncio.wait_for(delivered.wait(), WAIT)
    finally:
        stop.set()
        await asyncio.wait_for(service, WAIT)

    [running] = started
    assert running.last_planning is not None and running.last_planning.inserted > 0
    [message] = channel.sent
    assert message.chat_id == "100" and "nhiệm vụ 1 (chủ trì)" in message.text
    sent = [r for r in reminders(session) if r.state == "sent"]
    assert [(r.step, r.claimed_by) for r in sent] == [("before:7", "svc")]


@pytest.mark.parametrize("missing", ["fallback"])
def test_a_fallback_channel_must_be_one_of_the_channels(engine: Engine, missing: str) -> None:
    with pytest.raises(ValueError, match="fallback"):
        ReminderService(
            Wiring(engine, calendar()),
            {},
            SystemClock(),
            ServiceSettings(fallback_channel=missing),
        )


async def test_the_coordinators_digest_is_queued_once_a_working_day_and_sent(
    engine: Engine, session: Session
) -> None:
    save_plan(session, [TaskSpec("1", fixed(date(2023, 12, 29)))])
    focal = add_contact(session, "STC", "100")
    add_contact(session, "SNV", "900", role="coordinator")
    repository.add_progress(
        session,
        assignment_id=assignment_id(session, "1", "STC"),
        kind="percent",
        percent=60,
        text="Đã hoàn thành dự thảo, đang lấy ý kiến",
        reported_at=local(2024, 1, 2, 10),
        contact_id=focal,
    )
    session.commit()

    def queue(now: datetime) -> int:
        queued = queue_coordinator_digest(
            session, directory=DIRECTORY, calendar=calendar(), now=now
        )
        session.commit()
        return queued

    assert queue(at8(date(2024, 1, 6))) == 0  # a Saturday: no digest
    assert queue(at8(date(2024, 1, 3))) == 1
    assert queue(at8(date(2024, 1, 3))) == 0  # a second instance, or a restart: not twice
    [row] = [r for r in reminders(session) if r.step == "notice"]
    assert (row.occurrence, row.audience, row.send_at) == (
        "digest:2024-01-03",
        "coordinator",
        at8(date(2024, 1, 3)),
    )
    channel = RecordingChannel(channel_name="telegram")
    await dispatcher(engine, {"telegram": channel}).tick(at8(date(2024, 1, 3)))
    [message] = channel.texts_for("900")
    assert message.startswith("Tổng hợp tình hình thực hiện nhiệm vụ ngày 03/01/2024")
    assert "Báo cáo mới (1):" in message and "Sở Tài chính, nhiệm vụ 1" in message
    # The report of 02/01 was in Wednesday's digest; Thursday's has nothing new to say.
    assert queue(at8(date(2024, 1, 4))) == 0
