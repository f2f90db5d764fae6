"""Benchmark: planning at 10k, 100k and 1M assignments, pure and with the database; memory growth.

Each size is a synthetic world (``bench/synthetic.py``: ``--agencies`` agencies, one plan per
1,000 assignments, 25 tasks a plan, so about 40 agencies a task at every size) planned at a busy
moment (10/12/2026, year-end deadlines in the window). Every measurement runs in a subprocess of
its own, so each peak resident set belongs to that step alone:

- pure: ``scheduler.planning.compute`` (the planner) then ``outbox_rows`` (one row per recipient),
  from assignment views built in memory; time, peak RSS above the process's RSS once its input was
  built, and the Python heap's peak (tracemalloc, in a second run: tracing slows Python down);
- database: the world loaded into SQLite or PostgreSQL by one process, then
  ``scheduler.planning.plan`` (read the assignments and contacts, plan, insert the outbox rows,
  commit) in a fresh process, then again (nothing new: the idempotent hourly run).

Memory is also printed per 100,000 assignments: constant per-100k figures mean linear growth.

    .venv/bin/python bench/bench_planning_scale.py [--sizes 10000,100000,1000000] \\
        [--agencies 10000] [--db sqlite|postgresql|URL] [--no-db] [--no-traced] [--out FILE]
    .venv/bin/python bench/bench_planning_scale.py --compare A.json B.json
"""

import argparse
import gc
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
import synthetic
from sqlmodel import Session

from domain.calendar import WorkingCalendar
from domain.reminders import ReminderPolicy
from scheduler.planning import Recipients, compute, outbox_rows, plan
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.recipients import ContactInfo

HORIZON_DAYS = 45
LOOKBACK_DAYS = 14
SCRIPT = str(Path(__file__).resolve())


