"""Reading a plan (Kế hoạch): its metadata, its appendix task table and its reporting duty.

File formats are read at the edge (app/plan_files.py) into a ``PlanSource``: the paragraphs and
tables of the document, as text. Everything here is pure: ``parse_plan(source)`` finds the task
table by its header words, skips the column-number row and repeated headers, keeps section rows as
groups, and returns every task row with its location in the file, so that warnings can name it.
"""

import re
from dataclasses import dataclass, field
from datetime import date
from enum import Enum

from domain.deadlines import Frequency
from domain.text import fold, nfc


class PlanFormatError(ValueError):
    """The file holds no readable task table. The message names the file and what was looked for."""


@dataclass(frozen=True, slots=True)
class SourceTable:
    """A table as text cells.

    ``locations[i]`` names where row i is in the file ("dòng 57", "Sheet1!5").
    """

    rows: tuple[tuple[str, ...], ...]
    locations: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PlanSource:
    name: str  # the file name, for messages
    paragraphs: tuple[str, ...]  # text outside tables, in document order
    tables: tuple[SourceTable, ...]


@dataclass(frozen=True, slots=True)
class PlanMeta:
    number: str | None  # "289/KH-UBND" (spaces removed: "289 /KH-UBND" -> "289/KH-UBND")
    issued_on: date | None  # 2023-04-26
    issuer: str | None  # "UBND tỉnh Nghệ An"
    title: str | None  # the line(s) after "KẾ HOẠCH"


@dataclass(frozen=True, slots=True)
class TaskRow:
    location: str  # where the row is, for warnings: "dòng 57" / "Sheet1!5" / "bảng 1, hàng 3"
    number: str  # the TT cell: "1", "2", "1.1"; the location when the cell is empty
    title: str
    deadline_text: str
    lead_text: str
    support_text: str
    product: str = ""
    note: str = ""
    section: str | None = None  # the group heading the row is under ("I. Công tác tổ chức")


@dataclass(frozen=True, slots=True)
class ReportingDuty:
    """'định kỳ hàng năm ... báo cáo kết quả thực hiện về Sở Nội vụ' as data."""

    text: str  # the sentence it was read from
    recipient_text: str  # "Sở Nội vụ"
    frequency: Frequency
    due_month: int | None = None  # when the text names a day ("trước ngày 15/12 hằng năm")
    due_day: int | None = None


@dataclass(frozen=True, slots=True)
class ParsedPlan:
    source: str  # file name
    meta: PlanMeta
    rows: tuple[TaskRow, ...]
    sections: tuple[str, ...] = ()
    duty: ReportingDuty | None = None
    warnings: tuple[str, ...] = field(default=())


# --- the parser ------------------------------------------------------------------------------


class _Column(Enum):
    NUMBER = "number"
    TASK = "task"
    DEADLINE = "deadline"
    LEAD = "lead"
    SUPPORT = "support"
    PRODUCT = "product"
    NOTE = "note"


_NO_TABLE = (
    "{name}: không tìm thấy bảng nhiệm vụ (cần một hàng tiêu đề có cột 'Nhiệm vụ/Nội dung' "
    "và cột 'Cơ quan chủ trì')"
)

# Header cells are short labels; a longer cell is a task that happens to contain a header word.
_MAX_HEADER_WORDS = 8
_NUMBER_HEADERS = frozenset({"tt", "stt", "so tt", "so thu tu", "thu tu"})
_HEADER_PREFIXES: tuple[tuple[_Column, tuple[str, ...]], ...] = (
    (_Column.DEADLINE, ("thoi gian", "thoi han", "tien do", "moc thoi gian")),
    (_Column.PRODUCT, ("san pham", "ket qua")),
    (_Column.NOTE, ("ghi chu",)),
    (
        _Column.TASK,
        ("nhiem vu", "noi dung", "ten nhiem vu", "cong viec", "ten de an", "ten cong viec"),
    ),
)
_PUNCTUATION = re.compile(r"[^\w\s]")

_COLUMN_NUMBER = re.compile(r"\(?(\d{1,2})\)?")
_SECTION_NUMBER = re.compile(r"([IVXLC]+|[A-ZĐ])[.)]?")
_ROMAN = re.compile(r"(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})")
_PLAIN_NUMBER = re.compile(r"\d+(?:\.\d+)*\.?")


