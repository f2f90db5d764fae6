"""The [zalo] window settings: defaults, overrides, limits, and what the service gets."""

import tomllib
from datetime import timedelta
from pathlib import Path

import pytest

from app.config import ConfigError, parse_config
from app.runtime import with_zalo_settings
from domain.channel_choice import InteractionWindow
from scheduler.service import ServiceSettings

ROOT = Path(__file__).resolve().parents[2]


def test_the_example_config_documents_the_window_with_the_defaults() -> None:
    raw = tomllib.loads((ROOT / "config.example.toml").read_text(encoding="utf-8"))
    zalo = parse_config(raw, {}, "config.example.toml").zalo
    assert set(raw["zalo"]) >= {"window_hours", "free_hours", "weekly_checkin"}
    assert (zalo.window_hours, zalo.free_hours) == (168, 48)
    assert (zalo.weekly_checkin, zalo.checkin_before_hours) == (False, 24)


def test_the_environment_overrides_the_window() -> None:
    env = {"NHACVIEC_ZALO_WINDOW_HOURS": "48", "NHACVIEC_ZALO_WEEKLY_CHECKIN": "có"}
    zalo = parse_config({"zalo": {"checkin_before_hours": 12}}, env, "x.toml").zalo
    assert (zalo.window_hours, zalo.weekly_checkin, zalo.checkin_before_hours) == (48, True, 12)


@pytest.mark.parametrize(
    ("zalo", "needle"),
    [
        ({"window_hours": 169}, "window_hours"),
        ({"window_hours": 0}, "window_hours"),
        ({"free_hours": -1}, "free_hours"),
        ({"window_hours": 24, "checkin_before_hours": 24}, "checkin_before_hours"),
        ({"window_hours": "một tuần"}, "window_hours"),
    ],
)
def test_a_window_zalo_would_not_honour_is_refused(zalo: dict[str, object], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        parse_config({"zalo": zalo}, {}, "config.toml")


@pytest.mark.parametrize(
    ("raw", "window", "checkin"),
    [
        ({}, InteractionWindow(timedelta(days=7), timedelta(hours=48)), None),
        (
            {"window_hours": 48, "free_hours": 48, "weekly_checkin": True},
            InteractionWindow(timedelta(hours=48), timedelta(hours=48)),
            timedelta(hours=24),
        ),
    ],
)
def test_the_service_gets_the_configured_window_and_check_in(
    raw: dict[str, object], window: InteractionWindow, checkin: timedelta | None
) -> None:
    zalo = parse_config({"zalo": raw}, {}, "config.toml").zalo
    settings = with_zalo_settings(ServiceSettings(worker_id="w"), zalo)
    assert (settings.zalo_window, settings.zalo_checkin_before) == (window, checkin)
    assert settings.worker_id == "w"
