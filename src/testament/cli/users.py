"""`testament user`: accounts for the workbench."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from testament.accounts.roles import DESCRIPTIONS, ROLES
from testament.cli.common import (
    DatabaseOption,
    HomeOption,
    JsonOption,
    console,
    fail,
    opened,
    print_json,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from testament.accounts.models import User

app = typer.Typer(help="Workbench users: add, list, change roles, reset passwords, API tokens.")
RoleOption = Annotated[
    str, typer.Option("--role", help=f"One of: {', '.join(ROLES)}.", show_default=True)
]


def _user(session: Session, username: str) -> User:
    from testament.accounts import users

    user = users.find_user(session, username)
    if user is None:
        fail(f"no user {username!r}")
    return user


@app.command("add")
def add(
    username: str,
    role: RoleOption = "investigator",
    home: HomeOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Add a user; prints a one-time password to change at first login."""
    from testament.accounts import users

    with opened(home, database_url) as store:
        try:
            with store.write() as session:
                user, password = users.add_user(session, username, role)
                name, role = user.username, user.role
        except users.AccountError as exc:
            fail(str(exc))
    console.print(f"Added {name} ({role}: {DESCRIPTIONS[role]}).", highlight=False)
    console.print(f"One-time password: [bold]{password}[/]", highlight=False)


@app.command("list")
def list_users(
    home: HomeOption = None, database_url: DatabaseOption = None, json: JsonOption = False
) -> None:
    """List users and their roles."""
    from sqlalchemy import select

    from testament.accounts.models import User

    with opened(home, database_url) as store, store.read() as session:
        found = session.execute(select(User).order_by(User.username)).scalars().all()
    rows = [{"username": u.username, "role": u.role, "active": u.active} for u in found]
    if json:
        print_json(rows)
        return
    for row in rows:
        state = "" if row["active"] else " (inactive)"
        console.print(f"{row['username']}\t{row['role']}{state}", highlight=False)


@app.command("role")
def role(
    username: str,
    new_role: Annotated[str, typer.Argument(metavar="ROLE")],
    home: HomeOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Change a user's role."""
    from testament.accounts import users

    with opened(home, database_url) as store:
        try:
            with store.write() as session:
                _user(session, username).role = users.check_role(new_role)
        except users.AccountError as exc:
            fail(str(exc))
    console.print(f"{username} is now {new_role}.", highlight=False)


@app.command("reset")
def reset(username: str, home: HomeOption = None, database_url: DatabaseOption = None) -> None:
    """Give a user a new one-time password and log them out everywhere."""
    from testament.accounts import users

    with opened(home, database_url) as store, store.write() as session:
        password = users.reset_password(session, _user(session, username))
    console.print(f"One-time password for {username}: [bold]{password}[/]", highlight=False)


@app.command("token")
def token(
    username: str,
    name: Annotated[str, typer.Option(help="What the token is for.")] = "api",
    home: HomeOption = None,
    database_url: DatabaseOption = None,
) -> None:
    """Issue an API token for a user (printed once)."""
    from testament.accounts import users

    with opened(home, database_url) as store, store.write() as session:
        secret = users.issue_token(session, _user(session, username), name)
    console.print(secret, highlight=False)
