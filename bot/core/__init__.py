"""The channel-agnostic conversation core: onboarding, commands, progress replies, status.

Adapters build an ``Incoming``, call ``Conversation.handle`` and carry out the ``Outgoing`` list;
``COMMANDS`` is the command table to register with the platform.
"""

from bot.core.commands import COMMANDS, Command
from bot.core.conversation import Conversation, SessionFactory, Settings
from bot.core.messages import Incoming, Outgoing

__all__ = [
    "COMMANDS",
    "Command",
    "Conversation",
    "Incoming",
    "Outgoing",
    "SessionFactory",
    "Settings",
]
