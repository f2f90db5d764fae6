"""The webhook server: Zalo's signature and de-duplication, events, Telegram's secret, health.

Requests go to the ASGI app through httpx's ASGITransport, which returns once the app is done,
background task included (the processing after the quick 200), so a test sees what an event did
without waiting.
"""

import hashlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select
from starlette.applications import Starlette

from bot.webhooks import (
    TelegramWebhook,
    ZaloWebhook,
    build_web_app,
    database_check,
)
from storage.models import Contact, InboundEvent
from storage.zalo_window import UNFOLLOWED

APP_ID = "4321098765432109876"
OA_SECRET = "oa-secret-key-for-tests"
OA_ID = "579745863508352884"
USER = "5832619872631786321"
SENT_AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
RECEIVED_AT = SENT_AT + timedelta(seconds=2)
VN = ZoneInfo("Asia/Ho_Chi_Minh")
TELEGRAM_SECRET = "s3cret-Telegram_token"


@dataclass
class Received:
    texts: list[tuple[str, str, str, datetime]] = field(default_factory=list)
    follows: list[str] = field(default_factory=list)
    unfollows: list[str] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)


@pytest.fixture
def received() -> Received:
    return Received()


def zalo_hook(engine: Engine, received: Received, *, verify: bool = True) -> ZaloWebhook:
    async def on_text(user_id: str, text: str, msg_id: str, at: datetime) -> None:
        received.texts.append((user_id, text, msg_id, at))

    async def on_follow(user_id: str, _at: datetime) -> None:
        received.follows.append(user_id)

    async def on_unfollow(user_id: str, _at: datetime) -> None:
        received.unfollows.append(user_id)

    return ZaloWebhook(
        engine=engine,
        app_id=APP_ID,
        oa_secret_key=OA_SECRET,
        on_text=on_text,
        on_follow=on_follow,
        on_unfollow=on_unfollow,
        verify_signature=verify,
        clock=lambda: RECEIVED_AT,
    )


def telegram_hook(received: Received) -> TelegramWebhook:
    async def on_update(update: dict[str, Any]) -> None:
        received.updates.append(update)

    return TelegramWebhook(secret=TELEGRAM_SECRET, on_update=on_update)