def spec_for(size: int, agencies: int) -> synthetic.Spec:
    plans = max(1, size // 1000)
    return synthetic.Spec(agencies=agencies, plans=plans, tasks_per_plan=25, assignments=size)


def _contact_infos(world: synthetic.World) -> list[ContactInfo]:
    return [
        ContactInfo(
            id=i,
            agency_code=row["agency_code"],
            channel=row["channel"],
            chat_id=row["chat_id"],
            display_name=row["display_name"],
            role=row["role"],
            language=row["language"],
            person_key=row["person_key"],
            preference=row["preference"],
            active=True,
            unreachable=False,
            unreachable_reason=None,
        )
        for i, row in enumerate(world.contacts, start=1)
    ]


# --- children -----------------------------------------------------------------------------------


def child_pure(size: int, agencies: int, traced: bool) -> dict[str, Any]:
    start_rss = common.rss_mib()
    world = synthetic.build(spec_for(size, agencies))
    views = world.views()
    plan_of = world.plan_of()
    recipients = Recipients(_contact_infos(world), {p.number: p.coordinator for p in world.plans})
    calendar, policy = WorkingCalendar(), ReminderPolicy()
    gc.collect()
    input_rss = common.rss_mib()

    def planner() -> list[Any]:
        return compute(
            views,
            directory=world.directory,
            calendar=calendar,
            policy=policy,
            now=synthetic.NOW,
            horizon_days=HORIZON_DAYS,
            lookback_days=LOOKBACK_DAYS,
        )

    planned, plan_s = common.timed(planner)

    def expand() -> tuple[list[dict[str, Any]], int, int]:
        return outbox_rows(planned, plan_of, recipients, synthetic.NOW)

    (rows, _, unaddressed), rows_s = common.timed(expand)
    figures: dict[str, Any] = {
        "assignments": len(views),
        "reminders": len(planned),
        "rows": len(rows),
        "unaddressed": unaddressed,
        "plan_s": plan_s,
        "rows_s": rows_s,
        "input_rss_mib": input_rss - start_rss,
        "peak_rss_above_input_mib": common.peak_rss_mib() - input_rss,
    }
    planned.clear()
    rows.clear()
    if traced:
        gc.collect()
        _, heap = common.traced_peak(
            lambda: outbox_rows(planner(), plan_of, recipients, synthetic.NOW)
        )
        figures["heap_peak_mib"] = heap
    return figures


def child_load(size: int, agencies: int, url: str) -> dict[str, Any]:
    world = synthetic.build(spec_for(size, agencies))
    engine = make_engine(url)
    try:
        upgrade(url, engine=engine)
        counts, seconds = common.timed(lambda: synthetic.load(engine, world))
    finally:
        engine.dispose()
    return {**counts, "load_s": seconds}


def child_plan(size: int, agencies: int, url: str) -> dict[str, Any]:
    del size
    directory = synthetic.directory(agencies)  # the same directory the world was built with
    engine = make_engine(url)
    gc.collect()
    before = common.rss_mib()
    try:
        with Session(engine) as session:

            def run() -> Any:
                report = plan(
                    session,
                    directory=directory,
                    calendar=WorkingCalendar(),
                    policy=ReminderPolicy(),
                    now=synthetic.NOW,
                    horizon_days=HORIZON_DAYS,
                    lookback_days=LOOKBACK_DAYS,
                )
                session.commit()
                return report

            report, seconds = common.timed(run)
    finally:
        engine.dispose()
    return {
        "plan_s": seconds,
        "assignments": report.assignments,
        "reminders": report.planned,
        "rows": report.rows,
        "inserted": report.inserted,
        "peak_rss_above_start_mib": common.peak_rss_mib() - before,
    }


# --- the parent ---------------------------------------------------------------------------------


def _child(kind: str, size: int, args: argparse.Namespace, url: str = "") -> dict[str, Any]:
    argv = [SCRIPT, "--child", kind, "--size", str(size), "--agencies", str(args.agencies)]
    if url:
        argv += ["--url", url]
    if not args.traced:
        argv.append("--no-traced")
    return common.run_child(argv)


def run(args: argparse.Namespace) -> common.Result:
    result = common.Result("planning_scale", {k: v for k, v in vars(args).items() if k != "child"})
    sizes = [int(s) for s in args.sizes.split(",")]
    for size in sizes:
        label = _label(size)
        pure = _child("pure", size, args)
        per = pure["assignments"] / 100_000
        result.add(f"{label}.assignments", pure["assignments"])
        result.add(f"{label}.reminders", pure["reminders"])
        result.add(f"{label}.outbox_rows", pure["rows"])
        result.add(f"{label}.pure.plan_s", pure["plan_s"])
        result.add(f"{label}.pure.rows_s", pure["rows_s"])
        result.add(f"{label}.pure.total_s", pure["plan_s"] + pure["rows_s"])
        result.add(f"{label}.pure.assignments_per_s", pure["assignments"] / pure["plan_s"])
        result.add(f"{label}.pure.input_mib_per_100k", pure["input_rss_mib"] / per)
        result.add(f"{label}.pure.peak_rss_mib_per_100k", pure["peak_rss_above_input_mib"] / per)
        line = (
            f"[{label}] pure: {pure['assignments']:,} assignments -> {pure['reminders']:,} "
            f"reminders in {pure['plan_s']:.2f} s, -> {pure['rows']:,} outbox rows in "
            f"{pure['rows_s']:.2f} s; input {pure['input_rss_mib']:.0f} MiB, planning peak RSS "
            f"+{pure['peak_rss_above_input_mib']:.0f} MiB "
            f"({pure['peak_rss_above_input_mib'] / per:.1f} MiB per 100k)"
        )
        if "heap_peak_mib" in pure:
            result.add(f"{label}.pure.heap_mib_per_100k", pure["heap_peak_mib"] / per)
            line += f", Python heap peak {pure['heap_peak_mib']:.0f} MiB"
        result.note(line)
        if args.no_db:
            continue
        with common.scratch_database(args.db, "bench_planscale") as url:
            loaded = _child("load", size, args, url)
            first = _child("plan", size, args, url)
            again = _child("plan", size, args, url)
        backend = common.backend_name(url)
        key = f"{label}.{backend}"
        result.add(f"{key}.load_s", loaded["load_s"])
        result.add(f"{key}.plan_first_s", first["plan_s"])
        result.add(f"{key}.inserted", first["inserted"])
        result.add(f"{key}.plan_again_s", again["plan_s"])
        result.add(f"{key}.peak_rss_mib_per_100k", first["peak_rss_above_start_mib"] / per)
        result.note(
            f"[{label}] {backend}: world loaded in {loaded['load_s']:.1f} s; plan() first run "
            f"{first['plan_s']:.2f} s ({first['inserted']:,} rows inserted, peak RSS "
            f"+{first['peak_rss_above_start_mib']:.0f} MiB), again {again['plan_s']:.2f} s "
            f"(inserted {again['inserted']})"
        )
    return result


def _label(size: int) -> str:
    if size >= 1_000_000 and size % 1_000_000 == 0:
        return f"{size // 1_000_000}M"
    if size >= 1000 and size % 1000 == 0:
        return f"{size // 1000}k"
    return str(size)


def main(argv: list[str] | None = None) -> common.Result | None:
    parser = common.parser(__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--agencies", type=int, default=10_000)
    parser.add_argument("--db", default="sqlite", help="'sqlite', 'postgresql' or a URL")
    parser.add_argument("--no-db", action="store_true", help="pure planning only")
    parser.add_argument("--no-traced", dest="traced", action="store_false")
    parser.add_argument("--child", choices=("pure", "load", "plan"), help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if common.compared(args):
        return None
    if args.child:
        started = time.perf_counter()
        if args.child == "pure":
            payload = child_pure(args.size, args.agencies, args.traced)
        elif args.child == "load":
            payload = child_load(args.size, args.agencies, args.url)
        else:
            payload = child_plan(args.size, args.agencies, args.url)
        payload["child_s"] = time.perf_counter() - started
        common.child_output(payload)
        return None
    return common.finish(run(args), args.out)


if __name__ == "__main__":
    main()
