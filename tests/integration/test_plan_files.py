"""Plan files on disk (Markdown, Word, Excel, CSV, text) read into the same task rows."""

import codecs
import csv
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import docx
import openpyxl
import pytest

from app.bundled import sample_plan
from app.plan_files import read_plan_source
from domain.deadlines import Frequency
from domain.plans import ParsedPlan, PlanFormatError, parse_plan

SEED = (
    Path(__file__).resolve().parents[2]
    / ".."
    / "shared"
    / "seed"
    / "ke-hoach-289-KH-UBND-2023-nghe-an.txt"
)

_SO_BAN_NGANH_HUYEN = "Các sở, ban, ngành cấp tỉnh, UBND các huyện, thành phố, thị xã"
# The appendix of Plan 289/KH-UBND: (TT, task, deadline, lead, support).
SEED_ROWS = [
    (
        "1",
        (
            "Rà soát, bổ sung, hoàn thiện các quy định liên quan đến công tác quản lý nhà nước "
            "ở tất cả các lĩnh vực."
        ),
        "Năm 2023 và những năm tiếp theo",
        "Các sở, ban, ngành",
        "UBND các huyện, thành phố, thị xã",
    ),
    (
        "2",
        "Quy định chức năng, nhiệm vụ, quyền hạn, cơ cấu tổ chức của các cơ quan, đơn vị",
        "Năm 2023 và những năm tiếp theo",
        "Các sở, ban, ngành",
        "Sở Nội vụ",
    ),
    (
        "3",
        (
            "Quyết định ban hành Quy chế nâng bậc lương trước thời hạn đối với cán bộ, công "
            "chức, viên chức và người lao động trên địa bàn tỉnh Nghệ An"
        ),
        "Năm 2023",
        "Sở Nội vụ",
        _SO_BAN_NGANH_HUYEN,
    ),
    (
        "4",
        (
            "Quyết định của UBND tỉnh Nghệ An về ban hành quy định quản lý tổ chức bộ máy, "
            "biên chế và cán bộ, công chức, viên chức, người lao động trong các cơ quan, đơn vị "
            "thuộc thẩm quyền quản lý của UBND tỉnh Nghệ An (thay thế Quyết định số "
            "23/2021/QĐ-UBND ngày 12/8/2021)"
        ),
        "Năm 2024",
        "Sở Nội vụ",
        _SO_BAN_NGANH_HUYEN,
    ),
    (
        "5",
        "Kế hoạch Tổng kết việc thực hiện Kết luận số 86-KL/TW ngày 24/01/2014 của Bộ Chính trị.",
        "Năm 2024, sau khi có hướng dẫn của Trung ương",
        "Sở Nội vụ",
        _SO_BAN_NGANH_HUYEN,
    ),
    (
        "6",
        (
            "Nghiên cứu xây dựng tiêu chí đánh giá sự hài lòng của người dân đối với UBND từ "
            "cấp tỉnh đến cấp xã và các thành viên UBND các cấp"
        ),
        "Năm 2024",
        "Sở Nội vụ",
        _SO_BAN_NGANH_HUYEN,
    ),
    (
        "7",
        "Kế hoạch tổng kết thực hiện Thông báo số 202-TB/TW, ngày 26/5/2015 của Bộ Chính trị.",
        "Năm 2025",
        "Sở Nội vụ",
        _SO_BAN_NGANH_HUYEN,
    ),
]

# The same table as the files officials send: another column order and other header words,
# the column-number row and a section row.
HEADER = ("TT", "Cơ quan chủ trì", "Nội dung công việc", "Đơn vị phối hợp", "Thời gian thực hiện")
NUMBERS = ("(1)", "(2)", "(3)", "(4)", "(5)")
SECTION = "I. Nhiệm vụ ban hành văn bản"
SECTION_ROW = ("I", "", "Nhiệm vụ ban hành văn bản", "", "")


def file_row(row: tuple[str, str, str, str, str]) -> tuple[str, str, str, str, str]:
    number, title, deadline, lead, support = row
    return (number, lead, title, support, deadline)


FIRST = [file_row(r) for r in SEED_ROWS[:4]]
SECOND = [file_row(r) for r in SEED_ROWS[4:]]
LETTERHEAD = (
    "ỦY BAN NHÂN DÂN",
    "TỈNH NGHỆ AN",
    "Số: 289 /KH-UBND",
    "Nghệ An, ngày 26 tháng 4 năm 2023",
    "KẾ HOẠCH",
    "Thực hiện Nghị quyết số 28-NQ/TW",
    "Định kỳ hàng năm báo cáo kết quả thực hiện về Sở Nội vụ để tổng hợp.",
)


