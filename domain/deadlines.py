"""Typed deadlines read from the free-text deadline column of a plan appendix.

See ../shared/domain/deadline-grammar.md for the kinds. General date parsers misread almost every
such cell, so the parser below the types is a small grammar of its own: ordered tables of named
rules over folded text, which a new form extends by one row. ``describe`` gives people a label.
"""

import calendar
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum
from functools import lru_cache

from domain.text import fold, nfc, strip_diacritics


class DeadlineKind(StrEnum):
    FIXED = "fixed"
    PERIOD_END = "period_end"
    RECURRING = "recurring"
    RANGE = "range"
    CONTINUOUS = "continuous"
    CONDITIONAL = "conditional"
    UNKNOWN = "unknown"


class Frequency(StrEnum):
    YEARLY = "yearly"
    HALF_YEARLY = "half_yearly"
    QUARTERLY = "quarterly"
    MONTHLY = "monthly"


@dataclass(frozen=True, slots=True)
class Deadline:
    """One deadline cell, typed.

    - FIXED / PERIOD_END: ``due`` is the day.
    - RANGE: ``start`` .. ``due`` (due at its end).
    - RECURRING: ``frequency`` from ``start`` (first day of the first period), first due ``due``,
      last period ending on or before ``until`` (None: open-ended). ``anchor_month``/``anchor_day``
      give the due day inside each period when the text names one ("Trước ngày 15/12 hằng năm":
      month 12, day 15; "ngày 20 hằng tháng": day 20); otherwise each period is due on its last day.
    - CONTINUOUS: no due date.
    - CONDITIONAL: ``precondition`` is the text of the condition; the other fields describe the soft
      deadline ("Năm 2024, sau khi ..." -> due 2024-12-31, ``soft_kind`` PERIOD_END), or are empty.
    - UNKNOWN: only ``text``.
    ``text`` always keeps the original cell, as written.
    """

    kind: DeadlineKind
    text: str
    due: date | None = None
    start: date | None = None
    until: date | None = None
    frequency: Frequency | None = None
    anchor_month: int | None = None
    anchor_day: int | None = None
    precondition: str | None = None
    soft_kind: DeadlineKind | None = None


# --- The grammar -----------------------------------------------------------------------------
#
# Everything below works on folded text (domain.text.fold: lower case, no diacritics, single
# spaces), normalised once more so that dashes, "quí" and spaces around "/" and "-" stop mattering.
# Three small tables carry the grammar, each tried in order, the first match owning the text:
#   _TERMS      one day or one calendar period ("30/6/2024", "quy ii/2024", "nam 2024");
#   _MODIFIERS  prefixes that shift a term ("truoc", "dau", "cuoi", "trong");
#   _RULES      whole phrases (continuous, recurring, a day or period, a range).
# Conditions ("sau khi ...") are cut out first and wrap whatever the rest reads as.
# A new form is added as one row in the right table, with a row in the test table.

_MIN_YEAR, _MAX_YEAR = 1900, 2100
# A leap year, so that an anchor read as "the end of February" is the 29th, which readers clamp.
_ANCHOR_YEAR = 2000
_MAX_RANGE_SEPARATORS = 8
_MAX_MODIFIERS = 3
# How a missing year is appended to a term: "quy ii" + "/2024", "thang 6" + " nam 2024", ...
_YEAR_JOINS = ("/", " nam ", " ")


class _Unit(StrEnum):
    DAY = "day"
    TEN_DAYS = "ten_days"
    MONTH = "month"
    QUARTER = "quarter"
    HALF = "half"
    YEAR = "year"


_MONTHS_IN = {_Unit.MONTH: 1, _Unit.QUARTER: 3, _Unit.HALF: 6, _Unit.YEAR: 12}


@dataclass(frozen=True, slots=True)
class _Span:
    """A stretch of days read from a term; ``unit`` tells what kind of period it is."""

    start: date
    end: date
    unit: _Unit


