"""The reminder outbox on both databases: idempotent planning, leased claims, guarded outcomes."""

import threading
from collections.abc import Callable
from dataclasses import FrozenInstanceError, dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import StatementError
from sqlmodel import Session, col, select

from domain.deadlines import Deadline, DeadlineKind
from domain.plan_import import AssignmentDraft, PlanDraft, Role, TaskDraft
from storage import outbox, repository
from storage.engine import make_engine
from storage.models import Assignment, Contact, DeliveryAttempt, Reminder

NOW = datetime(2024, 1, 8, 8, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))
LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class World:
    assignments: tuple[int, ...]
    contacts: tuple[int, ...]


@pytest.fixture
def world(session: Session) -> World:
    """One plan with three assignments (SNV, STC, SYT) and a focal contact for each."""
    deadline = Deadline(DeadlineKind.FIXED, "31/12/2023", due=date(2023, 12, 31))
    draft = PlanDraft(
        number="289/KH-UBND",
        issued_on=date(2023, 4, 26),
        issuer=None,
        title=None,
        source="test",
        coordinator="SNV",
        tasks=(
            TaskDraft(
                "1",
                "Nhiệm vụ",
                deadline,
                tuple(AssignmentDraft(code, Role.LEAD) for code in ("SNV", "STC", "SYT")),
            ),
        ),
    )
    repository.save_plan(session, draft, NOW)
    contacts = [
        Contact(agency_code=code, channel="telegram", chat_id=str(100 + i), created_at=NOW)
        for i, code in enumerate(("SNV", "STC", "SYT"))
    ]
    session.add_all(contacts)
    session.commit()
    assignment_ids = session.exec(select(Assignment.id).order_by(col(Assignment.id))).all()
    return World(
        tuple(i for i in assignment_ids if i is not None),
        tuple(c.id for c in contacts if c.id is not None),
    )


def planned(
    world: World, index: int, step: str = "due", send_at: datetime = NOW, **changes: object
) -> Reminder:
    values: dict[str, object] = {
        "assignment_id": world.assignments[index],
        "occurrence": "2023-12-31",
        "step": step,
        "contact_id": world.contacts[index],
        "due": date(2023, 12, 31),
        "send_at": send_at,
        "payload": {"task": "1", "days": 0},
        "created_at": NOW,
    }
    values.update(changes)
    return Reminder(**values)  # type: ignore[arg-type]


def many(world: World, count: int) -> list[Reminder]:
    """``count`` due reminders, one minute apart, spread over the three assignments."""
    return [
        planned(world, i % 3, step=f"overdue:{i}", send_at=NOW - timedelta(minutes=count - i))
        for i in range(count)
    ]


def states(session: Session) -> dict[str, str]:
    session.expire_all()
    return {r.step: r.state for r in session.exec(select(Reminder))}


# --- planning ----------------------------------------------------------------------------------


def test_upsert_planned_inserts_once(session: Session, world: World) -> None:
    rows = [planned(world, 0, "before:7"), planned(world, 0, "due"), planned(world, 1, "due")]
    assert outbox.upsert_planned(session, rows) == 3
    session.commit()

    again = [*rows, planned(world, 2, "due")]
    assert outbox.upsert_planned(session, again) == 1
    session.commit()

    stored = session.exec(select(Reminder).order_by(col(Reminder.id))).all()
    assert len(stored) == 4
    first = stored[0]
    assert (first.state, first.attempts, first.payload) == ("pending", 0, {"task": "1", "days": 0})
    assert first.send_at == NOW.astimezone(UTC)


def test_upsert_planned_keeps_rows_already_in_progress(session: Session, world: World) -> None:
    outbox.upsert_planned(session, [planned(world, 0)])
    session.commit()
    (claimed,) = outbox.claim_due(session, NOW, "w1", LEASE, 10)
    assert claimed.id is not None
    assert outbox.mark_sent(session, claimed.id, "w1", NOW)
    session.commit()

    assert outbox.upsert_planned(session, [planned(world, 0, send_at=NOW + timedelta(days=1))]) == 0
    session.commit()
    assert states(session) == {"due": "sent"}


