"""The HTTP receiver of Grafana's webhook contact point (`powercast alerts serve`).

`POST /grafana/alerts` takes Grafana's notification body and stores its alerts (`powercast.monitoring.alerts`):
200 with what changed; 400 with a short reason for a body that is not such a notification; 503 when the
database cannot take the write (Grafana retries). It never answers 500. `GET /alerts` lists the latest stored
alerts, `GET /health` says whether the database answers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import psycopg2
from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse

from powercast.db.connection import connect
from powercast.errors import PowercastError
from powercast.monitoring.alerts import AlertPayloadError, parse_notification, store_alerts
from powercast.names import ALERTS_TABLE

log = logging.getLogger(__name__)
WEBHOOK_PATH = "/grafana/alerts"
_LATEST = f"""
SELECT id, alertname, status, machine_id, severity, starts_at, ends_at, labels, annotations, received_at
FROM {ALERTS_TABLE} ORDER BY starts_at DESC, id DESC LIMIT %s
"""  # noqa: S608 - identifiers are code constants (powercast.names); values are bound parameters


def create_app(database_url: str, *, connector: Callable = connect) -> FastAPI:
    """The receiver; each request opens its own short connection (notifications come seconds apart at most)."""
    app = FastAPI(title="powercast alerts", description="Receives Grafana's alert notifications.")

    def unavailable(exc: Exception) -> JSONResponse:
        log.warning("alerts not stored: %s", exc)
        return JSONResponse({"error": "database unavailable, alerts not stored"}, status_code=503)

    @app.post(WEBHOOK_PATH)
    async def receive(request: Request) -> JSONResponse:
        try:
            alerts = parse_notification(await request.body())
        except AlertPayloadError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        try:
            conn = connector(database_url)
            try:
                result = store_alerts(conn, alerts)
            finally:
                conn.close()
        except (PowercastError, psycopg2.Error) as exc:
            return unavailable(exc)
        log.info("stored %d alert(s): %d new, %d updated", len(alerts), result.inserted, result.updated)
        return JSONResponse(
            {
                "received": len(alerts),
                "inserted": result.inserted,
                "updated": result.updated,
                "unchanged": result.unchanged,
            }
        )

    @app.get("/alerts")
    def latest(limit: int = Query(50, ge=1, le=1000)) -> JSONResponse:
        try:
            conn = connector(database_url)
            try:
                with conn.cursor() as cur:
                    cur.execute(_LATEST, (limit,))
                    names = [c.name for c in cur.description]
                    rows = [dict(zip(names, row)) for row in cur.fetchall()]
            finally:
                conn.close()
        except (PowercastError, psycopg2.Error) as exc:
            return unavailable(exc)
        for row in rows:
            for key in ("starts_at", "ends_at", "received_at"):
                row[key] = row[key].isoformat() if row[key] else None
        return JSONResponse({"alerts": rows})

    @app.get("/health")
    def health() -> JSONResponse:
        try:
            connector(database_url).close()
        except (PowercastError, psycopg2.Error) as exc:
            return JSONResponse({"status": "unavailable", "reason": str(exc)}, status_code=503)
        return JSONResponse({"status": "ok"})

    @app.exception_handler(Exception)
    async def _anything_else(request: Request, exc: Exception) -> JSONResponse:
        log.exception("alerts receiver failed on %s", request.url.path)
        return JSONResponse({"error": f"receiver failed ({type(exc).__name__}), alerts not stored"}, status_code=503)

    return app