@dataclass(frozen=True, slots=True)
class _Header:
    columns: dict[_Column, int]  # the first column holding each role
    width: int

    def cell(self, cells: tuple[str, ...], column: _Column) -> str:
        index = self.columns.get(column)
        return cells[index] if index is not None and index < len(cells) else ""

    def same_as(self, other: "_Header | None") -> bool:
        """The same columns in the same order, wherever the table starts (a sheet may shift it)."""
        return other is not None and _layout(self) == _layout(other)


def _layout(header: _Header) -> list[_Column]:
    return sorted(header.columns, key=header.columns.__getitem__)


def parse_plan(source: PlanSource) -> ParsedPlan:
    """Read the metadata, task rows, sections and reporting duty of a plan.

    Raises ``PlanFormatError`` when no table has a header row with a task and a lead column.
    """
    reader = _TableReader()
    for table in source.tables:
        reader.read(table)
    if not reader.found_header:
        raise PlanFormatError(_NO_TABLE.format(name=source.name))
    if not reader.rows:
        reader.warnings.append("bảng nhiệm vụ có hàng tiêu đề nhưng không có hàng nhiệm vụ nào")
    texts = (*source.paragraphs, *reader.loose_cells)
    lines = [clean for text in texts for line in text.splitlines() if (clean := nfc(line))]
    return ParsedPlan(
        source=source.name,
        meta=_meta(lines),
        rows=tuple(reader.rows),
        sections=tuple(reader.sections),
        duty=_duty(lines),
        warnings=tuple(reader.warnings),
    )


class _TableReader:
    """Walks the tables in order, keeping the current header across tables and page breaks."""

    def __init__(self) -> None:
        self.header: _Header | None = None
        self.section: str | None = None
        self.found_header = False
        self.rows: list[TaskRow] = []
        self.sections: list[str] = []
        self.warnings: list[str] = []
        self.loose_cells: list[str] = []  # text of rows outside task tables: letterheads, titles

    def read(self, table: SourceTable) -> None:
        rows = table.rows
        if self.header is not None and not self._continues(rows):
            self.header = None
        index = 0
        while index < len(rows):
            found = _header_at(rows, index)
            if found is not None:
                header, used = found
                if not header.same_as(self.header):
                    self.section = None
                self.header, self.found_header = header, True
                index += used
                continue
            self._read_row(rows[index], table.locations[index])
            index += 1

    def _continues(self, rows: tuple[tuple[str, ...], ...]) -> bool:
        """A table without its own header continues the task list when it has the same width."""
        assert self.header is not None
        for index, row in enumerate(rows):
            if any(cell.strip() for cell in row):
                return _header_at(rows, index) is not None or len(row) == self.header.width
        return True

    def _read_row(self, raw: tuple[str, ...], location: str) -> None:
        if self.header is None:
            self.loose_cells.extend(raw)
            return
        cells = tuple(nfc(cell) for cell in raw)
        if not any(cells) or _is_column_numbers(cells):
            return
        section = _section_of(cells, self.header)
        if section is not None:
            self.section = section
            if section not in self.sections:
                self.sections.append(section)
            return
        self._check_width(cells, location)
        header = self.header
        self.rows.append(
            TaskRow(
                location=location,
                number=header.cell(cells, _Column.NUMBER).rstrip(".)") or location,
                title=header.cell(cells, _Column.TASK),
                deadline_text=header.cell(cells, _Column.DEADLINE),
                lead_text=header.cell(cells, _Column.LEAD),
                support_text=header.cell(cells, _Column.SUPPORT),
                product=header.cell(cells, _Column.PRODUCT),
                note=header.cell(cells, _Column.NOTE),
                section=self.section,
            )
        )

    def _check_width(self, cells: tuple[str, ...], location: str) -> None:
        assert self.header is not None
        width = self.header.width
        if len(cells) < width:
            self.warnings.append(
                f"{location}: hàng có {len(cells)} ô, ít hơn {width} ô của hàng tiêu đề; "
                "các ô thiếu được coi là để trống"
            )
        elif any(cells[width:]):
            self.warnings.append(
                f"{location}: hàng có {len(cells)} ô, nhiều hơn {width} ô của hàng tiêu đề; "
                "nội dung các ô thừa bị bỏ qua"
            )


def _header_key(cell: str) -> str:
    return " ".join(_PUNCTUATION.sub(" ", fold(cell)).split())


def _column_of(cell: str) -> _Column | None:
    key = _header_key(cell)
    words = key.split()
    if not words or len(words) > _MAX_HEADER_WORDS:
        return None
    if key in _NUMBER_HEADERS:
        return _Column.NUMBER
    padded = f" {key} "
    # "Cơ quan thực hiện - Chủ trì": the role word decides, wherever it stands.
    if " chu tri " in padded:
        return _Column.LEAD
    if " phoi hop " in padded:
        return _Column.SUPPORT
    for column, prefixes in _HEADER_PREFIXES:
        if any(key == prefix or key.startswith(prefix + " ") for prefix in prefixes):
            return column
    return None


