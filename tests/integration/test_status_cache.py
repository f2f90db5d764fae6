"""The per-process status cache (storage.status_cache) stays equal to the database, on SQLite and
PostgreSQL, whoever writes.

Each test holds two caches on one engine, as two processes would, each built before the write.
After the write each must give exactly what ``status_lines`` computes afresh. The kinds of write
that can change a line: a report stored, a review decided, a report deleted, a plan imported or
re-imported (tasks and assignments added, changed, deactivated), a plan's date changed, a task's
precondition met; and a new day. Writes go through the product's own functions where it has one,
through plain SQL where it has none (as an administrator or another tool would).
"""

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, func, insert, select, text, update
from sqlmodel import Session, col

from bot.core.conversation import Conversation
from bot.core.messages import Incoming
from domain.agencies import Agency, AgencyLevel, Directory
from domain.calendar import ZONE, WorkingCalendar
from domain.deadlines import Deadline, DeadlineKind, Frequency
from domain.plan_import import AssignmentDraft, PlanDraft, Role, TaskDraft
from domain.status import State, StatusLine
from scheduler.coordinator_digest import queue_coordinator_digest
from storage import repository
from storage.contacts import bind_contact
from storage.engine import make_engine
from storage.models import Assignment, ContactRole, Plan, ProgressReport, Review, StatusChange, Task
from storage.progress import decide_review
from storage.status_cache import StatusCache, registered, shareable, shared
from storage.status_lines import status_lines

CALENDAR = WorkingCalendar()


def _directory() -> Directory:
    return Directory(
        [
            Agency("A", "Sở A", AgencyLevel.PROVINCE),
            Agency("B", "Sở B", AgencyLevel.PROVINCE),
            Agency(
                "OLD", "Sở Cũ", AgencyLevel.PROVINCE, valid_until=date(2025, 2, 28), successor="B"
            ),
        ],
        [],
    )


DIRECTORY = _directory()
PLAN = "100/KH-UBND"
TODAY = date(2025, 3, 14)  # a Friday
SAVED_AT = datetime(2023, 5, 2, 8, 0, tzinfo=ZONE)

FIXED = Deadline(DeadlineKind.FIXED, "Trước ngày 30/6/2024", due=date(2024, 6, 30))
YEARLY = Deadline(
    DeadlineKind.RECURRING,
    "Hằng năm",
    due=date(2023, 12, 31),
    start=date(2023, 1, 1),
    frequency=Frequency.YEARLY,
)
CONDITIONAL = Deadline(
    DeadlineKind.CONDITIONAL,
    "Năm 2024, sau khi có hướng dẫn",
    due=date(2024, 12, 31),
    precondition="sau khi có hướng dẫn",
    soft_kind=DeadlineKind.PERIOD_END,
)
MID_2025 = Deadline(DeadlineKind.PERIOD_END, "Quý II/2025", due=date(2025, 6, 30))


def task(number: str, deadline: Deadline, *assignments: AssignmentDraft) -> TaskDraft:
    return TaskDraft(number, f"Nhiệm vụ {number}", deadline, assignments)


def lead(code: str) -> AssignmentDraft:
    return AssignmentDraft(code, Role.LEAD)


def support(code: str) -> AssignmentDraft:
    return AssignmentDraft(code, Role.SUPPORT)


TASKS = (
    task("1", FIXED, lead("A"), support("B")),
    task("2", YEARLY, lead("A"), lead("B")),
    task("3", CONDITIONAL, lead("B")),
    task("4", MID_2025, lead("OLD"), lead("B"), support("A")),
)


def draft(*tasks: TaskDraft, number: str = PLAN, issued_on: date = date(2023, 4, 26)) -> PlanDraft:
    return PlanDraft(
        number=number,
        issued_on=issued_on,
        issuer="UBND tỉnh",
        title="Kế hoạch thử",
        source="test",
        coordinator="A",
        tasks=tasks,
    )


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=ZONE)


@pytest.fixture
def db(engine: Engine) -> Engine:
    with Session(engine) as session:
        repository.save_directory(session, DIRECTORY)
        repository.save_plan(session, draft(*TASKS), SAVED_AT)
        session.commit()
    return engine


