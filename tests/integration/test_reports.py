"""The coordinator's exports, opened back with the libraries that read them and checked."""

import csv
import io
import struct
import warnings
from collections.abc import Callable
from datetime import date, datetime, time

import pytest
from docx import Document as open_docx
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from docx.shared import Pt
from openpyxl import load_workbook

from domain.calendar import ZONE, WorkingCalendar
from domain.deadlines import DeadlineKind
from domain.status import ReportView, State, StatusLine, counts_by_agency, label, status_of
from reports import DETAIL_HEADERS, ReportMeta
from reports.chart import build_chart_png, chart_bars
from reports.csv import build_csv
from reports.docx import RECOMMENDATION_PLACEHOLDER, build_docx, document_date
from reports.xlsx import DETAIL_SHEET, SUMMARY_HEADERS, SUMMARY_SHEET, build_xlsx

CAL = WorkingCalendar(first_year=2023, last_year=2025)
ON = date(2024, 6, 20)
META = ReportMeta(
    plan_number="289/KH-UBND",
    plan_title="về thực hiện Chiến lược cải cách hành chính giai đoạn 2021 - 2030",
    issuer="Ủy ban nhân dân tỉnh Nghệ An",
    coordinator_name="Sở Nội vụ",
    at=date(2024, 2, 5),
    coordinator_code="SNV",
)


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=ZONE)


def line(
    agency: str,
    task: str,
    reports: list[ReportView],
    *,
    due: date | None = date(2024, 6, 14),
    kind: DeadlineKind = DeadlineKind.FIXED,
    deadline_text: str = "Trước ngày 14/6/2024",
    role: str = "lead",
) -> StatusLine:
    result = status_of(
        due=due, kind=kind, precondition_met=False, reports=reports, on=ON, calendar=CAL
    )
    return StatusLine(
        plan="289/KH-UBND",
        task=task,
        title=f"Ban hành kế hoạch triển khai nhiệm vụ {task} về cải cách hành chính",
        agency=agency,
        agency_code=agency,
        role=role,
        deadline_text=deadline_text,
        due=due,
        result=result,
    )


def sample() -> list[StatusLine]:
    done = ReportView(
        "done", at(date(2024, 6, 13)), 100, "Đã ban hành QĐ số 12/QĐ-UBND", review="confirmed"
    )
    late = ReportView("done", at(date(2024, 6, 18)), 100, "Hoàn thành", review="confirmed")
    pending = ReportView("done", at(date(2024, 6, 10)), 100, "xong rồi", review="pending")
    stuck = ReportView(
        "blocked",
        at(date(2024, 6, 3)),
        None,
        "vướng\x0b kinh phí",
        reason="Gặp khó khăn về kinh phí",
    )
    half = ReportView("percent", at(date(2024, 6, 17)), 50, "được 50%")
    return [
        line("Sở Nội vụ", "1", [done]),
        line("Sở Nội vụ", "2", [late]),
        line("Sở Nội vụ", "3", [stuck], due=date(2024, 6, 3), deadline_text="ngày 3/6/2024"),
        line("Sở Tài chính", "1", [pending], role="support"),
        line("Sở Tài chính", "4", [half], due=date(2024, 12, 31), deadline_text="Năm 2024"),
        line(
            "Sở Tài chính",
            "5",
            [],
            due=None,
            kind=DeadlineKind.CONTINUOUS,
            deadline_text="Thường xuyên",
        ),
        line(
            "UBND huyện Quỳnh Lưu",
            "6",
            [],
            due=date(2024, 12, 31),
            kind=DeadlineKind.CONDITIONAL,
            deadline_text="Năm 2024, sau khi có hướng dẫn của Trung ương",
        ),
        line("UBND huyện Quỳnh Lưu", "7", [], due=date(2024, 9, 30), deadline_text="Quý III/2024"),
    ]


def test_sample_covers_every_state() -> None:
    assert {item.result.state for item in sample()} == set(State)


# --- XLSX ---------------------------------------------------------------------------------------


