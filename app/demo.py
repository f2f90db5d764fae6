"""`nhacviec demo`: the whole cycle on the bundled sample plan, offline, in a few seconds.

A newcomer with no bot token sees what nhacviec does: the sample plan (689/KH-UBND, Nghệ An,
15/09/2025) is imported; five focal points (Sở Tài chính, Sở Nội vụ, Sở Khoa học và Công nghệ, Sở
Xây dựng, UBND xã Diễn Châu) and a coordinator (Sở Nội vụ) join with single-use invite codes,
through ``/start <code>`` in the conversation core on the ``console`` channel; then the real
reminder service (``scheduler.service.ReminderService``: planning, the outbox dispatcher and the
coordinators' daily digest) runs on a ``ManualClock`` from the plan's date to 31/12/2026, jumping
from one due send time to the next (``storage.reminder_queries.next_due``), and the focal points
answer through ``Conversation.handle`` as people would: replies to a digest, one-tap buttons, a
free-text message the bot must ask about, a late "xong rồi", "được 60%", a difficulty ("vướng:
chờ hướng dẫn của Bộ ..."), and the coordinator confirming each reported completion with the
confirm button. It ends with the coordinator's ``/status`` and a summary table.

What is printed: the first message each person receives, in full (a rich Panel, through
``bot.console.ConsoleChannel``); after that one line per send day; every exchange of the scripted
conversation in full. Nothing goes to a network.

Decisions:
- **The database.** The demo must start from nothing each time. A database is the demo's own when
  every plan in it is the sample plan, every contact is on the console channel and every invite
  code has been used: such a database (from an earlier ``demo``) is emptied, all tables but the
  agency directory, and filled again. Any other content (another plan, a Telegram or Zalo
  contact, an invite waiting for someone) makes the demo refuse with a clear message instead:
  it never wipes real work. An empty database is used as it is.
- **Fast, without changing what is sent.** The service plans hourly and runs the coordinators'
  digest every working day; both are idempotent and, on this plan, mostly find nothing new. Here
  planning runs every ``PLAN_EVERY_DAYS`` days (a third of the 45-day horizon, so every reminder
  is in the outbox weeks before its send time) and the digest job runs only on the working days
  whose window (see ``scheduler.coordinator_digest``) holds something that can appear in a digest:
  a report made, or a due date passed (a line turns overdue the day after its effective due date).
  On other days it would queue nothing. Each run costs tens of milliseconds over the plan's 1,200
  assignments, so running them daily would take a minute instead of seconds.
"""

import asyncio
import re
import time as wall
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import count

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy import delete, func
from sqlmodel import Session, SQLModel, col, select

from app.bootstrap import Services
from app.bundled import sample_plan
from app.cli_chat import build_conversation
from app.errors import UserError
from app.plan_files import read_plan_source
from bot.console import ConsoleChannel
from bot.core.buttons import decode_pick, decode_review
from bot.core.conversation import Conversation
from bot.core.messages import Incoming, Outgoing
from bot.core.onboarding import new_invite_code
from domain.agencies import Directory
from domain.calendar import WorkingCalendar, at_local, local_date
from domain.callbacks import ReminderAction
from domain.callbacks import decode as decode_reminder
from domain.delivery import Button, Outcome, OutgoingMessage, SendResult
from domain.digest import format_date
from domain.plan_import import PlanDraft, Role, build_plan
from domain.plans import ParsedPlan, parse_plan
from domain.status import COUNTED_STATES, State, StatusLine, counts_by_plan, label
from scheduler.clock import ManualClock
from scheduler.service import ReminderService, ServiceSettings
from storage import repository
from storage.invites import add_invite
from storage.models import (
    Assignment,
    Contact,
    ContactRole,
    Invite,
    Plan,
    ProgressReport,
    Reminder,
    ReminderState,
    Review,
    SentMessage,
    Task,
)
from storage.progress import digest_items
from storage.reminder_queries import next_due
from storage.status_lines import status_lines