def test_coordinator_notices_without_assignment_are_idempotent_too(
    session: Session, world: World
) -> None:
    def notice(week: str) -> Reminder:
        return planned(
            world, 0, "notice", assignment_id=None, audience="coordinator", occurrence=week
        )

    assert outbox.upsert_planned(session, [notice("w2")]) == 1
    assert outbox.upsert_planned(session, [notice("w2")]) == 0
    assert outbox.upsert_planned(session, [notice("w3")]) == 1


def test_upsert_planned_handles_more_rows_than_one_statement_holds(
    session: Session, world: World
) -> None:
    rows = many(world, 600)
    assert outbox.upsert_planned(session, rows) == 600
    assert outbox.upsert_planned(session, rows) == 0


def test_upsert_planned_refuses_naive_times(session: Session, world: World) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        outbox.upsert_planned(session, [planned(world, 0, send_at=datetime(2024, 1, 8, 8))])


# --- claiming ----------------------------------------------------------------------------------


def test_claim_due_takes_due_rows_oldest_first_up_to_the_limit(
    session: Session, world: World
) -> None:
    outbox.upsert_planned(
        session,
        [
            planned(world, 0, "due", send_at=NOW - timedelta(hours=1)),
            planned(world, 1, "due", send_at=NOW - timedelta(hours=2)),
            planned(world, 2, "due", send_at=NOW),
            planned(world, 0, "before:7", send_at=NOW + timedelta(seconds=1)),  # not yet
        ],
    )
    session.commit()

    first = outbox.claim_due(session, NOW, "w1", LEASE, limit=2)
    assert [(r.contact_id, r.state, r.claimed_by, r.attempts) for r in first] == [
        (world.contacts[1], "claimed", "w1", 1),
        (world.contacts[0], "claimed", "w1", 1),
    ]
    assert first[0].lease_until == NOW + LEASE
    rest = outbox.claim_due(session, NOW, "w2", LEASE, limit=10)
    assert [(r.contact_id, r.claimed_by) for r in rest] == [(world.contacts[2], "w2")]
    assert outbox.claim_due(session, NOW, "w3", LEASE, limit=10) == []
    assert states(session) == {"due": "claimed", "before:7": "pending"}


def test_claimed_rows_are_immutable_snapshots_and_the_claim_is_committed(
    engine: Engine, session: Session, world: World
) -> None:
    outbox.upsert_planned(session, [planned(world, 0)])
    session.commit()
    (claimed,) = outbox.claim_due(session, NOW, "w1", LEASE, 1)
    assert isinstance(claimed, outbox.ClaimedReminder)  # a plain value, not an ORM object
    with pytest.raises(FrozenInstanceError):
        claimed.state = "sent"  # type: ignore[misc]
    assert (claimed.step, claimed.due, claimed.payload) == (
        "due",
        date(2023, 12, 31),
        {"task": "1", "days": 0},
    )
    assert claimed.send_at == NOW and claimed.send_at.tzinfo is not None
    with Session(engine) as other:  # another connection sees the claim
        assert other.exec(select(Reminder.claimed_by)).one() == "w1"


