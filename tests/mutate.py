"""`make mutate`: mutation testing (mutmut) of domain/ and the security modules, each
group against the tests that guard it, within a time budget per group.

Each group runs in its own folder under var/mutate/<group>/ (its own mutmut config and
cache, so a later run only re-tests what changed). A group's budget bounds its run; the
mutants it did not reach by then are reported as "not checked", never counted as killed.
Scores go to var/mutation.json and are printed as a table; `MUTATE_GROUPS=chain,ssrf`
runs some groups, `MUTATE_BUDGET_SCALE=2` doubles every budget, `MUTATE_CHILDREN` (1)
sets the parallel mutants (the machine is shared: keep it low).

    .venv/bin/python -m tests.mutate            # all groups
    cd var/mutate/<group> && ../../../.venv/bin/mutmut results   # then show/apply one
"""

from __future__ import annotations

import fnmatch
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "var" / "mutate"
LINKED = ["domain", "adapters", "service", "tests", "README.md", "SECURITY.md", "openapi.yaml"]
KILLED = {1: "killed", 3: "killed", 36: "timeout", -24: "timeout", 24: "timeout"}
SKIP_POSTGRES = ["-k", "not postgres"]


@dataclass(frozen=True)
class Group:
    name: str
    mutate: tuple[str, ...]  # files, as mutmut's only_mutate globs
    tests: tuple[str, ...]  # pytest selection: paths, node ids, then options
    budget: int  # seconds
    # Code that runs at import (route guards built by `requires(...)` at module level)
    # is only mutated in a process that imports it afresh with the mutant chosen.
    fresh_imports: bool = False
    # Mutant names (globs) to check and score, when only some functions are the
    # security rule (the rest of the module is another group's or another test file's).
    focus: tuple[str, ...] = ()


GROUPS = [
    Group(
        "chain",
        ("domain/chain.py",),
        ("tests/domain", "tests/audit/test_audit.py", *SKIP_POSTGRES),
        150,
    ),
    Group(
        "idempotency",
        ("service/api/idempotency.py",),
        (
            "tests/api/test_idempotency.py",
            "tests/api/test_concurrency.py",
            "-k",
            "idempot and not postgres",
        ),
        150,
    ),
    Group(
        "auth",
        ("service/api/auth.py", "service/keys/api_keys.py"),
        (
            "tests/api/test_security.py",
            "tests/keys/test_api_keys.py",
            "tests/api/test_access.py",
            "tests/api/test_concurrency.py",
            "tests/api/test_idempotency.py",
            "tests/api/test_bad_input.py",
            "-k",
            "(scope or key or auth or route) and not postgres and not lifecycle",
        ),
        240,
        fresh_imports=True,
        focus=("service.api.auth.*", "service.keys.api_keys.xǁApiKeysǁ*"),
    ),
    Group(
        "tenant",
        ("service/connections/application.py", "service/connections/service.py"),
        (
            "tests/connections/test_time_travel.py",
            "tests/api/test_access.py",
            "tests/api/test_concurrency.py",
            "tests/api/test_idempotency.py",
            "tests/api/test_bad_input.py",
            "-k",
            "(tenant or missing or version or as_of) and not postgres",
        ),
        180,
        focus=(
            "service.connections.application.xǁConnectionsAppǁload*",
            *(
                f"service.connections.service.xǁConnectionServiceǁ{name}__*"
                for name in ("get", "_as_of", "_owned", "history", "cursor_of", "act", "create")
            ),
        ),
    ),
    Group(
        "ssrf",
        ("adapters/webhook_sender.py",),
        (
            "tests/webhooks/test_outbox.py",
            "tests/webhooks/test_dispatch.py",
            "tests/webhooks/test_send_time_checks.py",
            "tests/webhooks/test_webhook_api.py",
            "-k",
            "(private or resolv or address or redirect or refused) and not postgres",
        ),
        150,
        focus=(
            "adapters.webhook_sender.x_resolve*",
            "adapters.webhook_sender.xǁWebhookSenderǁcheck*",
        ),
    ),
    Group(
        "domain",
        ("domain/*",),
        ("tests/domain",),
        420,
    ),
]


