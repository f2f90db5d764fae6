"""``storage.id_lists.among`` on both databases: exactly the rows asked for, however many ids."""

from datetime import UTC, datetime

from sqlmodel import Session, col, select

from storage import id_lists
from storage.models import Contact

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def contacts(session: Session, count: int) -> list[int]:
    rows = [
        Contact(agency_code=f"S{i}", channel="telegram", chat_id=str(i), created_at=NOW)
        for i in range(count)
    ]
    session.add_all(rows)
    session.commit()
    return [row.id for row in rows if row.id is not None]


def selected(session: Session, ids: list[int]) -> tuple[int, list[int]]:
    """How many statements ``among`` asks for, and the contact ids they select together."""
    conditions = id_lists.among(session, col(Contact.id), ids)
    found = [
        contact_id
        for condition in conditions
        for contact_id in session.exec(select(Contact.id).where(condition))
        if contact_id is not None
    ]
    return len(conditions), sorted(found)


def test_among_selects_exactly_the_rows_asked_for(session: Session, backend: str) -> None:
    first, second, third = contacts(session, 3)
    assert selected(session, [third, first, third]) == (1, [first, third])
    assert selected(session, []) == (0, [])
    # More ids than one IN list takes on SQLite: several statements there, one array on PostgreSQL.
    many = [second, *range(third + 1, third + 2 * id_lists.CHUNK + 2)]
    statements = 1 if backend == "postgresql" else 3
    assert selected(session, many) == (statements, [second])