def test_an_expired_lease_is_claimed_again_and_the_late_worker_cannot_finish(
    session: Session, world: World
) -> None:
    outbox.upsert_planned(session, [planned(world, 0)])
    session.commit()
    (mine,) = outbox.claim_due(session, NOW, "slow", LEASE, 10)
    assert mine.id is not None

    assert outbox.claim_due(session, NOW + LEASE, "fast", LEASE, 10) == []  # lease still holds
    (again,) = outbox.claim_due(session, NOW + LEASE + timedelta(seconds=1), "fast", LEASE, 10)
    assert (again.id, again.claimed_by, again.attempts) == (mine.id, "fast", 2)

    assert outbox.mark_sent(session, mine.id, "slow", NOW) is False
    assert outbox.mark_sent(session, mine.id, "fast", NOW, batch_id="msg-1") is True
    assert outbox.mark_sent(session, mine.id, "fast", NOW) is False  # not claimed any more
    session.commit()

    stored = session.exec(select(Reminder)).one()
    assert (stored.state, stored.batch_id, stored.lease_until) == ("sent", "msg-1", None)
    attempts = session.exec(select(DeliveryAttempt)).all()
    assert [(a.outcome, a.batch_id, a.contact_id) for a in attempts] == [
        ("sent", "msg-1", world.contacts[0])
    ]


MarkCall = Callable[[Session, int, str], bool]
LATER = NOW + timedelta(minutes=1)
MARKS: dict[str, MarkCall] = {
    "sent": lambda s, i, w: outbox.mark_sent(s, i, w, LATER, batch_id="b1"),
    "retry": lambda s, i, w: outbox.mark_failed(s, i, w, LATER, "429", NOW + timedelta(hours=1)),
    "give up": lambda s, i, w: outbox.mark_failed(s, i, w, LATER, "400 chat not found", None),
    "unreachable": lambda s, i, w: outbox.mark_unreachable(s, i, w, LATER, "403 bot blocked"),
    "skipped": lambda s, i, w: outbox.mark_skipped(s, i, w, LATER, "task done"),
}
EXPECTED = {
    "sent": ("sent", "sent", None),
    "retry": ("failed", "transient", "429"),
    "give up": ("failed", "permanent", "400 chat not found"),
    "unreachable": ("unreachable", "unreachable", "403 bot blocked"),
    "skipped": ("skipped", None, None),
}


@pytest.mark.parametrize("mark", list(MARKS))
def test_mark_functions_only_work_for_the_claiming_worker(
    session: Session, world: World, mark: str
) -> None:
    outbox.upsert_planned(session, [planned(world, 0)])
    session.commit()
    (claimed,) = outbox.claim_due(session, NOW, "w1", LEASE, 1)
    assert claimed.id is not None

    assert MARKS[mark](session, claimed.id, "intruder") is False
    assert MARKS[mark](session, claimed.id, "w1") is True
    session.commit()

    stored = session.exec(select(Reminder)).one()
    attempts = session.exec(select(DeliveryAttempt)).all()
    state, outcome, error = EXPECTED[mark]
    assert (stored.state, stored.lease_until) == (state, None)
    assert [(a.outcome, a.error, a.at) for a in attempts] == (
        [] if outcome is None else [(outcome, error, LATER)]
    )
    assert stored.skip_reason == ("task done" if mark == "skipped" else None)


def test_a_failed_row_is_retried_only_from_its_retry_time(session: Session, world: World) -> None:
    outbox.upsert_planned(session, [planned(world, 0), planned(world, 1, "before:7")])
    session.commit()
    first, second = outbox.claim_due(session, NOW, "w1", LEASE, 10)
    assert first.id is not None and second.id is not None
    outbox.mark_failed(session, first.id, "w1", NOW, "timeout", retry_at=NOW + timedelta(hours=1))
    outbox.mark_failed(session, second.id, "w1", NOW, "bad request", retry_at=None)
    session.commit()

    later = NOW + timedelta(days=30)
    assert outbox.claim_due(session, NOW + timedelta(minutes=59), "w2", LEASE, 10) == []
    retried = outbox.claim_due(session, NOW + timedelta(hours=1), "w2", LEASE, 10)
    assert [(r.id, r.attempts) for r in retried] == [(first.id, 2)]
    assert outbox.mark_sent(session, first.id, "w2", NOW + timedelta(hours=1))
    session.commit()
    assert outbox.claim_due(session, later, "w3", LEASE, 10) == []  # the other was given up


