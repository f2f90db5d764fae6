"""The Zalo client against a local server speaking Zalo's API over real HTTP.

Sending, splitting at 2000 characters, every error code's outcome, and the token running out in
the middle of a run of sends (one refresh, then the run goes on). Tokens live in the test database
(SQLite and PostgreSQL), as in production.
"""

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from bot.zalo.channel import ZaloChannel, refused_for_window
from bot.zalo.client import ZaloClient
from bot.zalo.tokens import ZaloTokens, read_pair
from domain.channel_choice import OUTSIDE_ZALO_WINDOW
from domain.delivery import Button, Outcome, OutgoingMessage
from tests.fakes.zalo_server import APP_ID, SECRET_KEY, Clock, FakeZaloApi, seed_tokens

USER = "5832619872631786321"  # Zalo ids overflow 64-bit floats: always strings
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


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
def token_http() -> Iterator[httpx.Client]:
    with httpx.Client() as http:
        yield http


@pytest.fixture
async def send_http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as http:
        yield http


@pytest.fixture
def tokens(engine: Engine, api: FakeZaloApi, token_http: httpx.Client, clock: Clock) -> ZaloTokens:
    return ZaloTokens(
        engine,
        token_http,
        app_id=APP_ID,
        secret_key=SECRET_KEY,
        oauth_base=api.base_url,
        clock=clock,
    )


@pytest.fixture
def client(api: FakeZaloApi, send_http: httpx.AsyncClient, tokens: ZaloTokens) -> ZaloClient:
    return ZaloClient(send_http, tokens, api_base=api.base_url)


@pytest.fixture
def first_token(engine: Engine, api: FakeZaloApi, clock: Clock) -> str:
    return seed_tokens(engine, api, clock(), timedelta(hours=25))


async def test_a_text_reaches_the_user_with_the_access_token(
    client: ZaloClient, api: FakeZaloApi, first_token: str
) -> None:
    result = await client.send_text(USER, "Nhắc việc: báo cáo quý I đến hạn ngày 15/3/2026.")

    assert result.outcome is Outcome.SENT
    assert [(s.user_id, s.text, s.access_token) for s in api.sent] == [
        (USER, "Nhắc việc: báo cáo quý I đến hạn ngày 15/3/2026.", first_token)
    ]
    assert result.message_id == api.sent[0].message_id
    assert api.token_requests == []


async def test_a_long_text_is_split_at_2000_characters_between_lines(
    client: ZaloClient, api: FakeZaloApi, first_token: str
) -> None:
    # 50 lines of 99 characters: 20 fit in one message (20 * 99 + 19 newlines = 1999).
    lines = [f"{n:02d}. Rà soát, công bố thủ tục hành chính".ljust(99, ".") for n in range(1, 51)]
    text = "\n".join(lines)

    result = await client.send_text(USER, text)

    assert result.outcome is Outcome.SENT
    parts = [s.text for s in api.sent]
    assert [len(part) for part in parts] == [1999, 1999, 999]
    assert "\n".join(parts).split("\n") == lines  # no line cut, none lost, order kept
    assert result.message_id == api.sent[-1].message_id


@pytest.mark.parametrize(
    ("code", "outcome", "retry_after", "error_start"),
    [
        (-32, Outcome.RATE_LIMITED, 60.0, "Zalo -32"),
        (-213, Outcome.UNREACHABLE, None, "người dùng không quan tâm OA"),
        (-230, Outcome.UNREACHABLE, None, OUTSIDE_ZALO_WINDOW),
        (-232, Outcome.UNREACHABLE, None, OUTSIDE_ZALO_WINDOW),
        (-201, Outcome.PERMANENT, None, "Zalo -201"),
        (-999, Outcome.TRANSIENT, None, "Zalo -999"),
    ],
)
async def test_each_zalo_error_code_becomes_the_dispatchers_outcome(
    client: ZaloClient,
    api: FakeZaloApi,
    first_token: str,
    code: int,
    outcome: Outcome,
    retry_after: float | None,
    error_start: str,
) -> None:
    api.fail_next(USER, code)

    result = await client.send_text(USER, "Đề nghị báo cáo tiến độ.")

    assert result.outcome is outcome
    assert result.retry_after == retry_after
    assert result.error.startswith(error_start)
    assert refused_for_window(result) is (code in (-230, -232))
    assert api.sent == []
    assert api.token_requests == []


