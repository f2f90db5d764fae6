"""The agency directory: agencies, groups of agencies, successions, and name resolution.

A directory is data (see app/data/agencies/); this module holds the rules for reading names
written in plans and chats ("Sở NV", "so noi vu", "UBND các huyện, thành phố, thị xã") and for
following mergers ("Sở Kế hoạch và Đầu tư" hands its work to "Sở Tài chính" from 2025-03-01).
"""

import difflib
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from types import MappingProxyType

from domain.text import fold, nfc


class AgencyLevel(StrEnum):
    PROVINCE = "province"  # sở, ban, ngành cấp tỉnh; Văn phòng UBND tỉnh; Thanh tra tỉnh
    DISTRICT = "district"  # UBND huyện / thị xã / thành phố (until 2025-06-30)
    COMMUNE = "commune"  # UBND xã / phường (from 2025-07-01)
    OTHER = "other"  # mass organisations, central agencies' branches, Party bodies


@dataclass(frozen=True, slots=True)
class Agency:
    code: str  # stable short id, ASCII: "SNV", "STC", "H-QUYNHLUU", "X-ANHSON"
    name: str  # official name with diacritics: "Sở Nội vụ"
    level: AgencyLevel
    aliases: tuple[str, ...] = ()  # other spellings and abbreviations: "SNV", "Sở NV"
    valid_from: date | None = None  # exists from this day (None: always did)
    valid_until: date | None = None  # last day it exists (None: still exists)
    successor: str | None = None  # code of the agency that takes over its work after valid_until


@dataclass(frozen=True, slots=True)
class Group:
    code: str  # "SO-BAN-NGANH", "UBND-HUYEN", "UBND-XA"
    name: str  # "Các sở, ban, ngành cấp tỉnh"
    aliases: tuple[str, ...] = ()
    members: tuple[str, ...] = ()  # agency codes; a member counts on a date only if valid then


@dataclass(frozen=True, slots=True)
class Resolution:
    """What one name in a cell resolved to. Exactly one of agency / group is set, or neither."""

    text: str  # the name as written
    agency: str | None = None  # agency code
    group: str | None = None  # group code
    suggestions: tuple[str, ...] = field(default=())  # closest agency/group names when unresolved

    @property
    def ok(self) -> bool:
        return self.agency is not None or self.group is not None


def valid_on(agency: Agency, on: date) -> bool:
    """Whether the agency exists on that day (both ends of its validity inclusive)."""
    return (agency.valid_from is None or agency.valid_from <= on) and (
        agency.valid_until is None or on <= agency.valid_until
    )


# --- name keys -----------------------------------------------------------------------------------
# Two spellings of one name must give one key: case, diacritics, punctuation, "&"/"và", the usual
# short forms and the place suffixes people append ("... tỉnh Nghệ An") are all ironed out.

_NON_WORD = re.compile(r"[^\w]+")
_PHRASES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("uy", "ban", "nhan", "dan"), ("ubnd",)),
    (("tp",), ("thanh", "pho")),
    (("tx",), ("thi", "xa")),
    (("h",), ("huyen",)),
    (("vp",), ("van", "phong")),
    (("co", "lien", "quan"), ("lien", "quan")),
)
# Longest first so "cấp tỉnh" goes as a whole; a suffix is dropped only when two words remain, so
# "Báo Nghệ An" and "UBND tỉnh" keep their meaning.
_SUFFIXES: tuple[tuple[str, ...], ...] = (
    ("cap", "tinh"),
    ("tinh", "nghe", "an"),
    ("nghe", "an"),
    ("tinh",),
)