def _header_from(cells: tuple[str, ...]) -> _Header | None:
    columns: dict[_Column, int] = {}
    for index, cell in enumerate(cells):
        column = _column_of(cell)
        if column is not None and column not in columns:
            columns[column] = index
    if _Column.TASK in columns and _Column.LEAD in columns:
        return _Header(columns=columns, width=len(cells))
    return None


def _header_at(rows: tuple[tuple[str, ...], ...], index: int) -> tuple[_Header, int] | None:
    """The header starting at ``rows[index]`` and how many rows it takes (1, or 2 when merged)."""
    first = rows[index]
    if index + 1 < len(rows) and _is_sub_header(first, rows[index + 1]):
        second = rows[index + 1]
        width = max(len(first), len(second))
        padded_first = first + ("",) * (width - len(first))
        padded_second = second + ("",) * (width - len(second))
        combined = tuple(_combine(a, b) for a, b in zip(padded_first, padded_second, strict=True))
        header = _header_from(combined)
        if header is not None:
            return header, 2
    header = _header_from(first)
    return None if header is None else (header, 1)


def _is_sub_header(above: tuple[str, ...], row: tuple[str, ...]) -> bool:
    """Whether ``row`` holds sub-headers ("Chủ trì" | "Phối hợp") under merged cells of ``above``.

    Word repeats a merged cell's text in each row and column it spans; Excel leaves them empty.
    """
    if len({c for c in (_column_of(cell) for cell in above) if c is not None}) < 2:
        return False
    new_labels = 0
    for position, cell in enumerate(row):
        text = nfc(cell)
        if not text:
            continue
        over = above[position] if position < len(above) else ""
        if fold(text) == fold(over):
            continue
        if _column_of(text) is None:
            return False
        new_labels += 1
    return new_labels > 0


def _combine(above: str, below: str) -> str:
    above, below = nfc(above), nfc(below)
    if not below or fold(above) == fold(below):
        return above
    return f"{above} {below}".strip()


def _is_column_numbers(cells: tuple[str, ...]) -> bool:
    """The "(1) (2) (3) ..." or "1 2 3 ..." row printed under a header."""
    values = [cell for cell in cells if cell]
    if len(values) < min(3, len(cells)):
        return False
    numbers: list[int] = []
    for value in values:
        match = _COLUMN_NUMBER.fullmatch(value)
        if match is None:
            return False
        numbers.append(int(match.group(1)))
    return numbers == list(range(numbers[0], numbers[0] + len(numbers))) and numbers[0] <= 1


def _is_section_number(text: str) -> bool:
    match = _SECTION_NUMBER.fullmatch(text)
    if match is None:
        return False
    token = match.group(1)
    return len(token) == 1 or _ROMAN.fullmatch(token) is not None


def _section_of(cells: tuple[str, ...], header: _Header) -> str | None:
    """The heading a row carries, or None when the row is a task."""
    number = header.cell(cells, _Column.NUMBER)
    if number and _is_section_number(number):
        number_index = header.columns[_Column.NUMBER]
        others = [cell for index, cell in enumerate(cells) if index != number_index and cell]
        title = header.cell(cells, _Column.TASK) or (others[0] if others else "")
        label = number.rstrip(".)")
        return f"{label}. {title}" if title else label
    filled = [index for index, cell in enumerate(cells) if cell]
    if len({cells[index] for index in filled}) != 1:
        return None
    heading = cells[filled[0]]
    if len(filled) > 1:  # Word repeats a merged cell's text in every column it spans
        return heading
    # Excel and CSV keep a merged heading in its first cell, left of or at the task column; a lone
    # cell further right (only a lead agency) is a task row with its title missing.
    leftmost_heading_cell = header.columns[_Column.TASK]
    if filled[0] <= leftmost_heading_cell and _PLAIN_NUMBER.fullmatch(heading) is None:
        return heading
    return None


# --- metadata ---------------------------------------------------------------------------------

