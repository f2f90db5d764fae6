"""The dispatcher's sending loop: a rolling window of digests, outcomes written as they finish.

A digest of several messages takes a second per extra message in its chat (Telegram's per-chat
limit). In the first test one send is held until every other digest has gone out and the outcomes
of most of them are written: with sends grouped in chunks that wait for their slowest member, the
digests after the first chunk could never start and the held send would give up. The others: the
lease's budget still hands back what was not started, and a digest that cannot be worded fails
alone.
"""

import asyncio
from datetime import date

from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from bot.recording import RecordingChannel
from domain.delivery import Outcome, OutgoingMessage, SendResult
from scheduler.dispatcher import RECORD_BATCH
from scheduler.planning import plan
from storage.models import Reminder
from storage.reminder_queries import insert_planned
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

DUE = date(2023, 12, 29)
WEEK_BEFORE = at8(date(2023, 12, 22))
PEOPLE = RECORD_BATCH + 6  # more than one batch of outcomes
GIVE_UP = 10.0  # seconds: only reached when the window is broken (the test then fails)


class HoldFirst:
    """Holds the first send until every other chat has its message and ``recorded`` holds."""

    name = "telegram"
    max_text = 4096

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.order: list[str] = []
        self.held: str | None = None
        self.others_done = asyncio.Event()
        self.sent_rows_seen = 0

    async def send(self, message: OutgoingMessage) -> SendResult:
        if self.held is None:
            self.held = message.chat_id
            try:
                await asyncio.wait_for(self._others_recorded(), GIVE_UP)
            except TimeoutError:
                return SendResult(Outcome.TRANSIENT, error="the other digests never came")
        self.order.append(message.chat_id)
        if len(self.order) == PEOPLE - 1:
            self.others_done.set()
        return SendResult(Outcome.SENT, message_id=str(len(self.order)))

    async def _others_recorded(self) -> None:
        await self.others_done.wait()
        while self.sent_rows_seen < RECORD_BATCH:  # a write of the first batch is under way
            self.sent_rows_seen = await asyncio.to_thread(self._sent_rows)
            await asyncio.sleep(0)

    def _sent_rows(self) -> int:
        with Session(self.engine) as session:
            count = session.exec(
                select(func.count()).select_from(Reminder).where(col(Reminder.state) == "sent")
            ).one()
        return int(count)


async def test_a_slow_digest_does_not_hold_up_the_others(engine: Engine, session: Session) -> None:
    save_plan(session, [TaskSpec("1", fixed(DUE))])
    for i in range(PEOPLE):
        add_contact(session, "STC", str(100 + i))
    plan(session, directory=DIRECTORY, calendar=calendar(), policy=POLICY,
         now=local(2023, 12, 22, 7))  # fmt: skip
    session.commit()
    channel = HoldFirst(engine)
    worker = dispatcher(engine, {"telegram": channel}, concurrency=2)

    report = await worker.tick(WEEK_BEFORE)

    assert channel.held is not None
    assert channel.order[-1] == channel.held  # everyone else went first
    assert channel.sent_rows_seen >= RECORD_BATCH  # ... and was recorded meanwhile
    assert (report.sent, report.messages, report.failed) == (PEOPLE, PEOPLE, 0)
    assert {r.state for r in reminders(session) if r.send_at <= WEEK_BEFORE} == {"sent"}


async def test_digests_not_started_within_half_the_lease_are_handed_back(
    engine: Engine, session: Session
) -> None:
    save_plan(session, [TaskSpec("1", fixed(DUE))])
    for i in range(5):
        add_contact(session, "STC", str(100 + i))
    plan(session, directory=DIRECTORY, calendar=calendar(), policy=POLICY,
         now=local(2023, 12, 22, 7))  # fmt: skip
    session.commit()
    clock = [0.0]
    sent: list[str] = []

    class Slow:
        name = "telegram"
        max_text = 4096

        async def send(self, message: OutgoingMessage) -> SendResult:
            sent.append(message.chat_id)
            clock[0] += LEASE.total_seconds() / 2 + 1  # this one send took half the lease
            return SendResult(Outcome.SENT, message_id=str(len(sent)))

    worker = dispatcher(engine, {"telegram": Slow()}, concurrency=1, lease=LEASE,
                        monotonic=lambda: clock[0])  # fmt: skip

    report = await worker.tick(WEEK_BEFORE)

    assert (report.sent, report.deferred) == (1, 4)
    due = [r for r in reminders(session) if r.send_at <= WEEK_BEFORE]
    assert sorted(r.state for r in due) == ["pending"] * 4 + ["sent"]
    assert all(r.claimed_by is None for r in due if r.state == "pending")


async def test_a_digest_that_cannot_be_worded_fails_alone(engine: Engine, session: Session) -> None:
    save_plan(session, [TaskSpec("1", fixed(DUE))])
    odd = add_contact(session, "STC", "100")
    add_contact(session, "STC", "101")
    plan(session, directory=DIRECTORY, calendar=calendar(), policy=POLICY,
         now=local(2023, 12, 22, 7))  # fmt: skip
    session.commit()
    planned = next(r for r in reminders(session) if r.contact_id == odd)
    # An occurrence key too long for a button's 64 bytes of callback data: wording it fails.
    insert_planned(session, [{
        "assignment_id": planned.assignment_id, "occurrence": "x" * 70, "step": planned.step,
        "audience": planned.audience, "contact_id": odd, "due": planned.due,
        "send_at": planned.send_at, "payload": planned.payload, "created_at": planned.created_at,
    }])  # fmt: skip
    session.commit()
    channel = RecordingChannel(channel_name="telegram")
    worker = dispatcher(engine, {"telegram": channel})

    report = await worker.tick(WEEK_BEFORE)

    assert [m.chat_id for m in channel.sent] == ["101"]  # the other digest went out
    mine = [r for r in reminders(session) if r.contact_id == odd and r.send_at <= WEEK_BEFORE]
    assert {r.state for r in mine} == {"failed"}
    assert all(r.next_attempt_at is not None for r in mine)  # retried later, not given up
    assert "ValueError" in (mine[0].last_error or "")
    assert (report.sent, report.failed) == (1, len(mine))
