"""From a parsed plan to tasks with typed deadlines and resolved agencies (pure).

``build_plan(parsed, directory)`` is filled in below the types.
"""

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from domain.agencies import Directory
from domain.deadlines import Deadline, DeadlineKind, Frequency, parse_deadline
from domain.plans import ParsedPlan, PlanFormatError


class Role(StrEnum):
    LEAD = "lead"
    SUPPORT = "support"


@dataclass(frozen=True, slots=True)
class AssignmentDraft:
    agency: str  # agency code
    role: Role
    via_group: str | None = None  # group code when the cell named a group


@dataclass(frozen=True, slots=True)
class TaskDraft:
    number: str  # "1"; the reporting duty is number "BC"
    title: str
    deadline: Deadline
    assignments: tuple[AssignmentDraft, ...]
    section: str | None = None
    product: str = ""
    note: str = ""
    lead_text: str = ""  # the cells as written, kept for display and audits
    support_text: str = ""
    is_report_duty: bool = False
    location: str = ""


@dataclass(frozen=True, slots=True)
class PlanDraft:
    number: str
    issued_on: date | None
    issuer: str | None
    title: str | None
    source: str
    coordinator: str | None  # agency code the reporting duty reports to (Sở Nội vụ in the seed)
    tasks: tuple[TaskDraft, ...]
    warnings: tuple[str, ...] = field(default=())


REPORT_DUTY_NUMBER = "BC"


def _resolve(
    directory: Directory,
    cell: str,
    on: date | None,
    role: Role,
    where: str,
    warnings: list[str],
) -> list[AssignmentDraft]:
    drafts: list[AssignmentDraft] = []
    for res in directory.resolve_cell(cell):
        if res.agency is not None:
            drafts.append(AssignmentDraft(res.agency, role))
        elif res.group is not None:
            members = directory.members(res.group, on)
            if not members:
                warnings.append(f"{where}: '{res.text}' không chỉ rõ cơ quan nào; cần giao cụ thể")
            drafts.extend(AssignmentDraft(code, role, res.group) for code in members)
        else:
            hint = f"; gần giống: {', '.join(res.suggestions)}" if res.suggestions else ""
            warnings.append(f"{where}: không tìm thấy cơ quan '{res.text}'{hint}")
    return drafts


def _dedupe(
    lead: list[AssignmentDraft], support: list[AssignmentDraft]
) -> tuple[AssignmentDraft, ...]:
    seen: set[tuple[str, Role]] = set()
    lead_codes = {a.agency for a in lead}
    out: list[AssignmentDraft] = []
    for a in [*lead, *(s for s in support if s.agency not in lead_codes)]:
        if (a.agency, a.role) not in seen:
            seen.add((a.agency, a.role))
            out.append(a)
    return tuple(out)


def _duty_task(
    parsed: ParsedPlan,
    number: str,
    year: int | None,
    directory: Directory,
    named: list[str],
    default_due: tuple[int, int],
    warnings: list[str],
) -> tuple[TaskDraft | None, str | None]:
    duty = parsed.duty
    if duty is None:
        return None, None
    res = directory.resolve(duty.recipient_text)
    coordinator = res.agency
    if coordinator is None:
        warnings.append(
            f"{parsed.source}: không tìm thấy cơ quan nhận báo cáo '{duty.recipient_text}'"
        )
    month = duty.due_month or default_due[0]
    day = duty.due_day or default_due[1]
    start = date(year, 1, 1) if year else None
    words = {
        Frequency.YEARLY: "hằng năm",
        Frequency.HALF_YEARLY: "6 tháng một lần",
        Frequency.QUARTERLY: "hằng quý",
        Frequency.MONTHLY: "hằng tháng",
    }[duty.frequency]
    deadline = Deadline(
        kind=DeadlineKind.RECURRING,
        text=f"Định kỳ {words}, trước ngày {day:02d}/{month:02d}"
        if duty.frequency is Frequency.YEARLY
        else f"Định kỳ {words}",
        start=start,
        due=_first_due(start, month, day) if start and duty.frequency is Frequency.YEARLY else None,
        frequency=duty.frequency,
        anchor_month=month if duty.frequency is Frequency.YEARLY else None,
        anchor_day=day if duty.frequency is Frequency.YEARLY else None,
    )
    owers = [code for code in dict.fromkeys(named) if code != coordinator]
    recipient = directory.agency(coordinator).name if coordinator else duty.recipient_text
    task = TaskDraft(
        number=REPORT_DUTY_NUMBER,
        title=f"Báo cáo kết quả thực hiện Kế hoạch số {number} về {recipient}",
        deadline=deadline,
        assignments=tuple(AssignmentDraft(code, Role.LEAD) for code in owers),
        note=duty.text,
        lead_text="Các cơ quan, đơn vị được giao nhiệm vụ",
        is_report_duty=True,
        location=parsed.source,
    )
    return task, coordinator