_DOCUMENT_NUMBER = re.compile(
    r"^s[ốo]\s*[:.]?\s*(?P<number>\d[\w.]*)\s*/\s*(?P<code>[\w&.-]+(?:\s*[/-]\s*[\w&.]+)*)",
    re.IGNORECASE,
)
_ANNEXED_NUMBER = re.compile(
    r"kế hoạch số\s*(?P<number>\d[\w.]*)\s*/\s*(?P<code>[\w&.-]+(?:\s*[/-]\s*[\w&.]+)*)",
    re.IGNORECASE,
)
_DATE_IN_WORDS = re.compile(r"ngay\s*(\d{1,2})\s*thang\s*(\d{1,2})\s*nam\s*(\d{4})")
_DATE_IN_FIGURES = re.compile(r"ngay\s*(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})")
_PLACE_AND_DATE = re.compile(r"^([^,\d]{2,40}),\s*ngay\b")
_COMMITTEE = re.compile(r"^(?:uy ban nhan dan|ubnd)(?: (tinh|thanh pho)(?: (.+))?)?$")
_COMMITTEE_LEVEL = re.compile(r"^(tinh|thanh pho) (.+)$")
_COMMITTEE_MENTION = re.compile(r"\b(?:uy ban nhan dan|ubnd) (tinh|thanh pho)\b")
# Lines where a committee named without its place is the plan's issuer.
_ISSUER_CUES = ("kem theo", "ban hanh ke hoach")
_LEVELS = {"tinh": "tỉnh", "thanh pho": "thành phố"}
_HAS_LETTER = re.compile(r"[^\W\d_]")


def _meta(lines: list[str]) -> PlanMeta:
    issued_on, place = _issue_date(lines)
    return PlanMeta(
        number=_number(lines),
        issued_on=issued_on,
        issuer=_issuer(lines, place),
        title=_title(lines),
    )


def _number(lines: list[str]) -> str | None:
    """The "Số: 289 /KH-UBND" line; else the plan number the appendix says it belongs to."""
    found = next((m for line in lines if (m := _DOCUMENT_NUMBER.match(line))), None)
    if found is None:
        annexed = (line for line in lines if "kem theo" in fold(line))
        found = next((m for line in annexed if (m := _ANNEXED_NUMBER.search(line))), None)
    if found is None:
        return None
    code = re.sub(r"\s+", "", found.group("code")).rstrip(".-")
    return f"{found.group('number')}/{code}"


def _valid_date(day: str, month: str, year: str) -> date | None:
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _issue_date(lines: list[str]) -> tuple[date | None, str | None]:
    """The plan's date and the place written before it ("Nghệ An, ngày 26 tháng 4 năm 2023")."""
    for line in lines:
        folded = fold(line)
        if _PLACE_AND_DATE.match(folded) is None:
            continue
        match = _DATE_IN_WORDS.search(folded) or _DATE_IN_FIGURES.search(folded)
        if match is not None and (found := _valid_date(*match.groups())) is not None:
            return found, line.split(",", 1)[0].strip()
    fallbacks = (
        (_DATE_IN_WORDS, ""),
        # "(Ban hành kèm theo Kế hoạch số 289/KH-UBND ngày 26/4/2023 của UBND tỉnh)"
        (_DATE_IN_FIGURES, "kem theo ke hoach so"),
    )
    for pattern, wanted in fallbacks:
        for line in lines:
            folded = fold(line)
            match = pattern.search(folded) if wanted in folded else None
            if match is not None and (found := _valid_date(*match.groups())) is not None:
                return found, None
    return None, None


def _committee(level: str, place: str | None) -> str:
    if not place:
        return f"UBND {_LEVELS[level]}"
    return f"UBND {_LEVELS[level]} {place.title() if place.isupper() else place}"


def _original_tail(line: str, folded_words: int) -> str:
    """The words of ``line`` after its first ``folded_words`` words, with their diacritics."""
    return " ".join(nfc(line).split()[folded_words:])


def _issuer(lines: list[str], place: str | None) -> str | None:
    """The committee named in the letterhead, else the one the appendix or the body names."""
    for index, line in enumerate(lines):
        folded = fold(line)
        match = _COMMITTEE.match(folded)
        if match is None:
            continue
        level, rest = match.group(1), match.group(2)
        if level is not None and rest is not None:
            return _committee(level, _original_tail(line, len(folded.split()) - len(rest.split())))
        if level is None and index + 1 < len(lines):
            below = _COMMITTEE_LEVEL.match(fold(lines[index + 1]))
            if below is not None:
                level_words = len(below.group(1).split())
                return _committee(below.group(1), _original_tail(lines[index + 1], level_words))
    for line in lines:
        folded = fold(line)
        mention = _COMMITTEE_MENTION.search(folded)
        if mention is not None and any(cue in folded for cue in _ISSUER_CUES):
            return _committee(mention.group(1), place)
    return None


