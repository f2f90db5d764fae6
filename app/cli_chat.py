"""CLI commands for people and chats: invite codes, the contact list, revoking, the console chat.

``nhacviec invite`` prints a single-use code and the Telegram deep link that carries it;
``nhacviec contacts`` lists who is bound where; ``nhacviec revoke`` removes a contact;
``nhacviec chat --as "Sở Tài chính"`` talks to the conversation core from the terminal (stdin may
be piped). ``build_conversation`` is the one place a ``Conversation`` is built from the services,
for this console and for the chat platforms alike.
"""

import json
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from app.bootstrap import Services
from app.errors import UserError, agency_code
from bot.core.conversation import Conversation, Settings
from bot.core.onboarding import new_invite_code, parse_expiry
from domain.calendar import ZONE
from domain.digest import format_date
from storage.contacts import (
    LinkError,
    bind_contact,
    link_contacts,
    list_contacts,
    revoke_contact,
)
from storage.invites import add_invite
from storage.models import ContactRole

LINK_PLACEHOLDER = "<ten_bot>"
ROLE_NAMES = {
    ContactRole.FOCAL.value: "cán bộ đầu mối",
    ContactRole.HEAD.value: "thủ trưởng cơ quan",
    ContactRole.COORDINATOR.value: "cán bộ điều phối",
}

out = Console(soft_wrap=True)


def build_conversation(services: Services) -> Conversation:
    """The conversation core wired to the database, directory, calendar and config."""
    settings = Settings(require_confirmation=services.config.status.require_confirmation)
    return Conversation(services.session, services.directory(), services.calendar, settings)


def invite_link(bot_username: str, code: str) -> str:
    return f"https://t.me/{bot_username.lstrip('@') or LINK_PLACEHOLDER}?start={code}"


def _fail(message: str) -> NoReturn:
    raise UserError(message)


def _agency_code(services: Services, name: str) -> str:
    return agency_code(services.directory(), name)


def _role(text: str) -> ContactRole:
    try:
        return ContactRole(text.strip().lower())
    except ValueError:
        _fail(f"Vai trò không hợp lệ '{text}': chọn focal, head hoặc coordinator.")


def _now() -> datetime:
    return datetime.now(ZONE)


