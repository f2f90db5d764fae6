"""Where each assignment stands, in the four official states, and the coordinator's views of it.

Quyết định 42/2014/QĐ-TTg (amended 2018) reports every task in four states: done on time, done
late, in progress within the deadline, overdue and not done. Plans also hold continuous tasks and
tasks waiting for a precondition, and the bot knows two more things a coordinator wants to see: a
completion reported but not yet confirmed, and an agency that has not reported at all. ``State``
holds all eight; ``StatusResult.official`` says in which official state a result is counted.

Decisions (the rules officials apply, written down so that every report counts alike):

- The completion date is the local date (Asia/Ho_Chi_Minh) of the "done" report, not of its
  confirmation: the confirmation only validates it. Done on or before the *effective* due date (a
  due date on a day off moves to the next working day) is on time; after it, late.
- Provinces count only confirmed completions. With ``require_confirmation`` a done report still
  under review gives AWAITING_CONFIRMATION, counted officially as in progress before the effective
  due date and as overdue after it (``days_overdue`` is then set). A returned report is not a
  completion (it still counts as a report, so the state is not NO_ANSWER).
- NO_ANSWER (no report at all) exists only before the effective due date and counts as in
  progress; past the due date silence is simply OVERDUE.
- ``days_overdue`` is in calendar days after the effective due date: up to ``on`` for work not
  done, up to the completion date for work done late; None otherwise.
- Continuous tasks are CONTINUOUS and conditional tasks whose precondition is not met are WAITING;
  neither is counted in the four official states. A confirmed completion still wins over WAITING
  (and is on time: the soft date was not binding yet).
- A task with no readable due date (UNKNOWN, or a conditional with no date) is IN_PROGRESS (or
  NO_ANSWER) and never overdue: a person must read its deadline; the import flags it.
- The status is computed as of ``on``: reports made, and reviews given, after that day are ignored.
- The blocker is the reason of the latest "blocked" report, unless progress was reported after it.

Everything here is pure: no clock, no I/O. ``on`` and ``today`` are parameters.
"""

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from domain.calendar import WorkingCalendar, local_date
from domain.deadlines import DeadlineKind

Lang = Literal["vi", "en"]


class State(StrEnum):
    DONE_ON_TIME = "done_on_time"  # Hoàn thành đúng hạn
    DONE_LATE = "done_late"  # Hoàn thành quá hạn
    IN_PROGRESS = "in_progress"  # Đang thực hiện trong hạn
    OVERDUE = "overdue"  # Quá hạn chưa hoàn thành
    CONTINUOUS = "continuous"  # Thường xuyên
    WAITING = "waiting"  # Chờ điều kiện / chờ hướng dẫn
    AWAITING_CONFIRMATION = "awaiting_confirmation"  # Đã báo cáo hoàn thành, chờ xác nhận
    NO_ANSWER = "no_answer"  # Chưa có báo cáo (only before the due date)

    @property
    def official(self) -> "State | None":
        """The official state this state is counted in when the task is not yet due.

        AWAITING_CONFIRMATION past its due date counts as OVERDUE: use ``StatusResult.official``,
        which knows the date, for counting.
        """
        return _OFFICIAL[self]


_OFFICIAL: dict[State, State | None] = {
    State.DONE_ON_TIME: State.DONE_ON_TIME,
    State.DONE_LATE: State.DONE_LATE,
    State.IN_PROGRESS: State.IN_PROGRESS,
    State.OVERDUE: State.OVERDUE,
    State.CONTINUOUS: None,
    State.WAITING: None,
    State.AWAITING_CONFIRMATION: State.IN_PROGRESS,
    State.NO_ANSWER: State.IN_PROGRESS,
}

OFFICIAL_STATES: tuple[State, ...] = (
    State.DONE_ON_TIME,
    State.DONE_LATE,
    State.IN_PROGRESS,
    State.OVERDUE,
)

# The keys of the counters below: the four official states plus the two that stand outside them.
COUNTED_STATES: tuple[State, ...] = (*OFFICIAL_STATES, State.CONTINUOUS, State.WAITING)

_LABELS: dict[str, dict[State, str]] = {
    "vi": {
        State.DONE_ON_TIME: "Hoàn thành đúng hạn",
        State.DONE_LATE: "Hoàn thành quá hạn",
        State.IN_PROGRESS: "Đang thực hiện trong hạn",
        State.OVERDUE: "Quá hạn chưa hoàn thành",
        State.CONTINUOUS: "Thường xuyên",
        State.WAITING: "Chờ hướng dẫn/điều kiện",
        State.AWAITING_CONFIRMATION: "Chờ xác nhận hoàn thành",
        State.NO_ANSWER: "Chưa báo cáo",
    },
    "en": {
        State.DONE_ON_TIME: "Done on time",
        State.DONE_LATE: "Done late",
        State.IN_PROGRESS: "In progress, not yet due",
        State.OVERDUE: "Overdue, not done",
        State.CONTINUOUS: "Continuous",
        State.WAITING: "Waiting for guidance or a precondition",
        State.AWAITING_CONFIRMATION: "Completion awaiting confirmation",
        State.NO_ANSWER: "No report yet",
    },
}