async def test_a_token_zalo_keeps_refusing_is_refreshed_once_then_the_send_is_transient(
    client: ZaloClient, api: FakeZaloApi, first_token: str
) -> None:
    api.reject_every_token()

    result = await client.send_text(USER, "Nhắc việc")

    assert result.outcome is Outcome.TRANSIENT
    assert "Zalo -216" in result.error
    assert len(api.token_requests) == 1


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_transient(
    client: ZaloClient, api: FakeZaloApi, first_token: str, status: int
) -> None:
    api.answer_sends_with_status(status)

    result = await client.send_text(USER, "Nhắc việc")

    assert result.outcome is Outcome.TRANSIENT
    assert result.error == f"Zalo: HTTP {status}"


async def test_a_network_failure_is_transient(
    send_http: httpx.AsyncClient, tokens: ZaloTokens, first_token: str
) -> None:
    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = ZaloClient(send_http, tokens, api_base=f"http://127.0.0.1:{port}")

    result = await client.send_text(USER, "Nhắc việc")

    assert result.outcome is Outcome.TRANSIENT
    assert "ConnectError" in result.error


async def test_the_token_expiring_in_the_middle_of_a_run_is_refreshed_once_and_the_run_goes_on(
    client: ZaloClient, api: FakeZaloApi, first_token: str, engine: Engine
) -> None:
    for n in range(3):
        assert (await client.send_text(USER, f"Tin {n}")).outcome is Outcome.SENT
    api.expire(first_token)

    # Six sends at once all meet the expired token; only one may spend the refresh token.
    results = await asyncio.gather(
        *(client.send_text(f"{USER}{n}", f"Tin sau {n}") for n in range(6))
    )

    assert [r.outcome for r in results] == [Outcome.SENT] * 6
    assert len(api.token_requests) == 1
    used = [s.access_token for s in api.sent]
    assert used[:3] == [first_token] * 3
    assert len(set(used[3:])) == 1 and used[3] != first_token
    with Session(engine) as session:
        stored = read_pair(session)
    assert stored is not None
    assert (stored.access_token, stored.refresh_token) == (used[3], api.current_refresh_token)


async def test_the_token_is_renewed_shortly_before_it_expires_without_a_refused_send(
    client: ZaloClient, api: FakeZaloApi, engine: Engine, clock: Clock
) -> None:
    first = seed_tokens(engine, api, clock(), timedelta(hours=2))
    assert (await client.send_text(USER, "Tin 1")).outcome is Outcome.SENT

    clock.now += timedelta(hours=1, minutes=45)  # 15 minutes left: inside the renewal margin
    assert (await client.send_text(USER, "Tin 2")).outcome is Outcome.SENT

    assert len(api.token_requests) == 1
    assert api.sent[0].access_token == first
    assert api.sent[1].access_token != first


async def test_a_failure_after_the_first_part_says_how_many_parts_went(
    client: ZaloClient, api: FakeZaloApi, first_token: str
) -> None:
    text = "\n".join(["Dòng nhắc việc khá dài " * 4] * 40)
    api.fail_next(USER, None, -32)  # the first part goes, the second meets the rate limit

    result = await client.send_text(USER, text)

    assert result.outcome is Outcome.RATE_LIMITED
    assert result.retry_after == 60.0
    assert result.error.endswith("(sau khi đã gửi 1/2 phần)")


async def test_without_a_stored_token_sends_are_transient_and_say_what_to_run(
    client: ZaloClient, api: FakeZaloApi
) -> None:
    result = await client.send_text(USER, "Nhắc việc")

    assert result.outcome is Outcome.TRANSIENT
    assert "nhacviec zalo set-token" in result.error
    assert api.sent == []


async def test_an_empty_text_is_permanent(client: ZaloClient, first_token: str) -> None:
    result = await client.send_text(USER, " \n \n")

    assert result.outcome is Outcome.PERMANENT


async def test_the_channel_sends_the_text_and_leaves_the_buttons_out(
    client: ZaloClient, api: FakeZaloApi, first_token: str
) -> None:
    channel = ZaloChannel(client)
    message = OutgoingMessage(
        chat_id=USER,
        text="Trả lời 'đã xong' khi hoàn thành.",
        buttons=((Button("Đã xong", "done:12"),),),
    )

    result = await channel.send(message)

    assert (channel.name, channel.max_text) == ("zalo", 2000)
    assert result.outcome is Outcome.SENT
    assert [s.text for s in api.sent] == ["Trả lời 'đã xong' khi hoàn thành."]
