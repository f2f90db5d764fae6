"""Reading plans from text: tables, sections, metadata and the reporting duty (pure)."""

import unicodedata
from datetime import date
from pathlib import Path

import pytest

from domain.deadlines import Frequency
from domain.plan_text import source_from_markdown, source_from_text
from domain.plans import (
    ParsedPlan,
    PlanFormatError,
    PlanSource,
    SourceTable,
    TaskRow,
    parse_plan,
)

SEED = (
    Path(__file__).resolve().parents[2]
    / ".."
    / "shared"
    / "seed"
    / "ke-hoach-289-KH-UBND-2023-nghe-an.txt"
)

HEADER = ("TT", "Nhiệm vụ", "Thời gian hoàn thành", "Cơ quan chủ trì", "Cơ quan phối hợp")


def table(*rows: tuple[str, ...]) -> SourceTable:
    return SourceTable(rows=rows, locations=tuple(f"hàng {i}" for i in range(1, len(rows) + 1)))


def plan_of(*tables: SourceTable, paragraphs: tuple[str, ...] = ()) -> ParsedPlan:
    return parse_plan(PlanSource(name="kh.docx", paragraphs=paragraphs, tables=tables))


def cells_of(row: TaskRow) -> tuple[str, str, str, str, str]:
    return (row.number, row.title, row.deadline_text, row.lead_text, row.support_text)


# --- the seed plan ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed() -> ParsedPlan:
    if not SEED.is_file():
        pytest.skip(f"the shared seed plan is absent: {SEED}")
    return parse_plan(source_from_text(SEED.read_text(encoding="utf-8"), SEED.name))


def test_seed_has_its_seven_rows_across_the_page_break(seed: ParsedPlan) -> None:
    assert [row.number for row in seed.rows] == [str(n) for n in range(1, 8)]
    assert seed.rows[4].deadline_text == "Năm 2024, sau khi có hướng dẫn của Trung ương"
    assert seed.rows[2].support_text == (
        "Các sở, ban, ngành cấp tỉnh, UBND các huyện, thành phố, thị xã"
    )
    assert seed.rows[0].lead_text == "Các sở, ban, ngành"
    assert (seed.rows[0].location, seed.rows[4].location) == ("dòng 112", "dòng 118")
    assert seed.sections == ()
    assert seed.warnings == ()


def test_seed_metadata(seed: ParsedPlan) -> None:
    assert seed.source == SEED.name
    assert seed.meta.number == "289/KH-UBND"
    assert seed.meta.issued_on == date(2023, 4, 26)
    assert seed.meta.issuer == "UBND tỉnh Nghệ An"
    assert seed.meta.title is not None
    assert seed.meta.title.startswith("Thực hiện Kế hoạch số 164-KH/TU ngày 08/3/2023")
    assert "*" not in seed.meta.title


def test_seed_reporting_duty_is_the_agencies_yearly_report_to_so_noi_vu(seed: ParsedPlan) -> None:
    assert seed.duty is not None
    assert seed.duty.recipient_text == "Sở Nội vụ"
    assert seed.duty.frequency is Frequency.YEARLY
    assert seed.duty.text.startswith("định kỳ hàng năm (hoặc theo yêu cầu) báo cáo kết quả")
    assert (seed.duty.due_month, seed.duty.due_day) == (None, None)


# --- finding the task table -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "order"),
    [
        (("STT", "Nội dung công việc", "Thời hạn", "Đơn vị chủ trì", "Đơn vị phối hợp"), None),
        (("Số TT", "Tên nhiệm vụ", "Tiến độ", "Chủ trì", "Phối hợp"), None),
        (
            ("TT", "Nhiệm vụ cụ thể", "Thời gian ban hành", "Cơ quan chủ trì tham mưu", "phối hợp"),
            None,
        ),
        # any column order, header words without diacritics or in capitals
        (("CO QUAN CHU TRI", "Phoi hop", "TT", "Thoi gian thuc hien", "NỘI DUNG"), (2, 4, 3, 0, 1)),
    ],
)
def test_header_words_in_any_order(header: tuple[str, ...], order: tuple[int, ...] | None) -> None:
    values = ("1", "Rà soát quy định", "Năm 2026", "Sở Nội vụ", "Sở Tài chính")
    row = values if order is None else tuple(values[order.index(i)] for i in range(5))
    parsed = plan_of(table(header, row))
    assert [cells_of(r) for r in parsed.rows] == [values]


