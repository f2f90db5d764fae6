"""At most one message per second in each chat: Telegram's per-chat flood limit.

PTB's AIORateLimiter paces the whole bot (30/s) and groups (20/min) but lets a burst of messages
to one person through, which Telegram answers with 429 and a pause of the whole token. Each send
reserves the next free slot of its chat and sleeps until it, so concurrent sends to one chat queue
up in order while other chats go ahead. The clock and the sleep are injected: tests pass fakes.
"""

import asyncio
import time
from collections.abc import Awaitable, Callable

PRUNE_ABOVE = 1024  # chats remembered before slots already past are forgotten


class PerChatSpacing:
    def __init__(
        self,
        interval: float = 1.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._sleep = sleep
        self._next_free: dict[str, float] = {}

    async def wait_turn(self, chat_id: str) -> None:
        """Return when a message may go to ``chat_id``; the slot is taken on return."""
        now = self._clock()
        slot = max(now, self._next_free.get(chat_id, now))
        self._next_free[chat_id] = slot + self.interval
        if len(self._next_free) > PRUNE_ABOVE:
            self._forget_before(now)
        if slot > now:
            await self._sleep(slot - now)

    def _forget_before(self, now: float) -> None:
        self._next_free = {chat: free for chat, free in self._next_free.items() if free > now}
