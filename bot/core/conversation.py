"""The conversation: one message or button press in, the answers and notifications out.

Every channel (Telegram, Zalo, the console) hands an ``Incoming`` to ``Conversation.handle`` and
carries out the ``Outgoing`` list it gets back; the core knows no platform. A message is read in
this order:
1. A chat bound to no contact may only join (``/start <code>``, or the code alone); anything else
   gets the explanation of how to join, and no data at all.
2. A button press: ``r:`` (one-tap answer to a reminder), ``k:`` (a task picked), ``c:`` (a
   coordinator's confirm/return), ``l:`` (language). Ids in a button are checked again: the
   person must answer for that assignment's agency (button data can be forged).
3. A command, with or without the slash and diacritics (``bot.core.commands``). A command
   abandons any question the bot was waiting on.
4. The answer to the question the bot asked: the difficulty after "blocked", the percentage after
   "update %", the report on a task just picked in /report.
5. A free-text progress reply (``domain.replies.parse_reply``), bound to the task of the reminder
   it replies to ("2. xong" picks item 2 of a digest), else to the agency's only open task, else
   the bot asks which, keeping the message until a task is picked (by its button, or by its
   number on a platform without buttons).
Nothing a person writes is lost: every text (not a button press) is stored in ``inbound_message``
first, with what became of it (``storage.inbound``). A message held for "which task?" whose
question is dropped (a command, another button, 24 hours) and a message from an agency with no
open task stay there as "unbound": the person is told it was kept, and coordinators list such
messages with /tinnhan. A stranger's text is kept for audit; the stranger sees no data.
New contacts and strangers are answered in Vietnamese; /lang switches a chat to English.
Each call runs in one transaction. Any error is logged and answered with a polite apology, never
a stack trace; the transaction is rolled back, so nothing is half recorded, and the text is then
stored on its own. ``Incoming.at`` is the only clock.
"""

import logging
import re
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from sqlmodel import Session

from bot.core import status_text
from bot.core.buttons import (
    OCCURRENCE,
    Pick,
    ReviewChoice,
    decode_lang,
    decode_pick,
    decode_review,
    lang_button,
    pick_button,
    reminder_button,
    review_button,
)
from bot.core.commands import START, Command, ParsedCommand, parse_command, visible_commands
from bot.core.items import WorkItem, answers_for, find_item, work_items
from bot.core.messages import Buttons, Incoming, Outgoing
from bot.core.onboarding import JoinOutcome, ThrottlePolicy, looks_like_code, redeem
from bot.core.progress import (
    Reporter,
    agency_name,
    completion_notice,
    record_reply,
    review_completion,
)
from bot.core.state import Awaiting, ChatState, loads
from bot.core.task_list import (
    due_line,
    lang_of,
    one_per_row,
    picker_label,
    render_items,
    state_text,
    task_label,
)
from domain.agencies import Directory
from domain.calendar import ZONE, WorkingCalendar, local_date
from domain.callbacks import ReminderAction, ReminderCallback
from domain.callbacks import decode as decode_reminder
from domain.digest import format_date, shorten
from domain.i18n import DEFAULT_LANG, t
from domain.replies import Reply, ReplyKind, parse_reply
from domain.status import State, StatusLine, silent_agencies
from domain.text import fold
from storage import repository
from storage.chat_state import clear_chat_state, load_chat_state, save_chat_state
from storage.contacts import agency_contacts, chat_contacts, touch
from storage.inbound import (
    abandon,
    abandon_stale,
    attach_report,
    record_message,
    set_disposition,
    unbound_messages,
)
from storage.models import (
    Contact,
    ContactRole,
    Disposition,
    InboundMessage,
    ProgressKind,
    ProgressReport,
)
from storage.progress import AssignmentRef, assignment_refs, digest_items, pending_reviews
from storage.status_cache import StatusCache, engine_of, shareable, shared
from storage.status_lines import status_lines, unreachable_contacts

log = logging.getLogger(__name__)

SessionFactory = Callable[[], AbstractContextManager[Session]]

# "2. xong", "1) được 50%", "3: vướng ...": an item number of the digest being answered.
_NUMBERED = re.compile(r"\s*(\d{1,2})\s*[.):](?!\d)\s*(\S.*)", re.DOTALL)
_CHOICE = re.compile(r"\s*#?(\d{1,2})\s*")  # "2": the second task offered
_PERCENT_ONLY = re.compile(r"\s*(\d{1,3})(?:[.,]\d+)?\s*%?\s*")
_LANGS = {
    "vi": "vi",
    "tiengviet": "vi",
    "viet": "vi",
    "vn": "vi",
    "en": "en",
    "english": "en",
    "tienganh": "en",
    "anh": "en",
}
# States in which an agency still owes news (as domain.status.silent_agencies counts them).
_OWES_NEWS = frozenset({State.IN_PROGRESS, State.OVERDUE, State.NO_ANSWER, State.CONTINUOUS})
_ACTION_KEYS = {
    ReminderAction.DONE: "chat.button.done",
    ReminderAction.IN_PROGRESS: "chat.button.progress",
    ReminderAction.BLOCKED: "chat.button.blocked",
    ReminderAction.UPDATE_PERCENT: "chat.button.percent",
}
_CONFIRM_LIST = 10  # completions shown by /confirm, each as its own message with buttons
_QUOTED = 100  # characters of a kept message quoted back to its author
_LISTED = 200  # characters of a kept message shown by /tinnhan


