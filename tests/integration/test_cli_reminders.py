"""``nhacviec preview``: what would be sent, per agency and contact, without sending or writing."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from sqlmodel import select
from typer.testing import CliRunner

from app.bootstrap import Services, bootstrap
from app.cli_reminders import ReminderCommandError, register, step_label
from app.config import Config, DatabaseConfig
from storage.models import Reminder
from tests.integration.reminder_world import TaskSpec, add_contact, fixed, local, save_plan

DUE = local(2023, 12, 29).date()


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    wired = bootstrap(Config(database=DatabaseConfig(url=f"sqlite:///{tmp_path / 'n.db'}")))
    with wired.session() as session:
        save_plan(session, [TaskSpec("1", fixed(DUE), lead=("STC",), support=("SYT",))])
        add_contact(session, "STC", "100", name="Nguyễn Văn An")
        add_contact(session, "STC", "101", role="head", name="Trần Thị Bình")
    yield wired
    wired.engine.dispose()


@pytest.fixture
def cli(services: Services) -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:  # a group, as in app.cli, so commands keep their names
        pass

    register(app, lambda: services)
    return app


def invoke(app: typer.Typer, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200", "NO_COLOR": "1"})
    return result.exit_code, result.output


def test_preview_json_lists_every_reminder_with_its_recipients(
    cli: typer.Typer, services: Services
) -> None:
    code, output = invoke(cli, "preview", "--from", "2023-12-20", "--days", "4", "--json")

    assert code == 0, output
    assert json.loads(output) == [
        {
            "send_at": "2023-12-22T08:00:00+07:00",
            "agency": "Sở Tài chính",
            "agency_code": "STC",
            "role": "lead",
            "plan": "289/KH-UBND",
            "task": "1",
            "title": "Nhiệm vụ số 1 của kế hoạch",
            "due": "2023-12-29",
            "occurrence": "2023-12-29",
            "step": "before:7",
            "audience": "agency",
            "contacts": ["Nguyễn Văn An"],
        },
        {
            "send_at": "2023-12-22T08:00:00+07:00",
            "agency": "Sở Y tế",
            "agency_code": "SYT",
            "role": "support",
            "plan": "289/KH-UBND",
            "task": "1",
            "title": "Nhiệm vụ số 1 của kế hoạch",
            "due": "2023-12-29",
            "occurrence": "2023-12-29",
            "step": "before:7",
            "audience": "agency",
            "contacts": [],  # nobody registered yet: still shown
        },
    ]
    with services.session() as session:
        assert session.exec(select(Reminder)).all() == []  # nothing written


def test_preview_can_show_one_agency_and_the_escalations(cli: typer.Typer) -> None:
    # Friday 05/01/2024: the second overdue reminder, and a week late (29/12 + 7 days).
    code, output = invoke(cli, "preview", "--from", "05/01/2024", "--days", "1", "--json",
                          "--agency", "Sở TC")  # fmt: skip
    assert code == 0, output
    rows = json.loads(output)
    assert {(r["step"], r["audience"], tuple(r["contacts"])) for r in rows} == {
        ("overdue:2", "agency", ("Nguyễn Văn An",)),
        ("escalation", "head", ("Trần Thị Bình",)),
        ("escalation", "coordinator", ()),
    }
    assert {r["agency_code"] for r in rows} == {"STC"}
    assert all(r["send_at"].endswith("+07:00") for r in rows)


def test_preview_as_a_table(cli: typer.Typer) -> None:
    code, output = invoke(cli, "preview", "--from", "2023-12-22", "--days", "1")
    assert code == 0, output
    assert "trước hạn 7 ngày" in output and "Nguyễn Văn An" in output
    assert "(chưa có đầu mối)" in output
    assert "2 nhắc việc; 1 cơ quan chưa có đầu mối nhận nhắc việc." in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--from", "31-12-2023"), "Ngày không hợp lệ '31-12-2023'"),
        (("--agency", "Sở Không Có"), "Không tìm thấy cơ quan 'Sở Không Có'"),
    ],
)
def test_preview_refuses_what_it_cannot_read(
    cli: typer.Typer, args: tuple[str, ...], message: str
) -> None:
    # As app.cli runs it: the error reaches app.cli.main, which shows it as one line.
    result = CliRunner().invoke(cli, ["preview", *args], standalone_mode=False)
    assert isinstance(result.exception, ReminderCommandError)
    assert result.exception.exit_code == 1 and message in result.exception.message


@pytest.mark.parametrize(
    ("step", "audience", "label"),
    [
        ("before:30", "agency", "trước hạn 30 ngày"),
        ("due", "agency", "đến hạn"),
        ("overdue:2", "agency", "quá hạn, nhắc lần 2"),
        ("escalation", "head", "báo cáo Thủ trưởng"),
        ("escalation", "coordinator", "báo cáo cơ quan theo dõi"),
        ("checkin", "agency", "cập nhật định kỳ"),
        ("precondition", "coordinator", "chờ điều kiện triển khai"),
    ],
)
def test_step_labels(step: str, audience: str, label: str) -> None:
    assert step_label(step, audience) == label
