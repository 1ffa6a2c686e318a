"""Shared fixtures: a real `chroma run` server on a free 127.0.0.1 port, stores, memories."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared_core import MemoConfig, Memory, Scope
from shared_core.clock import ManualClock
from shared_core.embed import HashingEmbedder

os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def chroma_binary() -> str:
    exe = Path(sys.executable).parent / "chroma"
    found = str(exe) if exe.exists() else shutil.which("chroma")
    if not found:
        pytest.fail(
            "the `chroma` CLI is not installed in this environment (pip install chromadb)", pytrace=False
        )
    return found


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """Start `chroma run` on a free loopback port; fail loudly if it is not ready in 60 s."""
    path = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    log = open(path / "server.log", "w")
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    proc = subprocess.Popen(
        [chroma_binary(), "run", "--path", str(path / "data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    ready = False
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1) as r:
                ready = r.status == 200
        except OSError:
            pass
        if ready:
            break
        time.sleep(0.2)
    if not ready:
        proc.kill()
        log.close()
        pytest.fail(f"chroma server did not start on 127.0.0.1:{port}:\n{(path / 'server.log').read_text()[-3000:]}",
                    pytrace=False)  # fmt: skip
    yield "127.0.0.1", port
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def embedder() -> HashingEmbedder:
    return HashingEmbedder(dim=256)


@pytest.fixture
def alice() -> Scope:
    return Scope(tenant="acme", user="alice")


@pytest.fixture
def bob() -> Scope:
    return Scope(tenant="acme", user="bob")


@pytest.fixture
def mem(tmp_path: Path, embedder: HashingEmbedder, clock: ManualClock) -> Iterator[Memory]:
    """An embedded-Chroma memory in a fresh directory, hashing embedder, manual clock."""
    m = Memory.open(tmp_path / "store", embedder=embedder, clock=clock)
    yield m
    m.close()


@pytest.fixture
def server_mem(
    chroma_server: tuple[str, int], embedder: HashingEmbedder, clock: ManualClock
) -> Iterator[Memory]:
    host, port = chroma_server
    cfg = MemoConfig(collection_prefix="t" + uuid.uuid4().hex[:12])
    m = Memory.connect(host, port, embedder=embedder, config=cfg, clock=clock)
    yield m
    m.close()
