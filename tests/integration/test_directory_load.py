"""The stored directory read back as plain columns, its name index built at the first look-up."""

from pathlib import Path

from sqlmodel import Session

from domain.agencies import Directory
from domain.directory_csv import parse_directory
from storage import repository

DATA = Path(__file__).resolve().parents[2] / "app" / "data" / "agencies"


def bundled() -> Directory:
    return parse_directory(
        (DATA / "nghe-an-agencies.csv").read_text(encoding="utf-8"),
        (DATA / "nghe-an-groups.csv").read_text(encoding="utf-8"),
        source="app/data/agencies",
    )


def test_the_loaded_directory_equals_the_saved_one_and_answers_the_same(session: Session) -> None:
    saved = bundled()
    assert not repository.has_directory(session)
    repository.save_directory(session, saved)
    session.commit()
    session.expunge_all()

    loaded = repository.load_directory(session)
    assert repository.has_directory(session)
    assert list(loaded.agencies.values()) == list(saved.agencies.values())
    assert list(loaded.groups.values()) == list(saved.groups.values())
    codes = [*saved.agencies, *saved.groups]
    assert {c: loaded.note(c) for c in codes} == {c: saved.note(c) for c in codes}
    assert loaded._index is None  # not indexed by the read

    for agency in saved.agencies.values():
        for text in (agency.name, agency.code, *agency.aliases, agency.name.lower()):
            assert loaded.resolve(text) == saved.resolve(text), text
    cell = "Các sở, ban, ngành cấp tỉnh; UBND các huyện, thành phố, thị xã và Sở KH&ĐT"
    assert loaded.resolve_cell(cell) == saved.resolve_cell(cell)
    assert loaded.search("tai chinh") == saved.search("tai chinh")
