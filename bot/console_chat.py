"""A chat in the terminal that goes through the same conversation core as Telegram and Zalo.

For trying the bot locally without any platform: each line typed is a message; the bot's
buttons are numbered, and ``#2`` presses button 2 of the latest message that had buttons. Replies
are printed as "bot:", messages the bot would send to other people's chats (a coordinator asked to
confirm) as "→ <chat>:". Works the same with stdin piped, so tests and demos can drive it.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from bot.core.conversation import Conversation
from bot.core.messages import Incoming, Outgoing

CHANNEL = "console"
QUIT = frozenset({"/quit", "/exit", "/thoat", "thoat", "quit", "exit"})


@dataclass
class ConsoleChat:
    conversation: Conversation
    chat_id: str
    clock: Callable[[], datetime]
    write: Callable[[str], None]
    display_name: str = ""
    labels: dict[str, str] = field(default_factory=dict)  # "channel:chat" -> who, for notices
    _buttons: list[tuple[str, str]] = field(default_factory=list)  # (data, message id)
    _next_id: int = 0

    def send(self, line: str) -> list[Outgoing]:
        """Handle one typed line; print and return what the bot answered."""
        text = line.strip()
        if not text:
            return []
        pressed = text[1:].strip() if text.startswith("#") else ""
        if pressed.isdigit():
            number = int(pressed)
            if not 1 <= number <= len(self._buttons):
                self.write(f"(không có nút số {number})")
                return []
            data, message_id = self._buttons[number - 1]
            incoming = self._incoming(callback_data=data, message_id=message_id)
        else:
            incoming = self._incoming(text=text, message_id=self._new_id())
        out = self.conversation.handle(incoming)
        self._show(out)
        return out

    def run(self, lines: Iterable[str], prompt: Callable[[], None] | None = None) -> None:
        """Read lines until the end of input or a quit word."""
        if prompt is not None:
            prompt()
        for line in lines:
            if line.strip().lower() in QUIT:
                break
            self.send(line)
            if prompt is not None:
                prompt()

    def _incoming(
        self, *, text: str = "", callback_data: str | None = None, message_id: str | None = None
    ) -> Incoming:
        return Incoming(
            channel=CHANNEL,
            chat_id=self.chat_id,
            at=self.clock(),
            text=text,
            user_id=self.chat_id,
            message_id=message_id,
            callback_data=callback_data,
            display_name=self.display_name,
        )

    def _new_id(self) -> str:
        self._next_id += 1
        return str(self._next_id)

    def _show(self, out: list[Outgoing]) -> None:
        for item in out:
            mine = item.channel == CHANNEL and item.chat_id == self.chat_id and not item.notify
            if item.answer_callback and item.answer_callback != item.text:
                self.write(f"(bot) {item.answer_callback}")
            if not item.text:
                continue
            if mine:
                message_id = item.edit_message_id or self._new_id()
                head = "bot (sửa tin nhắn):" if item.edit_message_id else "bot:"
                self.write(f"{head} {item.text}")
                if item.buttons:
                    self._buttons = []
                    for row in item.buttons:
                        shown = []
                        for button in row:
                            self._buttons.append((button.data, message_id))
                            shown.append(f"[#{len(self._buttons)}] {button.label}")
                        self.write("   " + "  ".join(shown))
            else:
                where = self.labels.get(
                    f"{item.channel}:{item.chat_id}", f"{item.channel} {item.chat_id}"
                )
                buttons = "  ".join(f"[{b.label}]" for row in item.buttons for b in row)
                self.write(f"→ {where}: {item.text}" + (f"\n   {buttons}" if buttons else ""))
