"""The message catalogue: every user-facing sentence, in Vietnamese and English.

Text lives here rather than in the code that sends it, so wording is reviewed in one place and a
translation never drifts from its original. `t(key, lang, **kw)` formats with `str.format`; a
language without its own text falls back to Vietnamese, the product's main language. Keys are
grouped by a dotted prefix (``digest.``, ``reminder.``); English plural forms use a ``.one`` key.
"""

from collections.abc import Mapping

DEFAULT_LANG = "vi"

CATALOGUE: dict[str, dict[str, str]] = {
    # --- digests (domain/digest.py) ---
    "digest.header": {
        "vi": "Kính gửi {agency}: nhắc việc ngày {date}",
        "en": "To {agency}: reminders for {date}",
    },
    "digest.header.head": {
        "vi": "Kính gửi đồng chí Thủ trưởng {agency}: nhắc việc ngày {date}",
        "en": "To the head of {agency}: reminders for {date}",
    },
    "digest.part": {"vi": " ({part}/{parts})", "en": " ({part}/{parts})"},
    "digest.item": {
        "vi": "{n}. Kế hoạch {plan}, {task} ({role}): {title}",
        "en": "{n}. Plan {plan}, {task} ({role}): {title}",
    },
    "digest.item.agency": {
        "vi": "{n}. {agency} ({role}), Kế hoạch {plan}, {task}: {title}",
        "en": "{n}. {agency} ({role}), plan {plan}, {task}: {title}",
    },
    "digest.task": {"vi": "nhiệm vụ {task}", "en": "task {task}"},
    "digest.task.report": {"vi": "báo cáo định kỳ", "en": "periodic report"},
    "digest.role.lead": {"vi": "chủ trì", "en": "lead"},
    "digest.role.support": {"vi": "phối hợp", "en": "support"},
    "digest.due": {"vi": "   Hạn: {date} ({left}).", "en": "   Due: {date} ({left})."},
    "digest.deadline_text": {"vi": "   Thời gian: {text}.", "en": "   Deadline: {text}."},
    "digest.expected": {
        "vi": "   Thời gian: {text} (hạn dự kiến {date}).",
        "en": "   Deadline: {text} (expected by {date}).",
    },
    "digest.left.future": {"vi": "còn {n} ngày", "en": "{n} days left"},
    "digest.left.future.one": {"vi": "còn 1 ngày", "en": "1 day left"},
    "digest.left.today": {"vi": "hôm nay đến hạn", "en": "due today"},
    "digest.left.overdue": {"vi": "quá hạn {n} ngày", "en": "{n} days overdue"},
    "digest.left.overdue.one": {"vi": "quá hạn 1 ngày", "en": "1 day overdue"},
    "digest.section.checkin": {
        "vi": "Nhiệm vụ thường xuyên, đề nghị cập nhật tình hình thực hiện:",
        "en": "Ongoing tasks: please send an update on progress:",
    },
    "digest.section.escalation": {
        "vi": "Nhiệm vụ sau đã quá hạn {n} ngày, kính đề nghị đồng chí quan tâm chỉ đạo:",
        "en": "The following task is {n} days overdue; we kindly ask for your direction:",
    },
    "digest.section.escalation.one": {
        "vi": "Nhiệm vụ sau đã quá hạn 1 ngày, kính đề nghị đồng chí quan tâm chỉ đạo:",
        "en": "The following task is 1 day overdue; we kindly ask for your direction:",
    },
    "digest.section.escalation.many": {
        "vi": "Các nhiệm vụ sau đã quá hạn, kính đề nghị đồng chí quan tâm chỉ đạo:",
        "en": "The following tasks are overdue; we kindly ask for your direction:",
    },
    "digest.section.overdue_agencies": {
        "vi": "Nhiệm vụ quá hạn, đề nghị đôn đốc:",
        "en": "Overdue tasks to follow up:",
    },
    "digest.section.precondition": {
        "vi": "Nhiệm vụ đang chờ điều kiện để triển khai:",
        "en": "Tasks waiting for a precondition:",
    },
    "digest.closing.reply": {
        "vi": "Vui lòng trả lời: đã xong, được 50%, hoặc vướng: <lý do>.",
        "en": "Please reply: done, 50% done, or blocked: <reason>.",
    },
    "digest.closing.precondition": {
        "vi": "Khi điều kiện đã được đáp ứng, đề nghị cập nhật để hệ thống bắt đầu nhắc hạn.",
        "en": "When a precondition is met, please record it so that deadline reminders can start.",
    },
    # --- reminders (domain/reminders.py) ---
    "reminder.superseded": {
        "vi": "đã có nhắc việc mới hơn: {step}",
        "en": "a newer reminder exists: {step}",
    },
}


def t(key: str, lang: str = DEFAULT_LANG, **kw: object) -> str:
    """The text for `key` in `lang` (Vietnamese when `lang` has none), formatted with `kw`.

    An unknown key raises KeyError: a typo must fail in tests, not reach a user.
    """
    texts: Mapping[str, str] = CATALOGUE[key]
    text = texts.get(lang) or texts[DEFAULT_LANG]
    return text.format(**kw) if kw else text


def plural_key(key: str, n: int) -> str:
    """`key.one` when n is 1 and the catalogue has it, else `key`."""
    one = f"{key}.one"
    return one if n == 1 and one in CATALOGUE else key
