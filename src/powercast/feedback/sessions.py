"""Login sessions: a random token in the browser's cookie, its SHA-256 in `user_sessions`, an expiry time."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from powercast.feedback.users import User
from powercast.names import USER_SESSIONS_TABLE, USERS_TABLE


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def start_session(conn, user: User, hours: float, now: datetime | None = None) -> str:
    """A new session for `user` lasting `hours`; returns the token for the cookie (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    with conn.cursor() as cur:
        cur.execute(
            f"INSERT INTO {USER_SESSIONS_TABLE} (token_hash, user_id, expires_at) "  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
            "VALUES (%s, %s, COALESCE(%s, now()) + %s)",
            (_digest(token), user.id, now, timedelta(hours=hours)),
        )
        cur.execute(f"DELETE FROM {USER_SESSIONS_TABLE} WHERE expires_at < now() - interval '1 day'")  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
    conn.commit()
    return token


def session_user(conn, token: str | None) -> User | None:
    """The user of a live session (not expired, user not disabled), else None."""
    if not token:
        return None
    with conn.cursor() as cur:
        cur.execute(
            f"""SELECT u.id, u.username, u.role FROM {USER_SESSIONS_TABLE} s JOIN {USERS_TABLE} u ON u.id = s.user_id
                WHERE s.token_hash = %s AND s.expires_at > now() AND NOT u.disabled""",  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
            (_digest(token),),
        )
        row = cur.fetchone()
    conn.rollback()  # read only: end the transaction so a pooled connection holds no snapshot
    return User(int(row[0]), row[1], row[2]) if row else None


def end_session(conn, token: str | None) -> None:
    if token:
        with conn.cursor() as cur:
            cur.execute(f"DELETE FROM {USER_SESSIONS_TABLE} WHERE token_hash = %s", (_digest(token),))  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters
        conn.commit()
