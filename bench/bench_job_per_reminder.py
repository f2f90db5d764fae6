"""The usual design, side by side: one APScheduler job per reminder vs our outbox, same workload.

Many reminder bots schedule one APScheduler 3 job per reminder and persist them with
``SQLAlchemyJobStore``. Here both designs get the same synthetic country and the same ~100k
reminders waiting for their day (``bench/bench_startup.py`` prepares them), on the same database,
each step in a process of its own:

- planning/scheduling: ours is ``scheduler.planning.plan``'s first run (read, plan, insert the
  outbox rows in bulk). The usual design plans the same reminders with the same code (read, plan,
  one row per recipient), then adds one ``date`` job each (``add_job(send_reminder, "date",
  run_date=..., id=...)``, ``send_reminder`` a module-level function, as a job store needs) to a
  started ``BackgroundScheduler`` whose store is ``SQLAlchemyJobStore`` on the same database.
- start-up, from just before the process is spawned. Both processes first import what
  ``nhacviec run`` imports (``bench_startup.import_the_app``: the same application, scheduled
  another way), so the interpreter and the imports are a cost both pay alike. The usual design
  then runs until its scheduler is started and every job is loaded (``get_jobs()``: APScheduler
  reads jobs lazily, so ``start()`` alone returning is printed too); ours until its first dispatch
  tick is done (the outbox needs no loading: each tick reads what is due), and, stricter, until
  its first planning run is done too (``bench/bench_startup.py``).
- resident memory at that point, and the peak.

Printed as ratios usual/ours (above 1: ours is faster or smaller): end to end, from the spawn,
and the start-up work after the imports alone (each design's time from "imported" on). Target:
start-up at least 10x faster than the job-per-reminder design at 100k reminders.

    .venv/bin/python bench/bench_job_per_reminder.py [--db sqlite|postgresql|URL] \\
        [--pending 100000] [--agencies 10000] [--runs 3] [--out FILE]
"""

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_startup
import common
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlmodel import Session

from domain.calendar import ZONE, WorkingCalendar
from domain.reminders import ReminderPolicy
from scheduler.planning import DEFAULT_HORIZON_DAYS, Recipients, compute, outbox_rows
from storage import repository
from storage.engine import make_engine
from storage.reminder_queries import planning_input

SCRIPT = str(Path(__file__).resolve())
NOW = bench_startup.NOW
JOB_TABLE = "apscheduler_jobs"


def send_reminder(assignment_id: int, occurrence: str, step: str, contact_id: int) -> None:
    """What each job would run: word and send one reminder (never run here)."""
    raise RuntimeError(f"not sent in the benchmark: {assignment_id} {occurrence} {step}")


def _scheduler(url: str) -> tuple[BackgroundScheduler, Any]:
    engine = make_engine(url)
    store = SQLAlchemyJobStore(engine=engine, tablename=JOB_TABLE)
    return BackgroundScheduler(jobstores={"default": store}, timezone=ZONE), engine


def child_schedule(url: str) -> dict[str, Any]:
    """Plan the reminders (as ours does) and add one job per future reminder."""
    import bench_job_per_reminder as here  # the job's function by an importable name

    engine = make_engine(url)
    started = time.perf_counter()
    with Session(engine) as session:
        directory = repository.load_directory(session)
        found = planning_input(session)
        planned = compute(
            found.views,
            directory=directory,
            calendar=WorkingCalendar(),
            policy=ReminderPolicy(),
            now=NOW,
            horizon_days=DEFAULT_HORIZON_DAYS,
            lookback_days=1,
        )
        plan_of = {view.assignment_id: view.plan for view in found.views}
        recipients = Recipients.load(session, found.coordinators)
        rows, _, _ = outbox_rows(planned, plan_of, recipients, NOW)
    engine.dispose()
    future = [row for row in rows if row["send_at"] > NOW]
    compute_s = time.perf_counter() - started
    scheduler, store_engine = _scheduler(url)
    scheduler.start(paused=True)
    started = time.perf_counter()
    for row in future:
        key = f"{row['assignment_id']}:{row['occurrence']}:{row['step']}:{row['contact_id']}"
        scheduler.add_job(
            here.send_reminder,
            "date",
            run_date=row["send_at"],
            args=[row["assignment_id"], row["occurrence"], row["step"], row["contact_id"]],
            id=key,
            misfire_grace_time=3600,
            replace_existing=True,
        )
    add_s = time.perf_counter() - started
    scheduler.shutdown(wait=False)
    store_engine.dispose()
    return {"compute_s": compute_s, "add_s": add_s, "jobs": len(future)}


def child_start(url: str, spawned: float) -> dict[str, Any]:
    bench_startup.import_the_app()  # the same application: it pays the same imports as ours
    marks: dict[str, float] = {"imported": time.time() - spawned}
    scheduler, engine = _scheduler(url)
    scheduler.start()
    marks["started"] = time.time() - spawned
    jobs = scheduler.get_jobs()
    marks["loaded"] = time.time() - spawned
    rss = common.rss_mib()
    scheduler.shutdown(wait=False)
    engine.dispose()
    return {**marks, "jobs": len(jobs), "rss_mib": rss, "peak_rss_mib": common.peak_rss_mib()}


