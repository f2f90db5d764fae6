"""The CLI as an IT officer runs it: import plans, list tasks, and get clear errors."""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT.parent / "shared" / "seed" / "ke-hoach-289-KH-UBND-2023-nghe-an.txt"


def nhacviec(*args: str, db: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    env.pop("NHACVIEC_DATABASE_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "app", "--db", f"sqlite:///{db}", *args],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "nhacviec.db"


def tasks_json(db: Path, *args: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(nhacviec("tasks", "--json", *args, db=db).stdout)
    return rows


@pytest.mark.skipif(not SEED.is_file(), reason="../shared/seed is not beside this clone")
def test_seed_plan_imports_to_its_seven_tasks_and_the_report_duty(db: Path) -> None:
    result = nhacviec("import", str(SEED), db=db)
    assert "289/KH-UBND" in result.stdout
    rows = tasks_json(db, "--plan", "289/KH-UBND")
    tasks = {r["number"]: r for r in rows if not r["report_duty"]}
    assert sorted(tasks, key=int) == ["1", "2", "3", "4", "5", "6", "7"]
    due = {n: (t["deadline"]["kind"], t["deadline"]["due"]) for n, t in tasks.items()}
    assert due["1"] == ("recurring", "2023-12-31")
    assert due["2"] == ("recurring", "2023-12-31")
    assert due["3"] == ("period_end", "2023-12-31")
    assert due["4"] == due["6"] == ("period_end", "2024-12-31")
    assert due["5"] == ("conditional", "2024-12-31")
    assert due["7"] == ("period_end", "2025-12-31")
    assert tasks["5"]["deadline"]["text"] == "Năm 2024, sau khi có hướng dẫn của Trung ương"
    for n in "34567":
        assert tasks[n]["lead"] == ["Sở Nội vụ"]
        assert "UBND huyện Quỳnh Lưu" in tasks[n]["support"]
        assert "Sở Tài chính" in tasks[n]["support"]
        assert "Sở Nội vụ" not in tasks[n]["support"]
    for n in "12":
        assert {"Sở Nội vụ", "Sở Tài chính", "Sở Kế hoạch và Đầu tư", "Văn phòng UBND tỉnh"} <= set(
            tasks[n]["lead"]
        )
        assert not any(name.startswith("UBND huyện") for name in tasks[n]["lead"])
    assert len(tasks["1"]["support"]) == 21  # the 21 district-level units of 2023
    duty = [r for r in rows if r["report_duty"]]
    assert len(duty) == 1
    assert duty[0]["deadline"]["kind"] == "recurring"
    assert "Sở Nội vụ" not in duty[0]["lead"]
    assert "UBND thành phố Vinh" in duty[0]["lead"]


@pytest.mark.skipif(not SEED.is_file(), reason="../shared/seed is not beside this clone")
def test_reimport_updates_and_never_duplicates(db: Path) -> None:
    nhacviec("import", str(SEED), db=db)
    nhacviec("import", str(SEED), db=db)
    rows = tasks_json(db)
    assert len(rows) == 8
    plans = json.loads(nhacviec("plans", "--json", db=db).stdout)
    assert [p["number"] for p in plans] == ["289/KH-UBND"]


def test_dry_run_stores_nothing(db: Path) -> None:
    result = nhacviec("import", "--dry-run", str(ROOT / "app" / "data" / "sample-plan.md"), db=db)
    assert "689/KH-UBND" in result.stdout
    assert tasks_json(db) == []


def test_agency_filter_accepts_names_without_diacritics(db: Path) -> None:
    nhacviec("import", str(ROOT / "app" / "data" / "sample-plan.md"), db=db)
    rows = tasks_json(db, "--agency", "so tai chinh")
    assert rows, "Sở Tài chính has tasks in the sample plan"
    assert all("Sở Tài chính" in r["lead"] + r["support"] for r in rows)


def test_a_file_without_a_task_table_is_refused_by_name(db: Path, tmp_path: Path) -> None:
    bad = tmp_path / "thong-bao.md"
    bad.write_text("# Thông báo\n\nKhông có bảng nào ở đây.\n", encoding="utf-8")
    result = nhacviec("import", str(bad), db=db, check=False)
    assert result.returncode == 1
    assert "thong-bao.md" in result.stderr
    assert "Nhiệm vụ" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_rows_with_problems_are_imported_with_warnings(db: Path, tmp_path: Path) -> None:
    plan = tmp_path / "ke-hoach.csv"
    plan.write_text(
        "Số: 12/KH-SNV\n"
        "TT,Nhiệm vụ,Thời hạn,Cơ quan chủ trì,Cơ quan phối hợp\n"
        "1,Việc có đủ thông tin,Quý II/2026,Sở Tài chính,Sở Nội vụ\n"
        "2,Việc không có chủ trì,Năm 2026,,Sở Nội vụ\n"
        "3,Việc giao cho cơ quan lạ,Năm 2026,Sở Vũ trụ,\n"
        "4,Việc có thời hạn lạ,tùy tình hình,Sở Tư pháp,\n",
        encoding="utf-8",
    )
    result = nhacviec("import", str(plan), "--number", "12/KH-SNV", db=db)
    rows = {r["number"]: r for r in tasks_json(db)}
    assert {"1", "2", "3", "4"} <= set(rows)
    assert rows["4"]["deadline"]["kind"] == "unknown"
    assert rows["4"]["deadline"]["text"] == "tùy tình hình"
    warnings = result.stderr
    assert "nhiệm vụ 2" in warnings and "không có cơ quan chủ trì" in warnings
    assert "nhiệm vụ 3" in warnings and "Sở Vũ trụ" in warnings
    assert "nhiệm vụ 4" in warnings and "thời hạn" in warnings


def test_unknown_agency_filter_suggests_names(db: Path) -> None:
    result = nhacviec("tasks", "--agency", "So Tai chin", db=db, check=False)
    assert result.returncode == 1
    assert "Sở Tài chính" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_file_is_a_clear_error(db: Path, tmp_path: Path) -> None:
    result = nhacviec("import", str(tmp_path / "khong-co.docx"), db=db, check=False)
    assert result.returncode != 0
    assert "khong-co.docx" in result.stderr
    assert "Traceback" not in result.stderr
