"""The name index built at the first look-up (``check_names=False``) answers as the eager one."""

import re
import threading
from pathlib import Path

import pytest

from domain.agencies import Agency, AgencyLevel, Directory, Group
from domain.directory_csv import parse_directory

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "app" / "data" / "agencies"
SEED = ROOT / ".." / "shared" / "seed" / "ke-hoach-289-KH-UBND-2023-nghe-an.txt"
S = AgencyLevel.PROVINCE


@pytest.fixture(scope="module")
def eager() -> Directory:
    return parse_directory(
        (DATA / "nghe-an-agencies.csv").read_text(encoding="utf-8"),
        (DATA / "nghe-an-groups.csv").read_text(encoding="utf-8"),
        source="app/data/agencies",
    )


def lazy_copy(directory: Directory) -> Directory:
    notes = {code: directory.note(code) for code in [*directory.agencies, *directory.groups]}
    return Directory(
        directory.agencies.values(), directory.groups.values(), notes=notes, check_names=False
    )


def probes(directory: Directory) -> list[str]:
    """Every name the directory knows, mangled the ways people write them, and near misses."""
    names: list[str] = []
    for entry in [*directory.agencies.values(), *directory.groups.values()]:
        for text in (entry.name, entry.code, *entry.aliases):
            names += [text, text.lower(), text.upper(), f"{text} tỉnh Nghệ An", text[:-1]]
    return [*names, "Sở Abc", "zzz", "", "UBND các huyện, thành phố, thị xã; Sở Tài chính"]


def test_lazy_index_resolves_splits_and_searches_as_the_eager_one(eager: Directory) -> None:
    lazy = lazy_copy(eager)
    assert lazy._index is None  # nothing indexed until a name is looked up

    for text in probes(eager):
        assert lazy.resolve(text) == eager.resolve(text), text
        assert lazy.split_cell(text) == eager.split_cell(text), text
    for query in ("so noi vu", "tai chinh", "quynh luu", "anh son", "so noi vuu", "xa", "snv"):
        assert lazy.search(query) == eager.search(query), query
    assert lazy._index is not None


def test_lazy_index_reads_every_cell_of_the_seed_plan_as_the_eager_one(eager: Directory) -> None:
    if not SEED.exists():
        pytest.skip(f"seed plan not found: {SEED}")
    lazy = lazy_copy(eager)
    cells = [line for line in SEED.read_text(encoding="utf-8").splitlines() if "\t" in line]
    assert cells
    for line in cells:
        for cell in line.split("\t"):
            assert lazy.resolve_cell(cell) == eager.resolve_cell(cell), cell


def test_everything_but_names_works_without_building_the_index(eager: Directory) -> None:
    lazy = lazy_copy(eager)
    code = next(iter(eager.agencies))
    group = next(iter(eager.groups))
    assert lazy.display_name(code) == eager.display_name(code)
    assert lazy.members(group) == eager.members(group)
    assert lazy.successors("SKHDT") == eager.successors("SKHDT")
    assert lazy.note("SKHDT") == eager.note("SKHDT")
    assert lazy._index is None


def test_a_name_clash_is_still_refused_at_the_first_look_up() -> None:
    agencies = [Agency("A", "Sở A", S), Agency("B", "Sở B", S, aliases=("Sở A",))]
    lazy = Directory(agencies, [], check_names=False)  # as loaded: the clash is not seen yet
    with pytest.raises(ValueError, match=re.escape("B")):
        lazy.resolve("Sở A")
    with pytest.raises(ValueError, match=re.escape("B")):
        Directory(agencies, [])  # the eager default refuses it at once


def test_other_rules_are_checked_at_construction_either_way() -> None:
    with pytest.raises(ValueError, match="Q"):
        Directory([Agency("A", "Sở A", S)], [Group("G", "Nhóm", members=("A", "Q"))],
                  check_names=False)  # fmt: skip


def test_threads_looking_up_at_once_share_one_index(eager: Directory) -> None:
    lazy = lazy_copy(eager)
    start = threading.Barrier(4)
    answers: list[str | None] = []

    def look_up() -> None:
        start.wait()
        answers.append(lazy.resolve("Sở KH&ĐT").agency)

    threads = [threading.Thread(target=look_up) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == ["SKHDT"] * 4
    index = lazy._index
    lazy.resolve("Sở Tài chính")
    assert lazy._index is index  # built once, kept
