"""Two and a half years of the seed plan on a fake clock, through the real outbox and dispatcher.

Plan 289/KH-UBND (Nghệ An, 2023) is imported as a user would; every agency of the directory has a
focal point on Telegram, Sở Nội vụ also a head and a coordinator. The clock runs from 01/05/2023
to 31/01/2026: planning every morning at 07:00, and the dispatcher ticks exactly when the outbox
says something is due (no sleeping, no idle ticks). On the way, Sở Nội vụ reports task 3 done on
05/12/2023 (confirmed), and on 03/01/2025 the coordinator records that task 5's precondition
(guidance from the central government) is met. A one-task plan due 16/02/2024 is added so that
Tết 2024 meets a reminder too (the seed's own dates meet Tết only in 2025, through task 5).
"""

from collections import Counter
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from app.bootstrap import read_directory
from app.plan_files import read_plan_source
from bot.recording import RecordingChannel
from domain.agencies import Directory
from domain.calendar import ZONE, at_local, local_date
from domain.delivery import OutgoingMessage, SendResult
from domain.plan_import import build_plan
from domain.plans import parse_plan
from scheduler.clock import ManualClock
from scheduler.dispatcher import Dispatcher
from scheduler.planning import plan
from storage import repository
from storage.models import Assignment, Contact, Plan, Reminder, SentMessage, Task
from storage.reminder_queries import next_due
from tests.integration.reminder_world import POLICY, TaskSpec, calendar, fixed, save_plan

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / ".." / "shared" / "seed" / "ke-hoach-289-KH-UBND-2023-nghe-an.txt"
START, END = date(2023, 5, 1), date(2026, 1, 31)
EIGHT = time(8, 0)
TET_2024 = [date(2024, 2, d) for d in range(8, 15)]
TET_2025 = [date(2025, 1, d) for d in range(25, 32)] + [date(2025, 2, 1), date(2025, 2, 2)]


def _assignment(session: Session, plan_number: str, task: str, agency: str) -> int:
    found = session.exec(
        select(Assignment.id)
        .join(Task, col(Task.id) == col(Assignment.task_id))
        .join(Plan, col(Plan.id) == col(Task.plan_id))
        .where(Plan.number == plan_number, Task.number == task, Assignment.agency_code == agency)
    ).one()
    assert found is not None
    return found


@pytest.fixture(scope="module")
def directory() -> Directory:
    return read_directory("")