def test_product_and_note_columns_are_read() -> None:
    header = ("TT", "Nhiệm vụ", "Cơ quan chủ trì", "Sản phẩm", "Ghi chú", "Thời gian")
    parsed = plan_of(
        table(header, ("1", "Đề án", "Sở Nội vụ", "Quyết định", "Ưu tiên", "Năm 2026"))
    )
    row = parsed.rows[0]
    assert (row.product, row.note, row.deadline_text, row.support_text) == (
        "Quyết định",
        "Ưu tiên",
        "Năm 2026",
        "",
    )


def test_rows_before_the_header_are_not_tasks_and_feed_the_metadata() -> None:
    letterhead = ("ỦY BAN NHÂN DÂN\nTỈNH NGHỆ AN\nSố: 12/KH-UBND", "", "", "", "")
    parsed = plan_of(table(letterhead, HEADER, ("1", "Việc", "Năm 2026", "Sở Nội vụ", "")))
    assert [r.number for r in parsed.rows] == ["1"]
    assert (parsed.meta.number, parsed.meta.issuer) == ("12/KH-UBND", "UBND tỉnh Nghệ An")


@pytest.mark.parametrize(
    "header",
    [
        ("TT", "Nhiệm vụ", "Thời gian", "Cơ quan phối hợp"),  # no lead column
        ("TT", "Cơ quan chủ trì", "Thời gian", "Cơ quan phối hợp"),  # no task column
    ],
)
def test_no_task_table_is_a_precise_error(header: tuple[str, ...]) -> None:
    with pytest.raises(PlanFormatError) as caught:
        plan_of(table(header, ("1", "a", "b", "c")), paragraphs=("KẾ HOẠCH",))
    assert str(caught.value) == (
        "kh.docx: không tìm thấy bảng nhiệm vụ (cần một hàng tiêu đề có cột "
        "'Nhiệm vụ/Nội dung' và cột 'Cơ quan chủ trì')"
    )


def test_a_long_cell_with_header_words_is_not_a_header() -> None:
    row = (
        "1",
        "Nhiệm vụ rà soát, sắp xếp tổ chức bộ máy các cơ quan chuyên môn",
        "",
        "Chủ trì",
        "",
    )
    with pytest.raises(PlanFormatError):
        plan_of(table(row))


# --- continuation, repeated headers and column numbers ----------------------------------------


def test_repeated_header_inside_a_table_is_skipped() -> None:
    parsed = plan_of(
        table(
            HEADER,
            ("1", "A", "Năm 2026", "Sở Nội vụ", ""),
            HEADER,
            ("2", "B", "", "Sở Xây dựng", ""),
        )
    )
    assert [(r.number, r.title) for r in parsed.rows] == [("1", "A"), ("2", "B")]


def test_consecutive_tables_continue_the_task_list() -> None:
    first = table(HEADER, ("1", "A", "", "Sở Nội vụ", ""))
    with_header = table(HEADER, ("2", "B", "", "Sở Nội vụ", ""))
    without_header = table(("3", "C", "", "Sở Tài chính", ""))
    parsed = plan_of(first, with_header, without_header)
    assert [r.number for r in parsed.rows] == ["1", "2", "3"]


def test_a_narrower_table_after_the_task_table_is_not_read_as_tasks() -> None:
    signature = table(("Nơi nhận:\n- Như trên;", "TM. ỦY BAN NHÂN DÂN\nKT. CHỦ TỊCH"))
    parsed = plan_of(table(HEADER, ("1", "A", "", "Sở Nội vụ", "")), signature)
    assert [r.number for r in parsed.rows] == ["1"]
    assert parsed.warnings == ()


