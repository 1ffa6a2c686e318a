"""The client of a Chroma server: timeouts, bounded retries, TLS and credentials.

Chroma's `HttpClient` waits for ever (`httpx.Client(timeout=None)`) and never retries. MeMo gives
its session a transport that bounds every HTTP call and retries transport failures and
502/503/504 answers with exponential backoff and full jitter. Every call MeMo makes to Chroma is
idempotent (upserts and deletes by id, reads; audit appends are checked by reading back), so a
retry after a lost answer never duplicates anything. A call gives up after at most
`(retries + 1) * timeout + backoff * (2 ** retries - 1)` seconds (15.6 s with the defaults; a
refused connection fails in well under a second) with `StoreUnavailable` naming the host, the
port and the cause (timeouts count per phase: connect, each read, each write).

The installed Chroma server (`chroma run`) has no TLS and no authentication of its own: put it
behind a reverse proxy that terminates TLS and checks a token (docs/reliability.md), and connect
with `ssl=True, ca_file=..., token=...` (or `headers=`). Connecting to a non-loopback host
without TLS and credentials logs and warns `InsecureConnectionWarning`: anyone who can reach that
port reads every tenant's memories around MeMo's roles and audit.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import random
import ssl
import time
import warnings
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .._boundary import translate
from ..errors import ConfigError, InvalidInput, StoreUnavailable

log = logging.getLogger("shared_core.store")

_RETRY_STATUS = frozenset({502, 503, 504})


class InsecureConnectionWarning(UserWarning):
    """A Chroma server that is not on this machine is reached without TLS or without credentials."""


class ServerOptions(BaseModel):
    """How to reach a Chroma server; every knob of `ChromaStore.server(...)`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)
    ssl: bool = False
    ca_file: str | None = None  # a PEM bundle to verify the server (a private CA)
    token: str | None = None  # sent as `Authorization: Bearer <token>`
    headers: dict[str, str] | None = None  # any other headers (e.g. `X-Chroma-Token`)
    timeout: float = Field(default=5.0, gt=0)  # seconds per HTTP call (connect, read, write)
    retries: int = Field(default=2, ge=0, le=10)  # extra attempts after a transport failure
    backoff: float = Field(default=0.2, ge=0)  # first backoff in seconds, doubled each retry

    def where(self) -> str:
        return f"{'https' if self.ssl else 'http'}://{self.host}:{self.port}"

    def all_headers(self) -> dict[str, str]:
        out = dict(self.headers or {})
        if self.token:
            out["Authorization"] = f"Bearer {self.token}"
        return out

    def deadline(self) -> float:
        """The longest one call can take before `StoreUnavailable` (seconds)."""
        return float((self.retries + 1) * self.timeout + self.backoff * (2**self.retries - 1))


def is_loopback(host: str) -> bool:
    if host.lower() in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _retrying_transport(opts: ServerOptions, verify: Any) -> Any:
    import httpx

    inner = httpx.HTTPTransport(verify=verify)

    class RetryTransport(httpx.BaseTransport):
        """Retries transport errors and 502/503/504, with backoff and full jitter."""

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            for attempt in range(opts.retries + 1):
                last = attempt == opts.retries
                try:
                    response = inner.handle_request(request)
                except httpx.TransportError:
                    if last:
                        raise
                else:
                    if response.status_code in (401, 403, 407):
                        response.close()
                        raise StoreUnavailable(
                            f"the Chroma server at {opts.host}:{opts.port} refused the request "
                            f"(HTTP {response.status_code}): check the token/headers MeMo sends"
                        )
                    if response.status_code not in _RETRY_STATUS or last:
                        return response
                    response.close()
                time.sleep(random.uniform(0, opts.backoff * 2**attempt))
            raise AssertionError("unreachable")

        def close(self) -> None:
            inner.close()

    return RetryTransport()


def warn_if_insecure(opts: ServerOptions) -> bool:
    """Log and warn (`InsecureConnectionWarning`) when a non-loopback server is reached without TLS
    and credentials. Returns whether it warned."""
    if is_loopback(opts.host) or (opts.ssl and opts.all_headers()):
        return False
    missing = " and ".join(
        m for m, ok in (("TLS", opts.ssl), ("credentials", bool(opts.all_headers()))) if not ok
    )
    msg = (
        f"connecting to the Chroma server {opts.where()} without {missing}: anyone who can reach it reads "
        "and changes every tenant's memories around MeMo's roles and audit log. Bind it to 127.0.0.1, "
        "or put a TLS reverse proxy with authentication in front (docs/reliability.md)."
    )
    log.warning(msg)
    warnings.warn(msg, InsecureConnectionWarning, stacklevel=4)
    return True


def connect(opts: ServerOptions) -> Any:
    """A Chroma `HttpClient` with MeMo's session, checked with a heartbeat."""
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    if opts.ca_file is not None and not opts.ssl:
        raise ConfigError("ca_file is only used with ssl=True")
    if opts.ca_file is not None and not os.path.isfile(opts.ca_file):
        raise ConfigError(f"ca_file {opts.ca_file!r} does not exist")
    warn_if_insecure(opts)
    import httpx

    verify: Any = ssl.create_default_context(cafile=opts.ca_file) if opts.ca_file else True
    bounded = httpx.Client(
        timeout=httpx.Timeout(opts.timeout),
        headers=opts.all_headers(),
        transport=_retrying_transport(opts, verify),
    )
    # Chroma's constructor talks to the server through an unbounded session: check first, bounded
    _preflight(bounded, opts)
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False, allow_reset=False, chroma_server_ssl_verify=opts.ca_file)
    try:
        with translate("store", f"connect {opts.where()}"):
            client = chromadb.HttpClient(
                host=opts.host,
                port=opts.port,
                ssl=opts.ssl,
                headers=opts.all_headers() or None,
                settings=settings,
            )
    except InvalidInput as exc:  # Chroma's constructor says "Could not connect" with a ValueError
        bounded.close()
        raise _unavailable(StoreUnavailable(str(exc)), opts) from exc.__cause__
    server = getattr(client, "_server", None)
    session = getattr(server, "_session", None)
    if not isinstance(session, httpx.Client):  # the installed Chroma changed its client
        raise ConfigError("this chromadb's HttpClient has no httpx session: timeouts cannot be set")
    bounded.headers.update(session.headers)
    session.close()
    server._session = bounded  # type: ignore[union-attr]
    heartbeat(client, opts)
    return client


def _preflight(session: Any, opts: ServerOptions) -> None:
    try:
        with translate("store", f"heartbeat {opts.where()}"):
            session.get(f"{opts.where()}/api/v2/heartbeat").raise_for_status()
    except StoreUnavailable as exc:
        session.close()
        raise _unavailable(exc, opts) from exc.__cause__


def _unavailable(exc: StoreUnavailable, opts: ServerOptions) -> StoreUnavailable:
    cause = exc.__cause__ or exc
    return StoreUnavailable(
        f"the Chroma server at {opts.host}:{opts.port} is unavailable "
        f"({type(cause).__name__}: {cause}; gave up after {opts.retries + 1} attempts, "
        f"timeout {opts.timeout:g} s each)"
    )


def heartbeat(client: Any, opts: ServerOptions) -> None:
    try:
        with translate("store", f"heartbeat {opts.where()}"):
            client.heartbeat()
    except StoreUnavailable as exc:
        raise _unavailable(exc, opts) from exc.__cause__
