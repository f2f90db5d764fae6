"""Joining: single-use invite codes, binding a chat to an agency and role, and slowing guessers.

A code is random (``secrets.token_urlsafe``: 12 characters of A-Z a-z 0-9 _ -, which fits
Telegram's deep-link payload), expires, and works once. A chat that sends wrong, used or expired
codes again and again is blocked for a while (``ThrottlePolicy``: after every ``max_failures``
failures, for ``block``, doubling each time up to ``max_block``); while blocked, codes are not even
looked at. Every failure gets the same answer, so a guesser learns nothing about which codes exist.
"""

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import Session

from storage.contacts import bind_contact, chat_contacts
from storage.invites import invite_by_code, save_throttle, throttle_of, use_invite
from storage.models import Contact, ContactRole

CODE_BYTES = 9  # 12 characters once encoded
CODE_PATTERN = re.compile(r"[A-Za-z0-9_-]{10,64}")
DEFAULT_EXPIRY = timedelta(days=7)
_DURATION = re.compile(r"\s*(\d+)\s*([a-z]*)\s*")
_UNITS = {
    "": timedelta(days=1),
    "d": timedelta(days=1),
    "ngay": timedelta(days=1),
    "h": timedelta(hours=1),
    "gio": timedelta(hours=1),
    "m": timedelta(minutes=1),
    "min": timedelta(minutes=1),
    "phut": timedelta(minutes=1),
    "w": timedelta(weeks=1),
    "tuan": timedelta(weeks=1),
}


def new_invite_code() -> str:
    return secrets.token_urlsafe(CODE_BYTES)


def looks_like_code(text: str) -> bool:
    """Whether a plain message could be an invite code (one word of the code alphabet)."""
    return CODE_PATTERN.fullmatch(text.strip()) is not None


def parse_expiry(text: str) -> timedelta:
    """ "7d", "12h", "30m", "2w" (also "7 ngay", "12 gio"); a bare number is days."""
    match = _DURATION.fullmatch(text.lower())
    unit = _UNITS.get(match.group(2)) if match else None
    if match is None or unit is None or int(match.group(1)) <= 0:
        raise ValueError(f"thời hạn không hợp lệ: {text!r} (ví dụ: 7d, 12h, 30m)")
    return int(match.group(1)) * unit


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    max_failures: int = 5
    block: timedelta = timedelta(minutes=15)
    max_block: timedelta = timedelta(hours=24)

    def blocked_until(self, failures: int, now: datetime) -> datetime | None:
        """The end of the block that ``failures`` failures earn, or None."""
        if failures < self.max_failures or failures % self.max_failures:
            return None
        rounds = failures // self.max_failures
        doubled: timedelta = self.block * (1 << min(rounds - 1, 20))
        return now + min(doubled, self.max_block)


class JoinOutcome(StrEnum):
    JOINED = "joined"
    ALREADY = "already"  # this chat already used this code and is still bound
    INVALID = "invalid"  # unknown, used, expired or malformed: one answer for all
    THROTTLED = "throttled"


@dataclass(frozen=True, slots=True)
class JoinResult:
    outcome: JoinOutcome
    contact: Contact | None = None
    blocked_until: datetime | None = None


def blocked_until(session: Session, channel: str, chat_id: str, at: datetime) -> datetime | None:
    """When the chat's current block ends, or None when it may try a code now."""
    throttle = throttle_of(session, channel, chat_id)
    if throttle is None or throttle.blocked_until is None or throttle.blocked_until <= at:
        return None
    return throttle.blocked_until


def redeem(
    session: Session,
    *,
    channel: str,
    chat_id: str,
    code: str,
    at: datetime,
    policy: ThrottlePolicy,
    user_id: str | None = None,
    display_name: str = "",
    language: str = "vi",
) -> JoinResult:
    """Try ``code`` for this chat: bind it, or count a failure (and maybe block the chat)."""
    until = blocked_until(session, channel, chat_id, at)
    if until is not None:
        return JoinResult(JoinOutcome.THROTTLED, blocked_until=until)
    code = code.strip()
    invite = invite_by_code(session, code) if CODE_PATTERN.fullmatch(code) else None
    chat = f"{channel}:{chat_id}"
    if invite is not None and invite.id is not None and invite.role in set(ContactRole):
        if invite.used_by_chat == chat:
            for contact in chat_contacts(session, channel, chat_id):
                if contact.agency_code == invite.agency_code and contact.role == invite.role:
                    return JoinResult(JoinOutcome.ALREADY, contact)
        elif use_invite(session, invite.id, chat=chat, at=at):
            contact = bind_contact(
                session,
                agency_code=invite.agency_code,
                role=ContactRole(invite.role),
                channel=channel,
                chat_id=chat_id,
                now=at,
                user_id=user_id,
                display_name=display_name,
                language=language,
            )
            save_throttle(session, channel, chat_id, failures=0, blocked_until=None)
            return JoinResult(JoinOutcome.JOINED, contact)
    previous = throttle_of(session, channel, chat_id)
    failures = (previous.failures if previous is not None else 0) + 1
    until = policy.blocked_until(failures, at)
    save_throttle(session, channel, chat_id, failures=failures, blocked_until=until)
    return JoinResult(JoinOutcome.INVALID, blocked_until=until)
