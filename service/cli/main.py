"""The `connections` command: the parser assembled from one module per command group,
and the errors every command shares.

Each group module registers its subcommands (`add_commands(sub, …)`); the order below is
the order `connections --help` lists them in.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from service.cli import (
    audit,
    console_users,
    deadlines,
    demo,
    describe,
    erasure,
    followers,
    keys,
    projections,
    serve,
    tenants,
)
from service.settings import ConfigError, Settings


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if refused := _refused_argument(args):
        parser.error(refused)
    from service.logs import configure

    configure()
    from adapters.migrations import NotMigratedError

    try:
        return args.run(args)
    except ConfigError as e:
        print(f"configuration error: {e}", file=sys.stderr)
        return 2
    except NotMigratedError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader stopped reading (`connections audit export | head`): stop quietly, as
        # other tools do, and keep Python from reporting it again when it flushes stdout.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _refused_argument(args: argparse.Namespace) -> str | None:
    """The edge's rule for strings (service.api.edge.text), for every argument."""
    from service.api.edge.text import refusal

    for name, value in vars(args).items():
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str) and (reason := refusal(text)) is not None:
                return f"argument {name}: {reason}"
    return None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="connections", description="Amazon account connection service"
    )
    sub = parser.add_subparsers(required=True, metavar="command")
    serve.add_commands(sub, _services)
    deadlines.add_commands(sub)
    keys.add_commands(sub, _services)
    tenants.add_commands(sub, _services)
    console_users.add_commands(sub, _services)
    projections.add_commands(sub, _services)
    followers.add_commands(sub, _services)
    audit.add_commands(sub, _services)
    erasure.add_commands(sub, _services)
    describe.add_commands(sub)
    demo.add_commands(sub)
    return parser


def _services() -> Any:
    """The service's parts, built only when a command runs: `--help` and refused arguments
    never touch the database."""
    from service.container import build

    return build(Settings.from_env())


if __name__ == "__main__":
    raise SystemExit(main())
