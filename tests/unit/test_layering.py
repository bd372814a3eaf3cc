"""The package's import rules (pyproject.toml, `[tool.importlinter]`) and the code style hold.

The layer contract covers imports made inside functions too; `powercast` never imports Airflow or Dash.
"""

import subprocess
import sys
from pathlib import Path

import grimp
import networkx as nx

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_import_contracts_are_kept():
    result = _run(str(BIN / "lint-imports"), "--no-cache")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_no_module_imports_itself_through_others():
    graph = grimp.build_graph("powercast", exclude_type_checking_imports=True)
    imports = nx.DiGraph(
        (m, imported) for m in graph.modules for imported in graph.find_modules_directly_imported_by(m)
    )
    assert [sorted(c) for c in nx.strongly_connected_components(imports) if len(c) > 1] == []


def test_ruff_lint_and_format_pass():
    lint = _run(str(BIN / "ruff"), "check", ".")
    assert lint.returncode == 0, lint.stdout + lint.stderr
    formatting = _run(str(BIN / "ruff"), "format", "--check", ".")
    assert formatting.returncode == 0, formatting.stdout + formatting.stderr
