"""The TypeScript client (clients/typescript): type-checked with `tsc --strict`, then its
own tests under Node's test runner against the sandbox service this package started."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from tests.clients.conftest import Sandbox

CLIENT = Path(__file__).resolve().parents[2] / "clients" / "typescript"


def test_the_typescript_client_type_checks_strictly() -> None:
    dist = CLIENT / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    tsc = CLIENT / "node_modules" / ".bin" / "tsc"
    assert tsc.exists(), "the client's tools are missing: `make sdk-tools` (make test runs it)"
    built = subprocess.run(
        [str(tsc), "-p", str(CLIENT / "tsconfig.json")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    assert (dist / "test" / "service.test.js").exists()


def test_the_typescript_client_passes_its_tests_against_the_service(sandbox: Sandbox) -> None:
    tests = sorted(str(p) for p in (CLIENT / "dist" / "test").glob("*.test.js"))
    assert len(tests) >= 2, "built by the test above"
    ran = subprocess.run(
        ["node", "--test", "--test-reporter=spec", *tests],
        cwd=CLIENT,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": os.environ["PATH"], **sandbox.env()},
    )
    print(ran.stdout)
    assert ran.returncode == 0, ran.stdout[-6000:] + ran.stderr[-3000:]
    assert re.search(r"^\S fail 0$", ran.stdout, re.M), ran.stdout[-2000:]
    assert not re.search(r"^\S pass 0$", ran.stdout, re.M)
