"""Too little disk is found before a download starts: the bootstrap script and Kafka's fetch stop with a clear error."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from powercast.config import Settings
from powercast.errors import PowercastError
from powercast.stack import kafka
from powercast.stack.disk import free_bytes, require_free_space

ROOT = Path(__file__).resolve().parents[2]


def test_free_space_of_a_path_not_created_yet_is_its_parents(tmp_path):
    assert free_bytes(tmp_path / "not" / "yet") == shutil.disk_usage(tmp_path).free


def test_too_little_space_names_the_place_and_both_sizes(tmp_path):
    require_free_space(tmp_path, 1, "a tiny download")
    with pytest.raises(PowercastError, match=r"a huge download needs about 1048576\.0 GiB free under .*, and only"):
        require_free_space(tmp_path, 2**50, "a huge download")


def test_kafka_fetch_checks_the_disk_before_maven_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(kafka, "maven_executable", lambda: "mvn")
    monkeypatch.setattr(kafka, "KAFKA_DOWNLOAD_BYTES", 2**50)
    ran = []
    monkeypatch.setattr(kafka.subprocess, "run", lambda *a, **k: ran.append(a))
    broker = kafka.KafkaBroker(Settings(data_dir=tmp_path, _env_file=None))
    with pytest.raises(PowercastError, match="fetching Apache Kafka"):
        broker.provision()
    assert ran == []


def test_bootstrap_stops_before_any_download_when_the_disk_is_short(tmp_path):
    (tmp_path / "scripts").mkdir()
    for name in ("scripts/bootstrap.sh", "pyproject.toml", "constraints.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    result = subprocess.run(
        ["bash", str(tmp_path / "scripts" / "bootstrap.sh")],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": os.environ["PATH"], "POWERCAST_MIN_FREE_GB": "1000000"},
    )
    assert result.returncode == 1
    assert "needs about 1000000 GB free" in result.stderr
    assert not (tmp_path / ".venv").exists()