@pytest.mark.parametrize(
    "numbers",
    [("(1)", "(2)", "(3)", "(4)", "(5)"), ("1", "2", "3", "4", "5"), ("(1)", "(2)", "(3)", "", "")],
)
def test_column_number_row_is_skipped(numbers: tuple[str, ...]) -> None:
    parsed = plan_of(table(HEADER, numbers, ("1", "A", "Năm 2026", "Sở Nội vụ", "")))
    assert [cells_of(r) for r in parsed.rows] == [("1", "A", "Năm 2026", "Sở Nội vụ", "")]


# --- sections ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "section"),
    [
        (("I", "Công tác tổ chức", "", "", ""), "I. Công tác tổ chức"),
        (("II.", "Công tác kiểm tra", "", "", ""), "II. Công tác kiểm tra"),
        (("IV", "", "", "", ""), "IV"),
        (("A", "Nhiệm vụ chung", "", "", ""), "A. Nhiệm vụ chung"),
        (("B.", "Nhiệm vụ riêng", "", "", ""), "B. Nhiệm vụ riêng"),
        # a heading merged across the row: Word repeats it, Excel leaves the other cells empty
        (("I. TỔ CHỨC",) * 5, "I. TỔ CHỨC"),
        (("", "Nhóm nhiệm vụ về thể chế", "", "", ""), "Nhóm nhiệm vụ về thể chế"),
        (("I. CÔNG TÁC TỔ CHỨC", "", "", "", ""), "I. CÔNG TÁC TỔ CHỨC"),  # merged, from CSV
    ],
)
def test_section_rows_group_the_following_tasks(row: tuple[str, ...], section: str) -> None:
    parsed = plan_of(table(HEADER, row, ("1", "A", "Năm 2026", "Sở Nội vụ", "")))
    assert parsed.sections == (section,)
    assert [(r.number, r.section) for r in parsed.rows] == [("1", section)]


def test_sections_change_and_reset_under_a_new_header() -> None:
    other_header = ("STT", "Nội dung", "Đơn vị chủ trì")
    parsed = plan_of(
        table(
            HEADER,
            ("I", "Một", "", "", ""),
            ("1", "A", "", "Sở Nội vụ", ""),
            ("II", "Hai", "", "", ""),
            ("2", "B", "", "Sở Nội vụ", ""),
        ),
        table(other_header, ("1", "C", "Sở Xây dựng")),
    )
    assert parsed.sections == ("I. Một", "II. Hai")
    assert [(r.title, r.section) for r in parsed.rows] == [
        ("A", "I. Một"),
        ("B", "II. Hai"),
        ("C", None),
    ]


@pytest.mark.parametrize("number", ["1", "1.1", "12", "a", "x"])
def test_arabic_and_lower_case_numbers_are_tasks(number: str) -> None:
    parsed = plan_of(table(HEADER, (number, "Việc", "", "Sở Nội vụ", "")))
    assert [r.number for r in parsed.rows] == [number]
    assert parsed.sections == ()


@pytest.mark.parametrize(
    ("row", "number", "title"),
    [
        (("7", "", "", "", ""), "7", ""),
        (("", "", "", "Sở Nội vụ", ""), "hàng 2", ""),
    ],
)
def test_a_lone_number_or_agency_is_a_task_without_title(
    row: tuple[str, ...], number: str, title: str
) -> None:
    parsed = plan_of(table(HEADER, row))
    assert [(r.number, r.title) for r in parsed.rows] == [(number, title)]
    assert parsed.sections == ()


# --- task rows --------------------------------------------------------------------------------


def test_cells_are_collapsed_and_composed() -> None:
    decomposed = unicodedata.normalize("NFD", "Sở Nội vụ")
    row = ("1.", "Rà soát,\n  bổ sung\tquy định ", " Năm 2026 ", decomposed, "")
    parsed = plan_of(table(HEADER, row))
    assert cells_of(parsed.rows[0]) == (
        "1",
        "Rà soát, bổ sung quy định",
        "Năm 2026",
        "Sở Nội vụ",
        "",
    )


def test_empty_number_takes_the_location_and_empty_task_is_still_a_row() -> None:
    parsed = plan_of(
        table(
            HEADER, ("", "Việc không số", "", "Sở Nội vụ", ""), ("5", "", "Năm 2026", "Sở Y tế", "")
        )
    )
    assert [(r.number, r.title, r.location) for r in parsed.rows] == [
        ("hàng 2", "Việc không số", "hàng 2"),
        ("5", "", "hàng 3"),
    ]


