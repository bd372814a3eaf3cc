"""`powercast features`: bring the features_1m table up to date with readings and record a snapshot."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from powercast.commands._context import settings
from powercast.errors import PowercastError


def _utc(value: datetime | None, option: str) -> datetime | None:
    if value is None:
        return None
    if value.second or value.microsecond:
        raise PowercastError(f"{option} {value} is not a minute boundary", "give a time like 2026-11-25T12:00")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


_FORMATS = [
    "%Y-%m-%d",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M%z",
    "%Y-%m-%dT%H:%M:%S%z",
]


def features(
    ctx: typer.Context,
    since: datetime = typer.Option(
        None, "--since", formats=_FORMATS, help="First minute to cover (UTC, e.g. 2026-11-25T00:00)."
    ),
    until: datetime = typer.Option(None, "--until", formats=_FORMATS, help="End of the range, exclusive (UTC)."),
    full: bool = typer.Option(False, "--full", help="Recompute every minute in range, not only new ones."),
) -> None:
    """Compute one-minute aggregates per machine from readings into features_1m (only new or late minutes,
    unless --full) and record a feature snapshot. Safe to run again: unchanged minutes are not rewritten."""
    since, until = _utc(since, "--since"), _utc(until, "--until")
    if since and until and since >= until:
        raise PowercastError("--since must be before --until", "swap or fix the two times")
    from tqdm import tqdm

    from powercast.jobs.features import snapshot_features

    with tqdm(total=0, unit="chunk", desc="features_1m", leave=False, disable=None) as bar:
        run = snapshot_features(settings(ctx), since=since, until=until, full=full, progress=bar)
    typer.echo(f"snapshot {run.snapshot_id} ({run.mode}: {run.reason})")
    if run.range_start is None:
        typer.echo("nothing new: no minutes to recompute")
        return
    start, end = run.range_start.astimezone(UTC), run.range_end.astimezone(UTC)
    typer.echo(
        f"covered {start:%Y-%m-%d %H:%M} .. {end:%Y-%m-%d %H:%M} UTC, {len(run.machines)} machine(s), "
        f"{run.minutes_recomputed} minute(s) recomputed, {run.row_count} row(s) written, {run.duration_s:.1f}s"
    )
    if run.row_count == 0:
        typer.echo("nothing new: every recomputed minute was already up to date")
