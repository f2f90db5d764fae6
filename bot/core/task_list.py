"""Task lines as a chat shows them: the /tasks list, an agency's /status, task pickers.

One item reads like a digest item (same catalogue keys), followed by its state, the difficulty
reported, and the last report, so that a focal point and the coordinator see the same words:

    1. Kế hoạch 289/KH-UBND, nhiệm vụ 3 (chủ trì): Rà soát, sắp xếp tổ chức bộ máy…
       Hạn: 31/12/2024 (còn 20 ngày).
       Tình trạng: Đang thực hiện trong hạn, 60%.
       Báo cáo gần nhất (05/12/2024): “được 60%”.
"""

from collections.abc import Sequence
from datetime import date

from domain.calendar import WorkingCalendar, local_date
from domain.delivery import Button
from domain.digest import REPORT_DUTY_TASK, days_left, format_date, shorten
from domain.i18n import t
from domain.status import State, StatusLine, StatusResult, label

BUTTON_TITLE = 40  # characters of a task's title on a picker button
REPORT_TEXT = 80  # characters of a report quoted in a list
# States whose percentage says nothing more (a completion is 100%).
_NO_PERCENT = frozenset({State.DONE_ON_TIME, State.DONE_LATE, State.AWAITING_CONFIRMATION})


def lang_of(lang: str) -> str:
    return "en" if lang == "en" else "vi"


def task_name(task: str, lang: str) -> str:
    """ "nhiệm vụ 3", or "báo cáo định kỳ" for a plan's reporting duty."""
    if task == REPORT_DUTY_TASK:
        return t("digest.task.report", lang)
    return t("digest.task", lang, task=task)


def task_label(plan: str, task: str, title: str, lang: str, limit: int = 60) -> str:
    return t("chat.task", lang, plan=plan, task=task_name(task, lang), title=shorten(title, limit))


def role_name(role: str, lang: str) -> str:
    return t(f"digest.role.{role}", lang) if role in ("lead", "support") else role


def state_text(result: StatusResult, lang: str) -> str:
    """ "Quá hạn chưa hoàn thành, 40%" (the percentage only while work is under way)."""
    text = label(result.state, "en" if lang == "en" else "vi")
    if result.percent is not None and result.state not in _NO_PERCENT:
        text += f", {result.percent}%"
    return text


def report_text(kind: str, text: str, percent: int | None, lang: str) -> str:
    """What a report said: its text, or for a button press the button's meaning."""
    if text.strip():
        return shorten(text, REPORT_TEXT)
    if kind == "percent" and percent is not None:
        return f"{percent}%"
    return t(f"chat.kind.{kind}", lang)


def due_line(line: StatusLine, today: date, lang: str, calendar: WorkingCalendar) -> str:
    waiting = line.result.state is State.WAITING
    if line.due is None or waiting:
        return t("digest.deadline_text", lang, text=line.deadline_text)
    due = calendar.effective_due(line.due)
    return t("digest.due", lang, date=format_date(due), left=days_left(due, today, lang))


def detail_lines(line: StatusLine, lang: str) -> list[str]:
    """The lines under an item: difficulty and last report."""
    out: list[str] = []
    result = line.result
    if result.blocker:
        out.append(t("chat.tasks.blocker", lang, reason=shorten(result.blocker, REPORT_TEXT)))
    report = result.last_report
    if report is not None:
        said = report_text(report.kind, report.text, report.percent, lang)
        when = format_date(local_date(report.reported_at))
        out.append(t("chat.tasks.last", lang, date=when, text=said))
    return out


def render_items(
    lines: Sequence[StatusLine],
    *,
    today: date,
    lang: str,
    calendar: WorkingCalendar,
    limit: int,
) -> list[str]:
    """Numbered item blocks, at most ``limit`` of them, then "… and N more" when cut."""
    blocks: list[str] = []
    for n, line in enumerate(lines[:limit], start=1):
        first = t(
            "digest.item",
            lang,
            n=n,
            plan=line.plan,
            task=task_name(line.task, lang),
            role=role_name(line.role, lang),
            title=shorten(line.title),
        )
        block = [
            first,
            due_line(line, today, lang, calendar),
            t("chat.tasks.state", lang, state=state_text(line.result, lang)),
            *detail_lines(line, lang),
        ]
        blocks.append("\n".join(block))
    if len(lines) > limit:
        blocks.append(t("chat.list.more", lang, n=len(lines) - limit))
    return blocks


def picker_label(n: int, plan: str, task: str, title: str, due: date | None, lang: str) -> str:
    """A task on a button: "1. NV 3 (289/KH-UBND) 31/12/2024: Rà soát…"."""
    if task == REPORT_DUTY_TASK:
        name = "Report" if lang == "en" else "Báo cáo"
    else:
        name = f"{'Task' if lang == 'en' else 'NV'} {task}"
    prefix = f"{n}. {name} ({plan})"
    if due is not None:
        prefix += f" {format_date(due)}"
    return f"{prefix}: {shorten(title, BUTTON_TITLE)}"


def one_per_row(buttons: Sequence[Button]) -> tuple[tuple[Button, ...], ...]:
    return tuple((button,) for button in buttons)
