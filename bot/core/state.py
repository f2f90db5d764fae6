"""The question a chat was last asked, so that its next message is read as the answer.

- ``REASON``: the person pressed "blocked"; the next text is the difficulty.
- ``PERCENT``: the person pressed "update %"; the next text is a percentage.
- ``PICK``: the bot asked which task a reply is about; ``replies`` holds the messages waiting for
  that answer (text and time), applied in order once a task is picked, so nothing is lost.
A question older than ``ttl`` is forgotten: an answer days later is read as a new message.
Serialised as JSON in ``storage.chat_state``; pure.
"""

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

MAX_WAITING_REPLIES = 10


class Awaiting(StrEnum):
    REASON = "reason"
    PERCENT = "percent"
    PICK = "pick"


@dataclass(frozen=True, slots=True)
class WaitingReply:
    text: str
    at: datetime


@dataclass(frozen=True, slots=True)
class ChatState:
    awaiting: Awaiting
    since: datetime
    assignment_id: int | None = None
    occurrence: str = ""
    replies: tuple[WaitingReply, ...] = field(default=())

    def expired(self, now: datetime, ttl: timedelta) -> bool:
        return now - self.since > ttl

    def with_reply(self, text: str, at: datetime) -> "ChatState":
        replies = (*self.replies, WaitingReply(text, at))[-MAX_WAITING_REPLIES:]
        return ChatState(self.awaiting, at, self.assignment_id, self.occurrence, replies)

    def dumps(self) -> str:
        return json.dumps(
            {
                "awaiting": self.awaiting.value,
                "since": self.since.isoformat(),
                "assignment_id": self.assignment_id,
                "occurrence": self.occurrence,
                "replies": [[r.text, r.at.isoformat()] for r in self.replies],
            },
            ensure_ascii=False,
        )


def loads(text: str | None) -> ChatState | None:
    """The state stored as ``text``; None when there is none or it cannot be read."""
    if not text:
        return None
    try:
        raw = json.loads(text)
        since = datetime.fromisoformat(raw["since"])
        replies = tuple(
            WaitingReply(str(body), datetime.fromisoformat(at)) for body, at in raw["replies"]
        )
        assignment_id = raw["assignment_id"]
        if since.tzinfo is None or any(r.at.tzinfo is None for r in replies):
            return None
        return ChatState(
            Awaiting(raw["awaiting"]),
            since,
            int(assignment_id) if assignment_id is not None else None,
            str(raw["occurrence"]),
            replies,
        )
    except (KeyError, TypeError, ValueError):
        return None