CHANNEL = "console"
DEFAULT_START = date(2025, 9, 15)  # the sample plan's date
DEFAULT_END = date(2026, 12, 31)
PLAN_EVERY_DAYS = 14
DIRECTORY_TABLES = frozenset({"agency", "agency_group", "group_member"})
SEND_CHECK = time(9, 0)  # the morning's reminders (08:00) are out by then
FIRST_ANSWER = time(9, 30)
CONFIRM_AT = time(15, 0)
STATUS_AT = time(17, 0)
_ITEM = re.compile(r"^\d+\.\s", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Member:
    """A simulated person: their chat, agency (as the directory names it), role and name."""

    chat_id: str
    agency: str
    role: ContactRole
    person: str
    short: str  # how the one-line summaries name them


MEMBERS = (
    Member("stc", "Sở Tài chính", ContactRole.FOCAL, "Nguyễn Thị Hà", "Sở Tài chính"),
    Member("snv", "Sở Nội vụ", ContactRole.FOCAL, "Trần Văn Minh", "Sở Nội vụ"),
    Member("skhcn", "Sở Khoa học và Công nghệ", ContactRole.FOCAL, "Lê Quang Huy", "Sở KH&CN"),
    Member("sxd", "Sở Xây dựng", ContactRole.FOCAL, "Phạm Thu Trang", "Sở Xây dựng"),
    Member("xa", "UBND xã Diễn Châu", ContactRole.FOCAL, "Hoàng Văn Nam", "UBND xã Diễn Châu"),
    Member("dieuphoi", "Sở Nội vụ", ContactRole.COORDINATOR, "Đặng Thị Lan", "Điều phối"),
)
MEMBERS_BY_CHAT = {m.chat_id: m for m in MEMBERS}
COORDINATOR = "dieuphoi"
ROLE_WORDS = {
    ContactRole.FOCAL: "đầu mối",
    ContactRole.HEAD: "thủ trưởng",
    ContactRole.COORDINATOR: "điều phối",
}


@dataclass(frozen=True, slots=True)
class Answer:
    """A focal point answers the first digest they receive on or after ``after`` that lists
    ``task``: with ``text`` as a reply to it ("N. " put in front when the digest lists several
    tasks), or by pressing the ``button`` of that task."""

    chat_id: str
    task: str
    after: date
    text: str = ""
    button: ReminderAction | None = None


@dataclass(frozen=True, slots=True)
class Message:
    """A message written on ``on`` without replying to anything; when the bot asks which task
    it is about, the person presses the button of ``pick``."""

    chat_id: str
    on: date
    text: str
    pick: str | None = None


ANSWERS = (
    Answer("snv", "4", date(2025, 10, 1), "Đang thực hiện: đã kiểm tra 6 sở và 12 xã, phường"),
    Answer("stc", "BC", date(2025, 12, 10), "Đã gửi báo cáo số 245/BC-STC ngày 11/12/2025"),
    Answer("skhcn", "BC", date(2025, 12, 15), "Đã nộp báo cáo số 1180/BC-SKHCN"),
    Answer("stc", "9", date(2025, 12, 24), button=ReminderAction.DONE),
    Answer(
        "snv",
        "1",
        date(2025, 12, 30),
        "Đã hoàn thành, UBND tỉnh đã ban hành Quyết định số 3150/QĐ-UBND",
    ),
    Answer("skhcn", "5", date(2026, 1, 5), "xong rồi"),
    Answer("xa", "6", date(2026, 6, 16), "được 60%"),
    Answer("stc", "8", date(2026, 6, 23), "Đã xong, đã trình phương án số 112/PA-STC"),
)
MESSAGES = (
    Message(
        "sxd",
        date(2025, 11, 10),
        "Vướng: chờ hướng dẫn của Bộ Xây dựng về quy hoạch theo địa giới hành chính mới",
        pick="7",
    ),
)


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What the demo did, as counted from the database at its end."""

    start: date
    end: date
    reset: bool  # an earlier demo's data was wiped first
    members: int
    messages_sent: int  # chat messages the dispatcher sent (digests, notices)
    conversation_messages: int  # answers and notifications from the conversation core
    reminders_sent: int  # outbox rows delivered
    reminders_skipped: int  # outbox rows dropped (e.g. the task was reported done meanwhile)
    replies: int  # progress_report rows
    confirmed: int  # completions a coordinator confirmed
    status: dict[State, int]  # lead lines per counted state on ``end``, as /status counts them
    status_text: str  # the coordinator's /status answer
    seconds: float = 0.0  # wall time


@dataclass(frozen=True, slots=True)
class _Delivered:
    chat_id: str
    message_id: str
    at: datetime
    message: OutgoingMessage


class DemoChannel:
    """The demo's ``console`` channel: keeps every message with an id (replies bind to digests
    through it) and lets the demo decide what to print."""

    def __init__(self, clock: ManualClock) -> None:
        self._clock = clock
        self._ids = count(1)
        self.delivered: list[_Delivered] = []

    @property
    def name(self) -> str:
        return CHANNEL

    @property
    def max_text(self) -> int:
        return 4096

    def new_id(self) -> str:
        return str(next(self._ids))

    async def send(self, message: OutgoingMessage) -> SendResult:
        message_id = self.new_id()
        self.delivered.append(_Delivered(message.chat_id, message_id, self._clock.now(), message))
        return SendResult(Outcome.SENT, message_id=message_id)


# --- the database ---------------------------------------------------------------------------------


def prepare_database(services: Services, plan_number: str) -> bool:
    """Empty an earlier demo's database (True), accept an empty one (False), refuse anything else
    with a ``UserError`` (see the module's notes)."""
    with services.session() as session:
        plans = set(session.exec(select(Plan.number)).all())
        channels = set(session.exec(select(Contact.channel)).all())
        unused = session.exec(
            select(func.count()).select_from(Invite).where(col(Invite.used_at).is_(None))
        ).one()
        found = [f"kế hoạch {number}" for number in sorted(plans - {plan_number})]
        found += [f"liên hệ qua {channel}" for channel in sorted(channels - {CHANNEL})]
        if unused:
            found.append(f"{unused} mã mời chưa dùng")
        if found:
            raise UserError(
                f"Cơ sở dữ liệu này có dữ liệu không phải của bản chạy thử ({', '.join(found)}); "
                "lệnh demo không xóa dữ liệu thật. Hãy chạy thử trên một tệp riêng, ví dụ: "
                "nhacviec --db sqlite:///nhacviec-demo.db demo"
            )
        used = bool(plans or channels) or any(
            session.exec(select(func.count()).select_from(table)).one()
            for table in (Reminder, ProgressReport, Invite)
        )
        if not used:
            return False
        for table in reversed(SQLModel.metadata.sorted_tables):
            if table.name not in DIRECTORY_TABLES:
                session.execute(delete(table))
        session.commit()
    return True


def _import_sample(
    services: Services, parsed: ParsedPlan, directory: Directory, now: datetime
) -> PlanDraft:
    reminders = services.config.reminders
    draft = build_plan(
        parsed, directory, report_due=(reminders.report_due_month, reminders.report_due_day)
    )
    with services.session() as session:
        repository.save_plan(session, draft, now=now)
        session.commit()
    return draft


# --- the run ------------------------------------------------------------------------------------


@dataclass
class _Pending:
    """A coordinator's confirm button, to press in the afternoon."""

    message_id: str
    button: Button


@dataclass
class _Run:
    services: Services
    console: Console
    clock: ManualClock
    channel: DemoChannel
    conversation: Conversation
    service: ReminderService
    directory: Directory
    calendar: WorkingCalendar
    labels: dict[str, str]
    short: dict[str, str]
    tasks: dict[int, str]  # assignment id -> task number
    pause: float
    plan_every: int  # days between two planning runs
    shown_chats: set[str] = field(default_factory=set)
    printed: int = 0  # channel.delivered already shown
    conversation_count: int = 0
    confirms: list[_Pending] = field(default_factory=list)
    report_days: set[date] = field(default_factory=set)
    due_days: set[date] = field(default_factory=set)
    answered: set[int] = field(default_factory=set)  # indexes of ANSWERS done
    # The outbox's next send time, cached: asking costs three queries, and most days nothing
    # changes it (planning, a digest, a dispatch tick and a conversation turn may).
    next_send: datetime | None = None
    next_known: bool = False

    # --- printing -------------------------------------------------------------------------------

    async def panel(
        self, chat_id: str, text: str, buttons: Sequence[Sequence[Button]] = ()
    ) -> None:
        """One message as a panel, through the console channel."""
        shown = ConsoleChannel(console=self.console, labels=self.labels)
        rows = tuple(tuple(row) for row in buttons)
        await shown.send(OutgoingMessage(chat_id, text, rows))

    def line(self, text: str) -> None:
        self.console.print(text, highlight=False)

    async def show_sends(self) -> None:
        """The messages the dispatcher sent since last time: each person's first in full, the
        rest as one line per send day."""
        fresh = self.channel.delivered[self.printed :]
        self.printed = len(self.channel.delivered)
        by_day: dict[date, list[_Delivered]] = {}
        for sent in fresh:
            by_day.setdefault(local_date(sent.at), []).append(sent)
        for sends in by_day.values():
            summarized: list[_Delivered] = []
            first_today: set[str] = set()
            for sent in sends:
                if sent.chat_id in first_today:
                    continue  # a further part of a first message, counted below it
                if sent.chat_id in self.shown_chats:
                    summarized.append(sent)
                    continue
                self.shown_chats.add(sent.chat_id)
                first_today.add(sent.chat_id)
                self.line(
                    f"[bold cyan]{_when(sent.at)}[/] tin nhắc việc đầu tiên gửi "
                    f"{escape(self.labels[sent.chat_id])}:"
                )
                await self.panel(sent.chat_id, sent.message.text, sent.message.buttons)
                parts = sum(1 for s in sends if s.chat_id == sent.chat_id)
                if parts > 1:
                    self.line(f"  [dim](và {parts - 1} phần tiếp theo của tin này)[/]")
            self._summary_line(summarized)
            if self.pause:
                await asyncio.sleep(self.pause)

    def _summary_line(self, sends: Sequence[_Delivered]) -> None:
        if not sends:
            return
        per_chat: dict[str, list[_Delivered]] = {}
        for sent in sends:
            per_chat.setdefault(sent.chat_id, []).append(sent)
        parts = []
        for chat_id, messages in per_chat.items():
            items = sum(len(_ITEM.findall(m.message.text)) for m in messages)
            what = f"{items} việc" if items else "tổng hợp"
            if len(messages) > 1:
                what += f", {len(messages)} tin"
            parts.append(f"{self.short[chat_id]} ({what})")
        self.line(f"[cyan]{_when(sends[0].at)}[/] {len(sends)} tin nhắc: " + " · ".join(parts))

    # --- the scheduler --------------------------------------------------------------------------

    async def advance(self, until: datetime) -> None:
        """Dispatch everything due before ``until``, jumping from one due moment to the next."""
        while True:
            if not self.next_known:
                with Session(self.services.engine) as session:
                    self.next_send = next_due(session)
                self.next_known = True
            moment = self.next_send
            if moment is None or moment >= until:
                break
            self.clock.set(max(moment, self.clock.now()))
            await self.service.dispatch(self.clock.now())
            self.next_known = False
        if until > self.clock.now():
            self.clock.set(until)
        await self.show_sends()

    async def plan(self) -> None:
        await self.service.plan(self.clock.now())
        self.next_known = False

    async def coordinator_digest(self) -> None:
        await self.service.coordinator_digest(self.clock.now())
        self.next_known = False

    def digest_due(self, day: date) -> bool:
        """Whether the coordinators' digest of ``day`` can hold anything (module notes)."""
        if not self.calendar.is_working_day(day):
            return False
        since = self.calendar.add_working_days(day, -1) - timedelta(days=1)
        until = day - timedelta(days=1)
        events = self.report_days | self.due_days
        return any(since < event <= until for event in events)

    # --- the conversation -----------------------------------------------------------------------

    def incoming(
        self,
        chat_id: str,
        *,
        text: str = "",
        message_id: str | None = None,
        reply_to: str | None = None,
        callback_data: str | None = None,
    ) -> Incoming:
        member = MEMBERS_BY_CHAT.get(chat_id)
        return Incoming(
            channel=CHANNEL,
            chat_id=chat_id,
            at=self.clock.now(),
            text=text,
            user_id=chat_id,
            message_id=message_id,
            reply_to_message_id=reply_to,
            callback_data=callback_data,
            display_name=member.person if member else "",
        )

    async def say(self, chat_id: str, text: str, *, reply_to: str | None = None) -> list[Outgoing]:
        where = " (trả lời tin nhắc việc)" if reply_to else ""
        self.line(
            f"[bold yellow]{_when(self.clock.now())}[/] {escape(self.labels[chat_id])} "
            f"nhắn{where}: [italic]«{escape(text)}»[/]"
        )
        incoming = self.incoming(
            chat_id, text=text, message_id=self.channel.new_id(), reply_to=reply_to
        )
        return await self.carry_out(incoming)

    async def press(self, chat_id: str, button: Button, message_id: str) -> list[Outgoing]:
        self.line(
            f"[bold yellow]{_when(self.clock.now())}[/] {escape(self.labels[chat_id])} "
            f"bấm nút [bold]{escape('[' + button.label + ']')}[/]"
        )
        incoming = self.incoming(chat_id, callback_data=button.data, message_id=message_id)
        return await self.carry_out(incoming)

    async def carry_out(self, incoming: Incoming) -> list[Outgoing]:
        """Hand ``incoming`` to the conversation core and do what an adapter does with the
        answers: show them, give them ids, remember the coordinator's confirm buttons."""
        out = self.conversation.handle(incoming)
        self.next_known = False
        self.report_days.add(local_date(incoming.at))
        for item in out:
            if item.answer_callback and item.answer_callback != item.text:
                self.line(f"  [dim](thông báo nhanh: {escape(item.answer_callback)})[/]")
            if not item.text:
                continue
            self.conversation_count += 1
            message_id = item.edit_message_id or self.channel.new_id()
            if item.notify:
                self.line(f"  [magenta]Thông báo gửi {escape(self.labels[item.chat_id])}:[/]")
            await self.panel(item.chat_id, item.text, item.buttons)
            for row in item.buttons:
                for button in row:
                    choice = decode_review(button.data)
                    if choice is not None and choice.confirm and item.chat_id == COORDINATOR:
                        self.confirms.append(_Pending(message_id, button))
        return out

    def digests_today(self, chat_id: str, day: date) -> list[_Delivered]:
        return [
            d
            for d in self.channel.delivered
            if d.chat_id == chat_id and local_date(d.at) == day and d.message.buttons
        ]

    async def answer(self, answer: Answer, day: date) -> bool:
        """Carry out ``answer`` if today's digests list its task; whether it did."""
        for sent in self.digests_today(answer.chat_id, day):
            with Session(self.services.engine) as session:
                items = digest_items(session, CHANNEL, answer.chat_id, sent.message_id) or []
            numbers = [
                n for n, (aid, _) in enumerate(items, 1) if self.tasks.get(aid) == answer.task
            ]
            if not numbers:
                continue
            if answer.button is not None:
                button = next(
                    b
                    for row in sent.message.buttons
                    for b in row
                    if (pressed := decode_reminder(b.data)) is not None
                    and pressed.action is answer.button
                    and self.tasks.get(pressed.assignment_id) == answer.task
                )
                await self.press(answer.chat_id, button, sent.message_id)
                return True
            text = answer.text if len(items) == 1 else f"{numbers[0]}. {answer.text}"
            await self.say(answer.chat_id, text, reply_to=sent.message_id)
            return True
        return False

    async def message(self, message: Message) -> None:
        out = await self.say(message.chat_id, message.text)
        if message.pick is None:
            return
        for item in out:
            for row in item.buttons:
                for button in row:
                    pick = decode_pick(button.data)
                    if pick is not None and self.tasks.get(pick.assignment_id) == message.pick:
                        self.clock.set(self.clock.now() + timedelta(minutes=2))
                        await self.press(message.chat_id, button, self.channel.new_id())
                        return

    async def confirm_all(self) -> None:
        pending, self.confirms = self.confirms, []
        for waiting in pending:
            await self.press(COORDINATOR, waiting.button, waiting.message_id)
            self.clock.set(self.clock.now() + timedelta(minutes=5))


def _when(moment: datetime) -> str:
    return f"{format_date(local_date(moment))} {moment:%H:%M}"


def _assignment_tasks(session: Session, plan_number: str) -> dict[int, str]:
    rows = session.exec(
        select(Assignment.id, Task.number)
        .join(Task, col(Task.id) == col(Assignment.task_id))
        .join(Plan, col(Plan.id) == col(Task.plan_id))
        .where(Plan.number == plan_number)
    ).all()
    return {aid: number for aid, number in rows if aid is not None}


def _agency_code(directory: Directory, name: str) -> str:
    found = directory.resolve(name)
    if found.agency is None:
        raise UserError(f"Danh bạ không có '{name}', cơ quan mà bản chạy thử cần.")
    return found.agency


def _lead_counts(lines: Sequence[StatusLine]) -> dict[State, int]:
    counter: Counter[State] = Counter()
    for per_plan in counts_by_plan([line for line in lines if line.role == "lead"]).values():
        counter.update(per_plan)
    return {state: counter[state] for state in COUNTED_STATES}


async def _simulate(run: _Run, start: date, end: date) -> str:
    console, clock = run.console, run.clock
    # Joining: the coordinating office issues codes (as `nhacviec invite` does), people send them.
    clock.set(at_local(start, time(8, 10)))
    stranger = "khach"
    run.labels[stranger] = "Một người chưa đăng ký"
    await run.say(stranger, "/viec")
    console.rule("[bold]Đăng ký nhận nhắc việc bằng mã mời[/]")
    for n, member in enumerate(MEMBERS):
        clock.set(at_local(start, time(8, 15)) + timedelta(minutes=3 * n))
        code = new_invite_code()
        with run.services.session() as session:
            add_invite(
                session,
                code=code,
                agency_code=_agency_code(run.directory, member.agency),
                role=member.role,
                created_at=clock.now(),
                expires_at=clock.now() + timedelta(days=7),
            )
            session.commit()
        await run.say(member.chat_id, f"/start {code}")

    console.rule(
        f"[bold]Dịch vụ nhắc việc chạy trên đồng hồ mô phỏng: {format_date(start)} → "
        f"{format_date(end)}[/]"
    )
    day = start
    last_planning: date | None = None
    while day <= end:
        await run.advance(at_local(day, time(7, 0)))
        if last_planning is None or (day - last_planning).days >= run.plan_every:
            await run.plan()
            last_planning = day
        if run.digest_due(day):
            await run.advance(at_local(day, time(8, 0)))
            await run.coordinator_digest()
        await run.advance(at_local(day, SEND_CHECK))

        clock.set(max(clock.now(), at_local(day, FIRST_ANSWER)))
        for index, answer in enumerate(ANSWERS):
            if index not in run.answered and day >= answer.after and await run.answer(answer, day):
                run.answered.add(index)
                clock.set(clock.now() + timedelta(minutes=20))
        for message in MESSAGES:
            if message.on == day:
                await run.message(message)
                clock.set(clock.now() + timedelta(minutes=20))
        if run.confirms:
            clock.set(max(clock.now(), at_local(day, CONFIRM_AT)))
            await run.confirm_all()
        day += timedelta(days=1)

    # The coordinator asks for the overall status at the end of the last day.
    await run.advance(at_local(end, STATUS_AT))
    console.rule(f"[bold]Cán bộ điều phối hỏi /status ngày {format_date(end)}[/]")
    out = await run.say(COORDINATOR, "/status")
    return next((item.text for item in out if item.chat_id == COORDINATOR and item.text), "")


def run_demo(
    services: Services,
    *,
    console: Console,
    start: date | None = None,
    end: date | None = None,
    pause: float = 0.0,
) -> DemoSummary:
    """Run the demo on ``services``' database (see the module's notes) and print it on ``console``.

    ``start`` defaults to the sample plan's date, ``end`` to 31/12/2026; ``pause`` is the wall
    time, in seconds, to wait after each simulated send day (0: as fast as it goes).
    """
    began = wall.monotonic()
    parsed = parse_plan(read_plan_source(sample_plan()))
    if parsed.meta.number is None:  # the bundled file names itself; this keeps the types honest
        raise UserError(f"Kế hoạch mẫu {sample_plan()} không ghi số kế hoạch.")
    first = start or parsed.meta.issued_on or DEFAULT_START
    last = end or DEFAULT_END
    if last < first:
        raise UserError(
            f"Ngày kết thúc {format_date(last)} trước ngày bắt đầu {format_date(first)}."
        )
    reset = prepare_database(services, parsed.meta.number)
    directory = services.directory()

    console.rule("[bold]nhacviec: chạy thử toàn bộ quy trình, không cần mạng, không cần bot[/]")
    if reset:
        console.print("Đã xóa dữ liệu của lần chạy thử trước (giữ danh bạ cơ quan).")
    clock = ManualClock(at_local(first, time(8, 0)))
    draft = _import_sample(services, parsed, directory, clock.now())
    console.print(
        f"Đã nhập kế hoạch mẫu {draft.number} ngày "
        f"{format_date(draft.issued_on) if draft.issued_on else '—'}: {len(draft.tasks)} nhiệm "
        f"vụ; danh bạ {len(directory.agencies)} cơ quan, đơn vị.",
        highlight=False,
    )
    console.print(_task_table(draft, directory))

    channel = DemoChannel(clock)
    reminders = services.config.reminders
    settings = ServiceSettings(
        policy=services.policy,
        horizon_days=reminders.horizon_days,
        require_confirmation=services.config.status.require_confirmation,
        worker_id="demo",
    )
    service = ReminderService(services, {CHANNEL: channel}, clock, settings)
    labels = {m.chat_id: f"{m.agency} · {m.person} ({ROLE_WORDS[m.role]})" for m in MEMBERS}
    with services.session() as session:
        tasks = _assignment_tasks(session, draft.number)
        lines = status_lines(session, directory=directory, calendar=services.calendar, on=last)
    due_days = {
        moment + timedelta(days=1)
        for line in lines
        if line.due is not None
        for moment in (line.due, services.calendar.effective_due(line.due))
    }
    run = _Run(
        services=services,
        console=console,
        clock=clock,
        channel=channel,
        conversation=build_conversation(services),
        service=service,
        directory=directory,
        calendar=services.calendar,
        labels=labels,
        short={m.chat_id: m.short for m in MEMBERS},
        tasks=tasks,
        pause=pause,
        # A third of the horizon at most: each reminder is planned twice before it is due.
        plan_every=max(1, min(PLAN_EVERY_DAYS, reminders.horizon_days // 3)),
        due_days=due_days,
    )
    status_text = asyncio.run(_simulate(run, first, last))
    summary = _summarize(run, first, last, reset, status_text, began)
    _print_summary(console, summary)
    return summary


def _summarize(
    run: _Run, first: date, last: date, reset: bool, status_text: str, began: float
) -> DemoSummary:
    services = run.services
    with services.session() as session:
        states = Counter(session.exec(select(Reminder.state)).all())
        replies = session.exec(select(func.count()).select_from(ProgressReport)).one()
        confirmed = session.exec(
            select(func.count())
            .select_from(ProgressReport)
            .where(ProgressReport.review == Review.CONFIRMED.value)
        ).one()
        messages = session.exec(select(func.count()).select_from(SentMessage)).one()
        lines = status_lines(
            session,
            directory=run.directory,
            calendar=services.calendar,
            on=last,
            require_confirmation=services.config.status.require_confirmation,
        )
    return DemoSummary(
        start=first,
        end=last,
        reset=reset,
        members=len(MEMBERS),
        messages_sent=messages,
        conversation_messages=run.conversation_count,
        reminders_sent=states[ReminderState.SENT.value],
        reminders_skipped=states[ReminderState.SKIPPED.value],
        replies=replies,
        confirmed=confirmed,
        status=_lead_counts(lines),
        status_text=status_text,
        seconds=wall.monotonic() - began,
    )


def _task_table(draft: PlanDraft, directory: Directory) -> Table:
    table = Table(title=f"Kế hoạch {draft.number}", title_justify="left")
    for column in ("TT", "Nhiệm vụ", "Thời hạn", "Chủ trì"):
        table.add_column(column, overflow="fold")
    for task in draft.tasks:
        leads = [directory.agencies[a.agency].name for a in task.assignments if a.role is Role.LEAD]
        lead = leads[0] if len(leads) == 1 else f"{len(leads)} cơ quan, đơn vị"
        title = task.title if len(task.title) <= 70 else task.title[:69] + "…"
        table.add_row(task.number, escape(title), escape(task.deadline.text), escape(lead))
    return table


def _print_summary(console: Console, summary: DemoSummary) -> None:
    table = Table(title="Tổng kết chạy thử", title_justify="left")
    table.add_column("Chỉ tiêu")
    table.add_column("Số liệu", justify="right")
    rows = [
        ("Thời gian mô phỏng", f"{format_date(summary.start)} → {format_date(summary.end)}"),
        ("Người tham gia (đầu mối và điều phối)", str(summary.members)),
        ("Tin nhắc việc, tổng hợp đã gửi", str(summary.messages_sent)),
        ("Lượt nhắc (việc × người nhận) đã gửi", str(summary.reminders_sent)),
        ("Lượt nhắc bỏ qua (việc đã báo cáo xong...)", str(summary.reminders_skipped)),
        ("Tin trả lời và thông báo của bot", str(summary.conversation_messages)),
        ("Báo cáo tiến độ đã lưu", str(summary.replies)),
        ("Hoàn thành được điều phối xác nhận", str(summary.confirmed)),
    ]
    rows += [(f"Nhiệm vụ: {label(state)}", str(n)) for state, n in summary.status.items()]
    for name, value in rows:
        table.add_row(name, value)
    console.print(table)
    seconds = f"{summary.seconds:.1f}".replace(".", ",")
    console.print(f"Hoàn tất sau {seconds} giây (thời gian thực).", highlight=False)
