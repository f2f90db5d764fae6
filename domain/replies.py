"""Reading the short progress replies focal points type in chat, and the bot's acknowledgement.

Officials answer a reminder on their phone: with or without diacritics, in any case, with chat
abbreviations ("dc 50%", "da xong r", "k vướng gì"), typos and emoji. ``parse_reply`` turns such a
message into a typed ``Reply``; nothing is ever lost, because ``Reply.text`` keeps the message and
anything that is not understood becomes a NOTE.

How it works. The message is folded character by character (lower case, no diacritics, single
spaces) into a *view* that remembers, for every folded character, which span of the original it
came from; chat abbreviations and obvious typos are then replaced word by word, still with their
spans. Patterns run on the view; evidence and reasons are sliced from the original through the
spans, so they keep the user's diacritics and capitals.

Decisions (the table in tests/unit/test_replies.py shows each one on real-style replies):
- Precedence: EXTENSION > DONE > BLOCKED > PERCENT > NOT_STARTED ("0%") > IN_PROGRESS (explicit:
  "đang ...", "đã trình", a negated or future "hoàn thành") > NOT_STARTED ("chưa triển khai",
  "sẽ triển khai"; but "chưa thực hiện được", an inability, is BLOCKED) >
  IN_PROGRESS (implicit: "đã triển khai") > NOTE. A done task is done even if the reply mentions a
  difficulty; the text keeps the remark.
- "chưa xong", "chưa hoàn thành", a bare "chưa", "sắp xong", "sẽ hoàn thành trong tháng 12",
  "hoàn thành trong tháng 12" (a future time after it, without "đã"), "cơ bản hoàn thành" and a
  finished draft or part ("xong dự thảo", "xong phần 1") are IN_PROGRESS with no percent.
- "hoàn thành 80%", "xong 50%" are PERCENT; "100%" is DONE; "0%" is NOT_STARTED with percent 0;
  a percent above 100 is not progress (only a NOTE if nothing else was said). "50/100" is 50%;
  a range "60-70%" reads as its lower bound; "45,5%" as 45; "một nửa" as 50. A percent after
  "dự kiến", "sẽ", "phấn đấu" is a target, not progress, and is ignored.
- BLOCKED keeps ``percent`` when one was given ("được 50%, vướng kinh phí"). ``reason`` is the
  cause without its lead-in: "gặp khó khăn về kinh phí" -> "kinh phí" (the connective "về", "vì",
  "do", "là", "ở", "tại" is dropped), "vướng: chờ hướng dẫn của Bộ" -> "chờ hướng dẫn của Bộ";
  phrases that name the cause themselves ("chưa có hướng dẫn", "thiếu kinh phí") are the reason.
- EXTENSION: ``requested_until`` is read from "đến 30/6" (the next 30/6 on or after today),
  "15/7/2025", "6/2025" and "hết tháng 7" (month end), "hết quý III" (quarter end), "cuối năm",
  "6 tháng đầu năm"; a relative request ("thêm 2 tuần") has no date because it counts from a
  deadline this module does not know. ``reason`` is the clause after "vì", "do", "lý do", "để", or
  else the difficulty named in the message ("vướng kinh phí").
  A day already past is not read (it is usually a document's date), nor is an impossible one.
- Questions ("xong chưa?", "hoàn thành chưa ạ") are NOTEs, except an extension asked as a
  question ("gia hạn đến 30/6 được không ạ?"), which is still a request.
- Acknowledgements ("ok", "đã nhận", "cảm ơn") are NOTEs; "ok xong" is DONE. Issuing or signing a
  document is DONE, and so is a reply that is only a document reference ("QĐ số 45/QĐ-UBND").
- Negations are read in a short window inside the clause: "không vướng gì", "đã tháo gỡ xong
  vướng mắc", "không cần gia hạn" are NOTEs; "đã xong đâu" (a spoken denial) is IN_PROGRESS.
"""

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from itertools import pairwise

from domain.text import nfc, strip_diacritics


class ReplyKind(StrEnum):
    DONE = "done"
    PERCENT = "percent"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    EXTENSION = "extension"
    NOT_STARTED = "not_started"
    NOTE = "note"


@dataclass(frozen=True, slots=True)
class Reply:
    """One reply, typed. ``text`` is the message as written (stripped).

    - ``percent``: 0..100 when the reply gave one (DONE is always 100).
    - ``evidence`` (DONE): the document reference or what follows the done-phrase.
    - ``reason`` (BLOCKED, EXTENSION): the cause, as written.
    - ``requested_until`` (EXTENSION): the day asked for, when the reply names one.
    """

    kind: ReplyKind
    text: str
    percent: int | None = None
    evidence: str | None = None
    reason: str | None = None
    requested_until: date | None = None


# --------------------------------------------------------------------------- the matching view

_WORD = re.compile(r"[^\W_]+")

