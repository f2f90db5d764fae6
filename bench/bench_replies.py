"""Benchmark: inbound chat updates processed end to end by the conversation core, per second.

A synthetic province (``bench/synthetic.py``) is loaded into SQLite or PostgreSQL; every focal
point on Telegram has received a digest of three items (a ``SentMessage``, as the dispatcher
records it). Then ``--updates`` updates go through ``bot.core.conversation.Conversation.handle``,
each in its own transaction as the Telegram adapter runs them (parse, bind to a task, store the
report, answer), round-robin over the people, in a realistic mix:

- 40 % a reply to the digest naming its item ("2. đã hoàn thành", "1) đạt 60%, đang hoàn thiện");
- 15 % a reply to the digest without an item number (the bot asks which task when it had several);
- 20 % a press on a reminder's button (done, in progress);
- 15 % free text with no reply ("đã xong", "vướng kinh phí"): bound to the agency's one open task,
  or a question listing them;
- 10 % a command (/nhiemvu: the agency's open tasks).

Printed: updates/s and latency p50/p95/p99 (ms), handled one after the other, then by
``--threads`` worker threads at once (the adapter hands each update to a thread; SQLite lets one
writer in at a time). Targets (SQLite): above 300 updates/s, p99 under 100 ms. One at a time, the
process's CPU time per update is printed too: on a shared machine it moves less than the wall
clock, which also counts the time other programs held the CPU.

The process keeps what a running service keeps (the directory), not the synthetic world's plans.
``--synchronous full`` runs SQLite with every commit waiting for the disk (the default is
"normal", as the service's default ``[database] sqlite_synchronous``); ``--gc-freeze`` moves every
object alive after the set-up out of the garbage collector's sight (``gc.freeze()``), as a service
calling it after start-up would: Python's full collections then no longer walk the modules and
the directory (tens of milliseconds each, a few times a thousand updates).
``--pg-synchronous-commit off`` sets what ``ALTER ROLE <the service's role> SET synchronous_commit
= off`` would (PostgreSQL's counterpart of SQLite's "normal": a server crash may lose the last
commits, never corrupts); the default "on" is the server's default.

    .venv/bin/python bench/bench_replies.py [--db sqlite|postgresql|URL] [--updates 5000] \\
        [--agencies 150] [--assignments 20000] [--threads 4] [--synchronous normal|full] \\
        [--gc-freeze] [--pg-synchronous-commit on|off] [--out FILE]
"""

import argparse
import gc
import random
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
import synthetic
from sqlalchemy import Engine, event, insert, select
from sqlmodel import Session

from bot.core.conversation import Conversation
from bot.core.messages import Incoming
from domain.agencies import Directory
from domain.calendar import WorkingCalendar
from domain.callbacks import ReminderAction, ReminderCallback
from storage.engine import SQLITE_SYNCHRONOUS, make_engine
from storage.migrate import upgrade
from storage.models import Assignment, Contact, SentMessage, Task

NOW = synthetic.NOW
DIGEST_ITEMS = 3
_NUMBERED = ("{n}. đã hoàn thành", "{n}) đạt 60%, đang hoàn thiện dự thảo", "{n}: vướng kinh phí")
_PLAIN = ("đang thực hiện, đạt khoảng 50%", "đã xong", "chưa triển khai do chờ hướng dẫn")
_FREE = ("đã xong", "vướng kinh phí, đề nghị gia hạn đến 30/12", "đạt 80%")


class Person:
    def __init__(self, chat_id: str, message_id: str, items: list[tuple[int, str]]) -> None:
        self.chat_id = chat_id
        self.message_id = message_id
        self.items = items
        self.lock = threading.Lock()  # one update of a chat at a time, as the adapter does