def _day(year: int, month: int, day: int) -> date | None:
    """The date, or None when it does not exist or lies outside the years plans talk about."""
    if not (_MIN_YEAR <= year <= _MAX_YEAR and 1 <= month <= 12):
        return None
    if not 1 <= day <= calendar.monthrange(year, month)[1]:
        return None
    return date(year, month, day)


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _containing(unit: _Unit, day: date) -> _Span:
    """The period of kind `unit` that holds `day`."""
    if unit is _Unit.DAY:
        return _Span(day, day, unit)
    if unit is _Unit.TEN_DAYS:
        first = min((day.day - 1) // 10, 2) * 10 + 1
        last = first + 9 if first < 21 else _month_end(day.year, day.month).day
        return _Span(day.replace(day=first), day.replace(day=last), unit)
    months = _MONTHS_IN[unit]
    first_month = (day.month - 1) // months * months + 1
    return _Span(
        date(day.year, first_month, 1), _month_end(day.year, first_month + months - 1), unit
    )


def _nth(unit: _Unit, year: int, number: int) -> _Span | None:
    """The `number`-th (from 1) period of kind `unit` in `year`: quarter 2, month 6, half 1."""
    months = _MONTHS_IN[unit]
    if not 1 <= number <= 12 // months:
        return None
    first = _day(year, (number - 1) * months + 1, 1)
    return None if first is None else _containing(unit, first)


# --- terms: one day or one period ---------------------------------------------------------------

_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}
_D = r"(?P<d>[0-9]{1,2})"
_M = r"(?P<m>[0-9]{1,2})"
_Q = r"(?P<q>[ivx]+|[0-9]{1,2})"
_Y = r"(?P<y>[0-9]{4})"
# Between a month or quarter and its year: "6/2024", "6-2024", "6 nam 2024", "6, nam 2024".
_OF_YEAR = r"(?:[/.-]|,? nam |, )"


def _number(match: re.Match[str], group: str) -> int:
    return int(match.group(group))


def _date_term(match: re.Match[str]) -> _Span | None:
    found = _day(_number(match, "y"), _number(match, "m"), _number(match, "d"))
    return None if found is None else _Span(found, found, _Unit.DAY)


def _half_term(match: re.Match[str]) -> _Span | None:
    return _nth(_Unit.HALF, _number(match, "y"), 1 if match.group("h") == "dau" else 2)


def _quarter_term(match: re.Match[str]) -> _Span | None:
    text = match.group("q")
    number = int(text) if text.isdigit() else _ROMAN.get(text, 0)
    return _nth(_Unit.QUARTER, _number(match, "y"), number)


def _month_term(match: re.Match[str]) -> _Span | None:
    return _nth(_Unit.MONTH, _number(match, "y"), _number(match, "m"))


def _year_term(match: re.Match[str]) -> _Span | None:
    return _nth(_Unit.YEAR, _number(match, "y"), 1)


@dataclass(frozen=True, slots=True)
class _Term:
    name: str
    pattern: re.Pattern[str]
    build: Callable[[re.Match[str]], _Span | None]


_TERMS: tuple[_Term, ...] = (
    _Term("day", re.compile(rf"(?:ngay )?{_D}(?P<sep>[/.-]){_M}(?P=sep){_Y}"), _date_term),
    _Term("iso day", re.compile(rf"{_Y}-{_M}-{_D}"), _date_term),
    _Term("day in words", re.compile(rf"(?:ngay )?{_D} thang {_M}(?:,? nam |/){_Y}"), _date_term),
    _Term(
        "half year", re.compile(rf"(?:(?:6|sau) thang|nua) (?P<h>dau|cuoi) nam {_Y}"), _half_term
    ),
    _Term("quarter", re.compile(rf"quy {_Q}{_OF_YEAR}{_Y}"), _quarter_term),
    _Term("month", re.compile(rf"thang {_M}{_OF_YEAR}{_Y}"), _month_term),
    _Term("bare month", re.compile(rf"{_M}/{_Y}"), _month_term),
    _Term("year", re.compile(rf"(?:nam )?{_Y}"), _year_term),
)


# --- modifiers: words in front of a term -------------------------------------------------------


def _as_is(span: _Span) -> _Span | None:
    return span


def _before(span: _Span) -> _Span | None:
    """Before a day is due that day; before a period, due when the previous period ends."""
    if span.unit is _Unit.DAY:
        return span
    return _containing(span.unit, span.start - timedelta(days=1))


_FIRST_PART = {
    _Unit.YEAR: _Unit.MONTH,
    _Unit.HALF: _Unit.MONTH,
    _Unit.QUARTER: _Unit.MONTH,
    _Unit.MONTH: _Unit.TEN_DAYS,
}


