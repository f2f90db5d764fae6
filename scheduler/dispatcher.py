"""The dispatcher: claim due outbox rows, send one digest per person, record what happened.

Each ``tick(now)``:

1. claims the due rows (``storage.outbox.claim_due``: a lease, safe with several dispatchers),
   all of them up to ``max_rows_per_tick``, so that a person's rows travel together;
2. skips, with a reason kept on the row, those no longer worth sending: the occurrence was
   reported done, the task left the plan, the contact stopped receiving, the row is older than
   ``stale_after``, or a later step of the same occurrence is due too (after downtime, "7 days
   left" is not sent next to "1 day overdue": ``domain.reminders.supersede``);
3. chooses, for each person, the chat that can take their rows now (below), groups the rows per
   chat into ONE digest (their language, split under the channel's limit without cutting an
   item), coordinator notices appended (one with buttons, a completion to confirm, as a message
   of its own: ``scheduler.messages``; on Zalo, which has no buttons, with what to type instead),
   and sends it;
4. records each message sent (``SentMessage``: replies and buttons are bound through it) and
   marks the rows: sent; failed and retried with exponential backoff (transient error, given up
   after ``max_attempts`` claims); failed for good (the message itself is wrong); unreachable
   (the person blocked the bot: the contact is marked and the coordinators get a notice).
   A "retry after N seconds" pauses the whole channel: the row that met it counts one failed
   try, the others are handed back untouched until then.

One person, several channels: a row belongs to the person's preferred contact (planning puts it
there), but the message goes to the first of the person's contacts, by preference, that can take
it now (``domain.channel_choice``): a Zalo chat whose interaction window has closed (the person
has not written for ``window``) is passed over for the person's Telegram. When none can, the rows
are marked unreachable with the reason ``OUTSIDE_ZALO_WINDOW``, the Zalo contact is marked
unreachable (until the person writes again) and the coordinators are told. Should Zalo refuse a
send for the same reason (-230/-232: our record was behind), the rest of that digest goes to the
person's next chat in the same tick. Every message on Zalo ends by inviting a reply, which keeps
the window open.

Sending stops after half the lease; the rows of the people not reached yet are handed back whole,
for the next tick, before another dispatcher could take them over.

Sending is a rolling window of ``concurrency`` digests: the next starts as soon as one ends, so a
long digest (several messages, a second apart in its chat) holds up no other. Delivery is at
least once: outcomes are written in batches as digests finish (``_Recorder``: one write at a
time, up to ``RECORD_BATCH`` digests or after ``RECORD_AFTER_SECONDS``), so a process killed
between a send and its record resends those digests once their lease expires. Database work runs
in worker threads (``asyncio.to_thread``), each call with its own session.
"""

import asyncio
import logging
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session

from domain.agencies import Directory
from domain.calendar import WorkingCalendar, local_date
from domain.channel_choice import OUTSIDE_ZALO_WINDOW, ZALO, InteractionWindow, can_take
from domain.deadlines import DeadlineKind
from domain.delivery import Channel, Outcome, OutgoingMessage, SendResult
from domain.digest import DigestItem, format_date
from domain.i18n import t
from domain.reminders import CHECKIN_STEP, PRECONDITION, supersede
from scheduler.messages import Composed, Line, Notice, Part, compose, utf16_length
from storage import outbox, recipients, reminder_queries
from storage.models import Audience, Contact
from storage.outbox import ClaimedReminder
from storage.progress import assignment_refs
from storage.recipients import ContactInfo, PersonKey
from storage.reminder_queries import AssignmentDetail, SentRecord

log = logging.getLogger(__name__)

RECORD_BATCH = 64  # digests whose outcomes are written together
RECORD_AFTER_SECONDS = 1.0  # ... or fewer, once the oldest has waited this long

REASON_DONE = "đã báo cáo hoàn thành"
REASON_NOT_IN_PLAN = "nhiệm vụ không còn trong kế hoạch"
REASON_PRECONDITION_MET = "điều kiện triển khai đã được đáp ứng"
REASON_CONTACT_GONE = "đầu mối đã ngừng nhận nhắc việc"
REASON_CONTACT_UNREACHABLE = "đầu mối không nhận được tin nhắn: {reason}"
REASON_STALE = "quá thời hạn gửi (dự kiến gửi {date})"
REASON_EMPTY_NOTICE = "thông báo không có nội dung"
REASON_DUPLICATE = "trùng nhắc việc gửi cho cùng người qua kênh khác"
ERROR_NO_CHANNEL = "chưa cấu hình kênh {channel}"

