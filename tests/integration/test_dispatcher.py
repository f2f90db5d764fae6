"""The dispatcher on SQLite and PostgreSQL: one digest per person, retries, pauses, catch-up."""

import asyncio
import importlib.util
import re
from collections import Counter
from datetime import date, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.recording import RecordingChannel
from domain.callbacks import ReminderAction, decode
from domain.delivery import Outcome, OutgoingMessage, SendResult
from scheduler.dispatcher import Backoff
from scheduler.planning import plan
from storage import repository
from storage.engine import make_engine
from storage.models import Contact, DeliveryAttempt, Reminder, SentMessage
from storage.reminder_queries import next_due, queue_notices
from tests.integration.reminder_world import (
    DIRECTORY,
    POLICY,
    TaskSpec,
    add_contact,
    assignment_id,
    at8,
    calendar,
    dispatcher,
    fixed,
    local,
    reminders,
    save_plan,
)

DUE = date(2023, 12, 29)  # Friday
WEEK_BEFORE = at8(date(2023, 12, 22))  # before:7 for DUE


def run_planning(session: Session, now: datetime, lookback_days: int | None = None) -> int:
    report = plan(
        session,
        directory=DIRECTORY,
        calendar=calendar(),
        policy=POLICY,
        now=now,
        lookback_days=lookback_days,
    )
    session.commit()
    return report.inserted


def telegram(**options: object) -> RecordingChannel:
    return RecordingChannel(channel_name="telegram", **options)  # type: ignore[arg-type]


def due_by(session: Session, moment: datetime = WEEK_BEFORE) -> list[Reminder]:
    """The rows due by ``moment`` (planning also queued the later steps of the horizon)."""
    return [r for r in reminders(session) if r.send_at <= moment]


def states(session: Session, moment: datetime = WEEK_BEFORE) -> Counter[str]:
    return Counter(r.state for r in due_by(session, moment))


@pytest.fixture
def two_tasks(session: Session) -> Session:
    """STC leads tasks 1 and 2 (due 29/12/2023); SYT supports task 1. One focal point each."""
    save_plan(
        session,
        [TaskSpec("1", fixed(DUE), support=("SYT",)), TaskSpec("2", fixed(DUE))],
    )
    add_contact(session, "STC", "100", name="Nguyễn Văn An")
    add_contact(session, "SYT", "200")
    run_planning(session, local(2023, 12, 22, 7))
    return session


async def test_one_digest_per_contact_with_buttons_and_a_record_of_the_message(
    engine: Engine, two_tasks: Session
) -> None:
    session = two_tasks
    channel = telegram()
    report = await dispatcher(engine, {"telegram": channel}).tick(WEEK_BEFORE)

    assert (report.claimed, report.messages, report.sent) == (3, 2, 3)
    assert sorted(m.chat_id for m in channel.sent) == ["100", "200"]
    stc = next(m for m in channel.sent if m.chat_id == "100")
    assert stc.text.startswith("Kính gửi Sở Tài chính: nhắc việc ngày 22/12/2023")
    assert "1. Kế hoạch 289/KH-UBND, nhiệm vụ 1 (chủ trì)" in stc.text
    assert "2. Kế hoạch 289/KH-UBND, nhiệm vụ 2 (chủ trì)" in stc.text
    assert "Hạn: 29/12/2023 (còn 7 ngày)." in stc.text

    task1, task2 = assignment_id(session, "1", "STC"), assignment_id(session, "2", "STC")
    assert [[b.label for b in row] for row in stc.buttons] == [
        ["1. Đã xong", "1. Đang làm", "1. Vướng mắc", "1. Cập nhật %"],
        ["2. Đã xong", "2. Đang làm", "2. Vướng mắc", "2. Cập nhật %"],
    ]
    pressed = [decode(b.data) for row in stc.buttons for b in row]
    assert [(p.action, p.assignment_id, p.occurrence) for p in pressed if p] == [
        (action, task, "2023-12-29") for task in (task1, task2) for action in ReminderAction
    ]

    record = session.exec(select(SentMessage).where(SentMessage.chat_id == "100")).one()
    assert record.channel == "telegram" and record.message_id
    assert record.items == [[task1, "2023-12-29"], [task2, "2023-12-29"]]
    due = [r for r in reminders(session) if r.send_at <= WEEK_BEFORE]
    mine = [r for r in due if r.contact_id == record.contact_id]
    assert len(mine) == 2
    assert {(r.state, r.batch_id, r.sent_at) for r in mine} == {
        ("sent", record.batch_id, WEEK_BEFORE)
    }
    attempts = session.exec(select(DeliveryAttempt)).all()
    assert Counter(a.outcome for a in attempts) == {"sent": 3}

    again = await dispatcher(engine, {"telegram": channel}).tick(WEEK_BEFORE + timedelta(1))
    assert again.claimed == 0 and len(channel.sent) == 2