def _beginning(span: _Span) -> _Span | None:
    """The beginning of a period: its first month (of a month, its first ten days)."""
    part = _FIRST_PART.get(span.unit)
    return None if part is None else _containing(part, span.start)


@dataclass(frozen=True, slots=True)
class _Modifier:
    name: str
    pattern: re.Pattern[str]
    apply: Callable[[_Span], _Span | None]


_MODIFIERS: tuple[_Modifier, ...] = (
    _Modifier("by", re.compile(r"(?:cham nhat(?: la)?|den het|trong|cuoi|het) "), _as_is),
    _Modifier("before", re.compile(r"truoc "), _before),
    _Modifier("beginning", re.compile(r"dau "), _beginning),
)


@lru_cache(maxsize=4096)
def _span(text: str) -> _Span | None:
    """One term with its modifiers, or None."""
    applied: list[_Modifier] = []
    rest = text
    while found := next(((m, p) for m in _MODIFIERS if (p := m.pattern.match(rest))), None):
        if len(applied) == _MAX_MODIFIERS:
            return None
        applied.append(found[0])
        rest = rest[found[1].end() :]
    term = next(((t, m) for t in _TERMS if (m := t.pattern.fullmatch(rest))), None)
    if term is None:
        return None
    span = term[0].build(term[1])
    for modifier in reversed(applied):
        if span is None:
            return None
        span = modifier.apply(span)
    return span


def _span_with_year(text: str, year: int) -> _Span | None:
    """`text` read as a term after giving it `year`: "quy iii" -> "quy iii/2026"."""
    for join in _YEAR_JOINS:
        span = _span(f"{text}{join}{year}")
        if span is not None:
            return span
    return None


# --- ranges: two terms (the first may borrow the second's unit word or year) --------------------

_RANGE_PREFIX = re.compile(r"(?:trong )?(?:giai doan |thoi ky )?(?:tu )?")
_RANGE_SEPARATOR = re.compile(r"-|, ?| va | den(?: het)? | toi ")
_UNIT_WORD = re.compile(r"(?:quy|thang|nam) ")


@lru_cache(maxsize=4096)
def _range(text: str) -> _Span | None:
    """A span of terms, from the first one's start to the last one's end: "2023-2025",
    "tu thang 3/2024 den thang 6/2024", "quy iii, iv/2026"."""
    prefix = _RANGE_PREFIX.match(text)
    body = text[prefix.end() :] if prefix else text
    separators = list(_RANGE_SEPARATOR.finditer(body))
    if len(separators) > _MAX_RANGE_SEPARATORS:
        return None
    for separator in separators:
        left_text, right_text = body[: separator.start()].strip(), body[separator.end() :].strip()
        if not left_text or not right_text:
            continue
        right = _span(right_text) or _range(right_text)
        unit_word = _UNIT_WORD.match(left_text)
        if right is None and unit_word and not _UNIT_WORD.match(right_text):
            right = _span(unit_word.group() + right_text) or _range(unit_word.group() + right_text)
        if right is None:
            continue
        left = _span(left_text)
        if left is None and right.unit is not _Unit.YEAR:
            # "Quý II, 2024" is one quarter, not a range: only a period lends its year.
            left = _span_with_year(left_text, right.end.year)
        if left is not None and left.start <= right.start and left.end <= right.end:
            return _Span(left.start, right.end, right.unit)
    return None


# --- recurring: a frequency word, maybe an anchor in the period, maybe a scope of years ---------


@dataclass(frozen=True, slots=True)
class _FrequencyWord:
    frequency: Frequency
    pattern: re.Pattern[str]
    open_ended: bool = False


