"""Who may talk to the forecasting service: a Host header check and, when a token is set, a bearer token.

- `HostCheck`: a request whose `Host` header names none of the allowed hosts gets 400. A web page from another
  site that rebinds its DNS name to 127.0.0.1 (DNS rebinding) sends its own name, so it cannot reach a service
  listening on loopback. Allowed: localhost, 127.0.0.1, [::1], the address the service binds to, and the names
  of `POWERCAST_API_ALLOWED_HOSTS` (`*` allows any).
- `BearerToken`: with `POWERCAST_API_TOKEN` set, every request but the health check and the API's own docs needs
  `Authorization: Bearer <token>`, else 401; checked before the body is read or a forecast slot is taken.
- `require_token_beyond_loopback`: the service refuses to listen on anything but loopback without a token.
"""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import JSONResponse

from powercast.errors import PowercastError

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")
OPEN_PATHS = frozenset({"/health", "/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json"})


def is_loopback(host: str) -> bool:
    """True for localhost and the loopback addresses (127.0.0.0/8, ::1)."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def require_token_beyond_loopback(bind_host: str, token: str | None) -> None:
    """A one-line error when the service would listen beyond loopback without a token."""
    if not token and not is_loopback(bind_host):
        raise PowercastError(
            f"refusing to listen on {bind_host} without a token: anyone who can reach it could use the API",
            "set POWERCAST_API_TOKEN (clients then send `Authorization: Bearer <token>`), or listen on 127.0.0.1",
        )


def host_name(value: str) -> str | None:
    """The host of a Host header or an allowed-hosts entry, lower case, without port or brackets."""
    try:
        return urlsplit(f"//{value.strip()}").hostname
    except ValueError:
        return None


@dataclass(frozen=True)
class ApiAccess:
    """The token (None: no authentication) and the host names the Host header may carry (`*`: any)."""

    token: str | None = None
    allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS

    @classmethod
    def from_settings(cls, settings, bind_host: str = "127.0.0.1") -> ApiAccess:
        """`POWERCAST_API_TOKEN` and `POWERCAST_API_ALLOWED_HOSTS`, plus the address the service binds to."""
        token = settings.api_token.get_secret_value() if settings.api_token else None
        extra = [h.strip() for h in settings.api_allowed_hosts.split(",") if h.strip()]
        return cls(token or None, allowed_hosts(bind_host, extra))


def allowed_hosts(bind_host: str, extra: list[str]) -> tuple[str, ...]:
    """The loopback names, the bind address (unless it is a wildcard address) and `extra`."""
    hosts = [*LOOPBACK_HOSTS]
    try:
        unspecified = ipaddress.ip_address(bind_host.strip("[]")).is_unspecified
    except ValueError:
        unspecified = False
    if bind_host and not unspecified:
        hosts.append(bind_host)
    return tuple(dict.fromkeys([*hosts, *extra]))


class HostCheck:
    """ASGI middleware: 400 for a request whose Host header is not one of `allowed` (`*` in it allows any)."""

    def __init__(self, app, allowed: tuple[str, ...]):
        self.app = app
        self.any = "*" in allowed
        self.allowed = {name for name in map(host_name, allowed) if name}

    async def __call__(self, scope, receive, send) -> None:
        if self.any or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        host = host_name(Headers(scope=scope).get("host", ""))
        if host not in self.allowed:
            detail = "the Host header names a host this service does not answer: add it to POWERCAST_API_ALLOWED_HOSTS"
            await JSONResponse({"detail": detail}, 400)(scope, receive, send)
            return
        await self.app(scope, receive, send)


class BearerToken:
    """ASGI middleware: 401 for a request outside OPEN_PATHS without `Authorization: Bearer <token>`."""

    def __init__(self, app, token: str):
        self.app = app
        self.expected = b"Bearer " + token.encode()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        given = next((value for name, value in scope["headers"] if name == b"authorization"), b"")
        if not hmac.compare_digest(given, self.expected):
            reply = JSONResponse(
                {"detail": "send the service's token: Authorization: Bearer <POWERCAST_API_TOKEN>"},
                401,
                headers={"WWW-Authenticate": "Bearer"},
            )
            await reply(scope, receive, send)
            return
        await self.app(scope, receive, send)
