"""The CLI around the conversation, as an IT officer runs it: invite, contacts, revoke, chat.

``nhacviec chat`` reads stdin, so a conversation is piped in; two chats (a focal point and the
coordinator) share one SQLite file, as two people would share the server's database.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from app.bundled import sample_plan

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow  # each command is a new Python process
AT = "2025-11-03T09:00"


def nhacviec(*args: str, db: Path, stdin: str = "", check: bool = True,
             env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", **(env or {})}
    environment.pop("NHACVIEC_DATABASE_URL", None)
    if env is None:
        environment.pop("NHACVIEC_TELEGRAM_BOT_USERNAME", None)
    result = subprocess.run(
        [sys.executable, "-m", "app", "--db", f"sqlite:///{db}", *args],
        input=stdin, capture_output=True, text=True, env=environment, cwd=ROOT, timeout=120,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "nhacviec.db"


def contacts(db: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(nhacviec("contacts", "--json", db=db).stdout)
    return rows


def test_invite_prints_a_code_and_the_deep_link(db: Path) -> None:
    out = json.loads(nhacviec("invite", "--agency", "so tai chinh", "--json", db=db).stdout)
    assert re.fullmatch(r"[A-Za-z0-9_-]{10,64}", out["code"])
    assert out["link"] == f"https://t.me/<ten_bot>?start={out['code']}"
    named = nhacviec("invite", "--agency", "STC", "--role", "coordinator", "--expires", "12h",
                     "--json", db=db, env={"NHACVIEC_TELEGRAM_BOT_USERNAME": "nhacviec_bot"})
    link = json.loads(named.stdout)["link"]
    assert link.startswith("https://t.me/nhacviec_bot?start=")
    text = nhacviec("invite", "--agency", "Sở Nội vụ", db=db).stdout
    assert "Mã mời: " in text and "Cơ quan: Sở Nội vụ, vai trò: cán bộ đầu mối" in text
    assert "Chưa cấu hình telegram.bot_username" in text


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--agency", "Sở Không Tồn Tại"], "Không tìm thấy cơ quan"),
        (["--agency", "STC", "--role", "boss"], "Vai trò không hợp lệ"),
        (["--agency", "STC", "--expires", "0d"], "thời hạn không hợp lệ"),
    ],
)
def test_invite_refuses_bad_input_in_one_line(db: Path, args: list[str], message: str) -> None:
    result = nhacviec("invite", *args, db=db, check=False)
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_console_conversation_reports_and_the_coordinator_confirms(db: Path) -> None:
    nhacviec("import", str(sample_plan()), db=db)
    focal = nhacviec("chat", "--as", "Sở Tài chính", "--at", AT, db=db,
                     stdin="viec\nbao cao\n#1\n#1\n").stdout
    assert "Nhiệm vụ chưa hoàn thành của Sở Tài chính đến ngày 03/11/2025" in focal
    assert "[#1] 1. Báo cáo (689/KH-UBND) 15/12/2025" in focal
    assert "bot (sửa tin nhắn): Kế hoạch 689/KH-UBND, báo cáo định kỳ" in focal
    assert "Đã ghi nhận: hoàn thành." in focal

    coordinator = nhacviec("chat", "--as", "Sở Nội vụ", "--role", "coordinator", "--at", AT,
                           db=db, stdin="/xacnhan\n#1\n/tinhhinh\n").stdout
    assert "Có 1 báo cáo hoàn thành chờ xác nhận:" in coordinator
    assert "Sở Tài chính báo cáo hoàn thành báo cáo định kỳ, Kế hoạch 689/KH-UBND" in coordinator
    assert "Đã xác nhận hoàn thành" in coordinator
    assert "→ console STC:focal: Cơ quan điều phối đã xác nhận hoàn thành" in coordinator
    assert "Kế hoạch 689/KH-UBND (" in coordinator and "- Hoàn thành đúng hạn: 1" in coordinator


def test_contacts_lists_and_revoke_removes(db: Path) -> None:
    nhacviec("chat", "--as", "STC", db=db, stdin="/quit\n")
    rows = contacts(db)
    assert [(r["agency"], r["role"], r["channel"], r["chat_id"]) for r in rows] == [
        ("Sở Tài chính", "focal", "console", "STC:focal")
    ]
    table = nhacviec("contacts", db=db).stdout
    assert "Sở Tài chính" in table and "cán bộ đầu mối" in table
    revoked = nhacviec("revoke", str(rows[0]["id"]), db=db).stdout
    assert f"Đã thu hồi liên hệ số {rows[0]['id']}" in revoked
    assert contacts(db) == []
    missing = nhacviec("revoke", "999", db=db, check=False)
    assert missing.returncode == 1 and "Không có liên hệ số 999" in missing.stderr


def test_chat_with_an_unknown_agency_fails_cleanly(db: Path) -> None:
    result = nhacviec("chat", "--as", "Bộ Quốc phòng Hoa Kỳ", db=db, check=False)
    assert result.returncode == 1 and "Không tìm thấy cơ quan" in result.stderr
