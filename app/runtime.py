"""What ``nhacviec run`` runs: the reminder service and the chat channels, in one event loop.

The scheduler's jobs, the Telegram bot (when ``telegram.token`` is set) and, when some platform
calls us (Telegram in webhook mode, a Zalo OA), the HTTP server for the webhooks all share the
loop, so a reminder and the answer to it never wait on each other's thread. The Telegram channel
joins the dispatcher's channels, so digests go out through the same bot that takes the replies;
so does the Zalo channel when the OA is configured (``zalo.app_id``, ``zalo.secret_key`` and a
token pair stored by ``nhacviec zalo set-token``), whose webhook then feeds the conversation
(``bot.zalo.adapter``). The Zalo interaction window and check-in come from ``[zalo]``.

Start-up order: the bot first (its channel must be ready before the first dispatch tick), then the
web server, then the service; shutdown is the reverse: the service's running tick finishes while
the bot can still send, and the bot closes last.

With a chat platform, the whole country's status lines of the day are computed in the background
once the service runs (``Conversation.warm_status``), so that a coordinator's first /tinhhinh does
not wait seconds for them; the nightly housekeeping job makes them again for each new day.

Each platform's code is imported only when it is configured: python-telegram-bot with a Telegram
token, the Zalo adapter with an OA, uvicorn and Starlette with a webhook to serve. A console-only
service starts without them.
"""

import asyncio
import logging
import socket
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING

from app.bootstrap import Services
from app.cli_chat import build_conversation
from app.config import ZaloConfig
from bot.zalo.tokens import read_pair
from domain.channel_choice import InteractionWindow
from domain.delivery import Channel
from scheduler.clock import Clock
from scheduler.service import ReminderService, ServiceSettings, run_service

if TYPE_CHECKING:
    import uvicorn

    from bot.core.conversation import Conversation
    from bot.telegram.adapter import TelegramAdapter
    from bot.webhooks import TelegramWebhook, ZaloWebhook
    from bot.zalo.adapter import ZaloAdapter

log = logging.getLogger(__name__)


def _web_server(
    services: Services, zalo: "ZaloWebhook | None", telegram: "TelegramWebhook | None"
) -> tuple["uvicorn.Server", socket.socket]:
    """uvicorn serving the webhooks, inside our loop, with its socket already listening.

    The command that owns the process handles the signals and sets the stop event; uvicorn must
    neither take nor re-raise them. Bound and listening before anything starts: a port in use fails
    here, at once, and a platform calling before uvicorn accepts waits in the backlog instead of
    being refused.
    """
    import uvicorn

    from bot.webhooks import build_web_app, database_check

    class EmbeddedServer(uvicorn.Server):
        @contextmanager
        def capture_signals(self) -> Iterator[None]:
            yield

    config = services.config.server
    web = build_web_app(zalo=zalo, telegram=telegram, health_check=database_check(services.engine))
    web_config = uvicorn.Config(web, host=config.host, port=config.port, lifespan="off", ws="none")
    listening = web_config.bind_socket()
    listening.listen(web_config.backlog)
    return EmbeddedServer(web_config), listening


def telegram_adapter(services: Services, clock: Clock) -> "TelegramAdapter":
    """The Telegram bot configured in ``services.config.telegram`` (whose token must be set)."""
    from bot.telegram.adapter import TelegramAdapter

    settings = services.config.telegram
    return TelegramAdapter(
        settings.token,
        settings.base_url or None,
        build_conversation(services),
        session_factory=services.session,
        mode=settings.mode,
        webhook_url=settings.webhook_url,
        webhook_secret=settings.webhook_secret,
        clock=clock,
        default_lang=services.config.language,
    )


def zalo_adapter(services: Services, clock: Clock) -> "ZaloAdapter | None":
    """The Zalo OA adapter, or None when the OA is not configured or has no tokens yet."""
    settings = services.config.zalo
    if not (settings.app_id and settings.secret_key):
        return None
    with services.session() as session:
        if read_pair(session) is None:
            log.warning("Zalo is configured but has no tokens: run `nhacviec zalo set-token`")
            return None
    from bot.zalo.adapter import ZaloAdapter

    return ZaloAdapter.connect(
        services.engine,
        build_conversation(services),
        session_factory=services.session,
        app_id=settings.app_id,
        secret_key=settings.secret_key,
        api_base=settings.api_base,
        oauth_base=settings.oauth_base,
        clock=clock,
    )


