"""The reminder commands: ``preview`` shows what would be sent, ``run`` starts the service.

``preview`` runs the pure planner over a window of days from the current database (assignments,
reports already in, contacts) and prints, per send moment, agency and contact, what each would
get. It sends nothing and writes nothing: the outbox is not touched. Agencies with no contact yet
are listed too, with nobody to receive, which is how a coordinator finds whom to invite.

``run`` starts the reminder service (planning, dispatch tick, coordinators' digest) with the
console channel, plus Telegram when ``telegram.token`` is set (``app.runtime``). Without any chat
platform configured, every reminder is printed on the console instead, as a demonstration.

The clock is read here, at the edge (``scheduler.clock.SystemClock``); app/cli.py registers these
commands with ``register(app, _services)``.
"""

import asyncio
import gc
import json
import logging
import re
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from app.bootstrap import Services
from app.errors import UserError, agency_code
from bot.console import ConsoleChannel
from domain.calendar import at_local
from domain.digest import format_date
from domain.reminders import (
    CHECKIN_STEP,
    DUE,
    ESCALATION,
    HEAD,
    PRECONDITION,
)
from scheduler.clock import SystemClock
from scheduler.planning import Recipients, compute
from scheduler.service import ServiceSettings
from storage.recipients import reachable_contacts
from storage.reminder_queries import planning_input

ROLE_NAMES = {"lead": "chủ trì", "support": "phối hợp"}
NOBODY = "(chưa có đầu mối)"


ReminderCommandError = UserError  # the name the preview tests know


def step_label(step: str, audience: str) -> str:
    """A step as a coordinator reads it: "before:7" -> "trước hạn 7 ngày"."""
    kind, _, arg = step.partition(":")
    if kind == "before":
        return f"trước hạn {arg} ngày"
    if kind == "overdue":
        return f"quá hạn, nhắc lần {arg}"
    if step == ESCALATION:
        return "báo cáo Thủ trưởng" if audience == HEAD else "báo cáo cơ quan theo dõi"
    return {
        DUE: "đến hạn",
        CHECKIN_STEP: "cập nhật định kỳ",
        PRECONDITION: "chờ điều kiện triển khai",
    }.get(step, step)


@dataclass(frozen=True, slots=True)
class PreviewItem:
    send_at: datetime
    agency: str  # display name
    agency_code: str
    role: str  # lead / support
    plan: str
    task: str
    title: str
    due: date | None
    occurrence: str
    step: str
    audience: str
    contacts: tuple[str, ...]  # display names; empty when nobody can receive it

    def as_json(self) -> dict[str, Any]:
        return {
            "send_at": self.send_at.isoformat(),
            "agency": self.agency,
            "agency_code": self.agency_code,
            "role": self.role,
            "plan": self.plan,
            "task": self.task,
            "title": self.title,
            "due": self.due.isoformat() if self.due else None,
            "occurrence": self.occurrence,
            "step": self.step,
            "audience": self.audience,
            "contacts": list(self.contacts),
        }


def preview(
    services: Services, first: date, days: int, agency_code: str | None = None
) -> list[PreviewItem]:
    """What planning would put in the outbox for send moments in [first, first + days)."""
    start, end = at_local(first, time(0, 0)), at_local(first + timedelta(days=days), time(0, 0))
    directory = services.directory()
    with services.session() as session:
        found = planning_input(session)
        recipients = Recipients(reachable_contacts(session), found.coordinators)
    planned = compute(
        found.views,
        directory=directory,
        calendar=services.calendar,
        policy=services.policy,
        now=start,
        horizon_days=days,
        lookback_days=0,
    )
    views = {view.assignment_id: view for view in found.views}

    def name(code: str) -> str:
        return directory.display_name(code) if code in directory.agencies else code

    items: list[PreviewItem] = []
    for item in planned:
        if not start <= item.send_at < end or (agency_code and item.agency != agency_code):
            continue
        view = views[item.assignment_id]
        people = recipients.of(item, view.plan)
        items.append(
            PreviewItem(
                send_at=item.send_at,
                agency=name(item.agency),
                agency_code=item.agency,
                role=view.role.value,
                plan=view.plan,
                task=view.task,
                title=view.title,
                due=item.due,
                occurrence=item.occurrence,
                step=item.step,
                audience=item.audience,
                contacts=tuple(person.label for person in people),
            )
        )
    items.sort(key=lambda i: (i.send_at, i.agency, i.audience, i.plan, i.task, i.step))
    return items


