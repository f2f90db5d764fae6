"""The Telegram channel: delivers an OutgoingMessage through a python-telegram-bot ``Bot``.

Text goes out plain (no parse mode), so whatever a coordinator or a plan typed cannot break
Telegram's markup parser. A text over 4096 characters goes as several messages cut between lines,
with the buttons on the last one (where the reader ends up). Telegram's errors become the
dispatcher's outcomes (see ``domain.delivery``): a blocked user is UNREACHABLE, a 429 is
RATE_LIMITED with Telegram's pause, a group that became a supergroup is resent there once and the
new chat id reported so it can be stored.

When a long text fails half-way (typically a 429 on the second part), the parts already delivered
are remembered for a while, so the dispatcher's retry sends only the rest instead of repeating them.

Sending is the hot path of a dispatch (hundreds of messages a second without a limiter), so a part
goes out as the Bot API's own JSON (the keyboard included) through the bot's request layer, rate
limiter and error handling, and only the answer's ``message_id`` is read: ``Bot.send_message``
would build the keyboard as PTB objects and parse each answer back into a full ``Message`` with
its keyboard: about a quarter of the CPU time PTB spends on a send, for nothing we use.
"""

import asyncio
import hashlib
import re
import time
import warnings
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    RetryAfter,
    TelegramError,
)
from telegram.ext import BaseRateLimiter, ExtBot
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

from bot.splitting import split_text
from bot.telegram.keyboards import inline_keyboard_json
from bot.telegram.pacing import WindowRateLimiter
from bot.telegram.spacing import PerChatSpacing
from domain.delivery import Outcome, OutgoingMessage, SendResult

MAX_TEXT = 4096
DEFAULT_BASE_URL = "https://api.telegram.org/bot"
# Connections to the Bot API: the dispatcher's sends at once (8) and the adapter's updates in
# flight (16) each hold one while they wait for Telegram's answer; the rest is headroom.
CONNECTIONS = 32
CONNECT_TIMEOUT = 5.0  # seconds
READ_TIMEOUT = 10.0  # Telegram answers a send within a second or two; then it is a network fault
WRITE_TIMEOUT = 10.0
POOL_TIMEOUT = 10.0  # waiting for a free connection: only when more sends than CONNECTIONS
PROGRESS_KEPT_SECONDS = 3600.0  # a retry later than this resends a long text from its start
PROGRESS_KEPT_MAX = 256
# BadRequest descriptions that mean the person, not the message, is the problem.
UNREACHABLE_BAD_REQUESTS = ("chat not found", "user not found", "peer_id_invalid")
_NUMERIC_CHAT_ID = re.compile(r"-?\d+")


def paced_rate_limiter() -> WindowRateLimiter:
    """Telegram's limit of 30 messages a second, kept wherever Telegram dates each message.

    At most 30 sends whose [start, answer] falls within any second, starts at least
    ``pacing.MIN_GAP`` apart, 20 a minute in a group (``bot.telegram.pacing``). No retries: a
    429 goes back to the dispatcher, which pauses the whole channel for the time Telegram asks.
    """
    return WindowRateLimiter()


def bot_request(connections: int = CONNECTIONS) -> HTTPXRequest:
    """The HTTP client for sending: ``connections`` kept open, timeouts fit for a send.

    Given explicitly rather than left to PTB's default (256 in PTB 22, one connection before it),
    so that the pool always matches the concurrency the service runs with, and a send that cannot
    get a connection waits ``POOL_TIMEOUT`` rather than PTB's one second before failing.
    """
    return HTTPXRequest(
        connection_pool_size=connections,
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        write_timeout=WRITE_TIMEOUT,
        pool_timeout=POOL_TIMEOUT,
    )


def build_bot(
    token: str,
    base_url: str | None = None,
    rate_limiter: bool | BaseRateLimiter[Any] = True,
    *,
    connections: int = CONNECTIONS,
) -> ExtBot[Any]:
    """A bot for ``token``, on Telegram or on the Bot API server at ``base_url`` (``.../bot``).

    ``rate_limiter`` True keeps the bot within Telegram's global and group limits
    (``paced_rate_limiter``), False sends unlimited, or give the limiter to use; none retries a
    429 (the dispatcher pauses the channel instead). ``connections`` sizes its HTTP connection
    pool (``bot_request``). The caller initializes and shuts the bot down (``async with bot:``),
    or hands it to an Application that does.
    """
    limiter: BaseRateLimiter[Any] | None
    if isinstance(rate_limiter, BaseRateLimiter):
        limiter = rate_limiter
    else:
        limiter = paced_rate_limiter() if rate_limiter else None
    return ExtBot(
        token,
        base_url=base_url or DEFAULT_BASE_URL,
        request=bot_request(connections),
        rate_limiter=limiter,
    )


