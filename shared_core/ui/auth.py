"""Who is looking: login tokens (given to `memo ui` or generated at start) mapped to principals,
and the browser sessions they open."""

from __future__ import annotations

import hmac
import secrets
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

from ..errors import ConfigError
from ..governance.access import Principal
from ..inspect import parse_principal, principal_label

SESSION_COOKIE = "memo_session"


def parse_token_spec(spec: str, tenant: str | None = None) -> tuple[str, Principal]:
    """`ROLE:NAME[@TENANT]=TOKEN` (TOKEN may be empty: one is generated) -> (token, principal)."""
    who, sep, token = spec.partition("=")
    if not sep:
        token = ""
    token = token.strip() or secrets.token_urlsafe(24)
    if len(token) < 12:
        raise ConfigError(f"the token for {who!r} is too short (12 characters at least)")
    return token, parse_principal(who.strip(), tenant)


def read_token_file(path: str | Path, tenant: str | None = None) -> list[tuple[str, Principal]]:
    """One `ROLE:NAME[@TENANT]=TOKEN` per line; blank lines and `#` comments are skipped."""
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(parse_token_spec(line, tenant))
    return out


class Tokens:
    """Login tokens and live sessions. Tokens are compared in constant time."""

    def __init__(self, tokens: Iterable[tuple[str, Principal]]) -> None:
        self._tokens = list(tokens)
        if not self._tokens:
            raise ConfigError("memo ui needs at least one login token (--token ROLE:NAME=TOKEN or --as)")
        self._sessions: dict[str, Principal] = {}
        self._lock = threading.Lock()

    @property
    def logins(self) -> Mapping[str, str]:
        """principal label -> token (printed by `memo ui` at start)."""
        return {principal_label(p): t for t, p in self._tokens}

    def check(self, token: str) -> Principal | None:
        found = None
        for t, p in self._tokens:
            if hmac.compare_digest(t.encode(), token.encode()):
                found = p
        return found

    def open_session(self, principal: Principal) -> str:
        sid = secrets.token_urlsafe(32)
        with self._lock:
            self._sessions[sid] = principal
        return sid

    def session(self, sid: str | None) -> Principal | None:
        if not sid:
            return None
        with self._lock:
            return self._sessions.get(sid)

    def close_session(self, sid: str | None) -> None:
        with self._lock:
            self._sessions.pop(sid or "", None)
