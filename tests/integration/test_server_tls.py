"""Nobody reaches the memories around MeMo (#18): the installed `chroma run` has no TLS and no
authentication, so the documented deployment puts nginx in front (TLS with a private CA, a bearer
token) and binds Chroma to loopback. MeMo connects through it with `ssl=True, ca_file=, token=`;
a request without the token, or a client that does not trust the CA, is refused."""

from __future__ import annotations

import shutil
import ssl
import subprocess
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from _servers import free_port, start_chroma, stop

from shared_core import Memory, Scope
from shared_core.embed import HashingEmbedder
from shared_core.errors import StoreUnavailable
from shared_core.store.chroma import ChromaStore
from shared_core.store.chroma_audit import audit_log_for
from shared_core.store.chroma_server import InsecureConnectionWarning, ServerOptions, warn_if_insecure

pytestmark = [pytest.mark.integration, pytest.mark.enable_socket]

TOKEN = "s3cret-token-for-the-test"
ALICE = Scope(tenant="acme", user="alice")
NGINX_CONF = """
daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fcgi;
  uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {d}/server.pem;
    ssl_certificate_key {d}/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    client_max_body_size 64m;
    location / {{
      if ($http_authorization != "Bearer {token}") {{ return 401; }}
      proxy_pass http://127.0.0.1:{upstream};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_read_timeout 300s;
    }}
  }}
}}
"""


def make_pki(d: Path) -> Path:
    """A private CA and a server certificate for 127.0.0.1 / localhost signed by it (openssl CLI)."""
    openssl = shutil.which("openssl")
    if not openssl:
        pytest.fail("openssl is not installed", pytrace=False)

    def run(*args: str) -> None:
        done = subprocess.run([openssl, *args], cwd=d, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr

    run(
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "1",
        "-subj",
        "/CN=MeMo test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    )
    run(
        "req",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
    )
    (d / "ext.cnf").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\n"
        "extendedKeyUsage=serverAuth\n"
    )
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "server.pem", "-days", "1", "-extfile", "ext.cnf")  # fmt: skip
    return d / "ca.pem"


def nginx_exe() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if not found:
        pytest.fail("nginx is not installed: run scripts/install_nginx.sh (CI does)", pytrace=False)
    return found


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    d = tmp_path_factory.mktemp("tls")
    ca = make_pki(d)
    upstream, port = free_port(), free_port()
    chroma = start_chroma(d / "data", upstream, d / "chroma.log")
    (d / "nginx.conf").write_text(NGINX_CONF.format(d=d, port=port, upstream=upstream, token=TOKEN))
    nginx = subprocess.Popen([nginx_exe(), "-c", str(d / "nginx.conf"), "-p", str(d)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)  # fmt: skip
    ctx = ssl.create_default_context(cafile=str(ca))
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"https://127.0.0.1:{port}/api/v2/heartbeat", context=ctx, timeout=1)
        except urllib.error.HTTPError as exc:
            if exc.code == 401:
                break  # up, and asking for the token
        except OSError:
            pass
        if nginx.poll() is not None or time.monotonic() > deadline:
            stop(chroma)
            err = nginx.stderr.read().decode() if nginx.stderr else ""
            pytest.fail(
                f"nginx did not start: {err} {(d / 'error.log').read_text() if (d / 'error.log').exists() else ''}"
            )
        time.sleep(0.2)
    yield port, ca
    nginx.terminate()
    nginx.wait(timeout=15)
    stop(chroma)


def connect(port: int, **knobs: object) -> Memory:
    """What `Memory.connect("127.0.0.1", port, ssl=..., ca_file=..., token=...)` does once core passes
    the knobs through (docs/reliability.md); until then, the same through `ChromaStore.server`."""
    emb = HashingEmbedder()
    store = ChromaStore.server("127.0.0.1", port, dim=emb.dim, embedder_name=emb.name, **knobs)  # type: ignore[arg-type]
    return Memory(store, embedder=emb, audit=audit_log_for(store))


def test_connects_over_tls_with_a_token_and_a_private_ca(proxy: tuple[int, Path]) -> None:
    port, ca = proxy
    with warnings.catch_warnings():
        warnings.simplefilter("error", InsecureConnectionWarning)  # loopback + TLS + token: no warning
        mem = connect(port, ssl=True, ca_file=str(ca), token=TOKEN)
    mem.remember("Alice's locker is number 42", scope=ALICE)
    assert mem.search("locker", scope=ALICE, k=1)[0].record.text == "Alice's locker is number 42"


def test_without_the_token_the_proxy_refuses(proxy: tuple[int, Path]) -> None:
    port, ca = proxy
    with pytest.raises(StoreUnavailable, match="401"):
        connect(port, ssl=True, ca_file=str(ca))
    with pytest.raises(StoreUnavailable, match="401"):
        connect(port, ssl=True, ca_file=str(ca), token="wrong")
    # and the memories cannot be read around MeMo with plain HTTP either
    ctx = ssl.create_default_context(cafile=str(ca))
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"https://127.0.0.1:{port}/api/v2/tenants/default_tenant/databases/default_database/collections",
                               context=ctx, timeout=5)  # fmt: skip
    assert err.value.code == 401


def test_a_client_that_does_not_trust_the_ca_is_refused(proxy: tuple[int, Path]) -> None:
    port, _ = proxy
    with pytest.raises(StoreUnavailable, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        connect(port, ssl=True, token=TOKEN, retries=0)


def test_non_loopback_without_tls_and_credentials_warns_loudly() -> None:
    remote = {"host": "10.11.12.13", "port": 8000}
    with pytest.warns(InsecureConnectionWarning, match="without TLS and credentials"):
        assert warn_if_insecure(ServerOptions(**remote))  # type: ignore[arg-type]
    with pytest.warns(InsecureConnectionWarning, match="without credentials"):
        assert warn_if_insecure(ServerOptions(**remote, ssl=True))  # type: ignore[arg-type]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not warn_if_insecure(ServerOptions(**remote, ssl=True, token="t"))  # type: ignore[arg-type]
        assert not warn_if_insecure(ServerOptions(host="127.0.0.1", port=8000))
        assert not warn_if_insecure(ServerOptions(host="localhost", port=8000))
        assert not warn_if_insecure(ServerOptions(host="::1", port=8000))