def test_finished_rows_are_never_claimed_again(session: Session, world: World) -> None:
    outbox.upsert_planned(session, many(world, 3))
    session.commit()
    a, b, c = outbox.claim_due(session, NOW, "w1", LEASE, 10)
    assert a.id and b.id and c.id
    outbox.mark_sent(session, a.id, "w1", NOW)
    outbox.mark_skipped(session, b.id, "w1", NOW, "done")
    outbox.mark_unreachable(session, c.id, "w1", NOW, "blocked")
    session.commit()
    assert outbox.claim_due(session, NOW + timedelta(days=365), "w2", LEASE, 10) == []


def test_claim_due_with_nothing_to_do(session: Session, world: World) -> None:
    assert outbox.claim_due(session, NOW, "w1", LEASE, 10) == []
    outbox.upsert_planned(session, [planned(world, 0)])
    session.commit()
    assert outbox.claim_due(session, NOW, "w1", LEASE, 0) == []


def test_concurrent_workers_claim_every_row_exactly_once(
    engine: Engine, session: Session, world: World
) -> None:
    outbox.upsert_planned(session, many(world, 60))
    session.commit()
    expected = {i for i in session.exec(select(Reminder.id)).all() if i is not None}
    workers = 4
    start = threading.Barrier(workers)
    claimed: dict[str, list[int]] = {}
    errors: list[Exception] = []

    def work(name: str) -> None:
        mine: list[int] = []
        try:
            with Session(engine) as own:
                start.wait(timeout=10)
                while batch := outbox.claim_due(own, NOW, name, LEASE, 3):
                    mine.extend(r.id for r in batch if r.id is not None)
        except Exception as exc:  # reported below, from the test's own thread
            errors.append(exc)
        claimed[name] = mine

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    every = [i for ids in claimed.values() for i in ids]
    assert sorted(every) == sorted(expected)  # nothing missed, nothing twice
    assert len(claimed) == workers


# Row locks exist on PostgreSQL only; SQLite has one writer at a time.
@pytest.mark.parametrize(
    "database", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_postgresql_skips_rows_locked_by_another_worker(
    engine: Engine, session: Session, world: World
) -> None:
    outbox.upsert_planned(session, many(world, 5))
    session.commit()
    ids = session.exec(select(Reminder.id).order_by(col(Reminder.send_at))).all()

    with Session(engine) as holder, Session(engine) as other:
        # Another worker is in the middle of claiming the two oldest rows.
        holder.exec(select(Reminder).where(col(Reminder.id).in_(ids[:2])).with_for_update()).all()
        # Waiting on the lock would be the bug: fail fast instead of hanging.
        other.connection().exec_driver_sql("SET lock_timeout = '2s'")
        taken = outbox.claim_due(other, NOW, "w2", LEASE, 10)
        assert [r.id for r in taken] == ids[2:]
        holder.rollback()

    rest = outbox.claim_due(session, NOW, "w3", LEASE, 10)
    assert [r.id for r in rest] == ids[:2]


def test_claiming_works_without_returning(engine: Engine, session: Session, world: World) -> None:
    outbox.upsert_planned(session, many(world, 4))
    session.commit()
    old = make_engine(engine.url.render_as_string(hide_password=False))
    old.dialect.update_returning = False  # as SQLAlchemy sets it for SQLite before 3.35
    try:
        with Session(old) as legacy:
            first = outbox.claim_due(legacy, NOW, "w1", LEASE, 3)
            second = outbox.claim_due(legacy, NOW, "w1", LEASE, 3)  # same worker, same tick
            assert [r.step for r in first] == ["overdue:0", "overdue:1", "overdue:2"]
            assert [(r.step, r.claimed_by) for r in second] == [("overdue:3", "w1")]
            assert first[0].id is not None
            assert outbox.mark_sent(legacy, first[0].id, "w1", NOW) is True
            legacy.commit()
    finally:
        old.dispose()
    assert states(session)["overdue:0"] == "sent"
