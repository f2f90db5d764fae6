"""Digests: one polite message per recipient and day, split only when too long."""

import re
from datetime import date, timedelta

import pytest

from domain.digest import DigestItem, render_digest, shorten
from domain.i18n import CATALOGUE, t
from domain.plan_import import Role

TODAY = date(2026, 11, 26)
PLAN = "289/KH-UBND"


def _item(
    task: str,
    due: date | None,
    *,
    step: str = "before:7",
    role: Role = Role.LEAD,
    title: str = "Xây dựng kế hoạch",
    deadline_text: str = "Năm 2026",
    audience: str = "agency",
    agency: str = "",
) -> DigestItem:
    return DigestItem(PLAN, task, title, due, step, role, deadline_text, audience, agency)


def test_one_message_with_greeting_items_by_due_date_and_a_reply_invitation() -> None:
    items = [
        _item("3", TODAY + timedelta(days=7), title="Xây dựng đề án chuyển đổi số"),
        _item("1", TODAY, step="due", role=Role.SUPPORT, title="Tổ chức quán triệt Nghị quyết"),
        _item("12", TODAY - timedelta(days=3), step="overdue:1", title="Rà soát thủ tục"),
    ]
    [message] = render_digest(items, today=TODAY, agency_name="Sở Tài chính")
    lines = message.splitlines()
    assert lines[0] == "Kính gửi Sở Tài chính: nhắc việc ngày 26/11/2026"
    assert [line for line in lines if re.match(r"\d+\. ", line)] == [
        "1. Kế hoạch 289/KH-UBND, nhiệm vụ 12 (chủ trì): Rà soát thủ tục",
        "2. Kế hoạch 289/KH-UBND, nhiệm vụ 1 (phối hợp): Tổ chức quán triệt Nghị quyết",
        "3. Kế hoạch 289/KH-UBND, nhiệm vụ 3 (chủ trì): Xây dựng đề án chuyển đổi số",
    ]
    assert "   Hạn: 23/11/2026 (quá hạn 3 ngày)." in lines
    assert "   Hạn: 26/11/2026 (hôm nay đến hạn)." in lines
    assert "   Hạn: 03/12/2026 (còn 7 ngày)." in lines
    assert lines[-1] == "Vui lòng trả lời: đã xong, được 50%, hoặc vướng: <lý do>."


@pytest.mark.parametrize(
    ("offset", "lang", "wording"),
    [
        (7, "vi", "còn 7 ngày"),
        (1, "vi", "còn 1 ngày"),
        (0, "vi", "hôm nay đến hạn"),
        (-3, "vi", "quá hạn 3 ngày"),
        (7, "en", "7 days left"),
        (1, "en", "1 day left"),
        (0, "en", "due today"),
        (-1, "en", "1 day overdue"),
        (-3, "en", "3 days overdue"),
    ],
)
def test_days_left_wording(offset: int, lang: str, wording: str) -> None:
    [message] = render_digest(
        [_item("1", TODAY + timedelta(days=offset))], today=TODAY, lang=lang, agency_name="X"
    )
    assert f"({wording})." in message


def test_english_variant() -> None:
    [message] = render_digest(
        [_item("4", date(2026, 12, 31), role=Role.SUPPORT)],
        today=TODAY,
        lang="en",
        agency_name="Department of Finance",
    )
    assert message.splitlines() == [
        "To Department of Finance: reminders for 26/11/2026",
        "",
        "1. Plan 289/KH-UBND, task 4 (support): Xây dựng kế hoạch",
        "   Due: 31/12/2026 (35 days left).",
        "",
        "Please reply: done, 50% done, or blocked: <reason>.",
    ]


def test_nothing_to_say_sends_nothing() -> None:
    assert render_digest([], today=TODAY, agency_name="Sở Tài chính") == []


def test_long_titles_are_shortened_with_an_ellipsis() -> None:
    title = "Xây dựng kế hoạch chuyển đổi số trong hoạt động của cơ quan nhà nước " * 3
    short = shorten(title)
    assert len(short) <= 80
    assert short.endswith("…")
    assert title.startswith(short[:-1])
    assert shorten("Ngắn gọn") == "Ngắn gọn"
    [message] = render_digest([_item("1", TODAY, title=title)], today=TODAY, agency_name="X")
    assert short in message


def test_a_long_digest_is_split_between_items_with_part_numbers() -> None:
    items = [
        _item(str(n), TODAY + timedelta(days=n), title=f"Nhiệm vụ số {n} " + "rà soát " * 8)
        for n in range(1, 13)
    ]
    limit = 600
    parts = render_digest(items, today=TODAY, agency_name="Sở Tài chính", limit=limit)
    assert len(parts) > 2
    for k, part in enumerate(parts, start=1):
        assert len(part) <= limit
        assert part.splitlines()[0] == (
            f"Kính gửi Sở Tài chính: nhắc việc ngày 26/11/2026 ({k}/{len(parts)})"
        )
    joined = "\n".join(parts)
    numbered = re.findall(r"^(\d+)\. Kế hoạch", joined, flags=re.MULTILINE)
    assert numbered == [str(n) for n in range(1, 13)]  # every item once, in order
    for part in parts:  # each item keeps its due line in the same part
        for number in re.findall(r"^(\d+)\. ", part, flags=re.MULTILINE):
            due = TODAY + timedelta(days=int(number))
            assert f"Hạn: {due:%d/%m/%Y}" in part
    closing = t("digest.closing.reply", "vi")
    assert [closing in part for part in parts] == [False] * (len(parts) - 1) + [True]


