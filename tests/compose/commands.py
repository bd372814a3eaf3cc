"""What each compose service runs, resolved to argument lists and parsed by the program that would run them:
`powercast` subcommands by the project's own Typer/Click group, `mlflow` by MLflow's Click group, `airflow` by
Airflow's argparse parser (in a subprocess: importing Airflow reads and may write its configuration)."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import click

from tests.compose.project import REPO, Dockerfile, as_list, build_dockerfile, dockerfile, script_commands

SHELLS = ("sh", "bash")
AIRFLOW_IMAGE_DOCKERFILE = REPO / "docker" / "airflow.Dockerfile"
POWERCAST_IMAGE_DOCKERFILE = REPO / "docker" / "Dockerfile"


@dataclass(frozen=True)
class Invocation:
    """One program call a service makes: where it was found (for messages) and its argument list."""

    where: str
    argv: tuple[str, ...]


def service_argv(service: dict) -> list[str]:
    """The process a container starts: entrypoint (the service's, else the image's) plus command. The Airflow
    image's entrypoint runs `bash`/`python` as given and anything else as `airflow ...`."""
    image = dockerfile(build_dockerfile(service)) if service.get("build") else None
    entrypoint = as_list(service["entrypoint"]) if "entrypoint" in service else (image.entrypoint if image else [])
    argv = [*entrypoint, *as_list(service.get("command"))]
    if image and image.path == AIRFLOW_IMAGE_DOCKERFILE and argv and argv[0] not in (*SHELLS, "python"):
        argv = ["airflow", *argv]
    return argv


def invocations(name: str, service: dict) -> list[Invocation]:
    """Every program call of a service: its main process, the lines of a shell script it runs, its health check."""
    found: list[Invocation] = []
    image = dockerfile(build_dockerfile(service)) if service.get("build") else None
    argv = service_argv(service)
    if argv and argv[0] in SHELLS and image:
        script = image.image_path(argv[1])
        assert script is not None and script.is_file(), f"{name}: {argv[1]} is not copied into the image"
        for words in script_commands(script.read_text(encoding="utf-8")):
            found.append(Invocation(f"{name}: {script.relative_to(REPO)}", tuple(words)))
    elif argv:
        found.append(Invocation(f"{name}: command", tuple(argv)))
    test = (service.get("healthcheck") or {}).get("test")
    if test:
        words = as_list(test)
        words = as_list(words[1]) if words[0] == "CMD-SHELL" else words[1:]
        found.append(Invocation(f"{name}: healthcheck", tuple(words)))
    return found


class CommandLineError(Exception):
    """A command line its program would refuse (unknown command or option, missing subcommand)."""


def _usage_errors() -> tuple[type[Exception], ...]:
    import typer

    # Typer now carries its own copy of Click: its usage errors derive from TyperException, Click's do not.
    return (click.UsageError, typer.TyperException)


def parse_click(command, argv: list[str], prog: str) -> list[str]:
    """Parse argv down to the leaf command the way Click (or Typer's copy of it) would before running it; the
    path of command names. Raises CommandLineError on an unknown command or option or a missing subcommand."""
    path = [prog]
    try:
        ctx = command.make_context(prog, list(argv))
        while hasattr(command, "commands") and hasattr(command, "resolve_command"):
            rest = [*ctx._protected_args, *ctx.args]  # what the group left for its subcommand
            if not rest:
                raise CommandLineError(f"{' '.join(path)} needs a subcommand")
            sub_name, command, sub_args = command.resolve_command(ctx, rest)
            path.append(sub_name)
            ctx = command.make_context(sub_name, sub_args, parent=ctx)
    except _usage_errors() as exc:
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        raise CommandLineError(f"{' '.join(path)}: {message}") from exc
    return path


def powercast_cli():
    import typer

    from powercast.cli import app

    return typer.main.get_command(app)


def mlflow_cli() -> click.Command:
    from mlflow.cli import cli

    return cli


_AIRFLOW_PARSE = """
import contextlib, io, json, sys
from airflow.cli import cli_parser
parser = cli_parser.get_parser()
errors = {}
for argv in json.load(sys.stdin):
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            parser.parse_args(argv)
    except SystemExit as exc:
        if exc.code:
            errors[" ".join(argv)] = (err.getvalue().strip().splitlines() or ["exit %s" % exc.code])[-1]
print(json.dumps(errors))
"""


def airflow_parse_errors(argvs: list[list[str]], airflow_home: Path) -> dict[str, str]:
    """Each `airflow` argument list (without the program name) that Airflow's own parser rejects, with why."""
    result = subprocess.run(
        [sys.executable, "-c", _AIRFLOW_PARSE],
        input=json.dumps(argvs),
        env={"AIRFLOW_HOME": str(airflow_home), "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def image_of(service: dict) -> Dockerfile | None:
    return dockerfile(build_dockerfile(service)) if service.get("build") else None
