"""Store trouble is bounded and named (#18.3), against a real `chroma run`: a closed port, a killed
server and a hung server (a socket that accepts and never answers) give `StoreUnavailable` naming
host and port within the documented deadline; after a restart the same Memory works again."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from _servers import free_port, start_chroma, stop

from shared_core import Memory, Scope
from shared_core.embed import HashingEmbedder
from shared_core.errors import InvalidInput, StoreUnavailable
from shared_core.store.chroma import ChromaStore
from shared_core.store.chroma_server import ServerOptions

pytestmark = [pytest.mark.integration, pytest.mark.enable_socket]

ALICE = Scope(tenant="acme", user="alice")
KNOBS = {"timeout": 1.0, "retries": 1, "backoff": 0.1}
DEADLINE = ServerOptions(host="127.0.0.1", port=1, **KNOBS).deadline()  # 2.1 s


def test_connect_to_a_closed_port_is_store_unavailable_not_invalid_input() -> None:
    port = free_port()
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as err:
        Memory.connect("127.0.0.1", port, embedder=HashingEmbedder())
    assert not isinstance(err.value, InvalidInput)
    assert f"127.0.0.1:{port}" in str(err.value) and "Connect" in str(err.value)
    assert time.monotonic() - started < ServerOptions(host="h", port=1).deadline() + 2


@pytest.fixture
def hung_port() -> Iterator[int]:
    """A socket that accepts connections and never answers."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    held: list[socket.socket] = []
    stop_flag = threading.Event()

    def accept() -> None:
        srv.settimeout(0.2)
        while not stop_flag.is_set():
            try:
                conn, _ = srv.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(srv.getsockname()[1])
    stop_flag.set()
    thread.join(timeout=5)
    for c in held:
        c.close()
    srv.close()


def test_a_hung_server_gives_store_unavailable_within_the_deadline(hung_port: int) -> None:
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as err:
        ChromaStore.server("127.0.0.1", hung_port, **KNOBS)  # type: ignore[arg-type]
    took = time.monotonic() - started
    assert f"127.0.0.1:{hung_port}" in str(err.value) and "Timeout" in str(err.value)
    assert DEADLINE - 1.0 <= took <= DEADLINE + 2.0, took


def test_killed_server_then_restart_recovers_without_reopening(tmp_path: Path) -> None:
    port = free_port()
    data, log = tmp_path / "data", tmp_path / "server.log"
    proc = start_chroma(data, port, log)
    try:
        store = ChromaStore.server("127.0.0.1", port, dim=256, embedder_name="hashing-256", **KNOBS)  # type: ignore[arg-type]
        mem = Memory(store, embedder=HashingEmbedder())
        mem.remember("Alice rides a red bicycle to work", scope=ALICE)
        stop(proc, kill=True)  # kill -9
        started = time.monotonic()
        with pytest.raises(StoreUnavailable) as err:
            mem.search("bicycle", scope=ALICE, k=1)
        assert time.monotonic() - started <= DEADLINE + 2.0
        assert f"127.0.0.1:{port}" in str(err.value)
        proc = start_chroma(data, port, log)  # same directory, same port
        hits = mem.search("what does alice ride", scope=ALICE, k=1)  # the same Memory, not reopened
        assert hits and "red bicycle" in hits[0].record.text
        mem.remember("Alice also owns a canoe", scope=ALICE)
        assert len(mem.records(ALICE)) == 2
    finally:
        stop(proc)