# Chat shorthand, in folded form. "kh" (kế hoạch vs không) and "bc" (báo cáo, also a document
# code) are left alone on purpose: guessing wrong would change a document reference.
_SHORTHAND = {
    "dc": "duoc",
    "r": "roi",
    "rui": "roi",
    "ko": "khong",
    "k": "khong",
    "hk": "khong",
    "hok": "khong",
    "kg": "khong",
    "khg": "khong",
    "chx": "chua",
    "ht": "hoan thanh",
    "hthanh": "hoan thanh",
    "hoanthanh": "hoan thanh",
    "xog": "xong",
    "dag": "dang",
    "dg": "dang",
    "vuog": "vuong",
    "hd": "huong dan",
    "oke": "ok",
    "okie": "ok",
    "oki": "ok",
    "okay": "ok",
    "okla": "ok",
    "j": "gi",
    "vs": "voi",
}


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


# The words the patterns below are made of; a typo at one edit from one of them is read as it.
_VOCABULARY = _wordset(
    "xong hoan thanh tat dang thuc hien trien khai tien hanh vuong mac kho khan tro ngai huong dan "
    "kinh phi gia han lui chua khong duoc roi ban phe duyet trinh bat dau lam thieu nguon thoi "
    "gian dieu chinh keo dai xin nghi soan thao tham dinh dat phan tram khoang cho kien ok"
)
# English words we read; they are not Vietnamese syllables but must not be "corrected".
_FOREIGN = _wordset("done finished completed complete in progress ongoing working blocked stuck "
                     "not started extension extend percent ok thanks thank you")

