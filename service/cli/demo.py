"""`connections demo`: sandbox connections walked through their life, as a timeline.

Without --url it starts its own sandbox service on a throwaway SQLite database in a
temporary folder, says so, and deletes the folder when it is done: your own store
(DATABASE_URL, var/connections.db) is never touched.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
import time
from typing import TYPE_CHECKING, Any

from domain.permissions import REQUIRED_SC_PERMISSIONS

if TYPE_CHECKING:
    import httpx


def add_commands(sub: Any) -> None:
    demo = sub.add_parser("demo", help="walk sandbox connections through their life")
    demo.add_argument("--url", help="a running service (default: start one in-process)")
    demo.add_argument("--api-key", help="API key for --url")
    demo.set_defaults(run=_run)


def _run(args: argparse.Namespace) -> int:
    return run_demo(args.url, args.api_key)


def run_demo(url: str | None, api_key: str | None) -> int:
    # httpx here, not at the top: every other command registers beside this one and
    # should not pay for importing an HTTP client it never uses.
    import httpx

    server = thread = services = None
    folder = ""
    if url is None:
        folder = tempfile.mkdtemp(prefix="connections-demo-")
        print(
            f"demo: a sandbox service of its own on {folder}/demo.db (deleted at the end)",
            file=sys.stderr,
        )
        server, thread, services, url, api_key = _start_local(folder)
    elif not api_key:
        print("--api-key is required with --url")
        return 2
    try:
        with httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {api_key}"}, timeout=30
        ) as api:
            _print_timeline(
                api,
                "A seller with the Seller Central user and Amazon Ads, invited by an agency",
                _walk_to_active(api),
            )
            recovered, guide = _fail_then_recover(api)
            _print_timeline(api, "A vendor whose first attempt fails", recovered)
            print(f"  what the guide told the owner after {guide['code']}:")
            for step in guide["remediation"]:
                print(f"    - {step}")
    finally:
        if server is not None and thread is not None:
            server.should_exit = True
            thread.join(10)
        if services is not None:
            services.close()
        if folder:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


def _start_local(folder: str) -> tuple[Any, threading.Thread, Any, str, str]:
    import uvicorn

    from service.app import create_app
    from service.container import build
    from service.settings import Settings

    with __import__("socket").socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = Settings.from_env(
        {
            "DATABASE_URL": f"sqlite:///{folder}/demo.db",
            "SANDBOX": "1",
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "RUN_WORKER": "0",
        }
    )
    services = build(settings)
    key = services.api_keys.create("demo", ["connections:read", "connections:write"]).secret
    server = uvicorn.Server(
        uvicorn.Config(create_app(services), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    return server, thread, services, f"http://127.0.0.1:{port}", key


def _ok(response: httpx.Response) -> dict[str, Any]:
    response.raise_for_status()
    return response.json()


def _owner_consents(consent_url: str, outcome: str) -> dict[str, Any]:
    """The owner on Amazon's (sandbox) consent page, then back through our callback."""
    import httpx

    page = httpx.get(f"{consent_url}&sandbox_outcome={outcome}", timeout=30)
    back = httpx.get(page.headers["location"], headers={"Accept": "application/json"}, timeout=30)
    return _ok(back)


def _walk_to_active(api: httpx.Client) -> str:
    c = _ok(
        api.post(
            "/v1/connections",
            json={
                "owner_email": "owner@shop.example",
                "region": "eu",
                "marketplace_ids": ["A1PA6795UKMFR9"],
                "requires_advertising": True,
                "invited_by": {
                    "name": "Ann Agency",
                    "email": "ann@agency.example",
                    "role": "agency",
                },
            },
        )
    )
    cid = c["id"]
    start = _ok(api.post(f"/v1/connections/{cid}/start_authorization"))
    _owner_consents(start["consent_url"], "approve")
    _ok(api.post(f"/v1/connections/{cid}/invite_seller_central_user"))
    _ok(
        api.post(
            f"/v1/connections/{cid}/confirm_seller_central_user",
            json={
                "permissions": {
                    **REQUIRED_SC_PERMISSIONS,
                    "settings_user_permissions": "view_and_edit",
                }
            },
        )
    )
    _ok(
        api.post(
            f"/v1/connections/{cid}/confirm_seller_central_user",
            json={"permissions": REQUIRED_SC_PERMISSIONS},
        )
    )
    ads = _ok(api.post(f"/v1/connections/{cid}/start_advertising_authorization"))
    _owner_consents(ads["consent_url"], "approve")
    _ok(api.post(f"/v1/connections/{cid}/activate"))
    return cid


def _fail_then_recover(api: httpx.Client) -> tuple[str, dict[str, Any]]:
    c = _ok(
        api.post(
            "/v1/connections",
            json={
                "owner_email": "owner@brand.example",
                "region": "na",
                "account_type": "vendor",
                "marketplace_ids": ["ATVPDKIKX0DER"],
            },
        )
    )
    cid = c["id"]
    first = _ok(api.post(f"/v1/connections/{cid}/start_authorization"))
    _owner_consents(first["consent_url"], "MARKETPLACE_NOT_PARTICIPATING")
    guide = _ok(api.get(f"/v1/connections/{cid}/guide"))["last_error"]
    second = _ok(api.post(f"/v1/connections/{cid}/start_authorization"))
    _owner_consents(second["consent_url"], "approve")
    _ok(api.post(f"/v1/connections/{cid}/activate"))
    return cid, guide


def _print_timeline(api: httpx.Client, title: str, connection_id: str) -> None:
    connection = _ok(api.get(f"/v1/connections/{connection_id}"))
    print(f"\n{title}\nconnection {connection_id} — now {connection['state']}")
    for e in _ok(api.get(f"/v1/connections/{connection_id}/events"))["data"]:
        error = e["data"].get("error") or {}
        note = f"  [{error['code']}]" if error else ""
        print(f"  v{e['version']:<3} {e['occurred_at'][:19]}  {e['type']:<45} {e['actor']}{note}")
