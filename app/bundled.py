"""Paths of the data shipped with nhacviec: the Nghệ An directory and a sample plan."""

from importlib.resources import files
from pathlib import Path


def data_path(*parts: str) -> Path:
    return Path(str(files("app").joinpath("data", *parts)))


def sample_plan() -> Path:
    return data_path("sample-plan.md")


def directory_files() -> tuple[Path, Path]:
    return data_path("agencies", "nghe-an-agencies.csv"), data_path(
        "agencies", "nghe-an-groups.csv"
    )