async def test_an_occurrence_reported_done_meanwhile_is_skipped_with_a_reason(
    engine: Engine, two_tasks: Session
) -> None:
    session = two_tasks
    repository.add_progress(
        session,
        assignment_id=assignment_id(session, "1", "STC"),
        kind="done",
        occurrence="",  # no key: the task falls due once, so it is done all the same
        reported_at=local(2023, 12, 21, 15),
    )
    session.commit()
    channel = telegram()

    report = await dispatcher(engine, {"telegram": channel}).tick(WEEK_BEFORE)

    assert (report.sent, report.skipped) == (2, 1)
    skipped = [r for r in reminders(session) if r.state == "skipped"]
    assert [(r.assignment_id, r.skip_reason) for r in skipped] == [
        (assignment_id(session, "1", "STC"), "đã báo cáo hoàn thành")
    ]
    stc = channel.texts_for("100")
    assert len(stc) == 1 and "nhiệm vụ 1" not in stc[0] and "nhiệm vụ 2" in stc[0]


async def test_three_days_down_give_one_catch_up_digest_per_contact(
    engine: Engine, session: Session
) -> None:
    save_plan(
        session,
        [
            TaskSpec("1", fixed(DUE), support=("SYT",)),
            TaskSpec("2", fixed(date(2023, 12, 27)), support=("SYT",)),
        ],
    )
    stc, syt = add_contact(session, "STC", "100"), add_contact(session, "SYT", "200")
    channel = telegram()
    run_planning(session, local(2023, 12, 25, 7))
    await dispatcher(engine, {"telegram": channel}).tick(at8(date(2023, 12, 25)))
    assert channel.sent == []  # Monday: nothing due

    # Down from Monday evening to Friday 09:00; planning runs first when it comes back.
    run_planning(session, local(2023, 12, 29, 9))
    report = await dispatcher(engine, {"telegram": channel}).tick(local(2023, 12, 29, 9))

    assert Counter(m.chat_id for m in channel.sent) == {"100": 1, "200": 1}
    [message] = channel.texts_for("100")
    assert "nhiệm vụ 1 (chủ trì)" in message and "Hạn: 29/12/2023 (hôm nay đến hạn)." in message
    assert "nhiệm vụ 2 (chủ trì)" in message and "Hạn: 27/12/2023 (quá hạn 2 ngày)." in message
    sent = {
        (r.contact_id, r.assignment_id, r.step) for r in reminders(session) if r.state == "sent"
    }
    task1, task2 = assignment_id(session, "1", "STC"), assignment_id(session, "2", "STC")
    assert (stc, task1, "due") in sent and (stc, task2, "overdue:1") in sent
    assert not any(c == stc and s.startswith("before") for c, _, s in sent)
    support = {(a, s) for c, a, s in sent if c == syt}
    assert support == {
        (assignment_id(session, "1", "SYT"), "due"),
        (assignment_id(session, "2", "SYT"), "due"),
    }
    skipped = {(r.step, r.skip_reason) for r in reminders(session) if r.state == "skipped"}
    assert ("before:1", "đã có nhắc việc mới hơn: due") in skipped  # task 1, Thu 28/12
    assert ("due", "đã có nhắc việc mới hơn: overdue:1") in skipped  # task 2, Wed 27/12
    assert report.skipped == len(skipped) and report.messages == 2


