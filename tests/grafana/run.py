"""Runs a provisioned query the way Grafana would: variables and macros expanded, as the read-only role."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from grafana.generator import macros
from grafana.generator.queries import NUMBER, TEXT, TIME

# PostgreSQL type oids by the kind of column Grafana reads them as
_NUMBERS = {20, 21, 23, 700, 701, 1700}
KINDS = {TIME: {1114, 1184} | _NUMBERS, NUMBER: _NUMBERS, TEXT: {19, 25, 1043}}
_RELATIVE = re.compile(r"^now(?:([+-])(\d+)([smhdw]))?$")
_UNIT = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass
class Result:
    columns: list[tuple[str, int]]  # (name, type oid)
    rows: list[tuple]
    sql: str


def relative_time(text: str, now: datetime) -> datetime:
    """Grafana's `now`, `now-30m`, `now+15m`."""
    match = _RELATIVE.match(text)
    if not match:
        raise ValueError(f"unsupported time {text!r}")
    if not match.group(1):
        return now
    delta = timedelta(**{_UNIT[match.group(3)]: int(match.group(2))})
    return now + delta if match.group(1) == "+" else now - delta


def run(conn, sql: str, time_from: datetime, time_to: datetime, **kwargs) -> Result:
    expanded = macros.expand(sql, time_from=time_from, time_to=time_to, **kwargs)
    with conn.cursor() as cur:
        cur.execute(expanded.replace("%", "%%"))
        columns = [(c.name, c.type_code) for c in cur.description]
        rows = cur.fetchall()
    conn.rollback()
    return Result(columns, rows, expanded)


def variable_values(board: dict, conn, now: datetime) -> tuple[dict[str, list[str] | str], set[str]]:
    """A value for each of the dashboard's variables: query variables from their query, custom ones as set."""
    values, multi = {}, set()
    for variable in board.get("templating", {}).get("list", []):
        name = variable["name"]
        if variable["type"] == "query":
            options = [row[0] for row in run(conn, variable["query"], now - timedelta(hours=1), now).rows]
            assert options, f"variable {name} has no options"
            if variable.get("multi") or variable.get("includeAll"):
                multi.add(name)
                values[name] = options[:2]
            else:
                values[name] = options[0]
        elif variable["type"] == "custom":
            values[name] = variable["current"]["value"]
        else:
            raise AssertionError(f"variable type {variable['type']} not handled by the checks")
    return values, multi


def passes(value: float | None, evaluator: dict) -> bool:
    """Grafana's threshold expression on one number."""
    if value is None:
        return False
    kind, params = evaluator["type"], evaluator["params"]
    if kind == "gt":
        return value > params[0]
    if kind == "lt":
        return value < params[0]
    if kind == "within_range":
        return params[0] < value < params[1]
    if kind == "outside_range":
        return value < params[0] or value > params[1]
    raise AssertionError(f"unknown evaluator {kind}")
