"""Grafana's PostgreSQL data source, as far as a query's text goes: variables, `$__interval`, macros.

What Grafana does to a panel's or alert rule's SQL before PostgreSQL sees it, in its order:
1. the dashboard's template variables (the browser does this): a variable that is multi-value or has "All" is
   written as quoted literals joined by commas (`'M-001','M-002'`), a single-value one as its text with quotes
   doubled (so the query writes `'$machine'`);
2. `$__interval_ms`, `$__interval` (written as Grafana formats durations: 500ms, 10s, 1m, 2h, 1d),
   `$__unixEpochFrom()`, `$__unixEpochTo()`;
3. the macros, matched by `$name(arguments)` where the arguments hold no parenthesis:
   `$__timeFilter(c)` -> `c BETWEEN 'from' AND 'to'` (RFC 3339, UTC), `$__timeFrom()`, `$__timeTo()`,
   `$__timeGroup(c, '5m')` -> `floor(extract(epoch from c)/300)*300`, `$__timeGroupAlias` -> the same `AS "time"`,
   `$__time(c)`, `$__timeEpoch(c)`, `$__unixEpochFilter(c)`, `$__unixEpochGroup(c, '5m')`(`Alias`).
An unknown macro is an error, as in Grafana.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

_MACRO = re.compile(r"\$([_a-zA-Z0-9]+)\(([^)]*)\)")
_VARIABLE = re.compile(r"\$\{(\w+)\}|\[\[(\w+)\]\]|\$(\w+)")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)$")
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800, "y": 31_536_000}


class MacroError(ValueError):
    """A query Grafana would refuse to expand."""


def rfc3339(ts: datetime) -> str:
    """Go's time.RFC3339Nano in UTC: trailing zeros of the fraction dropped, `Z` for the zone."""
    ts = ts.astimezone(UTC)
    text = ts.strftime("%Y-%m-%dT%H:%M:%S")
    if ts.microsecond:
        text += f".{ts.microsecond:06d}".rstrip("0")
    return text + "Z"


def format_interval(interval: timedelta) -> str:
    """Grafana's gtime.FormatInterval: the largest whole unit."""
    ms = int(interval / timedelta(milliseconds=1))
    for unit, size in (("y", 31_536_000_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000)):
        if ms >= size:
            return f"{ms // size}{unit}"
    return f"{max(ms, 1)}ms"


def parse_interval(text: str) -> float:
    """Seconds of an interval argument such as `5m` or `'10s'`."""
    match = _DURATION.match(text.strip().strip("'"))
    if not match:
        raise MacroError(f"invalid interval {text!r}")
    return float(match.group(1)) * _SECONDS[match.group(2)]


def _number(value: float) -> str:
    """Go's %v of a float64: integers without a fraction."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def nice_interval(span: timedelta, max_points: int = 1000, minimum: str | None = None) -> timedelta:
    """The `$__interval` Grafana picks for a time range: span / points, rounded to a round duration, >= minimum."""
    raw = span.total_seconds() / max_points
    steps = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600]
    steps += [7200, 10_800, 21_600, 43_200, 86_400, 604_800, 2_592_000, 31_536_000]
    seconds = next((s for s in steps if s >= raw), steps[-1])
    if minimum:
        seconds = max(seconds, parse_interval(minimum))
    return timedelta(seconds=seconds)


def format_variable(value: str | Sequence[str], *, multi: bool) -> str:
    """How Grafana's SQL data sources write a variable's value into the query."""
    if isinstance(value, str) and not multi:
        return value.replace("'", "''")
    values = [value] if isinstance(value, str) else list(value)
    return ",".join("'" + v.replace("'", "''") + "'" for v in values)


def expand(
    sql: str,
    *,
    time_from: datetime,
    time_to: datetime,
    interval: timedelta = timedelta(seconds=10),
    variables: Mapping[str, str | Sequence[str]] | None = None,
    multi: frozenset[str] | set[str] = frozenset(),
) -> str:
    """The SQL Grafana sends to PostgreSQL for this query, time range, interval and variable values."""
    variables = dict(variables or {})

    def variable(match: re.Match) -> str:
        name = match.group(1) or match.group(2) or match.group(3)
        if name not in variables:
            return match.group(0)
        return format_variable(variables[name], multi=name in multi)

    sql = _VARIABLE.sub(variable, sql)
    sql = sql.replace("$__interval_ms", str(int(interval / timedelta(milliseconds=1))))
    sql = sql.replace("$__interval", format_interval(interval))
    sql = sql.replace("$__unixEpochFrom()", str(int(time_from.timestamp())))
    sql = sql.replace("$__unixEpochTo()", str(int(time_to.timestamp())))
    frm, to = rfc3339(time_from), rfc3339(time_to)

    def macro(match: re.Match) -> str:
        name = match.group(1)
        args = [a.strip() for a in match.group(2).split(",")]
        if name == "__time":
            return f'{args[0]} AS "time"'
        if name == "__timeEpoch":
            return f'extract(epoch from {args[0]}) as "time"'
        if name == "__timeFilter":
            return f"{args[0]} BETWEEN '{frm}' AND '{to}'"
        if name == "__timeFrom":
            return f"'{frm}'"
        if name == "__timeTo":
            return f"'{to}'"
        if name in ("__timeGroup", "__timeGroupAlias"):
            if len(args) < 2:
                raise MacroError(f"macro {name} needs time column and interval")
            seconds = _number(parse_interval(args[1]))
            group = f"floor(extract(epoch from {args[0]})/{seconds})*{seconds}"
            return group + (' AS "time"' if name == "__timeGroupAlias" else "")
        if name == "__unixEpochFilter":
            return f"{args[0]} >= {int(time_from.timestamp())} AND {args[0]} <= {int(time_to.timestamp())}"
        if name in ("__unixEpochGroup", "__unixEpochGroupAlias"):
            seconds = _number(parse_interval(args[1]))
            group = f"floor(({args[0]})/{seconds})*{seconds}"
            return group + (' AS "time"' if name == "__unixEpochGroupAlias" else "")
        raise MacroError(f"undefined macro: ${name}")

    expanded = _MACRO.sub(macro, sql)
    leftover = re.search(r"\$(\w+)", expanded)
    if leftover:
        raise MacroError(f"${leftover.group(1)} left in the query after expansion")
    return expanded
