"""The few fixed APScheduler jobs: planning, the dispatch tick, the coordinators' daily digest,
and, when asked for, the daily Zalo check-in (``scheduler.zalo_checkin``); the nightly
housekeeping (``scheduler.housekeeping``) when given.

There is no job per reminder and no persistent job store: the outbox is the state, so any number
of restarts (or of running instances) loses nothing, and the in-memory jobs only decide when to
look at it. Every job sets ``misfire_grace_time`` (APScheduler's default, one second, silently
drops a run that starts a little late), ``coalesce=True`` (runs missed while the loop was busy make
one run) and ``max_instances=1`` (a slow tick is never overlapped by the next one).

Jobs ask the injected ``Clock`` for the ``now`` they pass down (APScheduler keeps its own clock for
firing them). The service starts a dispatch tick and a planning run at once, side by side
(``start(tick_at_once=True)``): the tick sends what is already due in the outbox without waiting
for planning (about 2 s at 100,000 assignments), which only adds what is new since its previous
run. Planning then runs hourly;
``request_planning`` (after an import) runs it at once, or once more right after the run in
progress. Each planning run and each digest ends by asking for a dispatch tick, so what became due
goes out without waiting for the next one.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from domain.calendar import ZONE
from scheduler.clock import Clock

log = logging.getLogger(__name__)

PLANNING_JOB = "planning"
DISPATCH_JOB = "dispatch"
DIGEST_JOB = "coordinator_digest"
CHECKIN_JOB = "zalo_checkin"
HOUSEKEEPING_JOB = "housekeeping"

JobFunction = Callable[[datetime], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class JobSettings:
    planning_every: timedelta = timedelta(hours=1)
    dispatch_every: timedelta = timedelta(seconds=30)
    digest_at: time = time(8, 0)
    planning_grace: timedelta = timedelta(minutes=30)
    dispatch_grace: timedelta = timedelta(seconds=30)
    digest_grace: timedelta = timedelta(hours=4)  # a service started at 09:00 still sends it
    checkin_at: time = time(9, 0)  # after the morning's digests, within office hours
    checkin_grace: timedelta = timedelta(hours=4)
    housekeeping_at: time = time(0, 5)  # just after midnight: the new day's lines made ready
    housekeeping_grace: timedelta = timedelta(hours=6)


class ReminderJobs:
    """The scheduler and its jobs around the given job functions (the Zalo check-in only when
    ``zalo_checkin`` is given)."""

    def __init__(
        self,
        *,
        clock: Clock,
        plan: JobFunction,
        dispatch: JobFunction,
        coordinator_digest: JobFunction | None = None,
        settings: JobSettings | None = None,
        zalo_checkin: JobFunction | None = None,
        housekeeping: JobFunction | None = None,
    ) -> None:
        settings = settings or JobSettings()
        self.clock = clock
        self._plan = plan
        self._dispatch = dispatch
        self._digest = coordinator_digest
        self._checkin = zalo_checkin
        self._housekeeping = housekeeping
        self._settings = settings
        self._again: set[str] = set()  # jobs asked for while running
        self._busy: set[str] = set()
        self._running: set[asyncio.Task[object]] = set()
        self.scheduler = AsyncIOScheduler(
            timezone=ZONE,
            jobstores={"default": MemoryJobStore()},
            job_defaults={"coalesce": True, "max_instances": 1},
        )
        self.scheduler.add_job(
            self._planning,
            IntervalTrigger(seconds=settings.planning_every.total_seconds(), timezone=ZONE),
            id=PLANNING_JOB,
            name="Lập lịch nhắc việc",
            misfire_grace_time=int(settings.planning_grace.total_seconds()),
            coalesce=True,
            max_instances=1,
        )
        self.scheduler.add_job(
            self._dispatching,
            IntervalTrigger(seconds=settings.dispatch_every.total_seconds(), timezone=ZONE),
            id=DISPATCH_JOB,
            name="Gửi nhắc việc đến hạn",
            misfire_grace_time=int(settings.dispatch_grace.total_seconds()),
            coalesce=True,
            max_instances=1,
        )
        self._daily(
            self._digesting,
            settings.digest_at,
            settings.digest_grace,
            DIGEST_JOB,
            "Tổng hợp hằng ngày cho cơ quan theo dõi",
        )
        if zalo_checkin is not None:
            self._daily(
                self._checking_in,
                settings.checkin_at,
                settings.checkin_grace,
                CHECKIN_JOB,
                "Mời trả lời trước khi hết thời hạn tương tác Zalo",
            )
        if housekeeping is not None:
            self._daily(
                self._housekeeping_run,
                settings.housekeeping_at,
                settings.housekeeping_grace,
                HOUSEKEEPING_JOB,
                "Dọn dữ liệu và chuẩn bị số liệu ngày mới",
            )

    def _daily(
        self,
        function: Callable[[], Awaitable[None]],
        at: time,
        grace: timedelta,
        job_id: str,
        name: str,
    ) -> None:
        """A job once a day at ``at``, Viet Nam time."""
        self.scheduler.add_job(
            function,
            CronTrigger(hour=at.hour, minute=at.minute, second=at.second, timezone=ZONE),
            id=job_id,
            name=name,
            misfire_grace_time=int(grace.total_seconds()),
            coalesce=True,
            max_instances=1,
        )

    # --- control ------------------------------------------------------------------------------

    def start(self, *, tick_at_once: bool = False) -> None:
        """Start firing jobs (inside the running event loop); planning runs at once, and so does
        a dispatch tick when ``tick_at_once`` (the service's choice), beside it rather than after
        it: that first tick does not wait for planning. Otherwise the first tick comes when
        planning asks for it, or with the periodic job."""
        self.scheduler.start()
        if tick_at_once:
            self.request_dispatch()
        self.request_planning()

    async def shutdown(self, timeout: float = 30.0) -> None:
        """Stop firing jobs and let the running ones finish (a tick records what it sent)."""
        if not self.scheduler.running:
            return
        # Shutting APScheduler's asyncio executor down cancels the jobs it runs: pause first.
        self.scheduler.pause()
        running = list(self._running)
        if running:
            _, late = await asyncio.wait(running, timeout=timeout)
            for task in late:
                task.cancel()
        self.scheduler.shutdown(wait=False)
        await asyncio.sleep(0)  # let the scheduler's own shutdown callback run

    def request_planning(self) -> None:
        """Plan now (after an import); if planning is running, once more right after it."""
        self._request(PLANNING_JOB, self._planning, self._settings.planning_grace)

    def request_dispatch(self) -> None:
        self._request(DISPATCH_JOB, self._dispatching, self._settings.dispatch_grace)

    def _request(
        self, job_id: str, function: Callable[[], Awaitable[None]], grace: timedelta
    ) -> None:
        if job_id in self._busy:
            self._again.add(job_id)
            return
        if not self.scheduler.running:
            return
        # A one-off job beside the periodic one: moving the periodic job's next run would shift
        # its cadence. The flags above keep the two from running at once.
        self.scheduler.add_job(
            function,
            DateTrigger(timezone=ZONE),  # APScheduler's "now"
            id=f"{job_id}:now",
            replace_existing=True,
            misfire_grace_time=int(grace.total_seconds()),
            coalesce=True,
            max_instances=1,
        )

    # --- the job functions --------------------------------------------------------------------

    async def _run(self, job_id: str, function: JobFunction) -> bool:
        """Run ``function(now)`` unless it is already running (then it runs again after);
        whether it ran."""
        if job_id in self._busy:
            self._again.add(job_id)
            return False
        self._busy.add(job_id)
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            while True:
                self._again.discard(job_id)
                try:
                    await function(self.clock.now())
                except Exception:  # one failed run must not stop the next ones
                    log.exception("job %s failed", job_id)
                if job_id not in self._again:
                    return True
        finally:
            self._busy.discard(job_id)
            if task is not None:
                self._running.discard(task)

    async def _planning(self) -> None:
        if await self._run(PLANNING_JOB, self._plan):
            self.request_dispatch()

    async def _dispatching(self) -> None:
        await self._run(DISPATCH_JOB, self._dispatch)

    async def _digesting(self) -> None:
        if self._digest is not None and await self._run(DIGEST_JOB, self._digest):
            self.request_dispatch()

    async def _housekeeping_run(self) -> None:
        if self._housekeeping is not None:
            await self._run(HOUSEKEEPING_JOB, self._housekeeping)

    async def _checking_in(self) -> None:
        if self._checkin is not None and await self._run(CHECKIN_JOB, self._checkin):
            self.request_dispatch()


def build_scheduler(
    *,
    clock: Clock,
    plan: JobFunction,
    dispatch: JobFunction,
    coordinator_digest: JobFunction | None = None,
    settings: JobSettings | None = None,
) -> AsyncIOScheduler:
    """The bare scheduler with the three jobs (``ReminderJobs`` also gives the controls)."""
    return ReminderJobs(
        clock=clock,
        plan=plan,
        dispatch=dispatch,
        coordinator_digest=coordinator_digest,
        settings=settings,
    ).scheduler
