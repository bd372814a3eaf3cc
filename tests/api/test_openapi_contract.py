"""The forecasting API against its own OpenAPI document (schemathesis): every operation, generated valid and
invalid input, no 5xx, and every reply matches the status codes, media types, headers and schemas the document
declares. In-process over ASGI, with a champion loaded and the session's real PostgreSQL behind
`/forecasts/{machine_id}` (the outage answer, 503, is tested in tests/unit/test_serving_limits.py)."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from powercast.scoring.model import ForecasterModel, minute_frame
from powercast.serving.access import ApiAccess
from powercast.serving.app import create_app
from powercast.serving.champion import ChampionHolder
from powercast.serving.limits import ServingLimits
from tests.mlops.fakes import LastValue, long_readings

SCHEMATHESIS_HOST = "testserver"


def _champion() -> ForecasterModel:
    frame = minute_frame(long_readings(minutes=120))
    return ForecasterModel(LastValue(scale=1.0).fit(frame), {"history": 60}, 60, "last_value")


def _app(database_url: str | None):
    holder = ChampionHolder(lambda: "1", lambda version: _champion())
    limits = ServingLimits(max_body_bytes=256 * 1024, max_readings=2000, max_concurrent_forecasts=2, forecast_wait_s=5)
    access = ApiAccess(allowed_hosts=(SCHEMATHESIS_HOST,))  # the Host header schemathesis's ASGI client sends
    return create_app(holder, database_url, poll_s=None, limits=limits, access=access)


# The document does not depend on the database: read it from an app without one, call the one with it.
schema = schemathesis.openapi.from_asgi("/openapi.json", _app(None))


@pytest.fixture(scope="module")
def service(postgres):
    app = _app(postgres.app_database_url)
    with TestClient(app):  # runs the lifespan: the champion is loaded
        yield app


@schema.parametrize()
@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_to_its_schema(case, service):
    # A schema-valid body may still be refused with 422: the rules past the schema (either readings or columns,
    # the timestamp window, an hour of recent history per machine) are business rules a JSON schema cannot state.
    # Every other check stays on: no 5xx, documented status codes, media types, headers and reply schemas, and
    # schema-invalid input refused with a 4xx.
    case.call_and_validate(app=service, excluded_checks=[positive_data_acceptance])
