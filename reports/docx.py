"""The draft progress report (báo cáo) a coordinator edits, signs and sends, as a .docx file.

It follows the administrative layout of Nghị định 30/2020/NĐ-CP: A4, Times New Roman, the two-column
heading (issuing body and number on the left, national motto and place-and-date on the right), the
title, numbered sections, "Nơi nhận" and the signature block, then the detail table as an appendix
on landscape pages. Figures are filled in from the status lines; the recommendations section is a
placeholder the official writes. Tables are filled by copying one prepared row, because
python-docx's cell-by-cell API takes about a minute for a province's 60,000 lines.
"""

from collections import Counter
from collections.abc import Iterable, Sequence
from copy import deepcopy
from datetime import date
from io import BytesIO

from docx import Document as new_document
from docx.document import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import _Cell
from docx.text.paragraph import Paragraph

from domain.status import (
    OFFICIAL_STATES,
    State,
    StatusLine,
    blocked,
    counts_by_agency,
    done_rate,
    label,
    overdue_list,
    rates,
)
from reports import ReportMeta, detail_row, dmy, printable

FONT = "Times New Roman"
BODY_SIZE = Pt(13)
TITLE_SIZE = Pt(14)
TABLE_SIZE = Pt(11)

RECOMMENDATION_PLACEHOLDER = (
    "[Đề xuất, kiến nghị với Ủy ban nhân dân tỉnh và các cơ quan liên quan: "
    "nội dung do cán bộ tổng hợp bổ sung.]"
)

SUMMARY_COLUMNS: tuple[tuple[str, float], ...] = (
    ("TT", 0.9),
    ("Cơ quan, đơn vị", 4.2),
    ("Tổng số", 1.2),
    ("HT đúng hạn", 1.4),
    ("HT quá hạn", 1.4),
    ("Đang thực hiện trong hạn", 1.5),
    ("Quá hạn chưa HT", 1.4),
    ("Thường xuyên", 1.4),
    ("Chờ HD/ĐK", 1.2),
    ("Tỷ lệ HT (%)", 1.4),
)
APPENDIX_COLUMNS: tuple[tuple[str, float], ...] = (
    ("TT", 1.0),
    ("Kế hoạch", 2.2),
    ("Nhiệm vụ", 5.6),
    ("Cơ quan, đơn vị", 3.2),
    ("Vai trò", 1.6),
    ("Thời hạn", 2.8),
    ("Tình trạng", 2.4),
    ("Tiến độ (%)", 1.3),
    ("Báo cáo gần nhất", 3.6),
    ("Khó khăn, vướng mắc", 2.5),
)
# At most this many overdue or blocked lines are written out in section II; the rest are counted
# and left to the appendix.
LIST_LIMIT = 30


def _percent(share: float) -> str:
    """A share as Vietnamese write it: 0.455 -> "45,5"."""
    return f"{share * 100:.1f}".replace(".", ",")


def document_date(day: date) -> str:
    """ "ngày 05 tháng 02 năm 2024": Nghị định 30/2020 pads days below 10 and months 1 and 2."""
    month = f"{day.month:02d}" if day.month <= 2 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def _style_document(document: Document) -> None:
    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = BODY_SIZE
    # Word picks the east-Asian font slot for some Vietnamese text; name it too.
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin, section.bottom_margin = Cm(2), Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(2)


def _paragraph(
    where: Document | _Cell,
    text: str = "",
    *,
    bold: bool = False,
    italic: bool = False,
    size: Pt | None = None,
    align: WD_ALIGN_PARAGRAPH | None = WD_ALIGN_PARAGRAPH.JUSTIFY,
    indent: bool = False,
    space_after: int = 0,
) -> Paragraph:
    paragraph = where.add_paragraph()
    paragraph.alignment = align
    paragraph.paragraph_format.space_after = Pt(space_after)
    if indent:
        paragraph.paragraph_format.first_line_indent = Cm(1)
    if text:
        run = paragraph.add_run(printable(text))
        run.bold = bold
        run.italic = italic
        if size is not None:
            run.font.size = size
    return paragraph


