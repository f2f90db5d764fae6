"""Benchmark: the reminder service's start-up time and resident memory with 100k pending reminders.

A synthetic country (``bench/synthetic.py``) is loaded and planned once at 10/12/2026 07:00
(``scheduler.planning.plan``); what was due by then is marked sent, so the outbox holds about
``--pending`` reminders waiting for their day. Then, in a fresh process each time (``--runs``),
the service starts as ``nhacviec run`` starts it: the command line's modules imported
(``app.cli``, then ``app.runtime``), ``app.bootstrap.bootstrap`` (migration check, directory
seeded if empty), ``app.runtime.run`` with a ``ManualClock`` at that moment and recording channels
for Telegram and Zalo (no bot, no web server). Its first dispatch tick (nothing due) and first
planning run (looking back to the previous one, nothing new) start side by side. Timed from just
before the process is spawned, so the interpreter's start and every import count:

- ``imported``: the modules ``nhacviec run`` needs are imported;
- ``scheduler_running``: the jobs are started (``ready`` called);
- ``first_tick``: the first dispatch tick is done: the service sends what is due. RSS is read then;
- ``planning_done``: the first planning run is done too (the figure this benchmark called
  "first planning and tick done" before the tick stopped waiting for planning); the peak RSS.

    .venv/bin/python bench/bench_startup.py [--db sqlite|postgresql|URL] [--pending 100000] \\
        [--agencies 10000] [--runs 3] [--out FILE]
"""

import argparse
import asyncio
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

from domain.calendar import ZONE

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from scheduler.service import ReminderService

# The same moment as synthetic.NOW (the synthetic world's module is not imported by the timed
# processes: only what the service itself needs is).
NOW = datetime(2026, 12, 10, 7, 0, tzinfo=ZONE)
SCRIPT = str(Path(__file__).resolve())
# About 0.95 pending reminder per assignment at NOW with the synthetic mix (measured): the world
# is sized from the wanted number of pending reminders.
PENDING_PER_ASSIGNMENT = 0.95


