"""The Zalo side of the conversation: webhook events in, through the core, answers out.

``bot.webhooks`` checks each Zalo event (signature, duplicates), keeps the interaction window, and
hands the rest to the callbacks of a ``ZaloWebhook``; ``ZaloAdapter`` provides them:

- a text becomes an ``Incoming`` (chat and user are the OA-scoped user id) and
  ``Conversation.handle`` runs in a worker thread (it does database work), one message of a user
  at a time, in the order they came;
- each ``Outgoing`` is carried out: to a Zalo chat through ``ZaloChannel``, to anyone on another
  platform (a coordinator on Telegram) as an outbox notice that the dispatcher delivers, buttons
  included (``bot.typed_buttons.relay_payload``). Zalo messages carry no buttons: a task
  picker's buttons become numbered lines, which the core takes back as a number ("which task?":
  "2"), a completion's confirm/return buttons the "/xacnhan <n>" that does the same; other
  buttons have a typed equivalent the text names;
- a notification to another Zalo user that Zalo refuses (window closed, not a follower, an
  error) is queued in the outbox too: the dispatcher retries it, carries it to the person's other
  chat, or marks the person unreachable and tells the coordinators; nothing is dropped. A failed
  answer to the sender is only logged: what they did is stored, and they can ask again;
- a follow by someone not bound yet is greeted with how to join; an unfollow (the chat is already
  marked unreachable by the webhook) is reported to the coordinators, as a blocked Telegram bot is.

``ZaloAdapter.connect`` builds the channel the dispatcher also uses (tokens in the database,
httpx clients); ``aclose`` closes those clients.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime

import httpx
from sqlalchemy import Engine
from sqlmodel import Session

from bot.chat_adapter import ChatAdapter
from bot.core.conversation import Conversation, SessionFactory
from bot.core.messages import Incoming, Outgoing
from bot.typed_buttons import has_review, pick_lines, recipients, review_hint
from bot.webhooks import ZaloWebhook
from bot.zalo.channel import ZaloChannel
from bot.zalo.client import DEFAULT_API_BASE, ZaloClient
from bot.zalo.tokens import ZaloTokens
from domain.delivery import Outcome, OutgoingMessage
from domain.i18n import DEFAULT_LANG, t
from scheduler.clock import Clock, SystemClock
from scheduler.dispatcher import tell_coordinators_gone
from storage.contacts import chat_contacts
from storage.models import Contact
from storage.zalo_window import UNFOLLOWED

log = logging.getLogger(__name__)

CHANNEL = "zalo"
DEFAULT_OAUTH_BASE = "https://oauth.zaloapp.com"


def zalo_text(item: Outgoing, lang: str = DEFAULT_LANG) -> str:
    """The text of ``item`` as Zalo shows it: a task picker's buttons become numbered lines, a
    completion's confirm/return buttons the commands that do the same (in ``lang``)."""
    picks = pick_lines(item.buttons)
    text = "\n".join([item.text, *picks]) if picks else item.text
    hint = review_hint(item.buttons, lang)
    return f"{text}\n\n{hint}" if hint else text


def zalo_unfollowed(
    session: Session, user_id: str, *, at: datetime, agency_name: Callable[[str], str]
) -> int:
    """Tell the coordinators that the contacts of ``user_id`` left the OA; notices queued.

    The webhook has marked the contacts unreachable already. The notice's key is the one the
    dispatcher uses for a failed delivery, so a coordinator is told once a day either way.
    """
    queued = 0
    for contact in chat_contacts(session, CHANNEL, user_id):
        queued += tell_coordinators_gone(
            session,
            contact,
            channel=CHANNEL,
            chat_id=user_id,
            error=contact.unreachable_reason or UNFOLLOWED,
            at=at,
            agency_name=agency_name,
        )
    return queued


