"""The ``nhacviec`` command line: import plans, list tasks and agencies, run the service.

Every command reads its settings once (``--db`` > $NHACVIEC_DATABASE_URL > config file), wires the
services through ``app.bootstrap`` and prints Vietnamese output. Errors a user can cause are printed
as one clear line on stderr with a non-zero exit, never as a traceback.

Every command shares this module's imports, ``nhacviec run`` too: what only one command needs (the
plan file readers, with openpyxl and python-docx; the demo) is imported inside that command.
"""

import json
import os
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from rich.console import Console
from rich.table import Table

from app import cli_chat, cli_reminders, cli_report, cli_zalo
from app.bootstrap import Services, bootstrap, read_directory
from app.config import Config, ConfigError, DatabaseConfig, load_config
from app.errors import UserError, agency_code
from domain.agencies import Directory
from domain.deadlines import DeadlineKind, describe
from domain.directory_csv import DirectoryFormatError
from domain.plan_import import PlanDraft, Role, build_plan
from domain.plans import PlanFormatError, parse_plan
from storage import repository
from storage.reminder_queries import request_planning

app = typer.Typer(
    help="Nhắc việc: theo dõi, nhắc hạn và tổng hợp tiến độ thực hiện kế hoạch.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Quản trị cơ sở dữ liệu.", no_args_is_help=True)
app.add_typer(db_app, name="db")

out = Console()
err = Console(stderr=True)


class _State:
    db: str | None = None
    config_path: Path | None = None


_state = _State()


def _config() -> Config:
    config = load_config(_state.config_path)
    if _state.db:
        config = replace(config, database=DatabaseConfig(url=_state.db))
    return config


def _services() -> Services:
    return bootstrap(_config())


@app.callback()
def _main(
    db: Annotated[
        str | None,
        typer.Option("--db", help="URL cơ sở dữ liệu (sqlite:///... hoặc postgresql://...)."),
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", help="Tệp cấu hình TOML.")] = None,
) -> None:
    _state.db = db
    _state.config_path = config


KIND_LABELS = {
    DeadlineKind.FIXED: "ngày cụ thể",
    DeadlineKind.PERIOD_END: "cuối kỳ",
    DeadlineKind.RECURRING: "định kỳ",
    DeadlineKind.RANGE: "giai đoạn",
    DeadlineKind.CONTINUOUS: "thường xuyên",
    DeadlineKind.CONDITIONAL: "có điều kiện",
    DeadlineKind.UNKNOWN: "chưa đọc được",
}


def _summary(names: list[str], limit: int = 2) -> str:
    if len(names) <= limit:
        return "; ".join(names)
    return f"{'; '.join(names[:limit])} và {len(names) - limit} cơ quan khác"


SHOWN_ROWS = 100  # a 2,000-row plan is checked with `tasks --json`, not on screen


def _draft_table(draft: PlanDraft, directory: Directory) -> Table:
    table = Table(title=f"Kế hoạch {draft.number}: {(draft.title or '')[:80]}", show_lines=False)
    for column in (
        "TT",
        "Nhiệm vụ",
        "Loại hạn",
        "Hạn",
        "Thời hạn (nguyên văn)",
        "Chủ trì",
        "Số CQ phối hợp",
    ):
        table.add_column(column, overflow="fold")
    shown = draft.tasks if len(draft.tasks) <= SHOWN_ROWS else draft.tasks[: SHOWN_ROWS - 1]
    for task in shown:
        lead = [directory.agencies[a.agency].name for a in task.assignments if a.role is Role.LEAD]
        support = [a for a in task.assignments if a.role is Role.SUPPORT]
        due = task.deadline.due.strftime("%d/%m/%Y") if task.deadline.due else "—"
        table.add_row(
            task.number,
            task.title[:60] + ("…" if len(task.title) > 60 else ""),
            KIND_LABELS[task.deadline.kind],
            due,
            task.deadline.text,
            _summary(lead),
            str(len(support)),
        )
    if len(shown) < len(draft.tasks):
        rest = len(draft.tasks) - len(shown)
        table.add_row("…", f"và {rest} nhiệm vụ khác (xem: nhacviec tasks --plan {draft.number})")
    return table


def import_plan(
    services: Services, directory: Directory, path: Path, *, dry_run: bool, number: str | None
) -> PlanDraft:
    from app.plan_files import read_plan_source  # openpyxl, python-docx: only to import

    source = read_plan_source(path)
    parsed = parse_plan(source)
    reminders = services.config.reminders
    draft = build_plan(
        parsed,
        directory,
        number=number,
        report_due=(reminders.report_due_month, reminders.report_due_day),
    )
    if not dry_run:
        now = datetime.now(UTC)
        with services.session() as session:
            repository.save_plan(session, draft, now=now)
            # The running service sees this within a dispatch tick (30 s) and plans the new
            # plan's reminders; planning 100,000 assignments here would double the import time.
            request_planning(session, now)
            session.commit()
    return draft


def _show_import(draft: PlanDraft, directory: Directory) -> None:
    out.print(_draft_table(draft, directory))
    for warning in draft.warnings:
        err.print(f"[yellow]Cảnh báo:[/yellow] {warning}", highlight=False)


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="Tệp kế hoạch: .txt, .md, .docx, .xlsx hoặc .csv.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Chỉ đọc và hiển thị, không lưu.")
    ] = False,
    number: Annotated[
        str | None, typer.Option("--number", help="Số kế hoạch, khi tệp không ghi.")
    ] = None,
) -> None:
    """Nhập một kế hoạch: đọc bảng nhiệm vụ, thời hạn và cơ quan thực hiện."""
    services = _services()
    directory = services.directory()
    draft = import_plan(services, directory, file, dry_run=dry_run, number=number)
    _show_import(draft, directory)
    verb = "Đã đọc (chưa lưu)" if dry_run else "Đã nhập"
    out.print(
        f"{verb} kế hoạch {draft.number}: {len(draft.tasks)} nhiệm vụ, "
        f"{len(draft.warnings)} cảnh báo."
    )


