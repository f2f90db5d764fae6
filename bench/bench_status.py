"""Benchmark: a coordinator's /status and the plan report at 10k agencies x 100k assignments.

A synthetic country (``bench/synthetic.py``; 30 % of the assignments with progress reports) is
loaded into SQLite or PostgreSQL. Two bot instances share the database, as two processes would,
each with its own status cache (``storage.status_cache``): focal points and the coordinator press
buttons on the second, a coordinator asks the first, through
``bot.core.conversation.Conversation.handle`` (the chat's whole path: bind, read, render, store):

- ``/tinhhinh`` and ``/quahan`` for the whole country, realistically: between two questions
  ``--replies`` reports ("done" or "in progress" buttons) and ``--reviews`` review decisions are
  stored through the other instance, each in its own transaction. Warm: the cache holds the day
  and recomputes the tasks those writes named. Cold: the first question of a new day (every line
  computed). After an import: another process re-dates a 500-assignment plan just before.
- ``/tinhhinh <plan>``, ``/tinhhinh <plan> <task>``, ``/tinhhinh <agency name>`` (computed each
  time; they read a few hundred lines).

and, beside the chat, the pieces: ``storage.status_lines.status_lines`` for everything (what a
cold cache costs), the cache's own refresh after the replies, ``bot.core.status_text.overall``;
one plan's report built as XLSX and CSV (``reports``); the Python heap the cached lines hold
(tracemalloc) and the resident set they add. Each is printed as p50/p95 in ms. Target: /status
p95 under 200 ms.

    .venv/bin/python bench/bench_status.py [--db sqlite|postgresql|URL] [--agencies 10000] \\
        [--assignments 100000] [--repeat 20] [--repeat-whole 20] [--repeat-cold 3] \\
        [--replies 3] [--reviews 1] [--out FILE]
"""

import argparse
import gc
import random
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
import synthetic
from sqlalchemy import Engine, func, select
from sqlmodel import Session

from bot.core import status_text
from bot.core.conversation import Conversation
from bot.core.messages import Incoming, Outgoing
from domain.calendar import ZONE, WorkingCalendar
from domain.callbacks import ReminderAction, ReminderCallback
from reports import ReportMeta
from reports.csv import build_csv
from reports.xlsx import build_xlsx
from storage import repository
from storage.engine import make_engine
from storage.migrate import upgrade
from storage.models import Assignment, Contact, ProgressReport, StatusChange, Task
from storage.status_cache import StatusCache
from storage.status_lines import status_lines

NOW = synthetic.NOW


def _samples(function: Callable[[int], object], count: int) -> list[float]:
    found: list[float] = []
    for i in range(count):
        start = time.perf_counter()
        function(i)
        found.append(time.perf_counter() - start)
    return found


class Chats:
    """The two bot instances and the people pressing buttons on them."""

    def __init__(self, engine: Engine, world: synthetic.World, calendar: WorkingCalendar) -> None:
        self.engine = engine
        self.cache = StatusCache(engine, calendar)  # the coordinator's instance's cache
        self.asking = _conversation(engine, world, calendar, self.cache)
        self.replying = _conversation(engine, world, calendar, StatusCache(engine, calendar))
        self.coordinator = _coordinator_chat(engine)
        self.reporters = _reporters(engine)
        self.rng = random.Random(11)
        self.tick = 0
        self.stored = 0  # replies and decisions stored

    def at(self, day: date) -> datetime:
        """A moment of ``day`` after every one used so far (the chats' clock)."""
        self.tick += 1
        return datetime.combine(day, clock_time(7, 30), tzinfo=ZONE) + timedelta(seconds=self.tick)

    def ask(self, text: str, day: date) -> list[Outgoing]:
        return _answered(self.asking, self._text(self.coordinator, text, day))

    def _text(self, chat: str, text: str, day: date) -> Incoming:
        return Incoming("telegram", chat, self.at(day), text=text, user_id=chat,
                        message_id=str(self.tick))  # fmt: skip

    def _press(self, chat: str, data: str, day: date) -> Incoming:
        return Incoming("telegram", chat, self.at(day), user_id=chat, message_id=str(self.tick),
                        callback_data=data)  # fmt: skip

    def reply(self, day: date) -> None:
        """One focal point presses "done" or "in progress" on one of its agency's tasks."""
        chat, aid, occurrence = self.rng.choice(self.reporters)
        action = self.rng.choice((ReminderAction.DONE, ReminderAction.IN_PROGRESS))
        data = ReminderCallback(action, aid, occurrence).encode()
        _answered(self.replying, self._press(chat, data, day), button=True)
        self.stored += 1

    def review(self, day: date) -> None:
        """The coordinator confirms the newest completion still waiting, on the other instance."""
        with Session(self.engine) as session:
            report_id = session.execute(
                select(func.max(ProgressReport.id)).where(ProgressReport.review == "pending")
            ).scalar()
        if report_id is None:
            return
        press = self._press(self.coordinator, f"c:{report_id}:y", day)
        _answered(self.replying, press, button=True)
        self.stored += 1