@pytest.fixture
def caches(db: Engine) -> Iterator[tuple[StatusCache, StatusCache]]:
    """Two processes' caches, each holding today's lines already."""
    first, second = StatusCache(db, CALENDAR), StatusCache(db, CALENDAR)
    for cache in (first, second):
        cache.warm(DIRECTORY, TODAY)
        assert cache.stats.builds == 1
    yield first, second


def expected(engine: Engine, on: date = TODAY) -> list[StatusLine]:
    with Session(engine) as session:
        return status_lines(session, directory=DIRECTORY, calendar=CALENDAR, on=on)


def assert_fresh(engine: Engine, *caches: StatusCache, on: date = TODAY) -> None:
    want = expected(engine, on)
    for cache in caches:
        assert cache.lines(DIRECTORY, on) == want


def assignment_id(engine: Engine, number: str, agency: str, plan: str = PLAN) -> int:
    with Session(engine) as session:
        found = session.exec(
            select(Assignment.id)
            .join(Task, col(Task.id) == col(Assignment.task_id))
            .join(Plan, col(Plan.id) == col(Task.plan_id))
            .where(Task.number == number, Assignment.agency_code == agency, Plan.number == plan)
        ).first()
    assert found is not None
    return int(found[0])


def add_report(
    engine: Engine, number: str, agency: str, kind: str = "done", **extra: object
) -> int:
    with Session(engine) as session:
        row = repository.add_progress(
            session,
            assignment_id=assignment_id(engine, number, agency),
            kind=kind,
            reported_at=at(TODAY, 8),
            **extra,  # type: ignore[arg-type]
        )
        session.commit()
        assert row.id is not None
        return row.id


def state(lines: list[StatusLine], number: str, agency_code: str) -> State:
    found = [line for line in lines if line.task == number and line.agency_code == agency_code]
    return found[-1].result.state


def test_a_cold_cache_gives_what_status_lines_gives(db: Engine) -> None:
    cache = StatusCache(db, CALENDAR)
    lines = cache.lines(DIRECTORY, TODAY)
    assert lines == expected(db)
    assert len(lines) > len(TASKS)  # the yearly task has a line per year
    assert cache.stats.last == "build"


def test_asked_again_with_nothing_written_it_recomputes_nothing_new(
    caches: tuple[StatusCache, StatusCache],
) -> None:
    first, _ = caches
    before = first.stats.tasks_recomputed
    first.lines(DIRECTORY, TODAY)
    first.lines(DIRECTORY, TODAY)
    assert first.stats.builds == 1
    # SQLite reads its last log row again each time (one task at most); PostgreSQL nothing.
    assert first.stats.tasks_recomputed - before <= 2


def test_a_reply_stored_by_another_process_is_seen_by_both_caches(
    db: Engine, caches: tuple[StatusCache, StatusCache]
) -> None:
    assert state(caches[0].lines(DIRECTORY, TODAY), "1", "A") is State.OVERDUE
    add_report(db, "1", "A", review=Review.CONFIRMED)
    assert_fresh(db, *caches)
    assert state(caches[1].lines(DIRECTORY, TODAY), "1", "A") is State.DONE_LATE
    for cache in caches:
        assert cache.stats.builds == 1 and cache.stats.last in {"refresh", "hit"}


def test_two_replies_on_one_task_between_questions_are_both_seen(
    db: Engine, caches: tuple[StatusCache, StatusCache]
) -> None:
    # On SQLite the second reply is folded into the log row of the first: read again.
    first, second = caches
    add_report(db, "2", "A", kind="in_progress", occurrence="2024-12-31")
    assert_fresh(db, first)
    add_report(db, "2", "A", occurrence="2024-12-31", review=Review.CONFIRMED)
    add_report(db, "2", "B", kind="blocked", occurrence="2024-12-31", reason="Thiếu kinh phí")
    assert_fresh(db, first, second)
    assert first.stats.builds == second.stats.builds == 1


