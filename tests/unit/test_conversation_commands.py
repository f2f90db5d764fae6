"""The command table and how a message is read as a command (pure)."""

import re

import pytest

from bot.core.commands import COMMANDS, START, parse_command, visible_commands

TELEGRAM_NAME = re.compile(r"[a-z0-9_]{1,32}")


@pytest.mark.parametrize(
    ("text", "coordinator", "name", "args"),
    [
        ("/tasks", False, "tasks", ""),
        ("/viec", False, "tasks", ""),
        ("viec", False, "tasks", ""),
        ("Việc", False, "tasks", ""),
        ("  VIEC  ", False, "tasks", ""),
        ("nhiệm vụ", False, "tasks", ""),
        ("viec?", False, "tasks", ""),
        ("/report", False, "report", ""),
        ("bao cao", False, "report", ""),
        ("Báo cáo", False, "report", ""),
        ("/bao cao", False, "report", ""),
        ("/baocao@nhacviec_bot", False, "report", ""),
        ("/help", False, "help", ""),
        ("/HELP", False, "help", ""),
        ("trợ giúp", False, "help", ""),
        ("huong dan", False, "help", ""),
        ("/lang en", False, "lang", "en"),
        ("ngôn ngữ en", False, "lang", "en"),
        ("/start AbC_123-xyz", False, "start", "AbC_123-xyz"),
        ("/status", True, "status", ""),
        ("/status", False, "status", ""),  # refused later, with a polite answer
        ("tinh hinh", True, "status", ""),
        ("Tình hình Sở Tài chính", True, "status", "Sở Tài chính"),
        ("/tinhhinh 289 3", True, "status", "289 3"),
        ("/tinh hinh 289 3", True, "status", "289 3"),
        ("quá hạn", True, "overdue", ""),
        ("/quahan", False, "overdue", ""),
        ("chưa báo cáo", True, "silent", ""),
        ("chua bao cao 30", True, "silent", "30"),
        ("/chuabaocao", False, "silent", ""),
        ("xac nhan", True, "confirm", ""),
    ],
)
def test_commands_with_or_without_slash_and_diacritics(
    text: str, coordinator: bool, name: str, args: str
) -> None:
    parsed = parse_command(text, coordinator=coordinator)
    assert parsed is not None and parsed.command is not None
    assert (parsed.command.name, parsed.args) == (name, args)


@pytest.mark.parametrize(
    ("text", "coordinator"),
    [
        ("xong", False),
        ("đã xong", False),
        ("báo cáo xong rồi", False),  # a progress reply that starts like a command
        ("việc này đang làm", False),
        ("tình hình: đang triển khai", False),  # not a coordinator: a reply
        ("tinh hinh", False),
        ("chưa báo cáo", False),
        ("quá hạn rồi ạ", False),
        ("qua han", False),
        ("start ABCDEFGHIJ", False),
        ("được 50%", True),
        ("", False),
    ],
)
def test_ordinary_messages_are_not_commands(text: str, coordinator: bool) -> None:
    assert parse_command(text, coordinator=coordinator) is None


@pytest.mark.parametrize("text", ["/xoa", "/", "/việc_khác"])
def test_an_unknown_slash_command_is_reported_as_such(text: str) -> None:
    parsed = parse_command(text, coordinator=True)
    assert parsed is not None and parsed.command is None
    assert parsed.word.startswith("/")


def test_the_table_fits_telegram_set_my_commands() -> None:
    names = [c.name for c in COMMANDS]
    aliases = [a for c in COMMANDS for a in c.aliases]
    assert len(set(names + aliases)) == len(names) + len(aliases)
    assert START.name not in names
    for command in COMMANDS:
        for name in (command.name, *command.aliases):
            assert TELEGRAM_NAME.fullmatch(name), name
        for description in (command.description_vi, command.description_en):
            assert 3 <= len(description) <= 256
        assert command.description("en") == command.description_en
        assert command.description("vi") == command.description_vi


def test_focal_points_see_no_coordinator_commands() -> None:
    focal = {c.name for c in visible_commands(False)}
    assert focal == {"help", "tasks", "report", "lang"}
    assert {c.name for c in visible_commands(True)} == {c.name for c in COMMANDS}
