"""The Zalo OA access token: kept in the database, refreshed before it expires, never lost.

An access token lives about 25 hours. It is renewed with a refresh token that Zalo accepts ONCE
and replaces by a new one in the same answer, so losing the answer, or two processes spending the
same refresh token, cuts the OA off until an administrator issues a new pair by hand. Hence:

- the new refresh token is stored in the same transaction as the new access token (the KeyValue
  rows ``zalo.access_token``, ``zalo.refresh_token``, ``zalo.expires_at``); a crash before the
  commit leaves the previous pair in place, never half of each;
- refreshes are serialised: an ``asyncio.Lock`` within a process, and a database lock across
  processes (``SELECT ... FOR UPDATE`` on the refresh-token row on PostgreSQL, ``BEGIN IMMEDIATE``
  on SQLite) held from before the call to Zalo until the commit;
- after taking the lock the rows are read again: when another process has refreshed meanwhile, its
  token is used and Zalo is not called.

A refresh runs in a worker thread, so waiting for another process's lock never stalls the event
loop (nor the other process, when both live in one loop, as in tests).
"""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from storage.models import KeyValue

ACCESS_KEY = "zalo.access_token"
REFRESH_KEY = "zalo.refresh_token"
EXPIRES_KEY = "zalo.expires_at"
TOKEN_PATH = "/v4/oa/access_token"
REFRESH_MARGIN = timedelta(minutes=30)  # renew this long before expiry: sends never race it
REFRESH_TIMEOUT = httpx.Timeout(15.0)

log = logging.getLogger(__name__)


class ZaloTokenError(RuntimeError):
    """No usable access token: not configured yet, or the refresh failed."""


class ZaloTokenMissing(ZaloTokenError):
    """No token pair stored: an administrator must run ``nhacviec zalo set-token``."""


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_at: datetime

    def expires_within(self, margin: timedelta, now: datetime) -> bool:
        return self.expires_at - now <= margin


def expiry(expires_in: object, now: datetime) -> datetime:
    """``now`` plus Zalo's ``expires_in``, which comes as a string of seconds ("90000")."""
    try:
        seconds = int(str(expires_in).strip())
    except ValueError as exc:
        raise ZaloTokenError(f"expires_in không hợp lệ: {expires_in!r}") from exc
    if seconds <= 0:
        raise ZaloTokenError(f"expires_in không hợp lệ: {expires_in!r}")
    return now + timedelta(seconds=seconds)


def store_pair(session: Session, pair: TokenPair, now: datetime) -> None:
    """Write the three rows (inserting the missing ones); the caller commits, all at once."""
    values = {
        ACCESS_KEY: pair.access_token,
        REFRESH_KEY: pair.refresh_token,
        EXPIRES_KEY: pair.expires_at.astimezone(UTC).isoformat(),
    }
    for key, value in values.items():
        row = session.get(KeyValue, key)
        if row is None:
            session.add(KeyValue(key=key, value=value, updated_at=now))
        else:
            row.value = value
            row.updated_at = now
            session.add(row)
    session.flush()


def read_pair(session: Session) -> TokenPair | None:
    """The stored pair, or None when any part of it is missing."""
    rows = session.exec(
        select(KeyValue).where(col(KeyValue.key).in_((ACCESS_KEY, REFRESH_KEY, EXPIRES_KEY)))
    ).all()
    values = {row.key: row.value for row in rows}
    if len(values) < 3:
        return None
    return TokenPair(
        access_token=values[ACCESS_KEY],
        refresh_token=values[REFRESH_KEY],
        expires_at=datetime.fromisoformat(values[EXPIRES_KEY]),
    )


def _lock_and_read(session: Session) -> TokenPair | None:
    """Take the cross-process refresh lock, then read the pair as it is now."""
    if session.get_bind().dialect.name == "sqlite":
        # The first statement of the transaction: takes SQLite's write lock now, not at the
        # first write, so a second process waits here instead of reading a pair about to change.
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")
    else:
        session.exec(
            select(KeyValue).where(col(KeyValue.key) == REFRESH_KEY).with_for_update()
        ).first()
    return read_pair(session)