class TelegramChannel:
    """The ``Channel`` for Telegram. ``bot`` must be initialized by its owner before sending."""

    def __init__(
        self,
        bot: Bot,
        *,
        min_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.bot = bot
        self._clock = clock
        self._spacing = PerChatSpacing(min_interval, clock=clock, sleep=sleep)
        # (chat id, digest of the text) -> (parts already delivered, when)
        self._progress: OrderedDict[tuple[str, str], tuple[int, float]] = OrderedDict()

    @property
    def name(self) -> str:
        return "telegram"

    @property
    def max_text(self) -> int:
        return MAX_TEXT

    async def send(self, message: OutgoingMessage) -> SendResult:
        parts = split_text(message.text, MAX_TEXT)
        if not parts:
            return SendResult(Outcome.PERMANENT, error="message text is empty")
        keyboard = inline_keyboard_json(message.buttons)
        # Only a text of several parts can be half delivered: the others need no fingerprint.
        digest = hashlib.sha256(message.text.encode()).hexdigest() if len(parts) > 1 else ""
        chat: int | str = _chat_ref(message.chat_id)
        new_chat_id: str | None = None
        last_id: int | None = None
        first = self._delivered(message.chat_id, digest) if digest else 0
        for index in range(first, len(parts)):
            markup = keyboard if index == len(parts) - 1 else None
            try:
                try:
                    last_id = await self._send_part(chat, parts[index], markup)
                except ChatMigrated as migrated:
                    if new_chat_id is not None:  # migrated again: let a retry sort it out
                        raise
                    chat = migrated.new_chat_id
                    new_chat_id = str(chat)
                    last_id = await self._send_part(chat, parts[index], markup)
            except TelegramError as error:
                if index > 0:
                    self._remember(new_chat_id or message.chat_id, digest, index)
                return _failure(error, new_chat_id)
        if digest:
            self._progress.pop((message.chat_id, digest), None)
        return SendResult(Outcome.SENT, message_id=str(last_id), new_chat_id=new_chat_id)

    async def _send_part(self, chat: int | str, text: str, markup: dict[str, Any] | None) -> int:
        data: dict[str, Any] = {"chat_id": chat, "text": text}
        if markup is not None:
            data["reply_markup"] = markup
        async with self._spacing.turn(str(chat)):
            # sendMessage through the bot's own request path (rate limiter, timeouts, errors
            # raised as TelegramError), without building or parsing PTB objects (module
            # docstring). No parse_mode: plain text, whatever the bot's Defaults say.
            answer = await self.bot._post("sendMessage", data)
        return int(answer["message_id"])

    def _delivered(self, chat_id: str, digest: str) -> int:
        entry = self._progress.get((chat_id, digest))
        if entry is None:
            return 0
        count, when = entry
        return count if self._clock() - when <= PROGRESS_KEPT_SECONDS else 0

    def _remember(self, chat_id: str, digest: str, count: int) -> None:
        self._progress[(chat_id, digest)] = (count, self._clock())
        self._progress.move_to_end((chat_id, digest))
        while len(self._progress) > PROGRESS_KEPT_MAX:
            self._progress.popitem(last=False)


def _chat_ref(chat_id: str) -> int | str:
    """Numeric ids as int, as Telegram gives them (a str id would read as a channel's @name)."""
    return int(chat_id) if _NUMERIC_CHAT_ID.fullmatch(chat_id) else chat_id


def _failure(error: TelegramError, new_chat_id: str | None) -> SendResult:
    text = str(error)
    if isinstance(error, Forbidden):
        return SendResult(Outcome.UNREACHABLE, error=text, new_chat_id=new_chat_id)
    if isinstance(error, RetryAfter):
        return SendResult(
            Outcome.RATE_LIMITED,
            error=text,
            retry_after=retry_after_seconds(error),
            new_chat_id=new_chat_id,
        )
    # BadRequest is a NetworkError subclass in PTB: test it first.
    if isinstance(error, BadRequest):
        unreachable = any(marker in text.lower() for marker in UNREACHABLE_BAD_REQUESTS)
        outcome = Outcome.UNREACHABLE if unreachable else Outcome.PERMANENT
        return SendResult(outcome, error=text, new_chat_id=new_chat_id)
    # NetworkError (TimedOut included) and anything else, e.g. a 5xx: worth retrying later.
    return SendResult(Outcome.TRANSIENT, error=text, new_chat_id=new_chat_id)


def retry_after_seconds(error: RetryAfter) -> float:
    """Telegram's pause in seconds, whether PTB gives an int or a timedelta (PTB_TIMEDELTA)."""
    with warnings.catch_warnings():
        # Reading it as an int is deprecated in PTB 22.2+; either form is handled here.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
