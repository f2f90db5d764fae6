"""Zalo access tokens: refreshed with Zalo's form, stored with the rotated refresh token in one
transaction, refreshed once however many tasks or processes ask, and never lost to a crash.

Runs against the local Zalo server (real HTTP) on SQLite and PostgreSQL.
"""

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import OperationalError
from sqlmodel import Session
from typer.testing import CliRunner

from app.bootstrap import Services
from app.cli_zalo import ACCESS_ENV, REFRESH_ENV, register
from app.config import Config
from bot.zalo.tokens import (
    TokenPair,
    ZaloTokenError,
    ZaloTokenMissing,
    ZaloTokens,
    expiry,
    read_pair,
)
from domain.calendar import WorkingCalendar
from storage.engine import make_engine
from tests.conftest import Database
from tests.fakes.zalo_server import APP_ID, SECRET_KEY, Clock, FakeZaloApi, seed_tokens

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
DAY = timedelta(hours=25)


@pytest.fixture(scope="module")
def zalo_server() -> Iterator[FakeZaloApi]:
    with FakeZaloApi() as server:
        yield server


@pytest.fixture
def api(zalo_server: FakeZaloApi) -> FakeZaloApi:
    zalo_server.reset()
    return zalo_server


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client() as client:
        yield client


@pytest.fixture
def second_engine(database: Database, engine: Engine) -> Iterator[Engine]:
    """Another engine on the test database: the connections of a second server process."""
    other = make_engine(database.url)
    try:
        yield other
    finally:
        other.dispose()


def instance(
    engine: Engine, http: httpx.Client, api: FakeZaloApi, clock: Clock, **kwargs: Any
) -> ZaloTokens:
    options: dict[str, Any] = {"app_id": APP_ID, "secret_key": SECRET_KEY} | kwargs
    return ZaloTokens(engine, http, oauth_base=api.base_url, clock=clock, **options)


def stored(engine: Engine) -> TokenPair | None:
    with Session(engine) as session:
        return read_pair(session)


async def test_a_refresh_sends_zalos_form_and_stores_the_rotated_pair(
    engine: Engine, api: FakeZaloApi, http: httpx.Client, clock: Clock
) -> None:
    first = seed_tokens(engine, api, clock(), timedelta(minutes=5))  # inside the renewal margin
    old_refresh = api.current_refresh_token
    tokens = instance(engine, http, api, clock)

    token = await tokens.access_token()

    assert token != first
    assert api.token_requests == [
        {
            "refresh_token": old_refresh,
            "app_id": APP_ID,
            "grant_type": "refresh_token",
            "secret_key": SECRET_KEY,
            "content_type": "application/x-www-form-urlencoded",
        }
    ]
    # expires_in came as the string "90000": 25 hours from the refresh.
    assert stored(engine) == TokenPair(token, str(api.current_refresh_token), START + DAY)
    assert await tokens.access_token() == token  # kept in memory: no second call
    assert len(api.token_requests) == 1


async def test_a_token_still_valid_is_used_without_calling_zalo(
    engine: Engine, api: FakeZaloApi, http: httpx.Client, clock: Clock
) -> None:
    first = seed_tokens(engine, api, clock(), DAY)

    assert await instance(engine, http, api, clock).access_token() == first
    assert api.token_requests == []


async def test_an_instance_refused_an_old_token_takes_the_one_another_instance_stored(
    engine: Engine, second_engine: Engine, api: FakeZaloApi, http: httpx.Client, clock: Clock
) -> None:
    first = seed_tokens(engine, api, clock(), DAY)
    one = instance(engine, http, api, clock)
    other = instance(second_engine, http, api, clock)
    assert await other.access_token() == first
    renewed = await one.refresh(rejected=first)

    assert await other.refresh(rejected=first) == renewed  # re-read under the lock
    assert len(api.token_requests) == 1
    assert (one.refreshes, other.refreshes) == (1, 0)