def _local(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    local = moment.astimezone(ZONE)
    return f"{local:%H:%M} {format_date(local.date())}"


def register(app: typer.Typer, get_services: Callable[[], Services]) -> None:
    """Add invite, contacts, revoke and chat to the ``nhacviec`` command line."""

    @app.command("invite")
    def invite_command(
        agency: Annotated[str, typer.Option("--agency", help="Tên cơ quan (có thể viết tắt).")],
        role: Annotated[
            str, typer.Option("--role", help="Vai trò: focal, head hoặc coordinator.")
        ] = "focal",
        expires: Annotated[
            str, typer.Option("--expires", help="Thời hạn của mã, ví dụ 7d, 12h, 30m.")
        ] = "7d",
        as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False,
    ) -> None:
        """Tạo mã mời dùng một lần và đường liên kết Telegram để đăng ký nhận nhắc việc."""
        chosen = _role(role)
        try:
            ttl = parse_expiry(expires)
        except ValueError as exc:
            _fail(str(exc))
        services = get_services()
        code_agency = _agency_code(services, agency)
        now = _now()
        code = new_invite_code()
        with services.session() as session:
            invite = add_invite(
                session,
                code=code,
                agency_code=code_agency,
                role=chosen,
                created_at=now,
                expires_at=now + ttl,
            )
            expires_at = invite.expires_at
            session.commit()
        username = services.config.telegram.bot_username
        link = invite_link(username, code)
        if as_json:
            sys.stdout.write(json.dumps({"code": code, "link": link}, ensure_ascii=False) + "\n")
            return
        name = services.directory().display_name(code_agency)
        out.print(f"Mã mời: {code}", highlight=False)
        out.print(f"Cơ quan: {name}, vai trò: {ROLE_NAMES[chosen.value]}", highlight=False)
        out.print(f"Hết hạn: {_local(expires_at)} (dùng một lần)", highlight=False)
        out.print(f"Đường liên kết Telegram: {link}", highlight=False, markup=False)
        out.print(f"Hoặc gửi cho bot tin nhắn: /start {code}", highlight=False, markup=False)
        if not username:
            out.print(
                f"Chưa cấu hình telegram.bot_username: thay {LINK_PLACEHOLDER} bằng tên của bot.",
                highlight=False,
                markup=False,
            )

    @app.command("contacts")
    def contacts_command(
        as_json: Annotated[bool, typer.Option("--json", help="In dạng JSON.")] = False,
    ) -> None:
        """Liệt kê các đầu mối, thủ trưởng, cán bộ điều phối đã đăng ký và kênh liên lạc."""
        services = get_services()
        directory = services.directory()
        with services.session() as session:
            contacts = list_contacts(session)
        rows: list[dict[str, Any]] = [
            {
                "id": c.id,
                "agency": directory.display_name(c.agency_code)
                if c.agency_code in directory.agencies
                else c.agency_code,
                "agency_code": c.agency_code,
                "role": c.role,
                "channel": c.channel,
                "chat_id": c.chat_id,
                "name": c.display_name,
                "language": c.language,
                "unreachable": c.unreachable,
                "last_interaction_at": c.last_interaction_at.isoformat()
                if c.last_interaction_at
                else None,
            }
            for c in contacts
        ]
        if as_json:
            sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
            return
        if not rows:
            out.print("Chưa có ai đăng ký. Tạo mã mời: nhacviec invite --agency <tên cơ quan>")
            return
        table = Table(title="Danh sách liên hệ")
        for column in (
            "ID",
            "Cơ quan",
            "Vai trò",
            "Kênh",
            "Chat",
            "Tên",
            "Ngôn ngữ",
            "Tình trạng",
            "Tương tác gần nhất",
        ):
            table.add_column(column, overflow="fold")
        for contact, row in zip(contacts, rows, strict=True):
            table.add_row(
                str(row["id"]),
                row["agency"],
                ROLE_NAMES.get(contact.role, contact.role),
                contact.channel,
                contact.chat_id,
                contact.display_name or "—",
                contact.language,
                "không liên lạc được" if contact.unreachable else "hoạt động",
                _local(contact.last_interaction_at),
            )
        out.print(table)

    @app.command("revoke")
    def revoke_command(
        contact_id: Annotated[int, typer.Argument(help="ID liên hệ (xem: nhacviec contacts).")],
    ) -> None:
        """Thu hồi một liên hệ: chat đó không nhận nhắc việc và không xem được dữ liệu nữa."""
        services = get_services()
        with services.session() as session:
            contact = revoke_contact(session, contact_id)
            if contact is None or contact.id is None:
                _fail(f"Không có liên hệ số {contact_id}. Xem: nhacviec contacts")
            summary = (
                f"{services.directory().display_name(contact.agency_code)}, "
                f"{ROLE_NAMES.get(contact.role, contact.role)}, {contact.channel} {contact.chat_id}"
            )
            session.commit()
        out.print(f"Đã thu hồi liên hệ số {contact_id} ({summary}).", highlight=False)

    @app.command("link")
    def link_command(
        contact_ids: Annotated[
            list[int], typer.Argument(help="ID các liên hệ của cùng một người, kênh ưu tiên trước.")
        ],
    ) -> None:
        """Gộp các liên hệ của cùng một người trên nhiều kênh: mỗi nhắc việc chỉ gửi một lần."""
        services = get_services()
        with services.session() as session:
            try:
                contacts = link_contacts(session, contact_ids)
            except LinkError as exc:
                _fail(f"Không gộp được: {exc}. Xem: nhacviec contacts")
            order = " → ".join(f"{c.channel} (số {c.id})" for c in contacts)
            session.commit()
        out.print(f"Đã gộp thành một người, thứ tự kênh: {order}.", highlight=False)

    @app.command("chat")
    def chat_command(
        as_agency: Annotated[str, typer.Option("--as", help="Trò chuyện với tư cách cơ quan này.")],
        role: Annotated[
            str, typer.Option("--role", help="Vai trò: focal, head hoặc coordinator.")
        ] = "focal",
        at: Annotated[
            str | None,
            typer.Option("--at", help="Thời điểm giả lập, ví dụ 2024-01-15T09:00 (giờ Việt Nam)."),
        ] = None,
    ) -> None:
        """Trò chuyện thử với bot ngay trên cửa sổ dòng lệnh (gõ /trogiup; #1 để bấm nút 1)."""
        from bot.console_chat import CHANNEL, ConsoleChat  # only this command needs it

        chosen = _role(role)
        fixed = _parse_at(at) if at else None
        services = get_services()
        code = _agency_code(services, as_agency)
        chat_id = f"{code}:{chosen.value}"
        with services.session() as session:
            bind_contact(
                session,
                agency_code=code,
                role=chosen,
                channel=CHANNEL,
                chat_id=chat_id,
                now=fixed or _now(),
                display_name="Bảng điều khiển",
            )
            session.commit()
        name = services.directory().display_name(code)
        chat = ConsoleChat(
            build_conversation(services),
            chat_id,
            clock=(lambda: fixed) if fixed else _now,
            write=lambda text: out.print(text, highlight=False, markup=False),
        )
        interactive = sys.stdin.isatty()
        if interactive:
            out.print(
                f"Trò chuyện với tư cách {name} ({ROLE_NAMES[chosen.value]}). "
                "Gõ /trogiup để xem lệnh, #1 để bấm nút số 1, /thoat để kết thúc.",
                highlight=False,
                markup=False,
            )
        chat.run(sys.stdin, prompt=(lambda: out.print("> ", end="")) if interactive else None)


def _parse_at(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        _fail(f"Thời điểm không hợp lệ '{text}': ví dụ 2024-01-15T09:00.")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=ZONE)