def _answered(conversation: Conversation, incoming: Incoming, button: bool = False) -> Any:
    out = conversation.handle(incoming)
    said = " ".join((o.text or "") + " " + (o.answer_callback or "") for o in out).lower()
    if not out or "xin lỗi" in said:
        raise RuntimeError(f"{incoming.text or incoming.callback_data!r} was not answered: {out}")
    return out


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
    skip = set(args.skip.split(","))
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
            chats = Chats(engine, world, calendar)
            plans = [p.number for p in world.plans]
            names = [a.name for a in world.directory.agencies.values()]
            today = NOW.date()

            def record(name: str, samples: list[float]) -> None:
                p50 = common.percentile(samples, 50) * 1000
                p95 = common.percentile(samples, 95) * 1000
                result.add(f"{backend}.{name}.p50_ms", p50)
                result.add(f"{backend}.{name}.p95_ms", p95)
                result.note(
                    f"[{backend}] {name}: p50 {p50:,.0f} ms, p95 {p95:,.0f} ms ({len(samples)}x)"
                )

            def ask(text: str) -> Callable[[int], object]:
                def one(_: int) -> object:
                    return chats.ask(
                        text.format(
                            plan=rng.choice(plans).split("/")[0],
                            task=rng.randint(1, spec.tasks_per_plan),
                            agency=rng.choice(names),
                        ),
                        today,
                    )

                return one

            # Cold: the first question of each new day rebuilds the whole day.
            cold: list[float] = []
            day = today
            for _ in range(args.repeat_cold):
                day += timedelta(days=1)
                start = time.perf_counter()
                chats.ask("/tinhhinh", day)
                cold.append(time.perf_counter() - start)
            record("chat_status_whole_cold", cold)
            today = day  # the warm questions come later on the last of those days

            # Warm: whole-country questions, replies and decisions stored between them.
            refresh_cache = chats.cache
            refreshed: list[float] = []
            recomputed_before = refresh_cache.stats.tasks_recomputed
            for name, text, count in (
                ("chat_status_whole", "/tinhhinh", args.repeat_whole),
                ("chat_overdue", "/quahan", args.repeat_whole),
            ):
                if name in skip:
                    continue
                warm: list[float] = []
                for _ in range(count):
                    for _ in range(args.replies):
                        chats.reply(today)
                    for _ in range(args.reviews):
                        chats.review(today)
                    warm.append(common.timed(lambda: chats.ask(text, today))[1])  # noqa: B023
                record(name, warm)
            if "cache_refresh" not in skip:  # the cache alone, without the chat and rendering
                for _ in range(args.repeat_whole):
                    for _ in range(args.replies):
                        chats.reply(today)
                    refreshed.append(
                        common.timed(lambda: refresh_cache.lines(world.directory, today))[1]
                    )
                record("cache_refresh", refreshed)
            asked = 2 * args.repeat_whole + len(refreshed)
            recomputed = refresh_cache.stats.tasks_recomputed - recomputed_before
            result.add(f"{backend}.replies_stored", chats.stored)
            result.add(f"{backend}.tasks_recomputed_per_question", recomputed / max(1, asked))
            result.note(
                f"[{backend}] {chats.stored:,} replies and decisions stored between "
                f"{asked} warm questions; {recomputed / max(1, asked):.1f} tasks recomputed "
                f"a question; cache: {refresh_cache.stats}"
            )

            if "chat_status_whole_after_import" not in skip:
                imported: list[float] = []
                for i in range(args.repeat_cold):
                    _redate(engine, world, i)
                    imported.append(common.timed(lambda: chats.ask("/tinhhinh", today))[1])
                record("chat_status_whole_after_import", imported)

            with Session(engine) as session:
                lines = status_lines(session, directory=world.directory, calendar=calendar,
                                     on=today)  # fmt: skip
            one_plan = world.plans[0]
            meta = ReportMeta(one_plan.number, one_plan.title or "", "UBND tỉnh", "Sở Nội vụ",
                              today)  # fmt: skip

            def everything(_: int) -> object:
                with Session(engine) as session:
                    return status_lines(session, directory=world.directory, calendar=calendar,
                                        on=today)  # fmt: skip

            def plan_lines() -> list[Any]:
                with Session(engine) as session:
                    return status_lines(session, directory=world.directory, calendar=calendar,
                                        on=today, plan_number=rng.choice(plans))  # fmt: skip

            cases: list[tuple[str, Callable[[int], object], int]] = [
                ("chat_status_plan", ask("/tinhhinh {plan}"), args.repeat),
                ("chat_status_task", ask("/tinhhinh {plan} {task}"), args.repeat),
                ("chat_status_agency", ask("/tinhhinh {agency}"), args.repeat),
                ("status_lines_whole", everything, args.repeat_cold),
                (
                    "render_overall",
                    lambda _: status_text.overall(lines, today=today, lang="vi"),
                    args.repeat_cold,
                ),
                ("report_plan_xlsx", lambda _: build_xlsx(plan_lines(), meta), args.repeat),
                ("report_plan_csv", lambda _: build_csv(plan_lines()), args.repeat),
            ]
            result.note(f"status lines for everything: {len(lines):,}")
            result.add("status_lines", len(lines))
            for name, function, count in cases:
                if name in skip:
                    continue
                function(0)  # warm-up: first statements, caches
                record(name, _samples(function, count))
            with Session(engine) as session:
                logged = session.execute(select(func.count()).select_from(StatusChange)).scalar()
            result.add(f"{backend}.status_change_rows", float(logged or 0))
            if "memory" not in skip:
                _memory(result, backend, engine, world, calendar, today)
        finally:
            engine.dispose()
    return result


