"""Benchmark: a coordinator's /status and the plan report at 10k agencies x 100k assignments.

A synthetic country (``bench/synthetic.py``; 30 % of the assignments with progress reports) is
loaded into SQLite or PostgreSQL. A coordinator's chat then asks, through
``bot.core.conversation.Conversation.handle`` (the chat's whole path: bind, read, render, store):

- ``/tinhhinh``: the whole country's counts, plan by plan (every status line is computed);
- ``/tinhhinh <plan>``: one plan's counts; ``/tinhhinh <plan> <task>``: one task, agency by agency;
- ``/tinhhinh <agency name>``: one agency's lines;
- ``/quahan``: the overdue list (every status line again).

and, beside the chat, the pieces: ``storage.status_lines.status_lines`` for everything and
``bot.core.status_text.overall`` on its result; one plan's report built as XLSX and CSV
(``reports``). Each is repeated (``--repeat``; plans, tasks and agencies drawn anew each time) and
printed as p50/p95 in ms. Target: /status p95 under 200 ms.

    .venv/bin/python bench/bench_status.py [--db sqlite|postgresql|URL] [--agencies 10000] \\
        [--assignments 100000] [--repeat 20] [--repeat-whole 5] [--out FILE]
"""

import argparse
import random
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
import synthetic
from sqlalchemy import Engine, select
from sqlmodel import Session

from bot.core import status_text
from bot.core.conversation import Conversation
from bot.core.messages import Incoming
from domain.calendar import WorkingCalendar
from reports import ReportMeta
from reports.csv import build_csv
from reports.xlsx import build_xlsx
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import Contact
from storage.status_lines import status_lines

NOW = synthetic.NOW


def _samples(function: Callable[[int], object], count: int) -> list[float]:
    found: list[float] = []
    for i in range(count):
        start = time.perf_counter()
        function(i)
        found.append(time.perf_counter() - start)
    return found


def run(args: argparse.Namespace) -> common.Result:
    result = common.Result("status", dict(vars(args)))
    spec = synthetic.Spec(
        agencies=args.agencies,
        plans=max(1, args.assignments // 500),
        tasks_per_plan=25,
        assignments=args.assignments,
        reports=0.3,
    )
    world = synthetic.build(spec)
    rng = random.Random(7)
    calendar = WorkingCalendar()
    with common.scratch_database(args.db, "bench_status") as url:
        backend = common.backend_name(url)
        engine = make_engine(url)
        try:
            upgrade(url, engine=engine)
            counts, load_s = common.timed(lambda: synthetic.load(engine, world))
            result.note(
                f"[{backend}] world: {counts['agencies']:,} agencies, {counts['plans']:,} plans, "
                f"{counts['assignments']:,} assignments, {counts['progress_reports']:,} reports "
                f"(loaded in {load_s:.1f} s)"
            )
            chat = _coordinator_chat(engine)
            conversation = _conversation(engine, world)
            plans = [p.number for p in world.plans]
            names = [a.name for a in world.directory.agencies.values()]
            step = iter(range(10**9))

            def ask(text: str) -> Callable[[int], object]:
                def one(_: int) -> object:
                    n = next(step)
                    incoming = Incoming(
                        channel="telegram",
                        chat_id=chat,
                        at=NOW + timedelta(seconds=n),
                        text=text.format(
                            plan=rng.choice(plans).split("/")[0],
                            task=rng.randint(1, spec.tasks_per_plan),
                            agency=rng.choice(names),
                        ),
                        user_id=chat,
                        message_id=str(n + 1),
                    )
                    out = conversation.handle(incoming)
                    if not out or "xin lỗi" in out[0].text.lower():
                        raise RuntimeError(f"{incoming.text!r} was not answered: {out}")
                    return out

                return one

            def everything(_: int) -> object:
                with Session(engine) as session:
                    return status_lines(session, directory=world.directory, calendar=calendar,
                                        on=NOW.date())  # fmt: skip

            lines = everything(0)
            assert isinstance(lines, list)
            one_plan = world.plans[0]
            meta = ReportMeta(one_plan.number, one_plan.title or "", "UBND tỉnh", "Sở Nội vụ",
                              NOW.date())  # fmt: skip

            def plan_lines() -> list[Any]:
                with Session(engine) as session:
                    return status_lines(session, directory=world.directory, calendar=calendar,
                                        on=NOW.date(), plan_number=rng.choice(plans))  # fmt: skip

            cases: list[tuple[str, Callable[[int], object], int]] = [
                ("chat_status_whole", ask("/tinhhinh"), args.repeat_whole),
                ("chat_status_plan", ask("/tinhhinh {plan}"), args.repeat),
                ("chat_status_task", ask("/tinhhinh {plan} {task}"), args.repeat),
                ("chat_status_agency", ask("/tinhhinh {agency}"), args.repeat),
                ("chat_overdue", ask("/quahan"), args.repeat_whole),
                ("status_lines_whole", everything, args.repeat_whole),
                (
                    "render_overall",
                    lambda _: status_text.overall(lines, today=NOW.date(), lang="vi"),
                    args.repeat_whole,
                ),
                ("report_plan_xlsx", lambda _: build_xlsx(plan_lines(), meta), args.repeat),
                ("report_plan_csv", lambda _: build_csv(plan_lines()), args.repeat),
            ]
            result.note(f"status lines for everything: {len(lines):,}")
            result.add("status_lines", len(lines))
            for name, function, count in cases:
                if name in args.skip.split(","):
                    continue
                function(0)  # warm-up: first statements, caches
                samples = _samples(function, count)
                p50 = common.percentile(samples, 50) * 1000
                p95 = common.percentile(samples, 95) * 1000
                result.add(f"{backend}.{name}.p50_ms", p50)
                result.add(f"{backend}.{name}.p95_ms", p95)
                result.note(f"[{backend}] {name}: p50 {p50:,.0f} ms, p95 {p95:,.0f} ms ({count}x)")
        finally:
            engine.dispose()
    return result


def _coordinator_chat(engine: Engine) -> str:
    with engine.connect() as connection:
        chat = connection.execute(
            select(Contact.chat_id).where(
                Contact.role == "coordinator", Contact.channel == "telegram"
            )
        ).scalar()
    if chat is None:
        raise RuntimeError("the synthetic world has no coordinator on Telegram")
    return str(chat)


def _conversation(engine: Engine, world: synthetic.World) -> Conversation:
    @contextmanager
    def session() -> Iterator[Session]:
        with Session(engine, expire_on_commit=False) as opened:
            yield opened

    return Conversation(session, world.directory, WorkingCalendar())


def main(argv: list[str] | None = None) -> common.Result | None:
    parser = common.parser(__doc__)
    parser.add_argument("--db", default="sqlite", help="'sqlite', 'postgresql' or a URL")
    parser.add_argument("--agencies", type=int, default=10_000)
    parser.add_argument("--assignments", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20, help="samples of the small questions")
    parser.add_argument("--repeat-whole", type=int, default=5, help="samples of the whole ones")
    parser.add_argument("--skip", default="", help="comma-separated cases to leave out")
    args = parser.parse_args(argv)
    if common.compared(args):
        return None
    return common.finish(run(args), args.out)


if __name__ == "__main__":
    main()
