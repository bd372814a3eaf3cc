"""docker-compose.yml and the Dockerfiles as the tests read them, without a Docker engine.

The compose file is loaded with PyYAML (anchors and `<<` merges resolved) and interpolated the way docker
compose does (`${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `$$`) with the variables of
docker/compose.env.example. A Dockerfile is read into the files it copies (container path -> repository path)
and the environment it sets.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / "docker" / "compose.env.example"
DOCKER_README = REPO / "docker" / "README.md"
BIND_PREFIX = "${POWERCAST_BIND_ADDRESS:-127.0.0.1}:"

_VARIABLE = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}")


class MissingVariable(KeyError):
    """A `${VAR:?message}` (or `${VAR?message}`) whose variable is not set."""


def env_file(path: Path = ENV_EXAMPLE) -> dict[str, str]:
    """`NAME=value` lines of an env file (comments and blank lines skipped)."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def interpolate(text: str, env: dict[str, str]) -> str:
    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.group("name"), match.group("op"), match.group("arg")
        value = env.get(name)
        unset_or_empty = value is None or (value == "" and op and op.startswith(":"))
        if op in (":-", "-"):
            return arg if unset_or_empty else value
        if op in (":?", "?"):
            if unset_or_empty:
                raise MissingVariable(f"{name}: {arg}")
            return value
        return value or ""

    return _VARIABLE.sub(replace, text)


def variables_in(text: str) -> set[str]:
    """Names of the `${VAR...}` references in a text."""
    return {m.group("name") for m in _VARIABLE.finditer(text) if m.group("name")}


def _interpolated(node, env: dict[str, str]):
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [_interpolated(item, env) for item in node]
    if isinstance(node, dict):
        return {key: _interpolated(value, env) for key, value in node.items()}
    return node


def raw_project() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def project(env: dict[str, str] | None = None) -> dict:
    """The compose project interpolated with `env` (default: docker/compose.env.example)."""
    return _interpolated(raw_project(), env_file() if env is None else env)


def as_list(command) -> list[str]:
    """A compose `command`/`entrypoint`/`test` value as an argument list (strings are split like a shell)."""
    if command is None:
        return []
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.partition("=")[::2] for item in env)
    return {key: "" if value is None else str(value) for key, value in env.items()}


@dataclass
class Dockerfile:
    """What a Dockerfile puts into its image: copied files and the environment."""

    path: Path
    base: str = ""
    args: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    copies: list[tuple[list[str], str]] = field(default_factory=list)  # (repository sources, container destination)
    users: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    workdir: str = "/"
    entrypoint: list[str] = field(default_factory=list)

    def image_path(self, container_path: str) -> Path | None:
        """The repository file or folder behind a path in the image, when a COPY put it there."""
        target = PurePosixPath(container_path)
        for sources, dest in self.copies:
            for source in sources:
                name = PurePosixPath(source).name
                into_folder = dest.endswith("/") or len(sources) > 1
                placed = PurePosixPath(dest) / name if into_folder else PurePosixPath(dest)
                if target == placed:
                    return REPO / source
                if target.is_relative_to(placed) and (REPO / source).is_dir():
                    return REPO / source / target.relative_to(placed)
        return None


def _logical_lines(text: str) -> list[str]:
    lines, current = [], ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        lines.append(current + stripped)
        current = ""
    return lines


def _expand(value: str, values: dict[str, str]) -> str:
    return re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: values.get(m.group(1), m.group(0)), value)


def dockerfile(path: Path) -> Dockerfile:
    parsed = Dockerfile(path)
    for line in _logical_lines(path.read_text(encoding="utf-8")):
        instruction, _, rest = line.partition(" ")
        instruction = instruction.upper()
        values = {**parsed.args, **parsed.env}
        if instruction == "ARG":
            name, _, default = rest.strip().partition("=")
            if default or name not in parsed.args:
                parsed.args[name] = default
        elif instruction == "FROM":
            parsed.base = _expand(rest.split()[0], values)
        elif instruction == "ENV":
            for pair in shlex.split(rest):
                name, _, value = pair.partition("=")
                parsed.env[name] = _expand(value, {**parsed.args, **parsed.env})
        elif instruction == "WORKDIR":
            parsed.workdir = _expand(rest.strip(), values)
        elif instruction == "USER":
            parsed.users.append(rest.strip())
        elif instruction == "RUN":
            parsed.runs.append(_expand(rest, values))
        elif instruction == "ENTRYPOINT":
            parsed.entrypoint = yaml.safe_load(rest)
        elif instruction == "COPY":
            words = [w for w in shlex.split(rest) if not w.startswith("--")]
            sources, dest = words[:-1], _expand(words[-1], values)
            if not dest.startswith("/"):
                dest = str(PurePosixPath(parsed.workdir) / dest) + ("/" if dest.endswith("/") else "")
            parsed.copies.append((sources, dest))
    return parsed


def build_dockerfile(service: dict) -> Path | None:
    build = service.get("build")
    if not build:
        return None
    context = REPO / build.get("context", ".")
    return context / build.get("dockerfile", "Dockerfile")


def script_commands(text: str) -> list[list[str]]:
    """The simple commands of a shell script: one argument list per command of a pipeline or `&&` chain, with
    here-document bodies skipped and `set`/`exec` prefixes removed."""
    commands, heredoc_end, pending = [], None, ""
    for line in text.splitlines():
        stripped = pending + line.strip()
        if heredoc_end is None and stripped.endswith("\\"):
            pending = stripped[:-1] + " "
            continue
        pending = ""
        if heredoc_end is not None:
            if stripped == heredoc_end:
                heredoc_end = None
            continue
        if not stripped or stripped.startswith("#"):
            continue
        marker = re.search(r"<<-?\s*'?\"?(\w+)'?\"?", stripped)
        if marker:
            heredoc_end = marker.group(1)
            stripped = stripped[: marker.start()]
        for part in re.split(r"\|\||&&|\||;", stripped):
            words = shlex.split(part)
            if words and words[0] == "exec":
                words = words[1:]
            if words and words[0] != "set":
                commands.append(words)
    return commands
