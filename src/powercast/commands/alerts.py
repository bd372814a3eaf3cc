"""`powercast alerts serve|grafana-password`: the receiver of Grafana's alerts, and Grafana's database role."""

from __future__ import annotations

import typer

from powercast.commands._context import settings
from powercast.commands._group import group

app = group("Receive Grafana's alert notifications; set up Grafana's read-only database role.")


@app.command()
def serve(
    ctx: typer.Context,
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
) -> None:
    """Store the alerts Grafana's webhook contact point posts (POST /grafana/alerts) in the `alerts` table."""
    import uvicorn

    from powercast.monitoring.alerts_app import WEBHOOK_PATH, create_app
    from powercast.stack.process import require_free_port

    s = settings(ctx)
    require_free_port(host, s.alerts_port, "POWERCAST_ALERTS_PORT")
    typer.echo(f"alerts receiver on http://{host}:{s.alerts_port}{WEBHOOK_PATH}")
    uvicorn.run(create_app(s.app_database_url), host=host, port=s.alerts_port, log_level="info")


@app.command("grafana-password")
def grafana_password(ctx: typer.Context) -> None:
    """Set the password of Grafana's read-only role from POWERCAST_GRAFANA_DB_PASSWORD; print Grafana's variables."""
    from powercast.monitoring import alerts_role
    from powercast.names import GRAFANA_ROLE

    s = settings(ctx)
    alerts_role.set_grafana_password(s.app_database_url, alerts_role.grafana_password(s))
    typer.echo(f"password of role {GRAFANA_ROLE} set; Grafana's provisioning reads these variables:")
    for name, value in alerts_role.grafana_environment(s).items():
        typer.echo(f"{name}={value}")