async def test_transient_failures_are_retried_with_backoff_until_all_is_delivered(
    engine: Engine, session: Session
) -> None:
    save_plan(session, [TaskSpec(str(n), fixed(DUE)) for n in range(1, 3)])
    chats = [str(1000 + i) for i in range(30)]
    for chat in chats:
        add_contact(session, "STC", chat)
    run_planning(session, local(2023, 12, 22, 7))
    channel = telegram(failure_rate=0.3, seed=7)
    worker = dispatcher(engine, {"telegram": channel}, backoff=Backoff())

    now = WEEK_BEFORE
    first = await worker.tick(now)
    assert first.failed > 0 and first.sent > 0
    failed = [r for r in reminders(session) if r.state == "failed"]
    assert {(r.attempts, r.next_attempt_at) for r in failed} == {(1, now + timedelta(seconds=30))}

    ticks = 1
    while (moment := next_due(session)) is not None and moment < WEEK_BEFORE + timedelta(1):
        now = max(now, moment)
        await worker.tick(now)
        ticks += 1
        assert ticks < 40

    assert states(session) == {"sent": 60}
    assert Counter(m.chat_id for m in channel.sent) == dict.fromkeys(chats, 1)
    assert channel.attempts > len(chats)
    # The pause before each retry doubles: 30 s, 60 s, 120 s ...
    tries: dict[int, list[datetime]] = {}
    for attempt in session.exec(select(DeliveryAttempt).order_by(col(DeliveryAttempt.id))):
        tries.setdefault(attempt.reminder_id, []).append(attempt.at)
    gaps = {tuple((b - a).total_seconds() for a, b in pairwise(times)) for times in tries.values()}
    assert (30.0,) in gaps and any(len(g) >= 2 for g in gaps)
    for gap in gaps:
        assert list(gap) == [30.0 * 2**k for k in range(len(gap))]


def test_backoff_doubles_up_to_its_cap_and_jitter_only_shortens() -> None:
    plain = Backoff()
    assert [plain.delay(n).total_seconds() for n in range(1, 10)] == [
        30, 60, 120, 240, 480, 960, 1920, 3600, 3600
    ]  # fmt: skip
    jittered = Backoff(jitter=0.5)
    delays = {jittered.delay(3, row) for row in range(50)}
    assert len(delays) > 1
    assert all(timedelta(seconds=60) <= d <= timedelta(seconds=120) for d in delays)
    assert jittered.delay(3, 7) == jittered.delay(3, 7)  # deterministic


async def test_a_rate_limit_pauses_the_whole_channel(engine: Engine, session: Session) -> None:
    save_plan(session, [TaskSpec("1", fixed(DUE))])
    for i in range(5):
        add_contact(session, "STC", str(100 + i))
    zalo = add_contact(session, "STC", "z1", channel="zalo")
    run_planning(session, local(2023, 12, 22, 7))

    def limited_once(message: OutgoingMessage) -> SendResult | None:
        if channel.attempts == 1:
            return SendResult(Outcome.RATE_LIMITED, error="429 Too Many Requests", retry_after=120)
        return None

    channel = telegram(outcome_for=limited_once)
    other = RecordingChannel(channel_name="zalo")
    worker = dispatcher(engine, {"telegram": channel, "zalo": other}, concurrency=1)

    report = await worker.tick(WEEK_BEFORE)

    resume = WEEK_BEFORE + timedelta(seconds=120)
    assert (report.failed, report.deferred, report.sent) == (1, 4, 1)
    assert channel.attempts == 1 and channel.sent == []
    assert [m.chat_id for m in other.sent] == ["z1"]  # another platform is not paused
    waiting = [r for r in due_by(session) if r.contact_id != zalo]
    assert sorted((r.state, r.attempts) for r in waiting) == [("failed", 1)] + [("pending", 0)] * 4
    assert {r.next_attempt_at for r in waiting} == {resume}

    assert (await worker.tick(resume - timedelta(seconds=1))).claimed == 0
    assert channel.attempts == 1
    later = await worker.tick(resume)
    assert later.sent == 5 and len(channel.sent) == 5


