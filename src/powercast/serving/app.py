"""The forecasting service's HTTP API (FastAPI): forecasts on request, stored forecasts, health.

OpenAPI page at `/docs`. `POST /forecast` takes the readings as a list of objects or as parallel arrays
(`powercast.serving.forecast_request`); a request for one machine is scored on that machine's arrays
(`ForecasterModel.score_machine`, the same forecast without building frames), several machines as a frame.
Errors (`powercast.serving.replies`, each a few KB at most, none echoing the input): a reading breaking the
event rules, too little recent data or unreadable readings -> 422 naming the field and row, or the machines;
a body over the size limit or too many readings -> 413; all forecast slots busy -> 503 with Retry-After
(`powercast.serving.limits`); no champion registered (or registry down before the first load), or the database
down for a stored forecast -> 503 with the reason and Retry-After.
"""

from __future__ import annotations

import gc
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated

import numpy as np
import pandas as pd
from fastapi import FastAPI, HTTPException, Path
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from powercast.features.spec import HORIZON
from powercast.scoring.model import BadReadings, MachineScore
from powercast.serving.access import ApiAccess, BearerToken, HostCheck
from powercast.serving.champion import ChampionHolder
from powercast.serving.fleet import FleetScheduler
from powercast.serving.forecast_request import (
    ForecastRequest,
    check_readings,
    machine_readings,
    reading_count,
    readings_frame,
)
from powercast.serving.health import Health, health_of
from powercast.serving.limits import BodyLimit, ForecastSlots, ServingLimits
from powercast.serving.replies import OUTAGE_RETRY_AFTER_S, TooManyReadings, add_error_handlers, error_responses
from powercast.stream.events import MACHINE_ID_MAX_LENGTH, MACHINE_ID_PATTERN

MachineIdInPath = Annotated[
    str, Path(min_length=1, max_length=MACHINE_ID_MAX_LENGTH, pattern=MACHINE_ID_PATTERN, description="a machine id")
]


class ForecastPoint(BaseModel):
    step: int
    ts: datetime
    yhat: float
    yhat_lo: float | None
    yhat_hi: float | None


class MachineForecast(BaseModel):
    machine_id: str
    issue_ts: datetime
    model_name: str
    model_version: str
    points: list[ForecastPoint]


class ForecastResponse(BaseModel):
    forecasts: list[MachineForecast]


def machine_forecasts(forecast: pd.DataFrame, model_name: str, model_version: str) -> list[MachineForecast]:
    """One MachineForecast per (machine, issue time) of a forecast frame, points in step order."""
    forecast = forecast.sort_values(["machine_id", "issue_ts", "step"], kind="stable")
    machines = forecast["machine_id"].astype(str).to_numpy()
    issues, times = forecast["issue_ts"].tolist(), forecast["ts"].tolist()
    steps = forecast["step"].to_numpy(np.int64)
    yhat, lo, hi = (forecast[c].to_numpy(float) for c in ("yhat", "yhat_lo", "yhat_hi"))
    starts = [i for i in range(len(forecast)) if i == 0 or (machines[i], issues[i]) != (machines[i - 1], issues[i - 1])]
    out = []
    for start, stop in zip(starts, [*starts[1:], len(forecast)]):
        points = [
            ForecastPoint(
                step=int(steps[i]), ts=times[i], yhat=float(yhat[i]), yhat_lo=_opt(lo[i]), yhat_hi=_opt(hi[i])
            )
            for i in range(start, stop)
        ]
        out.append(
            MachineForecast(
                machine_id=machines[start],
                issue_ts=issues[start],
                model_name=model_name,
                model_version=str(model_version),
                points=points,
            )
        )
    return out


def machine_forecast(score: MachineScore, model_name: str, model_version: str) -> MachineForecast:
    """The MachineForecast of one machine's score (the same document `machine_forecasts` gives)."""
    times = [score.issue_ts + pd.Timedelta(minutes=i) for i in range(len(score.yhat))]
    points = [
        ForecastPoint(
            step=i + 1,
            ts=times[i],
            yhat=float(score.yhat[i]),
            yhat_lo=_opt(score.yhat_lo[i]),
            yhat_hi=_opt(score.yhat_hi[i]),
        )
        for i in range(len(score.yhat))
    ]
    return MachineForecast(
        machine_id=score.machine_id,
        issue_ts=score.issue_ts,
        model_name=model_name,
        model_version=str(model_version),
        points=points,
    )


