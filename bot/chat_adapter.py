"""What the Telegram and Zalo adapters share around the conversation core.

Answers meant for another chat go to the outbox (``_relay``); database bookkeeping runs in a
worker thread, one transaction a step (``_store``); the service is told when notices were queued
(``on_queued``, so that they leave at once rather than at the next tick).
"""

import asyncio
import logging
from collections.abc import Callable

from sqlmodel import Session

from bot.core.conversation import Conversation, SessionFactory
from bot.core.messages import Outgoing
from bot.typed_buttons import queue_relay
from scheduler.clock import Clock

log = logging.getLogger(__name__)


class ChatAdapter:
    """The shared half of a platform adapter; the platform's class sets these attributes."""

    conversation: Conversation
    on_queued: Callable[[], None] | None
    _session_factory: SessionFactory
    _clock: Clock

    def _relay(self, item: Outgoing, key: str) -> None:
        """Queue ``item`` as an outbox notice for its recipient; the dispatcher sends it."""
        with self._session_factory() as session:
            queued = queue_relay(session, item, key, self._clock.now())
            session.commit()
        if queued:
            self._queued()

    async def _store(self, step: Callable[[Session], int]) -> int:
        """Run one bookkeeping step in a worker thread, in its own transaction."""

        def run() -> int:
            with self._session_factory() as session:
                done = step(session)
                session.commit()
                return done

        return await asyncio.to_thread(run)

    def _queued(self) -> None:
        if self.on_queued is not None:
            try:
                self.on_queued()
            except Exception:
                log.exception("on_queued failed")

    def agency_name(self, code: str) -> str:
        directory = self.conversation.directory
        return directory.display_name(code) if code in directory.agencies else code
