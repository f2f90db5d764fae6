"""The coordinator's report and status commands, run as an IT officer runs them.

Plans are imported through the real CLI; progress is recorded through the storage API on the same
SQLite file, as the bot will; then ``report`` and ``status`` are run and their files opened with
openpyxl, python-docx and csv to check them against what was recorded.
"""

import csv
import io
import json
import os
import struct
import subprocess
import sys
from collections import Counter
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from openpyxl import load_workbook
from sqlmodel import Session, col, select

from domain.calendar import ZONE
from storage import repository
from storage.engine import make_engine
from storage.models import Assignment, Plan, Task

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT.parent / "shared" / "seed" / "ke-hoach-289-KH-UBND-2023-nghe-an.txt"
SAMPLE = ROOT / "app" / "data" / "sample-plan.md"
SAMPLE_PLAN = "689/KH-UBND"
AT = "2026-01-15"
STATES = ("done_on_time", "done_late", "in_progress", "overdue", "continuous", "waiting")


def nhacviec(
    *args: str, db: Path, cwd: Path = ROOT, check: bool = True
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("NHACVIEC_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "app", "--db", f"sqlite:///{db}", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=180,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def add_progress(
    db: Path, plan: str, task: str, agency: str, kind: str, day: date, **fields: Any
) -> None:
    """One progress report, written straight to the database as the bot would."""
    engine = make_engine(f"sqlite:///{db}")
    try:
        with Session(engine) as session:
            assignment = session.exec(
                select(Assignment)
                .join(Task, col(Task.id) == col(Assignment.task_id))
                .join(Plan, col(Plan.id) == col(Task.plan_id))
                .where(
                    Plan.number == plan,
                    Task.number == task,
                    Assignment.agency_code == agency,
                    Assignment.role == "lead",
                )
            ).one()
            assert assignment.id is not None
            repository.add_progress(
                session,
                assignment_id=assignment.id,
                kind=kind,
                reported_at=datetime.combine(day, time(9, 30), tzinfo=ZONE),
                **fields,
            )
            session.commit()
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled sample plan (689/KH-UBND, due dates from 31/12/2025) with four reports."""
    db = tmp_path_factory.mktemp("report") / "nhacviec.db"
    nhacviec("import", str(SAMPLE), db=db)
    # Task 1 (Sở Nội vụ, Quý IV/2025): done on time, confirmed.
    add_progress(
        db,
        SAMPLE_PLAN,
        "1",
        "SNV",
        "done",
        date(2025, 12, 20),
        review="confirmed",
        text="Đã trình UBND tỉnh ban hành Quyết định",
    )
    # Task 9 (Sở Tài chính, Tháng 12/2025): done five days after Wednesday 31/12/2025.
    add_progress(db, SAMPLE_PLAN, "9", "STC", "done", date(2026, 1, 5), review="confirmed")
    # Task 5 (Sở Khoa học và Công nghệ, Quý IV/2025): 60 %, then stuck: overdue.
    add_progress(
        db,
        SAMPLE_PLAN,
        "5",
        "SKHCN",
        "percent",
        date(2025, 12, 10),
        percent=60,
        text="Đã kết nối 78/130 xã",
    )
    add_progress(
        db,
        SAMPLE_PLAN,
        "5",
        "SKHCN",
        "blocked",
        date(2025, 12, 15),
        reason="Đường truyền tại các xã miền núi chưa bảo đảm",
    )
    return db


def sheet_rows(path: Path, name: str) -> list[tuple[Any, ...]]:
    # A read-only workbook keeps its file open until closed (a ResourceWarning otherwise).
    book = load_workbook(path, read_only=True)
    try:
        return list(book[name].iter_rows(values_only=True))
    finally:
        book.close()


def detail_rows(path: Path) -> list[dict[str, Any]]:
    rows = sheet_rows(path, "Chi tiết")
    headers = [str(cell) for cell in rows[0]]
    return [dict(zip(headers, row, strict=True)) for row in rows[1:]]


def one(rows: list[dict[str, Any]], task: str, agency: str) -> dict[str, Any]:
    found = [r for r in rows if r["TT"] == task and r["Cơ quan, đơn vị"] == agency]
    assert len(found) == 1, found
    return found[0]


def status_json(db: Path, *args: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(nhacviec("status", "--json", *args, db=db).stdout)
    return payload


# --- report -----------------------------------------------------------------------------------


def test_xlsx_report_holds_what_agencies_reported(sample_db: Path, tmp_path: Path) -> None:
    result = nhacviec(
        "report", "--plan", SAMPLE_PLAN, "--format", "xlsx", "--at", AT, db=sample_db, cwd=tmp_path
    )
    path = tmp_path / "bao-cao-689-KH-UBND-2026-01-15.xlsx"
    assert path.is_file()
    assert result.stdout.count("\n") == 1
    assert "1 hoàn thành đúng hạn, 1 hoàn thành quá hạn" in result.stdout

    rows = detail_rows(path)
    done = one(rows, "1", "Sở Nội vụ")
    assert done["Tình trạng"] == "Hoàn thành đúng hạn"
    assert done["Vai trò"] == "Chủ trì"
    assert done["Thời hạn (theo văn bản)"] == "Quý IV/2025"
    assert done["Hạn hoàn thành"] == datetime(2025, 12, 31)  # a real date cell
    assert done["Ngày báo cáo gần nhất"] == datetime(2025, 12, 20)
    assert done["Nội dung báo cáo gần nhất"] == "Đã trình UBND tỉnh ban hành Quyết định"
    assert done["Tiến độ (%)"] == 100
    assert one(rows, "9", "Sở Tài chính")["Tình trạng"] == "Hoàn thành quá hạn"
    stuck = one(rows, "5", "Sở Khoa học và Công nghệ")
    assert stuck["Tình trạng"] == "Quá hạn chưa hoàn thành"
    assert stuck["Tiến độ (%)"] == 60
    assert stuck["Khó khăn, vướng mắc"] == "Đường truyền tại các xã miền núi chưa bảo đảm"
    assert one(rows, "4", "Sở Nội vụ")["Tình trạng"] == "Thường xuyên"
    assert one(rows, "7", "Sở Xây dựng")["Tình trạng"] == "Chờ hướng dẫn/điều kiện"
    assert one(rows, "3", "Sở Nội vụ")["Tình trạng"] == "Chưa báo cáo"  # Năm 2026: not yet due

    summary = sheet_rows(path, "Tổng hợp")
    headers, total = summary[0], summary[-1]
    assert total[1] == "Tổng cộng"
    totals = dict(zip(headers, total, strict=True))
    assert totals["Tổng số"] == len(rows)
    assert totals["Hoàn thành đúng hạn"] == 1
    assert totals["Hoàn thành quá hạn"] == 1


def test_csv_report_has_a_bom_and_the_same_lines_as_status(sample_db: Path, tmp_path: Path) -> None:
    target = tmp_path / "ra.csv"
    nhacviec(
        "report",
        "--plan",
        "689",
        "-f",
        "csv",
        "--at",
        "15/01/2026",
        "-o",
        str(target),
        db=sample_db,
    )
    data = target.read_bytes()
    assert data.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert one(rows, "9", "Sở Tài chính")["Hạn hoàn thành"] == "31/12/2025"

    payload = status_json(sample_db, "--plan", SAMPLE_PLAN, "--at", AT)
    counts = payload["plans"][0]["counts"]
    assert sum(counts.values()) == len(rows)
    shown = Counter(row["Tình trạng"] for row in rows)
    assert counts["done_on_time"] == shown["Hoàn thành đúng hạn"] == 1
    assert counts["done_late"] == shown["Hoàn thành quá hạn"] == 1
    assert counts["overdue"] == shown["Quá hạn chưa hoàn thành"]
    assert counts["in_progress"] == shown["Đang thực hiện trong hạn"] + shown["Chưa báo cáo"]
    assert counts["continuous"] == shown["Thường xuyên"]
    assert counts["waiting"] == shown["Chờ hướng dẫn/điều kiện"]


def test_docx_report_is_a_draft_with_the_detail_table(sample_db: Path, tmp_path: Path) -> None:
    nhacviec(
        "report",
        "--plan",
        SAMPLE_PLAN,
        "--format",
        "docx",
        "--at",
        AT,
        "-o",
        str(tmp_path),
        db=sample_db,
    )
    document = Document(str(tmp_path / "bao-cao-689-KH-UBND-2026-01-15.docx"))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Kết quả thực hiện Kế hoạch số 689/KH-UBND" in text
    assert "Ủy ban nhân dân tỉnh Nghệ An" in text
    cells = [[cell.text for cell in row.cells] for table in document.tables for row in table.rows]
    late = [row for row in cells if "Sở Tài chính" in row and "Hoàn thành quá hạn" in row]
    assert late
    heading = " ".join(" ".join(row) for row in cells[:2])
    assert "NGHỆ AN" in heading


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_png_report_is_a_chart(sample_db: Path, tmp_path: Path) -> None:
    target = tmp_path / "bieu-do.png"
    nhacviec(
        "report",
        "--plan",
        SAMPLE_PLAN,
        "--format",
        "png",
        "--at",
        AT,
        "-o",
        str(target),
        db=sample_db,
    )
    width, height = png_size(target.read_bytes())
    assert width == 1200
    assert height > 400


def test_report_for_one_agency_has_only_its_lines(sample_db: Path, tmp_path: Path) -> None:
    result = nhacviec(
        "report",
        "--plan",
        SAMPLE_PLAN,
        "-f",
        "csv",
        "--at",
        AT,
        "--agency",
        "so tai chinh",
        db=sample_db,
        cwd=tmp_path,
    )
    path = tmp_path / "bao-cao-689-KH-UBND-STC-2026-01-15.csv"
    assert str(path.name) in result.stdout
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert rows
    assert {row["Cơ quan, đơn vị"] for row in rows} == {"Sở Tài chính"}


# --- status -----------------------------------------------------------------------------------


def test_status_json_counts_and_overdue_list(sample_db: Path) -> None:
    payload = status_json(sample_db, "--at", AT)
    assert payload["at"] == AT
    assert [p["plan"] for p in payload["plans"]] == [SAMPLE_PLAN]
    counts = payload["plans"][0]["counts"]
    assert list(counts) == list(STATES)
    assert (counts["done_on_time"], counts["done_late"]) == (1, 1)
    official = sum(counts[s] for s in STATES[:4])
    assert payload["plans"][0]["official_total"] == official
    assert payload["plans"][0]["done_rate"] == round(2 / official, 4)
    overdue = payload["overdue"]
    assert len(overdue) == counts["overdue"]
    days = [item["days_overdue"] for item in overdue]
    assert days == sorted(days, reverse=True)
    stuck = [o for o in overdue if o["task"] == "5" and o["agency_code"] == "SKHCN"]
    assert stuck == [
        {
            "plan": SAMPLE_PLAN,
            "task": "5",
            "title": stuck[0]["title"],
            "agency": "Sở Khoa học và Công nghệ",
            "agency_code": "SKHCN",
            "role": "lead",
            "deadline": "Quý IV/2025",
            "due": "2025-12-31",
            "days_overdue": 15,
            "state": "overdue",
        }
    ]


def test_status_for_one_agency_and_as_a_table(sample_db: Path) -> None:
    payload = status_json(sample_db, "--agency", "Sở Tài chính", "--at", AT)
    assert payload["agency"] == "Sở Tài chính"
    assert payload["plans"][0]["counts"]["done_late"] == 1
    assert {o["agency"] for o in payload["overdue"]} <= {"Sở Tài chính"}
    table = nhacviec("status", "--plan", SAMPLE_PLAN, "--at", AT, db=sample_db).stdout
    assert "Hoàn thành đúng hạn" in table
    assert "Nhiệm vụ quá hạn chưa hoàn thành" in table
    assert "Sở Khoa học và Công nghệ" in table


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--plan", "999/KH-UBND"), "Các kế hoạch đã nhập: 689/KH-UBND"),
        (("--format", "pdf"), "Định dạng 'pdf' không được hỗ trợ"),
        (("--at", "31/02/2026"), "Ngày '31/02/2026' không hợp lệ"),
        (("--agency", "Sở Không Có"), "Không tìm thấy cơ quan 'Sở Không Có'"),
        (("-o", "/nonexistent-folder/bao-cao.xlsx"), "Không ghi được tệp"),
    ],
)
def test_report_errors_are_one_clear_line(
    sample_db: Path, args: tuple[str, ...], message: str
) -> None:
    base = {"--plan": SAMPLE_PLAN, "--format": "xlsx", "--at": AT}
    options = dict(zip(args[::2], args[1::2], strict=True))
    flat = [item for pair in {**base, **options}.items() for item in pair]
    result = nhacviec("report", *flat, db=sample_db, check=False)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0


def test_status_of_an_unknown_plan_lists_the_known_ones(sample_db: Path) -> None:
    result = nhacviec("status", "--plan", "1/KH", db=sample_db, check=False)
    assert result.returncode == 1
    assert "Không có kế hoạch số '1/KH'" in result.stderr
    assert "689/KH-UBND" in result.stderr


# --- the seed plan: series and the 2025 mergers -----------------------------------------------


@pytest.mark.skipif(not SEED.is_file(), reason="../shared/seed is not beside this clone")
def test_seed_plan_report_follows_series_and_mergers(tmp_path: Path) -> None:
    db = tmp_path / "nhacviec.db"
    nhacviec("import", str(SEED), db=db)
    # Task 1 ("Năm 2023 và những năm tiếp theo"), Sở Tài chính as one of its leads.
    add_progress(
        db,
        "289/KH-UBND",
        "1",
        "STC",
        "done",
        date(2023, 12, 20),
        occurrence="2023-12-31",
        review="confirmed",
    )
    add_progress(
        db,
        "289/KH-UBND",
        "1",
        "SKHDT",
        "percent",
        date(2024, 11, 1),
        percent=80,
        occurrence="2024-12-31",
    )
    target = tmp_path / "seed.xlsx"
    nhacviec("report", "--plan", "289/KH-UBND", "--at", "2025-06-15", "-o", str(target), db=db)
    rows = detail_rows(target)

    def states(agency: str) -> list[tuple[datetime, str]]:
        return [
            (r["Hạn hoàn thành"], r["Tình trạng"])
            for r in rows
            if r["TT"] == "1" and r["Cơ quan, đơn vị"] == agency
        ]

    assert states("Sở Tài chính") == [
        (datetime(2023, 12, 31), "Hoàn thành đúng hạn"),
        (datetime(2024, 12, 31), "Quá hạn chưa hoàn thành"),
        # Sở Kế hoạch và Đầu tư merged into Sở Tài chính on 1/3/2025: one line for both.
        (datetime(2025, 12, 31), "Chưa báo cáo"),
    ]
    assert states("Sở Kế hoạch và Đầu tư") == [
        (datetime(2023, 12, 31), "Quá hạn chưa hoàn thành"),
        (datetime(2024, 12, 31), "Quá hạn chưa hoàn thành"),
    ]
    skhdt_2024 = [
        r for r in rows if r["TT"] == "1" and r["Cơ quan, đơn vị"] == "Sở Kế hoạch và Đầu tư"
    ][1]
    assert skhdt_2024["Tiến độ (%)"] == 80

    payload = status_json(db, "--plan", "289/KH-UBND", "--at", "2025-06-15")
    counts = payload["plans"][0]["counts"]
    assert sum(counts.values()) == len(rows)
    assert counts["done_on_time"] == 1
    assert counts["waiting"] > 0  # task 5 waits for the central government's guidance
