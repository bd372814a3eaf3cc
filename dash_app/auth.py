"""Logins for the control center: a plain login form, a session cookie, and a guard in front of every request.

The guard runs before Flask routes anything: without a live session a page request is redirected to /login and
any other request (Dash's layout, dependencies and callbacks included) gets 401 and no data. Callbacks check the
role again with `powercast.feedback.users.refusal` before they write or start anything.
"""

from __future__ import annotations

import html
from urllib.parse import quote

import flask

from powercast.feedback import sessions
from powercast.feedback.users import User, authenticate

COOKIE = "powercast_session"
PUBLIC_PREFIXES = ("/assets/", "/_dash-component-suites/")
PUBLIC_PATHS = ("/login", "/logout", "/_favicon.ico", "/favicon.ico")
WRONG_LOGIN = "Wrong user name or password."


def is_public(path: str) -> bool:
    """Paths served without a login: the login form, static assets and Dash's JavaScript bundles (no data)."""
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def is_page(path: str) -> bool:
    """A browser page (redirected to the login form) rather than one of Dash's data endpoints (refused)."""
    return not path.startswith("/_")


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path on this site only (never another host)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def current_user() -> User | None:
    """The user of this request (set by the guard); None outside a request or without a session."""
    return flask.g.get("user") if flask.has_request_context() else None


def install(server: flask.Flask, db, session_hours: float) -> None:
    """Add /login and /logout to `server` and guard every other request."""

    @server.before_request
    def guard():
        path = flask.request.path
        token = flask.request.cookies.get(COOKIE)
        with db.connection() as conn:
            flask.g.user = sessions.session_user(conn, token)
        if flask.g.user is not None or is_public(path):
            return None
        if is_page(path) and flask.request.method == "GET":
            full = flask.request.full_path.rstrip("?")
            return flask.redirect(f"/login?next={quote(full)}")
        return flask.Response('{"error": "login required"}', status=401, mimetype="application/json")

    @server.route("/login", methods=["GET", "POST"])
    def login():
        target = safe_next(flask.request.values.get("next"))
        if flask.request.method == "GET":
            return login_page(target)
        username = flask.request.form.get("username", "").strip()
        password = flask.request.form.get("password", "")
        with db.connection() as conn:
            user = authenticate(conn, username, password)
            if user is None:
                return login_page(target, WRONG_LOGIN, username), 401
            token = sessions.start_session(conn, user, session_hours)
        response = flask.redirect(target)
        response.set_cookie(
            COOKIE, token, max_age=int(session_hours * 3600), httponly=True, samesite="Strict", path="/"
        )
        return response

    @server.route("/logout", methods=["GET", "POST"])
    def logout():
        with db.connection() as conn:
            sessions.end_session(conn, flask.request.cookies.get(COOKIE))
        response = flask.redirect("/login")
        response.delete_cookie(COOKIE, path="/")
        return response


def login_page(target: str, message: str | None = None, username: str = "") -> str:
    """The login form (plain HTML: it needs no data and works before any Dash code has loaded)."""
    error = f'<p class="login-error" id="login-error">{html.escape(message)}</p>' if message else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>powercast · log in</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/assets/style.css"></head>
<body class="login-body">
<form class="login-card" method="post" action="/login">
  <h1>powercast</h1><p class="muted">Control center: log in to see the fleet and label forecasts.</p>
  {error}
  <input type="hidden" name="next" value="{html.escape(target)}">
  <label for="username">User name</label>
  <input id="username" name="username" autocomplete="username" value="{html.escape(username)}" required autofocus>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button id="login-submit" type="submit">Log in</button>
  <p class="muted small">No account? An admin adds one with <code>powercast users add NAME --role operator</code>.</p>
</form></body></html>"""