_ONCE = r"(?: (?:mot|1) lan|/(?:1 )?lan)"
# Order matters: each match is cut out before the next row looks ("6 thang mot lan" is not monthly).
_FREQUENCY_WORDS: tuple[_FrequencyWord, ...] = (
    _FrequencyWord(
        Frequency.YEARLY,
        re.compile(r"\b(?:va )?(?:nhung|cac) nam (?:tiep theo|ke tiep|sau(?: do)?)\b"),
        open_ended=True,
    ),
    _FrequencyWord(
        Frequency.HALF_YEARLY,
        re.compile(
            rf"\b(?:(?:dinh ky|moi|hang) (?:6|sau) thang{_ONCE}?|(?:6|sau) thang{_ONCE}"
            rf"|(?:dinh ky|moi|hang) nua nam{_ONCE}?|nua nam{_ONCE})\b"
        ),
    ),
    _FrequencyWord(
        Frequency.QUARTERLY, re.compile(rf"\b(?:(?:hang|moi|dinh ky) quy|quy{_ONCE})\b")
    ),
    _FrequencyWord(
        Frequency.MONTHLY, re.compile(rf"\b(?:(?:hang|moi|dinh ky) thang|thang{_ONCE})\b")
    ),
    _FrequencyWord(Frequency.YEARLY, re.compile(rf"\b(?:(?:hang|moi|dinh ky) nam|nam{_ONCE})\b")),
)
_FINEST_FIRST = (Frequency.MONTHLY, Frequency.QUARTERLY, Frequency.HALF_YEARLY, Frequency.YEARLY)
_PERIOD_OF = {
    Frequency.YEARLY: _Unit.YEAR,
    Frequency.HALF_YEARLY: _Unit.HALF,
    Frequency.QUARTERLY: _Unit.QUARTER,
    Frequency.MONTHLY: _Unit.MONTH,
}
_SERIES_PARTS = re.compile(r"[,;()]|\bva\b")
_SERIES_FILLER = re.compile(r"^(?:(?:dinh ky|vao|va)\b\s*)+")
_MONTHLY_ANCHOR = re.compile(r"(?:(?:truoc|cham nhat|vao|han) )?ngay (?P<d>[0-9]{1,2})")
_FOUR_DIGITS = re.compile(r"[0-9]{4}")
_UNTIL = re.compile(r"den(?: het)? ")
_FROM = re.compile(r"(?:ke )?tu ")

_Anchor = tuple[int | None, int | None]
_Scope = tuple[date | None, date | None]


def _anchor(frequency: Frequency, part: str) -> _Anchor | None:
    """The due day inside each period: "truoc ngay 15/12" yearly -> (12, 15); "ngay 20" monthly."""
    if _FOUR_DIGITS.search(part):
        return None
    if frequency is Frequency.MONTHLY:
        match = _MONTHLY_ANCHOR.fullmatch(part)
        if match is None or not 1 <= _number(match, "d") <= 31:
            return None
        return None, _number(match, "d")
    if frequency is Frequency.YEARLY:
        span = _span_with_year(part, _ANCHOR_YEAR)
        return None if span is None else (span.end.month, span.end.day)
    return None


def _scope(part: str, open_ended: bool) -> _Scope | None:
    """The years a series covers: "giai doan 2023-2025", "tu nam 2024", "den nam 2025"."""
    stretch = _range(part)
    if stretch is not None:
        return stretch.start, None if open_ended else stretch.end
    until = _UNTIL.match(part)
    if until is not None:
        span = _span(part[until.end() :])
        return None if span is None else (None, span.end)
    since = _FROM.match(part)
    span = _span(part[since.end() :] if since else part)
    if span is None:
        return None
    # A bare period bounds the series ("hang quy nam 2024"); "tu ..." or "... tiep theo" do not.
    return span.start, None if since or open_ended else span.end


def _read_recurring(text: str, default_year: int | None) -> Deadline | None:
    rest = text
    frequencies: set[Frequency] = set()
    open_ended = False
    for word in _FREQUENCY_WORDS:
        rest, count = word.pattern.subn(",", rest)
        if count:
            frequencies.add(word.frequency)
            open_ended = open_ended or word.open_ended
    if not frequencies:
        return None
    # "6 thang, hang nam": the finer series already falls due at every coarser period's end.
    frequency = next(f for f in _FINEST_FIRST if f in frequencies)
    anchor: _Anchor | None = None
    scope: _Scope | None = None
    for raw in _SERIES_PARTS.split(rest):
        part = _SERIES_FILLER.sub("", raw.strip(" .:-")).strip(" .:-")
        if not part:
            continue
        if anchor is None and (found := _anchor(frequency, part)) is not None:
            anchor = found
        elif scope is None and (covered := _scope(part, open_ended)) is not None:
            scope = covered
        else:
            return None
    anchor_month, anchor_day = anchor or (None, None)
    since, until = scope or (None, None)
    if since is None and default_year is not None:
        since = _day(default_year, 1, 1)
    start = due = None
    if since is not None:
        first = _containing(_PERIOD_OF[frequency], since)
        start = first.start
        month = anchor_month or first.end.month
        last = calendar.monthrange(first.end.year, month)[1]
        due = date(first.end.year, month, min(anchor_day or last, last))
        if until is not None and due > until:
            return None
    return Deadline(
        DeadlineKind.RECURRING,
        "",
        due=due,
        start=start,
        until=until,
        frequency=frequency,
        anchor_month=anchor_month,
        anchor_day=anchor_day,
    )