def test_rows_of_another_width_are_warned_about_by_location() -> None:
    parsed = plan_of(
        table(
            HEADER,
            ("1", "A", "Năm 2026"),
            ("2", "B", "", "Sở Nội vụ", "", "thừa"),
            ("3", "C", "", "Sở Nội vụ", "", ""),  # trailing empty cells are harmless
        )
    )
    assert [r.number for r in parsed.rows] == ["1", "2", "3"]
    assert parsed.rows[0].lead_text == ""
    assert len(parsed.warnings) == 2
    assert parsed.warnings[0].startswith("hàng 2: hàng có 3 ô, ít hơn 5 ô")
    assert parsed.warnings[1].startswith("hàng 3: hàng có 6 ô, nhiều hơn 5 ô")


def test_header_without_rows_is_warned_about() -> None:
    parsed = plan_of(table(HEADER))
    assert parsed.rows == ()
    assert parsed.warnings == ("bảng nhiệm vụ có hàng tiêu đề nhưng không có hàng nhiệm vụ nào",)


@pytest.mark.parametrize(
    ("top", "sub"),
    [
        # Word: merged cells repeat their text in every row and column they span
        (
            ("TT", "Nhiệm vụ", "Thời gian", "Cơ quan thực hiện", "Cơ quan thực hiện"),
            ("TT", "Nhiệm vụ", "Thời gian", "Chủ trì", "Phối hợp"),
        ),
        # Excel: only the first cell of a merged range holds the text
        (
            ("TT", "Nhiệm vụ", "Thời gian", "Cơ quan thực hiện", ""),
            ("", "", "", "Chủ trì", "Phối hợp"),
        ),
    ],
)
def test_two_row_header_under_merged_cells(top: tuple[str, ...], sub: tuple[str, ...]) -> None:
    parsed = plan_of(table(top, sub, ("1", "A", "Năm 2026", "Sở Nội vụ", "Sở Tài chính"), top, sub))
    assert [cells_of(r) for r in parsed.rows] == [
        ("1", "A", "Năm 2026", "Sở Nội vụ", "Sở Tài chính")
    ]


def test_a_title_row_above_the_header_is_not_merged_into_it() -> None:
    title = ("Nhiệm vụ trọng tâm năm 2026", "", "", "", "")
    parsed = plan_of(table(title, HEADER, ("1", "A", "", "Sở Nội vụ", "")))
    assert [cells_of(r) for r in parsed.rows] == [("1", "A", "", "Sở Nội vụ", "")]


# --- metadata ---------------------------------------------------------------------------------


def meta_of(*paragraphs: str) -> ParsedPlan:
    return plan_of(table(HEADER, ("1", "A", "", "Sở Nội vụ", "")), paragraphs=paragraphs)


@pytest.mark.parametrize(
    ("paragraphs", "number"),
    [
        (("Số: 289 /KH-UBND",), "289/KH-UBND"),
        (("Số 12/KH-SNV",), "12/KH-SNV"),
        (("So: 7/KH-UBND.",), "7/KH-UBND"),
        (("SỐ: 45 / KH - UBND",), "45/KH-UBND"),
        (("Số: 30/2018/QĐ-UBND",), "30/2018/QĐ-UBND"),
        (
            ("(Ban hành kèm theo Kế hoạch số 289 /KH-UBND ngày 26/4/2023 của UBND tỉnh)",),
            "289/KH-UBND",
        ),
        (("Thực hiện Kế hoạch số 164-KH/TU của Tỉnh ủy",), None),
        (("Số: ....../KH-UBND",), None),
    ],
)
def test_plan_number(paragraphs: tuple[str, ...], number: str | None) -> None:
    assert meta_of(*paragraphs).meta.number == number


