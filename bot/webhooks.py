"""The HTTP endpoints chat platforms call: Zalo OA events, Telegram updates, and a health check.

One Starlette app, served by uvicorn, takes both platforms' webhooks (Telegram's only when that
mode is on). Both platforms want a quick 200 and resend what is not acknowledged, so each request
is checked (signature or secret), recorded, answered, and only then processed in a background task.

Zalo signs events with ``X-ZEvent-Signature: mac=<hex>``, the SHA-256 of app id + raw body +
the body's ``timestamp`` + the OA secret key (plain SHA-256, not an HMAC; unconfirmed by an
official page, so the check can be switched off). Events are de-duplicated on ``message.msg_id``
through the ``inbound_event`` table before the answer, so a redelivery is processed once even when
it reaches another server process. The OA's own messages come back as ``oa_send_*`` echoes: ignored.

What the events mean to the product is injected: ``on_text`` feeds the conversation core, the
follow callbacks may greet or note the user. The interaction window (``storage.zalo_window``) is
kept here, as every user event moves it whatever the core does with the text.
"""

import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, text
from sqlmodel import Session
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from storage import inbound_events, zalo_window
from storage.models import Channel

VN = ZoneInfo("Asia/Ho_Chi_Minh")
MAX_BODY_BYTES = 1_000_000  # platform events are a few kilobytes
ZALO_SIGNATURE_HEADER = "X-ZEvent-Signature"
TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

OnText = Callable[[str, str, str, datetime], Awaitable[None]]  # user id, text, msg_id, when
OnUserEvent = Callable[[str, datetime], Awaitable[None]]  # user id, when
OnUpdate = Callable[[dict[str, Any]], Awaitable[None]]

log = logging.getLogger(__name__)


def _now() -> datetime:
    return datetime.now(VN)


@dataclass(frozen=True)
class ZaloWebhook:
    """What the Zalo endpoint needs: the OA's keys, the database, and what to do with events."""

    engine: Engine
    app_id: str
    oa_secret_key: str
    on_text: OnText
    on_follow: OnUserEvent | None = None
    on_unfollow: OnUserEvent | None = None
    verify_signature: bool = True
    clock: Callable[[], datetime] = field(default=_now)

    def __post_init__(self) -> None:
        if self.verify_signature and not (self.app_id and self.oa_secret_key):
            raise ValueError("Zalo signature check needs zalo.app_id and zalo.oa_secret_key")


@dataclass(frozen=True)
class TelegramWebhook:
    """Telegram's endpoint: the secret given to setWebhook, and where updates go."""

    secret: str
    on_update: OnUpdate

    def __post_init__(self) -> None:
        if not self.secret:
            raise ValueError("the Telegram webhook needs telegram.webhook_secret")


def zalo_signature(app_id: str, body: bytes, timestamp: str, oa_secret_key: str) -> str:
    """The hex digest Zalo puts after ``mac=`` in ``X-ZEvent-Signature``."""
    signed = app_id.encode() + body + timestamp.encode() + oa_secret_key.encode()
    return hashlib.sha256(signed).hexdigest()


def signature_matches(header: str | None, expected_hex: str) -> bool:
    """Constant-time comparison of the header's ``mac=<hex>`` with the expected digest."""
    if not header:
        return False
    given = header.strip()
    if given.lower().startswith("mac="):
        given = given[4:]
    return hmac.compare_digest(given.strip().lower().encode(), expected_hex.encode())


def database_check(engine: Engine) -> Callable[[], bool]:
    """A health check: the database answers ``SELECT 1``."""

    def check() -> bool:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True

    return check


def build_web_app(
    *,
    zalo: ZaloWebhook | None,
    telegram: TelegramWebhook | None,
    health_check: Callable[[], bool] | None = None,
) -> Starlette:
    """The ASGI app: POST /zalo/webhook, POST /telegram/webhook (each when given), GET /healthz."""
    routes = [Route("/healthz", _health_endpoint(health_check), methods=["GET"])]
    if zalo is not None:
        routes.append(Route("/zalo/webhook", _ZaloEndpoint(zalo).handle, methods=["POST"]))
    if telegram is not None:
        routes.append(Route("/telegram/webhook", _telegram_endpoint(telegram), methods=["POST"]))
    return Starlette(routes=routes)


def _health_endpoint(check: Callable[[], bool] | None) -> Callable[[Request], Awaitable[Response]]:
    async def healthz(_request: Request) -> Response:
        if check is None:
            return JSONResponse({"status": "ok"})
        try:
            reachable = await run_in_threadpool(check)
        except Exception:
            log.warning("health check: database unreachable", exc_info=True)
            reachable = False
        if reachable:
            return JSONResponse({"status": "ok", "database": "ok"})
        return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)

    return healthz


async def _read_json(request: Request) -> tuple[bytes, dict[str, Any]] | Response:
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return JSONResponse({"error": "body too large"}, status_code=413)
    try:
        payload = json.loads(body)
    except ValueError:
        return JSONResponse({"error": "invalid JSON"}, status_code=400)
    if not isinstance(payload, dict):
        return JSONResponse({"error": "expected a JSON object"}, status_code=400)
    return body, payload


