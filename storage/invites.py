"""Single-use invite codes, and the throttle that slows down a chat guessing them.

``use_invite`` marks a code used with one conditional UPDATE (unused and unexpired at that moment),
so a code shared by mistake binds exactly one chat even when two chats send it at once.
Nothing here commits.
"""

from datetime import datetime

from sqlmodel import Session, col, select, update

from storage.models import ChatThrottle, ContactRole, Invite


def add_invite(
    session: Session,
    *,
    code: str,
    agency_code: str,
    role: ContactRole,
    created_at: datetime,
    expires_at: datetime,
) -> Invite:
    invite = Invite(
        code=code,
        agency_code=agency_code,
        role=role.value,
        created_at=created_at,
        expires_at=expires_at,
    )
    session.add(invite)
    session.flush()
    return invite


def invite_by_code(session: Session, code: str) -> Invite | None:
    return session.exec(select(Invite).where(Invite.code == code)).first()


def use_invite(session: Session, invite_id: int, *, chat: str, at: datetime) -> bool:
    """Mark the invite used by ``chat`` if it is still unused and unexpired at ``at``."""
    result = session.connection().execute(
        update(Invite)
        .where(
            col(Invite.id) == invite_id,
            col(Invite.used_at).is_(None),
            col(Invite.expires_at) > at,
        )
        .values(used_at=at, used_by_chat=chat),
        execution_options={"preserve_rowcount": True},
    )
    used = result.rowcount == 1
    if used:
        session.expire_all()
    return used


def throttle_of(session: Session, channel: str, chat_id: str) -> ChatThrottle | None:
    return session.get(ChatThrottle, (channel, chat_id))


def save_throttle(
    session: Session, channel: str, chat_id: str, *, failures: int, blocked_until: datetime | None
) -> ChatThrottle:
    row = throttle_of(session, channel, chat_id)
    if row is None:
        row = ChatThrottle(channel=channel, chat_id=chat_id)
        session.add(row)
    row.failures = failures
    row.blocked_until = blocked_until
    session.flush()
    return row