# --- phrase rules ---------------------------------------------------------------------------------

_CONTINUOUS = re.compile(r"\b(?:thuong xuyen|lien tuc)\b")


def _read_continuous(text: str, default_year: int | None) -> Deadline | None:
    return Deadline(DeadlineKind.CONTINUOUS, "") if _CONTINUOUS.search(text) else None


def _read_point(text: str, default_year: int | None) -> Deadline | None:
    span = _span(text)
    if span is None:
        return None
    kind = DeadlineKind.FIXED if span.unit is _Unit.DAY else DeadlineKind.PERIOD_END
    return Deadline(kind, "", due=span.end)


def _read_range(text: str, default_year: int | None) -> Deadline | None:
    stretch = _range(text)
    if stretch is None:
        return None
    return Deadline(DeadlineKind.RANGE, "", due=stretch.end, start=stretch.start)


@dataclass(frozen=True, slots=True)
class _Rule:
    name: str
    read: Callable[[str, int | None], Deadline | None]


_RULES: tuple[_Rule, ...] = (
    _Rule("continuous", _read_continuous),  # "Thuong xuyen hang nam" stays continuous
    _Rule("recurring", _read_recurring),
    _Rule("day or period", _read_point),
    _Rule("range", _read_range),
)
# A day or period written without its year ("Quy II", "30/6") takes the plan's year.
_YEARLESS_RULES = (_read_point, _read_range)

_DASHES = re.compile(r"[\u2010-\u2015\u2212]")
_QUI = re.compile(r"\bqui\b")
_SPACED_MARK = re.compile(r"\s*([/-])\s*")
_LEAD_FILLER = re.compile(
    r"^(?:(?:hoan thanh|xong|thuc hien|trien khai|ban hanh|thoi gian|thoi han|han chot|tien do"
    r"|du kien)\b[\s:]*)+"
)
_EDGES = " ,;:.()"


def _normalize(folded: str) -> str:
    text = _SPACED_MARK.sub(r"\1", _QUI.sub("quy", _DASHES.sub("-", folded)))
    return _LEAD_FILLER.sub("", text.strip(_EDGES)).strip(_EDGES)


def _read_plain(folded: str, default_year: int | None) -> Deadline | None:
    """A phrase without a condition, or None when no rule reads it."""
    text = _normalize(folded)
    if not text:
        return None
    for rule in _RULES:
        reading = rule.read(text, default_year)
        if reading is not None:
            return reading
    if default_year is not None and not _FOUR_DIGITS.search(text):
        for join in _YEAR_JOINS:
            for read in _YEARLESS_RULES:
                reading = read(f"{text}{join}{default_year}", default_year)
                if reading is not None:
                    return reading
    return None


# --- conditions -----------------------------------------------------------------------------------

_CONDITION = re.compile(
    r"\b(?:(?:ngay )?sau khi|khi (?:co|duoc|nao)|theo (?:yeu cau|de nghi|chi dao|huong dan)"
    r"|dot xuat|tuy (?:thuoc|theo)|phu thuoc"
    r"|cho (?:co )?(?:huong dan|phe duyet|y kien|quyet dinh))\b"
)
# "Hang nam (hoac theo yeu cau)": extra occasions on request; the schedule itself stays.
_ALTERNATIVE = re.compile(r"\bhoac$")
_CLAUSE_BREAK = re.compile(r"[,;)]")
# A deadline written after a condition is a few words; longer tails are part of the condition.
_MAX_TRAILING_DEADLINE = 80
_CLAUSE_EDGES = " \t\r\n,;:.("


