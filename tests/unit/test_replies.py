"""Free-text progress replies as focal points type them, and the bot's acknowledgement."""

import random
import unicodedata
from datetime import date
from typing import Any

import pytest

from domain.replies import Reply, ReplyKind, describe_reply, parse_reply
from domain.text import strip_diacritics

TODAY = date(2024, 11, 20)

DONE = ReplyKind.DONE
PERCENT = ReplyKind.PERCENT
IN_PROGRESS = ReplyKind.IN_PROGRESS
BLOCKED = ReplyKind.BLOCKED
EXTENSION = ReplyKind.EXTENSION
NOT_STARTED = ReplyKind.NOT_STARTED
NOTE = ReplyKind.NOTE


def case(text: str, kind: ReplyKind, **fields: Any) -> Any:
    expected = {"percent": 100 if kind is DONE else None, "evidence": None, "reason": None,
                "requested_until": None, **fields}
    return pytest.param(text, kind, expected, id=text)


# Every row states all four fields: what is not written is expected to be None
# (DONE: percent 100). Received on 20/11/2024.
CASES = [
    # ---- done
    case("đã xong", DONE),
    case("da xong", DONE),
    case("xong rồi", DONE),
    case("xong r", DONE),
    case("Xong r nhé", DONE),
    case("DA XONG R", DONE),
    case("hoàn thành", DONE),
    case("hoan thanh", DONE),
    case("Đã hoàn thành.", DONE),
    case("ĐÃ HOÀN THÀNH!!!", DONE),
    case("HT", DONE),
    case("ht r", DONE),
    case("HT rồi a", DONE),
    case("done", DONE),
    case("Done!", DONE),
    case("finished", DONE),
    case("ok xong", DONE),
    case("OK XONG", DONE),
    case("Dạ, bên em đã xong rồi ạ", DONE),
    case("da xong roi a", DONE),
    case("đã xong ạ 👍", DONE),
    case("✔️ xong", DONE),
    case("xong hết rồi nha", DONE),
    case("xong xuoi roi", DONE),
    case("trien khai xong r", DONE),
    case("da hoan tat", DONE),
    case("Hoàn thành đúng hạn", DONE),
    case("hoan thanh truoc han", DONE),
    case("da hoan thanh nhiem vu duoc giao", DONE),
    case("100%", DONE),
    case("hoàn thành 100%", DONE),
    case("da xong 100% khoi luong", DONE),
    case("dat 100% ke hoach", DONE),
    case("hoanf thanhf", DONE),  # Telex typed with the input method off
    case("hoan thnah", DONE),
    case("xongg roii", DONE),
    case("k vướng gì, xong rồi", DONE),
    case("ko can gia han, da xong", DONE),
    case("đã ban hành QĐ số 12/QĐ-UBND", DONE, evidence="QĐ số 12/QĐ-UBND"),
    case("da ban hanh QD so 12/QD-UBND", DONE, evidence="QD so 12/QD-UBND"),
    case("đã hoàn thành, QĐ số 12/QĐ-UBND ngày 5/12/2023", DONE,
         evidence="QĐ số 12/QĐ-UBND ngày 5/12/2023"),
    case("ĐÃ HOÀN THÀNH (QĐ 12/QĐ-UBND)", DONE, evidence="QĐ 12/QĐ-UBND"),
    case("QĐ số 12/QĐ-UBND đã ban hành", DONE, evidence="QĐ số 12/QĐ-UBND"),
    case("Đã ban hành Kế hoạch số 45/KH-UBND ngày 3/5/2024", DONE,
         evidence="Kế hoạch số 45/KH-UBND ngày 3/5/2024"),
    case("UBND tinh da ky QD 12/QD-UBND", DONE, evidence="QD 12/QD-UBND"),
    case("QĐ số 45/QĐ-UBND ngày 10/11/2024", DONE, evidence="QĐ số 45/QĐ-UBND ngày 10/11/2024"),
    case("Xong, đã gửi báo cáo về Sở Nội vụ", DONE, evidence="đã gửi báo cáo về Sở Nội vụ"),
    case("da gui bao cao ve So Noi vu", DONE, evidence="ve So Noi vu"),
    case("đã trình và được phê duyệt", DONE),
    case("da duoc UBND tinh phe duyet", DONE),
    case("Đã xong, có cần gửi bản cứng không?", DONE),
    case("Đã xong ❤️ (đã gửi bản scan)", DONE, evidence="đã gửi bản scan"),
    case("hoan thanh trong thang 11/2023", DONE, evidence="trong thang 11/2023"),
    case("Đã hoàn thành nhưng còn khó khăn về kinh phí", DONE),
    case("Đã xong, không vướng gì", DONE),
    case("100%, QĐ số 12/QĐ-UBND", DONE, evidence="QĐ số 12/QĐ-UBND"),
    # ---- percent
    case("được 50%", PERCENT, percent=50),
    case("duoc 50%", PERCENT, percent=50),
    case("dc 50%", PERCENT, percent=50),
    case("đc 50% ạ", PERCENT, percent=50),
    case("DC 70%", PERCENT, percent=70),
    case("50%", PERCENT, percent=50),
    case("70 %", PERCENT, percent=70),
    case("dat 80 phan tram", PERCENT, percent=80),
    case("ĐẠT 80 PHẦN TRĂM", PERCENT, percent=80),
    case("khoảng 60%", PERCENT, percent=60),
    case("khoang 60-70%", PERCENT, percent=60),
    case("50/100", PERCENT, percent=50),
    case("tien do 45,5%", PERCENT, percent=45),
    case("Được 30% rồi ạ", PERCENT, percent=30),
    case("moi duoc 20% thoi", PERCENT, percent=20),
    case("đã làm được một nửa", PERCENT, percent=50),
    case("hoàn thành 80%", PERCENT, percent=80),
    case("hoan thanh 80% khoi luong", PERCENT, percent=80),
    case("xong 50%", PERCENT, percent=50),
    case("Đang thực hiện, đạt 40%", PERCENT, percent=40),
    case("dang trien khai dc 60% r", PERCENT, percent=60),
    case("chưa xong, được 70%", PERCENT, percent=70),
    case("được 50%, dự kiến 100% vào tháng 12", PERCENT, percent=50),
    case("60%, du kien xong trong thang 12", PERCENT, percent=60),
    case("duoc 70%, khong vuong gi", PERCENT, percent=70),
    # ---- in progress
    case("đang thực hiện", IN_PROGRESS),
    case("dang thuc hien nhe", IN_PROGRESS),
    case("ĐANG TRIỂN KHAI", IN_PROGRESS),
    case("đang làm", IN_PROGRESS),
    case("Em đang làm ạ", IN_PROGRESS),
    case("van dang lam", IN_PROGRESS),
    case("dag lam", IN_PROGRESS),
    case("dang thuc hein", IN_PROGRESS),
    case("đang trình UBND tỉnh", IN_PROGRESS),
    case("da trinh UBND tinh", IN_PROGRESS),
    case("đã trình UBND tỉnh phê duyệt", IN_PROGRESS),
    case("dang trinh UBND tinh ban hanh", IN_PROGRESS),
    case("đang lấy ý kiến", IN_PROGRESS),
    case("dang xin y kien cac so", IN_PROGRESS),
    case("dang xay dung du thao", IN_PROGRESS),
    case("Đang hoàn thiện dự thảo", IN_PROGRESS),
    case("đang chờ phê duyệt", IN_PROGRESS),
    case("dang cho ky", IN_PROGRESS),
    case("Bên em vẫn đang rà soát", IN_PROGRESS),
    case("da trien khai thuc hien", IN_PROGRESS),
    case("chưa xong", IN_PROGRESS),
    case("chua xong", IN_PROGRESS),
    case("chx xong", IN_PROGRESS),
    case("chưa hoàn thành", IN_PROGRESS),
    case("CHUA HOAN THANH", IN_PROGRESS),
    case("Không xong", IN_PROGRESS),
    case("đã xong đâu", IN_PROGRESS),
    case("chưa", IN_PROGRESS),
    case("chua a", IN_PROGRESS),
    case("sẽ hoàn thành trong tháng 12", IN_PROGRESS),
    case("se hoan thanh trong thang 12", IN_PROGRESS),
    case("Dự kiến cuối tháng hoàn thành", IN_PROGRESS),
    case("phan dau hoan thanh trong quy IV", IN_PROGRESS),
    case("Hoàn thành trước 30/6", IN_PROGRESS),
    case("xong trong tuan nay", IN_PROGRESS),
    case("Chắc tuần sau xong", IN_PROGRESS),
    case("gần xong", IN_PROGRESS),
    case("sap xong roi", IN_PROGRESS),
    case("đang hoàn thành", IN_PROGRESS),
    case("cơ bản hoàn thành", IN_PROGRESS),
    case("du thao da xong", IN_PROGRESS),
    case("Đã hoàn thành dự thảo", IN_PROGRESS),
    case("da hoan thanh giai doan 1", IN_PROGRESS),
    case("xong phần 1, còn phần 2 đang làm", IN_PROGRESS),
    case("chưa được phê duyệt", IN_PROGRESS),
    case("chua trien khai xong", IN_PROGRESS),
    case("vuong mac da duoc thao go, dang trien khai", IN_PROGRESS),
    case("in progress", IN_PROGRESS),
    # ---- blocked
    case("vướng: chờ hướng dẫn của Bộ", BLOCKED, reason="chờ hướng dẫn của Bộ"),
    case("vuong: cho huong dan cua Bo", BLOCKED, reason="cho huong dan cua Bo"),
    case("vuong mac ve kinh phi", BLOCKED, reason="kinh phi"),
    case("gặp khó khăn về kinh phí", BLOCKED, reason="kinh phí"),
    case("gap kho khan ve kinh phi a", BLOCKED, reason="kinh phi"),
    case("VUONG KINH PHI", BLOCKED, reason="KINH PHI"),
    case("Vướng mắc về thủ tục đầu tư", BLOCKED, reason="thủ tục đầu tư"),
    case("gặp nhiều khó khăn do thiếu nhân lực", BLOCKED, reason="thiếu nhân lực"),
    case("Khó khăn: chưa được bố trí kinh phí", BLOCKED, reason="chưa được bố trí kinh phí"),
    case("kho khan, vuong mac: chua co quy hoach", BLOCKED, reason="chua co quy hoach"),
    case("Đang vướng ở khâu thẩm định", BLOCKED, reason="khâu thẩm định"),
    case("Kinh phí đang vướng", BLOCKED, reason="Kinh phí"),
    case("nhiem vu bi cham do thieu can bo", BLOCKED, reason="thieu can bo"),
    case("chưa có hướng dẫn", BLOCKED, reason="chưa có hướng dẫn"),
    case("chua co huong dan cua Bo", BLOCKED, reason="chua co huong dan cua Bo"),
    case("Đang chờ hướng dẫn của Trung ương", BLOCKED, reason="chờ hướng dẫn của Trung ương"),
    case("dang cho Bo huong dan", BLOCKED, reason="cho Bo huong dan"),
    case("Chờ HD của Bộ", BLOCKED, reason="Chờ HD của Bộ"),
    case("thiếu kinh phí", BLOCKED, reason="thiếu kinh phí"),
    case("chua co kinh phi nen chua trien khai", BLOCKED, reason="chua co kinh phi"),
    case("không thực hiện được vì thiếu kinh phí", BLOCKED, reason="thiếu kinh phí"),
    case("ko thuc hien dc vi chua co kinh phi", BLOCKED, reason="chua co kinh phi"),
    case("khong the thuc hien do chua co van ban huong dan", BLOCKED,
         reason="chua co van ban huong dan"),
    case("chưa thực hiện được", BLOCKED),
    case("gặp khó khăn", BLOCKED),
    case("được 50%, vướng kinh phí", BLOCKED, percent=50, reason="kinh phí"),
    case("duoc 50%, vuong kinh phi", BLOCKED, percent=50, reason="kinh phi"),
    case("vuong kinh phi, moi duoc 50%", BLOCKED, percent=50, reason="kinh phi"),
    case("hoàn thành 50% khối lượng, đang gặp khó khăn về mặt bằng", BLOCKED, percent=50,
         reason="mặt bằng"),
    case("chưa xong\nvướng kinh phí", BLOCKED, reason="kinh phí"),
    case("blocked: waiting for ministry guidance", BLOCKED,
         reason="waiting for ministry guidance"),
    # ---- extension
    case("xin gia hạn đến 30/6", EXTENSION, requested_until=date(2025, 6, 30)),
    case("xin gia han den 30/6", EXTENSION, requested_until=date(2025, 6, 30)),
    case("XIN GIA HAN DEN 15/1", EXTENSION, requested_until=date(2025, 1, 15)),
    case("xin gia hạn đến 30/11", EXTENSION, requested_until=date(2024, 11, 30)),
    case("đề nghị lùi thời hạn đến 15/7/2025", EXTENSION, requested_until=date(2025, 7, 15)),
    case("de nghi lui thoi han den 15/7/2025", EXTENSION, requested_until=date(2025, 7, 15)),
    case("xin lui han", EXTENSION),
    case("xin gia hạn đến hết quý III", EXTENSION, requested_until=date(2025, 9, 30)),
    case("xin gia han den het quy 4", EXTENSION, requested_until=date(2024, 12, 31)),
    case("Xin lùi hạn đến quý 2/2025", EXTENSION, requested_until=date(2025, 6, 30)),
    case("de xuat lui tien do sang quy III/2025", EXTENSION, requested_until=date(2025, 9, 30)),
    case("xin gia hạn đến hết tháng 12", EXTENSION, requested_until=date(2024, 12, 31)),
    case("xin gia han den thang 7/2025", EXTENSION, requested_until=date(2025, 7, 31)),
    case("xin gia han den 6/2025", EXTENSION, requested_until=date(2025, 6, 30)),
    case("xin lui han sang thang 3 nam 2025", EXTENSION, requested_until=date(2025, 3, 31)),
    case("xin gia han den cuoi nam", EXTENSION, requested_until=date(2024, 12, 31)),
    case("xin gia hạn 6 tháng đầu năm 2025", EXTENSION, requested_until=date(2025, 6, 30)),
    case("Đề nghị gia hạn đến ngày 15 tháng 8 năm 2025", EXTENSION,
         requested_until=date(2025, 8, 15)),
    case("xin them thoi gian den 30.6.2025", EXTENSION, requested_until=date(2025, 6, 30)),
    case("Xin gia hạn đến 29/2", EXTENSION, requested_until=date(2028, 2, 29)),
    case("xin gia han den 31/2", EXTENSION),  # no such day: nothing is made up
    case("xin gia hạn thêm 2 tuần", EXTENSION),  # counts from a deadline we do not see here
    case("Don vi xin gia han den 30/6", EXTENSION, requested_until=date(2025, 6, 30)),
    case("xin gia hạn đến 30/6 vì chưa có kinh phí", EXTENSION,
         requested_until=date(2025, 6, 30), reason="chưa có kinh phí"),
    case("vi chua co kinh phi nen xin gia han den 30/6", EXTENSION,
         requested_until=date(2025, 6, 30), reason="chua co kinh phi"),
    case("vướng kinh phí, xin gia hạn đến 30/6", EXTENSION,
         requested_until=date(2025, 6, 30), reason="vướng kinh phí"),
    case("Xin gia hạn đến 30/6 để hoàn thiện hồ sơ", EXTENSION,
         requested_until=date(2025, 6, 30), reason="hoàn thiện hồ sơ"),
    case("Đề nghị điều chỉnh thời hạn đến 31/3/2025 do chờ ý kiến của Bộ Nội vụ", EXTENSION,
         requested_until=date(2025, 3, 31), reason="chờ ý kiến của Bộ Nội vụ"),
    case("xin gia han den 30/6 (cho HD cua Bo)", EXTENSION,
         requested_until=date(2025, 6, 30), reason="cho HD cua Bo"),
    case("được 70%, xin gia hạn đến 31/12", EXTENSION, percent=70,
         requested_until=date(2024, 12, 31)),
    case("gia han den 30/6 duoc khong a?", EXTENSION, requested_until=date(2025, 6, 30)),
    case("xin gia han den 30/6/2024", EXTENSION),  # already past: cannot be what is asked
    case("QĐ 12/QĐ-UBND ngày 5/12/2023, xin gia hạn", EXTENSION),  # a document's date
    case("tien do cham, xin gia han den 30/6", EXTENSION, requested_until=date(2025, 6, 30)),
    # ---- not started
    case("chưa triển khai", NOT_STARTED),
    case("chua trien khai a", NOT_STARTED),
    case("chưa thực hiện", NOT_STARTED),
    case("CHUA THUC HIEN", NOT_STARTED),
    case("chua lam", NOT_STARTED),
    case("chưa bắt đầu", NOT_STARTED),
    case("chua lam gi ca", NOT_STARTED),
    case("chưa làm được gì", NOT_STARTED),
    case("sap trien khai", NOT_STARTED),
    case("sẽ triển khai trong quý I/2025", NOT_STARTED),
    case("Đã nhận được, sẽ thực hiện", NOT_STARTED),
    case("0%", NOT_STARTED, percent=0),
    case("dat 0%", NOT_STARTED, percent=0),
    case("not started", NOT_STARTED),
    # ---- notes: nothing to record, but the text is kept
    case("cảm ơn", NOTE),
    case("cam on anh", NOTE),
    case("ok", NOTE),
    case("Okie", NOTE),
    case("vâng ạ", NOTE),
    case("đã nhận", NOTE),
    case("da nhan van ban", NOTE),
    case("Đã nhận được, cảm ơn", NOTE),
    case("Nhiệm vụ này là nhiệm vụ nào ạ?", NOTE),
    case("han la khi nao vay?", NOTE),
    case("👍", NOTE),
    case("xong chưa?", NOTE),
    case("hoan thanh chua a", NOTE),
    case("không vướng gì", NOTE),
    case("Ko vướng gì ạ", NOTE),
    case("ko co vuong mac", NOTE),
    case("khong co kho khan, vuong mac gi", NOTE),
    case("Hết vướng rồi", NOTE),
    case("Đã tháo gỡ xong vướng mắc", NOTE),
    case("Không cần gia hạn", NOTE),
    case("150%", NOTE),
    case("vuot 120% ke hoach", NOTE),
    case("chưa được 50%", NOTE),
    case("QĐ số 45/QĐ-UBND ạ?", NOTE),
    case("", NOTE),
]


