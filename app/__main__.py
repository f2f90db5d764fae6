"""`python -m app` is the same as the `nhacviec` command."""

from app.cli import main

main()
