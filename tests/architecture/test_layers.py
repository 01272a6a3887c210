"""The house's layers (pyproject.toml [tool.importlinter]) hold, and the contract would
catch a module that imports upwards or across capabilities."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    for package in ("domain", "adapters", "service"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def add_line(module: Path, line: str) -> None:
    module.write_text(module.read_text() + f"\n{line}\n")


def test_every_layer_contract_is_kept() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "named"),
    [
        # the shared layer reaching into a capability
        ("service/api/problems.py", "from service.connect import routes", "service.api.problems"),
        # one capability reaching into another's insides
        (
            "service/webhooks/outbox.py",
            "from service.credentials import proxy",
            "service.webhooks.outbox",
        ),
        # an adapter reaching up into the service
        ("adapters/crypto.py", "from service import settings", "adapters.crypto"),
        # the domain doing I/O
        ("domain/lifecycle.py", "import httpx", "domain.lifecycle"),
    ],
)
def test_an_import_against_the_layers_breaks_the_contract(
    tree_copy: Path, module: str, line: str, named: str
) -> None:
    add_line(tree_copy / module, line)
    result = lint_imports(tree_copy)
    assert result.returncode == 1, result.stdout
    assert "BROKEN" in result.stdout
    assert named in result.stdout