def _clause_end(folded: str, start: int, default_year: int | None) -> int:
    """Where the condition starting at `start` stops: at a ")" closing the bracket it sits in, or
    at a "," followed by a readable deadline ("Sau khi ... duyet, nam 2025"); else at the end."""
    for mark in _CLAUSE_BREAK.finditer(folded, start):
        if mark.group() == ")":
            if "(" not in folded[start : mark.start()]:
                return mark.start()
        elif (
            len(folded) - mark.end() <= _MAX_TRAILING_DEADLINE
            and _read_plain(folded[mark.end() :], default_year) is not None
        ):
            return mark.start()
    return len(folded)


def _fold_with_origin(text: str) -> tuple[str, list[int]]:
    """fold(text) together with, for each folded character, the index it came from in `text`."""
    chars: list[str] = []
    origin: list[int] = []
    pending_space = False
    for index, char in enumerate(text):
        if char.isspace():
            pending_space = bool(chars)
            continue
        piece = strip_diacritics(char).lower()
        if not piece:
            continue
        if pending_space:
            chars.append(" ")
            origin.append(index)
            pending_space = False
        chars.extend(piece)
        origin.extend([index] * len(piece))
    return "".join(chars), origin


def _original_words(original: str, folded: str, start: int, end: int) -> str:
    """The words of folded[start:end] as the original spells them, white space collapsed."""
    composed = unicodedata.normalize("NFC", original)
    mapped, origin = _fold_with_origin(composed)
    if mapped != folded or end <= start:
        return nfc(folded[start:end]).strip(_CLAUSE_EDGES)
    first, last = origin[start], origin[end - 1] + 1
    while last < len(composed) and unicodedata.category(composed[last]) == "Mn":
        last += 1
    return nfc(composed[first:last]).strip(_CLAUSE_EDGES)


def _read(original: str, default_year: int | None) -> Deadline | None:
    folded = fold(original)
    condition = _CONDITION.search(folded)
    if condition is None:
        return _read_plain(folded, default_year)
    before = folded[: condition.start()].rstrip(" (")
    end = _clause_end(folded, condition.end(), default_year)
    after = folded[end:]
    alternative = _ALTERNATIVE.search(before)
    if alternative is not None:
        reading = _read_plain(f"{before[: alternative.start()]}, {after}", default_year)
        if reading is not None:
            return reading
    parts = [p.strip(_EDGES) for p in (before, after) if p.strip(_EDGES)]
    precondition = _original_words(original, folded, condition.start(), end)
    if not parts:
        return Deadline(DeadlineKind.CONDITIONAL, "", precondition=precondition)
    soft = _read_plain(", ".join(parts), default_year)
    if soft is None:
        return None
    return replace(
        soft, kind=DeadlineKind.CONDITIONAL, precondition=precondition, soft_kind=soft.kind
    )


def parse_deadline(text: str, *, default_year: int | None = None) -> Deadline:
    """Read one deadline cell. Never raises on user text: what it cannot read is UNKNOWN.

    ``text`` is kept as given, stripped of outer white space. ``default_year`` is the plan's year:
    a series that names no year starts then ("Hang nam" -> yearly from 1/1 of that year), and a
    day or period written without a year takes it ("Quy II" -> 30/6 of that year).

    How officials' phrases are read (see ../shared/domain/deadline-grammar.md):
    - "Truoc ngay D" is due D. "Truoc <period>" is due when the previous period ends, since the
      work must be done before the period begins: "Truoc thang 9/2024" -> 31/8/2024, "Truoc quy
      III/2024" -> 30/6/2024, "Truoc nam 2025" -> 31/12/2024.
    - "Dau <period>" is due at the end of its first part, the earliest sensible reading (an early
      reminder can be ignored, a late one cannot be taken back): "Dau nam 2024" -> 31/1/2024,
      "Dau quy II/2024" -> 30/4/2024, "Dau thang 6/2024" -> 10/6/2024 (the first ten days).
    - "Cuoi", "trong", "het", "cham nhat" in front of a period leave it as it is.
    - A list or span of periods ("Quy III, IV/2026", "2023-2025") is a RANGE.
    - A frequency word makes a series; "thuong xuyen"/"lien tuc" anywhere make it CONTINUOUS.
    - A condition ("sau khi", "khi co", "theo yeu cau", "dot xuat", ...) makes it CONDITIONAL; its
      precondition keeps the original words, white space collapsed. "Hoac theo yeu cau" after a
      schedule only adds occasions and is not a condition. "Theo tien do du an" names no
      condition a coordinator could mark as met: it stays UNKNOWN for a person to settle.
    - Impossible dates, quarters and months, and two-digit years, are UNKNOWN.
    """
    original = text.strip()
    reading = _read(original, default_year)
    if reading is None:
        return Deadline(DeadlineKind.UNKNOWN, original)
    return replace(reading, text=original)


