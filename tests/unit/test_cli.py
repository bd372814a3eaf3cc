"""Every command answers --help, and PowercastError becomes one line on stderr with exit code 1."""

import os
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from powercast.cli import app


def _command_paths(group: typer.Typer, prefix=()):
    for info in group.registered_commands:
        yield (*prefix, info.name or info.callback.__name__)
    for sub in group.registered_groups:
        yield (*prefix, sub.name)
        yield from _command_paths(sub.typer_instance, (*prefix, sub.name))


@pytest.mark.parametrize("path", [(), *_command_paths(app)], ids=lambda p: " ".join(p) or "powercast")
def test_every_command_has_help(path):
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_user_errors_are_one_line(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": "postgresql://x@127.0.0.1:1/none", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "powercast", "db", "migrate"], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot reach PostgreSQL")


HEAVY = ("pandas", "numpy", "scipy", "torch", "xgboost", "mlflow", "sqlalchemy", "evidently", "pyarrow")


def test_importing_the_cli_imports_no_heavy_module():
    """`powercast --help` must answer at once: the stack's libraries are imported where they are used."""
    probe = f"import powercast.cli, sys; print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_help_does_not_load_the_settings_or_rich():
    """Help is plain text and reads no settings (pydantic and Rich's renderer are the CLI's slowest imports)."""
    probe = (
        "import sys\nfrom powercast.cli import app\n"
        "try:\n    app(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('pydantic_settings', 'rich', 'psycopg2') if m in sys.modules), file=sys.stderr)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert "Usage" in result.stdout
    assert result.stderr.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(
    ("variable", "value", "command"),
    [("DATABASE_URL", "foo", "features"), ("POWERCAST_KAFKA_PORT", "abc", "status")],
)
def test_a_bad_setting_is_one_line_and_exit_code_2(tmp_path, variable, value, command):
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
        variable: value,
    }
    result = subprocess.run(
        [sys.executable, "-m", "powercast", command], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: bad setting {variable}: expected"), lines