def test_xlsx_detail_sheet_matches_the_lines() -> None:
    lines = sample()
    book = load_workbook(io.BytesIO(build_xlsx(lines, META)))
    assert book.sheetnames == [SUMMARY_SHEET, DETAIL_SHEET]
    sheet = book[DETAIL_SHEET]
    rows = list(sheet.iter_rows())
    assert [cell.value for cell in rows[0]] == list(DETAIL_HEADERS)
    assert all(cell.font.bold for cell in rows[0])
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:L{len(lines) + 1}"
    assert sheet.column_dimensions["C"].width == 60
    assert len(rows) == len(lines) + 1
    for item, row in zip(lines, rows[1:], strict=True):
        values = dict(zip(DETAIL_HEADERS, row, strict=True))
        assert values["Kế hoạch"].value == item.plan
        assert values["TT"].value == item.task
        assert values["Cơ quan, đơn vị"].value == item.agency
        assert values["Vai trò"].value == {"lead": "Chủ trì", "support": "Phối hợp"}[item.role]
        assert values["Thời hạn (theo văn bản)"].value == item.deadline_text
        assert values["Tình trạng"].value == label(item.result.state)
        assert values["Tiến độ (%)"].value == item.result.percent
        due = values["Hạn hoàn thành"]
        if item.due is None:
            assert due.value is None
        else:
            assert due.value == datetime.combine(item.due, time())  # a real date cell
            assert due.number_format == "dd/mm/yyyy"
        report = item.result.last_report
        last = values["Ngày báo cáo gần nhất"]
        if report is None:
            assert last.value is None
        else:
            assert last.value == datetime.combine(report.reported_at.date(), time())
            assert last.number_format == "dd/mm/yyyy"
            assert values["Nội dung báo cáo gần nhất"].value == report.text.replace("\x0b", "")
        assert (values["Khó khăn, vướng mắc"].value or None) == item.result.blocker


def test_xlsx_summary_sheet_counts_per_agency() -> None:
    lines = sample()
    sheet = load_workbook(io.BytesIO(build_xlsx(lines, META)))[SUMMARY_SHEET]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == list(SUMMARY_HEADERS)
    assert rows[0][3:9] == [
        "Hoàn thành đúng hạn",
        "Hoàn thành quá hạn",
        "Đang thực hiện trong hạn",
        "Quá hạn chưa hoàn thành",
        "Thường xuyên",
        "Chờ hướng dẫn/điều kiện",
    ]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:L4"  # three agencies; the total row stays out
    by_name = {row[1]: row for row in rows[1:]}
    # TT, name, total, 4 official states, continuous, waiting, rate, awaiting, no answer
    assert by_name["Sở Nội vụ"][2:] == [3, 1, 1, 0, 1, 0, 0, pytest.approx(2 / 3), 0, 0]
    assert by_name["Sở Tài chính"][2:] == [3, 0, 0, 1, 1, 1, 0, 0.0, 1, 0]
    assert by_name["UBND huyện Quỳnh Lưu"][2:] == [2, 0, 0, 1, 0, 0, 1, 0.0, 0, 1]
    assert by_name["Tổng cộng"][2:] == [8, 1, 1, 2, 2, 1, 1, pytest.approx(2 / 6), 1, 1]
    assert list(counts_by_agency(lines)) == [row[1] for row in rows[1:4]]
    rate = sheet.cell(row=2, column=SUMMARY_HEADERS.index("Tỷ lệ hoàn thành") + 1)
    assert rate.number_format == "0.0%"
    assert sheet.cell(row=5, column=2).font.bold


# --- DOCX ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "text"),
    [
        (date(2024, 2, 5), "ngày 05 tháng 02 năm 2024"),
        (date(2024, 1, 31), "ngày 31 tháng 01 năm 2024"),
        (date(2024, 3, 9), "ngày 09 tháng 3 năm 2024"),
        (date(2024, 12, 25), "ngày 25 tháng 12 năm 2024"),
    ],
)
def test_document_date_follows_decree_30(day: date, text: str) -> None:
    assert document_date(day) == text


