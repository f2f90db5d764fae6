"""A channel that records what it is asked to send: the test double for every platform.

It can be told to fail: a fixed script of outcomes per chat, or a deterministic fraction of
transient failures (seeded), so reliability tests exercise the dispatcher's retries.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from domain.delivery import Outcome, OutgoingMessage, SendResult


@dataclass
class RecordingChannel:
    channel_name: str = "recording"
    limit: int = 4096
    failure_rate: float = 0.0  # fraction of sends that fail with a transient error
    seed: int = 0
    outcome_for: Callable[[OutgoingMessage], SendResult | None] | None = None
    sent: list[OutgoingMessage] = field(default_factory=list)
    attempts: int = 0
    _rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    @property
    def name(self) -> str:
        return self.channel_name

    @property
    def max_text(self) -> int:
        return self.limit

    async def send(self, message: OutgoingMessage) -> SendResult:
        self.attempts += 1
        if self.outcome_for is not None:
            scripted = self.outcome_for(message)
            if scripted is not None:
                return scripted
        if self.failure_rate and self._rng.random() < self.failure_rate:
            return SendResult(Outcome.TRANSIENT, error="simulated network error")
        self.sent.append(message)
        return SendResult(Outcome.SENT, message_id=str(len(self.sent)))

    def texts_for(self, chat_id: str) -> list[str]:
        return [m.text for m in self.sent if m.chat_id == chat_id]