# --- labels -------------------------------------------------------------------------------------

_LABELS: dict[str, dict[str, str]] = {
    "vi": {
        "unknown": "không đọc được",
        "continuous": "thường xuyên",
        "by": "trước {date}",
        "range": "từ {start} đến {end}",
        "condition": "chờ điều kiện: {condition}",
        "condition_empty": "chờ điều kiện",
        "tentative": " (dự kiến {soft})",
        "since": " từ {when}",
        "until": " đến {when}",
        "yearly_anchor": ", hạn ngày {day}",
        "monthly_anchor": ", hạn ngày {day}",
        Frequency.YEARLY: "hằng năm",
        Frequency.HALF_YEARLY: "6 tháng một lần",
        Frequency.QUARTERLY: "hằng quý",
        Frequency.MONTHLY: "hằng tháng",
    },
    "en": {
        "unknown": "unreadable",
        "continuous": "ongoing",
        "by": "by {date}",
        "range": "from {start} to {end}",
        "condition": "waiting for: {condition}",
        "condition_empty": "waiting for a condition",
        "tentative": " (tentatively {soft})",
        "since": " from {when}",
        "until": " until {when}",
        "yearly_anchor": ", due on {day}",
        "monthly_anchor": ", due on day {day}",
        Frequency.YEARLY: "yearly",
        Frequency.HALF_YEARLY: "every 6 months",
        Frequency.QUARTERLY: "quarterly",
        Frequency.MONTHLY: "monthly",
    },
}


def _date_label(day: date) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def _when_label(frequency: Frequency, day: date) -> str:
    if frequency in (Frequency.YEARLY, Frequency.HALF_YEARLY):
        return str(day.year)
    return f"{day.month:02d}/{day.year}"


def _series_label(deadline: Deadline, labels: dict[str, str]) -> str:
    frequency = deadline.frequency or Frequency.YEARLY
    label = labels[frequency]
    if deadline.start is not None:
        label += labels["since"].format(when=_when_label(frequency, deadline.start))
    if deadline.until is not None:
        label += labels["until"].format(when=_when_label(frequency, deadline.until))
    if deadline.anchor_month is not None:
        day = deadline.anchor_day or calendar.monthrange(_ANCHOR_YEAR, deadline.anchor_month)[1]
        label += labels["yearly_anchor"].format(day=f"{day:02d}/{deadline.anchor_month:02d}")
    elif deadline.anchor_day is not None:
        label += labels["monthly_anchor"].format(day=deadline.anchor_day)
    return label


def describe(deadline: Deadline, lang: str = "vi") -> str:
    """A short label for people: "hằng năm từ 2023", "trước 31/12/2024", "chờ điều kiện: ...".

    ``lang`` is "vi" or "en"; anything else is a programming error (ValueError).
    """
    labels = _LABELS.get(lang)
    if labels is None:
        raise ValueError(f"unsupported language: {lang!r}")
    kind = deadline.kind
    if kind is DeadlineKind.CONTINUOUS:
        return labels["continuous"]
    if kind is DeadlineKind.RECURRING:
        return _series_label(deadline, labels)
    if kind is DeadlineKind.CONDITIONAL:
        condition = deadline.precondition or ""
        label = (
            labels["condition"].format(condition=condition[:1].lower() + condition[1:])
            if condition
            else labels["condition_empty"]
        )
        if deadline.soft_kind is None or deadline.soft_kind is DeadlineKind.CONDITIONAL:
            return label
        soft = replace(deadline, kind=deadline.soft_kind, precondition=None, soft_kind=None)
        if soft.kind is DeadlineKind.UNKNOWN:
            return label
        return label + labels["tentative"].format(soft=describe(soft, lang))
    if kind is DeadlineKind.RANGE and deadline.start is not None and deadline.due is not None:
        return labels["range"].format(
            start=_date_label(deadline.start), end=_date_label(deadline.due)
        )
    if kind in (DeadlineKind.FIXED, DeadlineKind.PERIOD_END) and deadline.due is not None:
        return labels["by"].format(date=_date_label(deadline.due))
    return labels["unknown"]