@pytest.mark.parametrize(
    ("paragraphs", "issued_on"),
    [
        (("Nghệ An, ngày 26 tháng 4 năm 2023",), date(2023, 4, 26)),
        (("Nghe An, ngay 26 thang 04 nam 2023",), date(2023, 4, 26)),
        (("Nghệ An, ngày 26/4/2023",), date(2023, 4, 26)),
        # a referenced document's date is not the plan's; the dated place line wins
        (
            ("Thực hiện Kế hoạch số 164-KH/TU ngày 08/3/2023", "Nghệ An, ngày 15/9/2025"),
            date(2025, 9, 15),
        ),
        (("(Kèm theo Kế hoạch số 289/KH-UBND ngày 26/4/2023 của UBND tỉnh)",), date(2023, 4, 26)),
        (("Thực hiện Kế hoạch số 164-KH/TU ngày 08/3/2023",), None),
        (("Nghệ An, ngày 31 tháng 2 năm 2023",), None),
    ],
)
def test_issue_date(paragraphs: tuple[str, ...], issued_on: date | None) -> None:
    assert meta_of(*paragraphs).meta.issued_on == issued_on


@pytest.mark.parametrize(
    ("paragraphs", "issuer"),
    [
        (("ỦY BAN NHÂN DÂN", "TỈNH NGHỆ AN"), "UBND tỉnh Nghệ An"),
        (("UỶ BAN NHÂN DÂN TỈNH NGHỆ AN",), "UBND tỉnh Nghệ An"),
        (("UBND THÀNH PHỐ HÀ NỘI",), "UBND thành phố Hà Nội"),
        (
            (
                "Nghệ An, ngày 26 tháng 4 năm 2023",
                "(Ban hành kèm theo Kế hoạch số 289 /KH-UBND ngày 26/4/2023 của UBND tỉnh)",
            ),
            "UBND tỉnh Nghệ An",
        ),
        # the signature block names the committee without a place: not a letterhead
        (("TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "UỶ BAN NHÂN DÂN TỈNH"), None),
    ],
)
def test_issuer(paragraphs: tuple[str, ...], issuer: str | None) -> None:
    assert meta_of(*paragraphs).meta.issuer == issuer


@pytest.mark.parametrize(
    ("paragraphs", "title"),
    [
        (
            ("KẾ HOẠCH", "Triển khai chuyển đổi số năm 2026", "Căn cứ ..."),
            "Triển khai chuyển đổi số năm 2026",
        ),
        (("KẾ HOẠCH", "-----------", "Cải cách hành chính"), "Cải cách hành chính"),
        (("KẾ HOẠCH Cải cách hành chính năm 2026",), "Cải cách hành chính năm 2026"),
        (("Thực hiện Kế hoạch số 164-KH/TU",), None),
    ],
)
def test_title(paragraphs: tuple[str, ...], title: str | None) -> None:
    assert meta_of(*paragraphs).meta.title == title


# --- reporting duty ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        (
            (
                "- Thường xuyên kiểm tra; định kỳ hàng năm (hoặc theo yêu cầu) báo cáo kết quả "
                "thực hiện về Sở Nội vụ để tổng hợp."
            ),
            ("Sở Nội vụ", Frequency.YEARLY, None, None),
        ),
        (
            "Định kỳ hằng năm, trước ngày 15/12 báo cáo kết quả thực hiện về Sở Nội vụ.",
            ("Sở Nội vụ", Frequency.YEARLY, 12, 15),
        ),
        (
            (
                "Định kỳ 6 tháng, hằng năm báo cáo kết quả gửi Văn phòng UBND tỉnh trước ngày 20 "
                "tháng 6 và ngày 20 tháng 12."
            ),
            ("Văn phòng UBND tỉnh", Frequency.HALF_YEARLY, 6, 20),
        ),
        (
            (
                "Các đơn vị báo cáo định kỳ hằng quý về Sở Văn hóa, Thể thao và Du lịch trước "
                "ngày 20 tháng cuối quý."
            ),
            ("Sở Văn hóa, Thể thao và Du lịch", Frequency.QUARTERLY, None, 20),
        ),
        (
            "Hằng tháng báo cáo UBND tỉnh (qua Sở Tài chính) tình hình thực hiện.",
            ("Sở Tài chính", Frequency.MONTHLY, None, None),
        ),
        # no recipient after "về"/"gửi": Sở Nội vụ's own duty to report upward in the seed
        (
            (
                "Định kỳ hàng năm (hoặc đột xuất khi có yêu cầu) phối hợp tham mưu báo cáo kết "
                "quả thực hiện."
            ),
            None,
        ),
        ("Báo cáo kết quả thực hiện về Sở Nội vụ.", None),  # no period
        ("Hằng năm tổ chức hội nghị về việc thực hiện Kế hoạch.", None),  # no report
        ("Định kỳ hằng năm báo cáo về việc thực hiện Kế hoạch.", None),  # "về việc" is no agency
    ],
)
def test_reporting_duty(
    sentence: str, expected: tuple[str, Frequency, int | None, int | None] | None
) -> None:
    duty = meta_of(sentence).duty
    if expected is None:
        assert duty is None
        return
    assert duty is not None
    assert (duty.recipient_text, duty.frequency, duty.due_month, duty.due_day) == expected
    assert "báo cáo" in duty.text


