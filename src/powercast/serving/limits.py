"""What the forecasting service takes on at once, enforced before a request body is parsed.

- `BodyLimit`: a body larger than `max_body_bytes` is refused with 413: on its `Content-Length` before any of it
  is read, and, for a body that streams in without one (chunked), as soon as the bytes received pass the limit.
- `ForecastSlots`: at most `max_concurrent_forecasts` forecast requests are read, parsed and scored at once.
  Another waits up to `forecast_wait_s` for a slot, then gets 503 with `Retry-After`. The slot is taken before
  the body is read, so a waiting request holds no parsed readings (the memory a burst takes is bounded by the
  slots, not by the number of clients).
- `max_readings`: the most readings one request may carry (checked by the endpoint once the body is parsed).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

BUSY_RETRY_AFTER_S = 1


@dataclass(frozen=True)
class ServingLimits:
    max_body_bytes: int
    max_readings: int
    max_concurrent_forecasts: int
    forecast_wait_s: float

    @classmethod
    def from_settings(cls, settings) -> ServingLimits:
        """The limits of `powercast.config.Settings` (`POWERCAST_SERVING_MAX_BODY_BYTES` and the rest)."""
        return cls(
            settings.serving_max_body_bytes,
            settings.serving_max_readings,
            settings.serving_max_concurrent_forecasts,
            settings.serving_forecast_wait_s,
        )


class BodyTooLarge(HTTPException):
    """Raised while a body streams in past the limit; FastAPI answers it as the 413 it carries."""

    def __init__(self, max_bytes: int):
        super().__init__(413, body_too_large(max_bytes))


def body_too_large(max_bytes: int) -> str:
    return (
        f"the request body is larger than {max_bytes} bytes (POWERCAST_SERVING_MAX_BODY_BYTES): "
        "send fewer readings per request, or the smaller `columns` shape"
    )


def _content_length(scope) -> int | None | str:
    """The declared body length; None when there is none, "invalid" when it is not a number."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            return int(value) if value.isdigit() else "invalid"
    return None


class BodyLimit:
    """ASGI middleware: 413 for a body over `max_bytes`, by its Content-Length or while it is received."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared == "invalid":
            await JSONResponse({"detail": "Content-Length is not a number"}, 400)(scope, receive, send)
            return
        if declared is not None and declared > self.max_bytes:
            await JSONResponse({"detail": body_too_large(self.max_bytes)}, 413)(scope, receive, send)
            return
        received, started = 0, False

        async def counted():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def watched(message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge as exc:  # raised where nothing answered it (outside a FastAPI route)
            if not started:
                await JSONResponse({"detail": exc.detail}, 413)(scope, receive, send)


class ForecastSlots:
    """ASGI middleware: at most `slots` requests to `path` (POST) in progress; the rest wait up to `wait_s`
    for a slot, then get 503 with Retry-After."""

    def __init__(self, app, slots: int, wait_s: float, path: str = "/forecast"):
        self.app = app
        self.slots = slots
        self.wait_s = wait_s
        self.path = path
        self._loop = None
        self._semaphore: asyncio.Semaphore | None = None

    def semaphore(self) -> asyncio.Semaphore:
        """The slots of the running event loop (a test client may run the app on several loops in turn)."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop, self._semaphore = loop, asyncio.Semaphore(self.slots)
        return self._semaphore

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        semaphore = self.semaphore()
        if not await _acquire(semaphore, self.wait_s):
            busy = JSONResponse(
                {"detail": f"the service is busy ({self.slots} forecasts in progress): retry in a moment"},
                503,
                headers={"Retry-After": str(BUSY_RETRY_AFTER_S)},
            )
            await busy(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            semaphore.release()


async def _acquire(semaphore: asyncio.Semaphore, wait_s: float) -> bool:
    """Take a slot, waiting up to `wait_s` for one; False when none came free."""
    if not semaphore.locked():
        await semaphore.acquire()
        return True
    try:
        await asyncio.wait_for(semaphore.acquire(), wait_s)
    except TimeoutError:
        return False
    return True
