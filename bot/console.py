"""A channel that prints messages to the terminal: for `nhacviec run` without a bot token."""

from dataclasses import dataclass, field

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel

from domain.delivery import Outcome, OutgoingMessage, SendResult


@dataclass
class ConsoleChannel:
    console: Console = field(default_factory=Console)
    labels: dict[str, str] = field(default_factory=dict)  # chat id -> who it is, for the header
    count: int = 0

    @property
    def name(self) -> str:
        return "console"

    @property
    def max_text(self) -> int:
        return 4096

    async def send(self, message: OutgoingMessage) -> SendResult:
        self.count += 1
        # Message text is the user's and the bot's words, not rich markup: "[b]" must show as is.
        title = escape(self.labels.get(message.chat_id, message.chat_id))
        buttons = "  ".join(escape(f"[{b.label}]") for row in message.buttons for b in row)
        body = escape(message.text) + (f"\n\n{buttons}" if buttons else "")
        self.console.print(Panel(body, title=f"→ {title}", title_align="left"), highlight=False)
        return SendResult(Outcome.SENT, message_id=str(self.count))
