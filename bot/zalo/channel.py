"""The Zalo channel as the dispatcher sees it: ``domain.delivery.Channel`` over ``ZaloClient``.

The channel only sends. Whether a contact may be written to at all (the interaction window) is
decided before, by the dispatcher with ``domain.channel_choice.choose_channel`` on the contact's
recorded last interaction, so a reminder for someone silent too long goes to their next channel
instead of being refused here. Should Zalo refuse anyway (-230/-232: the record was behind), the
result is UNREACHABLE with the same reason, ``domain.channel_choice.OUTSIDE_ZALO_WINDOW``.

Consultation texts carry no buttons: a Zalo user answers by writing, which also keeps the window
open, so the buttons of an ``OutgoingMessage`` are left out; its text must say what to reply.
"""

from bot.zalo.client import MAX_TEXT, ZaloClient
from domain.channel_choice import OUTSIDE_ZALO_WINDOW
from domain.delivery import Outcome, OutgoingMessage, SendResult


class ZaloChannel:
    """The ``Channel`` for a Zalo Official Account; ``chat_id`` is the OA-scoped user id."""

    def __init__(self, client: ZaloClient) -> None:
        self.client = client

    @property
    def name(self) -> str:
        return "zalo"

    @property
    def max_text(self) -> int:
        return MAX_TEXT

    async def send(self, message: OutgoingMessage) -> SendResult:
        return await self.client.send_text(message.chat_id, message.text)


def refused_for_window(result: SendResult) -> bool:
    """Zalo refused because the user has been silent too long (reachable again once they write)."""
    return result.outcome is Outcome.UNREACHABLE and result.error.startswith(OUTSIDE_ZALO_WINDOW)