async def test_an_unreachable_contact_is_marked_and_the_coordinator_told(
    engine: Engine, two_tasks: Session
) -> None:
    session = two_tasks
    coordinator = add_contact(session, "SNV", "900", role="coordinator", language="en")
    blocked = "Forbidden: bot was blocked by the user"

    def refuse(message: OutgoingMessage) -> SendResult | None:
        if message.chat_id == "100":
            return SendResult(Outcome.UNREACHABLE, error=blocked)
        return None

    channel = telegram(outcome_for=refuse)
    worker = dispatcher(engine, {"telegram": channel})
    report = await worker.tick(WEEK_BEFORE)

    assert (report.unreachable, report.sent, report.notices) == (2, 1, 1)
    contact = session.exec(select(Contact).where(Contact.chat_id == "100")).one()
    session.refresh(contact)
    assert (contact.unreachable, contact.unreachable_reason) == (True, blocked)
    rows = reminders(session)
    assert {r.state for r in due_by(session) if r.contact_id == contact.id} == {"unreachable"}
    [notice] = [r for r in rows if r.step == "notice"]
    assert (notice.contact_id, notice.assignment_id, notice.state) == (coordinator, None, "pending")
    assert notice.payload is not None
    assert notice.payload["text"] == (
        "Thông báo: hệ thống không gửi được nhắc việc đến Nguyễn Văn An (Sở Tài chính) qua "
        f"Telegram (lý do: {blocked}). Đề nghị liên hệ để cập nhật thông tin đầu mối nhận "
        "nhắc việc."
    )

    await worker.tick(WEEK_BEFORE + timedelta(seconds=30))
    [told] = channel.texts_for("900")
    assert told.startswith("Notice: reminders could not be delivered to Nguyễn Văn An")
    assert channel.texts_for("100") == []

    # Planning no longer addresses the unreachable contact (rows queued before wait, and are
    # skipped when due unless the person comes back).
    before = len([r for r in reminders(session) if r.contact_id == contact.id])
    assert run_planning(session, local(2024, 1, 5, 7)) > 0
    assert len([r for r in reminders(session) if r.contact_id == contact.id]) == before
    report = await worker.tick(at8(date(2023, 12, 26)))
    assert report.skip_reasons == {"đầu mối không nhận được tin nhắn": 2}


async def test_a_permanent_failure_is_not_retried(engine: Engine, two_tasks: Session) -> None:
    session = two_tasks

    def reject(message: OutgoingMessage) -> SendResult | None:
        if message.chat_id == "200":
            return SendResult(Outcome.PERMANENT, error="400 Bad Request: message is too long")
        return None

    channel = telegram(outcome_for=reject)
    worker = dispatcher(engine, {"telegram": channel})
    report = await worker.tick(WEEK_BEFORE)

    assert (report.given_up, report.sent) == (1, 2)
    [given_up] = [r for r in reminders(session) if r.state == "failed"]
    assert (given_up.next_attempt_at, given_up.last_error) == (
        None,
        "400 Bad Request: message is too long",
    )
    assert (await worker.tick(WEEK_BEFORE + timedelta(days=3))).claimed == 0


