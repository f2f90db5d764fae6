"""The question a chat was last asked, so that its next message is read as the answer.

- ``REASON``: the person pressed "blocked"; the next text is the difficulty.
- ``PERCENT``: the person pressed "update %"; the next text is a percentage.
- ``REPLY``: the person picked a task in /report; the next text is the report on it.
- ``PICK``: the bot offered tasks to choose from (``choices``, in the order shown): after /report,
  or to ask which task a reply is about; then ``replies`` holds the messages waiting for that
  answer (text, time and the id of their ``inbound_message`` row), applied in order once a task
  is picked. A task is picked with its button or, on a platform without buttons, by its number.
A question older than ``ttl`` is forgotten: an answer days later is read as a new message. The
messages it held stay in ``inbound_message`` (as "unbound"), so nothing is lost.
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
    inbound_id: int | None = None  # its inbound_message row


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

    def with_reply(self, text: str, at: datetime, inbound_id: int | None = None) -> "ChatState":
        """This state holding one more message; beyond ``MAX_WAITING_REPLIES`` the oldest go."""
        replies = (*self.replies, WaitingReply(text, at, inbound_id))[-MAX_WAITING_REPLIES:]
        return replace(self, since=at, replies=replies)

    def dumps(self) -> str:
        return json.dumps(
            {
                "awaiting": self.awaiting.value,
                "since": self.since.isoformat(),
                "assignment_id": self.assignment_id,
                "occurrence": self.occurrence,
                "replies": [[r.text, r.at.isoformat(), r.inbound_id] for r in self.replies],
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
        replies = tuple(_waiting(item) for item in raw["replies"])
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


def _waiting(item: list[object]) -> WaitingReply:
    """One held message: [text, time] as first stored, or [text, time, inbound id]."""
    body, at, *rest = item
    inbound_id = rest[0] if rest else None
    if inbound_id is not None and not isinstance(inbound_id, int):
        raise ValueError(f"inbound id {inbound_id!r}")
    return WaitingReply(str(body), datetime.fromisoformat(str(at)), inbound_id)