def _forbidden() -> Response:
    return JSONResponse({"error": "forbidden"}, status_code=403)


def _telegram_endpoint(hook: TelegramWebhook) -> Callable[[Request], Awaitable[Response]]:
    expected = hook.secret.encode()

    async def telegram_webhook(request: Request) -> Response:
        given = request.headers.get(TELEGRAM_SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, expected):
            return _forbidden()
        read = await _read_json(request)
        if isinstance(read, Response):
            return read
        return JSONResponse({"status": "accepted"}, background=BackgroundTask(_run, hook, read[1]))

    return telegram_webhook


async def _run(hook: TelegramWebhook, update: dict[str, Any]) -> None:
    try:
        await hook.on_update(update)
    except Exception:
        log.exception("Telegram update %s failed", update.get("update_id"))


class _ZaloEndpoint:
    """POST /zalo/webhook. An object rather than a closure: the event handling has a few steps."""

    def __init__(self, hook: ZaloWebhook) -> None:
        self.hook = hook

    async def handle(self, request: Request) -> Response:
        hook = self.hook
        header = request.headers.get(ZALO_SIGNATURE_HEADER)
        if hook.verify_signature and not header:
            return _forbidden()
        read = await _read_json(request)
        if isinstance(read, Response):
            return read
        body, event = read
        if hook.verify_signature:
            timestamp = event.get("timestamp")
            if timestamp is None:
                return _forbidden()
            expected = zalo_signature(hook.app_id, body, str(timestamp), hook.oa_secret_key)
            if not signature_matches(header, expected):
                return _forbidden()
        name = str(event.get("event_name", ""))
        user_id = _user_id(event)
        if not _handled(name) or user_id is None:
            return JSONResponse({"status": "ignored"})
        received = hook.clock()
        event_id = _event_id(event, name, user_id)
        first = await run_in_threadpool(self._record, event_id, received)
        if not first:
            return JSONResponse({"status": "duplicate"})
        at = _event_time(event.get("timestamp"), received)
        task = BackgroundTask(self._process, name, user_id, event, at)
        return JSONResponse({"status": "accepted"}, background=task)

    def _record(self, event_id: str, received: datetime) -> bool:
        with Session(self.hook.engine) as session:
            first = inbound_events.record_once(session, Channel.ZALO.value, event_id, received)
            session.commit()
            return first

    async def _process(
        self, name: str, user_id: str, event: Mapping[str, Any], at: datetime
    ) -> None:
        hook = self.hook
        try:
            if name == "follow":
                await run_in_threadpool(self._store, zalo_window.mark_followed, user_id, at)
                if hook.on_follow is not None:
                    await hook.on_follow(user_id, at)
            elif name == "unfollow":
                await run_in_threadpool(self._store, _unfollowed, user_id, at)
                if hook.on_unfollow is not None:
                    await hook.on_unfollow(user_id, at)
            else:  # a user_send_* event: the user wrote, which keeps the window open
                store = zalo_window.record_interaction
                known = await run_in_threadpool(self._store, store, user_id, at)
                message = event.get("message")
                if name == "user_send_text" and isinstance(message, Mapping):
                    await hook.on_text(
                        user_id, str(message.get("text", "")), str(message.get("msg_id", "")), at
                    )
                    if not known:  # the text may have been an invite code that made the contact
                        await run_in_threadpool(self._store, store, user_id, at)
        except Exception:
            log.exception("Zalo event %s from %s failed", name, user_id)

    def _store(
        self, step: Callable[[Session, str, datetime], int], user_id: str, at: datetime
    ) -> int:
        """Run one storage step in its own transaction; the number of contacts it touched."""
        with Session(self.hook.engine) as session:
            touched = step(session, user_id, at)
            session.commit()
            return touched


def _unfollowed(session: Session, user_id: str, _at: datetime) -> int:
    return zalo_window.mark_unfollowed(session, user_id)


def _handled(name: str) -> bool:
    # oa_send_* are the echoes of the OA's own messages; other events say nothing we use.
    return name in {"follow", "unfollow"} or name.startswith("user_send_")


def _user_id(event: Mapping[str, Any]) -> str | None:
    """The OA-scoped id of the user the event is about (the id the send API takes)."""
    for key in ("sender", "follower"):
        party = event.get(key)
        if isinstance(party, Mapping) and party.get("id") not in (None, ""):
            return str(party["id"])
    return None


def _event_id(event: Mapping[str, Any], name: str, user_id: str) -> str:
    message = event.get("message")
    if isinstance(message, Mapping) and message.get("msg_id") not in (None, ""):
        return str(message["msg_id"])
    # follow/unfollow carry no id of their own: the same user, event and instant is the same event.
    return f"{name}:{user_id}:{event.get('timestamp', '')}"


def _event_time(timestamp: object, received: datetime) -> datetime:
    """When the user acted (epoch milliseconds, as a string), never later than ``received``.

    A clock running ahead must not hold the interaction window open past its real end.
    """
    try:
        at = datetime.fromtimestamp(int(str(timestamp)) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return received.astimezone(VN)
    return min(at, received).astimezone(VN)
