"""What a chat is in the middle of (a question the bot asked), kept in the key_value table.

The conversation asks follow-up questions ("what is the difficulty?", "which task?") and must
remember them between messages, across restarts and whichever process receives the answer. One
row per chat, key ``chat:<channel>:<chat_id>``, holding a JSON text the conversation core owns
(``bot.core.state``). No migration was needed: key_value already stores small program state.
"""

from datetime import datetime

from sqlmodel import Session

from storage.models import KeyValue


def _key(channel: str, chat_id: str) -> str:
    return f"chat:{channel}:{chat_id}"


def load_chat_state(session: Session, channel: str, chat_id: str) -> str | None:
    row = session.get(KeyValue, _key(channel, chat_id))
    return None if row is None else row.value


def save_chat_state(session: Session, channel: str, chat_id: str, value: str, at: datetime) -> None:
    key = _key(channel, chat_id)
    row = session.get(KeyValue, key)
    if row is None:
        session.add(KeyValue(key=key, value=value, updated_at=at))
    else:
        row.value = value
        row.updated_at = at
    session.flush()


def clear_chat_state(session: Session, channel: str, chat_id: str) -> None:
    row = session.get(KeyValue, _key(channel, chat_id))
    if row is not None:
        session.delete(row)
        session.flush()
