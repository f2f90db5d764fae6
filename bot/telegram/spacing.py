"""At most one message per second in each chat: Telegram's per-chat flood limit.

The bot's rate limiter keeps the whole bot within 30 messages a second and groups within 20 a
minute (``bot.telegram.pacing``) but knows nothing of chats: a burst of messages to one person
would go through, which Telegram answers with 429 and a pause of the whole token. A send to a
chat takes that chat's turn (``async with spacing.turn(chat)``): one send per chat at a time, in
the order they asked (asyncio locks are first come, first served), each starting ``interval``
after the previous one to that chat *finished*. Counting from the end rather than the start
matters: the global limiter may hold a send back, and a digest's next part must still reach
Telegram a full interval after it, while other chats go ahead meanwhile (and Telegram dates a
message somewhere between the start of its send and the answer). The clock and the sleep are
injected: tests pass fakes.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

PRUNE_ABOVE = 1024  # chats remembered before those idle for a full interval are forgotten


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
        self._finished: dict[str, float] = {}  # chat -> when its last send ended
        self._locks: dict[str, asyncio.Lock] = {}
        self._users: dict[str, int] = {}  # sends holding or waiting for each chat's lock
        self._prune_above = PRUNE_ABOVE

    @asynccontextmanager
    async def turn(self, chat_id: str) -> AsyncIterator[None]:
        """Wait for ``chat_id``'s turn, hold it while the body sends, and date its end."""
        if self.interval <= 0:
            yield
            return
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        self._users[chat_id] = self._users.get(chat_id, 0) + 1
        try:
            async with lock:
                last = self._finished.get(chat_id)
                if last is not None:
                    wait = last + self.interval - self._clock()
                    if wait > 0:
                        await self._sleep(wait)
                try:
                    yield
                finally:
                    self._finished[chat_id] = self._clock()
        finally:
            self._users[chat_id] -= 1
            if self._users[chat_id] == 0:
                del self._users[chat_id], self._locks[chat_id]
            if len(self._finished) > self._prune_above:
                self._forget_idle()

    def _forget_idle(self) -> None:
        """Drop chats nobody is sending to whose interval is over: they may send at once."""
        horizon = self._clock() - self.interval
        self._finished = {
            chat: end
            for chat, end in self._finished.items()
            if end > horizon or chat in self._users
        }
        # Many chats still recent: wait until the memory doubles before scanning again.
        self._prune_above = max(PRUNE_ABOVE, 2 * len(self._finished))
