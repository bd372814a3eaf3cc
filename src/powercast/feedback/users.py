"""Accounts of the control center: users with a role, passwords hashed with Argon2id, and who may do what."""

from __future__ import annotations

import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from powercast.errors import PowercastError
from powercast.names import ROLES, USERS_TABLE

USERNAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
MIN_PASSWORD = 8
_HASHER = PasswordHasher()  # argon2id with the library's current recommended cost
# Verified against when the user name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("not a password of anyone")

# What each role may do; checked on the server in every callback that reads or writes.
PERMISSIONS: dict[str, frozenset[str]] = {
    "operator": frozenset({"view", "label"}),
    "admin": frozenset({"view", "label", "train", "promote", "rollback"}),
}


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def check_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def validate(username: str, role: str, password: str) -> None:
    """Raise a PowercastError that says what to change when the name, role or password is not acceptable."""
    if not USERNAME.match(username or ""):
        raise PowercastError(f"user name {username!r} is not allowed", "use 1-64 letters, digits, '_', '.', '@' or '-'")
    if role not in ROLES:
        raise PowercastError(f"unknown role {role!r}", f"use one of: {', '.join(ROLES)}")
    if len(password or "") < MIN_PASSWORD:
        raise PowercastError("the password is too short", f"use at least {MIN_PASSWORD} characters")


def add_user(conn, username: str, password: str, role: str, *, replace: bool = False) -> User:
    """Create a user (with `replace`, reset the password and role of an existing one) and commit."""
    validate(username, role, password)
    conflict = "DO UPDATE SET password_hash = EXCLUDED.password_hash, role = EXCLUDED.role, updated_at = now()"
    with conn.cursor() as cur:
        cur.execute(
            f"INSERT INTO {USERS_TABLE} (username, password_hash, role) VALUES (%s, %s, %s) "  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
            f"ON CONFLICT (username) {conflict if replace else 'DO NOTHING'} RETURNING id",
            (username, hash_password(password), role),
        )
        row = cur.fetchone()
    if row is None:
        conn.rollback()
        raise PowercastError(f"user {username!r} exists already", "pass --replace to reset the password and role")
    conn.commit()
    return User(int(row[0]), username, role)


def list_users(conn) -> list[User]:
    with conn.cursor() as cur:
        cur.execute(f"SELECT id, username, role FROM {USERS_TABLE} WHERE NOT disabled ORDER BY username")  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
        return [User(int(i), u, r) for i, u, r in cur.fetchall()]


def authenticate(conn, username: str, password: str) -> User | None:
    """The user when the name exists, is enabled and the password matches; else None (no hint which failed)."""
    with conn.cursor() as cur:
        cur.execute(
            f"SELECT id, username, role, password_hash FROM {USERS_TABLE} WHERE username = %s AND NOT disabled",  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
            (username or "",),
        )
        row = cur.fetchone()
    if row is None:
        check_password(_DUMMY_HASH, password or "")
        return None
    if not check_password(row[3], password or ""):
        return None
    if _HASHER.check_needs_rehash(row[3]):
        with conn.cursor() as cur:
            cur.execute(f"UPDATE {USERS_TABLE} SET password_hash = %s WHERE id = %s", (hash_password(password), row[0]))  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
        conn.commit()
    return User(int(row[0]), row[1], row[2])


def allowed(user: User | None, action: str) -> bool:
    """Whether `user` (None: nobody logged in) may do `action` (view, label, train, promote, rollback)."""
    return user is not None and action in PERMISSIONS.get(user.role, frozenset())


def refusal(user: User | None, action: str) -> str | None:
    """None when allowed; else the sentence to show."""
    if user is None:
        return "Your session has ended: log in again."
    if allowed(user, action):
        return None
    return f"Only admins may {action}; you are logged in as {user.username} ({user.role})."