def world_spec(pending: int, agencies: int) -> Any:
    import synthetic

    assignments = max(1000, round(pending / PENDING_PER_ASSIGNMENT))
    return synthetic.Spec(
        agencies=agencies,
        plans=max(1, assignments // 1000),
        tasks_per_plan=25,
        assignments=assignments,
    )


def prepare(url: str, pending: int, agencies: int) -> dict[str, Any]:
    """Load the world, plan it once (timed: our planning), mark what was due as sent."""
    import synthetic
    from sqlalchemy import update
    from sqlmodel import Session, col

    from domain.calendar import WorkingCalendar
    from domain.reminders import ReminderPolicy
    from scheduler.planning import plan
    from storage.engine import make_engine
    from storage.migrate import upgrade
    from storage.models import Reminder

    assert synthetic.NOW == NOW
    world = synthetic.build(world_spec(pending, agencies))
    engine = make_engine(url)
    try:
        upgrade(url, engine=engine)
        counts, load_s = common.timed(lambda: synthetic.load(engine, world))
        with Session(engine) as session:

            def first() -> Any:
                report = plan(
                    session,
                    directory=world.directory,
                    calendar=WorkingCalendar(),
                    policy=ReminderPolicy(),
                    now=NOW,
                    lookback_days=1,
                )
                session.commit()
                return report

            report, plan_s = common.timed(first)
            session.exec(
                update(Reminder)
                .where(col(Reminder.send_at) <= NOW, col(Reminder.state) == "pending")
                .values(state="sent", sent_at=NOW)
            )
            session.commit()
        waiting = pending_reminders(engine)
    finally:
        engine.dispose()
    return {
        **counts,
        "load_s": load_s,
        "plan_s": plan_s,
        "planned_rows": report.inserted,
        "pending": waiting,
    }


def pending_reminders(engine: "Engine") -> int:
    from sqlalchemy import func, select
    from sqlmodel import col

    from storage.models import Reminder

    with engine.connect() as connection:
        found = connection.execute(
            select(func.count()).select_from(Reminder).where(col(Reminder.state) == "pending")
        ).scalar()
    return int(found or 0)


def import_the_app() -> None:
    """Import what ``nhacviec run`` imports before it starts: the command line (every command is
    registered on it), then the runtime its ``run`` command loads."""
    import app.cli
    import app.runtime  # noqa: F401


def child_start(url: str, spawned: float) -> dict[str, Any]:
    import_the_app()
    from app.bootstrap import bootstrap
    from app.config import Config, DatabaseConfig
    from app.runtime import run as run_app
    from bot.recording import RecordingChannel
    from scheduler.clock import ManualClock
    from scheduler.service import ServiceSettings

    marks: dict[str, float] = {"imported": time.time() - spawned}
    services = bootstrap(Config(database=DatabaseConfig(url=url)))
    settings = ServiceSettings(
        policy=services.policy,
        horizon_days=services.config.reminders.horizon_days,
        require_confirmation=services.config.status.require_confirmation,
    )
    channels = {
        "telegram": RecordingChannel(channel_name="telegram"),
        "zalo": RecordingChannel(channel_name="zalo"),
    }
    holder: dict[str, ReminderService] = {}
    found: dict[str, Any] = {}

    def ready(service: "ReminderService") -> None:
        marks["scheduler_running"] = time.time() - spawned
        holder["service"] = service

    async def main() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(
            run_app(
                services,
                clock=ManualClock(NOW),
                stop=stop,
                settings=settings,
                channels=channels,
                ready=ready,
            )
        )
        deadline = time.monotonic() + 1800
        while "planning_done" not in marks:
            if time.monotonic() > deadline:
                raise TimeoutError("the service did not plan within 30 minutes")
            if task.done():
                task.result()  # the service failed: say why
            service = holder.get("service")
            if service is not None and service.last_tick is not None and "first_tick" not in marks:
                marks["first_tick"] = time.time() - spawned
                found["rss_mib"] = common.rss_mib()
            if service is not None and service.last_planning is not None:
                marks["planning_done"] = time.time() - spawned
                found["rss_planned_mib"] = common.rss_mib()
            await asyncio.sleep(0.005)
        while holder["service"].last_tick is None:  # planning first: the tick is still to come
            await asyncio.sleep(0.005)
        marks.setdefault("first_tick", time.time() - spawned)
        found.setdefault("rss_mib", common.rss_mib())
        stop.set()
        await task
        service = holder["service"]
        report, tick = service.last_planning, service.last_tick
        found["planned_assignments"] = report.assignments if report else 0
        found["inserted"] = report.inserted if report else 0
        found["claimed"] = tick.claimed if tick else 0
        # Planning and dispatch never look a name up: the directory's name index stays unbuilt.
        found["name_index_built"] = int(service.dispatcher.directory._index is not None)

    try:
        asyncio.run(main())
    finally:
        services.engine.dispose()
    return {**marks, **found, "peak_rss_mib": common.peak_rss_mib()}


def start_runs(url: str, runs: int) -> list[dict[str, Any]]:
    found = []
    for _ in range(runs):
        found.append(
            common.run_child(
                [SCRIPT, "--child", "start", "--url", url, "--spawned", str(time.time())]
            )
        )
    return found


def median(runs: list[dict[str, Any]], key: str) -> float:
    return statistics.median(float(r[key]) for r in runs)


def run(args: argparse.Namespace) -> common.Result:
    result = common.Result("startup", {k: v for k, v in vars(args).items() if k != "child"})
    with common.scratch_database(args.db, "bench_startup") as url:
        backend = common.backend_name(url)
        ready = common.run_child(
            [SCRIPT, "--child", "prepare", "--url", url, "--pending", str(args.pending),
             "--agencies", str(args.agencies)]
        )  # fmt: skip
        result.note(
            f"[{backend}] {ready['assignments']:,} assignments, {ready['contacts']:,} contacts; "
            f"planned once ({ready['planned_rows']:,} rows in {ready['plan_s']:.1f} s): "
            f"{ready['pending']:,} reminders pending"
        )
        result.add(f"{backend}.pending", ready["pending"])
        runs = start_runs(url, args.runs)
    keys = ("imported", "scheduler_running", "first_tick", "planning_done")
    for key in (*keys, "rss_mib", "rss_planned_mib", "peak_rss_mib"):
        result.add(f"{backend}.{key}{'' if 'mib' in key else '_s'}", median(runs, key))
    result.add(
        f"{backend}.after_imports_first_tick_s",
        statistics.median(r["first_tick"] - r["imported"] for r in runs),
    )
    result.note(
        f"[{backend}] start-up, median of {len(runs)}: imports done {median(runs, 'imported'):.2f}"
        f" s, scheduler running {median(runs, 'scheduler_running'):.2f} s, first tick done "
        f"{median(runs, 'first_tick'):.2f} s (RSS {median(runs, 'rss_mib'):.0f} MiB), first "
        f"planning and tick done {median(runs, 'planning_done'):.2f} s (RSS "
        f"{median(runs, 'rss_planned_mib'):.0f} MiB, peak {median(runs, 'peak_rss_mib'):.0f} MiB)"
    )
    return result


def main(argv: list[str] | None = None) -> common.Result | None:
    parser = common.parser(__doc__)
    parser.add_argument("--db", default="sqlite", help="'sqlite', 'postgresql' or a URL")
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--agencies", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", choices=("prepare", "start"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--spawned", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if common.compared(args):
        return None
    if args.child == "prepare":
        common.child_output(prepare(args.url, args.pending, args.agencies))
        return None
    if args.child == "start":
        common.child_output(child_start(args.url, args.spawned))
        return None
    return common.finish(run(args), args.out)


if __name__ == "__main__":
    main()
