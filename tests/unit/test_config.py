"""Settings: file values, environment overrides NHACVIEC_<SECTION>_<KEY>, and clear errors."""

import tomllib
from datetime import date, time
from pathlib import Path

import pytest

from app.config import ConfigError, load_config, parse_config

ROOT = Path(__file__).resolve().parents[2]


def test_example_config_parses_to_the_defaults() -> None:
    raw = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    config = parse_config(raw, {}, "config.example.toml")
    assert config.database.url == "sqlite:///nhacviec.db"
    assert config.reminders.lead_days_before == (30, 14, 7, 3, 1)
    assert config.reminders.send_time == time(8, 0)
    assert config.status.require_confirmation is True


def test_environment_overrides_file() -> None:
    raw = {"database": {"url": "sqlite:///a.db"}, "telegram": {"token": "from-file"}}
    env = {
        "NHACVIEC_DATABASE_URL": "postgresql://x@h/db",
        "NHACVIEC_TELEGRAM_TOKEN": "123:abc",
        "NHACVIEC_TELEGRAM_BASE_URL": "http://127.0.0.1:9000/bot",
        "NHACVIEC_REMINDERS_LEAD_DAYS_BEFORE": "10,5",
        "NHACVIEC_STATUS_REQUIRE_CONFIRMATION": "false",
        "NHACVIEC_CALENDAR_DAYS_OFF": "2026-02-23, 2026-02-24",
    }
    config = parse_config(raw, env, "x.toml")
    assert config.database.url == "postgresql://x@h/db"
    assert config.telegram.token == "123:abc"
    assert config.telegram.base_url == "http://127.0.0.1:9000/bot"
    assert config.reminders.lead_days_before == (10, 5)
    assert config.status.require_confirmation is False
    assert config.calendar.days_off == (date(2026, 2, 23), date(2026, 2, 24))


@pytest.mark.parametrize(
    ("raw", "env", "needle"),
    [
        ({"databse": {}}, {}, "databse"),
        ({"reminders": {"send_tme": "08:00"}}, {}, "send_tme"),
        ({"reminders": {"send_time": "8h"}}, {}, "send_time"),
        (
            {},
            {"NHACVIEC_REMINDERS_ESCALATE_AFTER_DAYS": "bảy"},
            "NHACVIEC_REMINDERS_ESCALATE_AFTER_DAYS",
        ),
        ({"language": "fr"}, {}, "language"),
    ],
)
def test_bad_settings_name_the_key(
    raw: dict[str, object], env: dict[str, str], needle: str
) -> None:
    with pytest.raises(ConfigError, match=needle):
        parse_config(raw, env, "config.toml")


def test_load_config_names_a_broken_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[database\nurl=1", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"config\.toml"):
        load_config(path, env={})
