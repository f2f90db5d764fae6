"""Conversations and chat channels: one channel-agnostic core, one adapter per platform."""
