"""Start-up: the first dispatch tick does not wait for planning, and the directory is read once."""

import asyncio
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from bot.recording import RecordingChannel
from domain.agencies import Directory
from domain.calendar import WorkingCalendar
from domain.delivery import OutgoingMessage, SendResult
from scheduler.clock import ManualClock
from scheduler.jobs import ReminderJobs
from scheduler.planning import plan
from scheduler.service import ReminderService, ServiceSettings, run_service
from tests.integration.reminder_world import (
    DIRECTORY,
    POLICY,
    TaskSpec,
    add_contact,
    at8,
    calendar,
    fixed,
    reminders,
    save_plan,
)

NOW = at8(date(2023, 12, 22))
WAIT = 10  # seconds: only reached when the behaviour under test is broken


class HeldPlanning:
    """Job functions: planning is held until released; each tick is recorded."""

    def __init__(self) -> None:
        self.planned: list[datetime] = []
        self.dispatched: list[datetime] = []
        self.planning_started = asyncio.Event()
        self.planning_done = asyncio.Event()
        self.release = asyncio.Event()
        self.ticked = asyncio.Event()

    async def plan(self, now: datetime) -> None:
        self.planned.append(now)
        self.planning_started.set()
        await self.release.wait()
        self.planning_done.set()

    async def dispatch(self, now: datetime) -> None:
        self.dispatched.append(now)
        self.ticked.set()


async def test_the_first_tick_runs_while_the_first_planning_run_is_still_going() -> None:
    calls = HeldPlanning()
    jobs = ReminderJobs(clock=ManualClock(NOW), plan=calls.plan, dispatch=calls.dispatch)
    jobs.start(tick_at_once=True)
    try:
        await asyncio.wait_for(calls.planning_started.wait(), WAIT)
        await asyncio.wait_for(calls.ticked.wait(), WAIT)
        assert calls.dispatched == [NOW]  # ticked...
        assert not calls.planning_done.is_set()  # ...while planning has not finished

        calls.ticked.clear()
        calls.release.set()
        await asyncio.wait_for(calls.ticked.wait(), WAIT)  # planning done: one more tick
        assert calls.dispatched == [NOW, NOW]
        assert calls.planned == [NOW]
    finally:
        await jobs.shutdown()


@dataclass
class CountingWiring:
    """``ServiceContext`` that counts the directory reads."""

    engine: Engine
    calendar: WorkingCalendar
    reads: list[Directory] = field(default_factory=list)

    def directory(self) -> Directory:
        self.reads.append(DIRECTORY)
        return DIRECTORY


async def test_the_service_reads_the_directory_once_and_sends_what_is_due_at_start(
    engine: Engine, session: Session
) -> None:
    save_plan(session, [TaskSpec("1", fixed(date(2023, 12, 29)))])
    contact = add_contact(session, "STC", "100")
    # Planned by an earlier run of the service: the 7-days-before reminder is due at NOW.
    plan(session, directory=DIRECTORY, calendar=calendar(), policy=POLICY, now=NOW)
    session.commit()
    assert any(r.send_at <= NOW and r.contact_id == contact for r in reminders(session))
    delivered = asyncio.Event()

    def notice(message: OutgoingMessage) -> SendResult | None:
        delivered.set()
        return None

    wiring = CountingWiring(engine, calendar())
    channel = RecordingChannel(channel_name="telegram", outcome_for=notice)
    stop = asyncio.Event()
    service = asyncio.create_task(
        run_service(
            wiring,
            {"telegram": channel},
            ManualClock(NOW + timedelta(minutes=1)),
            stop,
            settings=ServiceSettings(worker_id="svc"),
        )
    )
    try:
        await asyncio.wait_for(delivered.wait(), WAIT)
    finally:
        stop.set()
        await asyncio.wait_for(service, WAIT)

    [message] = channel.sent
    assert message.chat_id == "100"
    assert len(wiring.reads) == 1  # the dispatcher and the first planning run shared it


async def test_later_planning_runs_read_the_directory_again(engine: Engine) -> None:
    wiring = CountingWiring(engine, calendar())
    service = ReminderService(
        wiring, {}, ManualClock(NOW), ServiceSettings(worker_id="svc"), directory=DIRECTORY
    )
    assert wiring.reads == []  # given: not read again

    await service.plan(NOW)
    assert wiring.reads == []  # the first run uses the directory the service started with
    await service.plan(NOW + timedelta(hours=1))
    assert len(wiring.reads) == 1  # then each run follows a directory loaded meanwhile
    assert service.last_planning is not None


async def test_a_tick_with_nothing_due_does_not_read_the_directory(
    engine: Engine, session: Session
) -> None:
    wiring = CountingWiring(engine, calendar())
    service = ReminderService(wiring, {}, ManualClock(NOW), ServiceSettings(worker_id="svc"))
    await service.dispatch(NOW)
    assert wiring.reads == []  # a start with nothing due waits for no directory

    save_plan(session, [TaskSpec("1", fixed(date(2023, 12, 29)))])
    add_contact(session, "STC", "100")
    plan(session, directory=DIRECTORY, calendar=calendar(), policy=POLICY, now=NOW)
    session.commit()
    await service.dispatch(NOW)
    assert len(wiring.reads) == 1  # read once something is to be worded
    await service.plan(NOW)
    assert len(wiring.reads) == 1  # and the first planning run shares it