def run(args: argparse.Namespace) -> common.Result:
    result = common.Result("job_per_reminder", dict(vars(args)))
    with common.scratch_database(args.db, "bench_jobs") as url:
        backend = common.backend_name(url)
        ready = common.run_child(
            [bench_startup.SCRIPT, "--child", "prepare", "--url", url,
             "--pending", str(args.pending), "--agencies", str(args.agencies)]
        )  # fmt: skip
        result.note(
            f"[{backend}] {ready['assignments']:,} assignments; ours planned "
            f"{ready['planned_rows']:,} rows in {ready['plan_s']:.2f} s; "
            f"{ready['pending']:,} reminders pending"
        )
        scheduled = common.run_child([SCRIPT, "--child", "schedule", "--url", url], 7200)
        result.note(
            f"[{backend}] usual design: planned in {scheduled['compute_s']:.2f} s, "
            f"{scheduled['jobs']:,} jobs added in {scheduled['add_s']:.1f} s"
        )
        ours: list[dict[str, Any]] = []
        theirs: list[dict[str, Any]] = []
        for _ in range(args.runs):  # alternate, so a busy moment hurts both alike
            ours += bench_startup.start_runs(url, 1)
            theirs.append(
                common.run_child(
                    [SCRIPT, "--child", "start", "--url", url, "--spawned", str(time.time())]
                )
            )

    def med(runs: list[dict[str, Any]], key: str) -> float:
        return statistics.median(float(r[key]) for r in runs)

    usual_plan = scheduled["compute_s"] + scheduled["add_s"]
    figures = {
        "pending": ready["pending"],
        "jobs": scheduled["jobs"],
        "ours.plan_s": ready["plan_s"],
        "usual.plan_compute_s": scheduled["compute_s"],
        "usual.plan_add_jobs_s": scheduled["add_s"],
        "usual.plan_s": usual_plan,
        "ours.imported_s": med(ours, "imported"),
        "usual.imported_s": med(theirs, "imported"),
        "ours.scheduler_running_s": med(ours, "scheduler_running"),
        "ours.startup_s": med(ours, "first_tick"),
        "ours.planning_done_s": med(ours, "planning_done"),
        "usual.start_returned_s": med(theirs, "started"),
        "usual.startup_s": med(theirs, "loaded"),
        # The start-up work after the imports, each run's own (medians of the differences).
        "ours.after_imports_s": statistics.median(r["first_tick"] - r["imported"] for r in ours),
        "usual.after_imports_s": statistics.median(r["loaded"] - r["imported"] for r in theirs),
        "ours.rss_mib": med(ours, "rss_mib"),
        "usual.rss_mib": med(theirs, "rss_mib"),
        "ours.peak_rss_mib": med(ours, "peak_rss_mib"),
        "usual.peak_rss_mib": med(theirs, "peak_rss_mib"),
    }
    figures["ratio.plan"] = usual_plan / ready["plan_s"]
    # End to end, from the spawn: the usual design with its jobs loaded; ours sending what is
    # due (its first tick done; the outbox needs no loading).
    figures["ratio.startup"] = figures["usual.startup_s"] / figures["ours.startup_s"]
    # The same without the interpreter and the imports, which both designs pay alike.
    figures["ratio.startup_after_imports"] = (
        figures["usual.after_imports_s"] / figures["ours.after_imports_s"]
    )
    # Stricter for us: our first planning run done too.
    figures["ratio.startup_to_planning_done"] = (
        figures["usual.startup_s"] / figures["ours.planning_done_s"]
    )
    figures["ratio.rss"] = figures["usual.rss_mib"] / figures["ours.rss_mib"]
    for key, value in figures.items():
        result.add(f"{backend}.{key}", value)
    result.note(
        f"[{backend}] planning/scheduling: usual {usual_plan:.1f} s vs ours "
        f"{ready['plan_s']:.1f} s: x{figures['ratio.plan']:.1f}"
    )
    result.note(
        f"[{backend}] start-up (median of {args.runs}), end to end: usual "
        f"{figures['usual.startup_s']:.2f} s with its jobs loaded (start() returned at "
        f"{figures['usual.start_returned_s']:.2f} s) vs ours {figures['ours.startup_s']:.2f} s "
        f"first tick done: x{figures['ratio.startup']:.2f}; vs ours "
        f"{figures['ours.planning_done_s']:.2f} s first planning done too: "
        f"x{figures['ratio.startup_to_planning_done']:.2f}"
    )
    result.note(
        f"[{backend}] imports done: usual {figures['usual.imported_s']:.2f} s, ours "
        f"{figures['ours.imported_s']:.2f} s; start-up after the imports: usual "
        f"{figures['usual.after_imports_s']:.2f} s vs ours {figures['ours.after_imports_s']:.2f} s:"
        f" x{figures['ratio.startup_after_imports']:.1f}"
    )
    result.note(
        f"[{backend}] resident memory: usual {figures['usual.rss_mib']:.0f} MiB vs ours "
        f"{figures['ours.rss_mib']:.0f} MiB: x{figures['ratio.rss']:.2f}"
    )
    return result


def main(argv: list[str] | None = None) -> common.Result | None:
    parser = common.parser(__doc__)
    parser.add_argument("--db", default="sqlite", help="'sqlite', 'postgresql' or a URL")
    parser.add_argument("--pending", type=int, default=100_000)
    parser.add_argument("--agencies", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", choices=("schedule", "start"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--spawned", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if common.compared(args):
        return None
    if args.child == "schedule":
        common.child_output(child_schedule(args.url))
        return None
    if args.child == "start":
        common.child_output(child_start(args.url, args.spawned))
        return None
    return common.finish(run(args), args.out)


if __name__ == "__main__":
    main()