def test_docx_layout_and_figures() -> None:
    lines = sample()
    document = open_docx(io.BytesIO(build_docx(lines, META)))
    heading = document.tables[0]
    assert heading.cell(0, 0).text == "ỦY BAN NHÂN DÂN TỈNH NGHỆ AN\nSỞ NỘI VỤ"
    assert (
        heading.cell(0, 1).text == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc"
    )
    assert heading.cell(1, 0).text == "Số:       /BC-SNV"
    assert heading.cell(1, 1).text == "Nghệ An, ngày 05 tháng 02 năm 2024"

    texts = [p.text for p in document.paragraphs]
    order = [
        "BÁO CÁO",
        "Kết quả thực hiện Kế hoạch số 289/KH-UBND",
        META.plan_title,
        "I. KẾT QUẢ THỰC HIỆN",
        "II. TỒN TẠI, HẠN CHẾ",
        "III. ĐỀ XUẤT, KIẾN NGHỊ",
        RECOMMENDATION_PLACEHOLDER,
        "PHỤ LỤC",
    ]
    positions = [texts.index(text) for text in order]
    assert positions == sorted(positions)
    body = "\n".join(texts)
    assert "1. Tổng số 8 lượt nhiệm vụ giao cho 3 cơ quan, đơn vị" in body
    assert "- Hoàn thành đúng hạn: 1 nhiệm vụ (tỷ lệ 16,7%);" in body
    assert "- Hoàn thành quá hạn: 1 nhiệm vụ (tỷ lệ 16,7%);" in body
    assert "- Đang thực hiện trong hạn: 2 nhiệm vụ (tỷ lệ 33,3%);" in body
    assert "- Quá hạn chưa hoàn thành: 2 nhiệm vụ (tỷ lệ 33,3%);" in body
    assert "thường xuyên: 1; nhiệm vụ chờ hướng dẫn hoặc chờ đủ điều kiện thực hiện: 1" in body
    assert "Tỷ lệ nhiệm vụ đã hoàn thành: 33,3%." in body
    assert "1. Còn 2 nhiệm vụ quá hạn chưa hoàn thành, gồm:" in body
    assert "- Sở Nội vụ: nhiệm vụ 3 (Kế hoạch số 289/KH-UBND)" in body
    assert "hạn 03/06/2024, quá hạn 17 ngày;" in body
    assert "quá hạn 6 ngày (đã báo cáo hoàn thành, đang chờ xác nhận)." in body
    assert "nhiệm vụ 3 về cải cách hành chính»: Gặp khó khăn về kinh phí." in body
    assert "Nơi nhận:" in document.tables[2].cell(0, 0).text
    assert "[Họ và tên]" in document.tables[2].cell(0, 1).text

    normal = document.styles["Normal"].font
    assert (normal.name, normal.size) == ("Times New Roman", Pt(13))
    assert document.paragraphs[texts.index("BÁO CÁO")].runs[0].font.size == Pt(14)


def test_docx_tables_hold_every_agency_and_line() -> None:
    lines = sample()
    document = open_docx(io.BytesIO(build_docx(lines, META)))
    summary = document.tables[1]
    assert [row.cells[1].text for row in summary.rows] == [
        "Cơ quan, đơn vị",
        "Sở Nội vụ",
        "Sở Tài chính",
        "UBND huyện Quỳnh Lưu",
    ]
    assert [c.text for c in summary.rows[1].cells] == [
        "1",
        "Sở Nội vụ",
        "3",
        "1",
        "1",
        "0",
        "1",
        "0",
        "0",
        "66,7",
    ]

    appendix = document.tables[-1]
    header = appendix.rows[0]
    properties = header._tr.trPr
    assert properties is not None
    assert properties.find(qn("w:tblHeader")) is not None  # repeated on every page
    assert len(appendix.rows) == len(lines) + 1
    for item, row in zip(lines, appendix.rows[1:], strict=True):
        cells = [cell.text for cell in row.cells]
        assert cells[0] == item.task
        assert cells[2] == item.title
        assert cells[3] == item.agency
        assert cells[6] == label(item.result.state)
        assert cells[5].startswith(item.deadline_text)
        assert cells[9] == (item.result.blocker or "")
    assert [c.text for c in appendix.rows[5].cells][5:9] == [
        "Năm 2024 (hạn 31/12/2024)",
        "Đang thực hiện trong hạn",
        "50",
        "17/06/2024: được 50%",
    ]
    assert document.sections[-1].orientation == WD_ORIENT.LANDSCAPE


def test_docx_for_a_plan_without_problems() -> None:
    lines = [line("Sở Nội vụ", "1", [], due=date(2024, 12, 31))]
    body = "\n".join(p.text for p in open_docx(io.BytesIO(build_docx(lines, META))).paragraphs)
    assert "1. Không có nhiệm vụ quá hạn chưa hoàn thành." in body
    assert "2. Các cơ quan, đơn vị chưa báo cáo khó khăn, vướng mắc." in body
    assert "1 nhiệm vụ trong hạn chưa có báo cáo" in body