@app.command("plans")
def plans_command(
    as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False,
) -> None:
    """Liệt kê các kế hoạch đã nhập."""
    services = _services()
    with services.session() as session:
        plans = repository.list_plans(session)
    rows = [
        {
            "number": p.number,
            "issued_on": p.issued_on.isoformat() if p.issued_on else None,
            "issuer": p.issuer,
            "title": p.title,
        }
        for p in plans
    ]
    if as_json:
        out.print_json(json.dumps(rows, ensure_ascii=False))
        return
    if not rows:
        out.print("Chưa có kế hoạch nào. Dùng: nhacviec import TỆP")
        return
    table = Table(title="Các kế hoạch")
    for column in ("Số", "Ngày", "Cơ quan ban hành", "Trích yếu"):
        table.add_column(column, overflow="fold")
    for p in plans:
        table.add_row(
            p.number,
            p.issued_on.strftime("%d/%m/%Y") if p.issued_on else "—",
            p.issuer or "—",
            (p.title or "")[:90],
        )
    out.print(table)


@app.command("tasks")
def tasks_command(
    plan: Annotated[
        str | None, typer.Option("--plan", help="Số kế hoạch, ví dụ 289/KH-UBND.")
    ] = None,
    agency: Annotated[
        str | None, typer.Option("--agency", help="Tên cơ quan (có thể không dấu, viết tắt).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False,
) -> None:
    """Liệt kê nhiệm vụ với thời hạn và cơ quan chủ trì, phối hợp."""
    services = _services()
    directory = services.directory()
    code = agency_code(directory, agency) if agency else None
    with services.session() as session:
        if plan and not any(p.number == plan for p in repository.list_plans(session)):
            raise UserError(f"Không có kế hoạch số '{plan}'. Xem: nhacviec plans")
        tasks = repository.list_tasks(session, plan_number=plan, agency_code=code)

    def name(c: str) -> str:
        return directory.display_name(c) if c in directory.agencies else c

    rows: list[dict[str, Any]] = [
        {
            "plan": t.plan,
            "number": t.number,
            "title": t.title,
            "deadline": {
                "kind": str(t.deadline.kind),
                "due": t.deadline.due.isoformat() if t.deadline.due else None,
                "text": t.deadline.text,
            },
            "lead": [name(c) for c in t.lead],
            "support": [name(c) for c in t.support],
            "report_duty": t.is_report_duty,
        }
        for t in tasks
    ]
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    if not rows:
        out.print("Không có nhiệm vụ nào phù hợp.")
        return
    table = Table(title="Nhiệm vụ")
    for column in ("Kế hoạch", "TT", "Nhiệm vụ", "Thời hạn", "Hạn", "Chủ trì", "Phối hợp"):
        table.add_column(column, overflow="fold")
    for t, r in zip(tasks, rows, strict=True):
        table.add_row(
            t.plan,
            t.number,
            t.title[:70] + ("…" if len(t.title) > 70 else ""),
            f"{t.deadline.text}\n[dim]{describe(t.deadline)}[/dim]",
            t.deadline.due.strftime("%d/%m/%Y") if t.deadline.due else "—",
            _summary(r["lead"]),
            str(len(r["support"])),
        )
    out.print(table)


@app.command("agencies")
def agencies_command(
    as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False,
    load: Annotated[
        Path | None,
        typer.Option("--load", help="Thay danh bạ bằng thư mục có agencies.csv và groups.csv."),
    ] = None,
) -> None:
    """Danh bạ cơ quan, đơn vị (và nạp danh bạ mới từ CSV)."""
    services = _services()
    if load is not None:
        directory = read_directory(str(load))
        with services.session() as session:
            repository.save_directory(session, directory)
            session.commit()
        out.print(
            f"Đã nạp {len(directory.agencies)} cơ quan, {len(directory.groups)} nhóm từ {load}."
        )
        return
    directory = services.directory()
    agencies = sorted(directory.agencies.values(), key=lambda a: (a.level, a.name))
    if as_json:
        rows = [
            {
                "code": a.code,
                "name": a.name,
                "level": str(a.level),
                "aliases": list(a.aliases),
                "valid_from": a.valid_from.isoformat() if a.valid_from else None,
                "valid_until": a.valid_until.isoformat() if a.valid_until else None,
                "successor": a.successor,
            }
            for a in agencies
        ]
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(title=f"Danh bạ: {len(agencies)} cơ quan, đơn vị")
    for column in ("Mã", "Tên", "Cấp", "Hiệu lực", "Kế thừa"):
        table.add_column(column, overflow="fold")
    for a in agencies:
        span = (
            f"{a.valid_from or ''} → {a.valid_until or ''}" if a.valid_from or a.valid_until else ""
        )
        table.add_row(a.code, a.name, str(a.level), span, a.successor or "")
    out.print(table)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Nâng cấp lược đồ cơ sở dữ liệu lên phiên bản mới nhất."""
    config = _config()
    bootstrap(config)
    out.print(f"Cơ sở dữ liệu đã ở phiên bản mới nhất: {_redact(config.database.url)}")


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        return f"{scheme}://{creds.split(':')[0]}:***@{host}" if ":" in creds else url
    return url


@app.command("demo")
def demo_command(
    start: Annotated[
        datetime | None,
        typer.Option(
            "--start", formats=["%Y-%m-%d"], help="Ngày bắt đầu (mặc định: ngày của kế hoạch)."
        ),
    ] = None,
    end: Annotated[
        datetime | None,
        typer.Option("--end", formats=["%Y-%m-%d"], help="Ngày kết thúc (mặc định: 31/12/2026)."),
    ] = None,
    pause: Annotated[
        float,
        typer.Option("--pause", min=0.0, help="Số giây dừng sau mỗi ngày gửi tin, để trình chiếu."),
    ] = 0.0,
) -> None:
    """Chạy thử toàn bộ quy trình trên kế hoạch mẫu: nhắc việc, trả lời, xác nhận, /status.

    Không cần mạng, không cần bot. Nên dùng một tệp SQLite riêng, ví dụ:
    nhacviec --db sqlite:///nhacviec-demo.db demo
    """
    from app.demo import run_demo

    run_demo(
        _services(),
        console=out,
        start=start.date() if start else None,
        end=end.date() if end else None,
        pause=pause,
    )


cli_report.register(app, _services)
cli_chat.register(app, _services)
cli_reminders.register(app, _services)
cli_zalo.register(app, _services)


def main() -> None:
    """Console-script entry point: user errors become one line on stderr, exit code 1."""
    try:
        # Without standalone mode click returns the code of typer.Exit instead of exiting.
        code = app(standalone_mode=False)
        if isinstance(code, int) and code:
            sys.exit(code)
    except (PlanFormatError, ConfigError, DirectoryFormatError) as exc:
        err.print(f"[red]Lỗi:[/red] {exc}", highlight=False)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt):
        err.print("Đã dừng.")
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # the last line of defence: no traceback for users
        if os.environ.get("NHACVIEC_DEBUG"):
            raise
        err.print(f"[red]Lỗi không mong đợi:[/red] {type(exc).__name__}: {exc}", highlight=False)
        err.print("Đặt NHACVIEC_DEBUG=1 để xem chi tiết.")
        sys.exit(2)