@pytest.mark.parametrize(("text", "kind", "expected"), CASES)
def test_parse_reply(text: str, kind: ReplyKind, expected: dict[str, Any]) -> None:
    reply = parse_reply(text, today=TODAY)
    got = {name: getattr(reply, name) for name in expected}
    assert (reply.kind, got) == (kind, expected)
    assert reply.text == text.strip()


@pytest.mark.parametrize(("text", "kind", "expected"), CASES)
def test_case_and_diacritics_do_not_change_the_reading(
    text: str, kind: ReplyKind, expected: dict[str, Any]
) -> None:
    shouted = parse_reply(strip_diacritics(text).upper(), today=TODAY)
    assert (shouted.kind, shouted.percent, shouted.requested_until) == (
        kind, expected["percent"], expected["requested_until"])


def test_any_text_is_read_without_error_and_kept() -> None:
    alphabet = "aăâeêioôơuưyđAĐ ̣́̀0123456789%/.,:;?!-()\n👍✅ạảãếờữ"
    rng = random.Random(20241120)
    for _ in range(2000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        reply = parse_reply(text, today=TODAY)
        assert reply.text == text.strip()
        assert reply.percent is None or 0 <= reply.percent <= 100


def test_the_table_is_large_and_mostly_typed_without_diacritics() -> None:
    texts = [param.values[0] for param in CASES]
    plain = [t for t in texts if t == strip_diacritics(t)]
    assert len(texts) >= 130
    assert len(set(texts)) == len(texts)
    assert len(plain) * 2 >= len(texts)
    assert {param.values[1] for param in CASES} == set(ReplyKind)


@pytest.mark.parametrize(
    ("text", "field", "value"),
    [
        ("  Đã ban hành QĐ số 12/QĐ-UBND  ", "evidence", "QĐ số 12/QĐ-UBND"),
        ("vướng: chờ hướng dẫn của Bộ Nội vụ", "reason", "chờ hướng dẫn của Bộ Nội vụ"),
        ("gặp khó khăn về kinh phí ạ", "reason", "kinh phí"),
    ],
)
def test_slices_keep_diacritics_when_the_phone_sends_decomposed_text(
    text: str, field: str, value: str
) -> None:
    reply = parse_reply(unicodedata.normalize("NFD", text), today=TODAY)
    assert getattr(reply, field) == value  # composed again (NFC) and with every mark in place


def test_evidence_spans_lines_and_spaces_as_written() -> None:
    reply = parse_reply("Đã hoàn thành\nQĐ số 12/QĐ-UBND   ngày 5/12/2023", today=TODAY)
    assert (reply.kind, reply.evidence) == (DONE, "QĐ số 12/QĐ-UBND ngày 5/12/2023")


@pytest.mark.parametrize(
    ("today", "requested"),
    [
        (date(2025, 6, 29), date(2025, 6, 30)),
        (date(2025, 6, 30), date(2025, 6, 30)),  # "on or after today"
        (date(2025, 7, 1), date(2026, 6, 30)),
    ],
)
def test_a_day_without_year_is_the_next_one(today: date, requested: date) -> None:
    assert parse_reply("xin gia hạn đến 30/6", today=today).requested_until == requested


@pytest.mark.parametrize(
    ("today", "requested"),
    [(date(2025, 9, 30), date(2025, 9, 30)), (date(2025, 10, 1), date(2026, 9, 30))],
)
def test_a_quarter_without_year_is_the_next_quarter_end(today: date, requested: date) -> None:
    assert parse_reply("xin gia hạn đến hết quý III", today=today).requested_until == requested


def test_a_promise_dated_in_the_past_is_a_report() -> None:
    # The same words are a promise before the month and a report after it.
    text = "hoàn thành trong tháng 11/2023"
    assert parse_reply(text, today=date(2023, 10, 2)).kind is IN_PROGRESS
    assert parse_reply(text, today=date(2024, 1, 5)).kind is DONE


# ---------------------------------------------------------------------------- describe_reply

VI_NOTIFY = " Cơ quan điều phối sẽ được thông báo."
EN_NOTIFY = " The coordinating agency will be notified."
VI_REVIEW = " Đề nghị sẽ được chuyển cơ quan điều phối xem xét."
EN_REVIEW = " It will be forwarded to the coordinating agency for review."


@pytest.mark.parametrize(
    ("reply", "vi", "en"),
    [
        (Reply(DONE, "x", percent=100, evidence="QĐ số 12/QĐ-UBND"),
         "Đã ghi nhận: hoàn thành (QĐ số 12/QĐ-UBND).",
         "Recorded: completed (QĐ số 12/QĐ-UBND)."),
        (Reply(DONE, "x", percent=100), "Đã ghi nhận: hoàn thành.", "Recorded: completed."),
        (Reply(PERCENT, "x", percent=50), "Đã ghi nhận tiến độ 50%.", "Recorded: progress 50%."),
        (Reply(IN_PROGRESS, "x"), "Đã ghi nhận: đang thực hiện.", "Recorded: in progress."),
        (Reply(NOT_STARTED, "x"), "Đã ghi nhận: chưa triển khai thực hiện.",
         "Recorded: not started yet."),
        (Reply(BLOCKED, "x", reason="kinh phí"),
         "Đã ghi nhận khó khăn, vướng mắc: kinh phí." + VI_NOTIFY,
         "Recorded difficulty: kinh phí." + EN_NOTIFY),
        (Reply(BLOCKED, "x", percent=50, reason="kinh phí"),
         "Đã ghi nhận khó khăn, vướng mắc: kinh phí (tiến độ hiện tại 50%)." + VI_NOTIFY,
         "Recorded difficulty: kinh phí (current progress 50%)." + EN_NOTIFY),
        (Reply(BLOCKED, "x"),
         "Đã ghi nhận khó khăn, vướng mắc." + VI_NOTIFY,
         "Recorded difficulty." + EN_NOTIFY),
        (Reply(EXTENSION, "x", requested_until=date(2027, 6, 30)),
         "Đã ghi nhận đề nghị gia hạn đến ngày 30/06/2027." + VI_REVIEW,
         "Recorded extension request until 30/06/2027." + EN_REVIEW),
        (Reply(EXTENSION, "x", reason="chưa có kinh phí"),
         "Đã ghi nhận đề nghị gia hạn (lý do: chưa có kinh phí)." + VI_REVIEW,
         "Recorded extension request (reason: chưa có kinh phí)." + EN_REVIEW),
        (Reply(NOTE, "cảm ơn"), "Đã lưu ghi chú của anh/chị.", "Your note has been saved."),
    ],
    ids=lambda value: value.kind.value if isinstance(value, Reply) else "",
)
def test_describe_reply(reply: Reply, vi: str, en: str) -> None:
    assert (describe_reply(reply), describe_reply(reply, "en")) == (vi, en)


def test_describe_what_was_parsed() -> None:
    reply = parse_reply("đã ban hành QĐ số 12/QĐ-UBND", today=TODAY)
    assert describe_reply(reply, "vi") == "Đã ghi nhận: hoàn thành (QĐ số 12/QĐ-UBND)."


def test_describe_refuses_an_unknown_language() -> None:
    with pytest.raises(ValueError, match="'fr'"):
        describe_reply(Reply(NOTE, "ok"), "fr")
