"""Our platform-neutral buttons as Telegram inline keyboards.

Only ``callback_data`` buttons: a press comes back to the bot as a callback query carrying the
button's ids (``Button`` already checks Telegram's 64-byte limit).
"""

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from domain.delivery import Button


def inline_keyboard(rows: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    """The keyboard for ``rows``; None without buttons (Telegram refuses an empty keyboard)."""
    keyboard = [
        [InlineKeyboardButton(button.label, callback_data=button.data) for button in row]
        for row in rows
        if row
    ]
    return InlineKeyboardMarkup(keyboard) if keyboard else None