def with_zalo_settings(settings: ServiceSettings | None, zalo: ZaloConfig) -> ServiceSettings:
    """``settings`` with the Zalo interaction window and check-in of the ``[zalo]`` section."""
    window = InteractionWindow(
        limit=timedelta(hours=zalo.window_hours), free=timedelta(hours=zalo.free_hours)
    )
    before = timedelta(hours=zalo.checkin_before_hours) if zalo.weekly_checkin else None
    return replace(settings or ServiceSettings(), zalo_window=window, zalo_checkin_before=before)


async def run(
    services: Services,
    *,
    clock: Clock,
    stop: asyncio.Event,
    settings: ServiceSettings | None = None,
    channels: Mapping[str, Channel] | None = None,
    zalo: "ZaloWebhook | None" = None,
    ready: Callable[[ReminderService], object] | None = None,
) -> None:
    """Run until ``stop`` is set.

    ``channels`` are the other senders the dispatcher uses (Zalo, the console); ``zalo`` is the
    Zalo endpoint to serve, built from the config when None and the OA is configured; ``ready``
    gets the service once it runs (as ``run_service``'s).
    """
    config = services.config
    settings = with_zalo_settings(settings, config.zalo)
    senders = dict(channels or {})
    adapter = telegram_adapter(services, clock) if config.telegram.token else None
    if adapter is not None:
        senders["telegram"] = adapter.channel
    oa = zalo_adapter(services, clock) if zalo is None else None
    if oa is not None:
        senders["zalo"] = oa.channel
        try:
            zalo = oa.webhook(
                services.engine,
                app_id=config.zalo.app_id,
                oa_secret_key=config.zalo.oa_secret_key,
                verify_signature=config.zalo.verify_signature,
            )
        except ValueError:  # the signature check is on but the OA secret key is missing
            await oa.aclose()
            raise
    hook = None
    if adapter is not None and adapter.mode == "webhook":
        from bot.webhooks import TelegramWebhook

        hook = TelegramWebhook(config.telegram.webhook_secret, adapter.process_update_json)
    server: uvicorn.Server | None = None
    listening: socket.socket | None = None
    if hook is not None or zalo is not None:
        server, listening = _web_server(services, zalo, hook)

    warming: asyncio.Task[None] | None = None

    def started(service: ReminderService) -> None:
        nonlocal warming
        chat = adapter or oa
        if chat is not None:
            warming = _warm_status(chat.conversation, clock)
        if adapter is not None:  # notices queued by the bot go out at once, not at the next tick
            adapter.on_queued = service.jobs.request_dispatch
        if oa is not None:
            oa.on_queued = service.jobs.request_dispatch
        if ready is not None:
            ready(service)

    serving: asyncio.Task[None] | None = None
    try:
        if adapter is not None:
            await adapter.start()
        if server is not None and listening is not None:
            serving = asyncio.create_task(server.serve(sockets=[listening]), name="webhooks")
            serving.add_done_callback(lambda _: _ended(stop))
        await run_service(services, senders, clock, stop, settings=settings, ready=started)
    finally:
        if warming is not None:
            await warming  # a worker thread: it cannot be cancelled, only waited for
        if server is not None and serving is not None:
            server.should_exit = True
            try:
                await serving
            except Exception:
                log.exception("the webhook server failed")
        if listening is not None:
            listening.close()
        if adapter is not None:
            adapter.on_queued = None
            await adapter.stop()
        if oa is not None:
            oa.on_queued = None
            await oa.aclose()


def _warm_status(conversation: "Conversation", clock: Clock) -> "asyncio.Task[None]":
    async def warm() -> None:
        try:
            await asyncio.to_thread(conversation.warm_status, clock.now())
        except Exception:  # the first question will compute them instead
            log.exception("could not compute the day's status lines in advance")

    return asyncio.create_task(warm(), name="warm-status")


def _ended(stop: asyncio.Event) -> None:
    # Without the server no platform reaches us: stop rather than run deaf.
    if not stop.is_set():
        log.error("the webhook server stopped: shutting down")
        stop.set()