def test_a_review_decided_elsewhere_is_seen(
    db: Engine, caches: tuple[StatusCache, StatusCache]
) -> None:
    report_id = add_report(db, "4", "B", review=Review.PENDING)
    assert_fresh(db, *caches)
    assert state(caches[0].lines(DIRECTORY, TODAY), "4", "B") is State.AWAITING_CONFIRMATION
    with Session(db) as session:
        assert decide_review(session, report_id, Review.CONFIRMED, at=at(TODAY, 10), by=None)
        session.commit()
    assert_fresh(db, *caches)
    assert state(caches[1].lines(DIRECTORY, TODAY), "4", "B") is State.DONE_ON_TIME


def test_a_report_deleted_by_hand_is_seen(
    db: Engine, caches: tuple[StatusCache, StatusCache]
) -> None:
    report_id = add_report(db, "1", "B")
    assert_fresh(db, *caches)
    with Session(db) as session:
        session.execute(delete(ProgressReport).where(col(ProgressReport.id) == report_id))
        session.commit()
    assert_fresh(db, *caches)


def test_a_re_import_that_changes_tasks_and_assignments_is_seen(
    db: Engine, caches: tuple[StatusCache, StatusCache]
) -> None:
    changed = (
        task("1", MID_2025, lead("B")),  # new deadline, lead moved from A to B
        task("2", YEARLY, lead("A"), lead("B"), support("OLD")),  # a supporter added
        task("5", FIXED, lead("A")),  # a new task; task 3 and task 4 gone
    )
    with Session(db) as session:
        repository.save_plan(session, draft(*changed), SAVED_AT)  # same time: no plan UPDATE
        session.commit()
    assert_fresh(db, *caches)
    assert {line.task for line in caches[0].lines(DIRECTORY, TODAY)} == {"1", "2", "5"}


def test_a_new_plan_and_a_changed_plan_date_are_seen(
    db: Engine, caches: tuple[StatusCache, StatusCache]
) -> None:
    with Session(db) as session:
        repository.save_plan(session, draft(*TASKS[:2], number="7/KH-UBND"), SAVED_AT)
        session.commit()
    assert_fresh(db, *caches)
    with Session(db) as session:  # the yearly series now starts from a later plan date
        repository.save_plan(
            session, draft(*TASKS, issued_on=date(2024, 6, 1)), SAVED_AT + timedelta(days=1)
        )
        session.commit()
    assert_fresh(db, *caches)
    assert [line.plan for line in caches[1].lines(DIRECTORY, TODAY)][-1] == "7/KH-UBND"


def test_a_precondition_met_set_by_hand_is_seen(
    db: Engine, caches: tuple[StatusCache, StatusCache]
) -> None:
    assert state(caches[0].lines(DIRECTORY, TODAY), "3", "B") is State.WAITING
    with Session(db) as session:
        session.execute(
            update(Task).where(col(Task.number) == "3").values(precondition_met_on=date(2024, 2, 1))
        )
        session.commit()
    assert_fresh(db, *caches)
    assert state(caches[1].lines(DIRECTORY, TODAY), "3", "B") is not State.WAITING


def test_a_new_day_rebuilds(db: Engine, caches: tuple[StatusCache, StatusCache]) -> None:
    first, _ = caches
    monday = TODAY + timedelta(days=3)
    assert first.lines(DIRECTORY, monday) == expected(db, monday)
    assert first.stats.builds == 2 and first.stats.last == "build"
    later = date(2025, 7, 2)  # past the mid-2025 deadline: overdue now
    assert first.lines(DIRECTORY, later) == expected(db, later)
    assert state(first.lines(DIRECTORY, later), "4", "B") is State.OVERDUE


def test_another_directory_rebuilds_an_equal_one_does_not(
    db: Engine, caches: tuple[StatusCache, StatusCache]
) -> None:
    first, _ = caches
    first.lines(_directory(), TODAY)  # loaded again elsewhere: the same agencies
    assert first.stats.builds == 1
    renamed = Directory(
        [
            Agency("A", "Sở A mới", AgencyLevel.PROVINCE),
            *(a for code, a in DIRECTORY.agencies.items() if code != "A"),
        ],
        [],
    )
    lines = first.lines(renamed, TODAY)
    assert first.stats.builds == 2
    assert "Sở A mới" in {line.agency for line in lines}


