"""Settings: config.toml sections, overridden by environment variables NHACVIEC_<SECTION>_<KEY>.

The order for every value is: command-line option (applied by the CLI) > environment > config file >
the defaults below. Reading files and the environment happens only in ``load_config``.
"""

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, time
from pathlib import Path
from typing import Any

from storage.engine import DEFAULT_SQLITE_SYNCHRONOUS, SQLITE_SYNCHRONOUS

DEFAULT_DATABASE_URL = "sqlite:///nhacviec.db"
MAX_ZALO_WINDOW_HOURS = 168  # Zalo refuses consultation messages 7 days after the user's last one


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the file/variable and the key."""


@dataclass(frozen=True)
class DatabaseConfig:
    url: str = DEFAULT_DATABASE_URL
    # SQLite only: "normal" (commits not flushed to disk one by one; safe against a program crash,
    # the last commits may be lost on a power cut) or "full" (every commit waits for the disk).
    sqlite_synchronous: str = DEFAULT_SQLITE_SYNCHRONOUS


@dataclass(frozen=True)
class TelegramConfig:
    token: str = ""
    base_url: str = ""  # empty: the public Bot API; set for a local Bot API server or a test server
    bot_username: str = ""  # for invite links; read from getMe when empty
    mode: str = "polling"  # or "webhook"
    webhook_url: str = ""
    webhook_secret: str = ""


@dataclass(frozen=True)
class ZaloConfig:
    app_id: str = ""
    secret_key: str = ""
    oa_secret_key: str = ""
    api_base: str = "https://openapi.zalo.me"
    oauth_base: str = "https://oauth.zaloapp.com"
    verify_signature: bool = True
    # The interaction window: Zalo lets an OA write to a user for a while after the user's last
    # message (free for 48 hours, billed up to 7 days). Beyond ``window_hours`` a reminder goes to
    # the person's other channel, or the coordinators are told the person cannot be reached.
    window_hours: int = 168
    free_hours: int = 48
    weekly_checkin: bool = False  # invite a reply from those whose window is about to close
    checkin_before_hours: int = 24


@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = 8080


@dataclass(frozen=True)
class RemindersConfig:
    lead_days_before: tuple[int, ...] = (30, 14, 7, 3, 1)
    support_days_before: tuple[int, ...] = (7,)
    on_due_day: bool = True
    send_time: time = time(8, 0)
    overdue_every_working_days: int = 3
    escalate_after_days: int = 7
    horizon_days: int = 45
    report_due_month: int = 12  # the yearly report duty, when the plan names no day
    report_due_day: int = 15


@dataclass(frozen=True)
class CalendarConfig:
    days_off: tuple[date, ...] = ()
    working_days: tuple[date, ...] = ()


@dataclass(frozen=True)
class StatusConfig:
    require_confirmation: bool = True


@dataclass(frozen=True)
class Config:
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    telegram: TelegramConfig = field(default_factory=TelegramConfig)
    zalo: ZaloConfig = field(default_factory=ZaloConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    reminders: RemindersConfig = field(default_factory=RemindersConfig)
    calendar: CalendarConfig = field(default_factory=CalendarConfig)
    status: StatusConfig = field(default_factory=StatusConfig)
    language: str = "vi"
    directory: str = ""  # folder with agencies.csv and groups.csv; empty: the bundled Nghệ An one
    source: str = "(mặc định)"


def _convert(value: Any, default: Any, where: str) -> Any:
    """Coerce a TOML or environment value to the type of the field's default."""
    try:
        if isinstance(default, bool):
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in {"1", "true", "yes", "on", "co", "có"}:
                return True
            if text in {"0", "false", "no", "off", "khong", "không"}:
                return False
            raise ValueError(value)
        if isinstance(default, int):
            return int(value)
        if isinstance(default, time):
            return value if isinstance(value, time) else time.fromisoformat(str(value))
        if isinstance(default, tuple):
            items = value if isinstance(value, list | tuple) else str(value).split(",")
            items = [i for i in items if str(i).strip() != ""]
            if (default and isinstance(default[0], int)) or where.endswith("days_before"):
                return tuple(int(i) for i in items)
            return tuple(
                i if isinstance(i, date) else date.fromisoformat(str(i).strip()) for i in items
            )
        return str(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: giá trị không hợp lệ {value!r}") from exc


def _section(
    cls: type[Any],
    base: Any,
    raw: Mapping[str, Any],
    env: Mapping[str, str],
    name: str,
    origin: str,
) -> Any:
    known = {f.name for f in fields(cls)}
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(
            f"{origin}: khóa không hợp lệ trong [{name}]: {', '.join(sorted(unknown))}"
        )
    changes: dict[str, Any] = {}
    for f in fields(cls):
        default = getattr(base, f.name)
        if f.name in raw:
            changes[f.name] = _convert(raw[f.name], default, f"{origin} [{name}] {f.name}")
        env_key = f"NHACVIEC_{name.upper()}_{f.name.upper()}"
        if env_key in env:
            changes[f.name] = _convert(env[env_key], default, env_key)
    return replace(base, **changes)


def parse_config(raw: Mapping[str, Any], env: Mapping[str, str], origin: str) -> Config:
    """Build a Config from parsed TOML and an environment mapping (pure; used by tests)."""
    base = Config()
    sections = {
        f.name: f for f in fields(Config) if f.name not in {"language", "directory", "source"}
    }
    unknown = set(raw) - set(sections) - {"language", "directory"}
    if unknown:
        raise ConfigError(f"{origin}: mục không hợp lệ: {', '.join(sorted(unknown))}")
    changes: dict[str, Any] = {"source": origin}
    for name in sections:
        cls = type(getattr(base, name))
        section_raw = raw.get(name, {})
        if not isinstance(section_raw, Mapping):
            raise ConfigError(f"{origin}: [{name}] phải là một mục")
        changes[name] = _section(cls, getattr(base, name), section_raw, env, name, origin)
    for key in ("language", "directory"):
        value = env.get(f"NHACVIEC_{key.upper()}", raw.get(key, getattr(base, key)))
        changes[key] = str(value)
    config = replace(base, **changes)
    if config.language not in {"vi", "en"}:
        raise ConfigError(f"{origin}: language phải là 'vi' hoặc 'en'")
    _check_zalo(config.zalo, origin)
    synchronous = config.database.sqlite_synchronous.strip().lower()
    if synchronous not in SQLITE_SYNCHRONOUS:
        raise ConfigError(
            f"{origin}: [database] sqlite_synchronous phải là "
            + " hoặc ".join(f"'{choice}'" for choice in SQLITE_SYNCHRONOUS)
        )
    return replace(config, database=replace(config.database, sqlite_synchronous=synchronous))


def _check_zalo(zalo: ZaloConfig, origin: str) -> None:
    if not 1 <= zalo.window_hours <= MAX_ZALO_WINDOW_HOURS:
        raise ConfigError(
            f"{origin}: [zalo] window_hours phải từ 1 đến {MAX_ZALO_WINDOW_HOURS} (7 ngày)"
        )
    if zalo.free_hours < 0:
        raise ConfigError(f"{origin}: [zalo] free_hours không được âm")
    if not 1 <= zalo.checkin_before_hours < zalo.window_hours:
        raise ConfigError(f"{origin}: [zalo] checkin_before_hours phải từ 1 đến dưới window_hours")


def load_config(path: Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Read the config file (``path``, $NHACVIEC_CONFIG, or ./config.toml when present)."""
    env = os.environ if env is None else env
    if path is None and env.get("NHACVIEC_CONFIG"):
        path = Path(env["NHACVIEC_CONFIG"])
    if path is None and Path("config.toml").is_file():
        path = Path("config.toml")
    if path is None:
        return parse_config({}, env, "(mặc định)")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{path}: không tìm thấy tệp cấu hình") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: lỗi cú pháp TOML: {exc}") from exc
    return parse_config(raw, env, str(path))
