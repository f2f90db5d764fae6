"""The contact queries reminders need: who receives what, and what a failed delivery changes.

Planning asks for every contact that can receive messages now (active and reachable); the
dispatcher asks for the contacts of the rows it claimed, marks a contact unreachable when its chat
refuses messages, and follows a group that moved to a new chat id. (Binding chats to contacts is
``storage.contacts``'s business.) Nothing here commits.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlmodel import Session, col, select, update

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


def _info(row: Contact) -> ContactInfo:
    if row.id is None:
        raise RuntimeError("contact without id: flush the session first")
    return ContactInfo(
        id=row.id,
        agency_code=row.agency_code,
        channel=row.channel,
        chat_id=row.chat_id,
        display_name=row.display_name,
        role=row.role,
        language=row.language,
        person_key=row.person_key,
        preference=row.preference,
        active=row.active,
        unreachable=row.unreachable,
        unreachable_reason=row.unreachable_reason,
    )


def reachable_contacts(session: Session) -> list[ContactInfo]:
    """Active, reachable contacts, in id order.

    One person may have a contact on several channels (same ``person_key``); only their preferred
    reachable one (smallest ``preference``, then oldest) is returned, so that person gets each
    reminder once. When that chat becomes unreachable, the next one takes over at the next planning.
    """
    rows = session.exec(
        select(Contact)
        .where(col(Contact.active).is_(True), col(Contact.unreachable).is_(False))
        .order_by(col(Contact.id))
    ).all()
    chosen: dict[tuple[str, str, str], ContactInfo] = {}
    alone: list[ContactInfo] = []
    for row in rows:
        info = _info(row)
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
    rows = session.exec(select(Contact).where(col(Contact.id).in_(wanted))).all()
    return {info.id: info for info in map(_info, rows)}


def coordinator_contacts(session: Session, agencies: Iterable[str]) -> list[ContactInfo]:
    """Reachable coordinators of ``agencies``; every reachable coordinator when none of those
    agencies has one (a plan whose coordinating agency was never given a contact)."""
    query = select(Contact).where(
        Contact.role == ContactRole.COORDINATOR.value,
        col(Contact.active).is_(True),
        col(Contact.unreachable).is_(False),
    )
    codes = sorted(set(agencies))
    if codes:
        found = session.exec(
            query.where(col(Contact.agency_code).in_(codes)).order_by(col(Contact.id))
        ).all()
        if found:
            return [_info(row) for row in found]
    return [_info(row) for row in session.exec(query.order_by(col(Contact.id))).all()]


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
