"""Which of a person's chats can take a message now: the Zalo interaction window and fallbacks.

A Zalo Official Account may write to a user only for a while after the user last wrote to it (free
for 48 hours, billed up to 7 days, refused afterwards). A reminder due for someone silent longer
than that must not be attempted on Zalo and must not vanish either: it goes to the same person's
next channel (Telegram, say), and when there is none the person is reported as unreachable.

One person bound on several channels has one contact per channel, sharing a ``person_key`` and
ordered by ``preference`` (smallest first). The dispatcher asks :func:`choose_channel` for the
contact to use; ``None`` means nobody can be reached and the coordinator must be told.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar

ZALO = "zalo"
# The reason stored on the reminder and shown to coordinators; also the start of the error text
# of a send that Zalo refused for the same cause (-230/-232), so both read the same.
OUTSIDE_ZALO_WINDOW = "ngoài thời hạn tương tác Zalo"

ZALO_FREE_WINDOW = timedelta(hours=48)
ZALO_LONGEST_WINDOW = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class InteractionWindow:
    """How long after a user's last message the OA may still write to them.

    ``limit`` is the setting (48 hours to stay free of charge, up to 7 days at most); ``free`` is
    only informative, for telling a billed message from a free one.
    """

    limit: timedelta = ZALO_LONGEST_WINDOW
    free: timedelta = ZALO_FREE_WINDOW

    def __post_init__(self) -> None:
        if not timedelta(0) < self.limit <= ZALO_LONGEST_WINDOW:
            raise ValueError(f"the Zalo window must be within 7 days, not {self.limit}")

    def is_open(self, last_interaction_at: datetime | None, now: datetime) -> bool:
        """True when the user wrote within the window; a user who never wrote cannot be reached."""
        if last_interaction_at is None:
            return False
        return now - last_interaction_at <= self.limit

    def is_free(self, last_interaction_at: datetime | None, now: datetime) -> bool:
        if last_interaction_at is None:
            return False
        return now - last_interaction_at <= min(self.free, self.limit)

    def closes_at(self, last_interaction_at: datetime) -> datetime:
        return last_interaction_at + self.limit

    def closes_within(
        self, last_interaction_at: datetime | None, now: datetime, margin: timedelta
    ) -> bool:
        """Still open, but closing within ``margin``: time for a check-in inviting a reply."""
        if last_interaction_at is None or not self.is_open(last_interaction_at, now):
            return False
        return self.closes_at(last_interaction_at) - now <= margin


class ChannelContact(Protocol):
    """What the choice needs to know of a contact (``storage.models.Contact`` has all of it)."""

    @property
    def channel(self) -> str: ...

    @property
    def preference(self) -> int: ...

    @property
    def unreachable(self) -> bool: ...

    @property
    def active(self) -> bool: ...

    @property
    def last_interaction_at(self) -> datetime | None: ...


ContactT = TypeVar("ContactT", bound=ChannelContact)


def can_take(contact: ChannelContact, now: datetime, window: InteractionWindow) -> bool:
    """Whether a message to ``contact`` may be attempted at ``now``."""
    if not contact.active or contact.unreachable:
        return False
    if contact.channel == ZALO:
        return window.is_open(contact.last_interaction_at, now)
    return True


def choose_channel(
    contacts_of_person: Iterable[ContactT], now: datetime, window: InteractionWindow
) -> ContactT | None:
    """The first of one person's contacts, by preference, that can take a message; else None.

    Contacts with equal preference keep the order given (the caller's stable order, such as ids).
    """
    ordered = sorted(contacts_of_person, key=lambda contact: contact.preference)
    return next((contact for contact in ordered if can_take(contact, now, window)), None)


def unreachable_reason(
    contacts_of_person: Iterable[ChannelContact], now: datetime, window: InteractionWindow
) -> str:
    """Why :func:`choose_channel` found nobody, in words for the coordinator's digest."""
    contacts = [contact for contact in contacts_of_person if contact.active]
    if not contacts:
        return "chưa đăng ký kênh nhận tin"
    # A Zalo chat closed by silence is the one the person can reopen: say so first.
    if any(
        c.channel == ZALO and not c.unreachable and not window.is_open(c.last_interaction_at, now)
        for c in contacts
    ):
        return OUTSIDE_ZALO_WINDOW
    return "không liên lạc được trên kênh nào đã đăng ký"
