"""Who is bound to which chat: contacts of agencies, with their role and language.

A chat may hold several contacts (one person answering for two agencies, or a coordinator who is
also a focal point). Contacts are deactivated, never deleted, so reports keep their author. Nothing
here commits.
"""

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from storage.models import Contact, ContactRole

# Built once: every message starts with this query (its cache key is computed once too).
_CHAT_CONTACTS = (
    select(Contact)
    .where(
        col(Contact.channel) == bindparam("channel"),
        col(Contact.chat_id) == bindparam("chat_id"),
        col(Contact.active).is_(True),
    )
    .order_by(col(Contact.id))
)


def chat_contacts(session: Session, channel: str, chat_id: str) -> list[Contact]:
    """The active contacts bound to one chat, oldest first."""
    return list(session.exec(_CHAT_CONTACTS, params={"channel": channel, "chat_id": chat_id}))


def bind_contact(
    session: Session,
    *,
    agency_code: str,
    role: ContactRole,
    channel: str,
    chat_id: str,
    now: datetime,
    user_id: str | None = None,
    display_name: str = "",
    language: str = "vi",
) -> Contact:
    """The contact for (channel, chat, agency, role): created, or reactivated if it existed."""
    contact = session.exec(
        select(Contact).where(
            Contact.channel == channel,
            Contact.chat_id == chat_id,
            Contact.agency_code == agency_code,
            Contact.role == role.value,
        )
    ).first()
    if contact is None:
        contact = Contact(
            agency_code=agency_code,
            channel=channel,
            chat_id=chat_id,
            role=role.value,
            language=language,
            created_at=now,
        )
        session.add(contact)
    contact.active = True
    contact.unreachable = False
    contact.unreachable_reason = None
    contact.user_id = user_id or contact.user_id
    contact.display_name = display_name or contact.display_name
    contact.last_interaction_at = now
    session.flush()
    return contact


_COORDINATORS = (
    select(Contact)
    .where(col(Contact.role) == ContactRole.COORDINATOR.value, col(Contact.active).is_(True))
    .order_by(col(Contact.id))
)


def coordinators(session: Session) -> list[Contact]:
    """Active coordinators, oldest first."""
    return list(session.exec(_COORDINATORS))


def agency_contacts(
    session: Session,
    agency_codes: Collection[str],
    roles: Collection[ContactRole] = (ContactRole.FOCAL, ContactRole.HEAD),
) -> list[Contact]:
    """Active contacts of those agencies in those roles, oldest first."""
    return list(
        session.exec(
            select(Contact)
            .where(
                col(Contact.agency_code).in_(list(agency_codes)),
                col(Contact.role).in_([r.value for r in roles]),
                col(Contact.active).is_(True),
            )
            .order_by(col(Contact.id))
        )
    )


def list_contacts(session: Session, *, include_inactive: bool = False) -> list[Contact]:
    query = select(Contact)
    if not include_inactive:
        query = query.where(col(Contact.active).is_(True))
    return list(session.exec(query.order_by(col(Contact.agency_code), col(Contact.id))))


def revoke_contact(session: Session, contact_id: int) -> Contact | None:
    """Deactivate a contact; None when there is no such contact."""
    contact = session.get(Contact, contact_id)
    if contact is None:
        return None
    contact.active = False
    session.flush()
    return contact


class LinkError(ValueError):
    """Contacts that cannot be one person; the message says why."""


def link_contacts(session: Session, contact_ids: Sequence[int]) -> list[Contact]:
    """Make these contacts one person, tried in the given order (the first is preferred).

    They must be active, of one agency and role, and on different channels: a person's digest
    then goes out once, on the first of their chats that can take it.
    """
    if len(contact_ids) < 2 or len(set(contact_ids)) != len(contact_ids):
        raise LinkError("cần ít nhất hai liên hệ khác nhau")
    contacts: list[Contact] = []
    for contact_id in contact_ids:
        contact = session.get(Contact, contact_id)
        if contact is None or not contact.active:
            raise LinkError(f"không có liên hệ số {contact_id} đang hoạt động")
        contacts.append(contact)
    first = contacts[0]
    if any((c.agency_code, c.role) != (first.agency_code, first.role) for c in contacts):
        raise LinkError("các liên hệ phải cùng cơ quan và cùng vai trò")
    if len({c.channel for c in contacts}) != len(contacts):
        raise LinkError("mỗi kênh (Telegram, Zalo...) chỉ một liên hệ cho một người")
    key = first.person_key or f"person-{first.id}"
    for preference, contact in enumerate(contacts):
        contact.person_key = key
        contact.preference = preference
    session.flush()
    return contacts


def touch(
    contacts: Collection[Contact], *, at: datetime, user_id: str | None, display_name: str
) -> None:
    """Record that the chat just wrote: it is reachable (again), and its last interaction."""
    for contact in contacts:
        contact.last_interaction_at = at
        if contact.unreachable:
            contact.unreachable = False
            contact.unreachable_reason = None
        if user_id and not contact.user_id:
            contact.user_id = user_id
        if display_name and not contact.display_name:
            contact.display_name = display_name
