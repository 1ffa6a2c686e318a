"""Helpers for integration tests that start, kill and restart their own `chroma run` (and nginx)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ENV = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "ORT_DISABLE_TELEMETRY": "1", "HF_HUB_OFFLINE": "1"}
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def chroma_exe() -> str:
    exe = Path(sys.executable).parent / "chroma"
    if not exe.exists():
        pytest.fail("the `chroma` CLI is not installed next to this Python", pytrace=False)
    return str(exe)


def start_chroma(data: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    """`chroma run` on 127.0.0.1:port; fails the test loudly if it is not ready in 60 s."""
    out = open(log, "ab")
    proc = subprocess.Popen(
        [chroma_exe(), "run", "--path", str(data), "--host", "127.0.0.1", "--port", str(port)],
        stdout=out, stderr=subprocess.STDOUT, env=ENV,
    )  # fmt: skip
    out.close()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1) as r:
                if r.status == 200:
                    return proc
        except OSError:
            pass
        time.sleep(0.2)
    proc.kill()
    pytest.fail(f"chroma run did not start on 127.0.0.1:{port}: {log.read_text()[-2000:]}", pytrace=False)


def stop(proc: subprocess.Popen[bytes], *, kill: bool = False) -> None:
    if proc.poll() is None:
        proc.kill() if kill else proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
