"""The Telegram side of the conversation: updates in, through the core, answers out.

``TelegramAdapter`` owns a python-telegram-bot ``Application`` whose lifecycle it drives by hand
(``start``/``stop``), so that it shares one event loop with the reminder scheduler: no
``run_polling``, which would own the loop. Updates arrive by long polling, or, in webhook mode,
through ``process_update_json`` (called by ``bot.webhooks`` once the secret header matched).

Each text (commands included: the core reads "/start <code>" and "/baocao" itself) and each
button press becomes an ``Incoming``; ``Conversation.handle`` runs in a worker thread (it does
database work); each ``Outgoing`` is then carried out:
- a button press is always answered (Telegram shows a spinner until then), with the core's short
  notice if it gave one;
- an answer that edits the pressed message is an edit (sent as a new message when the edit is
  impossible);
- other texts go through ``TelegramChannel``, so the 4096-character split, the spacing of one
  message per second per chat and the error mapping apply to them as to reminders;
- a notification for someone on another platform (a coordinator on Zalo) is queued in the outbox
  as a notice, and the dispatcher delivers it, as it does a Telegram notification that failed for
  a reason worth retrying. Its buttons travel with it (``bot.typed_buttons.relay_payload``): the
  dispatcher sends a completion to confirm as a message of its own with its confirm/return
  buttons, or, on Zalo, with the "/xacnhan <n>" that does the same.
The bot's membership in a chat (blocked, unblocked, group upgraded) is kept in the contacts
(``bot.telegram.membership``). Errors are logged, never shown: the core already answers a
failure with an apology, and PTB's error handler catches the rest.
"""