_ONSETS = ("ngh", "ng", "gh", "gi", "kh", "nh", "ph", "qu", "th", "tr", "ch",
           "b", "c", "d", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", "")
_NUCLEI = _wordset(
    "a e i o u y ai ao au ay eo eu ia ie iu oa oe oi oo ua ue ui uo uu uy ye ieu yeu oai oao oay "
    "oeo uay uoi uou uya uye uyu"
)
_CODAS = ("ch", "ng", "nh", "c", "m", "n", "p", "t", "")


def _is_syllable(word: str) -> bool:
    """Whether a folded word can be a Vietnamese syllable (onset + vowel nucleus + coda)."""
    for onset in _ONSETS:
        if not word.startswith(onset):
            continue
        rest = word[len(onset):]
        for coda in _CODAS:
            if rest.endswith(coda) and rest[: len(rest) - len(coda)] in _NUCLEI:
                return True
    return False


def _one_edit_apart(a: str, b: str) -> bool:
    """Exactly one insertion, deletion, substitution or swap of neighbours turns a into b."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        return len(diff) == 1 or (
            len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def _canonical_word(word: str) -> str:
    if word in _SHORTHAND:
        return _SHORTHAND[word]
    if (word in _VOCABULARY or word in _FOREIGN or not word.isalpha() or not word.isascii()
            or _is_syllable(word)):
        return word
    collapsed = re.sub(r"(.)\1+", r"\1", word)  # "xongg", "roiii", "okkk"
    if collapsed in _VOCABULARY or collapsed in _SHORTHAND:
        return _SHORTHAND.get(collapsed, collapsed)
    if len(word) < 4:
        return word
    near = [v for v in _VOCABULARY if len(v) >= 4 and _one_edit_apart(word, v)]
    return near[0] if len(near) == 1 else word


@dataclass(frozen=True, slots=True)
class _View:
    """The folded, de-abbreviated message, each character tied to its span in the original."""

    source: str
    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def original(self, start: int, end: int) -> str:
        if start >= end:
            return ""
        return self.source[self.starts[start]: self.ends[end - 1]]


def _fold_with_spans(source: str) -> tuple[str, list[int], list[int]]:
    """Like ``domain.text.fold`` (a newline run stays a newline: it ends a clause)."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    gap_at, gap_newline = -1, False
    for i, ch in enumerate(source):
        if ch.isspace():
            if gap_at < 0:
                gap_at, gap_newline = i, False
            gap_newline = gap_newline or ch in "\n\r\u2028\u2029"
            continue
        folded = strip_diacritics(ch).lower()
        if not folded:  # a lone combining mark (text typed in NFD): it belongs to the letter
            if ends:
                ends[-1] = i + 1
            continue
        if gap_at >= 0 and chars:
            chars.append("\n" if gap_newline else " ")
            starts.append(gap_at)
            ends.append(gap_at + 1)
        gap_at = -1
        for piece in folded:
            chars.append(piece)
            starts.append(i)
            ends.append(i + 1)
    return "".join(chars), starts, ends


def _view(source: str) -> _View:
    folded, starts, ends = _fold_with_spans(source)
    text: list[str] = []
    new_starts: list[int] = []
    new_ends: list[int] = []
    cursor = 0

    def copy(upto: int) -> None:
        text.append(folded[cursor:upto])
        new_starts.extend(starts[cursor:upto])
        new_ends.extend(ends[cursor:upto])

    for match in _WORD.finditer(folded):
        s, e = match.span()
        # A word glued to "/" or "-" belongs to a document code ("12/KH-UBND"): keep it.
        in_code = (s > 0 and folded[s - 1] in "/-") or (e < len(folded) and folded[e] in "/-")
        word = match.group()
        canonical = word if in_code else _canonical_word(word)
        if canonical == word:
            continue
        copy(s)
        cursor = e
        text.append(canonical)
        new_starts.extend([starts[s]] * len(canonical))
        new_ends.extend([ends[e - 1]] * len(canonical))
    copy(len(folded))
    return _View(source, "".join(text), tuple(new_starts), tuple(new_ends))


# --------------------------------------------------------------------------- clauses and windows

_BOUNDARY = re.compile(r"[;!?\n:…]|,(?!\d)|\.(?!\d)|(?<=\s)[-–—](?=\s)")


@dataclass(frozen=True, slots=True)
class _Clause:
    start: int
    end: int
    question: bool


def _clauses(text: str) -> list[_Clause]:
    found: list[_Clause] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        found.append(_Clause(start, match.start(), match.group() == "?"))
        start = match.end()
    found.append(_Clause(start, len(text), False))
    return found


class _Context:
    """The view plus what every rule needs: clauses and the day the reply was received."""

    def __init__(self, view: _View, today: date) -> None:
        self.view = view
        self.text = view.text
        self.today = today
        self.clauses = _clauses(view.text)

    def clause_at(self, pos: int) -> _Clause:
        for clause in self.clauses:
            if clause.start <= pos <= clause.end:
                return clause
        return self.clauses[-1]

    def words_before(self, pos: int, limit: int) -> list[str]:
        clause = self.clause_at(pos)
        return _WORD.findall(self.text[clause.start: pos])[-limit:]

    def words_after(self, pos: int, limit: int) -> list[str]:
        clause = self.clause_at(pos)
        return _WORD.findall(self.text[pos: clause.end])[:limit]

    def in_question(self, pos: int) -> bool:
        return self.clause_at(pos).question

    def preceded_by(
        self, pos: int, markers: frozenset[str], limit: int, resets: frozenset[str] = frozenset()
    ) -> bool:
        """A marker (one or two words) among the ``limit`` words before ``pos`` in its clause,
        looking back no further than a reset word ("đã": what follows is a fact)."""
        words = self.words_before(pos, limit)
        for i in range(len(words) - 1, -1, -1):
            if words[i] in resets:
                return False
            if words[i] in markers or (i > 0 and f"{words[i - 1]} {words[i]}" in markers):
                return True
        return False


@dataclass(frozen=True, slots=True)
class _Hit:
    start: int
    end: int


def _hits(patterns: Iterable[re.Pattern[str]], text: str) -> list[_Hit]:
    found = {_Hit(*m.span()) for pattern in patterns for m in pattern.finditer(text)}
    return sorted(found, key=lambda hit: (hit.start, -hit.end))


def _compile(*patterns: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in patterns)


# --------------------------------------------------------------------------- dates

def _month_end(year: int, month: int) -> date:
    first_of_next = date(year + month // 12, month % 12 + 1, 1)
    return first_of_next - timedelta(days=1)


def _on_or_after(today: date, make: Callable[[int], date | None]) -> date | None:
    """The first of make(year), make(year + 1), ... that exists and is not before today."""
    for year in range(today.year, today.year + 9):  # 9 years reach the next 29/2
        candidate = make(year)
        if candidate is not None and candidate >= today:
            return candidate
    return None


def _day(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _year(text: str | None) -> int | None:
    if text is None:
        return None
    value = int(text)
    return 2000 + value if value < 100 else value


_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}


def _resolve_dmy(m: re.Match[str], today: date) -> date | None:
    year = _year(m.group(3))
    return _day(year, int(m.group(2)), int(m.group(1))) if year is not None else None


def _resolve_dm(m: re.Match[str], today: date) -> date | None:
    day, month = int(m.group(1)), int(m.group(2))
    return _on_or_after(today, lambda year: _day(year, month, day))


def _resolve_day_words(m: re.Match[str], today: date) -> date | None:
    day, month, year = int(m.group(1)), int(m.group(2)), _year(m.group(3))
    if year is not None:
        return _day(year, month, day)
    return _on_or_after(today, lambda y: _day(y, month, day))


def _resolve_month_year(m: re.Match[str], today: date) -> date | None:
    month, year = int(m.group(1)), int(m.group(2))
    return _month_end(year, month) if 1 <= month <= 12 else None


def _resolve_month(m: re.Match[str], today: date) -> date | None:
    month, year = int(m.group(1)), _year(m.group(2) or m.group(3))
    if not 1 <= month <= 12:
        return None
    if year is not None:
        return _month_end(year, month)
    return _on_or_after(today, lambda y: _month_end(y, month))


def _resolve_relative_month(m: re.Match[str], today: date) -> date | None:
    if m.group(1) in ("sau", "toi"):
        return _month_end(today.year + today.month // 12, today.month % 12 + 1)
    return _month_end(today.year, today.month)


def _resolve_quarter(m: re.Match[str], today: date) -> date | None:
    quarter = _ROMAN.get(m.group(1)) or int(m.group(1))
    year = _year(m.group(2))
    if year is not None:
        return _month_end(year, quarter * 3)
    return _on_or_after(today, lambda y: _month_end(y, quarter * 3))


def _resolve_half(m: re.Match[str], today: date) -> date | None:
    month = 6 if m.group(1) == "dau" else 12
    year = _year(m.group(2))
    if year is not None:
        return _month_end(year, month)
    return _on_or_after(today, lambda y: _month_end(y, month))


def _resolve_year(m: re.Match[str], today: date) -> date | None:
    year = _year(m.group(1) or m.group(2))
    return date(year if year is not None else today.year, 12, 31)


def _resolve_nothing(m: re.Match[str], today: date) -> date | None:
    return None


_Y = r"(?: ?(?:/|nam) ?(\d{4}))?"
# Order matters only for matches starting at the same place: the longer one wins anyway.
_DATE_FORMS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str], date], date | None]], ...] = (
    (re.compile(r"(?<![\d/.-])(\d{1,2}) ?[/.-] ?(\d{1,2}) ?[/.-] ?(\d{4}|\d{2})(?![\d/])"),
     _resolve_dmy),
    (re.compile(r"(?<![\d/.-])(\d{1,2}) ?/ ?(\d{4})(?![\d/])"), _resolve_month_year),
    (re.compile(r"(?<![\d/.-])(\d{1,2}) ?/ ?(\d{1,2})(?![\d/%])"), _resolve_dm),
    (re.compile(r"\bngay (\d{1,2}) thang (\d{1,2})(?: nam (\d{4}))?\b"), _resolve_day_words),
    (re.compile(r"\b(?:6|sau) thang (dau|cuoi) nam\b(?: ?(\d{4}))?"), _resolve_half),
    (re.compile(r"\bquy (iv|iii|ii|i|[1-4])\b" + _Y), _resolve_quarter),
    (re.compile(r"\bthang (\d{1,2})\b(?: ?/ ?(\d{4})| nam (\d{4}))?"), _resolve_month),
    (re.compile(r"\b(?:(?:cuoi|het) thang(?: (nay|sau|toi))?|thang (sau|toi))\b(?! \d)"),
     _resolve_relative_month),
    (re.compile(r"\b(?:cuoi|het) nam(?: (\d{4}))?\b|\bnam (\d{4})\b"), _resolve_year),
    (re.compile(r"\bthem \d+ (?:ngay|tuan|thang)\b"), _resolve_nothing),
)