CHANNEL_NAMES = {"telegram": "Telegram", "zalo": "Zalo", "console": "màn hình"}
UNREACHABLE_NOTICE = {
    "vi": (
        "Thông báo: hệ thống không gửi được nhắc việc đến {who} ({agency}) qua {channel} "
        "(lý do: {error}). Đề nghị liên hệ để cập nhật thông tin đầu mối nhận nhắc việc."
    ),
    "en": (
        "Notice: reminders could not be delivered to {who} ({agency}) on {channel} "
        "(reason: {error}). Please get in touch and update the focal point."
    ),
}


# Ends a Zalo message that does not already ask for an answer (a head's escalation, a notice): a
# reply keeps the interaction window open, so the next reminder can still be sent on Zalo.
ZALO_REPLY_HINT = {
    "vi": (
        'Đề nghị anh/chị trả lời tin nhắn này (ví dụ: gửi "viec" để xem danh sách nhiệm vụ) '
        "để tiếp tục nhận nhắc việc qua Zalo."
    ),
    "en": (
        'Please reply to this message (for example, send "viec" to list your tasks) '
        "to keep receiving reminders on Zalo."
    ),
}


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delay before retrying a transient failure: base * 2^(tries - 1), at most ``cap``.

    ``jitter`` (0..1) shortens each delay by up to that fraction, spread by the row's id so that
    rows failed together are not retried together; it is deterministic, so tests can predict it.
    """

    base: timedelta = timedelta(seconds=30)
    cap: timedelta = timedelta(hours=1)
    jitter: float = 0.0

    def delay(self, attempts: int, row_id: int = 0) -> timedelta:
        exponent = min(max(attempts, 1) - 1, 30)
        delay = min(self.cap, self.base * (1 << exponent))
        if self.jitter:
            spread = ((row_id * 2654435761 + attempts * 40503) % 1000) / 1000
            delay *= 1 - self.jitter * spread
        return delay


@dataclass
class TickReport:
    claimed: int = 0
    messages: int = 0  # chat messages sent
    sent: int = 0  # rows delivered
    skipped: int = 0
    failed: int = 0  # rows to retry later
    given_up: int = 0  # rows failed for good
    deferred: int = 0  # rows handed back untried (channel paused or missing)
    unreachable: int = 0
    notices: int = 0  # coordinator notices queued
    lost: int = 0  # outcomes refused: another dispatcher took the row over
    skip_reasons: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class _Context:
    contacts: dict[int, ContactInfo]
    details: dict[int, AssignmentDetail]
    done: dict[int, set[str]]  # assignment -> occurrence keys reported done
    people: dict[PersonKey, list[ContactInfo]]  # every contact of the rows' people, by preference


@dataclass(frozen=True, slots=True)
class _Route:
    """Where one contact's rows go now."""

    contact: ContactInfo | None  # the chat that carries them; None: no chat of the person can
    channel_key: str | None = None  # its sender; None: held until that channel is configured
    fallbacks: tuple[ContactInfo, ...] = ()  # the person's next chats, should Zalo refuse
    closed: tuple[ContactInfo, ...] = ()  # nobody: the person's Zalo chats closed by silence


@dataclass(frozen=True, slots=True)
class _Digest:
    """One chat's rows, as triage chose them; worded only when its turn to be sent comes."""

    contact: ContactInfo
    channel_key: str
    rows: list[ClaimedReminder]
    fallbacks: tuple[ContactInfo, ...] = ()


@dataclass
class _Group:
    contact: ContactInfo
    channel_key: str
    rows: list[ClaimedReminder]
    composed: Composed
    fallbacks: tuple[ContactInfo, ...] = ()


@dataclass
class _Result:
    group: _Group
    sent: list[tuple[Part, str, str]] = field(default_factory=list)  # part, chat id, message id
    outcome: SendResult | None = None  # the failure that stopped it
    failed_rows: tuple[int, ...] = ()
    deferred_until: datetime | None = None  # paused before (or by another's) 429
    new_chat_id: str | None = None
    handed_on: bool = False  # Zalo's window was closed: the failed rows went to the next chat


@dataclass(frozen=True, slots=True)
class _Closed:
    """Rows nobody can take: the person's only chats are Zalo chats closed by silence."""

    contact: ContactInfo  # the rows' contact
    rows: list[ClaimedReminder]
    zalo: tuple[ContactInfo, ...]  # the chats to mark unreachable


@dataclass
class _Triage:
    skips: list[tuple[int, str]] = field(default_factory=list)
    releases: list[tuple[int, datetime]] = field(default_factory=list)
    groups: list[_Digest] = field(default_factory=list)
    closed: list[_Closed] = field(default_factory=list)


def _pinned(row: ClaimedReminder) -> bool:
    """A notice meant for that very chat (a Zalo check-in), never carried by another one."""
    return bool((row.payload or {}).get("pinned"))


def _closed_by_window(result: SendResult) -> bool:
    """Zalo refused: the user has been silent too long (``bot.zalo.channel.refused_for_window``)."""
    return result.outcome is Outcome.UNREACHABLE and result.error.startswith(OUTSIDE_ZALO_WINDOW)


