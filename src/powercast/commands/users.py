"""`powercast users`: accounts of the control center (operators label forecasts; admins also train and promote)."""

from __future__ import annotations

import sys

import typer

from powercast.commands._context import settings
from powercast.commands._group import group

app = group("Users of the control center and their roles.", no_args_is_help=True)


def _password(from_stdin: bool) -> str:
    """The password from the first line of stdin (with --password-stdin or when stdin is not a terminal), else
    from a prompt that asks twice and shows nothing."""
    if from_stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("password", hide_input=True, confirmation_prompt=True)


@app.command("add")
def add(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="User name: 1-64 letters, digits, '_', '.', '@' or '-'."),
    role: str = typer.Option("operator", "--role", help="operator (view and label) or admin (also train, promote)."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
    replace: bool = typer.Option(False, "--replace", help="Reset the password and role of an existing user."),
) -> None:
    """Add a user (the password is asked for, or read from stdin); it is stored only as an Argon2id hash."""
    from powercast.db.connection import connect
    from powercast.feedback.users import add_user, validate

    password = _password(password_stdin)
    validate(name, role, password)
    conn = connect(settings(ctx).app_database_url)
    try:
        user = add_user(conn, name, password, role, replace=replace)
    finally:
        conn.close()
    typer.echo(f"{'updated' if replace else 'added'} user {user.username} ({user.role})")


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """List the enabled users and their roles."""
    from powercast.db.connection import connect
    from powercast.feedback.users import list_users

    conn = connect(settings(ctx).app_database_url)
    try:
        for user in list_users(conn):
            typer.echo(f"{user.username}\t{user.role}")
    finally:
        conn.close()
