"""`memo ui`: serve the inspector web app on 127.0.0.1 (by default) over one store."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..errors import ConfigError
from . import common


def cmd_ui(ns: argparse.Namespace) -> int:
    try:
        import uvicorn

        from ..ui.app import create_app
        from ..ui.auth import Tokens, parse_token_spec, read_token_file
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ConfigError(f"memo ui needs its web stack (starlette, jinja2, uvicorn): {exc}") from None
    specs = list(ns.token or [])
    pairs = [parse_token_spec(s, ns.tenant) for s in specs]
    if ns.token_file:
        pairs += read_token_file(ns.token_file, ns.tenant)
    if not pairs:
        who = common.principal_spec(ns)
        if not who:
            common.principal(ns)  # raises the "who is acting?" PermissionDenied
        pairs = [parse_token_spec(str(who), ns.tenant)]
    tokens = Tokens(pairs)
    mem = common.open_memory(ns)
    try:
        app = create_app(mem, tokens, path=None if ns.host else ns.path)
        base = f"http://{ns.ui_host}:{ns.ui_port}"
        print(
            f"memo ui: serving {ns.host + ':' + str(ns.port) if ns.host else ns.path} on {base}", flush=True
        )
        for label, token in tokens.logins.items():
            print(f"  log in as {label}: {base}/login?token={token}", flush=True)
        if ns.ui_host not in ("127.0.0.1", "localhost", "::1"):
            print("memo ui: WARNING: listening beyond this machine; put TLS in front of it", file=sys.stderr)
        uvicorn.run(app, host=ns.ui_host, port=ns.ui_port, log_level="warning", access_log=False)
    finally:
        mem.close()
    return common.EXIT_OK


def register(sub: Any) -> None:
    s = sub.add_parser("ui", help="the inspector web app (local; log in with a printed token)")
    s.add_argument("--ui-host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--ui-port", type=int, default=8765, help="port to listen on (default 8765)")
    s.add_argument("--tenant", default=None, help="tenant subjects and agents of --token bind to")
    s.add_argument(
        "--token",
        action="append",
        metavar="ROLE:NAME[@TENANT]=TOKEN",
        help="a login (repeatable); TOKEN may be left empty to generate one. Default: one for --as",
    )
    s.add_argument("--token-file", help="logins, one ROLE:NAME[@TENANT]=TOKEN per line")
    s.set_defaults(func=cmd_ui)
