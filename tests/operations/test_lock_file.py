"""requirements.lock (what `make install` and CI install) pins every dependency that
pyproject.toml declares, at a version pyproject.toml allows: after adding or changing a
dependency, `make lock`."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]


def declared() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [
        Requirement(r)
        for r in [*project["dependencies"], *project["optional-dependencies"]["test"]]
    ]


def locked() -> dict[str, str]:
    pins = re.findall(
        r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)", (ROOT / "requirements.lock").read_text(), re.M
    )
    return {_name(name): version for name, version in pins}


def _name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_declared_dependency_is_locked_at_an_allowed_version_with_hashes():
    pins = locked()
    missing = [str(r) for r in declared() if _name(r.name) not in pins]
    assert missing == [], f"not in requirements.lock (run make lock): {missing}"
    outside = [
        f"{r} (locked {pins[_name(r.name)]})"
        for r in declared()
        if not r.specifier.contains(pins[_name(r.name)], prereleases=True)
    ]
    assert outside == [], f"locked outside what pyproject.toml allows (run make lock): {outside}"
    text = (ROOT / "requirements.lock").read_text()
    assert text.count("--hash=sha256:") >= len(pins)  # pip install --require-hashes