import asyncio
import logging
import os
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from telegram import (
    BotCommand,
    CallbackQuery,
    ChatMember,
    ChatMemberUpdated,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.chat_adapter import ChatAdapter
from bot.core.commands import COMMANDS
from bot.core.conversation import Conversation, SessionFactory
from bot.core.messages import Incoming, Outgoing
from bot.splitting import split_text
from bot.telegram.channel import (
    CONNECTIONS,
    MAX_TEXT,
    TelegramChannel,
    bot_request,
    paced_rate_limiter,
)
from bot.telegram.keyboards import inline_keyboard
from bot.telegram.membership import (
    REASON_BLOCKED,
    REASON_REMOVED,
    chat_back,
    chat_gone,
    chat_moved,
)
from bot.telegram.ordering import DEFAULT_CONCURRENCY, PerChatUpdateProcessor
from bot.typed_buttons import recipients
from domain.calendar import ZONE
from domain.delivery import Outcome, SendResult
from scheduler.clock import Clock, SystemClock
from storage.recipients import mark_unreachable

log = logging.getLogger(__name__)

CHANNEL = "telegram"
Mode = Literal["polling", "webhook"]
MODES: tuple[Mode, ...] = ("polling", "webhook")
ALLOWED_UPDATES = ("message", "callback_query", "my_chat_member")
MAX_CALLBACK_ANSWER = 200  # characters Telegram shows in a button press's notice
POLL_TIMEOUT = 10.0  # seconds a getUpdates long poll may wait
_NUMERIC = re.compile(r"-?\d+")
_GONE = frozenset({ChatMember.BANNED, ChatMember.LEFT})  # "kicked" is a block in a private chat
_IN = frozenset({ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER})

AnyApplication = Application[Any, Any, Any, Any, Any, Any]


def _chat_ref(chat_id: str) -> int | str:
    return int(chat_id) if _NUMERIC.fullmatch(chat_id) else chat_id


def _local(moment: datetime) -> datetime:
    # PTB gives aware UTC datetimes; a naive one (a Defaults without tzinfo) is UTC as well.
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(ZONE)


def bot_commands(lang: str) -> list[BotCommand]:
    """The command menu: Vietnamese aliases with Vietnamese descriptions, or the English names."""
    if lang == "en":
        return [BotCommand(c.name, c.description_en) for c in COMMANDS]
    return [BotCommand(c.aliases[0] if c.aliases else c.name, c.description_vi) for c in COMMANDS]


class TelegramAdapter(ChatAdapter):
    """The Telegram bot around the conversation core (see the module docstring).

    ``session_factory`` opens the sessions of the adapter's own bookkeeping (contacts, notices);
    ``clock`` dates button presses (Telegram dates messages, not presses); ``on_queued`` is called
    when notices were put in the outbox (the service asks for a dispatch tick);
    ``min_interval`` is the spacing between two messages to one chat; ``connections`` the HTTP
    connections the bot keeps (the dispatcher's sends and the updates in flight share them).
    """

    def __init__(
        self,
        token: str,
        base_url: str | None,
        conversation: Conversation,
        *,
        session_factory: SessionFactory,
        mode: str = "polling",
        webhook_url: str = "",
        webhook_secret: str = "",
        clock: Clock | None = None,
        default_lang: str = "vi",
        min_interval: float = 1.0,
        poll_timeout: float = POLL_TIMEOUT,
        max_concurrent_updates: int = DEFAULT_CONCURRENCY,
        connections: int = CONNECTIONS,
        on_queued: Callable[[], None] | None = None,
    ) -> None:
        if not token:
            raise ValueError("the Telegram adapter needs telegram.token")
        if mode not in MODES:
            raise ValueError(f"telegram.mode must be 'polling' or 'webhook', not {mode!r}")
        if mode == "webhook" and not (webhook_url and webhook_secret):
            raise ValueError("webhook mode needs telegram.webhook_url and telegram.webhook_secret")
        # PTB 22 warns (an error under pytest) when a retry_after is read as an int; opt in to
        # timedelta periods, which TelegramChannel reads either way.
        os.environ.setdefault("PTB_TIMEDELTA", "true")
        self.mode: Mode = "webhook" if mode == "webhook" else "polling"
        self.conversation = conversation
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.default_lang = default_lang
        self.poll_timeout = poll_timeout
        self.on_queued = on_queued
        self._session_factory = session_factory
        self._clock: Clock = clock or SystemClock()
        self._processor = PerChatUpdateProcessor(max_concurrent_updates)
        self.application = self._build(token, base_url, connections)
        self.channel = TelegramChannel(self.application.bot, min_interval=min_interval)

    def _build(self, token: str, base_url: str | None, connections: int) -> AnyApplication:
        builder = (
            ApplicationBuilder()
            .token(token)
            .request(bot_request(connections))  # getUpdates keeps PTB's own (one connection)
            .rate_limiter(paced_rate_limiter())
            .concurrent_updates(self._processor)
            .job_queue(None)  # the reminder scheduler does the timing
        )
        if base_url:
            builder = builder.base_url(base_url)
        if self.mode == "webhook":
            builder = builder.updater(None)
        application: AnyApplication = builder.build()
        text = filters.UpdateType.MESSAGE & (filters.TEXT | filters.CAPTION)
        application.add_handler(MessageHandler(text, self._on_message))
        application.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, self._on_migrate))
        application.add_handler(CallbackQueryHandler(self._on_button))
        application.add_handler(
            ChatMemberHandler(self._on_membership, ChatMemberHandler.MY_CHAT_MEMBER)
        )
        application.add_error_handler(self._on_error)
        return application

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Connect (getMe), register the commands, and start taking updates."""
        application = self.application
        await application.initialize()
        await self.register_commands()
        await application.start()
        if self.mode == "webhook":
            await application.bot.set_webhook(
                url=self.webhook_url,
                secret_token=self.webhook_secret,
                allowed_updates=list(ALLOWED_UPDATES),
            )
        else:
            updater = application.updater
            if updater is None:
                raise RuntimeError("polling mode without an updater")
            await updater.start_polling(
                timeout=timedelta(seconds=self.poll_timeout),
                allowed_updates=list(ALLOWED_UPDATES),
            )
        log.info("Telegram bot @%s started (%s)", application.bot.username, self.mode)

    async def stop(self) -> None:
        """Stop taking updates, finish those in hand, disconnect. Safe to call twice."""
        application = self.application
        updater = application.updater
        if updater is not None and updater.running:
            await updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()

    async def register_commands(self) -> bool:
        """setMyCommands for Vietnamese, English and everyone else; a failure is only logged
        (the bot works without a menu)."""
        try:
            bot = self.application.bot
            await bot.set_my_commands(bot_commands(self.default_lang))
            await bot.set_my_commands(bot_commands("vi"), language_code="vi")
            await bot.set_my_commands(bot_commands("en"), language_code="en")
        except TelegramError:
            log.warning("could not register the Telegram command menu", exc_info=True)
            return False
        return True

    async def process_update_json(self, data: dict[str, Any]) -> None:
        """Handle one update received by the webhook; returns once it has been handled."""
        application = self.application
        update = Update.de_json(data, application.bot)
        await self._processor.process_update(update, application.process_update(update))

    # --- handlers -----------------------------------------------------------------------------

    async def _on_message(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None:
            return
        user = message.from_user
        replied = message.reply_to_message
        incoming = Incoming(
            channel=CHANNEL,
            chat_id=str(message.chat.id),
            at=_local(message.date),
            text=message.text or message.caption or "",
            user_id=str(user.id) if user else None,
            message_id=str(message.message_id),
            reply_to_message_id=str(replied.message_id) if replied else None,
            display_name=user.full_name if user else "",
            language_code=user.language_code if user else None,
        )
        out = await asyncio.to_thread(self.conversation.handle, incoming)
        await self._carry_out(incoming, out, f"u{update.update_id}")

    async def _on_button(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        pressed = query.message
        if pressed is None or query.data is None:  # an inline-mode message, a game: not ours
            await self._answer(query, None)
            return
        user = query.from_user
        incoming = Incoming(
            channel=CHANNEL,
            chat_id=str(pressed.chat.id),
            at=self._clock.now(),
            user_id=str(user.id),
            message_id=str(pressed.message_id),
            callback_data=query.data,
            display_name=user.full_name,
            language_code=user.language_code,
        )
        out: list[Outgoing] = []
        try:
            out = await asyncio.to_thread(self.conversation.handle, incoming)
        finally:
            notice = next((o.answer_callback for o in out if o.answer_callback), None)
            await self._answer(query, notice)
        await self._carry_out(incoming, out, f"u{update.update_id}")

    async def _answer(self, query: CallbackQuery, text: str | None) -> None:
        if text and len(text) > MAX_CALLBACK_ANSWER:
            text = text[: MAX_CALLBACK_ANSWER - 1] + "…"
        try:
            await query.answer(text=text or None)
        except TelegramError:  # too late (the press is over 15 s old): nothing to mend
            log.warning("could not answer button press %s", query.id, exc_info=True)

    async def _on_membership(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        change: ChatMemberUpdated | None = update.my_chat_member
        if change is None:
            return
        chat_id, at = str(change.chat.id), _local(change.date)
        now, before = change.new_chat_member.status, change.old_chat_member.status
        if now in _GONE and before not in _GONE:
            reason = REASON_BLOCKED if change.chat.type == change.chat.PRIVATE else REASON_REMOVED
            queued = await self._store(
                lambda s: chat_gone(s, chat_id, reason=reason, at=at, agency_name=self.agency_name)
            )
            log.info("Telegram chat %s left (%s): %d notices queued", chat_id, reason, queued)
            if queued:
                self._queued()
        elif now in _IN and before in _GONE:
            back = await self._store(lambda s: chat_back(s, chat_id, at=at))
            log.info("Telegram chat %s is back: %d contacts reachable again", chat_id, back)

    async def _on_migrate(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        message: Message | None = update.effective_message
        if message is None:
            return
        if message.migrate_to_chat_id:
            old, new = str(message.chat.id), str(message.migrate_to_chat_id)
        elif message.migrate_from_chat_id:
            old, new = str(message.migrate_from_chat_id), str(message.chat.id)
        else:
            return
        moved = await self._store(lambda s: chat_moved(s, old, new))
        if moved:
            log.info("Telegram group %s became %s: %d contacts follow it", old, new, moved)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        update_id = update.update_id if isinstance(update, Update) else None
        log.error("Telegram update %s failed", update_id, exc_info=context.error)

    # --- carrying out what the core said ------------------------------------------------------

    async def _carry_out(self, incoming: Incoming, out: Sequence[Outgoing], key: str) -> None:
        for index, item in enumerate(out):
            if not item.text:
                continue  # only a button press's notice, answered already
            here = (item.channel, item.chat_id) == (incoming.channel, incoming.chat_id)
            try:
                if here and not item.notify and item.edit_message_id:
                    await self._edit(item)
                elif item.channel == CHANNEL:
                    await self._send(item, f"{key}:{index}")
                else:
                    await asyncio.to_thread(self._relay, item, f"{key}:{index}")
            except Exception:  # one failed message must not keep the others from going
                log.exception("could not deliver to %s chat %s", item.channel, item.chat_id)

    async def _send(self, item: Outgoing, key: str = "") -> None:
        result = await self.channel.send(item.message())
        if result.new_chat_id:
            new_chat_id = result.new_chat_id
            await self._store(lambda s: chat_moved(s, item.chat_id, new_chat_id))
        if result.outcome is Outcome.SENT:
            return
        log.warning(
            "Telegram message to chat %s not sent (%s): %s",
            item.chat_id,
            result.outcome.value,
            result.error,
        )
        if not item.notify:
            return  # the person's own answer: what they did is stored; they can ask again
        await asyncio.to_thread(self._after_failed_notice, item, result, key)

    def _after_failed_notice(self, item: Outgoing, result: SendResult, key: str) -> None:
        if result.outcome is Outcome.UNREACHABLE:
            with self._session_factory() as session:
                for contact_id in recipients(session, item):
                    mark_unreachable(session, contact_id, result.error or "unreachable")
                session.commit()
        elif result.outcome in (Outcome.TRANSIENT, Outcome.RATE_LIMITED):
            self._relay(item, key)  # the dispatcher retries it

    async def _edit(self, item: Outgoing) -> None:
        message_id = item.edit_message_id
        parts = split_text(item.text, MAX_TEXT)
        if message_id is None or not message_id.isdigit() or len(parts) != 1:
            await self._send(item)
            return
        markup: InlineKeyboardMarkup | None = inline_keyboard(item.buttons)
        try:
            await self.application.bot.edit_message_text(
                text=parts[0],
                chat_id=_chat_ref(item.chat_id),
                message_id=int(message_id),
                reply_markup=markup,
                parse_mode=None,
            )
        except BadRequest as error:
            if "not modified" in str(error).lower():  # pressed twice: it already says that
                return
            log.info("editing message %s failed (%s): sent anew", message_id, error)
            await self._send(item)
