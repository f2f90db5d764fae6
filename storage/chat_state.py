"""What a chat is in the middle of (a question the bot asked), kept in the key_value table.

The conversation asks follow-up questions ("what is the difficulty?", "which task?") and must
remember them between messages, across restarts and whichever process receives the answer. One
row per chat, key ``chat:<channel>:<chat_id>``, holding a JSON text the conversation core owns
(``bot.core.state``). No migration was needed: key_value already stores small program state.

Every message reads its chat's row, and most chats have none: each operation is one prepared
statement on the session's connection (no ORM object, no read before a write), in the session's
transaction. Only this module writes ``chat:`` rows, so no ORM copy of one can go stale.
"""

from datetime import datetime

from sqlalchemy import bindparam, delete, insert, select, update
from sqlmodel import Session, col

from storage.models import KeyValue

_LOAD = select(col(KeyValue.value)).where(col(KeyValue.key) == bindparam("key"))
_UPDATE = (
    update(KeyValue)
    .where(col(KeyValue.key) == bindparam("chat_key"))
    .values(value=bindparam("new_value"), updated_at=bindparam("at"))
)
_INSERT = insert(KeyValue)
_DELETE = delete(KeyValue).where(col(KeyValue.key) == bindparam("key"))


def _key(channel: str, chat_id: str) -> str:
    return f"chat:{channel}:{chat_id}"


def load_chat_state(session: Session, channel: str, chat_id: str) -> str | None:
    session.flush()
    row = session.connection().execute(_LOAD, {"key": _key(channel, chat_id)}).first()
    return None if row is None else str(row[0])


def save_chat_state(session: Session, channel: str, chat_id: str, value: str, at: datetime) -> None:
    key = _key(channel, chat_id)
    session.flush()
    connection = session.connection()
    updated = connection.execute(
        _UPDATE,
        {"chat_key": key, "new_value": value, "at": at},
        execution_options={"preserve_rowcount": True},
    )
    if updated.rowcount == 0:
        connection.execute(_INSERT, {"key": key, "value": value, "updated_at": at})


def clear_chat_state(session: Session, channel: str, chat_id: str) -> None:
    session.flush()
    session.connection().execute(_DELETE, {"key": _key(channel, chat_id)})
