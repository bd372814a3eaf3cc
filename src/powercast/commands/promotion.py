"""`powercast promote` and `powercast rollback`: champion/challenger decisions, recorded."""

from __future__ import annotations

import getpass

import typer

from powercast.commands._context import settings
from powercast.training.defaults import DEFAULT_HOURS, DEFAULT_MARGIN


def _who() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli"


def promote(
    ctx: typer.Context,
    margin: float = typer.Option(
        DEFAULT_MARGIN, help="Relative MAE improvement over the champion required (0.02 = 2%)."
    ),
    hours: float = typer.Option(
        DEFAULT_HOURS,
        help="Length of the most recent holdout, in hours; it starts after the newest training data of both models.",
    ),
    triggered_by: str = typer.Option(None, "--by", help="Who or what triggers the decision (default: cli:<user>)."),
) -> None:
    """Evaluate champion and challenger on the latest holdout; promote the challenger when it wins."""
    from powercast.jobs.promotion import promote_challenger

    with _spinner("evaluating champion and challenger on the holdout"):
        result = promote_challenger(settings(ctx), margin=margin, hours=hours, triggered_by=triggered_by or _who())
    rec = result.record
    typer.echo(
        f"{rec.outcome}: challenger v{rec.challenger_version} MAE {_f(rec.challenger_mae)}, "
        f"champion {('v' + rec.champion_version) if rec.champion_version else 'none'} MAE "
        f"{_f(rec.champion_mae)}, persistence MAE {_f(rec.persistence_mae)}"
    )
    typer.echo(f"  {rec.reason}")
    typer.echo(
        f"  holdout {rec.holdout_start:%Y-%m-%d %H:%M} .. {rec.holdout_end:%H:%M} UTC (issue times), "
        f"after both models' training data"
    )
    typer.echo(
        f"  champion now: {('v' + rec.new_champion_version) if rec.new_champion_version else 'none'} "
        f"(decision #{result.record_id})"
    )


def rollback(
    ctx: typer.Context,
    reason: str = typer.Option("manual rollback", help="Why the champion is rolled back (recorded)."),
    triggered_by: str = typer.Option(None, "--by", help="Who or what triggers the rollback (default: cli:<user>)."),
) -> None:
    """Restore the previous champion and record the rollback."""
    from powercast.jobs.promotion import rollback_champion

    result = rollback_champion(settings(ctx), triggered_by=triggered_by or _who(), reason=reason)
    rec = result.record
    typer.echo(
        f"rolled back: champion v{rec.champion_version} -> v{rec.new_champion_version} (decision #{result.record_id})"
    )


def _f(value) -> str:
    return "-" if value is None else f"{value:.4g}"


def _spinner(text: str):
    from rich.console import Console

    return Console(stderr=True).status(text)


def history(
    ctx: typer.Context,
    limit: int = typer.Option(20, help="How many decisions to list."),
) -> None:
    """List the latest promotion decisions and which version was champion when."""
    from powercast.db.connection import connect
    from powercast.training.promotion_log import champion_history, decisions, serving_history

    conn = connect(settings(ctx).app_database_url)
    try:
        recent, periods, served = decisions(conn, limit), champion_history(conn), serving_history(conn)
    finally:
        conn.close()
    typer.echo("decisions (newest first):")
    for row in recent.itertuples(index=False):
        typer.echo(
            f"  #{row.id} {row.decided_at:%Y-%m-%d %H:%M:%S} {row.action:<8} {row.outcome:<11} "
            f"champion {row.champion_version or '-'} challenger {row.challenger_version or '-'} "
            f"-> {row.new_champion_version or '-'}  by {row.triggered_by}: {row.reason}"
        )
    typer.echo("champion periods:")
    for row in periods.itertuples(index=False):
        until = f"{row.valid_to:%Y-%m-%d %H:%M:%S}" if row.valid_to is not None and not _isnat(row.valid_to) else "now"
        typer.echo(
            f"  v{row.version}  {row.valid_from:%Y-%m-%d %H:%M:%S} .. {until}  ({row.action} by {row.triggered_by})"
        )
    typer.echo("stored forecasts by model version:")
    for row in served.itertuples(index=False):
        typer.echo(
            f"  v{row.model_version} ({row.model_name})  issued {row.first_issue_ts:%Y-%m-%d %H:%M} .. "
            f"{row.last_issue_ts:%Y-%m-%d %H:%M}, {row.forecasts} forecasts for {row.machines} machines"
        )


def _isnat(value) -> bool:
    import pandas as pd

    return bool(pd.isna(value))
