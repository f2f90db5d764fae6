"""One chat message per recipient and day, listing what is due, instead of one ping per task.

`render_digest` turns the day's reminders for one recipient into text: a polite greeting, the
items ordered by due date (plan, task, short title, due date, days left, role), then a line
inviting a short reply. Check-ins, escalations to an agency's head and the coordinator's lines have
their own sections and wording. The text is split into numbered parts ("(1/2)") only when it is
longer than `limit`, and never inside an item. Nothing to say gives no message at all.

Days left count calendar days from `today` to `DigestItem.due` as given: callers pass the
effective due date (moved off a holiday) when that is the one that binds.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from domain.i18n import plural_key, t
from domain.plan_import import Role

TITLE_LIMIT = 80
REPORT_DUTY_TASK = "BC"
_MARKER_RESERVE = 9  # room kept for " (99/99)" while packing parts

# Sections in the order they appear; the first has no heading of its own.
_REGULAR, _CHECKIN, _ESCALATION, _OVERDUE_AGENCIES, _PRECONDITION = range(5)


@dataclass(frozen=True, slots=True)
class DigestItem:
    plan: str
    task: str
    title: str
    due: date | None
    step: str
    role: Role
    deadline_text: str
    audience: str = "agency"  # 'agency' | 'head' | 'coordinator', as in reminders.Planned
    agency: str = ""  # the agency's display name: coordinator lines say who is late


def format_date(d: date) -> str:
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def shorten(title: str, limit: int = TITLE_LIMIT) -> str:
    """At most `limit` characters, cut at a word boundary when one is near, ending with "…"."""
    title = " ".join(title.split())
    if len(title) <= limit:
        return title
    cut = title[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit * 3 // 4:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-–") + "…"


def _utf16_length(text: str) -> int:
    # Telegram counts message length in UTF-16 code units; an emoji counts twice.
    return len(text.encode("utf-16-le")) // 2


def days_left(due: date, today: date, lang: str) -> str:
    n = (due - today).days
    if n > 0:
        return t(plural_key("digest.left.future", n), lang, n=n)
    if n == 0:
        return t("digest.left.today", lang)
    return t(plural_key("digest.left.overdue", -n), lang, n=-n)


def _section(item: DigestItem) -> int:
    if item.audience == "coordinator":
        return _PRECONDITION if item.step == "precondition" else _OVERDUE_AGENCIES
    if item.audience == "head" or item.step == "escalation":
        return _ESCALATION
    return _CHECKIN if item.step == "checkin" else _REGULAR


def _task_number_key(task: str) -> tuple[int, int, str]:
    digits = task.split(".")[0]
    return (0, int(digits), task) if digits.isdigit() else (1, 0, task)


def _order(item: DigestItem) -> tuple[int, date, str, tuple[int, int, str]]:
    return (_section(item), item.due or date.max, item.plan, _task_number_key(item.task))


def _item_text(n: int, item: DigestItem, today: date, lang: str) -> str:
    task = (
        t("digest.task.report", lang)
        if item.task == REPORT_DUTY_TASK
        else t("digest.task", lang, task=item.task)
    )
    role = t(f"digest.role.{item.role.value}", lang)
    title = shorten(item.title)
    section = _section(item)
    if section in (_OVERDUE_AGENCIES, _PRECONDITION) and item.agency:
        first = t("digest.item.agency", lang, n=n, agency=item.agency, role=role,
                  plan=item.plan, task=task, title=title)  # fmt: skip
    else:
        first = t("digest.item", lang, n=n, plan=item.plan, task=task, role=role, title=title)
    if section == _PRECONDITION:
        second = (
            t("digest.deadline_text", lang, text=item.deadline_text)
            if item.due is None
            else t("digest.expected", lang, text=item.deadline_text, date=format_date(item.due))
        )
    elif section == _CHECKIN or item.due is None:
        second = t("digest.deadline_text", lang, text=item.deadline_text)
    else:
        left = days_left(item.due, today, lang)
        second = t("digest.due", lang, date=format_date(item.due), left=left)
    return f"{first}\n{second}"


def _heading(section: int, items: Sequence[DigestItem], today: date, lang: str) -> str | None:
    if section == _CHECKIN:
        return t("digest.section.checkin", lang)
    if section == _OVERDUE_AGENCIES:
        return t("digest.section.overdue_agencies", lang)
    if section == _PRECONDITION:
        return t("digest.section.precondition", lang)
    if section == _ESCALATION:
        late = [it for it in items if _section(it) == _ESCALATION]
        due = late[0].due
        if len(late) == 1 and due is not None and due < today:
            n = (today - due).days
            return t(plural_key("digest.section.escalation", n), lang, n=n)
        return t("digest.section.escalation.many", lang)
    return None


def _closing(items: Sequence[DigestItem], lang: str) -> str | None:
    if any(_section(it) in (_REGULAR, _CHECKIN) for it in items):
        return t("digest.closing.reply", lang)
    if any(_section(it) == _PRECONDITION for it in items):
        return t("digest.closing.precondition", lang)
    return None


def render_digest(
    items: Iterable[DigestItem],
    *,
    today: date,
    lang: str = "vi",
    agency_name: str,
    limit: int = 4096,
) -> list[str]:
    """The message(s) for one recipient: [] when there is nothing to say.

    Each message stays within `limit` UTF-16 code units unless a single item alone is longer
    (an item is never cut). Items are numbered across parts; the closing line ends the last part.
    """
    ordered = sorted(items, key=_order)
    if not ordered:
        return []
    head_only = all(_section(it) == _ESCALATION for it in ordered)
    greeting_key = "digest.header.head" if head_only else "digest.header"
    greeting = t(greeting_key, lang, agency=agency_name, date=format_date(today))
    headings = {
        section: _heading(section, ordered, today, lang)
        for section in {_section(it) for it in ordered}
    }
    entries = [
        (_section(it), _item_text(n, it, today, lang)) for n, it in enumerate(ordered, start=1)
    ]
    closing = _closing(ordered, lang)

    def render(part: Sequence[tuple[int, str]], marker: str, last: bool) -> str:
        blocks = [greeting + marker]
        current: int | None = None
        for section, text in part:
            if section != current:
                heading = headings[section]
                blocks.append(text if heading is None else f"{heading}\n{text}")
                current = section
            else:
                blocks[-1] += f"\n{text}"
        if last and closing:
            blocks.append(closing)
        return "\n\n".join(blocks)

    reserve = " " * _MARKER_RESERVE
    parts: list[list[tuple[int, str]]] = [[]]
    for i, entry in enumerate(entries):
        candidate = [*parts[-1], entry]
        last = i == len(entries) - 1
        if parts[-1] and _utf16_length(render(candidate, reserve, last)) > limit:
            parts.append([entry])
        else:
            parts[-1] = candidate
    if len(parts) == 1:
        return [render(parts[0], "", True)]
    total = len(parts)
    return [
        render(part, t("digest.part", lang, part=k, parts=total), k == total)
        for k, part in enumerate(parts, start=1)
    ]