class Dispatcher:
    def __init__(
        self,
        engine: Engine,
        channels: Mapping[str, Channel],
        *,
        directory: Directory | Callable[[], Directory],
        calendar: WorkingCalendar,
        worker_id: str,
        lease: timedelta = timedelta(minutes=5),
        batch_size: int = 2000,
        max_rows_per_tick: int = 50_000,
        backoff: Backoff | None = None,
        max_attempts: int = 20,
        stale_after: timedelta = timedelta(days=14),
        concurrency: int = 8,
        fallback_channel: str | None = None,
        window: InteractionWindow | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """``channels`` maps a contact's channel ("telegram", "zalo", "console") to its sender;
        ``fallback_channel`` names the one used for contacts whose own channel is missing (the
        console in a demo), None to keep their rows waiting until it is configured.
        ``window`` is Zalo's interaction window: a Zalo chat silent for longer is not tried;
        None tries every Zalo chat (Zalo's own refusal is still handled). ``batch_size`` rows
        are claimed per statement: each claim reads through the due rows left, so 18,000 rows
        take 9 statements rather than 36 at 500, each holding SQLite's write lock a few ms."""
        if fallback_channel is not None and fallback_channel not in channels:
            raise ValueError(f"fallback channel {fallback_channel!r} is not among the channels")
        self.engine = engine
        self.channels = dict(channels)
        # A loader is called the first time names are needed, in a worker thread (``_prepare``):
        # a service's start and its ticks with nothing due never read the directory.
        self._directory = directory if isinstance(directory, Directory) else None
        self._load_directory = None if isinstance(directory, Directory) else directory
        self._directory_lock = threading.Lock()  # the tick and a planning run may both ask
        self.calendar = calendar
        self.worker_id = worker_id
        self.lease = lease
        self.batch_size = batch_size
        self.max_rows_per_tick = max_rows_per_tick
        self.backoff = backoff or Backoff()
        self.max_attempts = max_attempts
        self.stale_after = stale_after
        self.concurrency = concurrency
        self.fallback_channel = fallback_channel
        self.window = window
        self.paused_until: dict[str, datetime] = {}
        # Sending stops at half the lease: the rest is handed back before anyone may take it over.
        self.send_budget = lease.total_seconds() / 2
        self._monotonic = monotonic

    @property
    def directory(self) -> Directory:
        if self._directory is None:
            with self._directory_lock:
                if self._directory is None:
                    assert self._load_directory is not None
                    self._directory = self._load_directory()
        return self._directory

    @directory.setter
    def directory(self, directory: Directory) -> None:
        self._directory = directory

    # --- the tick -----------------------------------------------------------------------------

    async def tick(self, now: datetime) -> TickReport:
        report = TickReport()
        claimed = await asyncio.to_thread(self._claim, now)
        report.claimed = len(claimed)
        if not claimed:
            return report
        # Deciding what to send reads the database: off the event loop, like all database work.
        context, triage = await asyncio.to_thread(self._prepare, claimed, now, report)
        by_id = {row.id: row for row in claimed}
        recorder = _Recorder(
            lambda results: self._record(results, by_id, context, now, report),
            self._monotonic,
        )
        # A rolling window: a new digest starts as soon as any of the ``concurrency`` in flight
        # ends, so a long digest (one message per second to its chat) holds one slot, not a
        # whole batch of others; outcomes are written in batches meanwhile.
        slots = asyncio.Semaphore(self.concurrency)
        started = self._monotonic()
        rest: list[int] = []

        async def send(digest: _Digest) -> None:
            try:
                recorder.add(await self._send(digest, now, context))
            finally:
                slots.release()

        try:
            async with asyncio.TaskGroup() as sending:
                for index, digest in enumerate(triage.groups):
                    await slots.acquire()
                    if self._monotonic() - started > self.send_budget:
                        slots.release()
                        rest = [r.id for d in triage.groups[index:] for r in d.rows]
                        break
                    sending.create_task(send(digest))
        finally:
            await recorder.finish()
        if rest:
            await asyncio.to_thread(self._release, rest, now, report)
        return report

    def _release(self, ids: Sequence[int], now: datetime, report: TickReport) -> None:
        with Session(self.engine) as session:
            report.deferred += reminder_queries.release_claims(session, ids, self.worker_id, now)
            session.commit()

    def _claim(self, now: datetime) -> list[ClaimedReminder]:
        claimed: list[ClaimedReminder] = []
        with Session(self.engine) as session:
            while len(claimed) < self.max_rows_per_tick:
                size = min(self.batch_size, self.max_rows_per_tick - len(claimed))
                batch = outbox.claim_due(session, now, self.worker_id, self.lease, size)
                claimed.extend(batch)
                if len(batch) < size:
                    break
        return claimed

    def _prepare(
        self, rows: Sequence[ClaimedReminder], now: datetime, report: TickReport
    ) -> tuple[_Context, _Triage]:
        _ = self.directory  # read here, off the event loop, if not yet: wording needs the names
        context = self._context(rows)
        triage = self._triage(rows, context, now)
        self._apply_triage(triage, context, now, report)
        return context, triage

    def _context(self, rows: Sequence[ClaimedReminder]) -> _Context:
        assignment_ids = {row.assignment_id for row in rows if row.assignment_id is not None}
        with Session(self.engine) as session:
            contacts = recipients.contacts_by_id(session, {r.contact_id for r in rows})
            return _Context(
                contacts=contacts,
                details=reminder_queries.assignment_details(session, assignment_ids),
                done=reminder_queries.done_occurrences(session, assignment_ids),
                people=recipients.people_of(session, contacts.values()),
            )

    # --- deciding what to send ----------------------------------------------------------------

    def _takes(self, contact: ContactInfo, now: datetime) -> bool:
        if self.window is None:
            return contact.can_receive
        return can_take(contact, now, self.window)

    def _route(
        self, contact: ContactInfo, context: _Context, now: datetime, pinned: bool
    ) -> _Route:
        """The chat, among the person's, that takes the rows of ``contact`` at ``now``.

        The first by preference whose channel is configured and that can take a message
        (``domain.channel_choice.can_take``, as ``choose_channel``); else a chat on a channel
        not configured yet (held, or the fallback channel, as for a contact alone); else nobody.
        """
        person = None if pinned else contact.person
        chats = context.people.get(person, [contact]) if person is not None else [contact]
        configured = [c for c in chats if c.channel in self.channels]
        takers = [c for c in configured if self._takes(c, now)]
        if takers:
            return _Route(takers[0], takers[0].channel, tuple(takers[1:]))
        waiting = [c for c in chats if c.can_receive and c.channel not in self.channels]
        if waiting:
            return _Route(waiting[0], self.fallback_channel)
        closed = tuple(c for c in configured if c.channel == ZALO and c.can_receive)
        return _Route(None, closed=closed)

    def _obsolete(
        self,
        row: ClaimedReminder,
        contact: ContactInfo,
        route: _Route,
        context: _Context,
        now: datetime,
    ) -> str | None:
        if route.contact is None and (not route.closed or _pinned(row)):
            reason = contact.unreachable_reason or (OUTSIDE_ZALO_WINDOW if route.closed else "?")
            return REASON_CONTACT_UNREACHABLE.format(reason=reason)
        if row.send_at < now - self.stale_after:
            return REASON_STALE.format(date=format_date(local_date(row.send_at)))
        if row.assignment_id is None:
            return None if _notice_text(row, "vi") else REASON_EMPTY_NOTICE
        detail = context.details.get(row.assignment_id)
        if detail is None or not detail.active:
            return REASON_NOT_IN_PLAN
        reported = context.done.get(row.assignment_id)
        if reported and (row.occurrence in reported or detail.single):
            return REASON_DONE
        if row.step == PRECONDITION and detail.precondition_met_on is not None:
            return REASON_PRECONDITION_MET
        return None

    def _triage(self, rows: Sequence[ClaimedReminder], context: _Context, now: datetime) -> _Triage:
        triage = _Triage()
        routes: dict[tuple[int, bool], _Route] = {}
        alive: list[tuple[ClaimedReminder, ContactInfo, _Route]] = []
        closed: dict[int, list[ClaimedReminder]] = defaultdict(list)
        for row in rows:
            contact = context.contacts.get(row.contact_id)
            if contact is None or not contact.active:
                triage.skips.append((row.id, REASON_CONTACT_GONE))
                continue
            pinned = _pinned(row)
            route = routes.get((contact.id, pinned))
            if route is None:
                route = routes[(contact.id, pinned)] = self._route(contact, context, now, pinned)
            reason = self._obsolete(row, contact, route, context, now)
            if reason is not None:
                triage.skips.append((row.id, reason))
            elif route.contact is None:
                closed[contact.id].append(row)
            else:
                alive.append((row, route.contact, route))
        for contact_id, mine in closed.items():
            route = routes[(contact_id, False)]
            triage.closed.append(_Closed(context.contacts[contact_id], mine, route.closed))

        # Rows of one person may come from two contacts (a preference changed between two
        # plannings): the person gets each reminder once.
        seen: set[tuple[int, str, str, int]] = set()
        unique: list[tuple[ClaimedReminder, ContactInfo, _Route]] = []
        for row, target, route in sorted(alive, key=lambda found: found[0].id):
            if row.assignment_id is not None:
                once = (row.assignment_id, row.occurrence, row.step, target.id)
                if once in seen:
                    triage.skips.append((row.id, REASON_DUPLICATE))
                    continue
                seen.add(once)
            unique.append((row, target, route))

        series: dict[tuple[int, str, int], list[ClaimedReminder]] = defaultdict(list)
        for row, target, _ in unique:
            if row.assignment_id is not None:
                series[(row.assignment_id, row.occurrence, target.id)].append(row)
        superseded: dict[int, str] = {}
        for same in series.values():
            if len(same) > 1:
                same.sort(key=lambda r: (r.send_at, r.id))
                superseded.update(supersede([(r.id, r.step) for r in same]))
        triage.skips.extend(superseded.items())

        # A pinned notice travels alone: were Zalo to refuse it, it must not follow the digest
        # to the person's next chat.
        per_chat: dict[tuple[int, bool], list[ClaimedReminder]] = defaultdict(list)
        chosen: dict[tuple[int, bool], _Route] = {}
        for row, target, route in unique:
            if row.id not in superseded:
                chat = (target.id, _pinned(row))
                per_chat[chat].append(row)
                chosen.setdefault(chat, route)
        missing: set[str] = set()
        for chat_key, mine in per_chat.items():
            route = chosen[chat_key]
            contact = route.contact
            key = route.channel_key
            if contact is None:
                continue  # not reached: only routes with a chat are kept above
            if key is None:
                retry = now + self.backoff.cap
                triage.releases.extend((row.id, retry) for row in mine)
                missing.add(contact.channel)
                continue
            paused = self.paused_until.get(key)
            if paused is not None and paused > now:
                triage.releases.extend((row.id, paused) for row in mine)
                continue
            triage.groups.append(_Digest(contact, key, mine, route.fallbacks))
        for channel in sorted(missing):
            log.warning(ERROR_NO_CHANNEL.format(channel=channel) + ": nhắc việc được giữ lại")
        return triage

    def _agency_name(self, code: str) -> str:
        return self.directory.display_name(code) if code in self.directory.agencies else code

    def _compose(
        self,
        contact: ContactInfo,
        rows: Sequence[ClaimedReminder],
        context: _Context,
        now: datetime,
        channel_key: str,
    ) -> Composed:
        limit = self.channels[channel_key].max_text
        lines: list[Line] = []
        notices: list[Notice] = []
        for row in rows:
            if row.assignment_id is None:
                notices.append(_notice(row, contact.language, channel_key))
                continue
            detail = context.details[row.assignment_id]
            lines.append(Line(row.id, self._item(row, detail), row.assignment_id,
                              row.occurrence, _actionable(row)))  # fmt: skip
        composed = compose(
            lines,
            notices,
            today=local_date(now),
            lang=contact.language,
            agency_name=self._agency_name(contact.agency_code),
            limit=limit,
        )
        if channel_key == ZALO:
            return _invite_reply(composed, contact.language, limit)
        return composed

    def _item(self, row: ClaimedReminder, detail: AssignmentDetail) -> DigestItem:
        agency = (row.payload or {}).get("agency") or detail.agency_code
        return DigestItem(
            plan=detail.plan,
            task=detail.task,
            title=detail.title,
            due=self._shown_due(row, detail),
            step=row.step,
            role=detail.role,
            deadline_text=detail.deadline_text,
            audience=row.audience,
            agency=self._agency_name(str(agency)),
        )

    def _shown_due(self, row: ClaimedReminder, detail: AssignmentDetail) -> date | None:
        # The day that binds: a due date on a day off moves to the next working day; check-ins
        # and a pending precondition's expected date are shown as they are.
        if row.due is None or row.step in (CHECKIN_STEP, PRECONDITION):
            return row.due
        if detail.deadline_kind is DeadlineKind.CONTINUOUS:
            return row.due
        return self.calendar.effective_due(row.due)

    def _apply_triage(
        self, triage: _Triage, context: _Context, now: datetime, report: TickReport
    ) -> None:
        if not triage.skips and not triage.releases and not triage.closed:
            return
        with Session(self.engine) as session:
            for closed in triage.closed:
                self._nobody_can_take(session, closed, context, now, report)
            for row_id, reason in triage.skips:
                if outbox.mark_skipped(session, row_id, self.worker_id, now, reason):
                    report.skipped += 1
                    key = reason.split(":")[0]
                    report.skip_reasons[key] = report.skip_reasons.get(key, 0) + 1
                else:
                    report.lost += 1
            by_time: dict[datetime, list[int]] = defaultdict(list)
            for row_id, retry_at in triage.releases:
                by_time[retry_at].append(row_id)
            for retry_at, ids in by_time.items():
                report.deferred += reminder_queries.release_claims(
                    session, ids, self.worker_id, retry_at
                )
            session.commit()

    def _nobody_can_take(
        self,
        session: Session,
        closed: _Closed,
        context: _Context,
        now: datetime,
        report: TickReport,
    ) -> None:
        """Mark the rows unreachable, the closed Zalo chats too, and tell the coordinators."""
        reason = OUTSIDE_ZALO_WINDOW
        for row in closed.rows:
            if outbox.mark_unreachable(session, row.id, self.worker_id, now, reason):
                report.unreachable += 1
            else:
                report.lost += 1
        for chat in closed.zalo:
            if recipients.mark_unreachable(session, chat.id, OUTSIDE_ZALO_WINDOW):
                report.notices += self._notify_unreachable(
                    session, chat, ZALO, closed.rows, context, OUTSIDE_ZALO_WINDOW, now
                )

    # --- sending ------------------------------------------------------------------------------

    async def _send(self, digest: _Digest, now: datetime, context: _Context) -> list[_Result]:
        """Word and send one digest; when Zalo refuses it for the window, the rest goes to the
        next chat. Wording here rather than before the first send lets sending start at once
        (a digest takes well under a millisecond to word; thousands of them take seconds)."""
        contact, key = digest.contact, digest.channel_key
        try:
            composed = self._compose(contact, digest.rows, context, now, key)
        except Exception as exc:  # a wording bug: this digest fails alone, retried with backoff
            log.exception("could not word the digest for contact %s", contact.id)
            group = _Group(contact, key, digest.rows, Composed((), ()), digest.fallbacks)
            error = SendResult(Outcome.TRANSIENT, error=f"{type(exc).__name__}: {exc}")
            ids = tuple(row.id for row in digest.rows)
            return [_Result(group, outcome=error, failed_rows=ids)]
        group = _Group(contact, key, digest.rows, composed, digest.fallbacks)
        results = [await self._send_group(group, now)]
        while True:
            last = results[-1]
            failure, current = last.outcome, last.group
            if failure is None or not _closed_by_window(failure) or not last.failed_rows:
                return results
            if not current.fallbacks:
                return results
            chat, *others = current.fallbacks
            left = set(last.failed_rows)
            rows = [row for row in current.rows if row.id in left]
            composed = self._compose(chat, rows, context, now, chat.channel)
            last.handed_on = True
            log.info(
                "contact %s is outside Zalo's window: sent to contact %s on %s instead",
                current.contact.id,
                chat.id,
                chat.channel,
            )
            follow = _Group(chat, chat.channel, rows, composed, tuple(others))
            results.append(await self._send_group(follow, now))

    async def _send_group(self, group: _Group, now: datetime) -> _Result:
        result = _Result(group)
        channel = self.channels[group.channel_key]
        chat_id = group.contact.chat_id
        for index, part in enumerate(group.composed.parts):
            rest = tuple(i for p in group.composed.parts[index:] for i in p.row_ids)
            paused = self.paused_until.get(group.channel_key)
            if paused is not None and paused > now:
                result.failed_rows, result.deferred_until = rest, paused
                return result
            message = OutgoingMessage(chat_id, part.text, part.buttons)
            try:
                sent = await channel.send(message)
            except Exception as exc:  # a bug or a network error the channel did not map
                log.exception("channel %s raised while sending", group.channel_key)
                sent = SendResult(Outcome.TRANSIENT, error=f"{type(exc).__name__}: {exc}")
            if sent.new_chat_id:
                chat_id = result.new_chat_id = sent.new_chat_id
            if sent.outcome is Outcome.SENT:
                message_id = sent.message_id or f"{group.channel_key}-{uuid.uuid4().hex}"
                result.sent.append((part, chat_id, message_id))
                continue
            result.failed_rows = rest
            if sent.outcome is Outcome.RATE_LIMITED:
                current = self.paused_until.get(group.channel_key)
                if current is not None and current > now:
                    # Another send met the 429 first: this one is handed back, not failed.
                    result.deferred_until = current
                    return result
                pause = timedelta(seconds=sent.retry_after or 1.0)
                self.paused_until[group.channel_key] = now + pause
            result.outcome = sent
            return result
        return result

    # --- recording outcomes -------------------------------------------------------------------

    def _record(
        self,
        results: Sequence[_Result],
        by_id: Mapping[int, ClaimedReminder],
        context: _Context,
        now: datetime,
        report: TickReport,
    ) -> None:
        prefix = f"{uuid.uuid4().hex}-"
        messages: list[SentRecord] = []
        delivered: list[int] = []
        for result in results:
            contact = result.group.contact
            items = [[aid, occurrence] for aid, occurrence in result.group.composed.items]
            for part, chat_id, message_id in result.sent:
                messages.append(
                    SentRecord(
                        channel=result.group.channel_key,
                        chat_id=chat_id,
                        message_id=message_id,
                        contact_id=contact.id,
                        batch_id=f"{prefix}{contact.id}",
                        items=items,
                        sent_at=now,
                    )
                )
                delivered.extend(part.row_ids)
        with Session(self.engine) as session:
            for result in results:
                if result.new_chat_id:
                    recipients.move_chat(session, result.group.contact.id, result.new_chat_id)
            reminder_queries.record_sent_messages(session, messages)
            marked = reminder_queries.mark_sent_many(
                session, delivered, self.worker_id, now, prefix
            )
            for result in results:
                self._record_failure(session, result, by_id, context, now, report)
            session.commit()
        report.messages += len(messages)
        report.sent += len(marked)
        report.lost += len(delivered) - len(marked)

    def _record_failure(
        self,
        session: Session,
        result: _Result,
        by_id: Mapping[int, ClaimedReminder],
        context: _Context,
        now: datetime,
        report: TickReport,
    ) -> None:
        group, worker = result.group, self.worker_id
        if not result.failed_rows:
            return
        if result.handed_on:  # the rows went on to the person's next chat: only this one closed
            recipients.mark_unreachable(session, group.contact.id, OUTSIDE_ZALO_WINDOW)
            return
        if result.deferred_until is not None:
            report.deferred += reminder_queries.release_claims(
                session, result.failed_rows, worker, result.deferred_until
            )
            return
        failure = result.outcome
        if failure is None:
            return
        error = failure.error or failure.outcome.value
        if failure.outcome is Outcome.UNREACHABLE:
            for row_id in result.failed_rows:
                if outbox.mark_unreachable(session, row_id, worker, now, error):
                    report.unreachable += 1
                else:
                    report.lost += 1
            # A chat closed by silence opens again when the person writes (storage.zalo_window
            # clears exactly this reason), so it is stored without Zalo's details.
            reason = OUTSIDE_ZALO_WINDOW if _closed_by_window(failure) else error
            if recipients.mark_unreachable(session, group.contact.id, reason):
                rows = [by_id[row_id] for row_id in result.failed_rows]
                report.notices += self._notify_unreachable(
                    session, group.contact, group.channel_key, rows, context, error, now
                )
            return
        for row_id in result.failed_rows:
            retry_at = self._retry_at(failure, by_id[row_id], now)
            if retry_at is None:
                ok = outbox.mark_failed(session, row_id, worker, now, error, None)
                report.given_up += ok
            else:
                ok = outbox.mark_failed(session, row_id, worker, now, error, retry_at)
                report.failed += ok
            report.lost += not ok

    def _retry_at(
        self, failure: SendResult, row: ClaimedReminder, now: datetime
    ) -> datetime | None:
        if failure.outcome is Outcome.PERMANENT:
            return None
        if failure.outcome is Outcome.RATE_LIMITED:
            return now + timedelta(seconds=failure.retry_after or 1.0)
        if row.attempts >= self.max_attempts:
            return None
        return now + self.backoff.delay(row.attempts, row.id)

    def _notify_unreachable(
        self,
        session: Session,
        contact: ContactInfo,
        channel: str,
        rows: Sequence[ClaimedReminder],
        context: _Context,
        error: str,
        now: datetime,
    ) -> int:
        agencies = {
            detail.coordinator
            for row in rows
            if (aid := row.assignment_id) is not None
            and (detail := context.details.get(aid)) is not None
            and detail.coordinator
        }
        coordinators = [
            c.id for c in recipients.coordinator_contacts(session, agencies) if c.id != contact.id
        ]
        if not coordinators:
            log.warning("no coordinator to tell that contact %s is unreachable", contact.id)
            return 0
        return queue_unreachable_notice(
            session,
            contact_id=contact.id,
            who=contact.label,
            agency=self._agency_name(contact.agency_code),
            channel=channel,
            error=error,
            coordinator_ids=coordinators,
            at=now,
        )


class _Recorder:
    """Writes the outcomes of finished digests while the others are still being sent.

    One write at a time, in a worker thread, each taking every result finished by then: a
    write starts when ``RECORD_BATCH`` results wait, or the oldest has waited
    ``RECORD_AFTER_SECONDS`` (a reply to a digest binds to it only once it is recorded), and
    ``finish`` writes the rest. A write that fails stops the others; ``finish`` raises its
    error (the rows stay claimed, and are sent again once their lease ends).
    """

    def __init__(
        self, write: Callable[[list["_Result"]], None], monotonic: Callable[[], float]
    ) -> None:
        self._write = write
        self._monotonic = monotonic
        self._pending: list[_Result] = []
        self._since = 0.0
        self._writing: asyncio.Task[None] | None = None
        self._error: BaseException | None = None

    def add(self, results: Sequence["_Result"]) -> None:
        if not self._pending:
            self._since = self._monotonic()
        self._pending.extend(results)
        self._start(force=False)

    async def finish(self) -> None:
        """Wait for the write in progress, then write what is left; raise a write's error."""
        while True:
            if self._writing is not None and not self._writing.done():
                await asyncio.wait([self._writing])
                continue
            if self._error is not None:
                raise self._error
            if not self._pending:
                return
            self._start(force=True)

    def _start(self, *, force: bool) -> None:
        if self._error is not None or not self._pending:
            return
        if self._writing is not None and not self._writing.done():
            return  # its end starts the next write
        ripe = len(self._pending) >= RECORD_BATCH
        if not (force or ripe or self._monotonic() - self._since >= RECORD_AFTER_SECONDS):
            return
        batch, self._pending = self._pending, []
        self._writing = asyncio.create_task(asyncio.to_thread(self._write, batch))
        self._writing.add_done_callback(self._written)

    def _written(self, task: "asyncio.Task[None]") -> None:
        error = None if task.cancelled() else task.exception()
        if error is not None:
            log.error("recording outcomes failed", exc_info=error)
            self._error = error
            return
        self._start(force=False)


def queue_unreachable_notice(
    session: Session,
    *,
    contact_id: int,
    who: str,
    agency: str,
    channel: str,
    error: str,
    coordinator_ids: Sequence[int],
    at: datetime,
) -> int:
    """Tell coordinators, through the outbox, that a contact cannot be reached; rows queued.

    The key holds the contact and the day, so however the failure is found (a failed delivery,
    a blocked bot reported by Telegram) each coordinator is told once a day.
    """
    values = {
        "who": who,
        "agency": agency,
        "channel": CHANNEL_NAMES.get(channel, channel),
        "error": error,
    }
    payload = {
        "kind": "unreachable",
        "contact_id": contact_id,
        "text": UNREACHABLE_NOTICE["vi"].format(**values),
        "text_en": UNREACHABLE_NOTICE["en"].format(**values),
    }
    return reminder_queries.queue_notices(
        session,
        key=f"unreachable:{contact_id}:{local_date(at).isoformat()}",
        contact_ids=coordinator_ids,
        payload=payload,
        now=at,
    )


def tell_coordinators_gone(
    session: Session,
    contact: Contact,
    *,
    channel: str,
    chat_id: str,
    error: str,
    at: datetime,
    agency_name: Callable[[str], str],
) -> int:
    """A platform told us ``contact``'s chat is gone (bot blocked, OA unfollowed): queue a notice
    for the coordinators of the plans its agency works on, except in that very chat; rows queued."""
    if contact.id is None:
        return 0
    plans = assignment_refs(session, agency_codes=[contact.agency_code])
    coordinating = {ref.plan_coordinator for ref in plans if ref.plan_coordinator}
    told = [
        c.id
        for c in recipients.coordinator_contacts(session, coordinating)
        if (c.channel, c.chat_id) != (channel, chat_id)
    ]
    if not told:
        return 0
    return queue_unreachable_notice(
        session,
        contact_id=contact.id,
        who=contact.display_name.strip() or f"{CHANNEL_NAMES.get(channel, channel)} {chat_id}",
        agency=agency_name(contact.agency_code),
        channel=channel,
        error=error,
        coordinator_ids=told,
        at=at,
    )


def _invite_reply(composed: Composed, lang: str, limit: int) -> Composed:
    """``composed`` whose last message asks for an answer, adding ``ZALO_REPLY_HINT`` if needed."""
    if not composed.parts:
        return composed
    hint = ZALO_REPLY_HINT.get(lang, ZALO_REPLY_HINT["vi"])
    last = composed.parts[-1]
    if hint in last.text or t("digest.closing.reply", lang) in last.text:
        return composed
    joined = f"{last.text}\n\n{hint}"
    if utf16_length(joined) <= limit:
        parts = (*composed.parts[:-1], replace(last, text=joined))
    else:
        parts = (*composed.parts, Part(hint, ()))
    return replace(composed, parts=parts)


def _actionable(row: ClaimedReminder) -> bool:
    return row.audience == Audience.AGENCY and row.step != PRECONDITION


def _notice(row: ClaimedReminder, lang: str, channel_key: str) -> Notice:
    """A coordinator notice as ``channel_key`` shows it: with its buttons (a message of its own),
    or, on Zalo, which shows none, with the typed equivalent the payload holds."""
    text = _notice_text(row, lang)
    buttons = outbox.notice_buttons(row.payload)
    if buttons and channel_key == ZALO:
        typed = str((row.payload or {}).get("typed") or "")
        return Notice(row.id, f"{text}\n\n{typed}" if typed else text)
    return Notice(row.id, text, buttons)


def _notice_text(row: ClaimedReminder, lang: str) -> str:
    payload = row.payload or {}
    text = payload.get(f"text_{lang}") or payload.get("text") or ""
    return str(text)