def prepare(engine: Engine) -> list[Person]:
    """A recorded digest of the first assignments of each Telegram focal point's agency."""
    with engine.connect() as connection:
        contacts = connection.execute(
            select(Contact.id, Contact.agency_code, Contact.chat_id).where(
                Contact.channel == "telegram", Contact.role == "focal"
            )
        ).all()
        mine: dict[str, list[tuple[int, str]]] = {}
        for aid, agency, due in connection.execute(
            select(Assignment.id, Assignment.agency_code, Task.due)
            .join(Task, Task.id == Assignment.task_id)
            .order_by(Assignment.id)
        ):
            found = mine.setdefault(agency, [])
            if len(found) < DIGEST_ITEMS:
                found.append((aid, due.isoformat() if due else ""))
    people: list[Person] = []
    rows: list[dict[str, Any]] = []
    for n, (contact_id, agency, chat_id) in enumerate(contacts):
        items = mine.get(agency)
        if not items:
            continue
        message_id = str(500_000 + n)
        rows.append(
            {
                "channel": "telegram",
                "chat_id": chat_id,
                "message_id": message_id,
                "contact_id": contact_id,
                "batch_id": f"bench-{contact_id}",
                "items": [list(item) for item in items],
                "sent_at": NOW - timedelta(hours=2),
            }
        )
        people.append(Person(chat_id, message_id, items))
    with engine.begin() as connection:
        connection.execute(insert(SentMessage.__table__), rows)  # type: ignore[attr-defined]
    return people


KINDS = ("numbered_reply", "plain_reply", "button", "free_text", "command")


def updates(people: list[Person], count: int, seed: int) -> list[tuple[Person, Incoming, str]]:
    rng = random.Random(seed)
    out: list[tuple[Person, Incoming, str]] = []
    for i in range(count):
        person = people[i % len(people)]
        at = NOW + timedelta(seconds=i)
        base: dict[str, Any] = {
            "channel": "telegram",
            "chat_id": person.chat_id,
            "at": at,
            "user_id": person.chat_id,
            "message_id": str(1_000_000 + i),
            "display_name": "Nguyễn Văn An",
            "language_code": "vi",
        }
        draw = rng.random()
        if draw < 0.40:
            n = rng.randint(1, len(person.items))
            text = rng.choice(_NUMBERED).format(n=n)
            incoming = Incoming(text=text, reply_to_message_id=person.message_id, **base)
            kind = KINDS[0]
        elif draw < 0.55:
            text = rng.choice(_PLAIN)
            incoming = Incoming(text=text, reply_to_message_id=person.message_id, **base)
            kind = KINDS[1]
        elif draw < 0.75:
            aid, occurrence = rng.choice(person.items)
            action = rng.choice((ReminderAction.DONE, ReminderAction.IN_PROGRESS))
            data = ReminderCallback(action, aid, occurrence).encode()
            base["message_id"] = person.message_id  # a press names the message it is on
            incoming = Incoming(callback_data=data, **base)
            kind = KINDS[2]
        elif draw < 0.90:
            incoming = Incoming(text=rng.choice(_FREE), **base)
            kind = KINDS[3]
        else:
            incoming = Incoming(text="/nhiemvu", **base)
            kind = KINDS[4]
        out.append((person, incoming, kind))
    return out


def _conversation(engine: Engine, directory: Directory) -> Conversation:
    @contextmanager
    def session() -> Iterator[Session]:
        with Session(engine, expire_on_commit=False) as opened:
            yield opened

    return Conversation(session, directory, WorkingCalendar())


def measure(
    conversation: Conversation, work: list[tuple[Person, Incoming, str]], threads: int
) -> tuple[float, list[float], int, float]:
    """Wall seconds, per-update latencies (s), how many answers said sorry (an error), and the
    process's CPU seconds."""
    errors = 0

    def one(item: tuple[Person, Incoming, str]) -> float:
        nonlocal errors
        person, incoming, _ = item
        with person.lock:
            start = time.perf_counter()
            out = conversation.handle(incoming)
            took = time.perf_counter() - start
        if any("xin lỗi" in o.text.lower() for o in out):
            errors += 1
        return took

    start, cpu = time.perf_counter(), time.process_time()
    if threads <= 1:
        latencies = [one(item) for item in work]
    else:
        with ThreadPoolExecutor(threads) as pool:
            latencies = list(pool.map(one, work))
    return time.perf_counter() - start, latencies, errors, time.process_time() - cpu


def _per_kind(
    result: common.Result,
    key: str,
    work: list[tuple[Person, Incoming, str]],
    latencies: list[float],
) -> None:
    parts = []
    for kind in KINDS:
        mine = [took for (_, _, k), took in zip(work, latencies, strict=True) if k == kind]
        if not mine:
            continue
        p50, p99 = common.percentile(mine, 50) * 1000, common.percentile(mine, 99) * 1000
        result.add(f"{key}.{kind}.p50_ms", p50)
        result.add(f"{key}.{kind}.p99_ms", p99)
        parts.append(f"{kind} {p50:.1f}/{p99:.1f}")
    result.note("  per kind, p50/p99 ms: " + ", ".join(parts))


