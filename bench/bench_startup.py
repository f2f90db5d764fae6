"""Benchmark: the reminder service's start-up time and resident memory with 100k pending reminders.

A synthetic country (``bench/synthetic.py``) is loaded and planned once at 10/12/2026 07:00
(``scheduler.planning.plan``); what was due by then is marked sent, so the outbox holds about
``--pending`` reminders waiting for their day. Then, in a fresh process each time (``--runs``),
the service starts as ``nhacviec run`` starts it: migrate check, directory read from the
database, ``scheduler.service.run_service`` with a ``ManualClock`` at that moment and recording
channels for Telegram and Zalo. Its first planning run (looking back to the previous one, nothing
new) and first dispatch tick (nothing due) follow at once. Timed from just before the process is
spawned, so the interpreter's start and every import count:

- ``scheduler_running``: the jobs are started (``ready`` called);
- ``first_tick``: the first planning run and the first dispatch tick are done: the service is
  doing its work. RSS is read then; the peak RSS too.

    .venv/bin/python bench/bench_startup.py [--db sqlite|postgresql|URL] [--pending 100000] \\
        [--agencies 10000] [--runs 3] [--out FILE]
"""

import argparse
import asyncio
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
import synthetic
from sqlalchemy import Engine, func, select, update
from sqlmodel import Session, col

from bot.recording import RecordingChannel
from domain.agencies import Directory
from domain.calendar import WorkingCalendar
from domain.reminders import ReminderPolicy
from scheduler.clock import ManualClock
from scheduler.planning import plan
from scheduler.service import ReminderService, run_service
from storage import repository
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import Reminder

NOW = synthetic.NOW
SCRIPT = str(Path(__file__).resolve())
# About 0.95 pending reminder per assignment at NOW with the synthetic mix (measured): the world
# is sized from the wanted number of pending reminders.
PENDING_PER_ASSIGNMENT = 0.95


def world_spec(pending: int, agencies: int) -> synthetic.Spec:
    assignments = max(1000, round(pending / PENDING_PER_ASSIGNMENT))
    return synthetic.Spec(
        agencies=agencies,
        plans=max(1, assignments // 1000),
        tasks_per_plan=25,
        assignments=assignments,
    )


def prepare(url: str, pending: int, agencies: int) -> dict[str, Any]:
    """Load the world, plan it once (timed: our planning), mark what was due as sent."""
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


def pending_reminders(engine: Engine) -> int:
    with engine.connect() as connection:
        found = connection.execute(
            select(func.count()).select_from(Reminder).where(col(Reminder.state) == "pending")
        ).scalar()
    return int(found or 0)


@dataclass
class _Services:
    """What ``run_service`` needs, as ``app.bootstrap.Services`` gives it."""

    engine: Engine
    calendar: WorkingCalendar

    def directory(self) -> Directory:
        with Session(self.engine) as session:
            return repository.load_directory(session)


def child_start(url: str, spawned: float) -> dict[str, Any]:
    marks: dict[str, float] = {"imported": time.time() - spawned}
    engine = make_engine(url)
    upgrade(url, engine=engine)
    services = _Services(engine, WorkingCalendar())
    channels = {
        "telegram": RecordingChannel(channel_name="telegram"),
        "zalo": RecordingChannel(channel_name="zalo"),
    }
    holder: dict[str, ReminderService] = {}

    def ready(service: ReminderService) -> None:
        marks["scheduler_running"] = time.time() - spawned
        holder["service"] = service

    async def main() -> dict[str, Any]:
        stop = asyncio.Event()
        task = asyncio.create_task(
            run_service(services, channels, ManualClock(NOW), stop, ready=ready)
        )
        deadline = time.monotonic() + 1800
        while time.monotonic() < deadline:
            service = holder.get("service")
            if service is not None and service.last_tick is not None:
                break
            await asyncio.sleep(0.005)
        else:
            raise TimeoutError("the service did not tick within 30 minutes")
        marks["first_tick"] = time.time() - spawned
        rss = common.rss_mib()
        stop.set()
        await task
        report = service.last_planning
        return {
            "rss_mib": rss,
            "planned_assignments": report.assignments if report else 0,
            "inserted": report.inserted if report else 0,
            "claimed": service.last_tick.claimed if service.last_tick else 0,
        }

    try:
        found = asyncio.run(main())
    finally:
        engine.dispose()
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
    for key in ("imported", "scheduler_running", "first_tick", "rss_mib", "peak_rss_mib"):
        result.add(f"{backend}.{key}{'' if 'mib' in key else '_s'}", median(runs, key))
    result.note(
        f"[{backend}] start-up, median of {len(runs)}: imports done {median(runs, 'imported'):.2f}"
        f" s, scheduler running {median(runs, 'scheduler_running'):.2f} s, first planning and "
        f"tick done {median(runs, 'first_tick'):.2f} s; RSS {median(runs, 'rss_mib'):.0f} MiB "
        f"(peak {median(runs, 'peak_rss_mib'):.0f} MiB)"
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
