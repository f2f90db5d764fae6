"""A notice with buttons (a completion to confirm) keeps them through the outbox payload, travels
as a message of its own, and becomes a typed command where a chat has no buttons (Zalo)."""

from datetime import date

from bot.core.buttons import decode_review, pick_button, review_button
from bot.core.messages import Outgoing
from bot.typed_buttons import has_review, review_hint
from bot.zalo.adapter import zalo_text
from domain.delivery import Button
from domain.digest import DigestItem
from domain.i18n import t
from domain.plan_import import Role
from scheduler.messages import Line, Notice, compose
from storage.outbox import chat_notice, notice_buttons

TODAY = date(2023, 12, 22)


def _review(report_id: int, lang: str = "vi") -> tuple[tuple[Button, ...], ...]:
    return (
        (
            review_button(t("chat.button.confirm", lang), report_id, True),
            review_button(t("chat.button.return", lang), report_id, False),
        ),
    )


def _line(row_id: int) -> Line:
    item = DigestItem("289/KH-UBND", "1", "Rà soát thủ tục", date(2023, 12, 29), "before:7",
                      Role.LEAD, "Năm 2023")  # fmt: skip
    return Line(row_id, item, 42, "2023-12-29", True)


def _compose(lines: list[Line], notices: list[Notice], limit: int = 4096) -> list[tuple[str, ...]]:
    composed = compose(lines, notices, today=TODAY, lang="vi", agency_name="Sở Nội vụ", limit=limit)
    return [(part.text, *(b.data for row in part.buttons for b in row)) for part in composed.parts]


def test_the_payload_keeps_the_buttons_and_what_to_type_instead() -> None:
    payload = chat_notice("Đề nghị xác nhận.", _review(7), typed="/xacnhan 7")

    assert payload == {
        "kind": "chat",
        "text": "Đề nghị xác nhận.",
        "buttons": [[["Xác nhận hoàn thành", "c:7:y"], ["Trả lại", "c:7:n"]]],
        "typed": "/xacnhan 7",
    }
    assert notice_buttons(payload) == _review(7)
    assert chat_notice("Văn bản.") == {"kind": "chat", "text": "Văn bản."}
    assert notice_buttons({"text": "Thông báo cũ, không có nút."}) == ()


def test_a_malformed_stored_button_is_left_out_not_fatal() -> None:
    payload = {
        "text": "x",
        "buttons": [[["Xác nhận", "c:7:y"], ["quá dài", "c:" + "9" * 80], "rác"], "rác", []],
    }

    assert notice_buttons(payload) == ((Button("Xác nhận", "c:7:y"),),)
    assert notice_buttons({"text": "x", "buttons": "c:7:y"}) == ()


def test_a_notice_with_buttons_is_a_message_of_its_own_and_nothing_rides_with_it() -> None:
    parts = _compose(
        [_line(1)],
        [
            Notice(2, "Thông báo A."),
            Notice(3, "Sở Tài chính báo cáo hoàn thành nhiệm vụ 1.", _review(70)),
            Notice(4, "Sở Y tế báo cáo hoàn thành nhiệm vụ 2.", _review(71)),
            Notice(5, "Thông báo B."),
        ],
    )

    digest, first, second = parts
    # Plain notices still ride with the digest; each completion to confirm follows on its own.
    assert digest[0].endswith("\n\nThông báo A.\n\nThông báo B.")
    assert all(data.startswith("r:") for data in digest[1:])
    assert first == ("Sở Tài chính báo cáo hoàn thành nhiệm vụ 1.", "c:70:y", "c:70:n")
    assert second == ("Sở Y tế báo cáo hoàn thành nhiệm vụ 2.", "c:71:y", "c:71:n")


def test_a_notice_with_buttons_goes_alone_however_short() -> None:
    composed = compose([], [Notice(1, "A."), Notice(2, "B.", _review(3)), Notice(4, "C.")],
                       today=TODAY, lang="vi", agency_name="Sở Nội vụ", limit=4096)  # fmt: skip

    assert [(p.text, p.row_ids, p.buttons) for p in composed.parts] == [
        ("A.\n\nC.", (1, 4), ()),
        ("B.", (2,), _review(3)),
    ]


def test_a_notice_with_buttons_alone_in_the_slot() -> None:
    composed = compose([], [Notice(9, "Đề nghị xác nhận.", _review(5))], today=TODAY, lang="vi",
                       agency_name="Sở Nội vụ", limit=4096)  # fmt: skip

    [part] = composed.parts
    assert (part.text, part.row_ids, part.buttons) == ("Đề nghị xác nhận.", (9,), _review(5))


def test_zalo_shows_the_command_that_acts_on_that_very_report() -> None:
    hint = review_hint(_review(70) + _review(71), "vi")

    assert hint.splitlines() == [
        "Để xác nhận, gửi: /xacnhan 70",
        "Để trả lại, gửi: /xacnhan 70 tralai",
        "Để xác nhận, gửi: /xacnhan 71",
        "Để trả lại, gửi: /xacnhan 71 tralai",
    ]
    assert review_hint(_review(8, "en"), "en") == (
        "To confirm, send: /confirm 8\nTo return it, send: /confirm 8 return"
    )
    assert review_hint(((pick_button("1. NV 1", 3, ""),),), "vi") == ""
    assert has_review(_review(1)) and not has_review(((pick_button("1. NV 1", 3, ""),),))
    assert {decode_review(b.data) is not None for row in _review(70) for b in row} == {True}


def test_zalo_text_numbers_picks_and_types_reviews() -> None:
    asked = Outgoing("zalo", "u1", "Đề nghị xác nhận.", _review(12), notify=True)
    picking = Outgoing("zalo", "u1", "Nhiệm vụ nào?", ((pick_button("1. NV 1", 3, ""),),))

    assert zalo_text(asked) == (
        "Đề nghị xác nhận.\n\nĐể xác nhận, gửi: /xacnhan 12\nĐể trả lại, gửi: /xacnhan 12 tralai"
    )
    assert zalo_text(asked, "en").endswith("To return it, send: /confirm 12 return")
    assert zalo_text(picking) == "Nhiệm vụ nào?\n1. NV 1"
