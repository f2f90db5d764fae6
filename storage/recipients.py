"""The contact queries reminders need: who receives what, and what a failed delivery changes.

Planning asks for every contact that can receive messages now (active and reachable); the
dispatcher asks for the contacts of the rows it claimed, marks a contact unreachable when its chat
refuses messages, and follows a group that moved to a new chat id. (Binding chats to contacts is
``storage.contacts``'s business.) Nothing here commits.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, select
from sqlmodel import Session, col, update

from storage.models import Contact, ContactRole


@dataclass(frozen=True, slots=True)
class ContactInfo:
    """A contact as a plain value, safe to pass between threads once its session is closed."""

    id: int
    agency_code: str
    channel: str
    chat_id: str
    display_name: str
    role: str
    language: str
    person_key: str | None
    preference: int
    active: bool
    unreachable: bool
    unreachable_reason: str | None

    @property
    def can_receive(self) -> bool:
        return self.active and not self.unreachable

    @property
    def label(self) -> str:
        """How notices name the person: their name, else the chat."""
        return self.display_name.strip() or f"{self.channel} {self.chat_id}"


_COLUMNS = (
    col(Contact.id),
    col(Contact.agency_code),
    col(Contact.channel),
    col(Contact.chat_id),
    col(Contact.display_name),
    col(Contact.role),
    col(Contact.language),
    col(Contact.person_key),
    col(Contact.preference),
    col(Contact.active),
    col(Contact.unreachable),
    col(Contact.unreachable_reason),
)


def _infos(session: Session, *where: ColumnElement[bool]) -> list[ContactInfo]:
    # Plain columns, not ORM objects: planning reads every contact every hour.
    rows = session.connection().execute(select(*_COLUMNS).where(*where).order_by(col(Contact.id)))
    return [ContactInfo(*row) for row in rows]


def reachable_contacts(session: Session) -> list[ContactInfo]:
    """Active, reachable contacts, in id order.

    One person may have a contact on several channels (same ``person_key``); only their preferred
    reachable one (smallest ``preference``, then oldest) is returned, so that person gets each
    reminder once. When that chat becomes unreachable, the next one takes over at the next planning.
    """
    chosen: dict[tuple[str, str, str], ContactInfo] = {}
    alone: list[ContactInfo] = []
    for info in _infos(session, col(Contact.active).is_(True), col(Contact.unreachable).is_(False)):
        if info.person_key is None:
            alone.append(info)
            continue
        key = (info.person_key, info.agency_code, info.role)
        best = chosen.get(key)
        if best is None or info.preference < best.preference:
            chosen[key] = info
    return sorted([*alone, *chosen.values()], key=lambda c: c.id)


def contacts_by_id(session: Session, ids: Iterable[int]) -> dict[int, ContactInfo]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {info.id: info for info in _infos(session, col(Contact.id).in_(wanted))}


def coordinator_contacts(session: Session, agencies: Iterable[str]) -> list[ContactInfo]:
    """Reachable coordinators of ``agencies``; every reachable coordinator when none of those
    agencies has one (a plan whose coordinating agency was never given a contact)."""
    reachable = (
        col(Contact.role) == ContactRole.COORDINATOR.value,
        col(Contact.active).is_(True),
        col(Contact.unreachable).is_(False),
    )
    codes = sorted(set(agencies))
    if codes:
        found = _infos(session, *reachable, col(Contact.agency_code).in_(codes))
        if found:
            return found
    return _infos(session, *reachable)


def mark_unreachable(session: Session, contact_id: int, reason: str) -> bool:
    """Stop sending to a contact; True when it was reachable until now."""
    result = session.exec(
        update(Contact)
        .where(col(Contact.id) == contact_id, col(Contact.unreachable).is_(False))
        .values(unreachable=True, unreachable_reason=reason),
        execution_options={"synchronize_session": False},
    )
    return result.rowcount == 1


def move_chat(session: Session, contact_id: int, new_chat_id: str) -> None:
    """A Telegram group became a supergroup: its messages now go to ``new_chat_id``."""
    session.exec(
        update(Contact).where(col(Contact.id) == contact_id).values(chat_id=new_chat_id),
        execution_options={"synchronize_session": False},
    )
