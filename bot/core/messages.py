"""What goes into and comes out of a conversation, whatever the chat platform.

An adapter (Telegram, Zalo, the console) turns a platform update into an ``Incoming`` and carries
out the ``Outgoing`` list the conversation returns: answer the button press, edit the pressed
message or send a new one, and deliver notifications to other people's chats. The core never
talks to a platform, so the same table of "message in, replies out" tests every channel.
"""

from dataclasses import dataclass
from datetime import datetime

from domain.delivery import Button, OutgoingMessage

Buttons = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True, slots=True)
class Incoming:
    """One thing a person did in a chat: sent a text, or pressed a button.

    - ``channel``: "telegram", "zalo" or "console"; ``chat_id`` and ``user_id`` are the platform's
      ids as text (Zalo's ids do not fit a 64-bit integer).
    - ``text``: the message ("" for a button press).
    - ``message_id``: this message's id; for a button press, the id of the message carrying the
      button (so that it can be edited).
    - ``reply_to_message_id``: the message this one answers (a Telegram "reply"), if any.
    - ``callback_data``: the pressed button's payload, if this is a button press.
    - ``language_code``: the platform's idea of the person's language, kept for logs; the
      conversation answers in the contact's chosen language (Vietnamese by default).
    - ``at``: when it happened, timezone-aware. The core reads no clock: this is its "now".
    """

    channel: str
    chat_id: str
    at: datetime
    text: str = ""
    user_id: str | None = None
    message_id: str | None = None
    reply_to_message_id: str | None = None
    callback_data: str | None = None
    display_name: str = ""
    language_code: str | None = None

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError("Incoming.at must be timezone-aware")

    @property
    def is_button(self) -> bool:
        return self.callback_data is not None


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One thing the adapter must do.

    - An answer in the same chat: ``text`` (with optional ``buttons``) sent as a new message, or,
      when ``edit_message_id`` is set, replacing that message's text and buttons.
    - ``answer_callback``: the short notice shown for a button press (Telegram's
      answerCallbackQuery); an adapter answers every press even when this is None.
    - ``notify``: a message to someone else's chat (e.g. a coordinator asked to confirm a
      completion); ``channel`` and ``contact_id`` say where, since that person may use another
      platform than the sender.
    ``text`` may be empty for an outgoing that only answers a button press.
    """

    channel: str
    chat_id: str
    text: str = ""
    buttons: Buttons = ()
    edit_message_id: str | None = None
    answer_callback: str | None = None
    notify: bool = False
    contact_id: int | None = None

    def message(self) -> OutgoingMessage:
        """The text and buttons as the delivery layer sends them."""
        return OutgoingMessage(chat_id=self.chat_id, text=self.text, buttons=self.buttons)