def test_docx_lists_at_most_thirty_overdue_lines() -> None:
    lines = [line(f"UBND xã {i}", str(i), []) for i in range(35)]
    texts = [p.text for p in open_docx(io.BytesIO(build_docx(lines, META))).paragraphs]
    assert sum(text.startswith("- UBND xã") for text in texts) == 30
    assert "(Và 5 nhiệm vụ khác, chi tiết tại Phụ lục kèm theo.)" in texts


# --- PNG ----------------------------------------------------------------------------------------


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def built_without_warnings(build: Callable[[], bytes]) -> tuple[bytes, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        data = build()
    return data, [str(w.message) for w in caught]


def many_agencies(n: int) -> list[StatusLine]:
    return [
        line(
            f"UBND xã Nghĩa Đồng {i}", "1", [] if i % 3 else [ReportView("note", at(ON), text="x")]
        )
        for i in range(n)
    ]


def test_chart_png_has_vietnamese_text_and_no_missing_glyphs() -> None:
    data, messages = built_without_warnings(lambda: build_chart_png(sample(), META))
    assert [m for m in messages if "Glyph" in m] == []
    assert messages == []
    assert png_size(data)[0] == 1200  # 10 inches at 120 dpi


def test_missing_glyph_warning_is_caught_when_it_happens() -> None:
    # The check above can fail: a name DejaVu Sans cannot draw does produce the warning.
    lines = [line("机构", "1", [])]
    _, messages = built_without_warnings(lambda: build_chart_png(lines, META))
    assert any("Glyph" in m and "missing" in m for m in messages)


def test_chart_grows_with_agencies_and_gathers_the_rest() -> None:
    few = png_size(build_chart_png(many_agencies(5), META))[1]
    many = png_size(build_chart_png(many_agencies(60), META, top=25))[1]
    assert many > few * 2

    bars = chart_bars(many_agencies(60), top=25)
    assert len(bars) == 26
    name, rest = bars[-1]
    assert name == "35 cơ quan, đơn vị khác"
    assert sum(rest.values()) == 35
    assert len(chart_bars(many_agencies(26), top=25)) == 26  # one left over keeps its own bar


def test_chart_puts_the_most_overdue_agencies_first() -> None:
    names = [name for name, _ in chart_bars(sample(), top=20)]
    # Continuous and waiting tasks have no bar: all three agencies still have official ones.
    assert names == ["Sở Nội vụ", "Sở Tài chính", "UBND huyện Quỳnh Lưu"]
    assert [name for name, _ in chart_bars(sample(), top=1)] == [
        "Sở Nội vụ",
        "2 cơ quan, đơn vị khác",
    ]


def test_chart_without_data() -> None:
    data, messages = built_without_warnings(lambda: build_chart_png([], META, lang="en"))
    assert messages == []
    assert png_size(data)[0] == 1200


# --- CSV ----------------------------------------------------------------------------------------


def test_csv_has_bom_and_round_trips() -> None:
    lines = sample()
    data = build_csv(lines)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == list(DETAIL_HEADERS)
    assert len(rows) == len(lines) + 1
    assert rows[1] == [
        "289/KH-UBND",
        "1",
        "Ban hành kế hoạch triển khai nhiệm vụ 1 về cải cách hành chính",
        "Sở Nội vụ",
        "Chủ trì",
        "Trước ngày 14/6/2024",
        "14/06/2024",
        "Hoàn thành đúng hạn",
        "100",
        "13/06/2024",
        "Đã ban hành QĐ số 12/QĐ-UBND",
        "",
    ]
    assert rows[6][6:9] == ["", "Thường xuyên", ""]
    assert rows[3][11] == "Gặp khó khăn về kinh phí"


# --- every format, no data ------------------------------------------------------------------------


def test_every_format_builds_for_no_lines() -> None:
    assert load_workbook(io.BytesIO(build_xlsx([], META)))[SUMMARY_SHEET].max_row == 2
    assert len(open_docx(io.BytesIO(build_docx([], META))).tables[-1].rows) == 1
    assert list(csv.reader(io.StringIO(build_csv([]).decode("utf-8-sig")))) == [
        list(DETAIL_HEADERS)
    ]
