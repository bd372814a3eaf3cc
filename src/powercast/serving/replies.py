"""The service's error replies: short (a few KB at most), and never an echo of what the client sent.

Validation errors (FastAPI's `RequestValidationError`, and `InvalidReading` for the reading rules the types cannot
state) answer 422 with one line naming the first field and row at fault and the first few problems, without the
input pydantic attaches to each error. A dependency that is down (the database, the registry) answers 503 with
`Retry-After`.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from powercast.errors import InsufficientHistory, PowercastError
from powercast.scoring.model import BadReadings
from powercast.serving.champion import NoModel
from powercast.serving.forecast_request import InvalidReading

MAX_DETAIL_CHARS = 1000
MAX_LISTED = 5  # errors, or machines short of history, listed in one reply
MAX_MESSAGE_CHARS = 200
OUTAGE_RETRY_AFTER_S = 10


class Problem(BaseModel):
    """One validation problem: where (pydantic's location), what, and its error type."""

    loc: list[str | int]
    msg: str
    type: str


class ErrorReply(BaseModel):
    """Every error reply of the service: one line of detail, and for validation errors the first few problems
    or the machines short of history (what each one lacks)."""

    detail: str
    errors: list[Problem] | None = None
    machines: dict[str, str] | None = None
    machines_not_listed: int | None = None


def error_responses(descriptions: dict[int, str]) -> dict[int | str, dict]:
    """OpenAPI `responses` for the given status codes, each replying an `ErrorReply` (replacing FastAPI's own
    422 schema, which the service's short validation replies do not follow)."""
    return {code: {"model": ErrorReply, "description": text} for code, text in descriptions.items()}


class Unavailable(PowercastError):
    """Something the answer needs (the database) cannot be reached now; worth retrying later."""


class TooManyReadings(PowercastError):
    """A request carrying more readings than the service takes in one go."""


def short(text: str, limit: int = MAX_DETAIL_CHARS) -> str:
    """`text` cut to `limit` characters, marked when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def where(loc) -> str:
    """A pydantic error location as a path: ("body", "readings", 12, "value") -> "readings[12].value"."""
    parts = list(loc[1:]) if len(loc) > 1 and loc[0] == "body" and isinstance(loc[1], str) else list(loc)
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f"{'.' if out else ''}{str(part)[:64]}"
    return out or "body"


def _problem(error: dict) -> dict:
    """One validation error without its input: where, what, and pydantic's error type."""
    message = error["msg"]
    if error["type"] == "json_invalid" and error.get("ctx", {}).get("error"):
        message = f"{message} ({error['ctx']['error']})"
    return {
        "loc": [str(p)[:64] if isinstance(p, str) else p for p in error["loc"]],
        "msg": short(message, MAX_MESSAGE_CHARS),
        "type": str(error["type"])[:64],
    }


def invalid_reply(problems: list[dict], total: int) -> JSONResponse:
    """422: the first problem as the detail line, the first few listed."""
    first = problems[0]
    detail = f"{where(first['loc'])}: {first['msg']}"
    if total > 1:
        detail += f" (and {total - 1} more problem{'s' if total > 2 else ''})"
    return JSONResponse(status_code=422, content={"detail": detail, "errors": problems[:MAX_LISTED]})


def add_error_handlers(app: FastAPI) -> None:
    """The replies of the service's own errors, and FastAPI's validation reply replaced by a short one."""

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_, exc: RequestValidationError):
        errors = exc.errors()
        if not errors:
            return JSONResponse(status_code=422, content={"detail": "the request is not valid"})
        return invalid_reply([_problem(e) for e in errors[:MAX_LISTED]], len(errors))

    @app.exception_handler(InvalidReading)
    async def invalid_reading(_, exc: InvalidReading):
        problem = {"loc": list(exc.loc), "msg": short(exc.message, MAX_MESSAGE_CHARS), "type": "reading_rule"}
        return invalid_reply([problem], 1)

    @app.exception_handler(TooManyReadings)
    async def too_many(_, exc: TooManyReadings):
        return JSONResponse(status_code=413, content={"detail": short(str(exc))})

    @app.exception_handler(NoModel)
    async def no_model(_, exc: NoModel):
        return JSONResponse(
            status_code=503,
            content={"detail": short(str(exc))},
            headers={"Retry-After": str(OUTAGE_RETRY_AFTER_S)},
        )

    @app.exception_handler(Unavailable)
    async def unavailable(_, exc: Unavailable):
        return JSONResponse(
            status_code=503,
            content={"detail": short(str(exc))},
            headers={"Retry-After": str(OUTAGE_RETRY_AFTER_S)},
        )

    @app.exception_handler(InsufficientHistory)
    async def too_little(_, exc: InsufficientHistory):
        listed = dict(sorted(exc.shortfalls.items())[:MAX_LISTED])
        content = {"detail": short(exc.message), "machines": listed}
        if len(exc.shortfalls) > len(listed):
            content["machines_not_listed"] = len(exc.shortfalls) - len(listed)
        return JSONResponse(status_code=422, content=content)

    @app.exception_handler(BadReadings)
    async def bad_readings(_, exc: BadReadings):
        return JSONResponse(status_code=422, content={"detail": short(str(exc))})
