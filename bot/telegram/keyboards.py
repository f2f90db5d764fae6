"""Our platform-neutral buttons as Telegram inline keyboards.

Only ``callback_data`` buttons: a press comes back to the bot as a callback query carrying the
button's ids (``Button`` already checks Telegram's 64-byte limit). ``inline_keyboard`` gives
python-telegram-bot's objects (for its methods, e.g. an edit); ``inline_keyboard_json`` gives the
Bot API's own JSON object, which the channel's send path puts in the request as it is.
"""

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from domain.delivery import Button

Rows = tuple[tuple[Button, ...], ...]


def inline_keyboard(rows: Rows) -> InlineKeyboardMarkup | None:
    """The keyboard for ``rows``; None without buttons (Telegram refuses an empty keyboard)."""
    keyboard = [
        [InlineKeyboardButton(button.label, callback_data=button.data) for button in row]
        for row in rows
        if row
    ]
    return InlineKeyboardMarkup(keyboard) if keyboard else None


def inline_keyboard_json(rows: Rows) -> dict[str, Any] | None:
    """The Bot API's ``InlineKeyboardMarkup`` object for ``rows``; None without buttons."""
    keyboard = [
        [{"text": button.label, "callback_data": button.data} for button in row]
        for row in rows
        if row
    ]
    return {"inline_keyboard": keyboard} if keyboard else None