def _opt(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def create_app(
    holder: ChampionHolder,
    database_url: str | None = None,
    *,
    poll_s: float | None = 10.0,
    fleet_every_minute: bool = False,
    limits: ServingLimits | None = None,
    access: ApiAccess | None = None,
) -> FastAPI:
    """The API around `holder`. With `poll_s` the alias is re-checked that often; with `fleet_every_minute`
    (needs `database_url`) every active machine is forecast at each minute and stored. `limits` and `access`
    (token, allowed Host names) default to the `POWERCAST_SERVING_*` and `POWERCAST_API_*` settings."""
    if limits is None or access is None:
        from powercast.config import Settings

        settings = Settings()
        limits = limits or ServingLimits.from_settings(settings)
        access = access or ApiAccess.from_settings(settings)
    scheduler = FleetScheduler(database_url, holder) if (fleet_every_minute and database_url) else None

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        holder.refresh()
        # the libraries and the model are loaded for good: keep the collector from re-scanning them (a full
        # collection over them stalls one request in a few hundred by 100+ ms)
        gc.collect()
        gc.freeze()
        if poll_s:
            holder.start_polling(poll_s)
        if scheduler:
            scheduler.start()
        yield
        holder.stop()
        if scheduler:
            scheduler.stop()
        gc.unfreeze()  # hand everything back to the collector, so that shutdown frees it

    app = FastAPI(
        title="powercast forecasting service",
        version="1",
        description=f"Power forecasts {HORIZON} one-minute steps ahead, point and 10%-90% band, "
        "from the champion model of the MLflow registry.",
        lifespan=lifespan,
    )
    app.state.holder, app.state.scheduler, app.state.limits = holder, scheduler, limits
    # the last added runs first: an oversized body is refused before it waits for a forecast slot
    app.add_middleware(ForecastSlots, slots=limits.max_concurrent_forecasts, wait_s=limits.forecast_wait_s)
    app.add_middleware(BodyLimit, max_bytes=limits.max_body_bytes)
    # ... and before that, a request from an unknown Host or without the token is refused
    if access.token:
        app.add_middleware(BearerToken, token=access.token)
    app.add_middleware(HostCheck, allowed=access.allowed_hosts)
    add_error_handlers(app)

    @app.get(
        "/health",
        response_model=Health,
        responses={503: {"description": "no model to serve"}},
    )
    def health():
        """The model served and each dependency (champion, registry, database); `degraded` when one is down."""
        document = health_of(holder, database_url, scheduler.last if scheduler else None)
        if document.status == "no_model":
            retry = {"Retry-After": str(OUTAGE_RETRY_AFTER_S)}
            return JSONResponse(status_code=503, content=document.model_dump(mode="json"), headers=retry)
        return document

    @app.post(
        "/forecast",
        response_model=ForecastResponse,
        responses=error_responses(
            {
                400: "a body that is not JSON",
                413: "body or readings over the limit",
                422: "a reading breaking the rules, or too little recent data",
                503: "no model, or every forecast slot busy",
            }
        ),
    )
    def forecast(request: ForecastRequest) -> Response:
        """Forecast each machine in the readings from the minute after its last reading."""
        count = reading_count(request)
        if count > limits.max_readings:
            raise TooManyReadings(
                f"{count} readings in one request, at most {limits.max_readings} (POWERCAST_SERVING_MAX_READINGS)",
                "send the machines over several requests",
            )
        check_readings(request)
        loaded = holder.current
        one = machine_readings(request) if hasattr(loaded.model, "score_machine") else None
        if one is not None:  # one machine: scored on arrays, without building frames
            forecasts = [machine_forecast(loaded.model.score_machine(one), loaded.name, loaded.version)]
        else:
            readings = readings_frame(request)
            if readings.empty:
                raise BadReadings("no readings sent", "send the recent readings of at least one machine")
            forecasts = machine_forecasts(loaded.model.score(readings).forecast, loaded.name, loaded.version)
        response = ForecastResponse(forecasts=forecasts)
        # already validated: serialise it directly instead of letting FastAPI dump, re-validate and encode it
        return Response(response.model_dump_json(), media_type="application/json")

    @app.get(
        "/forecasts/{machine_id}",
        response_model=MachineForecast,
        responses=error_responses(
            {
                404: "no forecast stored for this machine",
                422: "a machine id that breaks the id pattern",
                503: "the database cannot be reached",
            }
        ),
    )
    def stored_forecast(machine_id: MachineIdInPath) -> MachineForecast:
        """The latest forecast the service issued and stored for one machine."""
        if database_url is None:
            raise HTTPException(404, "this service runs without a database")
        from powercast.serving.forecasts import stored_forecast

        frame = stored_forecast(database_url, machine_id)
        if frame.empty:
            raise HTTPException(404, f"no forecast stored for machine {machine_id}")
        frame["issue_ts"] = pd.to_datetime(frame["issue_ts"], utc=True)
        return machine_forecasts(frame, frame["model_name"].iloc[0], frame["model_version"].iloc[0])[0]

    return app