def _replace_phrases(tokens: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for old, new in _PHRASES:
            if tuple(tokens[i : i + len(old)]) == old:
                out.extend(new)
                i += len(old)
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


def name_key(text: str) -> str:
    """The matching form of an agency name: "Sở KH&ĐT tỉnh Nghệ An" -> "so kh va dt"."""
    tokens = _replace_phrases(_NON_WORD.sub(" ", fold(text).replace("&", " va ")).split())
    if len(tokens) > 1 and tokens[0] == "cac":
        tokens = tokens[1:]
    stripped = True
    while stripped:
        stripped = False
        for suffix in _SUFFIXES:
            if len(tokens) - len(suffix) >= 2 and tuple(tokens[-len(suffix) :]) == suffix:
                tokens = tokens[: -len(suffix)]
                stripped = True
                break
    return " ".join(tokens)


def compact_key(key: str) -> str:
    """A key without spaces and "và", "Sở" as "S": "Sở KH&ĐT", "Sở KHĐT" and "SKHĐT" meet here."""
    tokens = [t for t in key.split() if t != "va"]
    if tokens and tokens[0] == "so":
        tokens[0] = "s"
    return "".join(tokens)


# --- names derived by rule -----------------------------------------------------------------------

_PHRASE_SEPARATORS = re.compile(r"\s*(,|&|\s[-–]\s|\bvà\b)\s*")


def _initials(phrase: str) -> str:
    return "".join(word[0].upper() for word in phrase.split())


def derived_names(agency: Agency) -> tuple[str, ...]:
    """Short forms an agency is called by, made by rule rather than listed in the data.

    "Sở Kế hoạch và Đầu tư" -> "SKHĐT", "Sở KHĐT", "Sở KH&ĐT", "Kế hoạch và Đầu tư";
    "Sở Văn hóa, Thể thao và Du lịch" -> ..., "Sở VH,TT&DL", "Sở VHTT&DL";
    "UBND huyện Quỳnh Lưu" -> "huyện Quỳnh Lưu"; "UBND xã Anh Sơn" -> "xã Anh Sơn", "Anh Sơn".
    A district's bare place name is data (an alias), so that it outranks the commune of that name.
    """
    name = agency.name
    found: list[str] = []
    if name.startswith("Sở "):
        body = name[3:].strip()
        parts = _PHRASE_SEPARATORS.split(body)
        phrases = [_initials(p) for p in parts[0::2] if p.strip()]
        separators = ["&" if s.strip() == "và" else s.strip() for s in parts[1::2]]
        joined = phrases[0] + "".join(s + p for s, p in zip(separators, phrases[1:], strict=False))
        found += ["S" + "".join(phrases), "Sở " + "".join(phrases), "Sở " + joined, body]
        if len(phrases) > 1:
            found.append("Sở " + "".join(phrases[:-1]) + "&" + phrases[-1])
    elif name.startswith("UBND "):
        found.append(name[5:])
        if agency.level is AgencyLevel.COMMUNE:
            found.append(re.sub(r"^(xã|phường|thị trấn)\s+", "", name[5:], flags=re.IGNORECASE))
    return tuple(dict.fromkeys(found))


# --- splitting cells -----------------------------------------------------------------------------

_HARD_SEPARATORS = re.compile(r"[;\n\r]+")
_ATOM_SEPARATORS = re.compile(r"([()]|,|\s+và\s+)", re.IGNORECASE)
_EDGE_PUNCTUATION = " \t-–•+.:;,"
_PARENTHESES = re.compile(r"\([^()]*\)")
# "Các Sở: Tài chính, Xây dựng" lists names under one head word (keys are name_key forms).
_LIST_HEADS = {
    "so": "Sở ",
    "huyen": "UBND huyện ",
    "ubnd cac huyen": "UBND huyện ",
    "xa": "UBND xã ",
    "ubnd cac xa": "UBND xã ",
    "phuong": "UBND phường ",
    "ubnd cac phuong": "UBND phường ",
}
# Words that open an agency name: "và" before one of these separates two names ("Sở Tài chính và
# UBND các huyện"); before anything else it is inside a name we do not know ("Sở Abc và Xyz").
_NAME_HEADS = {
    "so", "ubnd", "ban", "bo", "bao", "dai", "hoi", "cuc", "truong", "cac", "phong", "vp", "bql",
    "huyen", "xa", "phuong", "van phong", "thanh tra", "cong an", "ngan hang",
    "trung tam", "kho bac", "lien doan", "lien minh", "chi cuc", "uy ban", "mat tran", "tinh doan",
    "thi xa", "thanh pho", "doan",
}


def _atoms(text: str) -> tuple[list[str], list[str]]:
    """Split at commas and "và" outside parentheses: the pieces and the separator before each."""
    atoms: list[str] = []
    separators: list[str] = []
    current, depth = "", 0
    for piece in _ATOM_SEPARATORS.split(text):
        if piece in ("(", ")"):
            depth = depth + 1 if piece == "(" else max(0, depth - 1)
            current += piece
        elif depth == 0 and (piece == "," or piece.strip().lower() == "và"):
            atoms.append(current.strip())
            separators.append("," if piece == "," else "và")
            current = ""
        else:
            current += piece
    atoms.append(current.strip())
    kept_atoms: list[str] = []
    kept_separators: list[str] = []
    for i, atom in enumerate(atoms):
        if not atom:
            continue
        if kept_atoms:
            kept_separators.append(separators[i - 1])
        kept_atoms.append(atom)
    return kept_atoms, kept_separators


def _join(atoms: list[str], separators: list[str], start: int, end: int) -> str:
    text = atoms[start]
    for k in range(start + 1, end):
        text += (", " if separators[k - 1] == "," else " và ") + atoms[k]
    return text


def _opens_name(atom: str) -> bool:
    words = fold(atom).split()
    first = atom.split()[0] if atom.split() else ""
    return bool(words) and (
        words[0] in _NAME_HEADS
        or " ".join(words[:2]) in _NAME_HEADS
        or (len(first) > 1 and first.isupper())
    )


# --- the directory -------------------------------------------------------------------------------

_SUGGEST_CUTOFF = 0.7  # at 0.6 "Tổng công ty Đường sắt" is offered "Sở Công Thương"
_SEARCH_CUTOFF = 0.75  # below this, typing "tai chinh" also lists "xã Châu Bình"


@dataclass(frozen=True, slots=True)
class _NameIndex:
    exact: dict[str, frozenset[str]]  # name_key -> codes
    compact: dict[str, frozenset[str]]  # compact_key -> codes


class Directory:
    """Agencies and groups of one province, with name resolution and successions.

    Built from data (domain.directory_csv reads the bundled CSV files); validated on construction so
    a bad directory fails when loaded, naming the code at fault, not later in a reminder.

    The name index (every name, code, alias and derived short form, by ``name_key``) is what
    resolving, splitting and searching names need, and the costly part: at 10,000 agencies it takes
    about a second. ``check_names=False`` defers it to the first look-up by name, for a directory
    whose names were checked when it was saved (``storage.repository.load_directory``): planning
    and dispatch never look a name up. Should the deferred index find two agencies sharing a name
    after all, that look-up raises the ValueError construction would have raised.
    """

    def __init__(
        self,
        agencies: Iterable[Agency],
        groups: Iterable[Group],
        *,
        notes: Mapping[str, str] | None = None,
        check_names: bool = True,
    ) -> None:
        agency_map: dict[str, Agency] = {}
        for agency in agencies:
            if agency.code in agency_map:
                raise ValueError(f"Mã cơ quan {agency.code} bị trùng.")
            agency_map[agency.code] = agency
        group_map: dict[str, Group] = {}
        for group in groups:
            if group.code in group_map or group.code in agency_map:
                raise ValueError(f"Mã nhóm {group.code} bị trùng.")
            group_map[group.code] = group
        self.agencies: Mapping[str, Agency] = MappingProxyType(agency_map)
        self.groups: Mapping[str, Group] = MappingProxyType(group_map)
        self._notes: dict[str, str] = {}
        for code, note in (notes or {}).items():
            if code not in agency_map and code not in group_map:
                raise ValueError(f"Ghi chú cho mã {code} không có trong danh bạ.")
            if note:
                self._notes[code] = note
        self._check_agencies()
        self._check_groups()
        self._index: _NameIndex | None = None
        self._index_lock = threading.Lock()  # planning and dispatch share one directory
        if check_names:
            self._names()

    # -- validation --

    def _check_agencies(self) -> None:
        for agency in self.agencies.values():
            if (
                agency.valid_from is not None
                and agency.valid_until is not None
                and agency.valid_from > agency.valid_until
            ):
                raise ValueError(f"{agency.code}: valid_from sau valid_until.")
            if agency.successor is None:
                continue
            if agency.successor not in self.agencies:
                raise ValueError(
                    f"{agency.code}: cơ quan kế thừa {agency.successor} không có trong danh bạ."
                )
            if agency.valid_until is None:
                raise ValueError(f"{agency.code}: có cơ quan kế thừa nhưng thiếu valid_until.")
            chain = [agency.code]
            current: str | None = agency.successor
            while current is not None:
                if current in chain:
                    raise ValueError("Chuỗi kế thừa lặp vòng: " + " -> ".join([*chain, current]))
                chain.append(current)
                current = self.agencies[current].successor

    def _check_groups(self) -> None:
        for group in self.groups.values():
            for code in group.members:
                if code not in self.agencies:
                    raise ValueError(f"Nhóm {group.code}: thành viên {code} không có trong danh bạ")
            if len(set(group.members)) != len(group.members):
                raise ValueError(f"Nhóm {group.code}: thành viên bị lặp.")

    def _names(self) -> "_NameIndex":
        """The name index, built on first use (once, whichever thread asks first)."""
        index = self._index
        if index is None:
            with self._index_lock:
                index = self._index
                if index is None:
                    index = self._index = self._index_names()
        return index

    @property
    def _exact(self) -> Mapping[str, frozenset[str]]:
        return self._names().exact

    @property
    def _compact(self) -> Mapping[str, frozenset[str]]:
        return self._names().compact

    def _index_names(self) -> "_NameIndex":
        primary: dict[str, tuple[str, str]] = {}  # key -> (code, text), names written in the data
        primary_compact: dict[str, set[str]] = {}
        sources: list[tuple[str, str, tuple[str, ...]]] = [
            (a.code, a.name, a.aliases) for a in self.agencies.values()
        ] + [(g.code, g.name, g.aliases) for g in self.groups.values()]
        for code, name, aliases in sources:
            for text in (name, code, *aliases):
                key = name_key(text)
                if not key:
                    raise ValueError(f"{code}: tên {text!r} rỗng sau khi chuẩn hóa.")
                other = primary.get(key)
                if other is not None and other[0] != code:
                    raise ValueError(
                        f"Tên {text!r} của {code} trùng với {other[1]!r} của {other[0]}."
                    )
                primary[key] = (code, text)
                primary_compact.setdefault(compact_key(key), set()).add(code)
        derived: dict[str, set[str]] = {}
        derived_compact: dict[str, set[str]] = {}
        for agency in self.agencies.values():
            for text in derived_names(agency):
                key = name_key(text)
                if key and key not in primary:
                    derived.setdefault(key, set()).add(agency.code)
                if key and compact_key(key) not in primary_compact:
                    derived_compact.setdefault(compact_key(key), set()).add(agency.code)
        exact = {k: frozenset({v[0]}) for k, v in primary.items()}
        exact.update({k: frozenset(v) for k, v in derived.items()})
        compact = {k: frozenset(v) for k, v in primary_compact.items()}
        compact.update({k: frozenset(v) for k, v in derived_compact.items()})
        return _NameIndex(exact, compact)

    # -- look-ups --

    def agency(self, code: str) -> Agency:
        """The agency with that code; KeyError if there is none."""
        return self.agencies[code]

    def note(self, code: str) -> str:
        """The data's remark on an agency or group ("" when there is none)."""
        return self._notes.get(code, "")

    def display_name(self, code: str) -> str:
        """The official name of an agency or group code."""
        if code in self.agencies:
            return self.agencies[code].name
        return self.groups[code].name

    def is_valid(self, code: str, on: date) -> bool:
        return valid_on(self.agencies[code], on)

    def _lookup(self, text: str) -> frozenset[str]:
        key = name_key(text)
        if not key:
            return frozenset()
        return self._exact.get(key) or self._compact.get(compact_key(key)) or frozenset()

    def resolve(self, name: str) -> Resolution:
        """One name to one agency or group; otherwise unresolved with up to 3 close names."""
        text = nfc(name).strip(_EDGE_PUNCTUATION)
        hits = self._lookup(text)
        if not hits and "(" in text:
            hits = self._lookup(_PARENTHESES.sub(" ", text))
        if len(hits) == 1:
            (code,) = hits
            if code in self.agencies:
                return Resolution(text=text, agency=code)
            return Resolution(text=text, group=code)
        if hits:  # the same short form stands for several agencies
            suggestions = tuple(sorted(self.display_name(c) for c in hits))[:3]
        else:
            suggestions = self._suggest(text)
        return Resolution(text=text, suggestions=suggestions)

    def _suggest(self, text: str) -> tuple[str, ...]:
        key = name_key(text)
        if not key:
            return ()
        scored: list[tuple[float, str]] = []
        for probe, table in ((key, self._exact), (compact_key(key), self._compact)):
            close = difflib.get_close_matches(probe, list(table), n=10, cutoff=_SUGGEST_CUTOFF)
            for candidate in close:
                ratio = difflib.SequenceMatcher(None, probe, candidate).ratio()
                scored += [(ratio, self.display_name(code)) for code in sorted(table[candidate])]
        scored.sort(key=lambda item: -item[0])
        return tuple(dict.fromkeys(name for _, name in scored))[:3]

    def split_cell(self, cell: str) -> list[str]:
        """The names in a lead/support cell, keeping together the known names that hold commas.

        ";" and line breaks always separate; "," and "và" separate unless the longer text is a
        known name ("Các sở, ban, ngành cấp tỉnh", "Sở Văn hóa, Thể thao và Du lịch").
        """
        names: list[str] = []
        for raw in _HARD_SEPARATORS.split(cell):
            chunk = nfc(raw).strip(_EDGE_PUNCTUATION)
            if not chunk:
                continue
            prefix = ""
            head, colon, tail = chunk.partition(":")
            if colon and name_key(head) in _LIST_HEADS:
                prefix, chunk = _LIST_HEADS[name_key(head)], tail.strip(_EDGE_PUNCTUATION)
            atoms, separators = _atoms(chunk)
            names += self._group_atoms(atoms, separators, prefix)
        return names

    def _group_atoms(self, atoms: list[str], separators: list[str], prefix: str) -> list[str]:
        names: list[str] = []
        start = 0
        while start < len(atoms):
            found: tuple[str, int] | None = None
            for head in dict.fromkeys((prefix, "")):
                for end in range(len(atoms), start, -1):
                    text = head + _join(atoms, separators, start, end)
                    if self._lookup(text):
                        found = (text, end)
                        break
                if found:
                    break
            if found is None:
                end = start + 1
                while (
                    end < len(atoms)
                    and separators[end - 1] == "và"
                    and not _opens_name(atoms[end])
                ):
                    end += 1
                found = (prefix + _join(atoms, separators, start, end), end)
            names.append(found[0])
            start = found[1]
        return names

    def resolve_cell(self, cell: str) -> list[Resolution]:
        return [self.resolve(name) for name in self.split_cell(cell)]

    def members(self, group: str, on: date | None = None) -> list[str]:
        """The group's agency codes valid on that day, in data order (all of them when None)."""
        codes = self.groups[group].members
        if on is None:
            return list(codes)
        return [code for code in codes if valid_on(self.agencies[code], on)]

    def successor_on(self, code: str, on: date) -> str:
        """The agency answering for `code`'s work on that day, following mergers.

        Itself when valid. When the chain ends without an agency valid that day (a district
        abolished with no single successor, or an agency that does not exist yet) the last agency
        of the chain is returned: check ``is_valid`` to tell.
        """
        current = self.agencies[code]
        while not valid_on(current, on):
            ended = current.valid_until is not None and on > current.valid_until
            if not ended or current.successor is None:
                break
            current = self.agencies[current.successor]
        return current.code

    def successors(self, code: str) -> list[str]:
        """``code`` and the agencies that took over its work, in order (unknown codes: itself)."""
        chain = [code]
        while code in self.agencies and (successor := self.agencies[code].successor):
            if successor in chain:
                break
            chain.append(successor)
            code = successor
        return chain

    def search(self, query: str, limit: int = 5) -> list[Agency]:
        """Best agency matches for a name being typed: exact, then word prefixes, then close."""
        query_key = name_key(query)
        if not query_key or limit <= 0:
            return []
        words = query_key.split()
        query_compact = compact_key(query_key)
        best: dict[str, float] = {}
        for key, codes in self._exact.items():
            score = _search_score(query_key, words, query_compact, key)
            for code in codes:
                if code in self.agencies and score > best.get(code, 0.0):
                    best[code] = score
        ranked = sorted(best, key=lambda c: (-best[c], self.agencies[c].name))
        return [self.agencies[c] for c in ranked[:limit]]


def _search_score(query: str, words: list[str], query_compact: str, key: str) -> float:
    if key == query or compact_key(key) == query_compact:
        return 3.0
    key_words = key.split()
    if all(any(kw.startswith(w) for kw in key_words) for w in words):
        return 2.0 + len(query) / len(key)
    if query in key:
        return 1.5 + len(query) / len(key)
    ratio = difflib.SequenceMatcher(None, query, key).ratio()
    return ratio if ratio >= _SEARCH_CUTOFF else 0.0