async def test_a_long_digest_is_split_between_items_and_each_part_marks_its_rows(
    engine: Engine, session: Session
) -> None:
    title = "Rà soát, sắp xếp tổ chức bộ máy các cơ quan chuyên môn thuộc UBND tỉnh theo quy định"
    save_plan(session, [TaskSpec(str(n), fixed(DUE), title=title) for n in range(1, 9)])
    add_contact(session, "STC", "100")
    run_planning(session, local(2023, 12, 22, 7))

    def second_part_fails(message: OutgoingMessage) -> SendResult | None:
        return SendResult(Outcome.TRANSIENT, error="timeout") if channel.attempts == 2 else None

    channel = telegram(limit=700, outcome_for=second_part_fails)
    worker = dispatcher(engine, {"telegram": channel})
    await worker.tick(WEEK_BEFORE)

    [first] = channel.sent
    assert len(first.text.encode("utf-16-le")) // 2 <= 700
    shown = [int(n) for n in re.findall(r"^(\d+)\. ", first.text, flags=re.MULTILINE)]
    assert shown and shown == list(range(1, len(shown) + 1))
    assert [row[0].label for row in first.buttons] == [f"{n}. Đã xong" for n in shown]
    done_ids = {decode(row[0].data).assignment_id for row in first.buttons}  # type: ignore[union-attr]
    rows = due_by(session)
    assert {r.assignment_id for r in rows if r.state == "sent"} == done_ids
    assert {r.state for r in rows if r.assignment_id not in done_ids} == {"failed"}
    record = session.exec(select(SentMessage)).one()
    assert len(record.items) == 8  # the whole digest's numbering, for replies quoting a number

    await worker.tick(WEEK_BEFORE + timedelta(seconds=30))

    assert states(session) == {"sent": 8}
    rest = channel.sent[1:]
    assert rest and all(f"(1/{len(rest)})" in rest[0].text for _ in [0] if len(rest) > 1)
    resent = {decode(r[0].data).assignment_id for m in rest for r in m.buttons}  # type: ignore[union-attr]
    assert resent.isdisjoint(done_ids) and len(resent | done_ids) == 8


async def test_english_speakers_get_english(engine: Engine, session: Session) -> None:
    save_plan(session, [TaskSpec("1", fixed(DUE))])
    add_contact(session, "STC", "100", language="en")
    run_planning(session, local(2023, 12, 22, 7))
    channel = telegram()

    await dispatcher(engine, {"telegram": channel}).tick(WEEK_BEFORE)

    [message] = channel.sent
    assert message.text.startswith("To Sở Tài chính: reminders for 22/12/2023")
    assert "Due: 29/12/2023 (7 days left)." in message.text
    assert message.buttons[0][0].label == "1. Done"


async def test_a_notice_due_in_the_same_slot_rides_in_the_same_message(
    engine: Engine, session: Session
) -> None:
    save_plan(session, [TaskSpec("1", fixed(date(2023, 12, 13)))])
    add_contact(session, "STC", "100")
    coordinator = add_contact(session, "SNV", "900", role="coordinator")
    escalation_day = at8(date(2023, 12, 20))  # effective due + 7 days
    run_planning(session, local(2023, 12, 20, 7))
    queue_notices(
        session,
        key="test:1",
        contact_ids=[coordinator],
        payload={"text": "Thông báo thử nghiệm."},
        now=escalation_day,
    )
    session.commit()
    channel = telegram()

    await dispatcher(engine, {"telegram": channel}).tick(escalation_day)

    [message] = channel.texts_for("900")
    assert "Nhiệm vụ quá hạn, đề nghị đôn đốc:" in message
    assert message.endswith("\n\nThông báo thử nghiệm.")
    assert {r.state for r in reminders(session) if r.contact_id == coordinator} == {"sent"}


async def test_rows_wait_for_a_channel_that_is_not_configured(
    engine: Engine, session: Session
) -> None:
    save_plan(session, [TaskSpec("1", fixed(DUE))])
    add_contact(session, "STC", "z1", channel="zalo")
    run_planning(session, local(2023, 12, 22, 7))

    report = await dispatcher(engine, {"telegram": telegram()}).tick(WEEK_BEFORE)

    assert (report.claimed, report.deferred) == (1, 1)
    [row] = due_by(session)
    assert (row.state, row.attempts, row.next_attempt_at) == (
        "pending",
        0,
        WEEK_BEFORE + timedelta(hours=1),
    )
    console = RecordingChannel(channel_name="console")
    demo = dispatcher(engine, {"console": console}, fallback_channel="console")
    assert (await demo.tick(WEEK_BEFORE + timedelta(hours=1))).sent == 1
    assert [m.chat_id for m in console.sent] == ["z1"]
    assert session.exec(select(SentMessage.channel)).one() == "console"


