"""A small async client for the Zalo OA Open API: consultation text messages.

No third-party Zalo package is fit (see the platform notes), and the API needs little: one POST
per message with the access token in a header. Zalo answers errors with HTTP 200 and a negative
``error`` field, so every answer is read, and its code becomes one of the dispatcher's outcomes:

====================  ===========================================================
-32                   rate limited: pause the channel (``RATE_LIMITED``)
-216, -220            invalid / expired token: refresh once and retry, else TRANSIENT
-213                  the user does not follow the OA: ``UNREACHABLE``
-230, -232            outside the interaction window: ``UNREACHABLE``, reason says so
-201                  invalid parameter, the message itself is wrong: ``PERMANENT``
other codes           ``TRANSIENT`` (retried a few times, then given up by the dispatcher)
network errors, 5xx   ``TRANSIENT``
====================  ===========================================================

A text longer than 2000 characters goes as several messages cut between lines.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from bot.splitting import split_text
from bot.zalo.tokens import ZaloTokenError
from domain.channel_choice import OUTSIDE_ZALO_WINDOW
from domain.delivery import Outcome, SendResult

MAX_TEXT = 2000
SEND_PATH = "/v3.0/oa/message/cs"
DEFAULT_API_BASE = "https://openapi.zalo.me"
RATE_LIMIT_PAUSE = 60.0  # seconds; Zalo's -32 says nothing about how long to wait
SEND_TIMEOUT = httpx.Timeout(15.0)

TOKEN_REJECTED = frozenset({-216, -220})
NOT_FOLLOWER = -213
OUTSIDE_WINDOW = frozenset({-230, -232})
ERROR_OUTCOMES: Mapping[int, Outcome] = {
    -32: Outcome.RATE_LIMITED,
    -201: Outcome.PERMANENT,
    NOT_FOLLOWER: Outcome.UNREACHABLE,
    **dict.fromkeys(OUTSIDE_WINDOW, Outcome.UNREACHABLE),
    **dict.fromkeys(TOKEN_REJECTED, Outcome.TRANSIENT),  # only once a refresh did not help
}


class TokenSource(Protocol):
    """Where the client gets its access token (``bot.zalo.tokens.ZaloTokens``)."""

    async def access_token(self) -> str: ...

    async def refresh(self, rejected: str) -> str: ...


@dataclass(frozen=True, slots=True)
class _Answer:
    code: int  # Zalo's ``error``: 0 for success, negative for its errors
    message: str
    message_id: str | None = None


class ZaloClient:
    """Sends consultation texts to Zalo users on behalf of one OA."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        tokens: TokenSource,
        *,
        api_base: str = DEFAULT_API_BASE,
        rate_limit_pause: float = RATE_LIMIT_PAUSE,
    ) -> None:
        self._http = http
        self._tokens = tokens
        self._url = api_base.rstrip("/") + SEND_PATH
        self._rate_limit_pause = rate_limit_pause

    async def send_text(self, user_id: str, text: str) -> SendResult:
        """Send ``text`` to ``user_id`` (the OA-scoped id), in parts of at most 2000 characters.

        A failure stops the run: the result is that part's, and says how many went before it.
        """
        parts = split_text(text, MAX_TEXT)
        if not parts:
            return SendResult(Outcome.PERMANENT, error="message text is empty")
        last_id: str | None = None
        for index, part in enumerate(parts):
            result = await self._send_part(user_id, part)
            if result.outcome is not Outcome.SENT:
                if index == 0:
                    return result
                note = f" (sau khi đã gửi {index}/{len(parts)} phần)"
                return SendResult(
                    result.outcome, error=result.error + note, retry_after=result.retry_after
                )
            last_id = result.message_id
        return SendResult(Outcome.SENT, message_id=last_id)

    async def _send_part(self, user_id: str, text: str) -> SendResult:
        try:
            token = await self._tokens.access_token()
            answer = await self._post(token, user_id, text)
            if isinstance(answer, _Answer) and answer.code in TOKEN_REJECTED:
                token = await self._tokens.refresh(rejected=token)
                answer = await self._post(token, user_id, text)
        except ZaloTokenError as exc:
            return SendResult(Outcome.TRANSIENT, error=str(exc))
        if isinstance(answer, SendResult):
            return answer
        if answer.code == 0:
            return SendResult(Outcome.SENT, message_id=answer.message_id)
        return self._failure(answer)

    async def _post(self, token: str, user_id: str, text: str) -> _Answer | SendResult:
        body = {"recipient": {"user_id": user_id}, "message": {"text": text}}
        try:
            response = await self._http.post(
                self._url, headers={"access_token": token}, json=body, timeout=SEND_TIMEOUT
            )
        except httpx.HTTPError as exc:
            return SendResult(Outcome.TRANSIENT, error=f"Zalo: {exc!r}")
        if response.status_code == 429:
            return SendResult(
                Outcome.RATE_LIMITED,
                error="Zalo: HTTP 429",
                retry_after=_retry_after(response, self._rate_limit_pause),
            )
        if response.status_code >= 500 or response.status_code == 408:
            return SendResult(Outcome.TRANSIENT, error=f"Zalo: HTTP {response.status_code}")
        if response.status_code != 200:
            return SendResult(Outcome.PERMANENT, error=f"Zalo: HTTP {response.status_code}")
        return _read_answer(response)

    def _failure(self, answer: _Answer) -> SendResult:
        detail = f"Zalo {answer.code}: {answer.message}".rstrip(": ")
        outcome = ERROR_OUTCOMES.get(answer.code, Outcome.TRANSIENT)
        if answer.code in OUTSIDE_WINDOW:
            return SendResult(outcome, error=f"{OUTSIDE_ZALO_WINDOW} ({detail})")
        if answer.code == NOT_FOLLOWER:
            return SendResult(outcome, error=f"người dùng không quan tâm OA ({detail})")
        if answer.code in TOKEN_REJECTED:
            return SendResult(outcome, error=f"mã truy cập bị từ chối sau khi làm mới ({detail})")
        if outcome is Outcome.RATE_LIMITED:
            return SendResult(outcome, error=detail, retry_after=self._rate_limit_pause)
        return SendResult(outcome, error=detail)


def _read_answer(response: httpx.Response) -> _Answer | SendResult:
    try:
        body: Any = response.json()
    except ValueError:
        return SendResult(Outcome.TRANSIENT, error="Zalo: the answer is not JSON")
    if not isinstance(body, dict):
        return SendResult(Outcome.TRANSIENT, error="Zalo: unexpected answer")
    try:
        code = int(body.get("error", 0))
    except (TypeError, ValueError):
        return SendResult(Outcome.TRANSIENT, error=f"Zalo: unexpected error field {body!r}")
    data = body.get("data")
    message_id = data.get("message_id") if isinstance(data, dict) else None
    return _Answer(
        code=code,
        message=str(body.get("message") or ""),
        message_id=None if message_id is None else str(message_id),
    )


def _retry_after(response: httpx.Response, default: float) -> float:
    try:
        return max(float(response.headers.get("Retry-After", default)), 0.0)
    except ValueError:
        return default