def test_an_item_longer_than_the_limit_is_sent_whole() -> None:
    parts = render_digest(
        [_item("1", TODAY), _item("2", TODAY + timedelta(days=1))],
        today=TODAY,
        agency_name="Sở Tài chính",
        limit=50,
    )
    assert len(parts) == 2
    assert "1. Kế hoạch 289/KH-UBND, nhiệm vụ 1 (chủ trì): Xây dựng kế hoạch" in parts[0]
    assert "2. Kế hoạch 289/KH-UBND, nhiệm vụ 2 (chủ trì): Xây dựng kế hoạch" in parts[1]


def test_checkins_have_their_own_section_and_wording() -> None:
    [message] = render_digest(
        [
            _item("5", date(2026, 11, 2), step="checkin", deadline_text="Thường xuyên"),
            _item("3", date(2026, 12, 31)),
        ],
        today=TODAY,
        agency_name="Sở Tài chính",
    )
    blocks = message.split("\n\n")
    assert blocks[1].startswith("1. Kế hoạch 289/KH-UBND, nhiệm vụ 3")
    assert blocks[2].splitlines() == [
        "Nhiệm vụ thường xuyên, đề nghị cập nhật tình hình thực hiện:",
        "2. Kế hoạch 289/KH-UBND, nhiệm vụ 5 (chủ trì): Xây dựng kế hoạch",
        "   Thời gian: Thường xuyên.",
    ]


def test_an_escalation_addresses_the_head() -> None:
    [message] = render_digest(
        [_item("3", date(2026, 11, 16), step="escalation", audience="head")],
        today=TODAY,
        agency_name="Sở Tài chính",
    )
    lines = message.splitlines()
    assert lines[0] == "Kính gửi đồng chí Thủ trưởng Sở Tài chính: nhắc việc ngày 26/11/2026"
    assert lines[2] == "Nhiệm vụ sau đã quá hạn 10 ngày, kính đề nghị đồng chí quan tâm chỉ đạo:"
    assert "Vui lòng trả lời" not in message


def test_several_escalations_share_one_heading() -> None:
    [message] = render_digest(
        [
            _item("3", date(2026, 11, 16), step="escalation", audience="head"),
            _item("4", date(2026, 11, 10), step="escalation", audience="head"),
        ],
        today=TODAY,
        agency_name="Sở Tài chính",
    )
    assert "Các nhiệm vụ sau đã quá hạn, kính đề nghị đồng chí quan tâm chỉ đạo:" in message
    assert "(quá hạn 16 ngày)" in message
    assert "(quá hạn 10 ngày)" in message


def test_coordinator_lines_name_the_agency() -> None:
    [message] = render_digest(
        [
            _item(
                "7",
                date(2026, 12, 31),
                step="precondition",
                audience="coordinator",
                agency="Sở Nội vụ",
                deadline_text="Năm 2026, sau khi có hướng dẫn của Trung ương",
            ),
            _item(
                "3",
                date(2026, 11, 16),
                step="escalation",
                audience="coordinator",
                agency="Sở Tài chính",
            ),
        ],
        today=TODAY,
        agency_name="Sở Nội vụ",
    )
    blocks = message.split("\n\n")
    assert blocks[0] == "Kính gửi Sở Nội vụ: nhắc việc ngày 26/11/2026"
    assert blocks[1].splitlines() == [
        "Nhiệm vụ quá hạn, đề nghị đôn đốc:",
        "1. Sở Tài chính (chủ trì), Kế hoạch 289/KH-UBND, nhiệm vụ 3: Xây dựng kế hoạch",
        "   Hạn: 16/11/2026 (quá hạn 10 ngày).",
    ]
    assert blocks[2].splitlines() == [
        "Nhiệm vụ đang chờ điều kiện để triển khai:",
        "2. Sở Nội vụ (chủ trì), Kế hoạch 289/KH-UBND, nhiệm vụ 7: Xây dựng kế hoạch",
        "   Thời gian: Năm 2026, sau khi có hướng dẫn của Trung ương (hạn dự kiến 31/12/2026).",
    ]
    assert blocks[3] == t("digest.closing.precondition", "vi")


def test_the_reporting_duty_is_named_as_such() -> None:
    [message] = render_digest([_item("BC", TODAY)], today=TODAY, agency_name="X")
    assert "Kế hoạch 289/KH-UBND, báo cáo định kỳ (chủ trì)" in message


def test_catalogue_has_vietnamese_and_english_for_every_key() -> None:
    assert all({"vi", "en"} <= set(texts) for texts in CATALOGUE.values())
    assert t("digest.role.lead", "fr") == "chủ trì"  # falls back to Vietnamese
    with pytest.raises(KeyError):
        t("digest.no-such-key", "vi")