def _body(document: Document, text: str, *, bold: bool = False, italic: bool = False) -> None:
    _paragraph(document, text, bold=bold, italic=italic, indent=True, space_after=6)


def _cell_lines(cell: _Cell, lines: Sequence[tuple[str, bool, bool, Pt]]) -> None:
    """Fill a heading or signature cell with centred lines of (text, bold, italic, size)."""
    cell._tc.remove(cell.paragraphs[0]._p)  # start without the empty paragraph a cell is born with
    for text, bold, italic, size in lines:
        _paragraph(cell, text, bold=bold, italic=italic, size=size, align=WD_ALIGN_PARAGRAPH.CENTER)


def _heading_block(document: Document, meta: ReportMeta) -> None:
    table = document.add_table(rows=2, cols=2)
    table.autofit = False
    widths = (Cm(6.5), Cm(9.5))
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = width
    left, right = table.rows[0].cells
    _cell_lines(
        left,
        [
            (meta.issuer.upper(), False, False, Pt(13)),
            (meta.coordinator_name.upper(), True, False, Pt(13)),
        ],
    )
    _cell_lines(
        right,
        [
            ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", True, False, Pt(12)),
            ("Độc lập - Tự do - Hạnh phúc", True, False, Pt(13)),
        ],
    )
    number, place = table.rows[1].cells
    suffix = meta.coordinator_code or "..."
    _cell_lines(number, [(f"Số:       /BC-{suffix}", False, False, Pt(13))])
    _cell_lines(place, [(f"{meta.place}, {document_date(meta.at)}", False, True, Pt(13))])


def _title(document: Document, meta: ReportMeta) -> None:
    _paragraph(document, "", space_after=6)
    for text in ("BÁO CÁO", f"Kết quả thực hiện Kế hoạch số {meta.plan_number}", meta.plan_title):
        if text:
            _paragraph(document, text, bold=True, size=TITLE_SIZE, align=WD_ALIGN_PARAGRAPH.CENTER)
    _paragraph(document, "", space_after=6)


def _xml_text(text: str) -> str:
    return printable(text).strip()


def _table(
    document: Document,
    columns: Sequence[tuple[str, float]],
    rows: Iterable[Sequence[str]],
    *,
    centred: Iterable[int] = (),
) -> None:
    """A bordered table with a bold header row repeated on every page, filled from ``rows``."""
    table = document.add_table(rows=2, cols=len(columns))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    centre = set(centred)
    header, template = table.rows
    for i, ((title, width), head, cell) in enumerate(
        zip(columns, header.cells, template.cells, strict=True)
    ):
        for c in (head, cell):
            c.width = Cm(width)
        run = head.paragraphs[0].add_run(title)
        run.bold = True
        run.font.size = TABLE_SIZE
        head.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = cell.paragraphs[0].add_run()
        run.font.size = TABLE_SIZE
        run._r.add_t("")  # the w:t each copy of the prepared row gets its text in
        if i in centre:
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    header._tr.get_or_add_trPr().append(repeat)

    prepared = template._tr
    body = prepared.getparent()
    body.remove(prepared)
    for values in rows:
        tr = deepcopy(prepared)
        for t, value in zip(tr.iter(qn("w:t")), values, strict=True):
            t.text = _xml_text(value)
        body.append(tr)


