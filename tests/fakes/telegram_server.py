"""A local Telegram Bot API server, so tests run the real python-telegram-bot over real HTTP.

python-telegram-bot calls ``{base_url}{token}/{method}`` (``base_url`` ends in ``/bot``). This
server answers the methods the product uses with the shapes Telegram documents, keeps a queue of
updates for ``getUpdates`` (long polling that returns as soon as something is queued, with
Telegram's ``offset`` confirmation rules), records what the bot sent, and can be told to fail the
way Telegram fails: 403 for a blocked user, 429 with ``retry_after``, 400 with
``migrate_to_chat_id`` for a group upgraded to a supergroup. It also notes the client connection
(address and port) of every request, and can hold calls until several are in flight at once
(:meth:`FakeBotApi.hold`), so a test can tell concurrent requests from serialised ones without
timing anything.

It runs uvicorn in a thread with its own event loop, so it works from sync and async tests alike
whatever event loop pytest-asyncio gives each test. Everything shared with the test thread is
guarded by one re-entrant lock; tests wait for the bot with :meth:`FakeBotApi.wait_for` (or
``wait_for_async`` inside a running loop), never with sleeps.

Usage::

    with FakeBotApi() as api:
        bot = telegram.Bot(api.token, base_url=api.base_url)
        ...
        api.push_text(chat_id=42, user_id=42, text="/start abc")
        await api.wait_for_async(lambda a: len(a.sent) == 1)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

DEFAULT_TOKEN = "123456789:TEST-fake-token_for-nhacviec"
MAX_TEXT = 4096
MAX_CALLBACK_BYTES = 64
MAX_POLL_SECONDS = 5.0  # a long poll never holds a test longer than this

# Parameters PTB sends JSON-encoded inside a form body (strings are sent as they are).
_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "reply_parameters",
        "commands",
        "scope",
        "allowed_updates",
        "entities",
        "link_preview_options",
    }
)
_NUMBER_FIELDS = frozenset(
    {
        "chat_id",
        "message_id",
        "offset",
        "limit",
        "timeout",
        "reply_to_message_id",
        "cache_time",
        "max_connections",
    }
)
_TEXT_FIELDS = frozenset({"text", "callback_query_id", "language_code", "url", "secret_token"})


class ApiError(Exception):
    """An error answer, shaped as Telegram shapes them."""

    def __init__(
        self, status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.parameters:
            payload["parameters"] = self.parameters
        return payload


@dataclass
class _Failure:
    method: str
    chat_id: int | str | None
    error: ApiError
    skip: int = 0  # matching calls to let through first

    def matches(self, method: str, params: dict[str, Any]) -> bool:
        if method != self.method:
            return False
        return self.chat_id is None or str(params.get("chat_id")) == str(self.chat_id)


@dataclass
class _Gate:
    """Calls of ``method`` wait until ``count`` of them are in the server at once."""

    method: str
    count: int
    timeout: float
    waiting: int = 0
    most: int = 0  # the most calls held at once
    open: bool = False


@dataclass
class _State:
    """Everything the test thread and the server thread share (under ``FakeBotApi._lock``)."""

    updates: list[dict[str, Any]] = field(default_factory=list)
    next_update_id: int = 100_000
    next_message_id: int = 1
    next_callback_id: int = 1
    messages: dict[tuple[int | str, int], dict[str, Any]] = field(default_factory=dict)
    failures: list[_Failure] = field(default_factory=list)
    migrated: dict[str, int] = field(default_factory=dict)
    webhook: dict[str, Any] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)
    commands: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    callback_answers: list[dict[str, Any]] = field(default_factory=list)
    clients: list[tuple[str, str]] = field(default_factory=list)  # (method, "host:port")
    gate: _Gate | None = None


def decode_params(raw: dict[str, str]) -> dict[str, Any]:
    """Form fields as PTB encodes them -> Python values (JSON fields parsed, numbers as int)."""
    params: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _JSON_FIELDS:
            params[key] = json.loads(value)
        elif key in _NUMBER_FIELDS:
            try:
                params[key] = int(value)
            except ValueError:
                try:
                    params[key] = float(value)
                except ValueError:
                    params[key] = value  # "@channelusername"
        elif key not in _TEXT_FIELDS and value in ("true", "false"):
            params[key] = value == "true"
        else:
            params[key] = value
    return params


class FakeBotApi:
    """A Telegram Bot API double on 127.0.0.1, on a port the OS picks."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_username: str = "nhacviec_test_bot",
        bot_first_name: str = "Nhắc việc",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token
        self.bot_user: dict[str, Any] = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self._clock = clock
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._state = _State()
        self._closing = False
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup: asyncio.Event | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.port = 0

    # ----------------------------------------------------------------------------- lifecycle

    @property
    def base_url(self) -> str:
        """What to give ``Bot(base_url=...)`` / ``ApplicationBuilder().base_url(...)``."""
        return f"http://127.0.0.1:{self.port}/bot"

    def start(self, timeout: float = 10.0) -> str:
        if self._thread is not None:
            raise RuntimeError("FakeBotApi already started")
        # proto given explicitly: asyncio sets TCP_NODELAY only on IPPROTO_TCP sockets, and
        # without it every answer waits ~40 ms for a delayed ACK.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        self._socket = sock
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._app(),
            lifespan="on",
            log_level="warning",
            access_log=False,
            ws="none",
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="fake-telegram", daemon=True
        )
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("fake Telegram server did not start")
        return self.base_url

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving; afterwards connections to the port are refused."""
        if self._thread is None or self._server is None:
            return
        with self._lock:
            self._closing = True
        self._wake_pollers()
        self._server.should_exit = True
        self._thread.join(timeout)
        if self._socket is not None:
            self._socket.close()
        self._thread = None

    def reset(self) -> None:
        """Forget updates, records, scripted failures, migrations, webhook and commands.

        For a server shared by several tests (a module- or session-scoped fixture).
        """
        with self._lock:
            self._state = _State()
            self._changed.notify_all()

    def __enter__(self) -> FakeBotApi:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --------------------------------------------------------------------------- test controls

    def push_text(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        *,
        reply_to_message_id: int | None = None,
        first_name: str = "Nguyễn Văn An",
        username: str | None = None,
        language_code: str = "vi",
    ) -> dict[str, Any]:
        """Queue a text message from a user; returns the Update as queued."""
        with self._lock:
            message: dict[str, Any] = {
                "message_id": self._new_message_id(),
                "from": _user(user_id, first_name, username, language_code),
                "chat": _chat(chat_id, first_name, username),
                "date": int(self._clock()),
                "text": text,
            }
            if text.startswith("/"):
                command = text.split(maxsplit=1)[0]
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
            if reply_to_message_id is not None:
                replied = self._state.messages.get((chat_id, reply_to_message_id))
                message["reply_to_message"] = replied or {
                    "message_id": reply_to_message_id,
                    "chat": message["chat"],
                    "date": message["date"],
                }
            return self._queue({"message": message})

    def push_callback(
        self,
        chat_id: int,
        user_id: int,
        data: str,
        message_id: int,
        *,
        first_name: str = "Nguyễn Văn An",
        username: str | None = None,
        language_code: str = "vi",
    ) -> dict[str, Any]:
        """Queue a press on an inline button of the bot's message ``message_id``."""
        with self._lock:
            pressed = self._state.messages.get((chat_id, message_id)) or {
                "message_id": message_id,
                "from": self.bot_user,
                "chat": _chat(chat_id, first_name, username),
                "date": int(self._clock()),
                "text": "",
            }
            query_id = str(self._state.next_callback_id)
            self._state.next_callback_id += 1
            return self._queue(
                {
                    "callback_query": {
                        "id": query_id,
                        "from": _user(user_id, first_name, username, language_code),
                        "message": pressed,
                        "chat_instance": f"ci{chat_id}",
                        "data": data,
                    }
                }
            )

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue any other update (``my_chat_member``, ...); ``update_id`` is assigned here."""
        with self._lock:
            return self._queue(dict(update))

    def fail_next(
        self,
        method: str,
        chat_id: int | str | None = None,
        status: int = 403,
        description: str = "Forbidden: bot was blocked by the user",
        parameters: dict[str, Any] | None = None,
        *,
        skip: int = 0,
    ) -> None:
        """The next call of ``method`` (to ``chat_id``, if given) fails once with this error.

        With ``skip``, that many matching calls succeed first (to fail the 2nd part of a text).
        """
        with self._lock:
            self._state.failures.append(
                _Failure(method, chat_id, ApiError(status, description, parameters), skip)
            )

    def rate_limit_next(
        self,
        method: str,
        retry_after: int = 3,
        chat_id: int | str | None = None,
        *,
        skip: int = 0,
    ) -> None:
        """The next matching call gets Telegram's 429 with ``retry_after`` seconds."""
        self.fail_next(
            method,
            chat_id,
            status=429,
            description=f"Too Many Requests: retry after {retry_after}",
            parameters={"retry_after": retry_after},
            skip=skip,
        )

    def hold(self, method: str, until_in_flight: int, timeout: float = 5.0) -> None:
        """Hold calls of ``method`` until ``until_in_flight`` of them are in the server at once,
        then answer them all (and every later call) as usual. A call still held after ``timeout``
        seconds is answered 500: its companions never came, the client sent one at a time."""
        with self._lock:
            self._state.gate = _Gate(method, until_in_flight, timeout)

    @property
    def most_held(self) -> int:
        """The most calls held at once by :meth:`hold` (0 without a hold)."""
        with self._lock:
            return self._state.gate.most if self._state.gate is not None else 0

    def connections_used(self, method: str) -> set[str]:
        """The distinct client connections ("host:port") that called ``method``."""
        with self._lock:
            return {client for name, client in self._state.clients if name == method}

    def migrate_chat(self, old_id: int, new_id: int) -> None:
        """From now on, sends to group ``old_id`` answer that it became supergroup ``new_id``."""
        with self._lock:
            self._state.migrated[str(old_id)] = new_id

    def wait_for(self, predicate: Callable[[FakeBotApi], bool], timeout: float = 5.0) -> None:
        """Block until ``predicate(self)`` holds (checked on every change), or raise TimeoutError.

        Inside a running event loop whose tasks must progress meanwhile, use ``wait_for_async``.
        """
        with self._changed:
            if not self._changed.wait_for(lambda: predicate(self), timeout):
                raise TimeoutError(f"fake Telegram server: condition not met in {timeout} s")

    async def wait_for_async(
        self, predicate: Callable[[FakeBotApi], bool], timeout: float = 5.0
    ) -> None:
        await asyncio.to_thread(self.wait_for, predicate, timeout)

    # ------------------------------------------------------------------------------- records

    @property
    def sent(self) -> list[dict[str, Any]]:
        """Successful sendMessage calls: chat_id, message_id, text, parse_mode, reply_markup,
        reply_to_message_id."""
        with self._lock:
            return list(self._state.sent)

    @property
    def edits(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._state.edits)

    @property
    def calls(self) -> list[tuple[str, dict[str, Any]]]:
        """Every request received, failed ones included, as (method, decoded parameters)."""
        with self._lock:
            return list(self._state.calls)

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]

    @property
    def commands(self) -> dict[tuple[str, str], list[dict[str, Any]]]:
        """setMyCommands results keyed by (scope type, language code; "" when none)."""
        with self._lock:
            return {key: list(value) for key, value in self._state.commands.items()}

    @property
    def callback_answers(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._state.callback_answers)

    @property
    def pending_updates(self) -> int:
        with self._lock:
            return len(self._state.updates)

    def texts_for(self, chat_id: int) -> list[str]:
        return [m["text"] for m in self.sent if m["chat_id"] == chat_id]

    # ------------------------------------------------------------------------------ internals

    def _new_message_id(self) -> int:
        message_id = self._state.next_message_id
        self._state.next_message_id += 1
        return message_id

    def _queue(self, update: dict[str, Any]) -> dict[str, Any]:
        update["update_id"] = self._state.next_update_id
        self._state.next_update_id += 1
        self._state.updates.append(update)
        self._changed.notify_all()
        self._wake_pollers()
        return update

    def _wake_pollers(self) -> None:
        loop, wakeup = self._loop, self._wakeup
        if loop is not None and wakeup is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(wakeup.set)

    def _app(self) -> Starlette:
        @contextlib.asynccontextmanager
        async def lifespan(_: Starlette) -> AsyncIterator[None]:
            self._loop = asyncio.get_running_loop()
            self._wakeup = asyncio.Event()
            self._ready.set()
            yield

        return Starlette(
            routes=[Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"])],
            lifespan=lifespan,
        )

    async def _endpoint(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        try:
            params = await _read_params(request)
        except ValueError as exc:
            return _error(ApiError(400, f"Bad Request: can't parse request: {exc}"))
        client = f"{request.client.host}:{request.client.port}" if request.client else "?"
        with self._lock:
            self._state.calls.append((method, params))
            self._state.clients.append((method, client))
            self._changed.notify_all()
        try:
            if request.path_params["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            await self._pass_gate(method)
            if method == "getUpdates":
                result = await self._get_updates(params)
            else:
                with self._lock:
                    self._raise_scripted_failure(method, params)
                    result = self._handle(method, params)
                    self._changed.notify_all()
        except ApiError as error:
            return _error(error)
        return JSONResponse({"ok": True, "result": result})

    async def _pass_gate(self, method: str) -> None:
        """Wait while a :meth:`hold` on ``method`` is closed (polling: the test thread sets it)."""
        with self._lock:
            gate = self._state.gate
            if gate is None or gate.method != method or gate.open:
                return
            gate.waiting += 1
            gate.most = max(gate.most, gate.waiting)
            gate.open = gate.waiting >= gate.count
        assert self._loop is not None
        deadline = self._loop.time() + gate.timeout
        try:
            while True:
                with self._lock:
                    if gate.open:
                        return
                if self._loop.time() >= deadline:
                    raise ApiError(500, "Internal Server Error: held call was alone")
                await asyncio.sleep(0.005)
        finally:
            with self._lock:
                gate.waiting -= 1

    def _raise_scripted_failure(self, method: str, params: dict[str, Any]) -> None:
        for index, failure in enumerate(self._state.failures):
            if failure.matches(method, params):
                if failure.skip > 0:
                    failure.skip -= 1
                    continue
                del self._state.failures[index]
                raise failure.error
        new_id = self._state.migrated.get(str(params.get("chat_id")))
        if new_id is not None and method in _CHAT_METHODS:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                {"migrate_to_chat_id": new_id},
            )

    def _handle(self, method: str, params: dict[str, Any]) -> Any:
        if method in ("close", "logOut", "setWebhook", "deleteWebhook"):
            if method == "setWebhook":
                self._state.webhook = {"url": params.get("url", "")}
            elif method == "deleteWebhook":
                self._state.webhook = {}
                if params.get("drop_pending_updates"):
                    self._state.updates.clear()
            return True
        handler = {
            "getMe": lambda _: self.bot_user,
            "getWebhookInfo": self._webhook_info,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_reply_markup,
            "answerCallbackQuery": self._answer_callback,
            "setMyCommands": self._set_commands,
            "getMyCommands": self._get_commands,
            "deleteMyCommands": self._delete_commands,
        }.get(method)
        if handler is None:
            raise ApiError(404, "Not Found: method not found")
        return handler(params)

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        with self._lock:
            self._raise_scripted_failure("getUpdates", params)
            if self._state.webhook.get("url"):
                raise ApiError(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; "
                    "use deleteWebhook to delete the webhook first",
                )
            self._confirm(int(params.get("offset", 0)))
        limit = max(1, min(100, int(params.get("limit", 100))))
        wait = min(float(params.get("timeout", 0)), MAX_POLL_SECONDS)
        assert self._loop is not None and self._wakeup is not None
        deadline = self._loop.time() + wait
        while True:
            self._wakeup.clear()  # before looking, so a push in between still wakes us
            with self._lock:
                batch = self._state.updates[:limit]
                if batch or self._closing:
                    return batch
            remaining = deadline - self._loop.time()
            if remaining <= 0:
                return []
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), remaining)

    def _confirm(self, offset: int) -> None:
        """Telegram's rule: ``offset`` confirms every update before it; negative keeps the last."""
        updates = self._state.updates
        if offset > 0:
            self._state.updates = [u for u in updates if u["update_id"] >= offset]
        elif offset < 0:
            self._state.updates = updates[offset:]

    def _webhook_info(self, _: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": self._state.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._state.updates),
        }

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise ApiError(400, "Bad Request: chat_id is empty")
        text = _checked_text(params)
        markup = _checked_markup(params.get("reply_markup"))
        reply_to = params.get("reply_to_message_id")
        if reply_to is None and isinstance(params.get("reply_parameters"), dict):
            reply_to = params["reply_parameters"].get("message_id")
        message: dict[str, Any] = {
            "message_id": self._new_message_id(),
            "from": self.bot_user,
            "chat": _chat(chat_id, "Người dùng"),
            "date": int(self._clock()),
            "text": text,
        }
        if markup is not None:
            message["reply_markup"] = markup
        if reply_to is not None:
            replied = self._state.messages.get((chat_id, int(reply_to)))
            if replied is not None:
                message["reply_to_message"] = replied
        self._state.messages[(chat_id, message["message_id"])] = message
        self._state.sent.append(
            {
                "chat_id": chat_id,
                "message_id": message["message_id"],
                "text": text,
                "parse_mode": params.get("parse_mode"),
                "reply_markup": markup,
                "reply_to_message_id": reply_to,
            }
        )
        return message

    def _edited(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._state.messages.get((params.get("chat_id", ""), params.get("message_id", 0)))
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        return message

    def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._edited(params)
        text = _checked_text(params)
        markup = _checked_markup(params.get("reply_markup"))
        if text == message["text"] and markup == message.get("reply_markup"):
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        return self._apply_edit(message, params, text=text, markup=markup)

    def _edit_reply_markup(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self._edited(params)
        markup = _checked_markup(params.get("reply_markup"))
        if markup == message.get("reply_markup"):
            raise ApiError(400, "Bad Request: message is not modified")
        return self._apply_edit(message, params, text=message["text"], markup=markup)

    def _apply_edit(
        self,
        message: dict[str, Any],
        params: dict[str, Any],
        *,
        text: str,
        markup: dict[str, Any] | None,
    ) -> dict[str, Any]:
        message["text"] = text
        message["edit_date"] = int(self._clock())
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        self._state.edits.append(
            {
                "chat_id": params.get("chat_id"),
                "message_id": message["message_id"],
                "text": text,
                "reply_markup": markup,
            }
        )
        return dict(message)

    def _answer_callback(self, params: dict[str, Any]) -> bool:
        if not params.get("callback_query_id"):
            raise ApiError(400, "Bad Request: query is too old and response timeout expired")
        self._state.callback_answers.append(
            {
                "callback_query_id": params["callback_query_id"],
                "text": params.get("text"),
                "show_alert": bool(params.get("show_alert", False)),
            }
        )
        return True

    def _commands_key(self, params: dict[str, Any]) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return (str(scope.get("type", "default")), str(params.get("language_code", "")))

    def _set_commands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands") or []
        if len(commands) > 100:
            raise ApiError(400, "Bad Request: too many commands")
        for command in commands:
            name = str(command.get("command", ""))
            if not _COMMAND_NAME.fullmatch(name):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self._state.commands[self._commands_key(params)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    def _get_commands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return list(self._state.commands.get(self._commands_key(params), []))

    def _delete_commands(self, params: dict[str, Any]) -> bool:
        self._state.commands.pop(self._commands_key(params), None)
        return True


_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_CHAT_METHODS = frozenset({"sendMessage", "editMessageText", "editMessageReplyMarkup"})


async def _read_params(request: Request) -> dict[str, Any]:
    body = await request.body()
    if not body:
        return {}
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        loaded = json.loads(body)
        if not isinstance(loaded, dict):
            raise ValueError("JSON body must be an object")
        return {
            key: decode_params({key: value})[key]
            if key in _NUMBER_FIELDS and isinstance(value, str)
            else value
            for key, value in loaded.items()
        }
    if content_type.startswith("application/x-www-form-urlencoded"):
        return decode_params(dict(parse_qsl(body.decode(), keep_blank_values=True)))
    raise ValueError(f"unsupported content type {content_type!r}")


def _error(error: ApiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status)


def _user(
    user_id: int, first_name: str, username: str | None, language_code: str
) -> dict[str, Any]:
    user: dict[str, Any] = {
        "id": user_id,
        "is_bot": False,
        "first_name": first_name,
        "language_code": language_code,
    }
    if username:
        user["username"] = username
    return user


def _chat(chat_id: int | str, first_name: str, username: str | None = None) -> dict[str, Any]:
    """Private chats have the user's (positive) id; groups are negative, supergroups -100..."""
    if isinstance(chat_id, int) and chat_id > 0:
        chat: dict[str, Any] = {"id": chat_id, "type": "private", "first_name": first_name}
        if username:
            chat["username"] = username
        return chat
    kind = "supergroup" if str(chat_id).startswith("-100") else "group"
    return {"id": chat_id, "type": kind, "title": "Nhóm đầu mối"}


def _checked_text(params: dict[str, Any]) -> str:
    text = str(params.get("text", ""))
    if not text.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if len(text) > MAX_TEXT:
        raise ApiError(400, "Bad Request: message is too long")
    return text


def _checked_markup(markup: Any) -> dict[str, Any] | None:
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", []):
        for button in row:
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= MAX_CALLBACK_BYTES:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    return markup