@dataclass(frozen=True, slots=True)
class _DateHit:
    start: int
    end: int
    value: date | None


def _find_date(text: str, start: int, end: int, today: date) -> _DateHit | None:
    best: _DateHit | None = None
    for pattern, resolve in _DATE_FORMS:
        m = pattern.search(text, start, end)
        if m is None:
            continue
        if best is None or (m.start(), -m.end()) < (best.start, -best.end):
            best = _DateHit(m.start(), m.end(), resolve(m, today))
    return best


# --------------------------------------------------------------------------- trimming slices

def _trim(ctx: _Context, start: int, end: int, lead: re.Pattern[str] | None,
          tail: re.Pattern[str] | None) -> tuple[int, int]:
    """Narrow [start, end) past punctuation, emoji and filler words at either end."""
    text = ctx.text
    while True:
        before = (start, end)
        # A bracket stays when its partner is inside: "QĐ 12 (bản sao)", but "(QĐ 12)" -> "QĐ 12".
        while start < end and not text[start].isalnum():
            if text[start] == "(" and ")" in text[start + 1: end - 1]:
                break
            start += 1
        while start < end and not text[end - 1].isalnum():
            if text[end - 1] == ")" and "(" in text[start: end - 1]:
                break
            end -= 1
        if lead is not None and (m := lead.match(text, start, end)) and m.end() > start:
            start = m.end()
        if tail is not None and (m := tail.search(text, start, end)):
            end = m.start()
        if (start, end) == before:
            return start, end


def _slice(ctx: _Context, start: int, end: int) -> str | None:
    return nfc(ctx.view.original(start, end)) or None


def _words_re(words: Iterable[str], *, at_end: bool) -> re.Pattern[str]:
    body = "|".join(sorted(words, key=len, reverse=True))
    if at_end:  # searched with endpos: \Z is the end of the slice
        return re.compile(rf"(?<!\w)(?:{body})\Z")
    return re.compile(rf"(?:{body})(?!\w)")


_PARTICLES = ("a", "ah", "nhe", "nha", "nhu vay", "vay", "roi", "ok", "em", "oi", "em oi", "nhe a")
_EVIDENCE_LEAD = _words_re(
    (*_PARTICLES, "het", "ca", "xuoi", "tat ca", "toan bo", r"100 ?%?", "khoi luong", "dung han",
     "truoc han", "dung thoi han", "truoc thoi han", "dung tien do", "dung ke hoach",
     "theo ke hoach", "nhiem vu", "nhiem vu nay", "nhiem vu duoc giao", "cong viec", "viec",
     "viec nay", "theo", "tai", "bang", "voi", "la", "va", "kem theo", "xong", "hoan thanh",
     "ban hanh"),
    at_end=False,
)
_CONNECTIVES = ("ve", "vi", "do", "la", "o", "tai", "boi", "boi vi", "tai vi", "ly do", "ly do la",
                "nguyen nhan", "nguyen nhan la", "gi", "de", "mac")
_REASON_LEAD = _words_re((*_PARTICLES, *_CONNECTIVES), at_end=False)
_REASON_TAIL = _words_re(
    (*_PARTICLES, "nen", "nen xin", "xin", "de nghi", "kinh de nghi", "va", "nhung", "ma", "moi",
     "chi", "duoc", "dat", "hien", "hien moi", "hien tai", "con", "van", "dang", "bi", "gap", "co",
     "van con", "dang bi", "con dang", "nen chua", "khien", "lam"),
    at_end=True,
)


# --------------------------------------------------------------------------- percent

