"""The reminder service: planning, dispatching, the daily digest (and the optional Zalo check-in),
wired to one database.

``run_service`` is what ``nhacviec run`` awaits: it builds the dispatcher over the given channels,
starts the jobs, and returns once ``stop_event`` is set, after the running jobs have finished. The
chat adapters add their channels to ``channels``; receiving messages is theirs to run alongside.

Start-up does not read the agency directory: the first planning run or the first tick with
something to send does (in a worker thread, as plain columns, its name index left for later:
``storage.repository.load_directory``), and the dispatcher and that planning run share it; later
planning runs read it again, so a directory loaded meanwhile is followed. The first dispatch tick
does not wait for the first planning run (``ReminderJobs.start``): what is due is already in the
outbox.
"""

import asyncio
import os
import socket
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Engine
from sqlmodel import Session

from domain.agencies import Directory
from domain.calendar import WorkingCalendar
from domain.channel_choice import ZALO, InteractionWindow
from domain.delivery import Channel
from domain.reminders import ReminderPolicy
from scheduler.clock import Clock
from scheduler.coordinator_digest import queue_coordinator_digest
from scheduler.dispatcher import Dispatcher, TickReport
from scheduler.housekeeping import HousekeepingReport, housekeep
from scheduler.jobs import JobSettings, ReminderJobs
from scheduler.planning import DEFAULT_HORIZON_DAYS, PlanningReport, plan
from scheduler.zalo_checkin import queue_zalo_checkins
from storage import reminder_queries


class ServiceContext(Protocol):
    """What the service needs from the app's wiring (``app.bootstrap.Services`` provides it)."""

    @property
    def engine(self) -> Engine: ...

    @property
    def calendar(self) -> WorkingCalendar: ...

    def directory(self) -> Directory: ...


@dataclass(frozen=True)
class ServiceSettings:
    policy: ReminderPolicy = field(default_factory=ReminderPolicy)
    horizon_days: int = DEFAULT_HORIZON_DAYS
    require_confirmation: bool = True
    fallback_channel: str | None = None  # see Dispatcher
    worker_id: str | None = None  # default: host, process and a random suffix
    jobs: JobSettings = field(default_factory=JobSettings)
    # Zalo's interaction window, checked before a Zalo send (see Dispatcher); and how long before
    # it closes a daily check-in invites a reply (None: no check-in; needs the Zalo channel).
    zalo_window: InteractionWindow | None = field(default_factory=InteractionWindow)
    zalo_checkin_before: timedelta | None = None


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class ReminderService:
    def __init__(
        self,
        services: ServiceContext,
        channels: Mapping[str, Channel],
        clock: Clock,
        settings: ServiceSettings | None = None,
        *,
        directory: Directory | None = None,
    ) -> None:
        """``directory``: the one already read (read from ``services.directory()`` when first
        needed otherwise); the first planning run uses it too."""
        self.services = services
        self.settings = settings or ServiceSettings()
        self._directory_is_fresh = True  # the first planning run needs no second read
        self.dispatcher = Dispatcher(
            services.engine,
            channels,
            directory=directory if directory is not None else services.directory,
            calendar=services.calendar,
            worker_id=self.settings.worker_id or default_worker_id(),
            fallback_channel=self.settings.fallback_channel,
            window=self.settings.zalo_window,
        )
        checkin = self.settings.zalo_checkin_before is not None and ZALO in channels
        self.jobs = ReminderJobs(
            clock=clock,
            plan=self.plan,
            dispatch=self.dispatch,
            coordinator_digest=self.coordinator_digest,
            settings=self.settings.jobs,
            zalo_checkin=self.zalo_checkin if checkin else None,
            housekeeping=self.housekeeping,
        )
        self.last_planning: PlanningReport | None = None
        self.last_tick: TickReport | None = None

    def request_planning(self) -> None:
        self.jobs.request_planning()

    async def plan(self, now: datetime) -> PlanningReport:
        report = await asyncio.to_thread(self._plan, now)
        self.last_planning = report
        return report

    def _planning_requested(self) -> bool:
        with Session(self.services.engine) as session:
            return reminder_queries.planning_requested(session)

    def _plan(self, now: datetime) -> PlanningReport:
        # Planning runs one at a time (``ReminderJobs``), so the flag needs no lock.
        if self._directory_is_fresh:
            self._directory_is_fresh = False
            directory = self.dispatcher.directory
        else:
            directory = self.services.directory()
            self.dispatcher.directory = directory  # names follow a reloaded directory
        with Session(self.services.engine) as session:
            report = plan(
                session,
                directory=directory,
                calendar=self.services.calendar,
                policy=self.settings.policy,
                now=now,
                horizon_days=self.settings.horizon_days,
            )
            session.commit()
        return report

    async def dispatch(self, now: datetime) -> TickReport:
        if await asyncio.to_thread(self._planning_requested):
            self.jobs.request_planning()  # an import in another process changed the plans
        report = await self.dispatcher.tick(now)
        self.last_tick = report
        return report

    async def coordinator_digest(self, now: datetime) -> int:
        return await asyncio.to_thread(self._coordinator_digest, now)

    async def housekeeping(self, now: datetime) -> HousekeepingReport:
        return await asyncio.to_thread(
            housekeep, self.services.engine, directory=self.dispatcher.directory, now=now
        )

    async def zalo_checkin(self, now: datetime) -> int:
        return await asyncio.to_thread(self._zalo_checkin, now)

    def _zalo_checkin(self, now: datetime) -> int:
        before = self.settings.zalo_checkin_before
        if before is None:
            return 0
        with Session(self.services.engine) as session:
            queued = queue_zalo_checkins(
                session,
                now=now,
                window=self.settings.zalo_window or InteractionWindow(),
                before=before,
            )
            session.commit()
        return queued

    def _coordinator_digest(self, now: datetime) -> int:
        with Session(self.services.engine) as session:
            queued = queue_coordinator_digest(
                session,
                directory=self.dispatcher.directory,
                calendar=self.services.calendar,
                now=now,
                require_confirmation=self.settings.require_confirmation,
            )
            session.commit()
        return queued


async def run_service(
    services: ServiceContext,
    channels: Mapping[str, Channel],
    clock: Clock,
    stop_event: asyncio.Event,
    *,
    settings: ServiceSettings | None = None,
    ready: Callable[[ReminderService], object] | None = None,
) -> None:
    """Run until ``stop_event`` is set; ``ready`` gets the service once its jobs are started
    (to call ``request_planning`` after an import, or to watch its reports)."""
    service = ReminderService(services, channels, clock, settings)
    service.jobs.start(tick_at_once=True)  # what is due is in the outbox: no need to plan first
    try:
        if ready is not None:
            ready(service)
        await stop_event.wait()
    finally:
        await service.jobs.shutdown()