def test_what_is_not_committed_is_never_cached(
    db: Engine, caches: tuple[StatusCache, StatusCache]
) -> None:
    first, _ = caches
    with Session(db) as session:
        repository.add_progress(
            session,
            assignment_id=assignment_id(db, "1", "A"),
            kind="done",
            reported_at=at(TODAY, 8),
            review="confirmed",
        )
        session.flush()
        if db.dialect.name == "postgresql":  # SQLite would wait for this writer
            assert state(first.lines(DIRECTORY, TODAY), "1", "A") is State.OVERDUE
        session.rollback()
    assert_fresh(db, first)
    assert state(first.lines(DIRECTORY, TODAY), "1", "A") is State.OVERDUE


def test_a_transaction_committing_after_a_later_one_is_still_seen(
    db: Engine, caches: tuple[StatusCache, StatusCache], backend: str
) -> None:
    if backend == "sqlite":
        pytest.skip("SQLite lets one writer in at a time: commits come in log order")
    first, _ = caches
    slow, quick = Session(db), Session(db)
    try:
        repository.add_progress(
            slow,
            assignment_id=assignment_id(db, "1", "A"),
            kind="done",
            reported_at=at(TODAY, 8),
            review="confirmed",
        )
        slow.flush()  # its log row takes the earlier seq
        repository.add_progress(
            quick,
            assignment_id=assignment_id(db, "4", "B"),
            kind="done",
            reported_at=at(TODAY, 8),
            review="confirmed",
        )
        quick.commit()
        assert_fresh(db, first)  # reads past the slow transaction's row, not yet visible
        slow.commit()
    finally:
        slow.close()
        quick.close()
    assert_fresh(db, first)
    assert state(first.lines(DIRECTORY, TODAY), "1", "A") is State.DONE_LATE


def test_a_pruned_log_rebuilds(db: Engine, caches: tuple[StatusCache, StatusCache]) -> None:
    first, _ = caches
    add_report(db, "1", "A")
    with Session(db) as session:
        session.execute(delete(StatusChange))
        session.commit()
    assert_fresh(db, first)
    assert first.stats.builds == 2


def test_a_bulk_import_logs_about_one_row_per_task(db: Engine) -> None:
    many = [Agency(f"X{i}", f"UBND xã {i}", AgencyLevel.COMMUNE) for i in range(300)]
    directory = Directory([*DIRECTORY.agencies.values(), *many], [])
    cache = StatusCache(db, CALENDAR)
    cache.warm(directory, TODAY)
    with Session(db) as session:
        before = session.execute(select(func.count()).select_from(StatusChange)).scalar_one()
        plan_id = repository.save_plan(session, draft(number="9/KH-UBND"), SAVED_AT).plan_id
        tasks = []
        for number in ("1", "2", "3"):
            row = Task(
                plan_id=plan_id,
                number=number,
                title=f"Nhiệm vụ {number}",
                deadline_kind="fixed",
                deadline_text="Năm 2024",
                due=date(2024, 12, 31),
            )
            session.add(row)
            tasks.append(row)
        session.flush()
        session.execute(
            insert(Assignment),
            [
                {"task_id": t.id, "agency_code": a.code, "role": "support", "active": True}
                for t in tasks
                for a in many
            ],
        )
        session.commit()
        after = session.execute(select(func.count()).select_from(StatusChange)).scalar_one()
    assert after - before <= 2 * len(tasks)  # not 900
    lines = cache.lines(directory, TODAY)
    with Session(db) as session:
        assert lines == status_lines(session, directory=directory, calendar=CALENDAR, on=TODAY)
    assert len([line for line in lines if line.plan == "9/KH-UBND"]) == 900


# --- through the chat and the daily digest ----------------------------------------------------


def _conversation(engine: Engine, cache: StatusCache | None = None) -> Conversation:
    return Conversation(
        lambda: Session(engine, expire_on_commit=False), DIRECTORY, CALENDAR, status_cache=cache
    )


