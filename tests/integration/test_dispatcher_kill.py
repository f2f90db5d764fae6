"""A dispatcher process killed (SIGKILL) after claiming loses nothing, on SQLite and PostgreSQL.

The doomed dispatcher runs in a real child process; its channel announces the first send on
stdout and then hangs, so the parent kills it at the worst moment: rows claimed, nothing sent or
recorded. Time is injected: the second dispatcher simply runs at a ``now`` past the lease.
"""

import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from bot.recording import RecordingChannel
from scheduler.planning import plan
from tests.conftest import Database
from tests.integration.reminder_world import (
    DIRECTORY,
    LEASE,
    POLICY,
    TaskSpec,
    add_contact,
    at8,
    calendar,
    dispatcher,
    fixed,
    local,
    reminders,
    save_plan,
)

ROOT = Path(__file__).resolve().parents[2]
DUE = at8(local(2023, 12, 29).date())
NOW = at8(local(2023, 12, 22).date())

CHILD = """
import asyncio, sys
from datetime import datetime, timedelta
from domain.agencies import Directory
from domain.calendar import WorkingCalendar
from domain.delivery import SendResult
from scheduler.dispatcher import Dispatcher
from storage.engine import make_engine

class Hang:
    name = "telegram"
    max_text = 4096
    async def send(self, message):
        print("SENDING", message.chat_id, flush=True)
        await asyncio.Event().wait()
        return SendResult("sent")

url, now = sys.argv[1], datetime.fromisoformat(sys.argv[2])
worker = Dispatcher(make_engine(url), {"telegram": Hang()}, directory=Directory([], []),
                    calendar=WorkingCalendar(first_year=2023, last_year=2024),
                    worker_id="doomed", lease=timedelta(minutes=5))
asyncio.run(worker.tick(now))
"""


async def test_a_killed_dispatcher_loses_nothing(
    database: Database, engine: Engine, session: Session
) -> None:
    save_plan(session, [TaskSpec(str(n), fixed(DUE.date())) for n in range(1, 4)])
    for i in range(4):
        add_contact(session, "STC", str(100 + i))
    now = local(2023, 12, 22, 7)
    plan(session, directory=DIRECTORY, calendar=calendar(), policy=POLICY, now=now)
    session.commit()
    due = [r for r in reminders(session) if r.send_at <= NOW]
    assert len(due) == 12

    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, database.url, NOW.isoformat()],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.startswith("SENDING"), child.stderr.read() if child.stderr else line
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)
        for stream in (child.stdout, child.stderr):
            if stream is not None:
                stream.close()
    assert child.returncode == -signal.SIGKILL

    held = [r for r in reminders(session) if r.send_at <= NOW]
    assert {(r.state, r.claimed_by, r.lease_until) for r in held} == {
        ("claimed", "doomed", NOW + LEASE)
    }

    channel = RecordingChannel(channel_name="telegram")
    survivor = dispatcher(engine, {"telegram": channel}, worker="survivor")
    assert (await survivor.tick(NOW + LEASE)).claimed == 0  # the lease still holds
    report = await survivor.tick(NOW + LEASE + timedelta(seconds=1))

    assert report.sent == 12 and len(channel.sent) == 4
    after = [r for r in reminders(session) if r.send_at <= NOW]
    assert Counter((r.state, r.claimed_by, r.attempts) for r in after) == {
        ("sent", "survivor", 2): 12
    }
