"""The commands people type, with their Vietnamese aliases, and how a message is read as one.

``COMMANDS`` is the one table: the Telegram adapter registers it with setMyCommands (names and
aliases are lowercase Latin, as Telegram requires), the help text lists it, and ``parse_command``
reads it. Officials on Zalo type commands without the slash and without diacritics ("viec",
"bao cao", "Báo cáo"), so a message that is exactly a command or alias, in any spelling, is one.
Written without the slash, a coordinator-only command is a command only for coordinators: for a
focal point "chưa báo cáo" is a progress reply, not a request for the silent-agency list.
"""

import re
from dataclasses import dataclass

from domain.text import fold


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    aliases: tuple[str, ...]
    description_vi: str
    description_en: str
    coordinator_only: bool = False
    takes_args: bool = False  # without the slash, words after the command are its arguments

    def description(self, lang: str) -> str:
        return self.description_en if lang == "en" else self.description_vi


COMMANDS: tuple[Command, ...] = (
    Command(
        "help",
        ("trogiup", "huongdan"),
        "Hướng dẫn sử dụng và danh sách lệnh",
        "How to use the bot, and the list of commands",
    ),
    Command(
        "tasks",
        ("viec", "nhiemvu"),
        "Nhiệm vụ của cơ quan: thời hạn, tình trạng, báo cáo gần nhất",
        "Your agency's open tasks: due dates, status, last report",
    ),
    Command(
        "report",
        ("baocao",),
        "Báo cáo tiến độ thực hiện một nhiệm vụ",
        "Report progress on a task",
    ),
    Command(
        "lang",
        ("ngonngu",),
        "Chọn ngôn ngữ: tiếng Việt (vi) hoặc tiếng Anh (en)",
        "Choose the language: Vietnamese (vi) or English (en)",
        takes_args=True,
    ),
    Command(
        "status",
        ("tinhhinh",),
        "Tình hình thực hiện: chung, theo cơ quan hoặc theo nhiệm vụ",
        "Implementation status: overall, per agency or per task",
        coordinator_only=True,
        takes_args=True,
    ),
    Command(
        "overdue",
        ("quahan",),
        "Nhiệm vụ quá hạn và số ngày quá hạn",
        "Overdue tasks and days overdue",
        coordinator_only=True,
    ),
    Command(
        "silent",
        ("chuabaocao",),
        "Cơ quan chưa báo cáo, chưa có đầu mối",
        "Agencies that have not reported or have no focal point",
        coordinator_only=True,
        takes_args=True,
    ),
    Command(
        "confirm",
        ("xacnhan",),
        "Báo cáo hoàn thành đang chờ xác nhận"
        ' (/xacnhan <số> để xác nhận, thêm "tralai" để trả lại)',
        "Reported completions awaiting confirmation"
        ' (/xacnhan <n> to confirm, add "return" to send back)',
        coordinator_only=True,
        takes_args=True,
    ),
    Command(
        "messages",
        ("tinnhan",),
        "Tin nhắn của các cơ quan chưa gắn với nhiệm vụ (7 ngày qua)",
        "Messages from agencies not attached to any task (last 7 days)",
        coordinator_only=True,
    ),
)

# The deep-link entry point: Telegram sends "/start <code>"; not listed in the command menu.
START = Command("start", ("batdau",), "Bắt đầu, đăng ký bằng mã mời", "Start, join with a code")

_BY_KEY: dict[str, Command] = {
    key: command for command in (*COMMANDS, START) for key in (command.name, *command.aliases)
}
_NOT_KEY = re.compile(r"[^a-z0-9]")
_MAX_WORDS = 3  # "chua bao cao", the longest alias written as words


@dataclass(frozen=True, slots=True)
class ParsedCommand:
    command: Command | None  # None: "/something" that is no command of ours
    word: str  # the command as typed, for "unknown command" answers
    args: str = ""  # the rest of the message, as written


def _key(words: list[str]) -> str:
    return _NOT_KEY.sub("", "".join(words))


def parse_command(text: str, *, coordinator: bool) -> ParsedCommand | None:
    """The command ``text`` is, or None when it is an ordinary message."""
    stripped = text.strip()
    if stripped.startswith("/"):
        return _slashed(stripped[1:])
    words = stripped.split()
    folded = [fold(word) for word in words]
    for n in range(min(_MAX_WORDS, len(words)), 0, -1):
        command = _BY_KEY.get(_key(folded[:n]))
        if command is None or command is START:
            continue
        if command.coordinator_only and not coordinator:
            return None
        if n == len(words):
            return ParsedCommand(command, " ".join(words[:n]))
        if command.takes_args:
            return ParsedCommand(command, " ".join(words[:n]), " ".join(words[n:]))
        return None
    return None


def _slashed(body: str) -> ParsedCommand:
    words = body.split()
    if not words:
        return ParsedCommand(None, "/")
    words[0] = words[0].split("@", 1)[0]  # "/status@nhacviec_bot" in a group
    folded = [fold(word) for word in words]
    # "/bao cao" and "/chua bao cao": aliases typed as words, longest first.
    for n in range(min(_MAX_WORDS, len(words)), 0, -1):
        command = _BY_KEY.get(_key(folded[:n]))
        if command is not None:
            return ParsedCommand(command, "/" + " ".join(words[:n]), " ".join(words[n:]))
    return ParsedCommand(None, "/" + words[0], " ".join(words[1:]))


def visible_commands(coordinator: bool) -> tuple[Command, ...]:
    """The commands a person may use, in menu order."""
    return tuple(c for c in COMMANDS if coordinator or not c.coordinator_only)