_PERCENT = re.compile(
    r"(?<![\d/.,])(?:(\d{1,3})\s*(?:-|–|den|toi)\s*)?(\d{1,3}(?:[.,]\d+)?)\s*"
    r"(?:%|phan tram|ptram|percent)(?!\w)"
    r"|(?<![\d/.,])(\d{1,3})\s*/\s*100(?![\d/])"
    r"|\bmot nua\b"
)
_TARGET_MARKERS = frozenset({"du kien", "se", "phan dau", "muc tieu", "chi tieu", "du dinh",
                             "hy vong", "hi vong"})
_NOT_YET = frozenset({"chua", "khong"})


@dataclass(frozen=True, slots=True)
class _Percent:
    start: int
    end: int
    value: float


def _percents(ctx: _Context) -> list[_Percent]:
    """Progress figures, without targets, questions and "chưa được 50%"."""
    found: list[_Percent] = []
    for m in _PERCENT.finditer(ctx.text):
        if m.group(2) is not None:
            value = float((m.group(1) or m.group(2)).replace(",", "."))
        elif m.group(3) is not None:
            value = float(m.group(3))
        else:
            value = 50.0
        if ctx.in_question(m.start()):
            continue
        if ctx.preceded_by(m.start(), _TARGET_MARKERS, 5, resets=frozenset({"da"})):
            continue
        if ctx.preceded_by(m.start(), _NOT_YET, 2):
            continue
        found.append(_Percent(m.start(), m.end(), value))
    return found


# --------------------------------------------------------------------------- the phrase tables

_DONE = _compile(
    r"\bxong\b",
    r"\bhoan (?:thanh|tat)\b",
    r"\b(?:(?:da|vua) )?(?:duoc )?(?:ky )?ban hanh\b",
    r"\bduoc (?:[^\W_]+ ){0,3}?(?:phe duyet|thong qua|chap thuan)\b",
    r"\bda (?:phe duyet|thong qua|chap thuan)\b",
    r"\bda (?:gui|nop) bao cao\b",
    r"\bda ky\b(?= (?:ban hanh|quyet dinh|qd|ke hoach|kh|van ban|cong van|cv|thong bao|tb)\b)",
    r"\bda phat hanh\b",
    r"\b(?:done|finished|completed|complete)\b",
)
# Words that, just before a done-phrase, make it not (yet) a fact.
_DONE_NEGATORS = frozenset({
    "chua", "khong", "chang", "sap", "gan", "se", "cho", "de", "xin", "can", "phai", "dang", "neu",
    "khi", "truoc khi", "sau khi", "co ban", "mong", "chac", "trinh", "du kien", "phan dau",
    "muc tieu", "chuan bi", "du dinh", "hy vong", "hi vong", "kip", "not",
})
_FACT_WORDS = frozenset({"da", "va", "roi"})
# After a done-phrase: a time ahead means a promise ("hoàn thành trong tháng 12").
_FUTURE_LEADS = frozenset({"trong", "truoc", "vao", "den", "toi", "cuoi", "dau", "sau", "tuan",
                           "thang", "quy", "nam"})
_NOT_FUTURE = re.compile(r" ?(?:truoc|dung) (?:thoi )?han\b")
# What a finished draft or part is called: the task itself is not done.
_PARTIAL = re.compile(
    r" ?(?:duoc )?(?:du thao|mot phan|\d+ phan|phan \d+|phan [ivx]+|giai doan|buoc|dot|so bo|"
    r"ban nhap|khau|mot so|noi dung \d+|mot nua)\b"
)
_PARTIAL_BEFORE = frozenset({"phan", "giai doan", "buoc", "dot", "du thao", "mot so", "mot phan"})

_CORE_BLOCK = r"(?:vuong mac|vuong|kho khan|tro ngai|ach tac|bi tac|un tac|bat cap|blocked|stuck)"
_BLOCKED_CORE = _compile(rf"\b{_CORE_BLOCK}(?:(?: ?[,/-] ?| va | ){_CORE_BLOCK})*\b")
_BLOCKED_SELF = _compile(
    r"\b(?:chua|khong) (?:co|nhan duoc) (?:van ban )?huong dan\b",
    r"\bcho (?:van ban )?(?:[^\W_]+ ){0,3}?huong dan\b",
    r"\b(?:thieu|chua co|khong co|khong du|chua du|het|chua duoc (?:bo tri|cap|phan bo|giao)|"
    r"chua bo tri|chua phan bo|chua cap) (?:kinh phi|nguon (?:kinh phi|von)|von|ngan sach|"
    r"nhan luc|nhan su|bien che|can bo)\b",
    r"\b(?:chua|khong) du (?:dieu kien|co so)\b",
    r"\bkhong kha thi\b",
)
_BLOCKED_INABILITY = _compile(
    r"\b(?:khong|chang) (?:the )?(?:thuc hien|trien khai|lam|hoan thanh|tien hanh)"
    r"(?: [^\W_]+){0,2}? duoc\b",
    r"\bkhong the (?:thuc hien|trien khai|lam|hoan thanh|tien hanh)\b",
    r"\bchua (?:the )?(?:thuc hien|trien khai|lam|tien hanh)(?: [^\W_]+){0,2}? duoc\b(?! gi\b)",
)
_BLOCK_NEGATORS = frozenset({"khong", "chang", "chua", "het", "khong con", "not", "no"})
_BLOCK_RESOLVED = frozenset({"thao go", "giai quyet", "khac phuc", "xu ly"})