def _memory(
    result: common.Result,
    backend: str,
    engine: Engine,
    world: synthetic.World,
    calendar: WorkingCalendar,
    on: date,
) -> None:
    """What one day's cached lines hold: the Python heap (tracemalloc), and the resident set."""
    gc.collect()
    rss_before = common.rss_mib()
    kept = StatusCache(engine, calendar)
    kept.warm(world.directory, on)
    gc.collect()
    rss = common.rss_mib() - rss_before
    kept.forget()
    gc.collect()
    traced = StatusCache(engine, calendar)
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        traced.warm(world.directory, on)
        gc.collect()
        held, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    lines = len(traced.lines(world.directory, on))
    heap = (held - before) / common.MIB
    result.add(f"{backend}.cache_heap_mib", heap)
    result.add(f"{backend}.cache_heap_peak_mib", (peak - before) / common.MIB)
    result.add(f"{backend}.cache_rss_added_mib", rss)
    result.note(
        f"[{backend}] cached lines: {lines:,} lines hold {heap:,.0f} MiB of Python heap "
        f"({heap * common.MIB / max(1, lines):,.0f} bytes a line; build peak "
        f"{(peak - before) / common.MIB:,.0f} MiB); resident set +{rss:,.0f} MiB"
    )


def _redate(engine: Engine, world: synthetic.World, i: int) -> None:
    """Another process re-imports a plan with a new date (every line of the plan may change)."""
    plan = world.plans[i % len(world.plans)]
    issued = (plan.issued_on or NOW.date()) - timedelta(days=i + 1)
    with Session(engine) as session:
        repository.save_plan(session, replace(plan, issued_on=issued), NOW + timedelta(hours=i))
        session.commit()


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


def _reporters(engine: Engine) -> list[tuple[str, int, str]]:
    """(Telegram chat, assignment, occurrence key) a focal point may answer, a few per agency."""
    with engine.connect() as connection:
        chats = dict(
            connection.execute(
                select(Contact.agency_code, Contact.chat_id).where(
                    Contact.channel == "telegram", Contact.role == "focal"
                )
            ).all()
        )
        found: list[tuple[str, int, str]] = []
        per_agency: dict[str, int] = {}
        for aid, agency, due in connection.execute(
            select(Assignment.id, Assignment.agency_code, Task.due)
            .join(Task, Task.id == Assignment.task_id)
            .order_by(Assignment.id)
        ):
            if agency in chats and per_agency.get(agency, 0) < 3:
                per_agency[agency] = per_agency.get(agency, 0) + 1
                found.append((chats[agency], aid, due.isoformat() if due else ""))
    if not found:
        raise RuntimeError("the synthetic world has no focal point on Telegram")
    return found


def _conversation(
    engine: Engine, world: synthetic.World, calendar: WorkingCalendar, cache: StatusCache
) -> Conversation:
    @contextmanager
    def session() -> Iterator[Session]:
        with Session(engine, expire_on_commit=False) as opened:
            yield opened

    return Conversation(session, world.directory, calendar, status_cache=cache)


def main(argv: list[str] | None = None) -> common.Result | None:
    parser = common.parser(__doc__)
    parser.add_argument("--db", default="sqlite", help="'sqlite', 'postgresql' or a URL")
    parser.add_argument("--agencies", type=int, default=10_000)
    parser.add_argument("--assignments", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20, help="samples of the small questions")
    parser.add_argument("--repeat-whole", type=int, default=20, help="warm whole-country samples")
    parser.add_argument("--repeat-cold", type=int, default=3, help="first questions of a day")
    parser.add_argument("--replies", type=int, default=3, help="replies stored between questions")
    parser.add_argument("--reviews", type=int, default=1, help="decisions between questions")
    parser.add_argument("--skip", default="", help="comma-separated cases to leave out")
    args = parser.parse_args(argv)
    if common.compared(args):
        return None
    return common.finish(run(args), args.out)


if __name__ == "__main__":
    main()
