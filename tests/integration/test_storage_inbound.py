"""storage.inbound on SQLite and PostgreSQL: incoming texts kept with what became of them."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from domain.calendar import ZONE
from storage.contacts import bind_contact
from storage.inbound import (
    abandon,
    abandon_stale,
    attach_report,
    prune_stranger_messages,
    record_message,
    set_disposition,
    unbound_messages,
)
from storage.models import (
    Assignment,
    ContactRole,
    Disposition,
    InboundMessage,
    ProgressKind,
)
from storage.repository import add_progress, save_plan
from tests.integration.conversation_world import NOW, PLAN_DRAFT

CUTOFF = NOW - timedelta(hours=24)


def _contact(session: Session, chat: str, agency: str) -> int:
    contact = bind_contact(
        session,
        agency_code=agency,
        role=ContactRole.FOCAL,
        channel="telegram",
        chat_id=chat,
        now=NOW - timedelta(days=30),
    )
    assert contact.id is not None
    return contact.id


def _message(
    session: Session,
    chat: str,
    at: datetime,
    disposition: Disposition,
    text: str = "được 30%",
    contact_id: int | None = None,
) -> int:
    row = record_message(
        session,
        channel="telegram",
        chat_id=chat,
        text=text,
        received_at=at,
        disposition=disposition,
        user_id=chat,
        contact_id=contact_id,
    )
    assert row.id is not None
    return row.id


def _dispositions(session: Session) -> dict[int, str]:
    rows = session.exec(select(InboundMessage).order_by(col(InboundMessage.id)))
    return {row.id or 0: row.disposition for row in rows}


def test_a_message_is_stored_as_written_with_an_aware_time(session: Session) -> None:
    contact = _contact(session, "100", "STC")
    text = "  Đã ban hành QĐ số 12/QĐ-UBND\n(kèm file)  "
    message_id = _message(session, "100", NOW, Disposition.UNBOUND, text, contact)
    session.commit()
    session.expire_all()
    row = session.get(InboundMessage, message_id)
    assert row is not None
    assert (row.channel, row.chat_id, row.user_id, row.contact_id) == ("telegram", "100", "100",
                                                                       contact)
    assert row.text == text and row.received_at == NOW and row.received_at.tzinfo is not None
    assert (row.disposition, row.progress_report_id) == ("unbound", None)


def test_the_database_refuses_an_unknown_disposition(session: Session) -> None:
    session.add(InboundMessage(channel="telegram", chat_id="1", text="x", received_at=NOW,
                               disposition="lost"))
    with pytest.raises(IntegrityError):
        session.flush()


@pytest.mark.parametrize(("kind", "expected"), [(ProgressKind.DONE, "report"),
                                                (ProgressKind.NOTE, "note")])
def test_a_message_that_became_a_report_points_to_it(
    session: Session, kind: ProgressKind, expected: str
) -> None:
    save_plan(session, PLAN_DRAFT, NOW - timedelta(days=300))
    contact = _contact(session, "100", "STC")
    message_id = _message(session, "100", NOW, Disposition.PENDING)
    aid = session.exec(select(Assignment.id).where(Assignment.agency_code == "STC")).first()
    assert aid is not None
    report = add_progress(session, assignment_id=aid, occurrence="2024-06-30", kind=kind,
                          reported_at=NOW, text="xong", contact_id=contact)
    attach_report(session, message_id, report)
    session.commit()
    row = session.get(InboundMessage, message_id)
    assert row is not None and (row.disposition, row.progress_report_id) == (expected, report.id)


def test_abandoning_marks_only_held_messages_and_returns_them_oldest_first(
    session: Session,
) -> None:
    held_late = _message(session, "100", NOW, Disposition.PENDING, "sau")
    held_early = _message(session, "100", NOW - timedelta(minutes=5), Disposition.PENDING, "trước")
    swept = _message(session, "100", NOW - timedelta(minutes=9), Disposition.UNBOUND, "quét")
    command = _message(session, "100", NOW, Disposition.COMMAND, "/viec")
    set_disposition(session, command, Disposition.COMMAND)

    rows = abandon(session, [held_late, held_early, swept, command, 999])
    assert [row.text for row in rows] == ["quét", "trước", "sau"]
    assert _dispositions(session) == {held_late: "unbound", held_early: "unbound",
                                      swept: "unbound", command: "command"}
    assert abandon(session, []) == []


def test_stale_questions_leave_their_held_messages_unbound(session: Session) -> None:
    # Chat 100 was last asked 26 h ago; chat 200 was asked again an hour ago (its question, and
    # all it holds, is still open); chat 300 holds one message from two hours ago.
    old_a = _message(session, "100", NOW - timedelta(hours=30), Disposition.PENDING)
    old_b = _message(session, "100", NOW - timedelta(hours=26), Disposition.PENDING)
    kept_a = _message(session, "200", NOW - timedelta(hours=30), Disposition.PENDING)
    kept_b = _message(session, "200", NOW - timedelta(hours=1), Disposition.PENDING)
    recent = _message(session, "300", NOW - timedelta(hours=2), Disposition.PENDING)
    report = _message(session, "100", NOW - timedelta(hours=40), Disposition.COMMAND)
    loaded = session.get(InboundMessage, old_a)
    assert loaded is not None and loaded.disposition == "pending"

    assert abandon_stale(session, before=CUTOFF) == 2
    assert loaded.disposition == "unbound"  # a row already loaded shows the change
    assert _dispositions(session) == {old_a: "unbound", old_b: "unbound", kept_a: "pending",
                                      kept_b: "pending", recent: "pending", report: "command"}
    assert abandon_stale(session, before=CUTOFF) == 0


def test_unbound_messages_are_listed_newest_first_with_their_agency(session: Session) -> None:
    stc, stp = _contact(session, "100", "STC"), _contact(session, "300", "STP")
    week = NOW - timedelta(days=7)
    for hours, chat, contact in [(1, "100", stc), (50, "300", stp), (3, "100", stc)]:
        _message(session, chat, NOW - timedelta(hours=hours), Disposition.UNBOUND,
                 f"{hours} giờ trước", contact)
    _message(session, "100", week - timedelta(minutes=1), Disposition.UNBOUND, "cũ", stc)
    _message(session, "555", NOW, Disposition.STRANGER, "người lạ")
    _message(session, "666", NOW, Disposition.UNBOUND, "không có đầu mối")  # no contact
    _message(session, "100", NOW, Disposition.PENDING, "đang chờ", stc)
    _message(session, "100", NOW, Disposition.COMMAND, "/viec", stc)

    listed, total = unbound_messages(session, since=week, limit=2)
    assert total == 3
    assert [(m.agency_code, m.text) for m in listed] == [("STC", "1 giờ trước"),
                                                         ("STC", "3 giờ trước")]
    assert listed[0].received_at == NOW - timedelta(hours=1)
    assert listed[0].received_at.astimezone(ZONE).hour == 8
    everything, _ = unbound_messages(session, since=week, limit=10)
    assert [m.text for m in everything][-1] == "50 giờ trước"


def test_pruning_forgets_old_and_surplus_stranger_texts_and_keeps_bound_chats(
    session: Session,
) -> None:
    contact = _contact(session, "100", "STC")
    bound_old = _message(session, "100", NOW - timedelta(days=400), Disposition.UNBOUND,
                         contact_id=contact)
    stranger_old = _message(session, "900", NOW - timedelta(days=100), Disposition.STRANGER)
    flood = [_message(session, "901", NOW - timedelta(minutes=m), Disposition.STRANGER, f"{m}")
             for m in range(5)]
    quiet = _message(session, "902", NOW - timedelta(days=1), Disposition.STRANGER)
    session.commit()

    gone = prune_stranger_messages(session, before=NOW - timedelta(days=90), keep_per_chat=3)
    session.commit()

    left = _dispositions(session)
    assert gone == 3
    assert bound_old in left and quiet in left and stranger_old not in left
    # the flooding chat keeps its three newest texts (written 0, 1 and 2 minutes ago)
    assert [m for m in flood if m in left] == flood[:3]
    assert prune_stranger_messages(session, before=NOW - timedelta(days=90), keep_per_chat=3) == 0
