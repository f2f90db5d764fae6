"""The Telegram channel: delivers an OutgoingMessage through a python-telegram-bot ``Bot``.

Text goes out plain (no parse mode), so whatever a coordinator or a plan typed cannot break
Telegram's markup parser. A text over 4096 characters goes as several messages cut between lines,
with the buttons on the last one (where the reader ends up). Telegram's errors become the
dispatcher's outcomes (see ``domain.delivery``): a blocked user is UNREACHABLE, a 429 is
RATE_LIMITED with Telegram's pause, a group that became a supergroup is resent there once and the
new chat id reported so it can be stored.

When a long text fails half-way (typically a 429 on the second part), the parts already delivered
are remembered for a while, so the dispatcher's retry sends only the rest instead of repeating them.
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

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    RetryAfter,
    TelegramError,
)
from telegram.ext import AIORateLimiter, ExtBot
from telegram.warnings import PTBDeprecationWarning

from bot.splitting import split_text
from bot.telegram.keyboards import inline_keyboard
from bot.telegram.spacing import PerChatSpacing
from domain.delivery import Outcome, OutgoingMessage, SendResult

MAX_TEXT = 4096
DEFAULT_BASE_URL = "https://api.telegram.org/bot"
PROGRESS_KEPT_SECONDS = 3600.0  # a retry later than this resends a long text from its start
PROGRESS_KEPT_MAX = 256
# BadRequest descriptions that mean the person, not the message, is the problem.
UNREACHABLE_BAD_REQUESTS = ("chat not found", "user not found", "peer_id_invalid")
_NUMERIC_CHAT_ID = re.compile(r"-?\d+")


def paced_rate_limiter() -> AIORateLimiter:
    """Telegram's limit of about 30 messages a second, spread evenly.

    The default (30 per second) lets a burst of 30 through at once, which Telegram may refuse;
    one message every 1/29 s stays under the limit. No retries: a 429 goes back to the
    dispatcher, which pauses the whole channel for the time Telegram asks.
    """
    return AIORateLimiter(overall_max_rate=1, overall_time_period=1 / 29, max_retries=0)


def build_bot(token: str, base_url: str | None = None, rate_limiter: bool = True) -> ExtBot[Any]:
    """A bot for ``token``, on Telegram or on the Bot API server at ``base_url`` (``.../bot``).

    With ``rate_limiter`` PTB's AIORateLimiter paces the bot to Telegram's global and group limits;
    it does not retry a 429 (the dispatcher pauses the channel instead). The caller initializes
    and shuts the bot down (``async with bot:``), or hands it to an Application that does.
    """
    url = base_url or DEFAULT_BASE_URL
    if rate_limiter:
        return ExtBot(token, base_url=url, rate_limiter=paced_rate_limiter())
    return ExtBot(token, base_url=url)


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
        keyboard = inline_keyboard(message.buttons)
        digest = hashlib.sha256(message.text.encode()).hexdigest()
        chat: int | str = _chat_ref(message.chat_id)
        new_chat_id: str | None = None
        last_id: int | None = None
        for index in range(self._delivered(message.chat_id, digest), len(parts)):
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
        self._progress.pop((message.chat_id, digest), None)
        return SendResult(Outcome.SENT, message_id=str(last_id), new_chat_id=new_chat_id)

    async def _send_part(
        self, chat: int | str, text: str, markup: InlineKeyboardMarkup | None
    ) -> int:
        await self._spacing.wait_turn(str(chat))
        # parse_mode=None explicitly: it also overrides a parse mode set in the bot's Defaults.
        sent = await self.bot.send_message(
            chat_id=chat, text=text, parse_mode=None, reply_markup=markup
        )
        return sent.message_id

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
    """Numeric ids as int: AIORateLimiter treats a str chat id as a group (20 messages/min)."""
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
