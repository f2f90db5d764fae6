"""What Telegram says about a chat itself: the bot was blocked or removed, let back in, or moved.

A person who blocks the bot (or a group that removes it) would otherwise be found out only by
the next reminder's failure, possibly days later; Telegram tells the bot at once
(``my_chat_member``), so the contacts of that chat are marked unreachable right away and the
coordinators of the plans their agency works on get a notice through the outbox. The notice's key
is the one the dispatcher uses for a failed delivery, so a coordinator is told once a day either
way. Unblocking the bot makes the chat reachable again. A group upgraded to a supergroup gets a
new chat id, which its contacts follow.

Plain functions on a session: the adapter runs them in a worker thread and commits.
"""

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from scheduler.dispatcher import tell_coordinators_gone
from storage.contacts import chat_contacts, touch
from storage.recipients import mark_unreachable, move_chat

CHANNEL = "telegram"
REASON_BLOCKED = "người dùng đã chặn bot"
REASON_REMOVED = "bot đã bị xóa khỏi nhóm"


def chat_gone(
    session: Session,
    chat_id: str,
    *,
    reason: str,
    at: datetime,
    agency_name: Callable[[str], str],
) -> int:
    """Mark the chat's contacts unreachable and queue the coordinators' notices; their number.

    ``agency_name`` turns an agency code into the name the notice shows.
    """
    queued = 0
    for contact in chat_contacts(session, CHANNEL, chat_id):
        if contact.id is None or not mark_unreachable(session, contact.id, reason):
            continue  # already known to be unreachable: already told
        queued += tell_coordinators_gone(
            session,
            contact,
            channel=CHANNEL,
            chat_id=chat_id,
            error=reason,
            at=at,
            agency_name=agency_name,
        )
    return queued


def chat_back(session: Session, chat_id: str, *, at: datetime) -> int:
    """The bot was let back into the chat: its contacts are reachable again; how many."""
    contacts = chat_contacts(session, CHANNEL, chat_id)
    touch(contacts, at=at, user_id=None, display_name="")
    return len(contacts)


def chat_moved(session: Session, old_chat_id: str, new_chat_id: str) -> int:
    """A group became a supergroup: its contacts follow it; how many moved."""
    contacts = chat_contacts(session, CHANNEL, old_chat_id)
    for contact in contacts:
        if contact.id is not None:
            move_chat(session, contact.id, new_chat_id)
    return len(contacts)
