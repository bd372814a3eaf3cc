"""What docker-compose.yml and the Dockerfiles refer to exists in the repository, the build context keeps it
(.dockerignore), every published port binds to POWERCAST_BIND_ADDRESS, the start order is well founded, and the
images' versions follow the project's pins."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import pytest

from powercast.config import Settings
from tests.compose.commands import AIRFLOW_IMAGE_DOCKERFILE, POWERCAST_IMAGE_DOCKERFILE, image_of
from tests.compose.project import BIND_PREFIX, REPO, build_dockerfile, dockerfile, project, raw_project

DOCKERFILES = (POWERCAST_IMAGE_DOCKERFILE, AIRFLOW_IMAGE_DOCKERFILE)


@pytest.fixture(scope="module")
def services():
    return project()["services"]


def _pin(name: str) -> str:
    match = re.search(rf"^{re.escape(name)}==(\S+)$", (REPO / "constraints.txt").read_text(), re.M)
    assert match, f"{name} is not pinned in constraints.txt"
    return match.group(1)


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore's patterns (as Docker reads them: `**/` any folder, a folder excludes its content,
    `!` re-includes) leave `path` out of the build context."""
    ignored = False
    parts = Path(path).parts
    for pattern in patterns:
        keep = pattern.startswith("!")
        pattern = pattern.lstrip("!").strip("/")
        candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if pattern.startswith("**/"):
            candidates += ["/".join(parts[i : j + 1]) for i in range(len(parts)) for j in range(i, len(parts))]
            pattern = pattern[3:]
        if any(fnmatch.fnmatchcase(c, pattern) for c in candidates):
            ignored = not keep
    return ignored


def dockerignore() -> list[str]:
    lines = (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_dockerignore_reading():
    patterns = ["tests", "**/__pycache__", ".env", "docs", "!docs/keep.md"]
    assert dockerignored("tests/unit/test_config.py", patterns)
    assert dockerignored("src/powercast/__pycache__/cli.cpython-311.pyc", patterns)
    assert dockerignored(".env", patterns) and not dockerignored("docker/compose.env.example", patterns)
    assert not dockerignored("docs/keep.md", patterns) and not dockerignored("src/powercast/cli.py", patterns)


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_every_copy_source_is_in_the_build_context(path):
    image = dockerfile(path)
    sources = [source for sources, _ in image.copies for source in sources]
    assert {"constraints.txt", "pyproject.toml", "src", "sql"} <= set(sources)
    for source in sources:
        assert (REPO / source).exists(), f"{path.name}: COPY {source}: no such file in the repository"
        assert not dockerignored(source, dockerignore()), f"{path.name}: COPY {source} is excluded by .dockerignore"


def test_the_local_env_file_stays_out_of_the_images():
    assert dockerignored(".env", dockerignore()) and dockerignored(".venv/bin/python", dockerignore())
    assert dockerignored(".data/cache/kafka-4.4.0/x.jar", dockerignore())


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.name)
def test_paths_the_images_are_configured_with_are_copied(path):
    image = dockerfile(path)
    roots = ("/app/", "/opt/powercast/")
    configured = {k: v for k, v in image.env.items() if k.endswith(("_DIR", "_FOLDER")) and v.startswith(roots)}
    assert configured
    for key, value in configured.items():
        assert image.image_path(value) is not None and image.image_path(value).exists(), f"{key}={value}"


def test_images_run_without_root():
    powercast = dockerfile(POWERCAST_IMAGE_DOCKERFILE)
    assert powercast.base == "python:3.11-slim"
    assert powercast.users and powercast.users[-1] not in ("root", "0")
    airflow = dockerfile(AIRFLOW_IMAGE_DOCKERFILE)
    assert all(user not in ("root", "0") for user in airflow.users[-1:])  # the image's own `airflow` user


