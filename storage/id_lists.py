"""``column among these ids`` conditions that stay cheap with thousands of ids.

PostgreSQL takes the ids as one array parameter (``column = ANY(:ids)``): an ``IN`` list of
thousands of placeholders costs more to prepare (SQLAlchemy expands it, psycopg parses it again,
uncached, every time) than to run. SQLite has no arrays and caps the values bound per statement,
so there the ids go in ``IN`` lists of at most ``CHUNK``: one condition, hence one statement, each.
"""

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Integer, any_, literal
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped
from sqlmodel import Session

CHUNK = 5000  # ids per IN (...) list: well under every driver's limit on bound values


def among(session: Session, column: Mapped[Any], ids: Iterable[int]) -> list[ColumnElement[bool]]:
    """Conditions that, run one per statement, select the rows whose ``column`` is in ``ids``;
    none for no ids. Each id is taken once, in increasing order."""
    wanted: Sequence[int] = sorted(set(ids))
    if not wanted:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return [column == any_(literal(list(wanted), ARRAY(Integer)))]
    return [column.in_(wanted[start : start + CHUNK]) for start in range(0, len(wanted), CHUNK)]
