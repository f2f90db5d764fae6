"""Zalo contacts' interaction window, as kept in the database.

A Zalo OA may write to a user only within a window after the user's last message (see
``domain.channel_choice``). The webhook records each interaction here; follow and unfollow events
open and close the chat; the dispatcher reads a person's contacts to choose where a reminder goes,
and a weekly job can find the contacts whose window is about to close and invite them to reply.

A Zalo contact's ``chat_id`` is the user id the OA sees (the webhook's ``sender.id``), the one the
send API takes as ``recipient.user_id``. Functions here leave committing to the caller.
"""

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_
from sqlmodel import Session, col, or_, select, update

from domain.channel_choice import OUTSIDE_ZALO_WINDOW, InteractionWindow
from storage.models import Channel, Contact

UNFOLLOWED = "đã bỏ quan tâm tài khoản Zalo OA"


def _zalo_user(user_id: str) -> ColumnElement[bool]:
    return and_(
        col(Contact.channel) == Channel.ZALO.value,
        col(Contact.chat_id) == user_id,
        col(Contact.active).is_(True),
    )


def record_interaction(session: Session, user_id: str, at: datetime) -> int:
    """The user wrote at ``at``: move their window forward; the number of contacts touched.

    A contact marked unreachable only because its window had closed is reachable again.
    An older event arriving late never moves the window back.
    """
    moved = session.exec(
        update(Contact)
        .where(
            _zalo_user(user_id),
            or_(
                col(Contact.last_interaction_at).is_(None),
                col(Contact.last_interaction_at) < at,
            ),
        )
        .values(last_interaction_at=at),
        execution_options={"synchronize_session": False},
    ).rowcount
    session.exec(
        update(Contact)
        .where(_zalo_user(user_id), col(Contact.unreachable_reason) == OUTSIDE_ZALO_WINDOW)
        .values(unreachable=False, unreachable_reason=None),
        execution_options={"synchronize_session": False},
    )
    return int(moved)


def mark_followed(session: Session, user_id: str, at: datetime) -> int:
    """The user (re)followed the OA: reachable again, and the follow counts as an interaction."""
    session.exec(
        update(Contact)
        .where(_zalo_user(user_id), col(Contact.unreachable).is_(True))
        .values(unreachable=False, unreachable_reason=None),
        execution_options={"synchronize_session": False},
    )
    return record_interaction(session, user_id, at)


def mark_unfollowed(session: Session, user_id: str) -> int:
    """The user stopped following the OA: the OA can no longer write to them."""
    result = session.exec(
        update(Contact)
        .where(_zalo_user(user_id))
        .values(unreachable=True, unreachable_reason=UNFOLLOWED),
        execution_options={"synchronize_session": False},
    )
    return int(result.rowcount)


def contacts_of_person(session: Session, contact: Contact) -> list[Contact]:
    """All active contacts of the person ``contact`` belongs to, by preference then id.

    Without a ``person_key`` the contact stands alone.
    """
    if contact.person_key is None:
        return [contact] if contact.active else []
    return list(
        session.exec(
            select(Contact)
            .where(col(Contact.person_key) == contact.person_key, col(Contact.active).is_(True))
            .order_by(col(Contact.preference), col(Contact.id))
        )
    )


def closing_soon(
    session: Session, now: datetime, window: InteractionWindow, margin: timedelta
) -> Sequence[Contact]:
    """Reachable Zalo contacts whose window closes within ``margin``: worth a check-in."""
    opened_after = now - window.limit
    closing_before = now - window.limit + margin
    return list(
        session.exec(
            select(Contact)
            .where(
                col(Contact.channel) == Channel.ZALO.value,
                col(Contact.active).is_(True),
                col(Contact.unreachable).is_(False),
                col(Contact.last_interaction_at) >= opened_after,
                col(Contact.last_interaction_at) <= closing_before,
            )
            .order_by(col(Contact.last_interaction_at), col(Contact.id))
        )
    )