class ZaloTokens:
    """Hands out a valid access token, refreshing it when needed (see the module docstring).

    ``http`` is a synchronous client: a refresh runs whole in a worker thread (lock, call to Zalo,
    commit), so a task cancelled while waiting for it cannot leave the lock held or the new
    refresh token unsaved.
    """

    def __init__(
        self,
        engine: Engine,
        http: httpx.Client,
        *,
        app_id: str,
        secret_key: str,
        oauth_base: str = "https://oauth.zaloapp.com",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        margin: timedelta = REFRESH_MARGIN,
    ) -> None:
        self._engine = engine
        self._http = http
        self._app_id = app_id
        self._secret_key = secret_key
        self._url = oauth_base.rstrip("/") + TOKEN_PATH
        self._clock = clock
        self._margin = margin
        self._lock = asyncio.Lock()
        self._current: TokenPair | None = None
        self.refreshes = 0  # calls to Zalo's token endpoint made by this instance

    async def access_token(self) -> str:
        """A token valid for at least ``margin`` more; refreshes first when it is not."""
        current = self._current
        if current is not None and not current.expires_within(self._margin, self._clock()):
            return current.access_token
        return await self._renew(rejected=None)

    async def refresh(self, rejected: str) -> str:
        """Zalo refused ``rejected`` as invalid or expired: a new token (once, however many ask).

        Tasks that all failed with the same token wait for one refresh and share its result.
        """
        return await self._renew(rejected=rejected)

    async def _renew(self, rejected: str | None) -> str:
        async with self._lock:
            current = self._current
            if current is not None and self._usable(current, rejected):
                return current.access_token  # another task renewed it while this one waited
            pair = await asyncio.to_thread(self._renew_blocking, rejected)
            self._current = pair
            return pair.access_token

    def _renew_blocking(self, rejected: str | None) -> TokenPair:
        # Leaving the block without a commit rolls back, which also releases the lock.
        with Session(self._engine, expire_on_commit=False) as session:
            try:
                stored = _lock_and_read(session)
            except SQLAlchemyError as exc:
                raise ZaloTokenError(
                    f"không khóa được mã Zalo trong cơ sở dữ liệu: {_cause(exc)}"
                ) from exc
            if stored is None:
                raise ZaloTokenMissing(
                    "chưa có mã truy cập Zalo: hãy chạy `nhacviec zalo set-token`"
                )
            if self._usable(stored, rejected):
                return stored  # another process renewed it meanwhile: Zalo is not called
            pair = self._call_zalo(stored.refresh_token)
            try:
                store_pair(session, pair, self._clock())
                session.commit()
            except SQLAlchemyError as exc:
                # The previous pair is still stored, but Zalo may have retired its refresh token.
                # Not ``exc`` itself: its text would carry the statement's parameters, the tokens.
                log.error("the new Zalo token pair could not be stored: %s", _cause(exc))
                raise ZaloTokenError(
                    "không lưu được mã Zalo mới vào cơ sở dữ liệu; nếu lần làm mới sau bị từ chối,"
                    " hãy cấp lại mã bằng `nhacviec zalo set-token`"
                ) from exc
            return pair

    def _usable(self, pair: TokenPair, rejected: str | None) -> bool:
        return pair.access_token != rejected and not pair.expires_within(
            self._margin, self._clock()
        )

    def _call_zalo(self, refresh_token: str) -> TokenPair:
        self.refreshes += 1
        now = self._clock()
        try:
            response = self._http.post(
                self._url,
                headers={"secret_key": self._secret_key},
                data={
                    "refresh_token": refresh_token,
                    "app_id": self._app_id,
                    "grant_type": "refresh_token",
                },
                timeout=REFRESH_TIMEOUT,
            )
        except httpx.HTTPError as exc:
            raise ZaloTokenError(f"không gọi được máy chủ cấp mã Zalo: {exc!r}") from exc
        if response.status_code != 200:
            raise ZaloTokenError(f"máy chủ cấp mã Zalo trả về HTTP {response.status_code}")
        try:
            body: Any = response.json()
        except ValueError as exc:
            raise ZaloTokenError("máy chủ cấp mã Zalo trả về nội dung không phải JSON") from exc
        if not isinstance(body, dict) or not body.get("access_token"):
            raise ZaloTokenError(f"Zalo từ chối làm mới mã truy cập: {_describe(body)}")
        if not body.get("refresh_token"):
            raise ZaloTokenError("Zalo không trả về mã làm mới (refresh_token) mới")
        log.info("Zalo access token refreshed")
        return TokenPair(
            access_token=str(body["access_token"]),
            refresh_token=str(body["refresh_token"]),
            expires_at=expiry(body.get("expires_in"), now),
        )


def _cause(error: SQLAlchemyError) -> str:
    """The driver's message (or the error's type), without SQLAlchemy's statement parameters."""
    orig = getattr(error, "orig", None)
    return str(orig).strip() if orig is not None else type(error).__name__


def _describe(body: Any) -> str:
    """Zalo's reason for an error answer, without echoing anything secret."""
    if not isinstance(body, dict):
        return "câu trả lời không đúng dạng"
    parts = [
        str(body[key])
        for key in ("error", "error_name", "error_reason", "error_description", "message")
        if body.get(key) not in (None, "")
    ]
    return " ".join(parts) or "không rõ lý do"