# SQLite is enough here (PostgreSQL runs the same code through the other tests) and twice as fast.
@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_two_and_a_half_years_of_the_seed_plan(
    engine: Engine, session: Session, directory: Directory
) -> None:
    if not SEED.is_file():
        pytest.skip(f"the shared seed plan is absent: {SEED}")
    clock = ManualClock(at_local(START, time(7, 0)))
    draft = build_plan(parse_plan(read_plan_source(SEED)), directory)
    repository.save_plan(session, draft, clock.now())
    save_plan(session, [TaskSpec("1", fixed(date(2024, 2, 16)), lead=("SNV",))], number="9/KH-TET")
    for code in directory.agencies:
        session.add(Contact(agency_code=code, channel="telegram", chat_id=f"f-{code}",
                            created_at=clock.now()))  # fmt: skip
    session.add(Contact(agency_code="SNV", channel="telegram", chat_id="head-SNV", role="head",
                        created_at=clock.now()))  # fmt: skip
    session.add(Contact(agency_code="SNV", channel="telegram", chat_id="coord", role="coordinator",
                        created_at=clock.now()))  # fmt: skip
    session.commit()
    plan_number = draft.number
    task3 = _assignment(session, plan_number, "3", "SNV")
    task5 = _assignment(session, plan_number, "5", "SNV")
    tet_task = _assignment(session, "9/KH-TET", "1", "SNV")

    sent_at: list[tuple[str, datetime]] = []

    def note_time(message: OutgoingMessage) -> SendResult | None:
        sent_at.append((message.chat_id, clock.now()))
        return None

    channel = RecordingChannel(channel_name="telegram", outcome_for=note_time)
    worker = Dispatcher(
        engine, {"telegram": channel}, directory=directory, calendar=calendar(), worker_id="sim"
    )

    day = START
    while day <= END:
        clock.set(at_local(day, time(7, 0)))
        if day == date(2025, 1, 3):
            task = session.exec(
                select(Task)
                .join(Plan, col(Plan.id) == col(Task.plan_id))
                .where(Plan.number == plan_number, Task.number == "5")
            ).one()
            task.precondition_met_on = day  # the coordinator records the guidance
            session.add(task)
            session.commit()
        plan(session, directory=directory, calendar=calendar(), policy=POLICY, now=clock.now())
        session.commit()
        tomorrow = at_local(day + timedelta(days=1), time(7, 0))
        while (moment := next_due(session)) is not None and moment < tomorrow:
            clock.set(max(moment, clock.now()))
            await worker.tick(clock.now())
        if day == date(2023, 12, 5):
            repository.add_progress(
                session,
                assignment_id=task3,
                kind="done",
                occurrence="2023-12-31",
                reported_at=at_local(day, time(10, 0)),
                review="confirmed",
            )
            session.commit()
        day += timedelta(days=1)

    rows = list(session.exec(select(Reminder)).all())
    sent = [r for r in rows if r.state == "sent"]
    assert len(sent) > 1000 and len(channel.sent) == len(sent_at) > 500
    assert {r.state for r in rows if r.send_at < clock.now() - timedelta(days=1)} <= {
        "sent", "skipped"
    }  # fmt: skip

    # Every message goes out at 08:00 on a working day, and so does every reminder row.
    for _, moment in sent_at:
        assert moment.astimezone(ZONE).time() == EIGHT, moment
        assert calendar().is_working_day(local_date(moment)), moment
    for row in sent:
        assert row.sent_at is not None and row.sent_at == row.send_at
        assert row.sent_at.astimezone(ZONE).time() == EIGHT
        assert calendar().is_working_day(local_date(row.sent_at))

    # Nobody gets two messages in one slot: one digest per person and slot, split in numbered
    # parts only when it is too long for one message (the coordinator's list of late agencies).
    per_slot = Counter(sent_at)
    texts: dict[tuple[str, datetime], list[str]] = {}
    for message, key in zip(channel.sent, sent_at, strict=True):
        texts.setdefault(key, []).append(message.text)
    for key, count in per_slot.items():
        if count > 1:
            heads = [text.splitlines()[0] for text in texts[key]]
            assert all(head.endswith(f"({k}/{count})") for k, head in enumerate(heads, 1)), heads
    batches: dict[tuple[str, datetime], set[str | None]] = {}
    for record in session.exec(select(SentMessage)):
        batches.setdefault((record.chat_id, record.sent_at), set()).add(record.batch_id)
    assert len(batches) == len(per_slot) and {len(b) for b in batches.values()} == {1}
    assert max(per_slot.values()) > 1  # the split did happen, so the check above means something

    # Tết: nothing is sent during it; what would fall on it goes out the working day before.
    days_sent = {local_date(moment) for _, moment in sent_at}
    assert days_sent.isdisjoint(TET_2024 + TET_2025)
    tet_rows = {r.step: r.sent_at for r in sent if r.assignment_id == tet_task}
    assert tet_rows["before:3"] == at_local(date(2024, 2, 7), EIGHT)  # 13/02 falls on Tết
    assert tet_rows["before:1"] == at_local(date(2024, 2, 15), EIGHT)
    assert "before:7" not in tet_rows  # 09/02 moved to 07/02 too: the closer warning won
    task5_rows = {r.step: r.sent_at for r in sent if r.assignment_id == task5}
    assert task5_rows["before:30"] == at_local(date(2025, 1, 3), EIGHT)
    assert task5_rows["before:1"] == at_local(date(2025, 1, 24), EIGHT)  # 01/02 is Tết
    assert task5_rows["due"] == at_local(date(2025, 2, 3), EIGHT)  # 02/02 is a Sunday

    # Task 3, reported done on 05/12/2023: nothing more for Sở Nội vụ; its partners go on.
    done_day = at_local(date(2023, 12, 5), time(10, 0))
    task3_rows = [r for r in rows if r.assignment_id == task3]
    assert [r.step for r in task3_rows if r.state == "sent"] == ["before:30"]
    assert all(r.send_at > done_day for r in task3_rows if r.state != "sent")
    assert {r.skip_reason for r in task3_rows if r.state == "skipped"} <= {"đã báo cáo hoàn thành"}
    partner = _assignment(session, plan_number, "3", "VPUBND")
    assert {r.step for r in rows if r.assignment_id == partner and r.state == "sent"} == {
        "before:7",
        "due",
    }
