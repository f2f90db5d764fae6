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
    # --- conversation (bot/core/) ---
    "chat.error": {
        "vi": "Xin lỗi, hệ thống gặp sự cố khi xử lý tin nhắn của anh/chị và chưa ghi nhận nội "
              "dung này. Đề nghị anh/chị thử lại sau ít phút.",
        "en": "Sorry, something went wrong while handling your message, and it has not been "
              "recorded. Please try again in a few minutes.",
    },
    "chat.error.short": {
        "vi": "Xin lỗi, hệ thống gặp sự cố. Đề nghị thử lại sau.",
        "en": "Sorry, something went wrong. Please try again later.",
    },
    "chat.stranger": {
        "vi": "Xin chào! Đây là hệ thống nhắc việc, theo dõi tiến độ thực hiện các kế hoạch.\n"
              "Để sử dụng, anh/chị cần mã mời do cơ quan điều phối cấp: mở đường liên kết mời, "
              "hoặc gửi tin nhắn /start <mã mời> (hoặc chỉ gửi mã mời).\n"
              "Nếu chưa có mã mời, đề nghị liên hệ cán bộ phụ trách của cơ quan điều phối.",
        "en": "Hello! This bot sends task reminders and follows up implementation plans.\n"
              "To use it you need an invite code from the coordinating agency: open the invite "
              "link, or send /start <code> (or just the code).\n"
              "If you have no code, please contact the coordinating agency.",
    },
    "chat.stranger.button": {
        "vi": "Anh/chị chưa đăng ký sử dụng. Đề nghị gửi /start <mã mời>.",
        "en": "You are not registered. Please send /start <invite code>.",
    },
    "chat.join.ok": {
        "vi": "Đăng ký thành công: {agency}, vai trò {role}.\nTừ nay, nhắc việc sẽ được gửi vào "
              "cuộc trò chuyện này. Gõ /trogiup (hoặc /help) để xem hướng dẫn.",
        "en": "You are registered: {agency}, as {role}.\nReminders will come to this chat from "
              "now on. Send /help to see how to use the bot.",
    },
    "chat.join.already": {
        "vi": "Cuộc trò chuyện này đã được đăng ký: {agency}, vai trò {role}. Gõ /trogiup để xem "
              "hướng dẫn.",
        "en": "This chat is already registered: {agency}, as {role}. Send /help for help.",
    },
    "chat.join.invalid": {
        "vi": "Mã mời không hợp lệ, đã được sử dụng hoặc đã hết hạn. Đề nghị kiểm tra lại, hoặc "
              "liên hệ cơ quan điều phối để được cấp mã mới.",
        "en": "This invite code is not valid, already used or expired. Please check it, or ask "
              "the coordinating agency for a new one.",
    },
    "chat.join.throttled": {
        "vi": "Anh/chị đã nhập sai mã mời nhiều lần. Đề nghị thử lại sau {time} ngày {date}.",
        "en": "Too many wrong invite codes. Please try again after {time} on {date}.",
    },
    "chat.welcome": {
        "vi": "Xin chào! Cuộc trò chuyện này đã được đăng ký cho {agency}. Gõ /trogiup (hoặc "
              "/help) để xem hướng dẫn.",
        "en": "Hello! This chat is registered for {agency}. Send /help to see how to use the bot.",
    },
    "chat.role.focal": {"vi": "cán bộ đầu mối", "en": "focal point"},
    "chat.role.head": {"vi": "thủ trưởng cơ quan", "en": "head of agency"},
    "chat.role.coordinator": {"vi": "cán bộ điều phối", "en": "coordinator"},
    "chat.and": {"vi": " và ", "en": " and "},
    "chat.help.intro": {
        "vi": "Hệ thống nhắc việc gửi nhắc hạn các nhiệm vụ của {agency} và ghi nhận báo cáo "
              "tiến độ.\n\nCách báo cáo: bấm nút ngay dưới tin nhắc việc, hoặc trả lời (reply) tin "
              "nhắc việc bằng một câu ngắn, ví dụ: “đã xong”, “đã ban hành QĐ số 12/QĐ-UBND”, "
              "“được 50%”, “vướng: chờ hướng dẫn của Bộ”, “xin gia hạn đến 30/6”.",
        "en": "The bot reminds {agency} of its task deadlines and records progress reports.\n\n"
              "To report, press a button under a reminder, or reply to the reminder with a short "
              "message, e.g. “done”, “50%”, “blocked: waiting for guidance”, “extension until "
              "30/6”.",
    },
    "chat.help.commands": {
        "vi": "Các lệnh (có thể gõ không dấu, không cần dấu /):",
        "en": "Commands (the slash is optional):",
    },
    "chat.help.command": {
        "vi": "/{alias} hoặc /{name}: {description}",
        "en": "/{name} or /{alias}: {description}",
    },
    "chat.help.status": {
        "vi": "Xem tình hình: /tinhhinh (tổng hợp theo kế hoạch); /tinhhinh <tên cơ quan>, "
              "ví dụ /tinhhinh Sở Tài chính; /tinhhinh <số kế hoạch> <số nhiệm vụ>, ví dụ "
              "/tinhhinh 289 3.",
        "en": "Status: /status (per plan); /status <agency>, e.g. /status So Tai chinh; "
              "/status <plan number> <task number>, e.g. /status 289 3.",
    },
    "chat.command.unknown": {
        "vi": "Không có lệnh {word}. Gõ /trogiup (hoặc /help) để xem các lệnh.",
        "en": "There is no command {word}. Send /help to see the commands.",
    },
    "chat.command.coordinator_only": {
        "vi": "Lệnh này dành cho cán bộ điều phối.",
        "en": "This command is for coordinators only.",
    },
    "chat.task": {
        "vi": "Kế hoạch {plan}, {task}: {title}",
        "en": "Plan {plan}, {task}: {title}",
    },
    "chat.tasks.header": {
        "vi": "Nhiệm vụ chưa hoàn thành của {agency} đến ngày {date} ({n}):",
        "en": "Open tasks of {agency} as of {date} ({n}):",
    },
    "chat.tasks.none": {
        "vi": "{agency} hiện không có nhiệm vụ nào chưa hoàn thành.",
        "en": "{agency} has no open tasks at the moment.",
    },
    "chat.tasks.state": {"vi": "   Tình trạng: {state}.", "en": "   Status: {state}."},
    "chat.tasks.last": {
        "vi": "   Báo cáo gần nhất ({date}): “{text}”.",
        "en": "   Last report ({date}): “{text}”.",
    },
    "chat.tasks.blocker": {"vi": "   Vướng mắc: {reason}.", "en": "   Difficulty: {reason}."},
    "chat.tasks.hint": {
        "vi": "Để báo cáo, gõ /baocao hoặc trả lời tin nhắc việc.",
        "en": "To report, send /report or reply to a reminder.",
    },
    "chat.list.more": {"vi": "… và {n} mục khác.", "en": "… and {n} more."},
    "chat.report.pick": {
        "vi": "Đề nghị chọn nhiệm vụ cần báo cáo (bấm nút hoặc gửi số thứ tự):",
        "en": "Please choose the task to report on (press a button or send its number):",
    },
    "chat.report.prompt": {
        "vi": "Đề nghị bấm chọn tình hình thực hiện, hoặc gửi một câu ngắn (ví dụ: “được 60%”, "
              "“vướng: chờ hướng dẫn”).",
        "en": "Please press a button, or send a short message (e.g. “60%”, “blocked: waiting "
              "for guidance”).",
    },
    "chat.pick.which": {
        "vi": "Anh/chị báo cáo cho nhiệm vụ nào? Đề nghị chọn (bấm nút hoặc gửi số thứ tự):",
        "en": "Which task is this about? Please choose (press a button or send its number):",
    },
    "chat.button.done": {"vi": "Đã xong", "en": "Done"},
    "chat.button.progress": {"vi": "Đang thực hiện", "en": "In progress"},
    "chat.button.blocked": {"vi": "Vướng mắc", "en": "Blocked"},
    "chat.button.percent": {"vi": "Cập nhật %", "en": "Update %"},
    "chat.button.confirm": {"vi": "Xác nhận hoàn thành", "en": "Confirm"},
    "chat.button.return": {"vi": "Trả lại", "en": "Return"},
    "chat.ask.reason": {
        "vi": "Đề nghị cho biết khó khăn, vướng mắc (trả lời bằng một tin nhắn).",
        "en": "Please describe the difficulty (in one message).",
    },
    "chat.ask.percent": {
        "vi": "Đề nghị nhập tỷ lệ hoàn thành, từ 0 đến 100 (ví dụ: 60).",
        "en": "Please send the percentage done, from 0 to 100 (e.g. 60).",
    },
    "chat.ask.percent.again": {
        "vi": "Tỷ lệ hoàn thành phải từ 0 đến 100. Đề nghị nhập lại (ví dụ: 60).",
        "en": "The percentage must be between 0 and 100. Please send it again (e.g. 60).",
    },
    "chat.ack.recorded": {"vi": "Đã ghi nhận.", "en": "Recorded."},
    "chat.ack.pending": {
        "vi": "Kết quả hoàn thành sẽ được tính sau khi cơ quan điều phối xác nhận.",
        "en": "The completion counts once the coordinating agency confirms it.",
    },
    "chat.ack.no_task": {
        "vi": "Đã nhận tin nhắn của anh/chị. Hiện {agency} không có nhiệm vụ nào đang theo dõi "
              "để ghi nhận nội dung này; nội dung đã được lưu lại để cơ quan điều phối theo dõi.",
        "en": "Your message was received. {agency} has no task being followed up to attach it "
              "to; it has been kept for the coordinating agency.",
    },
    "chat.kept.unbound": {
        "vi": "Lưu ý: nội dung anh/chị gửi trước đó chưa được gắn với nhiệm vụ nào nên chưa được "
              "ghi nhận là báo cáo tiến độ: {texts}.\nNội dung này đã được lưu lại để cơ quan "
              "điều phối theo dõi; nếu cần, đề nghị báo cáo lại bằng lệnh /baocao.",
        "en": "Note: what you wrote earlier was not attached to any task, so it was not recorded "
              "as a progress report: {texts}.\nIt has been kept for the coordinating agency; if "
              "needed, please report again with /report.",
    },
    "chat.already.pending": {
        "vi": "Nhiệm vụ này đã được báo cáo hoàn thành ngày {date}, đang chờ cơ quan điều phối "
              "xác nhận.",
        "en": "This task was reported done on {date} and awaits the coordinator's confirmation.",
    },
    "chat.already.done": {
        "vi": "Nhiệm vụ này đã được ghi nhận hoàn thành ngày {date}.",
        "en": "This task was recorded as done on {date}.",
    },
    "chat.already.saved": {
        "vi": "Nội dung anh/chị gửi đã được lưu thêm.",
        "en": "What you wrote has been saved as well.",
    },
    "chat.denied": {
        "vi": "Anh/chị không có quyền báo cáo nhiệm vụ này.",
        "en": "You may not report on this task.",
    },
    "chat.denied.review": {
        "vi": "Chỉ cán bộ điều phối mới xác nhận hoặc trả lại báo cáo hoàn thành.",
        "en": "Only coordinators confirm or return a completion.",
    },
    "chat.button.stale": {
        "vi": "Nút này không còn hiệu lực.",
        "en": "This button is no longer valid.",
    },
    "chat.notify.done": {
        "vi": "{agency} báo cáo hoàn thành {task}, Kế hoạch {plan}: {title}.\nNội dung: “{text}”",
        "en": "{agency} reports {task} of plan {plan} done: {title}.\nReport: “{text}”",
    },
    "chat.notify.ask": {
        "vi": "Đề nghị xác nhận hoặc trả lại báo cáo hoàn thành.",
        "en": "Please confirm the completion or return it.",
    },
    "chat.notify.blocked": {
        "vi": "{agency} báo cáo khó khăn, vướng mắc khi thực hiện {task}, Kế hoạch {plan}: "
              "{title}.\nNội dung: “{text}”",
        "en": "{agency} reports a difficulty with {task} of plan {plan}: {title}.\n"
              "Report: “{text}”",
    },
    "chat.notify.extension": {
        "vi": "{agency} đề nghị gia hạn {task}, Kế hoạch {plan}{until}: {title}.\n"
              "Nội dung: “{text}”",
        "en": "{agency} asks for an extension of {task} of plan {plan}{until}: {title}.\n"
              "Request: “{text}”",
    },
    "chat.notify.until": {"vi": " đến ngày {date}", "en": " until {date}"},
    "chat.review.typed": {
        "vi": "Để xác nhận, gửi: /xacnhan {id}\nĐể trả lại, gửi: /xacnhan {id} tralai",
        "en": "To confirm, send: /confirm {id}\nTo return it, send: /confirm {id} return",
    },
    "chat.review.confirmed": {
        "vi": "Đã xác nhận hoàn thành ({who}, ngày {date}).",
        "en": "Confirmed ({who}, {date}).",
    },
    "chat.review.returned": {
        "vi": "Đã trả lại báo cáo hoàn thành ({who}, ngày {date}).",
        "en": "Returned ({who}, {date}).",
    },
    "chat.review.already": {
        "vi": "Báo cáo này đã được xử lý trước đó.",
        "en": "This report was already handled.",
    },
    "chat.review.gone": {
        "vi": "Không tìm thấy báo cáo này.",
        "en": "This report could not be found.",
    },
    "chat.review.to_agency.confirmed": {
        "vi": "Cơ quan điều phối đã xác nhận hoàn thành {task}, Kế hoạch {plan}: {title}. "
              "Trân trọng cảm ơn!",
        "en": "The coordinating agency confirmed {task} of plan {plan} as done: {title}. "
              "Thank you!",
    },
    "chat.review.to_agency.returned": {
        "vi": "Cơ quan điều phối đã trả lại báo cáo hoàn thành {task}, Kế hoạch {plan}: {title}. "
              "Đề nghị tiếp tục thực hiện và báo cáo lại khi hoàn thành.",
        "en": "The coordinating agency returned the completion report for {task} of plan "
              "{plan}: {title}. Please continue and report again when it is done.",
    },
    "chat.confirm.none": {
        "vi": "Hiện không có báo cáo hoàn thành nào chờ xác nhận.",
        "en": "No completion is awaiting confirmation.",
    },
    "chat.confirm.header": {
        "vi": "Có {n} báo cáo hoàn thành chờ xác nhận:",
        "en": "{n} completions await confirmation:",
    },
    "chat.messages.none": {
        "vi": "Trong {days} ngày qua không có tin nhắn nào chưa được gắn với nhiệm vụ.",
        "en": "No message was left without a task in the last {days} days.",
    },
    "chat.messages.header": {
        "vi": "Tin nhắn của các cơ quan chưa được gắn với nhiệm vụ nào trong {days} ngày qua "
              "({n}), mới nhất trước:",
        "en": "Messages from agencies not attached to any task in the last {days} days ({n}), "
              "newest first:",
    },
    "chat.messages.item": {
        "vi": "{n}. {agency}, ngày {date} lúc {time}: “{text}”",
        "en": "{n}. {agency}, {date} at {time}: “{text}”",
    },
    "chat.messages.hint": {
        "vi": "Các tin nhắn này chưa được tính vào tình hình thực hiện. Đề nghị liên hệ cơ quan "
              "để làm rõ, hoặc đề nghị cơ quan báo cáo lại bằng lệnh /baocao.",
        "en": "These messages do not count in the status. Please contact the agency to clarify, "
              "or ask it to report again with /report.",
    },
    "chat.lang.choose": {"vi": "Đề nghị chọn ngôn ngữ:", "en": "Please choose a language:"},
    "chat.lang.set": {"vi": "Đã chuyển sang tiếng Việt.", "en": "Language set to English."},
    "chat.lang.unknown": {
        "vi": "Chưa hỗ trợ ngôn ngữ “{arg}”. Đề nghị chọn vi (tiếng Việt) hoặc en (tiếng Anh).",
        "en": "The language “{arg}” is not supported. Please choose vi (Vietnamese) or en "
              "(English).",
    },
    "chat.status.header": {
        "vi": "Tình hình thực hiện các kế hoạch đến ngày {date}:",
        "en": "Implementation status as of {date}:",
    },
    "chat.status.plan": {
        "vi": "Kế hoạch {plan} ({n} nhiệm vụ của các cơ quan chủ trì):",
        "en": "Plan {plan} ({n} tasks of lead agencies):",
    },
    "chat.status.awaiting": {
        "vi": "Trong đó báo cáo hoàn thành chờ xác nhận: {n}",
        "en": "Of which completions awaiting confirmation: {n}",
    },
    "chat.status.rate": {"vi": "Tỷ lệ hoàn thành: {rate}%", "en": "Done: {rate}%"},
    "chat.status.none": {
        "vi": "Chưa có kế hoạch nào được nhập vào hệ thống.",
        "en": "No plan has been imported yet.",
    },
    "chat.status.agency": {
        "vi": "Tình hình thực hiện của {agency} đến ngày {date} ({n} nhiệm vụ):",
        "en": "Status of {agency} as of {date} ({n} tasks):",
    },
    "chat.status.agency.none": {
        "vi": "{agency} không có nhiệm vụ nào trong các kế hoạch đang theo dõi.",
        "en": "{agency} has no task in the plans being followed up.",
    },
    "chat.status.task": {
        "vi": "Tình hình thực hiện {task}, Kế hoạch {plan} đến ngày {date}:\n{title}",
        "en": "Status of {task} of plan {plan} as of {date}:\n{title}",
    },
    "chat.status.line": {
        "vi": "{n}. {agency} ({role}): {state}",
        "en": "{n}. {agency} ({role}): {state}",
    },
    "chat.status.not_found": {
        "vi": "Không tìm thấy cơ quan, kế hoạch hoặc nhiệm vụ “{text}”.",
        "en": "No agency, plan or task matches “{text}”.",
    },
    "chat.status.suggest": {"vi": "Có phải: {names}?", "en": "Did you mean: {names}?"},
    "chat.status.no_task": {
        "vi": "Kế hoạch {plan} không có nhiệm vụ số {task}.",
        "en": "Plan {plan} has no task {task}.",
    },
    "chat.overdue.header": {
        "vi": "Nhiệm vụ quá hạn chưa hoàn thành đến ngày {date} ({n}):",
        "en": "Overdue tasks as of {date} ({n}):",
    },
    "chat.overdue.item": {
        "vi": "{n}. {agency}: {task}, Kế hoạch {plan}, quá hạn {days} ngày (hạn {due})",
        "en": "{n}. {agency}: {task}, plan {plan}, {days} days overdue (due {due})",
    },
    "chat.overdue.awaiting": {
        "vi": " (đã báo cáo hoàn thành, chờ xác nhận)",
        "en": " (reported done, awaiting confirmation)",
    },
    "chat.overdue.none": {
        "vi": "Không có nhiệm vụ nào quá hạn.",
        "en": "No task is overdue.",
    },
    "chat.silent.header": {
        "vi": "Cơ quan chưa báo cáo trong {days} ngày qua ({n}):",
        "en": "Agencies with no report in the last {days} days ({n}):",
    },
    "chat.silent.none": {
        "vi": "Các cơ quan có nhiệm vụ đang thực hiện đều đã báo cáo trong {days} ngày qua.",
        "en": "Every agency with open tasks has reported in the last {days} days.",
    },
    "chat.silent.no_contact": {
        "vi": "Cơ quan chưa có đầu mối đăng ký nhận nhắc việc ({n}):",
        "en": "Agencies with no registered focal point ({n}):",
    },
    "chat.silent.unreachable": {
        "vi": "Đầu mối không nhận được tin nhắn ({n}):",
        "en": "Focal points who cannot be reached ({n}):",
    },
    "chat.kind.done": {"vi": "đã xong", "en": "done"},
    "chat.kind.percent": {"vi": "cập nhật tỷ lệ", "en": "progress update"},
    "chat.kind.in_progress": {"vi": "đang thực hiện", "en": "in progress"},
    "chat.kind.blocked": {"vi": "vướng mắc", "en": "blocked"},
    "chat.kind.extension": {"vi": "đề nghị gia hạn", "en": "extension requested"},
    "chat.kind.not_started": {"vi": "chưa triển khai", "en": "not started"},
    "chat.kind.note": {"vi": "ghi chú", "en": "note"},
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
