"""Remembering webhook events already taken in, so a redelivered event is processed once.

Platforms redeliver an event when our answer is late or lost. The first request to record an
event's id wins; any later one with the same id learns that it is a duplicate. The insert is the
check (a unique constraint), so two requests racing on two server processes cannot both win.
"""

from datetime import datetime
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, delete

from storage.models import InboundEvent


def record_once(session: Session, channel: str, event_id: str, received_at: datetime) -> bool:
    """Record the event; True the first time, False for a duplicate. The caller commits."""
    values = {"channel": channel, "event_id": event_id, "received_at": received_at}
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement: Any = postgresql.insert(InboundEvent).values(values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite.insert(InboundEvent).values(values).on_conflict_do_nothing()
    else:
        raise NotImplementedError(f"record_once does not support {dialect}")
    result = session.connection().execute(statement, execution_options={"preserve_rowcount": True})
    return bool(result.rowcount == 1)


def prune(session: Session, before: datetime) -> int:
    """Forget events received before ``before``; the number forgotten. The caller commits."""
    result = session.exec(
        delete(InboundEvent).where(col(InboundEvent.received_at) < before),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount)
