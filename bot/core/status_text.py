"""What a coordinator reads: /status overall, per agency, per task; /overdue; /silent.

All of it is built from ``storage.status_lines`` (the rules of ``domain.status``). Overall counts,
per-plan counts and the overdue list count the lead agencies' lines only: the lead answers for a
task's deadline (Quyết định 42/2014/QĐ-TTg counts each task once, under its lead), and only the
lead is chased once it is late. An agency's or a task's own status shows every line, leads and
supports, with their role. Pure: lines in, text out.
"""

from collections import Counter
from collections.abc import Sequence
from datetime import date

from bot.core.task_list import detail_lines, render_items, role_name, state_text, task_name
from domain.calendar import WorkingCalendar
from domain.digest import format_date
from domain.i18n import plural_key, t
from domain.status import (
    COUNTED_STATES,
    Lang,
    State,
    StatusLine,
    counts_by_plan,
    done_rate,
    label,
    overdue_list,
)

LEAD = "lead"


def _lang(lang: str) -> Lang:
    return "en" if lang == "en" else "vi"


def _leads(lines: Sequence[StatusLine]) -> list[StatusLine]:
    return [line for line in lines if line.role == LEAD]


def _plan_block(plan: str, counter: Counter[State], lang: str) -> list[str]:
    total = sum(counter.values())
    out = [t("chat.status.plan", lang, plan=plan, n=total)]
    out += [f"- {label(state, _lang(lang))}: {counter[state]}" for state in COUNTED_STATES]
    return out


def overall(lines: Sequence[StatusLine], *, today: date, lang: str) -> str:
    """Per plan: the four official states, continuous and waiting, and the done rate."""
    leads = _leads(lines)
    if not leads:
        return t("chat.status.none", lang)
    out = [t("chat.status.header", lang, date=format_date(today))]
    awaiting: Counter[str] = Counter(
        line.plan for line in leads if line.result.state is State.AWAITING_CONFIRMATION
    )
    for plan, counter in counts_by_plan(leads).items():
        out.append("")
        out += _plan_block(plan, counter, lang)
        if awaiting[plan]:
            out.append(t("chat.status.awaiting", lang, n=awaiting[plan]))
        out.append(t("chat.status.rate", lang, rate=round(done_rate(counter) * 100)))
    return "\n".join(out)


def for_agency(
    lines: Sequence[StatusLine],
    *,
    agency: str,
    today: date,
    lang: str,
    calendar: WorkingCalendar,
    limit: int,
) -> str:
    if not lines:
        return t("chat.status.agency.none", lang, agency=agency)
    header = t("chat.status.agency", lang, agency=agency, date=format_date(today), n=len(lines))
    items = render_items(lines, today=today, lang=lang, calendar=calendar, limit=limit)
    return "\n\n".join([header, *items])


def for_task(lines: Sequence[StatusLine], *, today: date, lang: str, limit: int) -> str:
    """One task of one plan, agency by agency (leads first)."""
    first = lines[0]
    ordered = sorted(lines, key=lambda line: line.role != LEAD)
    out = [
        t(
            "chat.status.task",
            lang,
            task=task_name(first.task, lang),
            plan=first.plan,
            date=format_date(today),
            title=first.title,
        ),
        "",
    ]
    for n, line in enumerate(ordered[:limit], start=1):
        state = state_text(line.result, lang)
        if line.result.days_overdue and line.result.official is State.OVERDUE:
            days = line.result.days_overdue
            state += f" ({t(plural_key('digest.left.overdue', days), lang, n=days)})"
        if line.due is not None and len({x.due for x in lines}) > 1:
            state += f" [{format_date(line.due)}]"
        out.append(
            t(
                "chat.status.line",
                lang,
                n=n,
                agency=line.agency,
                role=role_name(line.role, lang),
                state=state,
            )
        )
        out += detail_lines(line, lang)
    if len(ordered) > limit:
        out.append(t("chat.list.more", lang, n=len(ordered) - limit))
    return "\n".join(out)


def overdue(lines: Sequence[StatusLine], *, today: date, lang: str, limit: int) -> str:
    late = overdue_list(_leads(lines))
    if not late:
        return t("chat.overdue.none", lang)
    out = [t("chat.overdue.header", lang, date=format_date(today), n=len(late))]
    for n, line in enumerate(late[:limit], start=1):
        item = t(
            "chat.overdue.item",
            lang,
            n=n,
            agency=line.agency,
            task=task_name(line.task, lang),
            plan=line.plan,
            days=line.result.days_overdue or 0,
            due=format_date(line.due) if line.due else line.deadline_text,
        )
        if line.result.state is State.AWAITING_CONFIRMATION:
            item += t("chat.overdue.awaiting", lang)
        out.append(item)
        if line.result.blocker:
            out += detail_lines(line, lang)[:1]
    if len(late) > limit:
        out.append(t("chat.list.more", lang, n=len(late) - limit))
    return "\n".join(out)


def silent(
    names: Sequence[str],
    *,
    no_contact: Sequence[str],
    unreachable: Sequence[str],
    days: int,
    lang: str,
    limit: int,
) -> str:
    def section(header: str, items: Sequence[str]) -> list[str]:
        out = [header, *(f"- {item}" for item in items[:limit])]
        if len(items) > limit:
            out.append(t("chat.list.more", lang, n=len(items) - limit))
        return out

    if names:
        out = section(t("chat.silent.header", lang, days=days, n=len(names)), names)
    else:
        out = [t("chat.silent.none", lang, days=days)]
    if no_contact:
        out += ["", *section(t("chat.silent.no_contact", lang, n=len(no_contact)), no_contact)]
    if unreachable:
        out += ["", *section(t("chat.silent.unreachable", lang, n=len(unreachable)), unreachable)]
    return "\n".join(out)