def http(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://nhacviec")


@pytest.fixture
async def client(engine: Engine, received: Received) -> AsyncIterator[httpx.AsyncClient]:
    app = build_web_app(
        zalo=zalo_hook(engine, received),
        telegram=telegram_hook(received),
        health_check=database_check(engine),
    )
    async with http(app) as opened:
        yield opened


def epoch_ms(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


def text_event(
    text: str, msg_id: str, *, user: str = USER, at: datetime = SENT_AT
) -> dict[str, Any]:
    return {
        "app_id": APP_ID,
        "user_id_by_app": "8790143524117063680",
        "event_name": "user_send_text",
        "sender": {"id": user},
        "recipient": {"id": OA_ID},
        "message": {"text": text, "msg_id": msg_id},
        "timestamp": epoch_ms(at),
    }


def follow_event(name: str, *, user: str = USER, at: datetime = SENT_AT) -> dict[str, Any]:
    return {
        "app_id": APP_ID,
        "oa_id": OA_ID,
        "user_id_by_app": "8790143524117063680",
        "event_name": name,
        "source": "oa_profile",
        "follower": {"id": user},
        "timestamp": epoch_ms(at),
    }


def signed(event: dict[str, Any], *, secret: str = OA_SECRET) -> tuple[bytes, dict[str, str]]:
    """The body and headers Zalo would send: mac = sha256(app id + body + timestamp + key)."""
    body = json.dumps(event, ensure_ascii=False).encode()
    mac = hashlib.sha256(APP_ID.encode() + body + event["timestamp"].encode() + secret.encode())
    return body, {
        "X-ZEvent-Signature": f"mac={mac.hexdigest()}",
        "Content-Type": "application/json",
    }


async def post_zalo(client: httpx.AsyncClient, event: dict[str, Any]) -> httpx.Response:
    body, headers = signed(event)
    return await client.post("/zalo/webhook", content=body, headers=headers)


def add_contact(engine: Engine, last: datetime | None = None, **fields: Any) -> int:
    with Session(engine) as session:
        contact = Contact(
            agency_code="STC",
            channel="zalo",
            chat_id=USER,
            display_name="Nguyễn Thị Hoa",
            last_interaction_at=last,
            created_at=SENT_AT - timedelta(days=30),
            **fields,
        )
        session.add(contact)
        session.commit()
        assert contact.id is not None
        return contact.id


def contact(engine: Engine, contact_id: int) -> Contact:
    with Session(engine) as session:
        found = session.get(Contact, contact_id)
        assert found is not None
        return found


def recorded_events(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return [row.event_id for row in session.exec(select(InboundEvent))]


async def test_a_signed_text_is_accepted_and_reaches_the_conversation_with_its_time(
    client: httpx.AsyncClient, received: Received, engine: Engine
) -> None:
    contact_id = add_contact(engine, last=SENT_AT - timedelta(days=6))

    response = await post_zalo(client, text_event("đã xong", "msg-0001"))

    assert response.status_code == 200
    assert response.json() == {"status": "accepted"}
    assert received.texts == [(USER, "đã xong", "msg-0001", SENT_AT.astimezone(VN))]
    assert received.texts[0][3].utcoffset() == timedelta(hours=7)
    # The user wrote: the interaction window starts again from the message's time.
    assert contact(engine, contact_id).last_interaction_at == SENT_AT


@pytest.mark.parametrize(
    "tamper",
    ["missing", "wrong secret", "body changed", "garbage", "no timestamp"],
)
async def test_an_unsigned_or_wrongly_signed_event_is_refused_with_403(
    client: httpx.AsyncClient, received: Received, engine: Engine, tamper: str
) -> None:
    event = text_event("đã xong", "msg-0002")
    body, headers = signed(event, secret="another-oa" if tamper == "wrong secret" else OA_SECRET)
    if tamper == "missing":
        del headers["X-ZEvent-Signature"]
    elif tamper == "body changed":
        body = body.replace("đã xong".encode(), "chưa xong".encode())
    elif tamper == "garbage":
        headers["X-ZEvent-Signature"] = "mac=not-a-digest"
    elif tamper == "no timestamp":
        body = json.dumps({**event, "timestamp": None}).encode()

    response = await client.post("/zalo/webhook", content=body, headers=headers)

    assert response.status_code == 403
    assert received.texts == []
    assert recorded_events(engine) == []


async def test_the_same_msg_id_twice_is_processed_once(
    client: httpx.AsyncClient, received: Received, engine: Engine
) -> None:
    first = await post_zalo(client, text_event("đã xong", "msg-0003"))
    again = await post_zalo(client, text_event("đã xong", "msg-0003"))
    other = await post_zalo(client, text_event("đã xong", "msg-0004"))

    assert [r.status_code for r in (first, again, other)] == [200, 200, 200]
    assert again.json() == {"status": "duplicate"}
    assert [t[2] for t in received.texts] == ["msg-0003", "msg-0004"]
    assert sorted(recorded_events(engine)) == ["msg-0003", "msg-0004"]


async def test_a_duplicate_reaching_another_server_process_is_still_processed_once(
    engine: Engine, received: Received
) -> None:
    # Two apps stand for two processes behind a load balancer; they share only the database.
    async with (
        http(build_web_app(zalo=zalo_hook(engine, received), telegram=None)) as one,
        http(build_web_app(zalo=zalo_hook(engine, received), telegram=None)) as other,
    ):
        await post_zalo(one, text_event("xong 80%", "msg-0005"))
        response = await post_zalo(other, text_event("xong 80%", "msg-0005"))

    assert response.json() == {"status": "duplicate"}
    assert len(received.texts) == 1


@pytest.mark.parametrize("name", ["oa_send_text", "oa_send_image", "user_seen_message", "shop_x"])
async def test_the_oas_own_echo_and_unknown_events_are_acknowledged_and_ignored(
    client: httpx.AsyncClient, received: Received, engine: Engine, name: str
) -> None:
    contact_id = add_contact(engine, last=SENT_AT - timedelta(days=3))
    event = {**text_event("Nhắc việc: ...", "msg-0006"), "event_name": name}
    event["sender"], event["recipient"] = {"id": OA_ID}, {"id": USER}

    response = await post_zalo(client, event)

    assert response.status_code == 200
    assert response.json() == {"status": "ignored"}
    assert received.texts == []
    assert recorded_events(engine) == []
    assert contact(engine, contact_id).last_interaction_at == SENT_AT - timedelta(days=3)


async def test_a_user_sending_a_picture_keeps_the_window_open_without_a_text(
    client: httpx.AsyncClient, received: Received, engine: Engine
) -> None:
    contact_id = add_contact(engine, last=SENT_AT - timedelta(days=5))
    event = {**text_event("", "msg-0007"), "event_name": "user_send_image"}

    assert (await post_zalo(client, event)).status_code == 200

    assert received.texts == []
    assert contact(engine, contact_id).last_interaction_at == SENT_AT


async def test_unfollow_marks_the_contact_unreachable_and_follow_brings_it_back(
    client: httpx.AsyncClient, received: Received, engine: Engine
) -> None:
    contact_id = add_contact(engine, last=SENT_AT - timedelta(days=1))

    await post_zalo(client, follow_event("unfollow"))
    gone = contact(engine, contact_id)
    await post_zalo(client, follow_event("follow", at=SENT_AT + timedelta(seconds=1)))
    back = contact(engine, contact_id)

    assert (gone.unreachable, gone.unreachable_reason) == (True, UNFOLLOWED)
    assert (back.unreachable, back.unreachable_reason) == (False, None)
    assert back.last_interaction_at == SENT_AT + timedelta(seconds=1)
    assert (received.unfollows, received.follows) == ([USER], [USER])


async def test_a_contact_made_by_the_text_itself_starts_with_an_open_window(
    engine: Engine,
) -> None:
    made: list[int] = []

    async def bind_invite_code(user_id: str, text: str, msg_id: str, at: datetime) -> None:
        made.append(add_contact(engine))  # what the conversation core does for an invite code

    hook = ZaloWebhook(
        engine=engine,
        app_id=APP_ID,
        oa_secret_key=OA_SECRET,
        on_text=bind_invite_code,
        clock=lambda: RECEIVED_AT,
    )
    async with http(build_web_app(zalo=hook, telegram=None)) as client:
        await post_zalo(client, text_event("MOI-7KX2", "msg-0011"))

    assert contact(engine, made[0]).last_interaction_at == SENT_AT


async def test_an_event_stamped_in_the_future_counts_from_when_it_arrived(
    client: httpx.AsyncClient, received: Received, engine: Engine
) -> None:
    contact_id = add_contact(engine)

    await post_zalo(client, text_event("viec", "msg-0008", at=SENT_AT + timedelta(days=30)))

    assert contact(engine, contact_id).last_interaction_at == RECEIVED_AT
    assert received.texts[0][3] == RECEIVED_AT


async def test_with_the_check_switched_off_unsigned_events_are_taken(
    engine: Engine, received: Received
) -> None:
    app = build_web_app(zalo=zalo_hook(engine, received, verify=False), telegram=None)

    async with http(app) as client:
        response = await client.post("/zalo/webhook", json=text_event("/viec", "msg-0009"))

    assert response.status_code == 200
    assert [t[1] for t in received.texts] == ["/viec"]


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]"])
async def test_a_body_that_is_not_a_json_object_is_a_bad_request(
    engine: Engine, received: Received, body: bytes
) -> None:
    app = build_web_app(zalo=zalo_hook(engine, received, verify=False), telegram=None)

    async with http(app) as client:
        response = await client.post("/zalo/webhook", content=body)

    assert response.status_code == 400


async def test_a_failing_conversation_still_answers_200_and_logs_the_error(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(user_id: str, text: str, msg_id: str, at: datetime) -> None:
        raise RuntimeError("the core is down")

    hook = ZaloWebhook(engine=engine, app_id=APP_ID, oa_secret_key=OA_SECRET, on_text=broken)
    with caplog.at_level(logging.ERROR, logger="bot.webhooks"):
        async with http(build_web_app(zalo=hook, telegram=None)) as client:
            response = await post_zalo(client, text_event("đã xong", "msg-0010"))

    assert response.status_code == 200
    assert "msg-0010" in recorded_events(engine)
    assert any("user_send_text" in r.getMessage() for r in caplog.records)


async def test_the_signature_check_needs_the_oa_keys() -> None:
    async def ignore(user_id: str, text: str, msg_id: str, at: datetime) -> None:
        return None

    with pytest.raises(ValueError, match="oa_secret_key"):
        ZaloWebhook(engine=None, app_id=APP_ID, oa_secret_key="", on_text=ignore)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------- Telegram


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", TELEGRAM_SECRET + "x"])
async def test_telegram_updates_without_the_right_secret_are_refused_with_403(
    client: httpx.AsyncClient, received: Received, secret: str | None
) -> None:
    headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}

    response = await client.post("/telegram/webhook", json={"update_id": 1}, headers=headers)

    assert response.status_code == 403
    assert received.updates == []


async def test_a_telegram_update_with_the_secret_is_passed_on(
    client: httpx.AsyncClient, received: Received
) -> None:
    update = {"update_id": 7, "message": {"message_id": 3, "text": "/viec"}}

    response = await client.post(
        "/telegram/webhook",
        json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
    )

    assert response.status_code == 200
    assert received.updates == [update]


async def test_a_telegram_webhook_needs_a_secret(received: Received) -> None:
    async def ignore(update: dict[str, Any]) -> None:
        return None

    with pytest.raises(ValueError, match="webhook_secret"):
        TelegramWebhook(secret="", on_update=ignore)


async def test_only_the_configured_platforms_have_a_route(
    engine: Engine, received: Received
) -> None:
    async with (
        http(build_web_app(zalo=zalo_hook(engine, received), telegram=None)) as zalo_only,
        http(build_web_app(zalo=None, telegram=telegram_hook(received))) as telegram_only,
    ):
        no_telegram = await zalo_only.post("/telegram/webhook", json={})
        no_zalo = await telegram_only.post("/zalo/webhook", json={})

    assert (no_telegram.status_code, no_zalo.status_code) == (404, 404)


# --------------------------------------------------------------------------------------- health


async def test_healthz_says_ok_and_whether_the_database_answers(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_healthz_without_a_check_is_plain_ok() -> None:
    async with http(build_web_app(zalo=None, telegram=None)) as client:
        response = await client.get("/healthz")

    assert response.json() == {"status": "ok"}


async def test_healthz_reports_an_unreachable_database_with_503(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def down() -> bool:
        raise ConnectionError("connection refused")

    app = build_web_app(zalo=None, telegram=None, health_check=down)
    with caplog.at_level(logging.WARNING, logger="bot.webhooks"):
        async with http(app) as client:
            response = await client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unreachable"}
