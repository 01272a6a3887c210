"""`connections openapi|config`: what the service would serve (its OpenAPI document) and
with which settings, without serving."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import yaml

from service.settings import Settings


def add_commands(sub: Any) -> None:
    openapi = sub.add_parser("openapi", help="print the OpenAPI document as YAML")
    openapi.add_argument("--output", help="write to this file instead of stdout")
    openapi.set_defaults(run=_openapi)

    config = sub.add_parser("config", help="print the effective configuration, secrets masked")
    config.set_defaults(run=_config)


def openapi_document() -> dict:
    from service.app import create_app
    from service.container import build

    # A throwaway in-memory house: the document depends on the routes, not on the database.
    services = build(
        Settings.from_env(
            {"DATABASE_URL": "sqlite:///:memory:", "SANDBOX": "1", "SECRET_KEY": "x" * 32}
        )
    )
    try:
        return create_app(services).openapi_schema.to_schema()
    finally:
        services.close()


def openapi_yaml() -> str:
    return yaml.safe_dump(openapi_document(), sort_keys=False, allow_unicode=True)


def _openapi(args: argparse.Namespace) -> int:
    text = openapi_yaml()
    if args.output:
        with open(args.output, "w") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


def _config(args: argparse.Namespace) -> int:
    print(json.dumps(Settings.from_env().masked(), indent=2, default=str))
    return 0