def _official_sentences(document: Document, lines: Sequence[StatusLine]) -> None:
    total: Counter[State] = Counter(line.result.counted_as for line in lines)
    states: Counter[State] = Counter(line.result.state for line in lines)
    agencies = len({line.agency for line in lines})
    shares = rates(total)
    _body(
        document,
        f"1. Tổng số {len(lines)} lượt nhiệm vụ giao cho {agencies} cơ quan, đơn vị chủ trì, "
        "phối hợp thực hiện. Trong đó:",
    )
    for state in OFFICIAL_STATES:
        _body(
            document,
            f"- {label(state)}: {total[state]} nhiệm vụ (tỷ lệ {_percent(shares[state])}%);",
        )
    _body(
        document,
        f"- Nhiệm vụ thực hiện thường xuyên: {total[State.CONTINUOUS]}; nhiệm vụ chờ hướng dẫn "
        f"hoặc chờ đủ điều kiện thực hiện: {total[State.WAITING]} (không tính vào tỷ lệ).",
    )
    _body(document, f"Tỷ lệ nhiệm vụ đã hoàn thành: {_percent(done_rate(total))}%.")
    waiting_note = []
    if states[State.AWAITING_CONFIRMATION]:
        waiting_note.append(
            f"{states[State.AWAITING_CONFIRMATION]} nhiệm vụ đã được báo cáo hoàn thành, đang chờ "
            "xác nhận (chưa tính là hoàn thành)"
        )
    if states[State.NO_ANSWER]:
        waiting_note.append(f"{states[State.NO_ANSWER]} nhiệm vụ trong hạn chưa có báo cáo")
    if waiting_note:
        _body(document, "Ngoài ra, có " + "; ".join(waiting_note) + ".")


def _summary_table(document: Document, lines: Sequence[StatusLine]) -> None:
    _body(document, "2. Kết quả thực hiện của từng cơ quan, đơn vị:")
    rows = [
        [
            str(number),
            agency,
            str(sum(counter.values())),
            *(str(counter[state]) for state in (*OFFICIAL_STATES, State.CONTINUOUS, State.WAITING)),
            _percent(done_rate(counter)),
        ]
        for number, (agency, counter) in enumerate(counts_by_agency(lines).items(), start=1)
    ]
    _table(document, SUMMARY_COLUMNS, rows, centred=range(2, len(SUMMARY_COLUMNS)))
    _paragraph(document, "", space_after=6)


def _who(line: StatusLine) -> str:
    return f"{line.agency}: nhiệm vụ {line.task} (Kế hoạch số {line.plan}) «{line.title}»"


def _bullets(document: Document, items: Sequence[str], more: int) -> None:
    for i, item in enumerate(items):
        last = i == len(items) - 1 and not more
        _body(document, f"- {item}{'.' if last else ';'}")
    if more:
        _body(document, f"(Và {more} nhiệm vụ khác, chi tiết tại Phụ lục kèm theo.)", italic=True)


def _shortcomings(document: Document, lines: Sequence[StatusLine]) -> None:
    late = overdue_list(lines)
    if late:
        _body(document, f"1. Còn {len(late)} nhiệm vụ quá hạn chưa hoàn thành, gồm:")
        items = []
        for line in late[:LIST_LIMIT]:
            due = f", hạn {dmy(line.due)}" if line.due is not None else ""
            item = f"{_who(line)}{due}, quá hạn {line.result.days_overdue} ngày"
            if line.result.state is State.AWAITING_CONFIRMATION:
                item += " (đã báo cáo hoàn thành, đang chờ xác nhận)"
            items.append(item)
        _bullets(document, items, len(late) - LIST_LIMIT if len(late) > LIST_LIMIT else 0)
    else:
        _body(document, "1. Không có nhiệm vụ quá hạn chưa hoàn thành.")
    stuck = blocked(lines)
    if stuck:
        _body(document, "2. Khó khăn, vướng mắc do các cơ quan, đơn vị báo cáo:")
        items = [f"{_who(line)}: {line.result.blocker}" for line in stuck[:LIST_LIMIT]]
        _bullets(document, items, len(stuck) - LIST_LIMIT if len(stuck) > LIST_LIMIT else 0)
    else:
        _body(document, "2. Các cơ quan, đơn vị chưa báo cáo khó khăn, vướng mắc.")


