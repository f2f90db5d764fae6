"""Test doubles that speak real protocols over real sockets (a local Telegram Bot API, ...)."""
