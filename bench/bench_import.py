"""Benchmark: `nhacviec import` of a large plan, end to end, as the IT officer runs it.

Generates a plan with N task rows (realistic deadline phrases and agency cells, groups included)
in the chosen format, then times the real CLI in a subprocess against a fresh SQLite file (or the
database given with --db). Prints wall time and rows per second. Not a test: see docs/benchmarks.md.

    .venv/bin/python bench/bench_import.py --rows 2000 --format md
"""

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

DEADLINES = [
    "Năm 2026",
    "Quý II/2026",
    "Quý III, IV/2026",
    "Tháng 9/2026",
    "Trước ngày 30/6/2026",
    "Thường xuyên",
    "Hằng năm",
    "Năm 2026 và những năm tiếp theo",
    "2026 - 2027",
    "Năm 2026, sau khi có hướng dẫn của Bộ",
    "6 tháng đầu năm 2026",
    "Trước ngày 15/12 hằng năm",
]
LEADS = [
    "Sở Nội vụ",
    "Sở Tài chính",
    "Sở Xây dựng",
    "Sở Y tế",
    "Sở Tư pháp",
    "Sở Công Thương",
    "Sở Khoa học và Công nghệ",
    "Các sở, ban, ngành cấp tỉnh",
    "UBND các xã, phường",
]
SUPPORTS = [
    "Sở Nội vụ; Sở Tài chính",
    "Các sở, ban, ngành cấp tỉnh, UBND các xã, phường",
    "UBND các xã, phường",
    "Sở Tư pháp",
    "",
]


def rows(n: int) -> list[list[str]]:
    return [
        [
            str(i + 1),
            f"Nhiệm vụ số {i + 1}: rà soát, hoàn thiện quy định về lĩnh vực được giao",
            DEADLINES[i % len(DEADLINES)],
            LEADS[i % len(LEADS)],
            SUPPORTS[i % len(SUPPORTS)],
        ]
        for i in range(n)
    ]


HEADER = ["TT", "Nhiệm vụ", "Thời gian hoàn thành", "Cơ quan chủ trì", "Cơ quan phối hợp"]
PREAMBLE = (
    "Số: 999/KH-UBND\n\nNghệ An, ngày 15 tháng 9 năm 2025\n\n# KẾ HOẠCH\n\n**Kế hoạch thử tải**\n\n"
)


def write_plan(folder: Path, n: int, fmt: str) -> Path:
    data = rows(n)
    path = folder / f"plan.{fmt}"
    if fmt == "md":
        lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
        lines += ["| " + " | ".join(r) + " |" for r in data]
        path.write_text(PREAMBLE + "\n".join(lines) + "\n", encoding="utf-8")
    elif fmt == "csv":
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(HEADER)
            writer.writerows(data)
    elif fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append(HEADER)
        for r in data:
            sheet.append(r)
        book.save(path)
    elif fmt == "docx":
        from docx import Document

        document = Document()
        document.add_paragraph("Số: 999/KH-UBND")
        document.add_paragraph("Nghệ An, ngày 15 tháng 9 năm 2025")
        table = document.add_table(rows=1, cols=len(HEADER))
        for cell, text in zip(table.rows[0].cells, HEADER, strict=True):
            cell.text = text
        for r in data:
            for cell, text in zip(table.add_row().cells, r, strict=True):
                cell.text = text
        document.save(str(path))
    else:
        raise SystemExit(f"unknown format {fmt}")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--format", default="md", choices=["md", "csv", "xlsx", "docx"])
    parser.add_argument("--db", default="", help="database URL; default a fresh SQLite file")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        plan = write_plan(folder, args.rows, args.format)
        times = []
        for i in range(args.repeat):
            db = args.db or f"sqlite:///{folder}/bench-{i}.db"
            command = [
                sys.executable,
                "-m",
                "app",
                "--db",
                db,
                "import",
                "--number",
                "999/KH-UBND",
                str(plan),
            ]
            start = time.perf_counter()
            result = subprocess.run(
                command,
                capture_output=True,
                text=True,
                cwd=ROOT,
                env={**os.environ, "COLUMNS": "200"},
                check=False,
            )
            times.append(time.perf_counter() - start)
            if result.returncode != 0:
                raise SystemExit(result.stderr)
        best = min(times)
        print(
            f"import {args.rows} rows ({args.format}): best {best:.2f} s of {args.repeat}, "
            f"median {sorted(times)[len(times) // 2]:.2f} s, {args.rows / best:.0f} rows/s "
            "(fresh database each run, process start included)"
        )


if __name__ == "__main__":
    main()
