"""The agency's work list and the chat's storage helpers on the hot path of every message."""

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from bot.core.items import work_items
from domain.deadlines import DeadlineKind
from storage import repository
from storage.chat_state import clear_chat_state, load_chat_state, save_chat_state
from storage.models import ProgressKind, Review
from storage.progress import assignment_refs, digest_items
from tests.integration.conversation_world import CALENDAR, NOW, PLAN, World, directory, make_world

AFTER_MERGER = date(2025, 3, 15)  # Sở Kế hoạch và Đầu tư merged into Sở Tài chính on 1/3/2025


@pytest.fixture
def world(engine: Engine) -> World:
    return make_world(engine)


def _items(session: Session, on: date, open_only: bool) -> list[tuple[str, str, str, bool]]:
    found = work_items(
        session,
        directory=directory(),
        calendar=CALENDAR,
        on=on,
        agency_codes=["STC"],
        open_only=open_only,
    )
    return [(i.line.task, i.ref.agency_code, i.occurrence, i.is_open) for i in found]


def test_open_only_gives_the_open_items_of_the_full_list_in_the_same_order(world: World) -> None:
    with world.session() as session:
        repository.add_progress(
            session,
            assignment_id=world.assignment("1", "STC"),
            kind=ProgressKind.DONE,
            reported_at=NOW - timedelta(days=400),
            review=Review.CONFIRMED,
        )
        session.commit()
        every = _items(session, AFTER_MERGER, open_only=False)
        still_open = _items(session, AFTER_MERGER, open_only=True)
    # Task 4 is Sở Kế hoạch và Đầu tư's, answered for by Sở Tài chính after the merger.
    assert every == [
        ("1", "STC", "2024-06-30", False),
        ("2", "STC", "2024-12-31", True),
        ("4", "SKHDT", "2025-06-30", True),
    ]
    assert still_open == [item for item in every if item[3]]


def test_an_agency_with_nothing_open_gets_an_empty_list(world: World) -> None:
    with world.session() as session:
        for task, agency in (("1", "STC"), ("2", "STC"), ("4", "SKHDT")):
            repository.add_progress(
                session,
                assignment_id=world.assignment(task, agency),
                kind=ProgressKind.DONE,
                reported_at=NOW - timedelta(days=1),
                review=Review.CONFIRMED,
            )
        session.commit()
        assert _items(session, NOW.date(), open_only=True) == []
        assert len(_items(session, NOW.date(), open_only=False)) == 3


def test_assignment_refs_filter_by_agency_id_and_task(world: World) -> None:
    with world.session() as session:
        by_agency = assignment_refs(session, agency_codes=["STC", "SKHDT"])
        only_task_2 = assignment_refs(session, agency_codes=["STC", "SKHDT"], tasks={(PLAN, "2")})
        one = assignment_refs(session, assignment_ids=[world.assignment("3", "STP")])
        none = assignment_refs(session, assignment_ids=[])
    assert [(r.task, r.agency_code, r.role) for r in by_agency] == [
        ("1", "STC", "lead"),
        ("2", "STC", "support"),
        ("4", "SKHDT", "lead"),
    ]
    assert [(r.task, r.agency_code) for r in only_task_2] == [("2", "STC")]
    assert none == []
    [ref] = one
    assert (ref.plan, ref.plan_coordinator, ref.task, ref.title) == (
        PLAN,
        "SNV",
        "3",
        "Rà soát văn bản quy phạm pháp luật",
    )
    assert (ref.deadline.kind, ref.deadline.due, ref.is_series) == (
        DeadlineKind.FIXED,
        date(2023, 12, 31),
        False,
    )


def test_digest_items_of_a_recorded_message_and_of_an_unknown_one(world: World) -> None:
    aid = world.assignment("1", "STC")
    world.digest("100", "55", (aid, "2024-06-30"), (aid, ""))
    with world.session() as session:
        assert digest_items(session, "telegram", "100", "55") == [
            (aid, "2024-06-30"),
            (aid, ""),
        ]
        assert digest_items(session, "telegram", "100", "56") is None
        assert digest_items(session, "telegram", "101", "55") is None


def test_chat_state_is_saved_replaced_cleared_and_rolled_back_with_its_transaction(
    world: World,
) -> None:
    with world.session() as session:
        assert load_chat_state(session, "telegram", "100") is None
        save_chat_state(session, "telegram", "100", '{"a": 1}', NOW)
        save_chat_state(session, "telegram", "100", '{"a": 2}', NOW + timedelta(minutes=1))
        save_chat_state(session, "zalo", "100", '{"z": 1}', NOW)
        session.commit()
    with world.session() as session:
        assert load_chat_state(session, "telegram", "100") == '{"a": 2}'
        assert load_chat_state(session, "zalo", "100") == '{"z": 1}'
        clear_chat_state(session, "telegram", "100")
        save_chat_state(session, "telegram", "300", '{"b": 1}', NOW)
        assert load_chat_state(session, "telegram", "100") is None
        session.rollback()
    with world.session() as session:
        assert load_chat_state(session, "telegram", "100") == '{"a": 2}'  # the clear was undone
        assert load_chat_state(session, "telegram", "300") is None  # and the save