_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def _parse_day(text: str) -> date:
    text = text.strip()
    try:
        dmy = _DMY.fullmatch(text)
        if dmy is not None:
            return date(int(dmy.group(3)), int(dmy.group(2)), int(dmy.group(1)))
        return date.fromisoformat(text)
    except ValueError:
        pass
    raise ReminderCommandError(f"Ngày không hợp lệ '{text}': ghi dạng 2025-12-31 hoặc 31/12/2025.")


def _print_table(items: list[PreviewItem], first: date, days: int) -> None:
    last = first + timedelta(days=days - 1)
    table = Table(title=f"Nhắc việc dự kiến từ {format_date(first)} đến {format_date(last)}")
    for column in ("Gửi lúc", "Cơ quan", "Vai trò", "Kế hoạch", "NV", "Hạn", "Nội dung",
                   "Người nhận"):  # fmt: skip
        table.add_column(column, overflow="fold")
    for item in items:
        local = item.send_at
        table.add_row(
            f"{local:%H:%M} {format_date(local.date())}",
            item.agency,
            ROLE_NAMES.get(item.role, item.role),
            item.plan,
            item.task,
            format_date(item.due) if item.due else "—",
            step_label(item.step, item.audience),
            "; ".join(item.contacts) or NOBODY,
        )
    Console().print(table)
    nobody = sorted({i.agency for i in items if not i.contacts})
    Console().print(
        f"{len(items)} nhắc việc; {len(nobody)} cơ quan chưa có đầu mối nhận nhắc việc."
    )


async def _serve(services: Services) -> None:
    from app.runtime import run  # the chat adapters are loaded only by the command that needs them

    clock = SystemClock()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    with services.session() as session:
        labels = {c.chat_id: f"{c.label} ({c.agency_code})" for c in reachable_contacts(session)}
    telegram = bool(services.config.telegram.token)
    settings = ServiceSettings(
        policy=services.policy,
        horizon_days=services.config.reminders.horizon_days,
        require_confirmation=services.config.status.require_confirmation,
        # With no chat platform at all, show every reminder on the console (a demonstration).
        fallback_channel=None if telegram else "console",
    )
    platforms = "Telegram và màn hình" if telegram else "màn hình (chưa cấu hình Telegram)"
    Console().print(f"Dịch vụ nhắc việc đang chạy, gửi qua {platforms}. Nhấn Ctrl+C để dừng.")
    try:
        await run(
            services,
            clock=clock,
            stop=stop,
            settings=settings,
            channels={"console": ConsoleChannel(console=Console(), labels=labels)},
            ready=_freeze_start_up_objects,
        )
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
    Console().print("Đã dừng dịch vụ nhắc việc.")


def _freeze_start_up_objects(_service: object) -> None:
    """What start-up built (modules, the directory, the calendar) lives as long as the process:
    moved out of the collector's sight, so that full collections stop walking it (they made the
    slowest replies take 130-175 ms instead of about 40 ms in bench/bench_replies.py)."""
    gc.freeze()


def register(app: typer.Typer, get_services: Callable[[], Services]) -> None:
    """Add ``preview`` and ``run`` to the main command line."""

    @app.command("preview")
    def preview_command(
        first: Annotated[
            str | None,
            typer.Option("--from", help="Ngày đầu (2025-12-31 hoặc 31/12/2025); mặc định hôm nay."),
        ] = None,
        days: Annotated[int, typer.Option("--days", min=1, max=400, help="Số ngày xem.")] = 7,
        agency: Annotated[
            str | None, typer.Option("--agency", help="Chỉ một cơ quan (tên hoặc viết tắt).")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False,
    ) -> None:
        """Xem trước nhắc việc sẽ gửi cho từng cơ quan, đầu mối (không gửi, không ghi)."""
        day = _parse_day(first) if first else SystemClock().now().date()
        services = get_services()
        code = None
        if agency:
            code = agency_code(services.directory(), agency)
        items = preview(services, day, days, code)
        if as_json:
            typer.echo(json.dumps([i.as_json() for i in items], ensure_ascii=False, indent=2))
        else:
            _print_table(items, day, days)

    @app.command("run")
    def run_command() -> None:
        """Chạy dịch vụ nhắc việc: lập lịch, gửi nhắc việc, tổng hợp hằng ngày."""
        services = get_services()
        if not logging.getLogger().handlers:
            logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
            logging.getLogger("apscheduler").setLevel(logging.WARNING)  # a line per job run
        asyncio.run(_serve(services))