async def test_tasks_refused_the_same_token_share_one_refresh(
    engine: Engine, api: FakeZaloApi, http: httpx.Client, clock: Clock
) -> None:
    first = seed_tokens(engine, api, clock(), DAY)
    tokens = instance(engine, http, api, clock)

    results = await asyncio.gather(*(tokens.refresh(rejected=first) for _ in range(8)))

    assert len(set(results)) == 1 and results[0] != first
    assert len(api.token_requests) == 1


async def test_two_instances_refreshing_at_once_call_zalo_once(
    backend: str,
    engine: Engine,
    second_engine: Engine,
    api: FakeZaloApi,
    http: httpx.Client,
    clock: Clock,
) -> None:
    first = seed_tokens(engine, api, clock(), DAY)
    one = instance(engine, http, api, clock)
    other = instance(second_engine, http, api, clock)
    other_reached_the_database = threading.Event()

    def note(*_args: Any) -> None:
        other_reached_the_database.set()

    event.listen(second_engine, "before_cursor_execute", note)
    api.hold_token_endpoint()
    try:
        first_refresh = asyncio.create_task(one.refresh(rejected=first))
        await asyncio.to_thread(api.wait_for, lambda a: len(a.token_requests) == 1)
        # One instance holds the lock and waits for Zalo; now the other one asks too.
        second_refresh = asyncio.create_task(other.refresh(rejected=first))
        assert await asyncio.to_thread(other_reached_the_database.wait, 10)
        if backend == "postgresql":
            await asyncio.to_thread(_wait_for_row_lock_waiter, engine)
    finally:
        api.release_token_endpoint()
    results = await asyncio.gather(first_refresh, second_refresh)

    assert results[0] == results[1] != first
    assert len(api.token_requests) == 1
    assert one.refreshes + other.refreshes == 1
    pair = stored(engine)
    assert pair is not None and pair.refresh_token == api.current_refresh_token


def _wait_for_row_lock_waiter(engine: Engine, timeout: float = 10.0) -> None:
    """Until a PostgreSQL session waits for the refresh-token row lock (proof of the overlap)."""
    deadline = time.monotonic() + timeout
    query = text(
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE wait_event_type = 'Lock' AND query ILIKE '%key_value%FOR UPDATE%'"
    )
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            if connection.execute(query).scalar_one() >= 1:
                return
        time.sleep(0.01)  # polling PostgreSQL's view of locks: nothing else signals the wait
    raise TimeoutError("the second refresh never waited for the lock")


async def test_a_failed_commit_after_zalos_answer_leaves_the_previous_pair_whole(
    engine: Engine, second_engine: Engine, api: FakeZaloApi, http: httpx.Client, clock: Clock
) -> None:
    first = seed_tokens(engine, api, clock(), DAY)
    before = stored(engine)

    def connection_lost(_connection: Any) -> None:
        raise OperationalError("COMMIT", {}, ConnectionError("server closed the connection"))

    event.listen(second_engine, "commit", connection_lost)
    with pytest.raises(ZaloTokenError, match="set-token"):
        await instance(second_engine, http, api, clock).refresh(rejected=first)

    assert len(api.token_requests) == 1  # Zalo answered with a new pair...
    assert stored(engine) == before  # ...but neither half of it replaced the stored pair


def test_a_process_killed_during_the_refresh_keeps_the_refresh_token_and_frees_the_lock(
    database: Database, engine: Engine, api: FakeZaloApi, http: httpx.Client, clock: Clock
) -> None:
    first = seed_tokens(engine, api, clock(), DAY)
    before = stored(engine)
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, database.url, api.base_url, first, APP_ID, SECRET_KEY],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    # The child dies while its request is at Zalo, holding the database lock.
    api.on_token_request = lambda: os.kill(child.pid, signal.SIGKILL)
    api.drop_token_requests = True
    try:
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
    assert len(api.token_requests) == 1
    assert stored(engine) == before

    api.on_token_request, api.drop_token_requests = None, False
    renewed = asyncio.run(instance(engine, http, api, clock).refresh(rejected=first))

    assert api.token_requests[-1]["refresh_token"] == before.refresh_token  # type: ignore[union-attr]
    assert stored(engine) == TokenPair(renewed, str(api.current_refresh_token), START + DAY)


