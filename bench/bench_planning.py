"""Benchmark: planning reminders for 100,000 assignments (target: under 10 s).

A synthetic province: ``--tasks`` tasks (2,000 by default) each given to ``--agencies`` agencies
(50), one lead and the rest supporting, with the deadline kinds real plans use (fixed dates, year
ends, yearly series, continuous tasks, conditional ones). Measures, at a busy moment (10/12: the
year-end deadlines are all in the window):

- the pure planner (``domain.reminders.plan_reminders`` through ``scheduler.planning.compute``)
  and the expansion to one outbox row per recipient: time, then peak memory (tracemalloc, in a
  second run, as tracing slows Python down);
- with ``--db``: the whole ``scheduler.planning.plan`` against a database (reading the
  assignments, inserting the rows), first run and an idempotent second run.

    .venv/bin/python bench/bench_planning.py [--tasks 2000] [--agencies 50] [--db [URL]]
"""

import argparse
import sys
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text
from sqlmodel import Session

from domain.agencies import Agency, AgencyLevel, Directory
from domain.calendar import ZONE, WorkingCalendar
from domain.deadlines import Deadline, DeadlineKind, Frequency
from domain.plan_import import AssignmentDraft, PlanDraft, Role, TaskDraft
from domain.reminders import AssignmentView, ReminderPolicy
from scheduler.planning import Recipients, compute, outbox_rows, plan
from storage import repository
from storage.engine import make_engine, normalize_url
from storage.migrate import upgrade
from storage.models import Contact
from storage.recipients import ContactInfo

NOW = datetime(2026, 12, 10, 7, 0, tzinfo=ZONE)
PLAN = "999/KH-UBND"
T = TypeVar("T")

DEADLINES = [
    Deadline(DeadlineKind.FIXED, "Trước ngày 31/12/2026", due=date(2026, 12, 31)),
    Deadline(DeadlineKind.PERIOD_END, "Năm 2026", due=date(2026, 12, 31)),
    Deadline(DeadlineKind.FIXED, "Trước ngày 15/01/2027", due=date(2027, 1, 15)),
    Deadline(
        DeadlineKind.RECURRING,
        "Năm 2023 và những năm tiếp theo",
        due=date(2023, 12, 31),
        start=date(2023, 1, 1),
        frequency=Frequency.YEARLY,
    ),
    Deadline(
        DeadlineKind.RECURRING,
        "Trước ngày 15/12 hằng năm",
        due=date(2023, 12, 15),
        frequency=Frequency.YEARLY,
        anchor_month=12,
        anchor_day=15,
    ),
    Deadline(DeadlineKind.CONTINUOUS, "Thường xuyên"),
    Deadline(
        DeadlineKind.CONDITIONAL,
        "Năm 2026, sau khi có hướng dẫn của Bộ",
        due=date(2026, 12, 31),
        precondition="sau khi có hướng dẫn của Bộ",
        soft_kind=DeadlineKind.PERIOD_END,
    ),
    Deadline(DeadlineKind.PERIOD_END, "Quý I/2027", due=date(2027, 3, 31)),
]


def codes(agencies: int) -> list[str]:
    return [f"A{i:04d}" for i in range(agencies)]


def directory(agencies: int) -> Directory:
    return Directory(
        [
            Agency(code, f"Sở thử số {i}", AgencyLevel.PROVINCE)
            for i, code in enumerate(codes(agencies))
        ],
        [],
    )


def views(tasks: int, agencies: int) -> list[AssignmentView]:
    names = codes(agencies)
    found: list[AssignmentView] = []
    for t in range(tasks):
        deadline = DEADLINES[t % len(DEADLINES)]
        for a, code in enumerate(names):
            found.append(
                AssignmentView(
                    assignment_id=t * agencies + a + 1,
                    agency=code,
                    role=Role.LEAD if a == t % agencies else Role.SUPPORT,
                    plan=PLAN,
                    task=str(t + 1),
                    title=f"Nhiệm vụ số {t + 1}",
                    deadline=deadline,
                    plan_date=date(2023, 4, 26),
                )
            )
    return found


