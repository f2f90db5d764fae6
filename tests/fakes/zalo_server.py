"""A local server speaking the Zalo OA API, so the Zalo client is tested over real HTTP.

It answers the two endpoints nhacviec uses, the way Zalo does (HTTP 200 with a negative ``error``
for failures):

- POST /v3.0/oa/message/cs, header ``access_token``, JSON {"recipient": {"user_id"},
  "message": {"text"}}: records the message; -216 for an unknown token, -220 for an expired one,
  -201 for a text over 2000 characters, and any code a test scripts for a user;
- POST /v4/oa/access_token, header ``secret_key``, form refresh_token, app_id,
  grant_type=refresh_token: rotates the pair (the refresh token works once) and answers
  ``expires_in`` as a string, as Zalo does.

uvicorn runs in a thread with its own event loop, so both the async send client and the
synchronous token client of the product can reach it. Tests wait for it with :meth:`wait_for`
(a condition variable, no sleeps). :meth:`hold_token_endpoint` keeps token requests waiting until
:meth:`release_token_endpoint`, to force two refreshes to overlap.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.zalo.tokens import TokenPair, store_pair

APP_ID = "4321098765432109876"
SECRET_KEY = "test-app-secret-key"
MAX_TEXT = 2000
EXPIRES_IN = "90000"
HOLD_TIMEOUT = 10.0  # a held token request never outlives a broken test by more than this


@dataclass(frozen=True)
class Sent:
    user_id: str
    text: str
    access_token: str
    message_id: str


@dataclass
class _State:
    access_tokens: set[str] = field(default_factory=set)
    expired_tokens: set[str] = field(default_factory=set)
    refresh_token: str | None = None
    token_requests: list[dict[str, str]] = field(default_factory=list)
    sent: list[Sent] = field(default_factory=list)
    # user id -> the next answers' codes, in order; None answers normally
    failures: dict[str, list[int | None]] = field(default_factory=dict)
    always: dict[str, int] = field(default_factory=dict)  # user id -> code for every send
    reject_every_token: bool = False
    send_status: int = 200


class FakeZaloApi:
    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._state = _State()
        self._counter = itertools.count(1)
        self._held = threading.Event()
        self._held.set()
        # Called when a token request arrives; with drop_token_requests the request is then
        # answered 503 without rotating anything (Zalo never got to it).
        self.on_token_request: Callable[[], None] | None = None
        self.drop_token_requests = False
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.port = 0

    # ------------------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeZaloApi:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        self._socket = sock
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app(), lifespan="off", log_level="warning", access_log=False, ws="none"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="fake-zalo", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._held.set()
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
        if self._socket is not None:
            self._socket.close()

    def __enter__(self) -> FakeZaloApi:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def reset(self) -> None:
        with self._lock:
            self._state = _State()
            self.on_token_request = None
            self.drop_token_requests = False
            self._held.set()

    # --------------------------------------------------------------------------- test controls

    def issue_pair(self) -> tuple[str, str]:
        """A fresh (access token, refresh token), as the OA's API Explorer would give."""
        with self._lock:
            return self._rotate()

    def expire(self, access_token: str) -> None:
        """Zalo now answers -220 (expired) for ``access_token``."""
        with self._lock:
            self._state.access_tokens.discard(access_token)
            self._state.expired_tokens.add(access_token)

    def fail_next(self, user_id: str, *codes: int | None) -> None:
        """Answer the next sends to ``user_id`` with ``codes`` (None: a normal answer)."""
        with self._lock:
            self._state.failures.setdefault(user_id, []).extend(codes)

    def fail_always(self, user_id: str, code: int) -> None:
        with self._lock:
            self._state.always[user_id] = code

    def reject_every_token(self) -> None:
        with self._lock:
            self._state.reject_every_token = True

    def answer_sends_with_status(self, status: int) -> None:
        with self._lock:
            self._state.send_status = status

    def hold_token_endpoint(self) -> None:
        self._held.clear()

    def release_token_endpoint(self) -> None:
        self._held.set()

    @property
    def sent(self) -> list[Sent]:
        with self._lock:
            return list(self._state.sent)

    @property
    def token_requests(self) -> list[dict[str, str]]:
        with self._lock:
            return list(self._state.token_requests)

    @property
    def current_refresh_token(self) -> str | None:
        with self._lock:
            return self._state.refresh_token

    def wait_for(self, condition: Callable[[FakeZaloApi], bool], timeout: float = 10.0) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: condition(self), timeout):
                raise TimeoutError("the fake Zalo server never reached the expected state")

    # ----------------------------------------------------------------------------- the server

    def _rotate(self) -> tuple[str, str]:
        number = next(self._counter)
        access, refresh = f"access-{number}", f"refresh-{number}"
        self._state.access_tokens.add(access)
        self._state.refresh_token = refresh
        return access, refresh

    def _app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/v3.0/oa/message/cs", self._send, methods=["POST"]),
                Route("/v4/oa/access_token", self._token, methods=["POST"]),
            ]
        )

    async def _send(self, request: Request) -> Response:
        token = request.headers.get("access_token", "")
        body: Any = await request.json()
        user_id = str(body["recipient"]["user_id"])
        text = str(body["message"]["text"])
        with self._changed:
            state = self._state
            if state.send_status != 200:
                return Response("upstream trouble", status_code=state.send_status)
            if token in state.expired_tokens:
                return _error(-220, "Access token has expired")
            if state.reject_every_token or token not in state.access_tokens:
                return _error(-216, "Access token is invalid")
            if len(text) > MAX_TEXT:
                return _error(-201, "Parameters are invalid: text is too long")
            scripted = state.failures.get(user_id)
            code = scripted.pop(0) if scripted else state.always.get(user_id)
            if scripted is not None and not scripted:
                del state.failures[user_id]
            if code is not None:
                return _error(code, f"scripted failure {code}")
            message_id = f"msg-{next(self._counter)}"
            state.sent.append(Sent(user_id, text, token, message_id))
            self._changed.notify_all()
        data = {"message_id": message_id, "user_id": user_id}
        return JSONResponse({"error": 0, "message": "Success", "data": data})

    async def _token(self, request: Request) -> Response:
        # Zalo takes application/x-www-form-urlencoded (parsed here: no python-multipart needed).
        form = dict(parse_qsl((await request.body()).decode()))
        with self._changed:
            self._state.token_requests.append(
                {
                    **form,
                    "secret_key": request.headers.get("secret_key", ""),
                    "content_type": request.headers.get("content-type", ""),
                }
            )
            self._changed.notify_all()
        if self.on_token_request is not None:
            self.on_token_request()
        if self.drop_token_requests:
            return Response("gone", status_code=503)
        await asyncio.to_thread(self._held.wait, HOLD_TIMEOUT)
        with self._changed:
            state = self._state
            valid = (
                request.headers.get("secret_key") == SECRET_KEY
                and form.get("app_id") == APP_ID
                and form.get("grant_type") == "refresh_token"
                and state.refresh_token is not None
                and form.get("refresh_token") == state.refresh_token
            )
            if not valid:
                return JSONResponse(
                    {"error": -14014, "error_name": "Invalid refresh token", "error_reason": ""}
                )
            # The old pair dies: the refresh token at once, the access token stays until expiry.
            access, refresh = self._rotate()
            self._changed.notify_all()
        return JSONResponse(
            {"access_token": access, "refresh_token": refresh, "expires_in": EXPIRES_IN}
        )


def _error(code: int, message: str) -> Response:
    return JSONResponse({"error": code, "message": message})


@dataclass
class Clock:
    """An injected clock the test moves by hand."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


def seed_tokens(engine: Engine, api: FakeZaloApi, now: datetime, lifetime: timedelta) -> str:
    """Store a first pair from ``api``, as ``nhacviec zalo set-token`` does; its access token."""
    access, refresh = api.issue_pair()
    with Session(engine) as session:
        store_pair(session, TokenPair(access, refresh, now + lifetime), now)
        session.commit()
    return access
