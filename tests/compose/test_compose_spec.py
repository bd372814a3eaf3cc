"""docker-compose.yml loads the way docker compose v2 loads it (compose-spec schema, interpolation, `name:`,
profiles, `depends_on` conditions): `../shared/tools/compose-check/run` builds compose-go, the loader docker
compose is made of, and needs Go. Its build output is cached under .data/compose-check, so only the first run
compiles."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.compose.project import COMPOSE_FILE, REPO, env_file, raw_project

TOOL = REPO.parent / "shared" / "tools" / "compose-check" / "run"
CACHE = REPO / ".data" / "compose-check"


def _go() -> str | None:
    return shutil.which("go") or next((p for p in ("/usr/local/go/bin/go",) if Path(p).is_file()), None)


def _run(env: dict[str, str], *args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    go = _go()
    if not TOOL.is_file():
        pytest.skip(f"compose-check not found at {TOOL}")
    if go is None:
        pytest.skip("Go is not installed (compose-check builds compose-go with it); e.g. /usr/local/go/bin/go")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("POWERCAST_", "COMPOSE_"))}
    base["PATH"] = os.pathsep.join((str(Path(go).parent), base.get("PATH", "")))
    base["XDG_CACHE_HOME"] = str(CACHE)  # the compiled checker and Go's build cache
    return subprocess.run([str(TOOL), *args], cwd=cwd, env={**base, **env}, capture_output=True, text=True, timeout=900)


def test_compose_file_loads_like_docker_compose():
    result = _run(env_file(), str(COMPOSE_FILE))
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == set(raw_project()["services"])


def test_published_ports_follow_the_bind_address():
    def host_ips(env):
        result = _run(env, "--json", str(COMPOSE_FILE))
        assert result.returncode == 0, result.stderr
        services = json.loads(result.stdout)["services"]
        return {(name, p["host_ip"]) for name, s in services.items() for p in s.get("ports") or []}

    default = host_ips(env_file())
    assert default and {ip for _, ip in default} == {"127.0.0.1"}
    opened = host_ips({**env_file(), "POWERCAST_BIND_ADDRESS": "0.0.0.0"})
    assert {name for name, _ in opened} == {name for name, _ in default}
    assert {ip for _, ip in opened} == {"0.0.0.0"}


def test_a_missing_secret_stops_compose_with_its_name(tmp_path):
    # a copy without .env beside it: only the variables given here exist
    shutil.copy(COMPOSE_FILE, tmp_path / "docker-compose.yml")
    env = {k: v for k, v in env_file().items() if k != "POWERCAST_DB_PASSWORD"}
    result = _run(env, str(tmp_path / "docker-compose.yml"), cwd=tmp_path)
    assert result.returncode != 0
    assert "POWERCAST_DB_PASSWORD" in result.stderr and "compose.env.example" in result.stderr


def test_scaled_ingestor_is_allowed():
    """`docker compose up --scale ingestor=3` needs replicas without a fixed name or host port."""
    result = _run(env_file(), "--json", str(COMPOSE_FILE))
    assert result.returncode == 0, result.stderr
    ingestor = json.loads(result.stdout)["services"]["ingestor"]
    assert not ingestor.get("container_name")
    assert not ingestor.get("ports")
    assert ingestor["depends_on"]["init"]["condition"] == "service_completed_successfully"
