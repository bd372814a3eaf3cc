"""`powercast serve`: the forecasting service."""

from __future__ import annotations

import typer

from powercast.commands._context import settings
from powercast.errors import PowercastError


def serve(
    ctx: typer.Context,
    poll_s: float = typer.Option(10.0, "--poll", help="Seconds between checks of the champion alias."),
    fleet: bool = typer.Option(
        True, "--fleet/--no-fleet", help="Forecast every active machine each minute and store it in `forecasts`."
    ),
    host: str = typer.Option(
        "127.0.0.1", help="Address to listen on; beyond loopback only with POWERCAST_API_TOKEN set."
    ),
) -> None:
    """Serve the champion model over HTTP (OpenAPI page at /docs) and forecast the fleet every minute."""
    from powercast.serving.access import ApiAccess, require_token_beyond_loopback
    from powercast.stack.process import require_free_port

    s = settings(ctx)
    access = ApiAccess.from_settings(s, bind_host=host)
    require_token_beyond_loopback(host, access.token)
    require_free_port(host, s.serving_port, "POWERCAST_SERVING_PORT")
    import uvicorn

    from powercast.serving.app import create_app
    from powercast.serving.champion import registry_holder

    app = create_app(registry_holder(s), s.app_database_url, poll_s=poll_s, fleet_every_minute=fleet, access=access)
    typer.echo(f"forecasting service on http://{host}:{s.serving_port} (docs at /docs)")
    uvicorn.run(app, host=host, port=s.serving_port, log_level="info")


def score(ctx: typer.Context) -> None:
    """Forecast every active machine once with the champion and store the forecasts (what the service does
    every minute)."""
    from powercast.jobs.serving import score_fleet_once

    run = score_fleet_once(settings(ctx))
    if run.error:
        raise PowercastError(f"no forecasts issued: {run.error}", "train and promote a model first")
    typer.echo(
        f"issued {run.issue_ts:%Y-%m-%d %H:%M} UTC with version {run.model_version}: {run.machines} machine(s), "
        f"{run.forecast_rows} row(s) written, {len(run.skipped)} skipped (too little history), {run.seconds:.1f}s"
    )