_EXTENSION = _compile(
    r"\bgia han\b",
    r"\b(?:lui|doi|keo dai|dieu chinh|hoan) (?:thoi )?(?:han|thoi gian|tien do)\b",
    r"\bxin (?:them )?thoi gian\b",
    r"\bxin (?:lui|hoan)\b(?! thanh)",
    r"\bxin them \d+ (?:ngay|tuan|thang)\b",
    r"\bextension\b|\bextend\b",
)
_EXTENSION_NEGATORS = frozenset({"khong", "chang", "chua", "khong can", "chua can"})


def _not_after(*words: str) -> str:
    return "".join(f"(?<!{word} )" for word in words)


# "vì", "do", "để" and the like, but not "đơn vị", "sau đó", "tiến độ", "vấn đề", "đề nghị".
_REASON_CONNECTIVE = re.compile(
    r"\b(?:boi vi|tai vi|ly do(?: la)?|nguyen nhan(?: la)?|because"
    rf"|{_not_after('don', 'pham')}vi"
    rf"|{_not_after('sau', 'khi', 'luc', 'den', 'tu', 'truoc')}"
    rf"{_not_after('tien', 'muc', 'che', 'trinh', 'thai')}do"
    rf"|{_not_after('van', 'chu')}de(?! (?:nghi|xuat|an|cap|ra)\b))\b"
)

_IN_PROGRESS_STRONG = _compile(
    r"\bdang\b(?! (?:ky|tai|ke|tin|nhap|bai|anh)\b)",
    r"\btiep tuc\b",
    r"\b(?:da|vua|moi) trinh\b",
    r"\bto trinh\b",
    r"\btrinh (?:ubnd|ub|hdnd|tinh|so|bo|lanh dao|chu tich|phe duyet|ky|xin)\b",
    r"\bcho (?:phe duyet|ky|y kien|thong qua|ban hanh|tham dinh|ket qua|lanh dao|xac nhan)\b",
    r"\b(?:lay|xin) y kien\b",
    r"\b(?:du thao|soan thao|hoan thien|tham dinh)\b",
    r"\bin progress\b|\bongoing\b|\bworking on\b",
)
_IN_PROGRESS_WEAK = _compile(r"\b(?:thuc hien|trien khai|tien hanh|ra soat)\b")
_NOT_STARTED = _compile(
    r"\bchua (?:bat dau|trien khai|thuc hien|lam|tien hanh|khoi dong|khoi cong)\b"
    r"(?! (?:xong|hoan thanh|het|duoc)\b)",
    r"\bchua lam duoc gi\b",
    r"\b(?:se|sap) (?:bat dau|trien khai|thuc hien|lam|tien hanh)\b",
    r"\bnot (?:yet )?started\b",
)
_WEAK_NEGATORS = frozenset({"chua", "khong", "se", "sap", "chang"})
_BARE_NOT_YET = re.compile(r"(?:(?:chua|em|anh|chi|a|ah|nhe|oi|dang|van|vay)\b\W*)+")

_DOCUMENT = re.compile(
    r"(?:\b(?:quyet dinh|qd|ke hoach|kh|van ban|cong van|cv|bao cao|bc|to trinh|ttr|thong bao|tb|"
    r"nghi quyet|nq|chi thi|ct|de an|huong dan|hd)\b ?)?(?:\bso ?)?"
    r"(?<![\d/])\d+ ?/ ?(?:\d{4} ?/ ?)?[a-z][a-z0-9&]*(?: ?- ?[a-z0-9&]+)*"
    r"(?: ngay \d{1,2} ?[/.-] ?\d{1,2} ?[/.-] ?\d{2,4})?"
)


# --------------------------------------------------------------------------- the rules

class _Done(StrEnum):
    DONE = "done"
    NOT_YET = "not_yet"  # negated, promised or only a draft/part: the task is in progress


def _done_state(ctx: _Context, hit: _Hit) -> _Done | None:
    """What a done-phrase says here; None when it is part of a question."""
    if ctx.in_question(hit.start):
        return None
    after = ctx.words_after(hit.end, 3)
    if after[:1] == ["chua"]:  # "hoàn thành chưa ạ": asked, not said
        return None
    if after == ["dau"]:  # "đã xong đâu": spoken denial
        return _Done.NOT_YET
    if ctx.text.startswith(" ", hit.end) and _BLOCKED_CORE[0].match(ctx.text, hit.end + 1):
        # "đã tháo gỡ xong vướng mắc": what is done is the difficulty, not the task
        return None
    if ctx.preceded_by(hit.start, _DONE_NEGATORS, 3, resets=_FACT_WORDS):
        return _Done.NOT_YET
    before = ctx.words_before(hit.start, 4)
    pairs = {f"{a} {b}" for a, b in pairwise(before)}
    if _PARTIAL.match(ctx.text, hit.end) or (set(before) | pairs) & _PARTIAL_BEFORE:
        return _Done.NOT_YET
    if _promised(ctx, hit, before):
        return _Done.NOT_YET
    return _Done.DONE


