"""`nhacviec demo` as a newcomer runs it: the real CLI in a subprocess, offline, on a SQLite file.

What it printed is checked against the database it left behind: the digests went out (and the
count printed is the dispatcher's record of them), the replies are stored as progress reports,
and the coordinator's /status counts are those ``storage.status_lines`` computes from the data.
The demo is run twice on one file: the second run starts again from an empty database.
"""

import os
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import ColumnElement, func
from sqlmodel import Session, SQLModel, col, select

from app.bootstrap import Services, bootstrap
from app.config import Config, DatabaseConfig
from domain.calendar import ZONE
from domain.status import COUNTED_STATES, State, counts_by_plan, label
from storage.models import Contact, Plan, ProgressReport, SentMessage
from storage.status_lines import status_lines

ROOT = Path(__file__).resolve().parents[2]
END = date(2026, 12, 31)  # the demo's last simulated day
JOINED = datetime(2025, 9, 1, 8, tzinfo=ZONE)
BAR = "[│|]"  # a table's column separator, in Unicode or ASCII boxes


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str


def demo(db: Path, *args: str) -> Run:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NHACVIEC_")}
    env.update({"COLUMNS": "200", "NO_COLOR": "1", "PYTHONIOENCODING": "utf-8"})
    result = subprocess.run(
        [sys.executable, "-m", "app", "--db", f"sqlite:///{db}", *args],
        capture_output=True, text=True, encoding="utf-8", env=env, cwd=db.parent, timeout=180,
    )  # fmt: skip
    return Run(result.returncode, result.stdout, result.stderr)


def table_value(out: str, row: str) -> str:
    found = re.search(rf"{BAR}\s*{re.escape(row)}\s*{BAR}\s*(.+?)\s*{BAR}", out)
    assert found is not None, f"row {row!r} missing from the summary"
    return found.group(1)


def services_for(db: Path) -> Services:
    return bootstrap(Config(database=DatabaseConfig(url=f"sqlite:///{db}")))


def count(session: Session, model: type[SQLModel], *where: ColumnElement[bool]) -> int:
    return session.exec(select(func.count()).select_from(model).where(*where)).one()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Run, Run]:
    """The demo run twice on one file; the database is the one the second run left."""
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    first = demo(db, "demo")
    second = demo(db, "demo")
    return db, first, second


def test_reminders_go_out_replies_are_stored_and_status_matches_the_database(
    runs: tuple[Path, Run, Run],
) -> None:
    db, _, run = runs
    assert run.code == 0, run.err
    out = run.out

    # Reminders went out: digests with their one-tap buttons, to every simulated person.
    assert "Kính gửi Sở Tài chính: nhắc việc ngày" in out
    assert "Kính gửi UBND xã Diễn Châu: nhắc việc ngày" in out
    assert "[1. Đã xong]" in out
    assert "Tổng hợp tình hình thực hiện nhiệm vụ ngày" in out  # the coordinator's digest
    messages = int(table_value(out, "Tin nhắc việc, tổng hợp đã gửi"))
    replies = int(table_value(out, "Báo cáo tiến độ đã lưu"))
    confirmed = int(table_value(out, "Hoàn thành được điều phối xác nhận"))

    # The people joined by invite code; a stranger saw no data.
    assert out.count("Đăng ký thành công:") == 6
    assert "cần mã mời do cơ quan điều phối cấp" in out

    # The story: a blocked task reaches the coordinator, completions are confirmed with the button.
    assert "Sở Xây dựng báo cáo khó khăn, vướng mắc khi thực hiện nhiệm vụ 7" in out
    assert "«xong rồi»" in out and "«2. được 60%»" in out
    assert "Đã xác nhận hoàn thành (Đặng Thị Lan, Sở Nội vụ" in out

    services = services_for(db)
    with services.session() as session:
        assert messages > 0 and messages == count(session, SentMessage)
        assert replies == count(session, ProgressReport)
        assert confirmed == count(
            session, ProgressReport, col(ProgressReport.review) == "confirmed"
        )
        kinds = Counter(session.exec(select(ProgressReport.kind)).all())
        assert set(session.exec(select(Plan.number)).all()) == {"689/KH-UBND"}
        assert count(session, Contact) == 6
        lines = status_lines(
            session, directory=services.directory(), calendar=services.calendar, on=END
        )
    assert kinds["done"] >= 6 and kinds["percent"] == 1 and kinds["blocked"] == 1
    assert confirmed == kinds["done"]

    # The coordinator's /status, and the summary table, say what the database says.
    leads: Counter[State] = Counter()
    for per_plan in counts_by_plan([line for line in lines if line.role == "lead"]).values():
        leads.update(per_plan)
    status = out[out.index("Tình hình thực hiện các kế hoạch đến ngày 31/12/2026") :]
    for state in COUNTED_STATES:
        shown = re.search(rf"- {re.escape(label(state))}: (\d+)", status)
        assert shown is not None, f"/status does not show {label(state)}"
        assert int(shown.group(1)) == leads[state], label(state)
        assert int(table_value(out, f"Nhiệm vụ: {label(state)}")) == leads[state]
    assert leads[State.DONE_ON_TIME] >= 4 and leads[State.DONE_LATE] == 1
    assert leads[State.WAITING] == 1 and leads[State.OVERDUE] > 0

    seconds = re.search(r"Hoàn tất sau (\d+),(\d) giây", out)
    assert seconds is not None and int(seconds.group(1)) < 60


def test_a_second_run_starts_again_from_an_empty_database(runs: tuple[Path, Run, Run]) -> None:
    _, first, second = runs
    assert first.code == 0, first.err
    assert second.code == 0, second.err
    assert "Đã xóa dữ liệu của lần chạy thử trước" not in first.out
    assert "Đã xóa dữ liệu của lần chạy thử trước" in second.out
    rows = [
        "Tin nhắc việc, tổng hợp đã gửi",
        "Lượt nhắc (việc × người nhận) đã gửi",
        "Báo cáo tiến độ đã lưu",
        "Hoàn thành được điều phối xác nhận",
        *(f"Nhiệm vụ: {label(state)}" for state in COUNTED_STATES),
    ]
    assert [table_value(first.out, row) for row in rows] == [
        table_value(second.out, row) for row in rows
    ]


def test_a_database_with_real_data_is_refused_and_left_alone(tmp_path: Path) -> None:
    db = tmp_path / "real.db"
    services = services_for(db)
    with services.session() as session:
        session.add(Contact(agency_code="STC", channel="telegram", chat_id="42", created_at=JOINED))
        session.commit()
    run = demo(db, "demo")
    assert run.code == 1
    assert "liên hệ qua telegram" in run.err and "không xóa dữ liệu thật" in run.err
    assert "Traceback" not in run.err
    with services.session() as session:
        assert count(session, Contact) == 1
        assert count(session, Plan) == 0