def _title(lines: list[str]) -> str | None:
    """The line after the "KẾ HOẠCH" heading (or the rest of that line)."""
    for index, line in enumerate(lines):
        folded = fold(line)
        if folded == "ke hoach":
            following = (text for text in lines[index + 1 :] if _HAS_LETTER.search(text))
            return next(following, None)
        if folded.startswith("ke hoach ") and line[:8].isupper():
            return line[8:].strip(" :-") or None
    return None


# --- reporting duty ---------------------------------------------------------------------------

_CLAUSE_BREAK = re.compile(r";|(?<=\.)\s+")
_REPORT = re.compile(r"báo cáo", re.IGNORECASE)
_TO_RECIPIENT = re.compile(r"\s(?:về|gửi|gởi)\s+(?P<who>[^.;()]+)", re.IGNORECASE)
_THROUGH_RECIPIENT = re.compile(r"\(\s*qua\s+(?P<who>[^)]+)\)", re.IGNORECASE)
_RECIPIENT_END = re.compile(
    r"\s+(?:để|trước|chậm nhất|theo|qua|trong|vào|tổng hợp|định kỳ|hằng|hàng)\b", re.IGNORECASE
)
# "về Sở Văn hóa, Thể thao và Du lịch, đồng thời ...": a comma before a lower-case word ends it.
_COMMA_BEFORE_WORD = re.compile(r",\s*(?=[^\W\d_])")
_AGENCY_STARTS = (
    "so ", "ban ", "van phong", "ubnd", "uy ban", "bo ", "thanh tra", "phong ", "trung tam",
    "chu tich", "tinh uy", "hdnd", "hoi dong", "cong an", "co quan", "don vi",
)  # fmt: skip
_FREQUENCIES: tuple[tuple[Frequency, re.Pattern[str]], ...] = (
    # The most frequent first: "định kỳ 6 tháng, hằng năm" asks for a report every half year.
    (Frequency.MONTHLY, re.compile(r"\b(?:hang|moi) thang\b")),
    (Frequency.QUARTERLY, re.compile(r"\b(?:hang|moi|tung) quy\b|\bdinh ky quy\b")),
    (Frequency.HALF_YEARLY, re.compile(r"\b(?:6|sau) thang\b|\bnua nam\b")),
    (Frequency.YEARLY, re.compile(r"\b(?:hang|moi) nam\b|\bdinh ky nam\b")),
)
_DUE = re.compile(
    r"\b(?:truoc|cham nhat|han cuoi|vao) (?:ngay )?(\d{1,2})"
    r"(?:\s*/\s*(\d{1,2})|\s+thang\s+(\d{1,2}))?"
)


def _duty(lines: list[str]) -> ReportingDuty | None:
    """The first clause that asks for a periodic report and names who receives it."""
    for line in lines:
        for raw in _CLAUSE_BREAK.split(line):
            clause = raw.strip(" -+.")
            report = _REPORT.search(clause)
            if report is None:
                continue
            frequency = _frequency(fold(clause))
            recipient = _recipient(clause, report.end())
            if frequency is None or recipient is None:
                continue
            month, day = _due_day(fold(clause))
            return ReportingDuty(
                text=clause,
                recipient_text=recipient,
                frequency=frequency,
                due_month=month,
                due_day=day,
            )
    return None


def _frequency(folded: str) -> Frequency | None:
    return next((freq for freq, pattern in _FREQUENCIES if pattern.search(folded)), None)


def _recipient(clause: str, after: int) -> str | None:
    candidates = [m.group("who") for m in _THROUGH_RECIPIENT.finditer(clause)]
    candidates += [m.group("who") for m in _TO_RECIPIENT.finditer(clause, after)]
    for candidate in candidates:
        who = _RECIPIENT_END.split(candidate, maxsplit=1)[0]
        for comma in _COMMA_BEFORE_WORD.finditer(who):
            if who[comma.end()].islower():
                who = who[: comma.start()]
                break
        who = who.strip(" ,:")
        if fold(who).startswith(_AGENCY_STARTS):
            return who
    return None


def _due_day(folded: str) -> tuple[int | None, int | None]:
    match = _DUE.search(folded)
    if match is None:
        return None, None
    day = int(match.group(1))
    month_text = match.group(2) or match.group(3)
    month = int(month_text) if month_text else None
    # A leap year accepts 29/2; any real day of that month is accepted.
    if _valid_date(str(day), str(month or 1), "2024") is None:
        return None, None
    return month, day