def test_the_first_duty_that_names_a_recipient_is_taken() -> None:
    duty = meta_of(
        "Sở Nội vụ định kỳ hàng năm tham mưu báo cáo kết quả thực hiện.",
        "Các sở định kỳ hằng năm báo cáo về Sở Nội vụ.",
        "Các xã định kỳ hằng quý báo cáo về Sở Tài chính.",
    ).duty
    assert duty is not None
    assert (duty.recipient_text, duty.frequency) == ("Sở Nội vụ", Frequency.YEARLY)


# --- text and Markdown sources ----------------------------------------------------------------


def test_text_source_tables_paragraphs_and_line_numbers() -> None:
    text = (
        "**Số: 7/KH-UBND**\n"
        "Nơi nhận:\tSở Nội vụ\n"  # two cells: a paragraph, not a table
        "\n"
        "TT\tNhiệm vụ\tCơ quan chủ trì\n"
        "1\tViệc một\tSở Nội vụ\n"
        "\f\n"
        "TT\tNhiệm vụ\tCơ quan chủ trì\n"
        "2\tViệc hai\tSở Xây dựng\r\n"
        "## Ghi chú\n"
    )
    source = source_from_text(text, "kh.txt")
    assert source.name == "kh.txt"
    assert source.paragraphs == ("Số: 7/KH-UBND", "Nơi nhận: Sở Nội vụ", "Ghi chú")
    assert [t.locations for t in source.tables] == [("dòng 4", "dòng 5"), ("dòng 7", "dòng 8")]
    assert source.tables[1].rows[1] == ("2", "Việc hai", "Sở Xây dựng")
    parsed = parse_plan(source)
    assert [(r.number, r.location) for r in parsed.rows] == [("1", "dòng 5"), ("2", "dòng 8")]


def test_markdown_source() -> None:
    text = (
        "# KẾ HOẠCH\n"
        "**Thực hiện *chuyển đổi số***\n"
        "\n"
        "| TT | Nhiệm vụ | Cơ quan chủ trì |\n"
        "|:---|---|---:|\n"
        "| **I** | **Thể chế** | |\n"
        "| 1 | Ban hành quy chế<br>phối hợp | Sở Nội vụ \\| Sở Tư pháp |\n"
    )
    source = source_from_markdown(text, "kh.md")
    assert source.paragraphs == ("KẾ HOẠCH", "Thực hiện chuyển đổi số")
    assert source.tables == (
        SourceTable(
            rows=(
                ("TT", "Nhiệm vụ", "Cơ quan chủ trì"),
                ("I", "Thể chế", ""),
                ("1", "Ban hành quy chế phối hợp", "Sở Nội vụ | Sở Tư pháp"),
            ),
            locations=("dòng 4", "dòng 6", "dòng 7"),
        ),
    )
    parsed = parse_plan(source)
    assert parsed.meta.title == "Thực hiện chuyển đổi số"
    assert [(r.number, r.section, r.lead_text) for r in parsed.rows] == [
        ("1", "I. Thể chế", "Sở Nội vụ | Sở Tư pháp")
    ]


def test_text_without_a_table_names_the_file() -> None:
    with pytest.raises(PlanFormatError, match=r"^ghi-chu\.txt: không tìm thấy bảng nhiệm vụ"):
        parse_plan(source_from_text("KẾ HOẠCH\nKhông có bảng.\n", "ghi-chu.txt"))