def _ask(conversation: Conversation, chat: str, text_: str, when: datetime) -> str:
    out = conversation.handle(Incoming("telegram", chat, when, text=text_, user_id=chat))
    return "\n".join(o.text for o in out)


def test_two_bots_on_one_database_answer_with_each_others_replies(db: Engine) -> None:
    with Session(db) as session:
        bind_contact(
            session,
            agency_code="A",
            role=ContactRole.COORDINATOR,
            channel="telegram",
            chat_id="900",
            now=at(TODAY, 7),
        )
        bind_contact(
            session,
            agency_code="B",
            role=ContactRole.FOCAL,
            channel="telegram",
            chat_id="200",
            now=at(TODAY, 7),
        )
        session.commit()
    one, two = StatusCache(db, CALENDAR), StatusCache(db, CALENDAR)
    bot_one, bot_two = _conversation(db, one), _conversation(db, two)
    before = _ask(bot_one, "900", "/tinhhinh", at(TODAY, 9))
    assert "chờ xác nhận" not in before
    assert "Sở B" in _ask(bot_two, "900", "/quahan", at(TODAY, 9))
    # Sở B reports task 4 done with the second bot's button; the first bot's coordinator asks.
    aid = assignment_id(db, "4", "B")
    pressed = bot_two.handle(
        Incoming(
            "telegram",
            "200",
            at(TODAY, 10),
            user_id="200",
            message_id="77",
            callback_data=f"r:d:{aid}:2025-06-30",
        )
    )
    assert pressed and pressed[0].answer_callback
    after = _ask(bot_one, "900", "/tinhhinh", at(TODAY, 11))
    assert "Trong đó báo cáo hoàn thành chờ xác nhận: 1" in after
    assert one.stats.builds == 1 and one.stats.last == "refresh"
    assert one.lines(DIRECTORY, TODAY) == expected(db) == two.lines(DIRECTORY, TODAY)


def test_the_chat_uses_the_process_cache_and_the_digest_warms_it(db: Engine) -> None:
    with Session(db) as session:
        bind_contact(
            session,
            agency_code="A",
            role=ContactRole.COORDINATOR,
            channel="telegram",
            chat_id="900",
            now=at(TODAY, 7),
        )
        session.commit()
    calendar = WorkingCalendar()  # this test's own: a cache of its own in the process
    conversation = Conversation(lambda: Session(db, expire_on_commit=False), DIRECTORY, calendar)
    assert not [c for c in registered(db) if c.calendar is calendar]
    _ask(conversation, "900", "/tinhhinh", at(TODAY, 9))
    cache = shared(db, calendar)
    assert cache in registered(db) and cache.stats.builds == 1
    monday = TODAY + timedelta(days=3)
    with Session(db) as session:
        queue_coordinator_digest(
            session, directory=_directory(), calendar=calendar, now=at(monday, 8)
        )
        session.commit()
    assert cache.stats.builds == 2  # made for Monday by the digest, with an equal directory
    _ask(conversation, "900", "/tinhhinh", at(monday, 9))
    assert cache.stats.builds == 2 and cache.stats.last in {"hit", "refresh"}


def test_warm_status_builds_the_day_before_the_first_question(db: Engine) -> None:
    cache = StatusCache(db, CALENDAR)
    conversation = _conversation(db, cache)
    conversation.warm_status(at(TODAY, 6))
    assert cache.stats.builds == 1
    assert cache.lines(DIRECTORY, TODAY) == expected(db)
    assert cache.stats.builds == 1


def test_the_log_holds_what_the_triggers_wrote(db: Engine) -> None:
    with Session(db) as session:
        named = session.execute(
            text("SELECT count(*) FROM status_change WHERE task_id IS NOT NULL")
        ).scalar_one()
    assert named >= len(TASKS)  # the import named every task


def test_an_in_memory_database_is_not_cached(tmp_path: Path) -> None:
    # Each connection to "sqlite://" sees its own empty database: the chat computes in its session.
    memory, on_disk = make_engine("sqlite://"), make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        assert not shareable(memory)
        assert shareable(on_disk)
    finally:
        memory.dispose()
        on_disk.dispose()