def rows_of(plan: ParsedPlan) -> list[tuple[str, str, str, str, str]]:
    return [(r.number, r.title, r.deadline_text, r.lead_text, r.support_text) for r in plan.rows]


def write_markdown(folder: Path) -> Path:
    lines = [*LETTERHEAD, ""]
    for row in (HEADER, ("---",) * 5, NUMBERS, SECTION_ROW, *FIRST, *SECOND):
        lines.append("| " + " | ".join(row) + " |")
    path = folder / "ke-hoach.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_docx(folder: Path) -> Path:
    """Letterhead paragraphs, then the table split by a page break with its header repeated."""
    document = docx.Document()
    for text in LETTERHEAD:
        document.add_paragraph(text)
    for rows in ((HEADER, NUMBERS, SECTION_ROW, *FIRST), (HEADER, *SECOND)):
        table = document.add_table(rows=len(rows), cols=5)
        for cells, row in zip(table.rows, rows, strict=True):
            for cell, text in zip(cells.cells, row, strict=True):
                cell.text = text
        document.add_paragraph()  # where the page break was: Word would join adjacent tables
    path = folder / "ke-hoach.docx"
    document.save(str(path))
    return path


def write_xlsx(folder: Path) -> Path:
    """The table from C4 under a merged title row, continued on a second sheet."""
    workbook = openpyxl.Workbook()
    first = workbook.active
    assert first is not None
    first.title = "Phụ lục"
    first["C2"] = "PHỤ LỤC NHIỆM VỤ (Kèm theo Kế hoạch số 289/KH-UBND ngày 26/4/2023)"
    first.merge_cells("C2:G2")
    for offset, row in enumerate((HEADER, NUMBERS, SECTION_ROW, *FIRST)):
        for column, text in enumerate(row, start=3):
            first.cell(row=4 + offset, column=column, value=_typed(text))
    second = workbook.create_sheet("Tiếp")
    for row in (HEADER, *SECOND):
        second.append([_typed(text) for text in row])
    path = folder / "ke-hoach.xlsx"
    workbook.save(path)
    return path


def _typed(text: str) -> str | int | float | None:
    """Numbers as Excel stores them (TT 1 as an int, 2 as a float); empty cells as None."""
    if text == "2":
        return 2.0
    return int(text) if text.isdigit() else (text or None)


def csv_writer(delimiter: str, encoding: str) -> Callable[[Path], Path]:
    def write(folder: Path) -> Path:
        path = folder / "ke-hoach.csv"
        with path.open("w", encoding=encoding, newline="") as stream:
            writer = csv.writer(stream, delimiter=delimiter)
            writer.writerow(("PHỤ LỤC NHIỆM VỤ", "", "", "", ""))
            writer.writerows((HEADER, NUMBERS, SECTION_ROW, *FIRST, HEADER, *SECOND))
        return path

    return write


WRITERS = {
    "md": write_markdown,
    "docx": write_docx,
    "xlsx": write_xlsx,
    "csv-comma": csv_writer(",", "utf-8"),
    "csv-semicolon-bom": csv_writer(";", "utf-8-sig"),
    "csv-tab": csv_writer("\t", "utf-8"),
}


@pytest.mark.parametrize("write", WRITERS.values(), ids=WRITERS.keys())
def test_every_format_gives_the_same_rows(write: Callable[[Path], Path], tmp_path: Path) -> None:
    path = write(tmp_path)
    plan = parse_plan(read_plan_source(path))
    assert plan.source == path.name
    assert rows_of(plan) == SEED_ROWS
    assert plan.sections == (SECTION,)
    assert {r.section for r in plan.rows} == {SECTION}
    assert plan.warnings == ()


@pytest.mark.parametrize("write", [write_markdown, write_docx], ids=["md", "docx"])
def test_paragraphs_give_the_metadata_and_the_duty(
    write: Callable[[Path], Path], tmp_path: Path
) -> None:
    plan = parse_plan(read_plan_source(write(tmp_path)))
    assert plan.meta.number == "289/KH-UBND"
    assert plan.meta.issued_on == date(2023, 4, 26)
    assert plan.meta.issuer == "UBND tỉnh Nghệ An"
    assert plan.meta.title == "Thực hiện Nghị quyết số 28-NQ/TW"
    assert plan.duty is not None
    assert (plan.duty.recipient_text, plan.duty.frequency) == ("Sở Nội vụ", Frequency.YEARLY)