@dataclass(frozen=True, slots=True)
class Settings:
    """What the conversation takes from the configuration."""

    require_confirmation: bool = True
    silent_days: int = 14  # /silent: no report for this many days
    list_limit: int = 30  # items in one list message
    picker_limit: int = 20  # tasks offered as buttons
    question_ttl: timedelta = timedelta(hours=24)  # a question unanswered this long is dropped
    kept_days: int = 7  # /tinnhan lists the unbound messages of this many days
    throttle: ThrottlePolicy = field(default_factory=ThrottlePolicy)


@dataclass(frozen=True, slots=True)
class _Chat:
    """One bound chat while one incoming is handled."""

    session: Session
    incoming: Incoming
    contacts: tuple[Contact, ...]
    inbound: InboundMessage | None = None  # this text's row (None for a button press)
    abandoned: list[str] = field(default_factory=list)  # held texts left without a task

    @property
    def lang(self) -> str:
        return lang_of(self.contacts[0].language)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.agency_code for c in self.contacts))

    @property
    def coordinator(self) -> bool:
        return any(c.role == ContactRole.COORDINATOR.value for c in self.contacts)

    @property
    def at(self) -> datetime:
        return self.incoming.at

    @property
    def today(self) -> date:
        return local_date(self.incoming.at)

    def say(
        self, text: str, buttons: Buttons = (), *, edit: bool = False, answer: str | None = None
    ) -> Outgoing:
        return Outgoing(
            channel=self.incoming.channel,
            chat_id=self.incoming.chat_id,
            text=text,
            buttons=buttons,
            edit_message_id=self.incoming.message_id if edit else None,
            answer_callback=answer,
        )

    def answer(self, text: str) -> Outgoing:
        return Outgoing(self.incoming.channel, self.incoming.chat_id, answer_callback=text)