def _first_due(start: date, month: int, day: int) -> date:
    try:
        return date(start.year, month, day)
    except ValueError:  # 29/2 in a common year, 31/4 ...: the month's last day
        return date(start.year, month, 28)


def build_plan(
    parsed: ParsedPlan,
    directory: Directory,
    *,
    number: str | None = None,
    report_due: tuple[int, int] = (12, 15),
) -> PlanDraft:
    """Type every deadline, resolve every agency, add the reporting duty; warn, never drop.

    Groups expand to their members on the plan's date; mergers after that date are followed per
    occurrence by the reminder engine, not here.
    """
    plan_number = number or parsed.meta.number
    if not plan_number:
        raise PlanFormatError(
            f"{parsed.source}: không tìm thấy số kế hoạch (dạng 'Số: 289/KH-UBND'); "
            "hãy ghi rõ bằng --number"
        )
    issued = parsed.meta.issued_on
    year = issued.year if issued else None
    warnings = list(parsed.warnings)
    tasks: list[TaskDraft] = []
    named: list[str] = []
    seen_numbers: set[str] = set()
    for row in parsed.rows:
        where = f"{parsed.source}, {row.location} (nhiệm vụ {row.number})"
        task_number = row.number
        if task_number in seen_numbers:
            task_number = f"{row.number}@{row.location}"
            warnings.append(f"{where}: số thứ tự trùng; lưu với số '{task_number}'")
        seen_numbers.add(task_number)
        if not row.title:
            warnings.append(f"{where}: thiếu nội dung nhiệm vụ")
        deadline = parse_deadline(row.deadline_text, default_year=year)
        if deadline.kind is DeadlineKind.UNKNOWN:
            shown = row.deadline_text or "(trống)"
            warnings.append(f"{where}: không đọc được thời hạn '{shown}'; cần người kiểm tra")
        if not row.lead_text.strip():
            warnings.append(f"{where}: không có cơ quan chủ trì")
        lead = _resolve(directory, row.lead_text, issued, Role.LEAD, where, warnings)
        support = _resolve(directory, row.support_text, issued, Role.SUPPORT, where, warnings)
        if row.lead_text.strip() and not lead:
            warnings.append(f"{where}: chưa xác định được cơ quan chủ trì")
        assignments = _dedupe(lead, support)
        named.extend(a.agency for a in assignments)
        tasks.append(
            TaskDraft(
                number=task_number,
                title=row.title,
                deadline=deadline,
                assignments=assignments,
                section=row.section,
                product=row.product,
                note=row.note,
                lead_text=row.lead_text,
                support_text=row.support_text,
                location=row.location,
            )
        )
    duty, coordinator = _duty_task(
        parsed, plan_number, year, directory, named, report_due, warnings
    )
    if duty is not None:
        tasks.append(duty)
    return PlanDraft(
        number=plan_number,
        issued_on=issued,
        issuer=parsed.meta.issuer,
        title=parsed.meta.title,
        source=parsed.source,
        coordinator=coordinator,
        tasks=tuple(tasks),
        warnings=tuple(warnings),
    )
