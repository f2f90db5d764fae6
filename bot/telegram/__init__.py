"""Telegram: sending through python-telegram-bot (the receiving side is wired in by the app)."""

from bot.telegram.channel import TelegramChannel, build_bot

__all__ = ["TelegramChannel", "build_bot"]
