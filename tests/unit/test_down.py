"""`powercast down --purge` removes the data directory only after a confirmation (or --yes), keeping the
download cache inside it."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from powercast.cli import app


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    for key in ("DATABASE_URL", "MLFLOW_TRACKING_URI", "POWERCAST_KAFKA_BOOTSTRAP_SERVERS", "POWERCAST_AIRFLOW_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.delenv("POWERCAST_CACHE_DIR", raising=False)
    data = tmp_path / "data"
    (data / "kafka" / "kraft").mkdir(parents=True)
    (data / "kafka" / "kraft" / "meta.properties").write_text("cluster.id=x\n")
    (data / "cache" / "kafka-4.4.0").mkdir(parents=True)
    (data / "cache" / "kafka-4.4.0" / "kafka.jar").write_text("jar")
    return data


def test_purge_asks_first_and_a_no_keeps_everything(data_dir):
    result = CliRunner().invoke(app, ["down", "--purge"], input="n\n", env={"POWERCAST_DATA_DIR": str(data_dir)})
    assert result.exit_code == 1 and "Aborted" in result.output
    assert (data_dir / "kafka" / "kraft" / "meta.properties").exists()


def test_purge_with_yes_removes_the_data_and_keeps_the_download_cache(data_dir):
    result = CliRunner().invoke(app, ["down", "--purge", "--yes"], env={"POWERCAST_DATA_DIR": str(data_dir)})
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in data_dir.iterdir()) == ["cache"]
    assert (data_dir / "cache" / "kafka-4.4.0" / "kafka.jar").read_text() == "jar"
    assert "kept the download cache" in result.output


def test_down_without_purge_keeps_the_data(data_dir):
    result = CliRunner().invoke(app, ["down"], env={"POWERCAST_DATA_DIR": str(data_dir)})
    assert result.exit_code == 0, result.output
    assert (data_dir / "kafka" / "kraft" / "meta.properties").exists()
