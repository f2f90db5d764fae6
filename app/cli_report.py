"""The coordinator's commands: ``report`` writes the status file, ``status`` prints the counts.

``report`` builds the status lines of one plan as of a day and saves them as a workbook, a draft
report, a chart or a CSV file; ``status`` prints, per plan, the counts in the four official states
(plus continuous and waiting tasks) and the overdue list, the same figures the chat's /status gives.
The clock is read here, at the edge: the default day is today in Asia/Ho_Chi_Minh.

app/cli.py registers these commands with ``register(app, _services)``. Errors a user can cause
(unknown plan, agency, format or date; a file that cannot be written) are ``UserError``: one
Vietnamese line on stderr and exit code 1, in both the console script and typer's own runner.
"""

import errno
import json
import re
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from app.bootstrap import Services
from app.errors import UserError, agency_code
from domain.agencies import Directory
from domain.calendar import ZONE
from domain.status import (
    COUNTED_STATES,
    OFFICIAL_STATES,
    State,
    StatusLine,
    counts_by_plan,
    done_rate,
    label,
    overdue_list,
)
from reports import ROLE_LABELS, ReportMeta, dmy
from storage import repository
from storage.models import Plan
from storage.status_lines import status_lines

FORMATS = ("xlsx", "docx", "png", "csv")
OVERDUE_SHOWN = 30  # rows of the overdue table on screen; --json and the reports have them all

_out = Console()


def today() -> date:
    """Today in Viet Nam: the only clock reading of these commands."""
    return datetime.now(ZONE).date()


def parse_day(text: str) -> date:
    """``2026-11-26`` or ``26/11/2026`` (also with "-" or "." between day, month and year)."""
    text = text.strip()
    try:
        return date.fromisoformat(text)
    except ValueError:
        pass
    match = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text)
    if match:
        day, month, year = (int(part) for part in match.groups())
        try:
            return date(year, month, day)
        except ValueError:
            pass
    raise UserError(f"Ngày '{text}' không hợp lệ; hãy viết dạng 26/11/2026 hoặc 2026-11-26.")


def _known(plans: Sequence[Plan]) -> str:
    return ", ".join(p.number for p in plans)


def find_plan(plans: Sequence[Plan], wanted: str | None) -> Plan:
    """The plan numbered ``wanted``: exactly, ignoring case and spaces, or by its number alone
    ("289" for "289/KH-UBND") when that is unambiguous. None picks the only plan there is."""
    if not plans:
        raise UserError("Chưa có kế hoạch nào. Dùng: nhacviec import TỆP")
    if wanted is None:
        if len(plans) == 1:
            return plans[0]
        raise UserError(f"Hãy chọn kế hoạch bằng --plan. Các kế hoạch đã nhập: {_known(plans)}.")

    def squeeze(text: str) -> str:
        return "".join(text.split()).casefold()

    for same in (
        lambda p: p.number == wanted,
        lambda p: squeeze(p.number) == squeeze(wanted),
        lambda p: squeeze(p.number).split("/")[0] == squeeze(wanted),
    ):
        found = [p for p in plans if same(p)]
        if len(found) == 1:
            return found[0]
    raise UserError(f"Không có kế hoạch số '{wanted}'. Các kế hoạch đã nhập: {_known(plans)}.")


def default_file_name(plan_number: str, at: date, fmt: str, agency_code: str | None) -> str:
    """``bao-cao-289-KH-UBND-2026-11-26.xlsx``; the agency's code is added when filtered."""
    parts = ["bao-cao", plan_number, *([agency_code] if agency_code else []), at.isoformat()]
    name = "-".join(re.sub(r"[^0-9A-Za-z.-]+", "-", part).strip("-") for part in parts)
    return f"{name}.{fmt}"


_PLACE = re.compile(r"(?:tỉnh|thành phố)\s+(.+)$", re.IGNORECASE)


def report_meta(plan: Plan, directory: Directory, at: date) -> ReportMeta:
    issuer = (plan.issuer or "").strip()
    # The official document names the issuer in full: "Ủy ban nhân dân tỉnh Nghệ An".
    issuer = re.sub(r"^UBND\b", "Ủy ban nhân dân", issuer)
    coordinator = plan.coordinator or ""
    coordinator_name = (
        directory.agencies[coordinator].name if coordinator in directory.agencies else coordinator
    )
    meta = ReportMeta(
        plan_number=plan.number,
        plan_title=plan.title or "",
        issuer=issuer or "Ủy ban nhân dân tỉnh",
        coordinator_name=coordinator_name or "Cơ quan tổng hợp",
        at=at,
        coordinator_code=coordinator,
    )
    place = _PLACE.search(issuer)
    return replace(meta, place=place.group(1).strip()) if place else meta


