"""What every chat channel promises: send a message, say how it went.

The dispatcher (scheduler/) talks only to this interface; Telegram, Zalo, the console and the
recording channel used by tests implement it (bot/). Outcomes are the dispatcher's vocabulary:
SENT; TRANSIENT (retry with backoff); RATE_LIMITED (pause the whole channel for ``retry_after``);
UNREACHABLE (the person blocked the bot, left, or is outside the platform's window: stop and tell
the coordinator); PERMANENT (the message itself is wrong: do not retry).
"""

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class Outcome(StrEnum):
    SENT = "sent"
    TRANSIENT = "transient"
    RATE_LIMITED = "rate_limited"
    UNREACHABLE = "unreachable"
    PERMANENT = "permanent"


@dataclass(frozen=True, slots=True)
class Button:
    label: str
    data: str  # callback payload: ids only, at most 64 bytes (Telegram's limit)

    def __post_init__(self) -> None:
        if not 1 <= len(self.data.encode()) <= 64:
            raise ValueError(f"callback data must be 1..64 bytes: {self.data!r}")


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    chat_id: str
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()  # rows of buttons


@dataclass(frozen=True, slots=True)
class SendResult:
    outcome: Outcome
    message_id: str | None = None
    error: str = ""
    retry_after: float | None = None  # seconds, for RATE_LIMITED
    new_chat_id: str | None = None  # a group that migrated: resend there and remember it


class Channel(Protocol):
    """A chat platform as the dispatcher sees it."""

    @property
    def name(self) -> str: ...  # "telegram", "zalo", "console", "recording"

    @property
    def max_text(self) -> int: ...  # longest text one message may carry

    async def send(self, message: OutgoingMessage) -> SendResult: ...