def label(state: State, lang: Lang = "vi") -> str:
    """The state as shown to users: ``label(State.OVERDUE) == "Quá hạn chưa hoàn thành"``."""
    return _LABELS[lang][state]


REPORT_KINDS = frozenset(
    {"done", "percent", "in_progress", "blocked", "extension", "not_started", "note"}
)
REVIEWS = frozenset({"pending", "confirmed", "returned"})
# Reports that say work moved forward, and so clear an earlier blocker.
_PROGRESS_KINDS = frozenset({"done", "percent", "in_progress"})


@dataclass(frozen=True)
class ReportView:
    """One progress report of an agency on one assignment, as the status rules need it.

    ``review`` is the coordinator's decision on a "done" report (None: not reviewed / not needed).
    """

    kind: str
    reported_at: datetime
    percent: int | None = None
    text: str = ""
    reason: str | None = None
    review: str | None = None
    reviewed_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.kind not in REPORT_KINDS:
            raise ValueError(f"unknown report kind {self.kind!r}")
        if self.review is not None and self.review not in REVIEWS:
            raise ValueError(f"unknown review {self.review!r}")
        if self.reported_at.tzinfo is None or (
            self.reviewed_at is not None and self.reviewed_at.tzinfo is None
        ):
            raise ValueError("report times must be timezone-aware")
        if self.percent is not None and not 0 <= self.percent <= 100:
            raise ValueError(f"percent out of range: {self.percent}")


@dataclass(frozen=True)
class StatusResult:
    state: State
    percent: int | None  # 100 when done or awaiting confirmation; else the latest reported
    last_report: ReportView | None
    blocker: str | None
    days_overdue: int | None
    done_on: date | None  # completion date, confirmed or (AWAITING_CONFIRMATION) claimed

    @property
    def official(self) -> State | None:
        """The official state this result is counted in (None: continuous or waiting)."""
        if self.state is State.AWAITING_CONFIRMATION and self.days_overdue is not None:
            return State.OVERDUE
        return self.state.official

    @property
    def counted_as(self) -> State:
        """The key this result is tallied under: an official state, CONTINUOUS or WAITING."""
        return self.official or self.state


def _review_on(report: ReportView, on: date) -> str | None:
    """The review as it stood on ``on``: a decision taken later was still pending then."""
    if report.reviewed_at is not None and local_date(report.reviewed_at) > on:
        return "pending"
    return report.review


def _completion(
    seen: Sequence[ReportView], on: date, require_confirmation: bool
) -> tuple[ReportView | None, ReportView | None]:
    """(first accepted done report, latest done report still under review)."""
    pending: ReportView | None = None
    for report in seen:
        if report.kind != "done":
            continue
        review = _review_on(report, on)
        if review == "returned":
            continue
        if review == "confirmed" or not require_confirmation:
            return report, None
        pending = report
    return None, pending


def _blocker(seen: Sequence[ReportView]) -> str | None:
    for report in reversed(seen):
        if report.kind == "blocked":
            return report.reason or report.text or None
        if report.kind in _PROGRESS_KINDS:
            return None
    return None


def _latest_percent(seen: Sequence[ReportView]) -> int | None:
    # Done reports are left out: an accepted one gives 100 anyway, a returned one must not.
    for report in reversed(seen):
        if report.kind != "done" and report.percent is not None:
            return report.percent
    return None


