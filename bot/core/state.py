"""The question a chat was last asked, so that its next message is read as the answer.

- ``REASON``: the person pressed "blocked"; the next text is the difficulty.
- ``PERCENT``: the person pressed "update %"; the next text is a percentage.
- ``REPLY``: the person picked a task in /report; the next text is the report on it.
- ``PICK``: the bot offered tasks to choose from (``choices``, in the order shown): after /report,
  or to ask which task a reply is about; then ``replies`` holds the messages waiting for that
  answer (text and time), applied in order once a task is picked, so nothing is lost. A task is
  picked with its button or, on a platform without buttons, by sending its number.
A question older than ``ttl`` is forgotten: an answer days later is read as a new message.
Serialised as JSON in ``storage.chat_state``; pure.
"""

import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

MAX_WAITING_REPLIES = 10


class Awaiting(StrEnum):
    REASON = "reason"
    PERCENT = "percent"
    REPLY = "reply"
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
    choices: tuple[tuple[int, str], ...] = field(default=())  # (assignment id, occurrence)

    def expired(self, now: datetime, ttl: timedelta) -> bool:
        return now - self.since > ttl

    def with_reply(self, text: str, at: datetime) -> "ChatState":
        replies = (*self.replies, WaitingReply(text, at))[-MAX_WAITING_REPLIES:]
        return replace(self, since=at, replies=replies)

    def dumps(self) -> str:
        return json.dumps(
            {
                "awaiting": self.awaiting.value,
                "since": self.since.isoformat(),
                "assignment_id": self.assignment_id,
                "occurrence": self.occurrence,
                "replies": [[r.text, r.at.isoformat()] for r in self.replies],
                "choices": [list(choice) for choice in self.choices],
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
        choices = tuple((int(aid), str(occurrence)) for aid, occurrence in raw.get("choices", []))
        if since.tzinfo is None or any(r.at.tzinfo is None for r in replies):
            return None
        return ChatState(
            Awaiting(raw["awaiting"]),
            since,
            int(assignment_id) if assignment_id is not None else None,
            str(raw["occurrence"]),
            replies,
            choices,
        )
    except (AttributeError, KeyError, TypeError, ValueError):
        return None