def render(fmt: str, lines: Sequence[StatusLine], meta: ReportMeta) -> bytes:
    # Each exporter loads its own library (matplotlib takes a second): import only the one asked.
    if fmt == "xlsx":
        from reports.xlsx import build_xlsx

        return build_xlsx(lines, meta)
    if fmt == "docx":
        from reports.docx import build_docx

        return build_docx(lines, meta)
    if fmt == "png":
        from reports.chart import build_chart_png

        return build_chart_png(lines, meta)
    from reports.csv import build_csv

    return build_csv(lines)


def official_summary(counter: Counter[State]) -> str:
    """ "3 hoàn thành đúng hạn, 1 hoàn thành quá hạn, ..." (then continuous and waiting, if any)."""
    parts = [f"{counter[state]} {label(state).lower()}" for state in OFFICIAL_STATES]
    extra = [
        f"{counter[state]} {label(state).lower()}"
        for state in (State.CONTINUOUS, State.WAITING)
        if counter[state]
    ]
    text = ", ".join(parts)
    return f"{text} (ngoài ra {', '.join(extra)})" if extra else text


def _counter(lines: Sequence[StatusLine]) -> Counter[State]:
    return Counter(line.result.counted_as for line in lines)


def _overdue_json(line: StatusLine) -> dict[str, Any]:
    return {
        "plan": line.plan,
        "task": line.task,
        "title": line.title,
        "agency": line.agency,
        "agency_code": line.agency_code,
        "role": line.role,
        "deadline": line.deadline_text,
        "due": line.due.isoformat() if line.due else None,
        "days_overdue": line.result.days_overdue,
        "state": line.result.state.value,
    }


_OS_ERRORS = {
    errno.ENOENT: "thư mục không tồn tại",
    errno.EACCES: "không có quyền ghi",
    errno.EPERM: "không có quyền ghi",
    errno.EROFS: "ổ đĩa chỉ cho đọc",
    errno.ENOSPC: "hết dung lượng đĩa",
    errno.EISDIR: "đó là một thư mục",
    errno.ENOTDIR: "đường dẫn không phải thư mục",
}