def test_locations_name_the_place_in_each_format(tmp_path: Path) -> None:
    docx_plan = parse_plan(read_plan_source(write_docx(tmp_path)))
    xlsx_plan = parse_plan(read_plan_source(write_xlsx(tmp_path)))
    csv_plan = parse_plan(read_plan_source(csv_writer(";", "utf-8")(tmp_path)))
    assert [r.location for r in docx_plan.rows][3:5] == ["bảng 1, hàng 7", "bảng 2, hàng 2"]
    assert [r.location for r in xlsx_plan.rows][3:5] == ["Phụ lục!10", "Tiếp!2"]
    assert [r.location for r in csv_plan.rows][:1] == ["dòng 5"]


def test_the_seed_text_file(tmp_path: Path) -> None:
    if not SEED.is_file():
        pytest.skip(f"the shared seed plan is absent: {SEED}")
    plan = parse_plan(read_plan_source(SEED))
    assert rows_of(plan) == SEED_ROWS
    assert plan.meta.number == "289/KH-UBND"


def test_the_bundled_sample_plan() -> None:
    plan = parse_plan(read_plan_source(sample_plan()))
    assert len(plan.rows) >= 8
    assert all(r.title and r.lead_text and r.deadline_text for r in plan.rows)
    assert len(plan.sections) >= 2
    assert all(r.section in plan.sections for r in plan.rows)
    assert plan.meta.number is not None
    assert plan.meta.issued_on == date(2025, 9, 15)
    assert plan.meta.issuer == "UBND tỉnh Nghệ An"
    assert plan.meta.title
    assert plan.duty is not None
    assert (plan.duty.recipient_text, plan.duty.frequency) == ("Sở Nội vụ", Frequency.YEARLY)
    assert (plan.duty.due_month, plan.duty.due_day) == (12, 15)
    deadlines = {r.deadline_text for r in plan.rows}
    assert {"Quý II/2026", "Thường xuyên", "Quý IV/2025"} <= deadlines
    assert "Năm 2026, sau khi có hướng dẫn của Bộ" in deadlines
    assert plan.warnings == ()


# --- Word and Excel specifics -----------------------------------------------------------------


def test_docx_two_row_header_under_merged_cells(tmp_path: Path) -> None:
    document = docx.Document()
    table = document.add_table(rows=3, cols=5)
    for column, text in enumerate(("TT", "Nhiệm vụ", "Thời gian")):
        table.cell(0, column).merge(table.cell(1, column)).text = text
    table.cell(0, 3).merge(table.cell(0, 4)).text = "Cơ quan thực hiện"
    table.cell(1, 3).text = "Chủ trì"
    table.cell(1, 4).text = "Phối hợp"
    for column, text in enumerate(
        ("1", "Ban hành quy chế", "Quý II/2026", "Sở Nội vụ", "Sở Tư pháp")
    ):
        table.cell(2, column).text = text
    path = tmp_path / "gop-o.docx"
    document.save(str(path))
    plan = parse_plan(read_plan_source(path))
    assert rows_of(plan) == [("1", "Ban hành quy chế", "Quý II/2026", "Sở Nội vụ", "Sở Tư pháp")]


def test_docx_wrapped_cell_paragraphs_are_joined(tmp_path: Path) -> None:
    document = docx.Document()
    table = document.add_table(rows=2, cols=3)
    for column, text in enumerate(("TT", "Nhiệm vụ", "Cơ quan chủ trì")):
        table.cell(0, column).text = text
    table.cell(1, 0).text = "1"
    table.cell(1, 1).text = "Rà soát,"
    table.cell(1, 1).add_paragraph("bổ sung quy định")
    table.cell(1, 2).text = "Sở Nội vụ"
    path = tmp_path / "xuong-dong.docx"
    document.save(str(path))
    assert parse_plan(read_plan_source(path)).rows[0].title == "Rà soát, bổ sung quy định"