def _set_synchronous_commit(engine: Engine, value: str) -> None:
    """What ``ALTER ROLE nhacviec SET synchronous_commit = ...`` gives every connection."""

    @event.listens_for(engine, "connect")
    def _set(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET synchronous_commit = {value}")
        dbapi_connection.commit()


def run(args: argparse.Namespace) -> common.Result:
    result = common.Result("replies", dict(vars(args)))
    spec = synthetic.Spec(
        agencies=args.agencies,
        plans=max(1, args.assignments // 500),
        tasks_per_plan=25,
        assignments=args.assignments,
        reports=0.2,
    )
    world = synthetic.build(spec)
    directory = world.directory
    with common.scratch_database(args.db, "bench_replies") as url:
        backend = common.backend_name(url)
        engine = make_engine(url, sqlite_synchronous=args.synchronous)
        if backend == "postgresql" and args.pg_synchronous_commit != "on":
            _set_synchronous_commit(engine, args.pg_synchronous_commit)
        try:
            upgrade(url, engine=engine)
            counts = synthetic.load(engine, world)
            del world  # a service holds the directory, not the plans it read from the database
            people = prepare(engine)
            conversation = _conversation(engine, directory)
            result.note(
                f"[{backend}] world: {counts['agencies']:,} agencies, {counts['assignments']:,} "
                f"assignments, {counts['progress_reports']:,} reports; {len(people):,} people "
                "on Telegram with a digest"
                + (f"; SQLite synchronous={args.synchronous}" if backend == "sqlite" else "")
                + ("; gc.freeze() after set-up" if args.gc_freeze else "")
                + (
                    f"; synchronous_commit={args.pg_synchronous_commit}"
                    if backend == "postgresql"
                    else ""
                )
            )
            warm = updates(people, min(200, args.updates), seed=1)
            measure(conversation, warm, 1)  # caches, connections, first statements
            gc.collect()
            if args.gc_freeze:
                gc.freeze()
            for threads in dict.fromkeys((1, args.threads)):  # --threads 1: once
                work = updates(people, args.updates, seed=threads + 10)
                wall, latencies, errors, cpu = measure(conversation, work, threads)
                key = f"{backend}.threads_{threads}"
                result.add(f"{key}.updates_per_s", len(work) / wall)
                if threads == 1:
                    result.add(f"{key}.cpu_ms_per_update", cpu / len(work) * 1000)
                for p in (50, 95, 99):
                    result.add(f"{key}.p{p}_ms", common.percentile(latencies, p) * 1000)
                result.add(f"{key}.max_ms", max(latencies) * 1000)
                result.add(f"{key}.apologies", errors)
                result.note(
                    f"[{backend}, {threads} thread(s)] {len(work):,} updates in {wall:.2f} s: "
                    f"{len(work) / wall:,.0f} updates/s; latency p50 "
                    f"{common.percentile(latencies, 50) * 1000:.1f} ms, p95 "
                    f"{common.percentile(latencies, 95) * 1000:.1f} ms, p99 "
                    f"{common.percentile(latencies, 99) * 1000:.1f} ms, max "
                    f"{max(latencies) * 1000:.0f} ms; {errors} apologies"
                )
                if threads == 1:
                    result.note(
                        f"  CPU time {cpu / len(work) * 1000:.2f} ms an update "
                        f"({len(work) / cpu:,.0f} updates/s of CPU)"
                    )
                    _per_kind(result, key, work, latencies)
        finally:
            engine.dispose()
    return result


def main(argv: list[str] | None = None) -> common.Result | None:
    parser = common.parser(__doc__)
    parser.add_argument("--db", default="sqlite", help="'sqlite', 'postgresql' or a URL")
    parser.add_argument("--updates", type=int, default=5000)
    parser.add_argument("--agencies", type=int, default=150)
    parser.add_argument("--assignments", type=int, default=20_000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--synchronous", choices=SQLITE_SYNCHRONOUS, default="normal")
    parser.add_argument("--gc-freeze", action="store_true", help="gc.freeze() after the set-up")
    parser.add_argument(
        "--pg-synchronous-commit",
        choices=("on", "off"),
        default="on",
        help="PostgreSQL: commits wait for the server's disk (on, the server default) or not",
    )
    args = parser.parse_args(argv)
    if common.compared(args):
        return None
    return common.finish(run(args), args.out)


if __name__ == "__main__":
    main()