def _why(exc: OSError) -> str:
    return _OS_ERRORS.get(exc.errno or 0) or exc.strerror or str(exc)


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def register(app: typer.Typer, get_services: Callable[[], Services]) -> None:
    """Add ``report`` and ``status`` to the main command line."""

    @app.command("report")
    def report_command(
        plan: Annotated[
            str | None,
            typer.Option("--plan", help="Số kế hoạch, ví dụ 289/KH-UBND (bỏ qua nếu chỉ có một)."),
        ] = None,
        fmt: Annotated[
            str, typer.Option("--format", "-f", help="Định dạng: xlsx, docx, png hoặc csv.")
        ] = "xlsx",
        at: Annotated[
            str | None,
            typer.Option(
                "--at", help="Tính đến ngày (26/11/2026 hoặc 2026-11-26); mặc định hôm nay."
            ),
        ] = None,
        output: Annotated[
            Path | None,
            typer.Option("--output", "-o", help="Tệp (hoặc thư mục) ghi báo cáo."),
        ] = None,
        agency: Annotated[
            str | None, typer.Option("--agency", help="Chỉ lập cho một cơ quan, đơn vị.")
        ] = None,
    ) -> None:
        """Lập báo cáo tình hình thực hiện một kế hoạch: Excel, Word, biểu đồ hoặc CSV."""
        fmt = fmt.strip().lower().lstrip(".")
        if fmt not in FORMATS:
            raise UserError(
                f"Định dạng '{fmt}' không được hỗ trợ; chọn một trong: {', '.join(FORMATS)}."
            )
        day = parse_day(at) if at else today()
        services = get_services()
        directory = services.directory()
        code = agency_code(directory, agency) if agency else None
        with services.session() as session:
            chosen = find_plan(repository.list_plans(session), plan)
            lines = status_lines(
                session,
                directory=directory,
                calendar=services.calendar,
                on=day,
                plan_number=chosen.number,
                agency_code=code,
                require_confirmation=services.config.status.require_confirmation,
            )
        if not lines:
            whose = f" của {directory.display_name(code)}" if code else ""
            raise UserError(f"Kế hoạch {chosen.number} không có nhiệm vụ nào{whose}.")

        path = (
            output if output is not None else Path(default_file_name(chosen.number, day, fmt, code))
        )
        if path.is_dir():
            path = path / default_file_name(chosen.number, day, fmt, code)
        data = render(fmt, lines, report_meta(chosen, directory, day))
        try:
            path.write_bytes(data)
        except OSError as exc:
            raise UserError(f"Không ghi được tệp {path}: {_why(exc)}.") from exc
        typer.echo(
            f"Đã lập báo cáo Kế hoạch số {chosen.number} tính đến ngày {dmy(day)}: "
            f"{official_summary(_counter(lines))}. Tệp: {path}"
        )

    @app.command("status")
    def status_command(
        plan: Annotated[
            str | None, typer.Option("--plan", help="Số kế hoạch; mặc định mọi kế hoạch.")
        ] = None,
        agency: Annotated[
            str | None, typer.Option("--agency", help="Chỉ xem một cơ quan, đơn vị.")
        ] = None,
        at: Annotated[
            str | None,
            typer.Option(
                "--at", help="Tính đến ngày (26/11/2026 hoặc 2026-11-26); mặc định hôm nay."
            ),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False,
    ) -> None:
        """Số nhiệm vụ theo bốn tình trạng của từng kế hoạch, và các nhiệm vụ quá hạn."""
        day = parse_day(at) if at else today()
        services = get_services()
        directory = services.directory()
        code = agency_code(directory, agency) if agency else None
        with services.session() as session:
            plans = repository.list_plans(session)
            chosen = [find_plan(plans, plan)] if plan is not None else plans
            lines = status_lines(
                session,
                directory=directory,
                calendar=services.calendar,
                on=day,
                plan_number=chosen[0].number if plan is not None else None,
                agency_code=code,
                require_confirmation=services.config.status.require_confirmation,
            )
        counts = counts_by_plan(lines)
        # Every plan asked about is listed; with an agency, only the plans it has work in.
        shown = [p for p in chosen if code is None or p.number in counts]
        overdue = overdue_list(lines)
        if as_json:
            payload = {
                "at": day.isoformat(),
                "agency": directory.display_name(code) if code else None,
                "plans": [_plan_json(p, counts.get(p.number, Counter())) for p in shown],
                "overdue": [_overdue_json(line) for line in overdue],
            }
            sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
            return
        if not plans:
            _out.print("Chưa có kế hoạch nào. Dùng: nhacviec import TỆP", highlight=False)
            return
        if not shown:
            whom = f" cho {directory.display_name(code)}" if code else ""
            _out.print(f"Không có nhiệm vụ nào{whom}.", highlight=False)
            return
        _out.print(
            _counts_table(shown, counts, day, directory.display_name(code) if code else None)
        )
        _out.print(_overdue_table(overdue))


def _plan_json(plan: Plan, counter: Counter[State]) -> dict[str, Any]:
    return {
        "plan": plan.number,
        "title": plan.title,
        "counts": {state.value: counter[state] for state in COUNTED_STATES},
        "official_total": sum(counter[state] for state in OFFICIAL_STATES),
        "done_rate": round(done_rate(counter), 4),
    }


def _counts_table(
    plans: Sequence[Plan], counts: dict[str, Counter[State]], day: date, agency: str | None
) -> Table:
    title = f"Tình hình thực hiện tính đến ngày {dmy(day)}"
    table = Table(title=f"{title} — {agency}" if agency else title)
    table.add_column("Kế hoạch", no_wrap=True)
    for state in COUNTED_STATES:
        table.add_column(label(state), justify="right", overflow="fold")
    table.add_column("Tỷ lệ hoàn thành", justify="right")
    for plan in plans:
        counter = counts.get(plan.number, Counter())
        table.add_row(
            plan.number,
            *(str(counter[state]) for state in COUNTED_STATES),
            f"{done_rate(counter) * 100:.1f}%".replace(".", ","),
        )
    return table


def _overdue_table(overdue: Sequence[StatusLine]) -> Table | str:
    if not overdue:
        return "Không có nhiệm vụ quá hạn."
    table = Table(title=f"Nhiệm vụ quá hạn chưa hoàn thành ({len(overdue)})")
    for column in (
        "Kế hoạch",
        "TT",
        "Nhiệm vụ",
        "Cơ quan, đơn vị",
        "Vai trò",
        "Hạn",
        "Số ngày quá hạn",
    ):
        table.add_column(column, overflow="fold")
    for line in overdue[:OVERDUE_SHOWN]:
        table.add_row(
            line.plan,
            line.task,
            _short(line.title, 60),
            line.agency,
            ROLE_LABELS.get(line.role, line.role),
            dmy(line.due) if line.due else line.deadline_text,
            str(line.result.days_overdue or 0),
        )
    if len(overdue) > OVERDUE_SHOWN:
        table.caption = (
            f"… và {len(overdue) - OVERDUE_SHOWN} dòng khác; "
            "xem đầy đủ: nhacviec report --format xlsx hoặc nhacviec status --json"
        )
    return table