def status_of(
    *,
    due: date | None,
    kind: DeadlineKind,
    precondition_met: bool,
    reports: Sequence[ReportView],
    on: date,
    calendar: WorkingCalendar,
    require_confirmation: bool = True,
) -> StatusResult:
    """The status of one assignment for one occurrence of its deadline, as of the day ``on``.

    ``due`` is the occurrence's due date as written (the calendar moves it off days off);
    ``reports`` are that assignment's reports for that occurrence, in any order.
    """
    seen = sorted(
        (r for r in reports if local_date(r.reported_at) <= on), key=lambda r: r.reported_at
    )
    last = seen[-1] if seen else None
    waiting = kind is DeadlineKind.CONDITIONAL and not precondition_met
    binding = due is not None and kind is not DeadlineKind.CONTINUOUS and not waiting
    effective = calendar.effective_due(due) if binding and due is not None else None

    if kind is DeadlineKind.CONTINUOUS:
        return StatusResult(
            State.CONTINUOUS, _latest_percent(seen), last, _blocker(seen), None, None
        )

    done, pending = _completion(seen, on, require_confirmation)
    if done is not None:
        done_on = local_date(done.reported_at)
        late = effective is not None and done_on > effective
        return StatusResult(
            State.DONE_LATE if late else State.DONE_ON_TIME,
            100,
            last,
            None,
            (done_on - effective).days if late and effective is not None else None,
            done_on,
        )

    overdue_days = (on - effective).days if effective is not None and on > effective else None
    if pending is not None:
        return StatusResult(
            State.AWAITING_CONFIRMATION,
            100,
            last,
            None,
            overdue_days,
            local_date(pending.reported_at),
        )

    if waiting:
        state = State.WAITING
    elif overdue_days is not None:
        state = State.OVERDUE
    elif not seen:
        state = State.NO_ANSWER
    else:
        state = State.IN_PROGRESS
    return StatusResult(state, _latest_percent(seen), last, _blocker(seen), overdue_days, None)


# --- Aggregations over many assignments -------------------------------------------------------


@dataclass(frozen=True)
class StatusLine:
    """One assignment (a task given to one agency, one occurrence) with its status, for reports."""

    plan: str  # plan number, "289/KH-UBND"
    task: str  # task number in the plan, "3"
    title: str
    agency: str  # agency name, "Sở Nội vụ"
    agency_code: str
    role: str  # "lead" / "support"
    deadline_text: str  # the deadline cell as written
    due: date | None
    result: StatusResult

    @property
    def key(self) -> tuple[str, str, str, date | None]:
        """Identifies the same assignment and occurrence across two days' lines."""
        return (self.plan, self.task, self.agency_code, self.due)


def _counts_by(
    lines: Iterable[StatusLine], group: Callable[[StatusLine], str]
) -> dict[str, Counter[State]]:
    counts: dict[str, Counter[State]] = {}
    for line in lines:
        counts.setdefault(group(line), Counter())[line.result.counted_as] += 1
    return counts


def counts_by_agency(lines: Iterable[StatusLine]) -> dict[str, Counter[State]]:
    """Per agency name (in order of first appearance), lines tallied by ``counted_as``."""
    return _counts_by(lines, lambda line: line.agency)


def counts_by_plan(lines: Iterable[StatusLine]) -> dict[str, Counter[State]]:
    """Per plan (in order of first appearance), lines tallied by ``counted_as``."""
    return _counts_by(lines, lambda line: line.plan)


def rates(counter: Counter[State]) -> dict[State, float]:
    """Share (0..1) of each official state among the lines counted in an official state.

    Continuous and waiting lines are left out of the denominator; all zeros when nothing counts.
    """
    official: Counter[State] = Counter()
    for state, n in counter.items():
        if (counted := state.official) is not None:
            official[counted] += n
    total = sum(official.values())
    return {s: (official[s] / total if total else 0.0) for s in OFFICIAL_STATES}


def done_rate(counter: Counter[State]) -> float:
    """Share of lines done (on time or late) among those counted in an official state."""
    shares = rates(counter)
    return shares[State.DONE_ON_TIME] + shares[State.DONE_LATE]


def overdue_list(lines: Iterable[StatusLine]) -> list[StatusLine]:
    """Lines counted as overdue, most overdue first (ties keep the given order)."""
    overdue = [line for line in lines if line.result.official is State.OVERDUE]
    return sorted(overdue, key=lambda line: -(line.result.days_overdue or 0))


def blocked(lines: Iterable[StatusLine]) -> list[StatusLine]:
    """Lines whose latest word is a difficulty (vướng mắc) not followed by progress."""
    return [line for line in lines if line.result.blocker is not None]


# States in which the agency still owes news; the others are finished or out of its hands.
_OPEN_STATES = frozenset({State.IN_PROGRESS, State.OVERDUE, State.NO_ANSWER, State.CONTINUOUS})


def silent_agencies(lines: Iterable[StatusLine], on: date, days: int) -> list[str]:
    """Agencies with open work and no report on any of their lines in the last ``days`` days.

    An agency whose latest report is dated ``on - days`` or earlier (or that never reported) is
    silent. Agencies whose every line is done, awaiting confirmation or waiting are not listed.
    """
    latest: dict[str, date | None] = {}
    open_agencies: set[str] = set()
    for line in lines:
        report = line.result.last_report
        when = local_date(report.reported_at) if report is not None else None
        known = latest.setdefault(line.agency, when)
        if when is not None and (known is None or when > known):
            latest[line.agency] = when
        if line.result.state in _OPEN_STATES:
            open_agencies.add(line.agency)
    return [
        agency
        for agency, when in latest.items()
        if agency in open_agencies and (when is None or (on - when).days >= days)
    ]