def test_xlsx_merged_lead_cell_applies_to_each_row_and_dates_are_read(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(("STT", "Nhiệm vụ", "Cơ quan chủ trì", "Thời hạn"))
    sheet.append((1, "Việc một", "Sở Xây dựng", datetime(2026, 6, 30)))
    sheet.append((2, "Việc hai", None, "Quý IV/2025"))
    sheet.merge_cells("C2:C3")
    path = tmp_path / "gop-dong.xlsx"
    workbook.save(path)
    plan = parse_plan(read_plan_source(path))
    assert [(r.number, r.lead_text, r.deadline_text) for r in plan.rows] == [
        ("1", "Sở Xây dựng", "30/06/2026"),
        ("2", "Sở Xây dựng", "Quý IV/2025"),
    ]


# --- CSV and text specifics -------------------------------------------------------------------


def test_csv_quoted_cell_over_two_lines_and_sep_hint(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_text(
        'sep=;\nTT;Nhiệm vụ;Cơ quan chủ trì\n1;"Rà soát,\nbổ sung";Sở Nội vụ\n2;Việc hai;Sở Y tế\n',
        encoding="utf-8",
    )
    plan = parse_plan(read_plan_source(path))
    assert [(r.number, r.title, r.location) for r in plan.rows] == [
        ("1", "Rà soát, bổ sung", "dòng 3"),
        ("2", "Việc hai", "dòng 5"),
    ]


def test_utf16_text_from_excel_unicode_export(tmp_path: Path) -> None:
    path = tmp_path / "unicode.txt"
    text = "TT\tNhiệm vụ\tCơ quan chủ trì\r\n1\tViệc một\tSở Nội vụ\r\n"
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert rows_of(parse_plan(read_plan_source(path))) == [("1", "Việc một", "", "Sở Nội vụ", "")]


# --- bad files --------------------------------------------------------------------------------


def _no_table_docx(path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("KẾ HOẠCH")
    document.save(str(path))


def _no_table_xlsx(path: Path) -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(("Danh sách", "cán bộ", "đầu mối"))
    workbook.save(path)


NO_TABLE: dict[str, Callable[[Path], object]] = {
    "ghi-chu.txt": lambda p: p.write_text("KẾ HOẠCH\nKhông có bảng.\n", encoding="utf-8"),
    "ghi-chu.md": lambda p: p.write_text("# KẾ HOẠCH\n| Họ tên | Chức vụ |\n", encoding="utf-8"),
    "ghi-chu.csv": lambda p: p.write_text("Họ tên,Chức vụ,Điện thoại\n", encoding="utf-8"),
    "rong.csv": lambda p: p.write_text("", encoding="utf-8"),
    "ghi-chu.docx": _no_table_docx,
    "ghi-chu.xlsx": _no_table_xlsx,
}


@pytest.mark.parametrize(("name", "write"), NO_TABLE.items(), ids=NO_TABLE.keys())
def test_file_without_a_task_table_names_the_file(
    name: str, write: Callable[[Path], object], tmp_path: Path
) -> None:
    path = tmp_path / name
    write(path)
    with pytest.raises(PlanFormatError) as caught:
        parse_plan(read_plan_source(path))
    assert str(caught.value).startswith(f"{name}: không tìm thấy bảng nhiệm vụ")


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("ke-hoach.pdf", "không hỗ trợ định dạng '.pdf'"),
        ("ke-hoach.doc", "hãy lưu lại dưới dạng .docx"),
        ("ke-hoach.xls", "hãy lưu lại dưới dạng .xlsx"),
        ("ke-hoach", "không có đuôi"),
    ],
)
def test_unsupported_extension(name: str, hint: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_bytes(b"%PDF-1.4")
    with pytest.raises(PlanFormatError) as caught:
        read_plan_source(path)
    assert str(caught.value).startswith(f"{name}: ")
    assert hint in str(caught.value)


@pytest.mark.parametrize("name", ["hong.docx", "hong.xlsx"])
def test_damaged_office_file_is_a_format_error(name: str, tmp_path: Path) -> None:
    path = tmp_path / name
    path.write_bytes(b"this is not a zip archive")
    with pytest.raises(PlanFormatError, match=rf"^{name}: không đọc được tệp"):
        read_plan_source(path)


def test_csv_not_in_utf8_is_a_format_error(tmp_path: Path) -> None:
    path = tmp_path / "windows.csv"
    path.write_bytes(b"TT;Nhi\xeam v\xf2;C\xf5 quan ch\xf2 tr\xec\n")  # Windows-1258 bytes
    with pytest.raises(PlanFormatError, match=r"^windows\.csv: tệp không được mã hóa UTF-8"):
        read_plan_source(path)


def test_missing_file_is_a_format_error(tmp_path: Path) -> None:
    with pytest.raises(PlanFormatError, match="không tìm thấy tệp"):
        read_plan_source(tmp_path / "khong-co.docx")
