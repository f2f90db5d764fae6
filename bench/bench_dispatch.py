"""Benchmark: dispatcher throughput to the recording channel, on SQLite and PostgreSQL.

Fills the outbox with ``--contacts`` people, each owed ``--items`` reminders due now, then runs
dispatcher ticks until the outbox is empty and prints messages/s and rows/s. The recording channel
answers at once, so this measures the dispatcher itself (claiming, wording, recording): the target
is that it is never the bottleneck below 500 messages/s. Not a test (a tiny run of it is).

    .venv/bin/python bench/bench_dispatch.py                      # SQLite file in a temp folder
    .venv/bin/python bench/bench_dispatch.py --db postgresql://postgres@127.0.0.1:5432/test
"""

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from bot.recording import RecordingChannel
from domain.agencies import Agency, AgencyLevel, Directory
from domain.calendar import ZONE, WorkingCalendar
from domain.deadlines import Deadline, DeadlineKind
from domain.plan_import import AssignmentDraft, PlanDraft, Role, TaskDraft
from scheduler.dispatcher import Dispatcher
from storage import outbox, repository
from storage.engine import make_engine, normalize_url
from storage.migrate import upgrade
from storage.models import Assignment, Contact, Reminder

NOW = datetime(2026, 12, 22, 8, 0, tzinfo=ZONE)
DUE = date(2026, 12, 29)


def _fill(engine: Engine, contacts: int, items: int) -> int:
    codes = [f"A{i:05d}" for i in range(contacts)]
    deadline = Deadline(DeadlineKind.FIXED, "Trước ngày 29/12/2026", due=DUE)
    tasks = tuple(
        TaskDraft(
            str(n + 1),
            f"Nhiệm vụ số {n + 1}: rà soát, hoàn thiện quy định về lĩnh vực được giao",
            deadline,
            tuple(AssignmentDraft(code, Role.LEAD) for code in codes),
        )
        for n in range(items)
    )
    draft = PlanDraft("999/KH-UBND", date(2026, 1, 5), None, "Kế hoạch thử tải", "bench",
                      None, tasks)  # fmt: skip
    with Session(engine) as session:
        repository.save_plan(session, draft, NOW)
        session.add_all(
            Contact(agency_code=code, channel="telegram", chat_id=str(10_000 + i), created_at=NOW)
            for i, code in enumerate(codes)
        )
        session.commit()
        contact_of = {
            code: cid for code, cid in session.exec(select(Contact.agency_code, Contact.id)) if cid
        }
        rows = [
            Reminder(
                assignment_id=aid,
                occurrence=DUE.isoformat(),
                step="before:7",
                contact_id=contact_of[code],
                due=DUE,
                send_at=NOW - timedelta(minutes=1),
                created_at=NOW,
            )
            for aid, code in session.exec(
                select(Assignment.id, Assignment.agency_code).order_by(col(Assignment.id))
            )
        ]
        inserted = outbox.upsert_planned(session, rows)
        session.commit()
    return inserted


async def _drain(dispatcher: Dispatcher) -> tuple[int, int, int]:
    messages = sent = ticks = 0
    while True:
        report = await dispatcher.tick(NOW)
        ticks += 1
        messages += report.messages
        sent += report.sent
        if report.claimed == 0:
            return messages, sent, ticks


def run(url: str, contacts: int, items: int) -> dict[str, float]:
    engine = make_engine(url)
    try:
        upgrade(url, engine=engine)
        t0 = time.perf_counter()
        rows = _fill(engine, contacts, items)
        fill = time.perf_counter() - t0
        channel = RecordingChannel(channel_name="telegram")
        directory = Directory(
            [Agency(f"A{i:05d}", f"Sở thử số {i}", AgencyLevel.PROVINCE) for i in range(contacts)],
            [],
        )
        dispatcher = Dispatcher(engine, {"telegram": channel}, directory=directory,
                                calendar=WorkingCalendar(), worker_id="bench")  # fmt: skip
        t0 = time.perf_counter()
        messages, sent, ticks = asyncio.run(_drain(dispatcher))
        elapsed = time.perf_counter() - t0
    finally:
        engine.dispose()
    assert sent == rows and messages == len(channel.sent) == contacts, (sent, rows, messages)
    return {
        "rows": rows,
        "messages": messages,
        "ticks": ticks,
        "fill_s": fill,
        "dispatch_s": elapsed,
        "messages_per_s": messages / elapsed,
        "rows_per_s": sent / elapsed,
    }


def _postgres_schema_url(base: str) -> tuple[str, Engine, str]:
    admin = make_engine(base)
    schema = f"bench_dispatch_{uuid.uuid4().hex[:8]}"
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = normalize_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), admin, schema


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--contacts", type=int, default=2000, help="people owed reminders")
    parser.add_argument("--items", type=int, default=3, help="reminders per person")
    parser.add_argument("--db", default="", help="database URL (default: a new SQLite file)")
    args = parser.parse_args(argv)

    if args.db.startswith("postgres"):
        url, admin, schema = _postgres_schema_url(args.db)
        try:
            result = run(url, args.contacts, args.items)
        finally:
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            admin.dispose()
        backend = "postgresql"
    elif args.db:
        result, backend = run(args.db, args.contacts, args.items), "sqlite"
    else:
        with tempfile.TemporaryDirectory() as folder:
            result = run(f"sqlite:///{folder}/bench.db", args.contacts, args.items)
        backend = "sqlite"
    print(
        f"dispatch [{backend}]: {result['messages']:.0f} messages ({result['rows']:.0f} reminders, "
        f"{args.items} per person) in {result['dispatch_s']:.2f} s over {result['ticks']:.0f} "
        f"ticks: {result['messages_per_s']:.0f} messages/s, {result['rows_per_s']:.0f} reminders/s"
        f" (outbox filled in {result['fill_s']:.2f} s)"
    )
    return result


if __name__ == "__main__":
    main()