class Conversation:
    """The channel-agnostic conversation core (see the module docstring)."""

    def __init__(
        self,
        session_factory: SessionFactory,
        directory: Directory,
        calendar: WorkingCalendar,
        settings: Settings | None = None,
        status_cache: StatusCache | None = None,
    ) -> None:
        self._session_factory = session_factory
        self.directory = directory
        self.calendar = calendar
        self.settings = settings or Settings()
        # Whole-country lines for coordinators; by default the process's shared cache for the
        # session's engine, found on the first question (storage.status_cache).
        self._status_cache = status_cache

    # --- the entry point -----------------------------------------------------------------------

    def handle(self, incoming: Incoming) -> list[Outgoing]:
        """The answers to ``incoming`` and the notifications it causes, in sending order."""
        try:
            with self._session_factory() as session:
                out = self._route(session, incoming)
                session.commit()
                return out
        except Exception:
            log.exception("conversation failed on %s chat %s", incoming.channel, incoming.chat_id)
            self._keep_after_error(incoming)
            lang = DEFAULT_LANG  # the contact's own language may be what could not be read
            short = t("chat.error.short", lang) if incoming.is_button else None
            return [
                Outgoing(
                    incoming.channel, incoming.chat_id, t("chat.error", lang), answer_callback=short
                )
            ]

    def _route(self, session: Session, incoming: Incoming) -> list[Outgoing]:
        contacts = chat_contacts(session, incoming.channel, incoming.chat_id)
        inbound = _keep(session, incoming, contacts)
        if not contacts:
            return self._stranger(session, incoming, inbound)
        touch(
            contacts, at=incoming.at, user_id=incoming.user_id, display_name=incoming.display_name
        )
        chat = _Chat(session, incoming, tuple(contacts), inbound)
        if incoming.callback_data is not None:
            out = self._button(chat, incoming.callback_data)
        else:
            out = self._message(chat)
        if chat.abandoned:
            quoted = "; ".join(f"“{shorten(text, _QUOTED)}”" for text in chat.abandoned)
            out.append(chat.say(t("chat.kept.unbound", chat.lang, texts=quoted)))
        return out

    def _keep_after_error(self, incoming: Incoming) -> None:
        """Store the text of a message whose handling failed, in a transaction of its own."""
        if incoming.is_button or not incoming.text.strip():
            return
        try:
            with self._session_factory() as session:
                contacts = chat_contacts(session, incoming.channel, incoming.chat_id)
                row = _keep(session, incoming, contacts)
                coordinator = any(c.role == ContactRole.COORDINATOR.value for c in contacts)
                if (
                    row is not None
                    and contacts
                    and parse_command(incoming.text, coordinator=coordinator)
                ):
                    row.disposition = Disposition.COMMAND.value
                session.commit()
        except Exception:
            log.exception(
                "could not keep a message from %s chat %s: %r",
                incoming.channel,
                incoming.chat_id,
                incoming.text,
            )

    # --- joining -------------------------------------------------------------------------------

    def _stranger(
        self, session: Session, incoming: Incoming, inbound: InboundMessage | None
    ) -> list[Outgoing]:
        # Vietnamese, whatever the phone's language: officials' phones are often set to English.
        lang = DEFAULT_LANG
        if incoming.is_button:
            return [
                Outgoing(
                    incoming.channel,
                    incoming.chat_id,
                    answer_callback=t("chat.stranger.button", lang),
                )
            ]
        text = incoming.text.strip()
        parsed = parse_command(text, coordinator=False)
        code: str | None = None
        if parsed is not None and parsed.command is START and parsed.args:
            code = parsed.args.split()[0]
        elif parsed is None and looks_like_code(text):
            code = text
        if code is None:
            return [Outgoing(incoming.channel, incoming.chat_id, t("chat.stranger", lang))]
        if inbound is not None and inbound.id is not None:
            set_disposition(session, inbound.id, Disposition.JOIN)
        return [self._join(session, incoming, code, lang)]

    def _join(self, session: Session, incoming: Incoming, code: str, lang: str) -> Outgoing:
        result = redeem(
            session,
            channel=incoming.channel,
            chat_id=incoming.chat_id,
            code=code,
            at=incoming.at,
            policy=self.settings.throttle,
            user_id=incoming.user_id,
            display_name=incoming.display_name,
            language=lang,
        )
        if result.contact is not None:
            contact = result.contact
            key = "chat.join.ok" if result.outcome is JoinOutcome.JOINED else "chat.join.already"
            text = t(
                key,
                lang,
                agency=agency_name(self.directory, contact.agency_code),
                role=t(f"chat.role.{contact.role}", lang),
            )
        elif result.outcome is JoinOutcome.THROTTLED:
            text = self._throttled(result.blocked_until, lang)
        else:
            log.warning("wrong invite code from %s chat %s", incoming.channel, incoming.chat_id)
            text = t("chat.join.invalid", lang)
            if result.blocked_until is not None:
                text += "\n" + self._throttled(result.blocked_until, lang)
        return Outgoing(incoming.channel, incoming.chat_id, text)

    @staticmethod
    def _throttled(until: datetime | None, lang: str) -> str:
        if until is None:  # a block always has an end; this only keeps the types honest
            return t("chat.join.invalid", lang)
        local = until.astimezone(ZONE)
        return t(
            "chat.join.throttled",
            lang,
            time=local.strftime("%H:%M"),
            date=format_date(local.date()),
        )

    # --- messages ------------------------------------------------------------------------------

    def _message(self, chat: _Chat) -> list[Outgoing]:
        text = chat.incoming.text.strip()
        if not text:
            return []
        parsed = parse_command(text, coordinator=chat.coordinator)
        if parsed is not None:
            joining = parsed.command is START and bool(parsed.args.strip())
            self._mark(chat, Disposition.JOIN if joining else Disposition.COMMAND)
            self._clear_state(chat)  # held messages stay, unbound, and the person is told
            return self._command(chat, parsed)
        state = self._state(chat)
        if state is not None and state.awaiting is not Awaiting.PICK:
            return self._answer_question(chat, state, text)
        number = _CHOICE.fullmatch(text)
        if state is not None and number and 1 <= int(number.group(1)) <= len(state.choices):
            aid, occurrence = state.choices[int(number.group(1)) - 1]
            self._mark(chat, Disposition.COMMAND)
            return self._pick(chat, Pick(aid, occurrence), edit=False)
        return self._free_text(chat, text, state)

    def _command(self, chat: _Chat, parsed: ParsedCommand) -> list[Outgoing]:
        command = parsed.command
        lang = chat.lang
        if command is None:
            return [chat.say(t("chat.command.unknown", lang, word=parsed.word))]
        if command.coordinator_only and not chat.coordinator:
            return [chat.say(t("chat.command.coordinator_only", lang))]
        handlers: dict[str, Callable[[_Chat, str], list[Outgoing]]] = {
            "start": self._start,
            "help": self._help,
            "tasks": self._tasks,
            "report": self._report,
            "lang": self._lang,
            "status": self._status,
            "overdue": self._overdue,
            "silent": self._silent,
            "confirm": self._confirm_list,
            "messages": self._kept_messages,
        }
        return handlers[command.name](chat, parsed.args.strip())

    def _names(self, chat: _Chat) -> str:
        names = [agency_name(self.directory, code) for code in chat.codes]
        return t("chat.and", chat.lang).join(names)

    def _start(self, chat: _Chat, args: str) -> list[Outgoing]:
        if args:
            return [self._join(chat.session, chat.incoming, args.split()[0], chat.lang)]
        return [chat.say(t("chat.welcome", chat.lang, agency=self._names(chat)))]

    def _help(self, chat: _Chat, args: str) -> list[Outgoing]:
        lang = chat.lang
        lines = [
            t("chat.help.intro", lang, agency=self._names(chat)),
            "",
            t("chat.help.commands", lang),
        ]
        lines += [_help_line(command, lang) for command in visible_commands(chat.coordinator)]
        if chat.coordinator:
            lines += ["", t("chat.help.status", lang)]
        return [chat.say("\n".join(lines))]

    # --- an agency's own tasks -----------------------------------------------------------------

    def _items(self, chat: _Chat, *, open_only: bool = False) -> list[WorkItem]:
        return work_items(
            chat.session,
            directory=self.directory,
            calendar=self.calendar,
            on=chat.today,
            agency_codes=chat.codes,
            require_confirmation=self.settings.require_confirmation,
            open_only=open_only,
        )

    def _tasks(self, chat: _Chat, args: str) -> list[Outgoing]:
        lang = chat.lang
        open_items = self._items(chat, open_only=True)
        if not open_items:
            return [chat.say(t("chat.tasks.none", lang, agency=self._names(chat)))]
        header = t(
            "chat.tasks.header",
            lang,
            agency=self._names(chat),
            date=format_date(chat.today),
            n=len(open_items),
        )
        blocks = render_items(
            [item.line for item in open_items],
            today=chat.today,
            lang=lang,
            calendar=self.calendar,
            limit=self.settings.list_limit,
        )
        return [chat.say("\n\n".join([header, *blocks, t("chat.tasks.hint", lang)]))]

    def _report(self, chat: _Chat, args: str) -> list[Outgoing]:
        lang = chat.lang
        open_items = self._items(chat, open_only=True)
        if not open_items:
            return [chat.say(t("chat.tasks.none", lang, agency=self._names(chat)))]
        if len(open_items) == 1:
            item = open_items[0]
            return [self._prompt(chat, item.ref, item.occurrence, item, edit=False)]
        choices = [(item.ref, item.occurrence, item.line.due) for item in open_items]
        buttons = self._picker(choices, lang)
        self._save_state(chat, ChatState(Awaiting.PICK, chat.at, choices=_choice_ids(buttons)))
        return [chat.say(t("chat.report.pick", lang), buttons)]

    def _picker(
        self, choices: Sequence[tuple[AssignmentRef, str, date | None]], lang: str
    ) -> Buttons:
        buttons = [
            pick_button(
                picker_label(n, ref.plan, ref.task, ref.title, due, lang),
                ref.assignment_id,
                occurrence,
            )
            for n, (ref, occurrence, due) in enumerate(choices[: self.settings.picker_limit], 1)
        ]
        return one_per_row(buttons)

    def _prompt(
        self,
        chat: _Chat,
        ref: AssignmentRef,
        occurrence: str,
        item: WorkItem | None,
        *,
        edit: bool,
    ) -> Outgoing:
        """A task's state with the four one-tap answers; the next text reports on it."""
        lang = chat.lang
        lines = [task_label(ref.plan, ref.task, ref.title, lang, limit=120)]
        if item is not None:
            lines.append(due_line(item.line, chat.today, lang, self.calendar).strip())
            lines.append(
                t("chat.tasks.state", lang, state=state_text(item.line.result, lang)).strip()
            )
        lines += ["", t("chat.report.prompt", lang)]
        self._save_state(chat, ChatState(Awaiting.REPLY, chat.at, ref.assignment_id, occurrence))
        row = [
            reminder_button(t(key, lang), action, ref.assignment_id, occurrence)
            for action, key in _ACTION_KEYS.items()
        ]
        return chat.say("\n".join(lines), (tuple(row[:2]), tuple(row[2:])), edit=edit)

    # --- buttons -------------------------------------------------------------------------------

    def _button(self, chat: _Chat, data: str) -> list[Outgoing]:
        reminder = decode_reminder(data)
        if reminder is not None:
            return self._reminder_button(chat, reminder)
        pick = decode_pick(data)
        if pick is not None:
            return self._pick(chat, pick, edit=True)
        review = decode_review(data)
        if review is not None:
            return self._review(chat, review)
        lang = decode_lang(data)
        if lang is not None:
            return self._set_lang(chat, lang.lang, edit=True)
        return [chat.answer(t("chat.button.stale", chat.lang))]

    def _allowed(self, chat: _Chat, assignment_id: int, occurrence: str) -> AssignmentRef | None:
        """The assignment if this chat answers for it (and the occurrence key is well formed)."""
        return self._allowed_all(chat, [(assignment_id, occurrence)])[0]

    def _allowed_all(
        self, chat: _Chat, pairs: Sequence[tuple[int, str]]
    ) -> list[AssignmentRef | None]:
        """``_allowed`` for each (assignment, occurrence) of ``pairs``, in one query."""
        valid = [OCCURRENCE.fullmatch(occurrence) is not None for _, occurrence in pairs]
        ids = [aid for (aid, _), ok in zip(pairs, valid, strict=True) if ok]
        refs = assignment_refs(chat.session, assignment_ids=ids) if ids else []
        found = {ref.assignment_id: ref for ref in refs}
        allowed: list[AssignmentRef | None] = []
        for (aid, _), ok in zip(pairs, valid, strict=True):
            ref = found.get(aid) if ok else None
            if ref is not None and answers_for(self.directory, chat.codes, ref.agency_code):
                allowed.append(ref)
            else:
                allowed.append(None)
        return allowed

    def _denied(
        self, chat: _Chat, what: str, assignment_id: int | None = None, key: str = "chat.denied"
    ) -> list[Outgoing]:
        """The refusal of a button: "no longer valid" when its task is gone (closed or removed
        from the plan), else "not yours", logged as a possible forgery."""
        if assignment_id is not None and not assignment_refs(
            chat.session, assignment_ids=[assignment_id]
        ):
            return [chat.answer(t("chat.button.stale", chat.lang))]
        log.warning(
            "refused %s from %s chat %s (agencies %s)",
            what,
            chat.incoming.channel,
            chat.incoming.chat_id,
            ",".join(chat.codes),
        )
        return [chat.answer(t(key, chat.lang))]

    def _reminder_button(self, chat: _Chat, pressed: ReminderCallback) -> list[Outgoing]:
        lang = chat.lang
        ref = self._allowed(chat, pressed.assignment_id, pressed.occurrence)
        if ref is None:
            return self._denied(chat, f"button {pressed.encode()}", pressed.assignment_id)
        occurrence = pressed.occurrence
        action = pressed.action
        if action in (ReminderAction.DONE, ReminderAction.IN_PROGRESS):
            self._clear_state(chat)  # the answer to a /report prompt, if one was open
        if action is ReminderAction.DONE:
            return self._record(
                chat,
                ref,
                occurrence,
                Reply(ReplyKind.DONE, "", percent=100),
                answer=t("chat.ack.recorded", lang),
            )
        if action is ReminderAction.IN_PROGRESS:
            return self._record(
                chat,
                ref,
                occurrence,
                Reply(ReplyKind.IN_PROGRESS, ""),
                answer=t("chat.ack.recorded", lang),
            )
        awaiting = Awaiting.REASON if action is ReminderAction.BLOCKED else Awaiting.PERCENT
        self._save_state(chat, ChatState(awaiting, chat.at, ref.assignment_id, occurrence))
        question = t("chat.ask.reason" if awaiting is Awaiting.REASON else "chat.ask.percent", lang)
        heading = task_label(ref.plan, ref.task, ref.title, lang)
        return [chat.say(f"{heading}\n{question}", answer=question)]

    def _pick(self, chat: _Chat, pick: Pick, *, edit: bool) -> list[Outgoing]:
        ref = self._allowed(chat, pick.assignment_id, pick.occurrence)
        if ref is None:
            return self._denied(
                chat, f"pick {pick.assignment_id}:{pick.occurrence}", pick.assignment_id
            )
        state = self._state(chat)
        if state is None or state.awaiting is not Awaiting.PICK or not state.replies:
            item = find_item(self._items(chat), ref.assignment_id, pick.occurrence)
            return [self._prompt(chat, ref, pick.occurrence, item, edit=edit)]
        lang = chat.lang
        chosen = (
            f"{t('chat.pick.which', lang)}\n→ {task_label(ref.plan, ref.task, ref.title, lang)}"
        )
        out = [chat.say(chosen, edit=edit, answer=t("chat.ack.recorded", lang))] if edit else []
        for waiting in state.replies:
            reply = parse_reply(waiting.text, today=local_date(waiting.at))
            out += self._record(
                chat, ref, pick.occurrence, reply, at=waiting.at, held=waiting.inbound_id
            )
        self._clear_state(chat)  # after recording: the held messages are reports now
        return out

    # --- answers and free text -----------------------------------------------------------------

    def _answer_question(self, chat: _Chat, state: ChatState, text: str) -> list[Outgoing]:
        ref = None
        if state.assignment_id is not None:
            ref = self._allowed(chat, state.assignment_id, state.occurrence)
        if ref is None:
            self._clear_state(chat)
            return self._free_text(chat, text, None)
        parsed = parse_reply(text, today=chat.today)
        reply = parsed
        if state.awaiting is Awaiting.REASON and parsed.kind is not ReplyKind.BLOCKED:
            reply = Reply(
                ReplyKind.BLOCKED, parsed.text, percent=parsed.percent, reason=parsed.text
            )
        elif state.awaiting is Awaiting.PERCENT:
            number = _PERCENT_ONLY.fullmatch(text)
            if number is not None:
                value = int(number.group(1))
                if value > 100:
                    return [chat.say(t("chat.ask.percent.again", chat.lang))]
                kind = ReplyKind.DONE if value == 100 else ReplyKind.PERCENT
                reply = Reply(kind, parsed.text, percent=value)
        self._clear_state(chat)
        return self._record(chat, ref, state.occurrence, reply)

    def _free_text(self, chat: _Chat, text: str, state: ChatState | None) -> list[Outgoing]:
        body = text
        target: tuple[AssignmentRef, str] | None = None
        choices: list[tuple[AssignmentRef, str, date | None]] = []
        replied = chat.incoming.reply_to_message_id
        items = None
        must_ask = False  # the text named a digest item this chat does not answer for
        if replied:
            items = digest_items(
                chat.session, chat.incoming.channel, chat.incoming.chat_id, replied
            )
        if items:
            numbered = _NUMBERED.fullmatch(text)
            if numbered is not None and 1 <= int(numbered.group(1)) <= len(items):
                aid, occurrence = items[int(numbered.group(1)) - 1]
                ref = self._allowed(chat, aid, occurrence)
                if ref is not None:
                    target, body = (ref, occurrence), numbered.group(2).strip()
                else:
                    must_ask = True
            if target is None:
                for (_, occurrence), ref in zip(items, self._allowed_all(chat, items), strict=True):
                    if ref is not None:
                        choices.append((ref, occurrence, _due_of(occurrence)))
                if len(choices) == 1 and not must_ask:
                    target = (choices[0][0], choices[0][1])
        if target is None and not choices:
            open_items = self._items(chat, open_only=True)
            if len(open_items) == 1 and not must_ask:
                target = (open_items[0].ref, open_items[0].occurrence)
            elif not open_items:
                self._mark(chat, Disposition.UNBOUND)
                return [chat.say(t("chat.ack.no_task", chat.lang, agency=self._names(chat)))]
            else:
                choices = [(i.ref, i.occurrence, i.line.due) for i in open_items]
        if target is None:
            buttons = self._picker(choices, chat.lang)
            kept = state if state is not None else ChatState(Awaiting.PICK, chat.at)
            inbound_id = chat.inbound.id if chat.inbound is not None else None
            kept = replace(kept.with_reply(text, chat.at, inbound_id), choices=_choice_ids(buttons))
            self._mark(chat, Disposition.PENDING)
            self._save_state(chat, kept)
            return [chat.say(t("chat.pick.which", chat.lang), buttons)]
        reply = parse_reply(body, today=chat.today)
        return self._record(chat, target[0], target[1], reply)

    def _record(
        self,
        chat: _Chat,
        ref: AssignmentRef,
        occurrence: str,
        reply: Reply,
        *,
        at: datetime | None = None,
        answer: str | None = None,
        held: int | None = None,
    ) -> list[Outgoing]:
        """Record ``reply``; it came from the held message ``held``, else from this one (if this
        is a text)."""
        contact = next(
            (c for c in chat.contacts if c.agency_code == ref.agency_code),
            next(
                (
                    c
                    for c in chat.contacts
                    if c.agency_code in self.directory.successors(ref.agency_code)
                ),
                chat.contacts[0],
            ),
        )
        recorded = record_reply(
            chat.session,
            reporter=Reporter(contact, chat.incoming.channel, chat.incoming.chat_id, chat.lang),
            ref=ref,
            occurrence=occurrence,
            reply=reply,
            at=at or chat.at,
            directory=self.directory,
            require_confirmation=self.settings.require_confirmation,
        )
        source = held if held is not None else (chat.inbound.id if chat.inbound else None)
        if source is not None and recorded.report is not None:
            attach_report(chat.session, source, recorded.report)
        return [chat.say(recorded.ack, answer=answer), *recorded.notifications]

    # --- language ------------------------------------------------------------------------------

    def _lang(self, chat: _Chat, args: str) -> list[Outgoing]:
        if not args:
            buttons = ((lang_button("Tiếng Việt", "vi"), lang_button("English", "en")),)
            return [chat.say(t("chat.lang.choose", chat.lang), buttons)]
        lang = _LANGS.get(fold(args).replace(" ", ""))
        if lang is None:
            return [chat.say(t("chat.lang.unknown", chat.lang, arg=args))]
        return self._set_lang(chat, lang, edit=False)

    def _set_lang(self, chat: _Chat, lang: str, *, edit: bool) -> list[Outgoing]:
        for contact in chat.contacts:
            contact.language = lang
        chat.session.flush()
        done = t("chat.lang.set", lang)
        return [chat.say(done, edit=edit, answer=done if edit else None)]

    # --- coordinators --------------------------------------------------------------------------

    def _lines(self, chat: _Chat, **where: str) -> list[StatusLine]:
        cache = None if where else self._cache(chat.session)
        if cache is not None:  # the whole country: the day's lines are kept, brought up to date
            return cache.lines(self.directory, chat.today)
        return status_lines(
            chat.session,
            directory=self.directory,
            calendar=self.calendar,
            on=chat.today,
            require_confirmation=self.settings.require_confirmation,
            **where,
        )

    def _cache(self, session: Session) -> StatusCache | None:
        engine = engine_of(session)
        if self._status_cache is None and shareable(engine):
            self._status_cache = shared(
                engine, self.calendar, require_confirmation=self.settings.require_confirmation
            )
        return self._status_cache

    def warm_status(self, at: datetime) -> None:
        """Compute the whole country's lines of ``at``'s day now (at start, in a thread), so
        that the first /tinhhinh or /quahan of the day does not wait for them."""
        with self._session_factory() as session:
            cache = self._cache(session)
        if cache is not None:
            cache.warm(self.directory, local_date(at))

    def _status(self, chat: _Chat, args: str) -> list[Outgoing]:
        lang, today, limit = chat.lang, chat.today, self.settings.list_limit
        if not args:
            return [chat.say(status_text.overall(self._lines(chat), today=today, lang=lang))]
        plans = [plan.number for plan in repository.list_plans(chat.session)]
        target = _plan_and_task(args, plans)
        if target is not None:
            plan, task = target
            lines = self._lines(chat, plan_number=plan)
            if task is None:
                return [chat.say(status_text.overall(lines, today=today, lang=lang))]
            lines = [line for line in lines if fold(line.task) == task]
            if not lines:
                return [chat.say(t("chat.status.no_task", lang, plan=plan, task=task.upper()))]
            return [chat.say(status_text.for_task(lines, today=today, lang=lang, limit=limit))]
        found = self.directory.resolve(args)
        if found.agency is not None:
            lines = self._lines(chat, agency_code=found.agency)
            text = status_text.for_agency(
                lines,
                agency=agency_name(self.directory, found.agency),
                today=today,
                lang=lang,
                calendar=self.calendar,
                limit=limit,
            )
            return [chat.say(text)]
        text = t("chat.status.not_found", lang, text=args)
        if found.suggestions:
            text += " " + t("chat.status.suggest", lang, names="; ".join(found.suggestions))
        return [chat.say(text)]

    def _overdue(self, chat: _Chat, args: str) -> list[Outgoing]:
        text = status_text.overdue(
            self._lines(chat), today=chat.today, lang=chat.lang, limit=self.settings.list_limit
        )
        return [chat.say(text)]

    def _silent(self, chat: _Chat, args: str) -> list[Outgoing]:
        days = int(args) if args.isdigit() and int(args) > 0 else self.settings.silent_days
        lines = self._lines(chat)
        names = silent_agencies(lines, chat.today, days)
        owing = list(
            dict.fromkeys(line.agency_code for line in lines if line.result.state in _OWES_NEWS)
        )
        reached = {c.agency_code for c in agency_contacts(chat.session, owing)}
        no_contact = [agency_name(self.directory, code) for code in owing if code not in reached]
        text = status_text.silent(
            names,
            no_contact=no_contact,
            unreachable=unreachable_contacts(chat.session),
            days=days,
            lang=chat.lang,
            limit=self.settings.list_limit,
        )
        return [chat.say(text)]

    def _confirm_list(self, chat: _Chat, args: str) -> list[Outgoing]:
        typed = _TYPED_REVIEW.fullmatch(fold(args))
        if typed is not None:  # "/xacnhan 42 [tralai]": the confirm/return buttons, typed (Zalo)
            choice = ReviewChoice(int(typed.group(1)), typed.group(2) is None)
            return self._review(chat, choice, typed=True)
        lang = chat.lang
        pending = pending_reviews(chat.session, limit=_CONFIRM_LIST)
        refs = {
            ref.assignment_id: ref
            for ref in assignment_refs(
                chat.session, assignment_ids=[report.assignment_id for report in pending]
            )
        }
        shown = [
            (report, refs[report.assignment_id])
            for report in pending
            if report.assignment_id in refs and report.id is not None
        ]
        if not shown:
            return [chat.say(t("chat.confirm.none", lang))]
        out = [chat.say(t("chat.confirm.header", lang, n=len(shown)))]
        for report, ref in shown:
            out.append(
                chat.say(
                    completion_notice(report, ref, self._reporter_agency(chat, report, ref), lang)
                    + "\n"
                    + t("chat.notify.ask", lang),
                    _review_buttons(_id(report.id), lang),
                )
            )
        return out

    def _kept_messages(self, chat: _Chat, args: str) -> list[Outgoing]:
        """/tinnhan: what agencies wrote that is attached to no task, newest first."""
        lang, days = chat.lang, self.settings.kept_days
        # Questions nobody came back to are over: their held messages are unbound now.
        abandon_stale(chat.session, before=chat.at - self.settings.question_ttl)
        kept, total = unbound_messages(
            chat.session, since=chat.at - timedelta(days=days), limit=self.settings.list_limit
        )
        if not kept:
            return [chat.say(t("chat.messages.none", lang, days=days))]
        lines = [t("chat.messages.header", lang, days=days, n=total)]
        for n, message in enumerate(kept, 1):
            local = message.received_at.astimezone(ZONE)
            who = agency_name(self.directory, message.agency_code)
            if message.display_name:
                who += f" ({message.display_name})"
            lines.append(
                t(
                    "chat.messages.item",
                    lang,
                    n=n,
                    agency=who,
                    date=format_date(local.date()),
                    time=local.strftime("%H:%M"),
                    text=shorten(message.text, _LISTED),
                )
            )
        if total > len(kept):
            lines.append(t("chat.list.more", lang, n=total - len(kept)))
        lines += ["", t("chat.messages.hint", lang)]
        return [chat.say("\n".join(lines))]

    def _reporter_agency(self, chat: _Chat, report: ProgressReport, ref: AssignmentRef) -> str:
        contact = (
            chat.session.get(Contact, report.contact_id) if report.contact_id is not None else None
        )
        return agency_name(self.directory, contact.agency_code if contact else ref.agency_code)

    def _review(self, chat: _Chat, choice: ReviewChoice, *, typed: bool = False) -> list[Outgoing]:
        lang = chat.lang
        if not chat.coordinator:
            return self._denied(
                chat, f"review of report {choice.report_id}", key="chat.denied.review"
            )
        report = chat.session.get(ProgressReport, choice.report_id)
        refs = []
        if report is not None and report.kind == ProgressKind.DONE.value:
            refs = assignment_refs(chat.session, assignment_ids=[report.assignment_id])
        if report is None or not refs:
            gone = t("chat.review.gone", lang)
            return [chat.say(gone) if typed else chat.answer(gone)]
        coordinator = next(c for c in chat.contacts if c.role == ContactRole.COORDINATOR.value)
        reviewed = review_completion(
            chat.session,
            coordinator=coordinator,
            report=report,
            ref=refs[0],
            confirm=choice.confirm,
            at=chat.at,
            directory=self.directory,
            lang=lang,
        )
        said = chat.say(reviewed.text, edit=not typed, answer=None if typed else reviewed.answer)
        return [said, *reviewed.notifications]

    # --- chat state ----------------------------------------------------------------------------

    def _state(self, chat: _Chat) -> ChatState | None:
        incoming = chat.incoming
        state = loads(load_chat_state(chat.session, incoming.channel, incoming.chat_id))
        if state is None:
            return None
        if state.expired(incoming.at, self.settings.question_ttl):
            self._clear_state(chat)  # its held messages stay, unbound, and the person is told
            return None
        return state

    def _save_state(self, chat: _Chat, state: ChatState) -> None:
        self._abandon(chat, keep=state)
        save_chat_state(
            chat.session, chat.incoming.channel, chat.incoming.chat_id, state.dumps(), chat.at
        )

    def _clear_state(self, chat: _Chat) -> None:
        self._abandon(chat, keep=None)
        clear_chat_state(chat.session, chat.incoming.channel, chat.incoming.chat_id)

    def _abandon(self, chat: _Chat, keep: ChatState | None) -> None:
        """The held messages of the stored question that ``keep`` does not hold any more: marked
        unbound (those not made reports), to be mentioned to the person."""
        incoming = chat.incoming
        old = loads(load_chat_state(chat.session, incoming.channel, incoming.chat_id))
        if old is None or not old.replies:
            return
        still = {reply.inbound_id for reply in keep.replies} if keep is not None else set()
        gone = [reply for reply in old.replies if reply.inbound_id not in still]
        unstored = [reply.text for reply in gone if reply.inbound_id is None]
        if unstored:  # held by a version that did not store messages: the log is all there is
            log.info(
                "replies left without a task, %s chat %s: %r",
                incoming.channel,
                incoming.chat_id,
                unstored,
            )
        rows = abandon(chat.session, [r.inbound_id for r in gone if r.inbound_id is not None])
        chat.abandoned.extend(row.text for row in rows)

    def _mark(self, chat: _Chat, disposition: Disposition) -> None:
        if chat.inbound is not None and chat.inbound.id is not None:
            set_disposition(chat.session, chat.inbound.id, disposition)


