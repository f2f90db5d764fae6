"""``nhacviec zalo ...``: storing the Zalo OA's first token pair and showing when it expires.

After that first pair, the program renews the tokens itself (``bot.zalo.tokens``). The tokens are
secrets: ``--from-env`` reads them from NHACVIEC_ZALO_ACCESS_TOKEN and NHACVIEC_ZALO_REFRESH_TOKEN
so they stay out of the shell history, and ``status`` never prints them.
"""

import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console

from app.bootstrap import Services
from bot.zalo.tokens import TokenPair, read_pair, store_pair

ACCESS_ENV = "NHACVIEC_ZALO_ACCESS_TOKEN"
REFRESH_ENV = "NHACVIEC_ZALO_REFRESH_TOKEN"
DEFAULT_EXPIRES_IN = 90000  # seconds: what Zalo gives a new access token (25 hours)
VN = ZoneInfo("Asia/Ho_Chi_Minh")

out = Console()


def register(
    app: typer.Typer,
    get_services: Callable[[], Services],
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    environ: Mapping[str, str] = os.environ,
) -> None:
    """Add the ``zalo`` command group to ``app``."""
    zalo_app = typer.Typer(help="Tài khoản Zalo Official Account (OA).", no_args_is_help=True)

    @zalo_app.command("set-token")
    def set_token(
        access_token: Annotated[
            str | None, typer.Option("--access-token", help="Mã truy cập (access token).")
        ] = None,
        refresh_token: Annotated[
            str | None, typer.Option("--refresh-token", help="Mã làm mới (refresh token).")
        ] = None,
        expires_in: Annotated[
            int, typer.Option("--expires-in", min=1, help="Số giây mã truy cập còn hiệu lực.")
        ] = DEFAULT_EXPIRES_IN,
        from_env: Annotated[
            bool,
            typer.Option(
                "--from-env", help=f"Đọc hai mã từ biến môi trường {ACCESS_ENV}, {REFRESH_ENV}."
            ),
        ] = False,
    ) -> None:
        """Lưu cặp mã Zalo đầu tiên (lấy từ công cụ API Explorer của Zalo)."""
        if from_env:
            access_token = access_token or environ.get(ACCESS_ENV, "").strip() or None
            refresh_token = refresh_token or environ.get(REFRESH_ENV, "").strip() or None
        missing = [
            name
            for name, value in (
                ("--access-token", access_token),
                ("--refresh-token", refresh_token),
            )
            if not value
        ]
        if missing or access_token is None or refresh_token is None:
            raise typer.BadParameter(
                f"thiếu {', '.join(missing)}; có thể đặt {ACCESS_ENV} và {REFRESH_ENV} rồi dùng "
                "--from-env để mã không lưu trong lịch sử lệnh"
            )
        now = clock()
        pair = TokenPair(access_token, refresh_token, now + timedelta(seconds=expires_in))
        services = get_services()
        with services.session() as session:
            store_pair(session, pair, now)
            session.commit()
        out.print(
            "Đã lưu mã truy cập Zalo; mã hết hạn lúc "
            f"{_local(pair.expires_at)} và sẽ được tự động làm mới."
        )

    @zalo_app.command("status")
    def status() -> None:
        """Cho biết đã có mã Zalo chưa và khi nào mã truy cập hết hạn (không in mã)."""
        services = get_services()
        with services.session() as session:
            pair = read_pair(session)
        if pair is None:
            out.print("Chưa có mã Zalo. Hãy chạy `nhacviec zalo set-token`.")
            raise typer.Exit(1)
        state = "đã hết hạn" if pair.expires_at <= clock() else "còn hiệu lực"
        out.print(f"Mã truy cập Zalo {state}, hết hạn lúc {_local(pair.expires_at)}.")

    app.add_typer(zalo_app, name="zalo")


def _local(moment: datetime) -> str:
    return moment.astimezone(VN).strftime("%H:%M ngày %d/%m/%Y")