def _promised(ctx: _Context, hit: _Hit, before: list[str]) -> bool:
    if "da" in before:
        return False
    if ctx.preceded_by(hit.start, _TARGET_MARKERS, 6, resets=_FACT_WORDS):
        return True
    rest = [w for w in ctx.words_after(hit.end, 4) if w not in ("nhiem", "vu", "cong", "viec")]
    if not rest or rest[0] not in _FUTURE_LEADS or _NOT_FUTURE.match(ctx.text, hit.end):
        return False
    when = _find_date(ctx.text, hit.end, ctx.clause_at(hit.end).end, ctx.today)
    return when is None or when.value is None or when.value >= ctx.today


def _blocked_live(ctx: _Context, hit: _Hit) -> bool:
    if ctx.in_question(hit.start) or ctx.preceded_by(hit.start, _BLOCK_NEGATORS, 4):
        return False
    if ctx.preceded_by(hit.start, _BLOCK_RESOLVED, 4):
        return False
    after = ctx.words_after(hit.end, 6)
    pairs = {f"{a} {b}" for a, b in pairwise(after)}
    return not (pairs & _BLOCK_RESOLVED or after[:2] == ["gi", "khong"])


def _cut_before(ctx: _Context, start: int, end: int, stops: Iterable[int]) -> int:
    """End a slice where another statement or a question begins: at the clause boundary before."""
    questions = (clause.start for clause in ctx.clauses if clause.question)
    for stop in sorted(s for s in (*stops, *questions) if start < s < end):
        boundaries = [m.start() for m in _BOUNDARY.finditer(ctx.text, start, stop)]
        return boundaries[-1] if boundaries else stop
    return end


def _blocked_reason(ctx: _Context, hit: _Hit, self_naming: bool, stops: list[int]) -> str | None:
    end = _cut_before(ctx, hit.start, len(ctx.text), stops)
    if self_naming:
        s, e = _trim(ctx, hit.start, end, None, _REASON_TAIL)
        return _slice(ctx, s, e)
    s, e = _trim(ctx, hit.end, end, _REASON_LEAD, _REASON_TAIL)
    if s < e:
        return _slice(ctx, s, e)
    # "Kinh phí đang vướng": the cause came first.
    s, e = _trim(ctx, ctx.clause_at(hit.start).start, hit.start, _REASON_LEAD, _REASON_TAIL)
    return _slice(ctx, s, e)


def _evidence(ctx: _Context, hit: _Hit | None, stops: list[int]) -> str | None:
    """What follows the done-phrase, or else the first document reference in the reply."""
    if hit is not None:
        end = _cut_before(ctx, hit.end, len(ctx.text), stops)
        s, e = _trim(ctx, hit.end, end, _EVIDENCE_LEAD, _REASON_TAIL)
        if s < e:
            return _slice(ctx, s, e)
    document = _DOCUMENT.search(ctx.text)
    return _slice(ctx, *document.span()) if document else None


def _extension_reason(ctx: _Context, hit: _Hit, blocked: _Hit | None,
                      when: _DateHit | None) -> str | None:
    for m in _REASON_CONNECTIVE.finditer(ctx.text):
        if when is not None and when.start <= m.start() < when.end:
            continue
        if hit.start <= m.start() < hit.end:
            continue
        end = hit.start if m.start() < hit.start else len(ctx.text)
        s, e = _trim(ctx, m.end(), end, _REASON_LEAD, _REASON_TAIL)
        if s < e:
            return _slice(ctx, s, e)
    if blocked is not None:  # "vướng kinh phí, xin gia hạn": the difficulty, as written
        stops = [hit.start] if when is None else [hit.start, when.start]
        end = _cut_before(ctx, blocked.start, len(ctx.text), stops)
        s, e = _trim(ctx, blocked.start, end, None, _REASON_TAIL)
        return _slice(ctx, s, e)
    return None