def prepare(group: Group) -> Path:
    folder = WORK / group.name
    folder.mkdir(parents=True, exist_ok=True)
    for name in LINKED:
        link = folder / name
        if not link.exists():
            link.symlink_to(ROOT / name)
    config: dict[str, object] = {
        "source_paths": ["domain", "service", "adapters"],
        "only_mutate": list(group.mutate),
        "pytest_add_cli_args": ["-p", "no:cacheprovider", "-x", "-q"],
        "pytest_add_cli_args_test_selection": list(group.tests),
        "timeout_multiplier": 5.0,
        "also_copy": ["README.md", "SECURITY.md", "openapi.yaml"],
    }
    if group.fresh_imports:
        config.update(process_isolation="forkserver", forkserver_warmup="none")
    lines = ["[tool.mutmut]"] + [f"{key} = {json.dumps(value)}" for key, value in config.items()]
    lines += [
        "",
        "[tool.pytest.ini_options]",
        'markers = ["postgres: needs PostgreSQL"]',
        'filterwarnings = ["ignore::DeprecationWarning:litestar.*"]',
    ]
    (folder / "pyproject.toml").write_text("\n".join(lines) + "\n")
    return folder


def run(group: Group, budget: float, children: int) -> dict[str, object]:
    folder = prepare(group)
    mutmut = str(Path(sys.executable).parent / "mutmut")
    started = time.monotonic()
    # Its own session, so the budget stops mutmut and every test process it forked.
    log = (folder / "mutmut.log").open("w")
    process = subprocess.Popen(
        ["nice", mutmut, "run", "--max-children", str(children), *group.focus],
        cwd=folder,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        process.wait(timeout=budget)
        finished = True
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGINT)  # mutmut saves what it checked
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        finished = False
    log.close()
    if process.returncode not in (0, -signal.SIGINT, -signal.SIGKILL) and finished:
        print(f"{group.name}: mutmut failed, see {folder / 'mutmut.log'}", file=sys.stderr)
    return {
        "group": group.name,
        "modules": list(group.mutate),
        "seconds": round(time.monotonic() - started),
        "finished": finished,
        **tally(folder, group.focus),
    }


def tally(folder: Path, focus: tuple[str, ...] = ()) -> dict[str, object]:
    counts: Counter[str] = Counter()
    survivors = []
    for meta in sorted((folder / "mutants").rglob("*.py.meta")):
        for name, code in json.loads(meta.read_text()).get("exit_code_by_key", {}).items():
            if focus and not any(fnmatch.fnmatch(name, f) for f in focus):
                continue
            status = "not checked" if code is None else KILLED.get(code, "survived")
            if code in (0, 5, 33):
                status = "survived" if code == 0 else "no tests"
            counts[status] += 1
            if status == "survived":
                survivors.append(name)
    checked = counts["killed"] + counts["timeout"] + counts["survived"]
    score = round(100 * (counts["killed"] + counts["timeout"]) / checked, 1) if checked else None
    return {**dict(counts), "checked": checked, "score": score, "survivors": survivors}


def main() -> int:
    wanted = [g for g in os.environ.get("MUTATE_GROUPS", "").split(",") if g]
    scale = float(os.environ.get("MUTATE_BUDGET_SCALE", "1"))
    children = int(os.environ.get("MUTATE_CHILDREN", "1"))
    results = []
    for group in GROUPS:
        if wanted and group.name not in wanted:
            continue
        result = run(group, group.budget * scale, children)
        results.append(result)
        print(
            f"{result['group']:<12} score {result['score']}%  killed {result.get('killed', 0)}"
            f" timeout {result.get('timeout', 0)} survived {result.get('survived', 0)}"
            f" no-tests {result.get('no tests', 0)} not-checked {result.get('not checked', 0)}"
            f"  ({result['seconds']} s{'' if result['finished'] else ', budget reached'})",
            flush=True,
        )
    WORK.mkdir(parents=True, exist_ok=True)
    (ROOT / "var" / "mutation.json").write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
