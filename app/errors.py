"""The one error type for mistakes a CLI user can fix, and the agency lookup every command shares.

A ``UserError`` is shown by ``app.cli.main`` (through click) as one line "Lỗi: ..." on stderr with
exit code 1, never as a traceback.
"""

from typing import IO, Any

import click
from rich.console import Console

from domain.agencies import Directory


class UserError(click.ClickException):
    """A mistake the user can fix, shown as one line without a traceback; exit code 1."""

    exit_code = 1

    def show(self, file: IO[Any] | None = None) -> None:
        Console(stderr=True).print(
            f"[red]Lỗi:[/red] {self.message}", highlight=False, soft_wrap=True
        )


def agency_code(directory: Directory, name: str) -> str:
    """The code of the agency named ``name`` (any spelling the directory knows), or a UserError
    that names the closest agencies."""
    found = directory.resolve(name)
    if found.agency is not None:
        return found.agency
    if found.group is not None:
        raise UserError(
            f"'{name}' là một nhóm cơ quan ({directory.display_name(found.group)}); "
            "hãy ghi tên một cơ quan, đơn vị."
        )
    hint = f" Gần giống: {', '.join(found.suggestions)}." if found.suggestions else ""
    raise UserError(f"Không tìm thấy cơ quan '{name}'.{hint}")