async def test_rows_older_than_stale_after_are_skipped(engine: Engine, two_tasks: Session) -> None:
    channel = telegram()
    report = await dispatcher(engine, {"telegram": channel}).tick(WEEK_BEFORE + timedelta(days=15))
    assert report.skip_reasons["quá thời hạn gửi (dự kiến gửi 22/12/2023)"] == 3
    reasons = {r.skip_reason for r in due_by(two_tasks)}
    assert reasons == {"quá thời hạn gửi (dự kiến gửi 22/12/2023)"}


async def test_a_group_moved_to_a_supergroup_is_followed(
    engine: Engine, two_tasks: Session
) -> None:
    session = two_tasks

    def migrate(message: OutgoingMessage) -> SendResult | None:
        if message.chat_id == "100":
            return SendResult(Outcome.SENT, message_id="55", new_chat_id="-100777")
        return None

    await dispatcher(engine, {"telegram": telegram(outcome_for=migrate)}).tick(WEEK_BEFORE)

    contact = session.exec(select(Contact).where(Contact.display_name == "Nguyễn Văn An")).one()
    session.refresh(contact)
    assert contact.chat_id == "-100777"
    record = session.exec(select(SentMessage).where(SentMessage.message_id == "55")).one()
    assert record.chat_id == "-100777"


async def test_a_channel_that_raises_counts_as_a_transient_failure(
    engine: Engine, two_tasks: Session
) -> None:
    def explode(message: OutgoingMessage) -> SendResult | None:
        raise ConnectionResetError("connection reset by peer")

    report = await dispatcher(engine, {"telegram": telegram(outcome_for=explode)}).tick(WEEK_BEFORE)
    assert (report.failed, report.sent) == (3, 0)
    errors = {r.last_error for r in due_by(two_tasks)}
    assert errors == {"ConnectionResetError: connection reset by peer"}


# Row locks and truly parallel writers exist on PostgreSQL only.
@pytest.mark.parametrize(
    "database", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
async def test_two_dispatchers_at_once_send_every_reminder_exactly_once(
    engine: Engine, session: Session
) -> None:
    save_plan(session, [TaskSpec(str(n), fixed(DUE)) for n in range(1, 5)])
    for i in range(75):
        add_contact(session, "STC", str(5000 + i))
    run_planning(session, local(2023, 12, 22, 7))
    total = len(due_by(session))
    assert total == 300
    channel = telegram()
    url = engine.url.render_as_string(hide_password=False)
    engines = [make_engine(url), make_engine(url)]
    try:
        workers = [
            dispatcher(own, {"telegram": channel}, worker=f"w{i}", batch_size=7)
            for i, own in enumerate(engines)
        ]
        reports = await asyncio.gather(*(w.tick(WEEK_BEFORE) for w in workers))
    finally:
        for own in engines:
            own.dispose()

    assert all(r.claimed > 0 for r in reports)  # both took part
    assert sum(r.sent for r in reports) == total and sum(r.lost for r in reports) == 0
    assert states(session) == {"sent": total}
    delivered = Counter(
        (message.chat_id, line)
        for message in channel.sent
        for line in re.findall(r"nhiệm vụ \d+", message.text)
    )
    assert len(delivered) == total and set(delivered.values()) == {1}
    attempts = session.exec(select(DeliveryAttempt.reminder_id)).all()
    assert len(attempts) == len(set(attempts)) == total
    claimed_by = Counter(r.claimed_by for r in due_by(session))
    assert set(claimed_by) == {"w0", "w1"}


def test_the_dispatch_benchmark_runs_at_a_tiny_size(capsys: pytest.CaptureFixture[str]) -> None:
    path = Path(__file__).resolve().parents[2] / "bench" / "bench_dispatch.py"
    spec = importlib.util.spec_from_file_location("bench_dispatch", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    result = bench.main(["--contacts", "12", "--items", "2"])
    assert (result["messages"], result["rows"]) == (12, 24)
    assert "messages/s" in capsys.readouterr().out