def _keep(
    session: Session, incoming: Incoming, contacts: Sequence[Contact]
) -> InboundMessage | None:
    """Store the text of ``incoming`` (a button press has none): unbound until it becomes
    something else, or a stranger's."""
    if incoming.is_button or not incoming.text.strip():
        return None
    return record_message(
        session,
        channel=incoming.channel,
        chat_id=incoming.chat_id,
        text=incoming.text,
        received_at=incoming.at,
        disposition=Disposition.UNBOUND if contacts else Disposition.STRANGER,
        user_id=incoming.user_id,
        contact_id=contacts[0].id if contacts else None,
    )


def _help_line(command: Command, lang: str) -> str:
    alias = command.aliases[0] if command.aliases else command.name
    return t(
        "chat.help.command",
        lang,
        name=command.name,
        alias=alias,
        description=command.description(lang),
    )


_TYPED_REVIEW = re.compile(r"#?(\d{1,12})(?: +(tra ?lai|return))?")  # folded "/xacnhan" args


def _review_buttons(report_id: int, lang: str) -> Buttons:
    return (
        (
            review_button(t("chat.button.confirm", lang), report_id, True),
            review_button(t("chat.button.return", lang), report_id, False),
        ),
    )


def _choice_ids(buttons: Buttons) -> tuple[tuple[int, str], ...]:
    """The (assignment, occurrence) of each task button, in the order shown."""
    picks = (decode_pick(button.data) for row in buttons for button in row)
    return tuple((p.assignment_id, p.occurrence) for p in picks if p is not None)


def _due_of(occurrence: str) -> date | None:
    try:
        return date.fromisoformat(occurrence) if len(occurrence) == 10 else None
    except ValueError:
        return None


# Words people put around a plan or task number: "kế hoạch 289 nhiệm vụ 3", "KH 289, NV 3".
_FILLER = frozenset({"ke", "hoach", "kh", "so", "nhiem", "vu", "nv", "plan", "task", "stt", "tt"})
_TASK = re.compile(r"\d{1,3}(\.\d{1,3})*|bc")


def _plan_and_task(args: str, plans: Sequence[str]) -> tuple[str, str | None] | None:
    """ "289 3", "289/KH-UBND nv 3", "kế hoạch 289": (plan number, folded task number or None)."""
    words = [w for w in re.split(r"[\s,;]+", fold(args)) if w and w not in _FILLER]
    if not 1 <= len(words) <= 2:
        return None
    task = words[1] if len(words) == 2 else None
    if task is not None and _TASK.fullmatch(task) is None:
        return None
    for plan in plans:
        number = fold(plan)
        if words[0] in (number, number.split("/")[0]):
            return plan, task
    return None


def _id(value: int | None) -> int:
    if value is None:
        raise RuntimeError("row has no id")
    return value