def test_airflow_image_is_the_pinned_version():
    airflow = dockerfile(AIRFLOW_IMAGE_DOCKERFILE)
    assert airflow.base == f"apache/airflow:{_pin('apache-airflow')}-python3.11"
    assert any(f"apache-airflow=={_pin('apache-airflow')}" in run for run in airflow.runs)
    requires = re.search(r'requires-python = "(.+)"', (REPO / "pyproject.toml").read_text()).group(1)
    assert ">=3.11" in requires and "<3.12" in requires


def test_images_install_the_lock():
    for path in DOCKERFILES:
        assert any("-c" in run.split() and "constraints.txt" in run for run in dockerfile(path).runs), path.name


def test_kafka_has_the_embedded_brokers_major_version(services):
    image = services["kafka"]["image"]
    assert image.startswith("apache/kafka:")
    embedded = Settings.model_fields["kafka_version"].default
    assert image.split(":")[1].split(".")[0] == embedded.split(".")[0]


def test_grafana_is_the_version_the_dashboards_are_generated_for(services):
    sdk = _pin("grafana-foundation-sdk").split("!")[-1]  # e.g. 1769699379!11.6.0 -> 11.6.0
    image = services["grafana"]["image"]
    assert image.startswith("grafana/grafana:")
    assert image.split(":")[1].split(".")[:2] == sdk.split(".")[:2]


def test_mounted_paths_exist_and_named_volumes_are_declared(services):
    declared = set(raw_project()["volumes"])
    used = set()
    for name, service in services.items():
        for volume in service.get("volumes") or []:
            source, target = volume.split(":")[:2]
            if source.startswith((".", "/")):
                assert (REPO / source).exists(), f"{name}: {source} does not exist in the repository"
            else:
                assert source in declared, f"{name}: volume {source} is not declared"
                used.add(source)
    assert used == declared


def test_volumes_of_our_images_are_created_for_their_user(services):
    """A named volume starts as a copy of the image's folder: it must exist there, owned by the image's user."""
    image_folders = {"/opt/airflow/logs"}  # made by the Airflow image itself
    for name, service in services.items():
        image = image_of(service)
        if image is None:
            continue
        created = " ".join(run for run in image.runs if "mkdir" in run)
        for volume in service.get("volumes") or []:
            source, target = volume.split(":")[:2]
            if not source.startswith((".", "/")) and target not in image_folders:
                assert target in created, f"{name}: {target} is not created in {image.path.name}"


def test_every_published_port_binds_to_the_bind_address():
    raw = raw_project()["services"]
    published = 0
    for name, service in raw.items():
        for port in service.get("ports") or []:
            assert isinstance(port, str) and port.startswith(BIND_PREFIX), f"{name}: {port}"
            published += 1
        assert "container_name" not in service, f"{name}: a fixed name prevents --scale"
    assert published >= 7


def test_depends_on_conditions_are_well_founded(services):
    for name, service in services.items():
        for target, spec in (service.get("depends_on") or {}).items():
            assert target in services, f"{name} depends on unknown {target}"
            condition = spec["condition"]
            if condition == "service_healthy":
                assert services[target].get("healthcheck"), f"{name} waits for {target}'s health, it has no check"
            elif condition == "service_completed_successfully":
                assert services[target].get("restart") == "no", f"{target} is a one-shot job"
            else:
                assert condition == "service_started", (name, target, condition)


def test_everything_waits_for_the_init_job(services):
    def waits_for(name, seen=()):
        deps = services[name].get("depends_on") or {}
        return "init" in deps or any(waits_for(d, (*seen, name)) for d in deps if d not in seen)

    first = {"kafka", "postgres", "init"}
    assert {n for n in services if n not in first and not waits_for(n)} == set()
    init = services["init"]["depends_on"]
    assert {k: v["condition"] for k, v in init.items()} == {"postgres": "service_healthy", "kafka": "service_healthy"}


def test_build_files_exist(services):
    built = {build_dockerfile(s) for s in services.values() if s.get("build")}
    assert built == set(DOCKERFILES)