_CHILD = """
import asyncio, sys
import httpx
from bot.zalo.tokens import ZaloTokens
from storage.engine import make_engine

url, base, rejected, app_id, secret_key = sys.argv[1:]
with httpx.Client() as http:
    engine = make_engine(url)
    tokens = ZaloTokens(engine, http, app_id=app_id, secret_key=secret_key, oauth_base=base)
    asyncio.run(tokens.refresh(rejected=rejected))
"""


async def test_a_refused_refresh_changes_nothing_and_says_why(
    engine: Engine, api: FakeZaloApi, http: httpx.Client, clock: Clock
) -> None:
    first = seed_tokens(engine, api, clock(), DAY)
    before = stored(engine)

    with pytest.raises(ZaloTokenError, match="Invalid refresh token"):
        await instance(engine, http, api, clock, secret_key="wrong").refresh(rejected=first)

    assert stored(engine) == before


async def test_without_a_stored_pair_the_error_says_to_run_set_token(
    engine: Engine, api: FakeZaloApi, http: httpx.Client, clock: Clock
) -> None:
    with pytest.raises(ZaloTokenMissing, match="nhacviec zalo set-token"):
        await instance(engine, http, api, clock).access_token()
    assert api.token_requests == []


@pytest.mark.parametrize(
    ("expires_in", "lifetime"),
    [("90000", DAY), (90000, DAY), (" 3600 ", timedelta(hours=1))],
)
def test_expires_in_is_read_from_zalos_string_of_seconds(
    expires_in: object, lifetime: timedelta
) -> None:
    assert expiry(expires_in, START) == START + lifetime


@pytest.mark.parametrize("expires_in", ["", "abc", "0", "-5", None])
def test_a_malformed_expires_in_is_refused(expires_in: object) -> None:
    with pytest.raises(ZaloTokenError, match="expires_in"):
        expiry(expires_in, START)


# ---------------------------------------------------------------- nhacviec zalo set-token / status


def cli(engine: Engine, environ: dict[str, str] | None = None) -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """The lead's ``nhacviec`` app stands here."""

    services = Services(config=Config(), engine=engine, calendar=WorkingCalendar())
    register(app, lambda: services, clock=lambda: START, environ=environ or {})
    return app


def test_set_token_stores_the_first_pair(engine: Engine) -> None:
    args = ["zalo", "set-token", "--access-token", "AT-1", "--refresh-token", "RT-1"]

    result = CliRunner().invoke(cli(engine), [*args, "--expires-in", "3600"])

    assert result.exit_code == 0, result.output
    assert stored(engine) == TokenPair("AT-1", "RT-1", START + timedelta(hours=1))
    assert "16:00 ngày 02/03/2026" in result.output  # 09:00 UTC is 16:00 in Hà Nội


def test_set_token_can_read_the_pair_from_the_environment(engine: Engine) -> None:
    environ = {ACCESS_ENV: "AT-env", REFRESH_ENV: "RT-env"}

    result = CliRunner().invoke(cli(engine, environ), ["zalo", "set-token", "--from-env"])

    assert result.exit_code == 0, result.output
    assert stored(engine) == TokenPair("AT-env", "RT-env", START + DAY)
    assert "AT-env" not in result.output


def test_set_token_without_the_tokens_says_how_to_give_them(engine: Engine) -> None:
    result = CliRunner().invoke(cli(engine), ["zalo", "set-token", "--from-env"])

    assert result.exit_code == 2
    assert "--access-token" in result.output and ACCESS_ENV in result.output
    assert stored(engine) is None


def test_status_tells_whether_a_token_is_stored_without_printing_it(engine: Engine) -> None:
    app = cli(engine)
    missing = CliRunner().invoke(app, ["zalo", "status"])
    CliRunner().invoke(app, ["zalo", "set-token", "--access-token", "AT", "--refresh-token", "RT"])
    present = CliRunner().invoke(app, ["zalo", "status"])

    assert missing.exit_code == 1 and "set-token" in missing.output
    assert present.exit_code == 0
    assert "còn hiệu lực" in present.output and "RT" not in present.output