@dataclass(frozen=True)
class Changes:
    """What moved between two days' lines, for the coordinator's daily digest."""

    new_reports: tuple[StatusLine, ...]
    newly_overdue: tuple[StatusLine, ...]
    newly_blocked: tuple[StatusLine, ...]

    def __bool__(self) -> bool:
        return bool(self.new_reports or self.newly_overdue or self.newly_blocked)


def changes_since(old: Sequence[StatusLine], new: Sequence[StatusLine]) -> Changes:
    """New reports, lines that became overdue and new blockers, from ``old`` to ``new``.

    Lines are matched on ``StatusLine.key``; a line absent from ``old`` is compared with nothing.
    """
    before = {line.key: line for line in old}
    reports: list[StatusLine] = []
    overdue: list[StatusLine] = []
    blockers: list[StatusLine] = []
    for line in new:
        prior = before.get(line.key)
        was = prior.result if prior is not None else None
        now = line.result
        if now.last_report is not None and (
            was is None
            or was.last_report is None
            or now.last_report.reported_at > was.last_report.reported_at
        ):
            reports.append(line)
        if now.official is State.OVERDUE and (was is None or was.official is not State.OVERDUE):
            overdue.append(line)
        if now.blocker is not None and (was is None or was.blocker != now.blocker):
            blockers.append(line)
    return Changes(tuple(reports), tuple(overdue), tuple(blockers))


_DIGEST_TEXT: dict[str, dict[str, str]] = {
    "vi": {
        "title": "Tổng hợp tình hình thực hiện nhiệm vụ ngày {day}",
        "reports": "Báo cáo mới ({n}):",
        "overdue": "Nhiệm vụ mới quá hạn ({n}):",
        "blocked": "Khó khăn, vướng mắc mới ({n}):",
        "unreachable": "Chưa gửi được nhắc việc, đề nghị cập nhật đầu mối ({n}):",
        "task": "nhiệm vụ",
        "days": "quá hạn {n} ngày (hạn {due})",
        "more": "… và {n} mục khác.",
    },
    "en": {
        "title": "Task status summary for {day}",
        "reports": "New reports ({n}):",
        "overdue": "Newly overdue ({n}):",
        "blocked": "New difficulties reported ({n}):",
        "unreachable": "Reminders not delivered, please update the focal point ({n}):",
        "task": "task",
        "days": "{n} days overdue (due {due})",
        "more": "… and {n} more.",
    },
}


# A reported completion says "100%" by itself.
_FINISHED = frozenset({State.DONE_ON_TIME, State.DONE_LATE, State.AWAITING_CONFIRMATION})


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _dmy(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def render_coordinator_digest(
    changes: Changes,
    unreachable_contacts: Sequence[str],
    *,
    today: date,
    lang: Lang = "vi",
    max_items: int = 10,
) -> str | None:
    """The coordinator's daily message, or None when there is nothing to say.

    Each section lists at most ``max_items`` lines (most overdue first for the overdue section), so
    the message stays within chat limits (Zalo: 2000 characters).
    """
    if not changes and not unreachable_contacts:
        return None
    words = _DIGEST_TEXT[lang]

    def who(line: StatusLine) -> str:
        title = _short(line.title, 50)
        return f"{line.agency}, {words['task']} {line.task} ({line.plan}) «{title}»"

    def report_item(line: StatusLine) -> str:
        item = f"{who(line)}: {label(line.result.state, lang)}"
        if line.result.percent is not None and line.result.state not in _FINISHED:
            item += f", {line.result.percent}%"
        report = line.result.last_report
        if report is not None and report.text:
            item += f". “{_short(report.text, 80)}”"
        return item

    def overdue_item(line: StatusLine) -> str:
        due = _dmy(line.due) if line.due is not None else line.deadline_text
        return f"{who(line)}: " + words["days"].format(n=line.result.days_overdue or 0, due=due)

    def blocked_item(line: StatusLine) -> str:
        return f"{who(line)}: {_short(line.result.blocker or '', 100)}"

    out = [words["title"].format(day=_dmy(today))]
    sections: list[tuple[str, list[str]]] = [
        ("reports", [report_item(line) for line in changes.new_reports]),
        ("overdue", [overdue_item(line) for line in overdue_list(changes.newly_overdue)]),
        ("blocked", [blocked_item(line) for line in changes.newly_blocked]),
        ("unreachable", list(unreachable_contacts)),
    ]
    for name, items in sections:
        if not items:
            continue
        out.append("")
        out.append(words[name].format(n=len(items)))
        out.extend(f"- {item}" for item in items[:max_items])
        if len(items) > max_items:
            out.append(words["more"].format(n=len(items) - max_items))
    return "\n".join(out)
