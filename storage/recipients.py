"""The contact queries reminders need: who receives what, and what a failed delivery changes.

Planning asks for the active contacts and keeps one per person (``one_per_person``); the
dispatcher asks for the contacts of the rows it claimed and for the other contacts of the same
people (``people_of``: where to send when a chat cannot take the message), marks a contact
unreachable when its chat refuses messages, and follows a group that moved to a new chat id.
(Binding chats to contacts is ``storage.contacts``'s business.) Nothing here commits.

One person may be bound on several channels: one contact per channel, sharing a ``person_key``
(and the agency and role they answer for), tried in the order of ``preference``.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlmodel import Session, col, update

from storage.id_lists import among
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
    last_interaction_at: datetime | None = None  # the Zalo interaction window starts here

    @property
    def person(self) -> "PersonKey | None":
        """The person this contact is one chat of, or None when it stands alone."""
        if self.person_key is None:
            return None
        return (self.person_key, self.agency_code, self.role)

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
    col(Contact.last_interaction_at),
)

# A person as the reminders see them: the same person answering for another agency or in
# another role is another recipient (other reminders, another greeting).
PersonKey = tuple[str, str, str]  # person_key, agency code, role


def _infos(session: Session, *where: ColumnElement[bool]) -> list[ContactInfo]:
    # Plain columns, not ORM objects: planning reads every contact every hour.
    rows = session.connection().execute(select(*_COLUMNS).where(*where).order_by(col(Contact.id)))
    return [ContactInfo(*row) for row in rows]


def reachable_contacts(session: Session) -> list[ContactInfo]:
    """Active, reachable contacts, one per person (their preferred reachable one), in id order.

    For showing who receives what (the preview, the console's labels); planning anchors a
    person's reminders with :func:`one_per_person` instead, which does not move when a chat
    becomes unreachable.
    """
    return one_per_person(
        _infos(session, col(Contact.active).is_(True), col(Contact.unreachable).is_(False))
    )


def active_contacts(session: Session) -> list[ContactInfo]:
    """Every active contact, reachable or not, in id order."""
    return _infos(session, col(Contact.active).is_(True))


def _by_preference(contact: ContactInfo) -> tuple[int, int]:
    return (contact.preference, contact.id)


def one_per_person(contacts: Iterable[ContactInfo]) -> list[ContactInfo]:
    """The contacts that receive reminders: one per person, in id order.

    A contact standing alone (no ``person_key``) receives when it can. A person receives when
    any of their contacts can, through their preferred contact (smallest ``preference``, then
    oldest), reachable or not: the reminder is that contact's row, and the dispatcher chooses at
    send time which of the person's chats carries it (``scheduler.dispatcher``). Anchoring on a
    contact that does not change when a chat stops answering keeps each reminder one row: a
    person's rows never move to another contact, so they are never planned twice.
    """
    people: dict[PersonKey, list[ContactInfo]] = defaultdict(list)
    chosen: list[ContactInfo] = []
    for info in contacts:
        if not info.active:
            continue
        person = info.person
        if person is None:
            if info.can_receive:
                chosen.append(info)
        else:
            people[person].append(info)
    for members in people.values():
        if any(member.can_receive for member in members):
            chosen.append(min(members, key=_by_preference))
    return sorted(chosen, key=lambda c: c.id)


def people_of(
    session: Session, contacts: Iterable[ContactInfo]
) -> dict[PersonKey, list[ContactInfo]]:
    """The active contacts of the people ``contacts`` belong to, each by preference then id."""
    keys = {info.person_key for info in contacts if info.person_key is not None}
    if not keys:
        return {}
    found: dict[PersonKey, list[ContactInfo]] = defaultdict(list)
    for info in _infos(
        session, col(Contact.active).is_(True), col(Contact.person_key).in_(sorted(keys))
    ):
        if info.person is not None:
            found[info.person].append(info)
    return {person: sorted(members, key=_by_preference) for person, members in found.items()}


def contacts_by_id(session: Session, ids: Iterable[int]) -> dict[int, ContactInfo]:
    return {
        info.id: info
        for wanted in among(session, col(Contact.id), ids)
        for info in _infos(session, wanted)
    }


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
