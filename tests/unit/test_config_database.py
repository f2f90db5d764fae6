"""[database] sqlite_synchronous: "normal" by default, "full" on request, nothing else."""

import pytest

from app.config import ConfigError, parse_config


def test_sqlite_synchronous_defaults_to_normal() -> None:
    assert parse_config({}, {}, "x.toml").database.sqlite_synchronous == "normal"


def test_sqlite_synchronous_full_from_the_file_or_the_environment() -> None:
    from_file = parse_config({"database": {"sqlite_synchronous": "FULL"}}, {}, "x.toml")
    from_env = parse_config({}, {"NHACVIEC_DATABASE_SQLITE_SYNCHRONOUS": "full"}, "x.toml")
    assert from_file.database.sqlite_synchronous == "full"
    assert from_env.database.sqlite_synchronous == "full"


def test_an_unsafe_or_unknown_sqlite_synchronous_is_refused() -> None:
    with pytest.raises(ConfigError, match="sqlite_synchronous"):
        parse_config({"database": {"sqlite_synchronous": "off"}}, {}, "x.toml")