class _OneAtATime:
    """A lock per user, forgotten once nobody waits on it: one user's messages in order."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, user_id: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(user_id, (asyncio.Lock(), 0))
        self._locks[user_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[user_id]
            if users == 1:
                del self._locks[user_id]
            else:
                self._locks[user_id] = (lock, users - 1)


class ZaloAdapter(ChatAdapter):
    """The Zalo OA around the conversation core (see the module docstring).

    ``session_factory`` opens the sessions of the adapter's own bookkeeping (notices);
    ``on_queued`` is called when notices were put in the outbox (the service asks for a dispatch
    tick); ``closers`` are awaited by ``aclose`` (the http clients ``connect`` opened).
    """

    def __init__(
        self,
        conversation: Conversation,
        channel: ZaloChannel,
        *,
        session_factory: SessionFactory,
        clock: Clock | None = None,
        on_queued: Callable[[], None] | None = None,
        closers: Sequence[Callable[[], Awaitable[None]]] = (),
    ) -> None:
        self.conversation = conversation
        self.channel = channel
        self.on_queued = on_queued
        self._session_factory = session_factory
        self._clock: Clock = clock or SystemClock()
        self._closers = list(closers)
        self._users = _OneAtATime()

    @classmethod
    def connect(
        cls,
        engine: Engine,
        conversation: Conversation,
        *,
        session_factory: SessionFactory,
        app_id: str,
        secret_key: str,
        api_base: str = DEFAULT_API_BASE,
        oauth_base: str = DEFAULT_OAUTH_BASE,
        clock: Clock | None = None,
    ) -> "ZaloAdapter":
        """The adapter with its own channel: tokens kept in ``engine``'s database, new clients."""
        clock = clock or SystemClock()
        token_http = httpx.Client()
        send_http = httpx.AsyncClient()
        tokens = ZaloTokens(
            engine,
            token_http,
            app_id=app_id,
            secret_key=secret_key,
            oauth_base=oauth_base,
            clock=clock.now,
        )
        channel = ZaloChannel(ZaloClient(send_http, tokens, api_base=api_base))

        async def close_token_http() -> None:
            token_http.close()

        return cls(
            conversation,
            channel,
            session_factory=session_factory,
            clock=clock,
            closers=(send_http.aclose, close_token_http),
        )

    async def aclose(self) -> None:
        closers, self._closers = self._closers, []
        for close in closers:
            await close()

    def webhook(
        self,
        engine: Engine,
        *,
        app_id: str,
        oa_secret_key: str,
        verify_signature: bool = True,
    ) -> ZaloWebhook:
        """The endpoint's settings, with this adapter's callbacks."""
        return ZaloWebhook(
            engine=engine,
            app_id=app_id,
            oa_secret_key=oa_secret_key,
            on_text=self.on_text,
            on_follow=self.on_follow,
            on_unfollow=self.on_unfollow,
            verify_signature=verify_signature,
            clock=self._clock.now,
        )

    # --- events -------------------------------------------------------------------------------

    async def on_text(self, user_id: str, text: str, msg_id: str, at: datetime) -> None:
        incoming = Incoming(
            channel=CHANNEL,
            chat_id=user_id,
            at=at,
            text=text,
            user_id=user_id,
            message_id=msg_id or None,
        )
        async with self._users.hold(user_id):
            out = await asyncio.to_thread(self.conversation.handle, incoming)
            await self._carry_out(out, f"zalo:{msg_id or at.isoformat()}")

    async def on_follow(self, user_id: str, at: datetime) -> None:
        """Greet someone not bound yet with how to join (the follow opened the window)."""
        bound = await asyncio.to_thread(self._bound, user_id)
        if bound:
            return
        greeting = Outgoing(CHANNEL, user_id, t("chat.stranger", DEFAULT_LANG))
        await self._carry_out([greeting], f"zalo:follow:{user_id}:{at.isoformat()}")

    async def on_unfollow(self, user_id: str, at: datetime) -> None:
        queued = await self._store(
            lambda s: zalo_unfollowed(s, user_id, at=at, agency_name=self.agency_name)
        )
        log.info("Zalo user %s unfollowed the OA: %d notices queued", user_id, queued)
        if queued:
            self._queued()

    # --- carrying out what the core said ------------------------------------------------------

    async def _carry_out(self, out: Sequence[Outgoing], key: str) -> None:
        for index, item in enumerate(out):
            if not item.text:
                continue
            try:
                if item.channel == CHANNEL:
                    await self._send(item, f"{key}:{index}")
                else:
                    await asyncio.to_thread(self._relay, item, f"{key}:{index}")
            except Exception:  # one failed message must not keep the others from going
                log.exception("could not deliver to %s chat %s", item.channel, item.chat_id)

    async def _send(self, item: Outgoing, key: str) -> None:
        lang = DEFAULT_LANG
        if has_review(item.buttons):  # the typed commands are worded in the reader's language
            lang = await asyncio.to_thread(self._language, item)
        result = await self.channel.send(OutgoingMessage(item.chat_id, zalo_text(item, lang)))
        if result.outcome is Outcome.SENT:
            return
        log.warning(
            "Zalo message to %s not sent (%s): %s", item.chat_id, result.outcome.value, result.error
        )
        if item.notify:  # someone else's notification: the dispatcher finds a way, or says so
            await asyncio.to_thread(self._relay, item, key)

    def _language(self, item: Outgoing) -> str:
        """The language of the person ``item`` is for (Vietnamese when nobody is found)."""
        with self._session_factory() as session:
            ids = recipients(session, item)
            contact = session.get(Contact, ids[0]) if ids else None
            return contact.language if contact else DEFAULT_LANG

    # --- bookkeeping --------------------------------------------------------------------------

    def _bound(self, user_id: str) -> bool:
        with self._session_factory() as session:
            return bool(chat_contacts(session, CHANNEL, user_id))