def parse_reply(text: str, *, today: date) -> Reply:
    """Read a focal point's free-text reply (see the module docstring for the decisions)."""
    original = text.strip()
    ctx = _Context(_view(original), today)
    n = ctx.text

    percents = _percents(ctx)
    valid = [p for p in percents if p.value <= 100]
    percent = math.floor(valid[0].value) if valid else None
    percent_stops = [p.start for p in percents if p.value < 100]

    extensions = [h for h in _hits(_EXTENSION, n)
                  if not ctx.preceded_by(h.start, _EXTENSION_NEGATORS, 3)]
    self_naming = _hits(_BLOCKED_SELF, n)
    blocked_all = _hits((*_BLOCKED_CORE, *_BLOCKED_SELF, *_BLOCKED_INABILITY), n)
    blocked = [h for h in blocked_all if _blocked_live(ctx, h)]
    done_hits = [(h, _done_state(ctx, h)) for h in _hits(_DONE, n)]
    done = [h for h, state in done_hits if state is _Done.DONE]
    not_yet = [h for h, state in done_hits if state is _Done.NOT_YET]
    not_started = [h for h in _hits(_NOT_STARTED, n) if not ctx.in_question(h.start)]

    strong = [h for h in _hits(_IN_PROGRESS_STRONG, n) if not ctx.in_question(h.start)]

    if extensions:
        hit = extensions[0]
        when = _find_date(n, hit.end, len(n), today) or _find_date(n, 0, hit.start, today)
        # A day already past cannot be granted (often the date of a document): none is read.
        until = when.value if when and when.value and when.value >= today else None
        return Reply(
            ReplyKind.EXTENSION, original, percent=percent, requested_until=until,
            reason=_extension_reason(ctx, hit, blocked[0] if blocked else None, when),
        )
    if (done and (percent is None or percent == 100)) or (percent == 100 and not not_yet):
        stops = [*percent_stops, *(h.start for h in blocked_all), *(h.start for h in strong)]
        evidence = _evidence(ctx, done[0] if done else None, stops)
        return Reply(ReplyKind.DONE, original, percent=100, evidence=evidence)
    if blocked:
        hit = blocked[0]
        stops = [*percent_stops, *(h.start for h in extensions), *(h.start for h in done),
                 *(h.start for h in not_started)]
        reason = _blocked_reason(ctx, hit, hit in self_naming, stops)
        return Reply(ReplyKind.BLOCKED, original, percent=percent, reason=reason)
    if percent is not None and percent > 0:
        return Reply(ReplyKind.PERCENT, original, percent=percent)
    if percent == 0:
        return Reply(ReplyKind.NOT_STARTED, original, percent=0)
    if not_yet or strong or (_BARE_NOT_YET.fullmatch(n) and "chua" in _WORD.findall(n)):
        return Reply(ReplyKind.IN_PROGRESS, original)
    if not_started:
        return Reply(ReplyKind.NOT_STARTED, original)
    weak = [h for h in _hits(_IN_PROGRESS_WEAK, n)
            if not ctx.in_question(h.start) and not ctx.preceded_by(h.start, _WEAK_NEGATORS, 2)]
    if weak:
        return Reply(ReplyKind.IN_PROGRESS, original)
    document = _bare_document(ctx)
    if document is not None:
        return Reply(ReplyKind.DONE, original, percent=100, evidence=document)
    return Reply(ReplyKind.NOTE, original)


def _bare_document(ctx: _Context) -> str | None:
    """A reply that is only a document reference ("QĐ số 45/QĐ-UBND ngày 10/11/2024") reports
    the document issued: that is the task's product."""
    found = _DOCUMENT.search(ctx.text)
    if found is None or ctx.in_question(found.start()):
        return None
    before = _trim(ctx, 0, found.start(), _EVIDENCE_LEAD, None)
    after = _trim(ctx, found.end(), len(ctx.text), _EVIDENCE_LEAD, None)
    if before[0] < before[1] or after[0] < after[1]:
        return None
    return _slice(ctx, *found.span())


# --------------------------------------------------------------------------- acknowledgement

def describe_reply(reply: Reply, lang: str = "vi") -> str:
    """The acknowledgement the bot sends back, in "vi" or "en"; other languages raise ValueError."""
    if lang not in ("vi", "en"):
        raise ValueError(f"unsupported language {lang!r}: expected 'vi' or 'en'")
    vi = lang == "vi"
    kind = reply.kind
    if kind is ReplyKind.DONE:
        detail = f" ({reply.evidence})" if reply.evidence else ""
        return f"Đã ghi nhận: hoàn thành{detail}." if vi else f"Recorded: completed{detail}."
    if kind is ReplyKind.PERCENT:
        return (f"Đã ghi nhận tiến độ {reply.percent}%." if vi
                else f"Recorded: progress {reply.percent}%.")
    if kind is ReplyKind.IN_PROGRESS:
        return "Đã ghi nhận: đang thực hiện." if vi else "Recorded: in progress."
    if kind is ReplyKind.NOT_STARTED:
        return ("Đã ghi nhận: chưa triển khai thực hiện." if vi
                else "Recorded: not started yet.")
    if kind is ReplyKind.BLOCKED:
        return _describe_blocked(reply, vi)
    if kind is ReplyKind.EXTENSION:
        return _describe_extension(reply, vi)
    return "Đã lưu ghi chú của anh/chị." if vi else "Your note has been saved."


def _describe_blocked(reply: Reply, vi: bool) -> str:
    progress = ""
    if reply.percent is not None:
        progress = (f" (tiến độ hiện tại {reply.percent}%)" if vi
                    else f" (current progress {reply.percent}%)")
    if vi:
        cause = f": {reply.reason}" if reply.reason else ""
        return (f"Đã ghi nhận khó khăn, vướng mắc{cause}{progress}. "
                "Cơ quan điều phối sẽ được thông báo.")
    cause = f": {reply.reason}" if reply.reason else ""
    return f"Recorded difficulty{cause}{progress}. The coordinating agency will be notified."


def _describe_extension(reply: Reply, vi: bool) -> str:
    until = ""
    if reply.requested_until is not None:
        day = reply.requested_until.strftime("%d/%m/%Y")
        until = f" đến ngày {day}" if vi else f" until {day}"
    if vi:
        why = f" (lý do: {reply.reason})" if reply.reason else ""
        return (f"Đã ghi nhận đề nghị gia hạn{until}{why}. "
                "Đề nghị sẽ được chuyển cơ quan điều phối xem xét.")
    why = f" (reason: {reply.reason})" if reply.reason else ""
    return (f"Recorded extension request{until}{why}. "
            "It will be forwarded to the coordinating agency for review.")