def contacts(agencies: int) -> list[ContactInfo]:
    return [
        ContactInfo(
            i + 1, code, "telegram", str(10_000 + i), "", "focal", "vi", None, 0, True, False, None
        )
        for i, code in enumerate(codes(agencies))
    ]


def timed(function: Callable[[], T]) -> tuple[T, float]:
    start = time.perf_counter()
    result = function()
    return result, time.perf_counter() - start


def pure(tasks: int, agencies: int) -> None:
    calendar, policy, where = WorkingCalendar(), ReminderPolicy(), directory(agencies)
    every = views(tasks, agencies)
    recipients = Recipients(contacts(agencies), {PLAN: None})
    plan_of = {view.assignment_id: PLAN for view in every}

    def planner() -> list[object]:
        return list(
            compute(
                every,
                directory=where,
                calendar=calendar,
                policy=policy,
                now=NOW,
                horizon_days=45,
                lookback_days=14,
            )
        )

    planned, seconds = timed(planner)
    (rows, _, _), expand = timed(lambda: outbox_rows(planned, plan_of, recipients, NOW))  # type: ignore[arg-type]
    print(
        f"pure planning: {len(every):,} assignments -> {len(planned):,} reminders in "
        f"{seconds:.2f} s ({len(every) / seconds:,.0f} assignments/s); "
        f"expanded to {len(rows):,} outbox rows in {expand:.2f} s"
    )
    tracemalloc.start()
    planner()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"pure planning: peak memory {peak / 2**20:.0f} MiB (tracemalloc, input views excluded)")


def with_database(url: str, tasks: int, agencies: int) -> None:
    engine = make_engine(url)
    try:
        upgrade(url, engine=engine)
        names = codes(agencies)
        drafts = tuple(
            TaskDraft(
                str(t + 1),
                f"Nhiệm vụ số {t + 1}",
                DEADLINES[t % len(DEADLINES)],
                tuple(
                    AssignmentDraft(code, Role.LEAD if a == t % agencies else Role.SUPPORT)
                    for a, code in enumerate(names)
                ),
            )
            for t in range(tasks)
        )
        draft = PlanDraft(PLAN, date(2023, 4, 26), None, "Kế hoạch thử tải", "bench", None, drafts)
        with Session(engine) as session:
            _, saved = timed(lambda: repository.save_plan(session, draft, NOW))
            session.add_all(
                Contact(
                    agency_code=code, channel="telegram", chat_id=str(10_000 + i), created_at=NOW
                )
                for i, code in enumerate(names)
            )
            session.commit()
        print(f"database: plan of {tasks * agencies:,} assignments saved in {saved:.1f} s")
        where, calendar, policy = directory(agencies), WorkingCalendar(), ReminderPolicy()
        for label in ("first run (inserts)", "second run (idempotent)"):
            with Session(engine) as session:

                def run(session: Session = session) -> object:
                    report = plan(
                        session,
                        directory=where,
                        calendar=calendar,
                        policy=policy,
                        now=NOW,
                        lookback_days=14,
                    )
                    session.commit()
                    return report

                report, seconds = timed(run)
            print(f"database: plan() {label}: {seconds:.2f} s, {report}")
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--agencies", type=int, default=50)
    parser.add_argument(
        "--db",
        nargs="?",
        const="sqlite",
        default=None,
        help="also time plan() on a database: a URL, or nothing for a new SQLite file",
    )
    args = parser.parse_args(argv)
    pure(args.tasks, args.agencies)
    if args.db is None:
        return
    if args.db.startswith("postgres"):
        admin = make_engine(args.db)
        schema = f"bench_planning_{uuid.uuid4().hex[:8]}"
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = normalize_url(args.db).update_query_dict({"options": f"-csearch_path={schema}"})
        try:
            with_database(url.render_as_string(hide_password=False), args.tasks, args.agencies)
        finally:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()
    elif args.db == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            with_database(f"sqlite:///{folder}/bench.db", args.tasks, args.agencies)
    else:
        with_database(args.db, args.tasks, args.agencies)


if __name__ == "__main__":
    main()