def _signature_block(document: Document, meta: ReportMeta) -> None:
    _body(
        document,
        f"Trên đây là báo cáo kết quả thực hiện Kế hoạch số {meta.plan_number}, "
        f"{meta.coordinator_name} kính báo cáo {meta.issuer} xem xét, chỉ đạo./.",
    )
    table = document.add_table(rows=1, cols=2)
    table.autofit = False
    recipients, signer = table.rows[0].cells
    recipients.width, signer.width = Cm(8), Cm(8)
    recipients._tc.remove(recipients.paragraphs[0]._p)
    _paragraph(recipients, "Nơi nhận:", bold=True, italic=True, size=Pt(12), align=None)
    for text in (
        f"- {meta.issuer} (để báo cáo);",
        "- Các cơ quan, đơn vị liên quan;",
        "- Lưu: VT.",
    ):
        _paragraph(recipients, text, size=Pt(11), align=None)
    _cell_lines(
        signer,
        [
            ("[CHỨC VỤ NGƯỜI KÝ]", True, False, Pt(13)),
            ("(Ký, ghi rõ họ tên và đóng dấu)", False, True, Pt(13)),
            ("", False, False, Pt(13)),
            ("", False, False, Pt(13)),
            ("", False, False, Pt(13)),
            ("[Họ và tên]", True, False, Pt(13)),
        ],
    )


def _appendix_row(line: StatusLine) -> list[str]:
    plan, task, title, agency, role, deadline, due, state, percent, reported_on, text, blocker = (
        detail_row(line)
    )
    if due is not None:
        deadline += f" (hạn {dmy(due)})"
    last = f"{dmy(reported_on)}: {text}" if reported_on is not None else ""
    shown = "" if percent is None else str(percent)
    return [task, plan, title, agency, role, deadline, state, shown, last, blocker]


def _appendix(document: Document, lines: Sequence[StatusLine], meta: ReportMeta) -> None:
    section = document.add_section(WD_SECTION.NEW_PAGE)
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21)
    section.left_margin, section.right_margin = Cm(2), Cm(1.5)
    center = WD_ALIGN_PARAGRAPH.CENTER
    _paragraph(document, "PHỤ LỤC", bold=True, size=TITLE_SIZE, align=center)
    _paragraph(document, "Chi tiết tình hình thực hiện nhiệm vụ", bold=True, align=center)
    _paragraph(
        document,
        f"(Kèm theo Báo cáo số       /BC-{meta.coordinator_code or '...'} "
        f"ngày     /     /{meta.at.year} của {meta.coordinator_name})",
        italic=True,
        align=center,
        space_after=6,
    )
    _table(document, APPENDIX_COLUMNS, map(_appendix_row, lines), centred=(0, 4, 7))


def build_docx(lines: Sequence[StatusLine], meta: ReportMeta) -> bytes:
    """The draft report as .docx bytes."""
    document = new_document()
    _style_document(document)
    document.core_properties.title = f"Báo cáo kết quả thực hiện Kế hoạch số {meta.plan_number}"
    document.core_properties.author = meta.coordinator_name
    _heading_block(document, meta)
    _title(document, meta)
    _body(
        document,
        f"Thực hiện Kế hoạch số {meta.plan_number} của {meta.issuer} {meta.plan_title}, "
        f"{meta.coordinator_name} báo cáo kết quả thực hiện tính đến ngày {dmy(meta.at)} "
        "như sau:",
    )
    _body(document, "I. KẾT QUẢ THỰC HIỆN", bold=True)
    _official_sentences(document, lines)
    _summary_table(document, lines)
    _body(document, "II. TỒN TẠI, HẠN CHẾ", bold=True)
    _shortcomings(document, lines)
    _body(document, "III. ĐỀ XUẤT, KIẾN NGHỊ", bold=True)
    _body(document, RECOMMENDATION_PLACEHOLDER, italic=True)
    _signature_block(document, meta)
    _appendix(document, lines, meta)
    out = BytesIO()
    document.save(out)
    return out.getvalue()
