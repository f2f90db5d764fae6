"""Recording what a dispatch sent, on both databases: messages (a reused id replaces the old row)
and rows marked sent in bulk, each with its audit row, only while the worker holds them."""

from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from storage import outbox, reminder_queries
from storage.models import Contact, DeliveryAttempt, Reminder, SentMessage
from storage.reminder_queries import SentRecord

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=5)


def contact(session: Session, chat: str) -> int:
    row = Contact(agency_code=f"S{chat}", channel="console", chat_id=chat, created_at=NOW)
    session.add(row)
    session.commit()
    assert row.id is not None
    return row.id


def sent(contact_id: int, message_id: str, items: list[list[object]], at: datetime) -> SentRecord:
    return SentRecord("console", "1", message_id, contact_id, f"b-{message_id}", items, at)


def test_a_reused_message_id_replaces_the_old_record(session: Session) -> None:
    first, second = contact(session, "1"), contact(session, "2")
    reminder_queries.record_sent_messages(
        session, [sent(first, "7", [[1, "2026-12-01"]], NOW), sent(first, "8", [], NOW)]
    )
    session.commit()
    later = NOW + timedelta(hours=1)
    # The console restarted: its ids begin again; the last record of one id in a batch wins.
    reminder_queries.record_sent_messages(
        session,
        [sent(first, "7", [[9, "x"]], later), sent(second, "7", [[2, "2026-12-02"]], later)],
    )
    session.commit()

    rows = session.exec(select(SentMessage).order_by(col(SentMessage.message_id))).all()
    assert [(r.message_id, r.contact_id, r.items, r.sent_at) for r in rows] == [
        ("7", second, [[2, "2026-12-02"]], later),
        ("8", first, [], NOW),
    ]
    assert rows[0].batch_id == "b-7"


def test_mark_sent_many_marks_only_rows_held_and_audits_each(session: Session) -> None:
    one, two = contact(session, "1"), contact(session, "2")
    outbox.upsert_planned(
        session,
        [
            Reminder(occurrence=f"w{n}", step="notice", contact_id=who, send_at=NOW,
                     payload={"text": "x"}, created_at=NOW)
            for n, who in enumerate((one, two, one))
        ],
    )  # fmt: skip
    session.commit()
    mine = outbox.claim_due(session, NOW, "w1", LEASE, 2)
    (theirs,) = outbox.claim_due(session, NOW, "w2", LEASE, 10)

    ids = [row.id for row in mine] + [theirs.id]
    marked = reminder_queries.mark_sent_many(session, ids, "w1", NOW, "p-")
    session.commit()

    assert sorted(marked) == sorted((row.id, row.contact_id) for row in mine)
    attempts = session.exec(select(DeliveryAttempt).order_by(col(DeliveryAttempt.reminder_id)))
    assert [(a.reminder_id, a.contact_id, a.outcome, a.batch_id, a.at) for a in attempts] == [
        (row.id, row.contact_id, "sent", f"p-{row.contact_id}", NOW) for row in mine
    ]
    states = dict(session.exec(select(Reminder.id, Reminder.state)).all())
    assert states == {mine[0].id: "sent", mine[1].id: "sent", theirs.id: "claimed"}
