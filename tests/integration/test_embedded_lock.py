"""Several processes on one embedded directory (#18.2): the rule is one process per directory.

A second process gets `StoreLocked` naming `chroma run` (the multi-process path) and writes
nothing; the lock dies with its process (`kill -9` included); the audit chain stays whole."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from _servers import ENV, ROOT

from shared_core import MemoError, Memory, Scope
from shared_core.embed import HashingEmbedder
from shared_core.governance.access import Principal, Role
from shared_core.store.chroma_lock import StoreLocked

HOLDER = textwrap.dedent(
    """
    import sys, time
    from shared_core import Memory, Scope
    from shared_core.embed import HashingEmbedder
    mem = Memory.open(sys.argv[1], embedder=HashingEmbedder())
    mem.remember("written by the holder process", scope=Scope(tenant="acme", user="holder"))
    print("ready", flush=True)
    time.sleep(300)
    """
)

SECOND = textwrap.dedent(
    """
    import sys
    from shared_core import Memory, Scope
    from shared_core.embed import HashingEmbedder
    try:
        mem = Memory.open(sys.argv[1], embedder=HashingEmbedder())
    except Exception as exc:
        print(type(exc).__name__, "|", exc, flush=True)
        raise SystemExit(3)
    note = sys.argv[2] if len(sys.argv) > 2 else "written by the second process"
    mem.remember(note, scope=Scope(tenant="acme", user="second"))
    mem.close()
    print("wrote", flush=True)
    """
)


def _holder(path: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV, cwd=ROOT)  # fmt: skip
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.strip() == "ready", proc.stderr.read() if proc.stderr else ""
    return proc


def _second(path: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", SECOND, str(path), *extra], capture_output=True, text=True, env=ENV,
                          cwd=ROOT, timeout=300)  # fmt: skip


def test_a_second_process_is_refused_with_a_named_error(tmp_path: Path) -> None:
    path = tmp_path / "store"
    holder = _holder(path)
    try:
        with pytest.raises(StoreLocked) as err:  # this process is a second process too
            Memory.open(path, embedder=HashingEmbedder())
        assert isinstance(err.value, MemoError)
        assert "chroma run" in str(err.value) and str(holder.pid) in str(err.value)
        done = _second(path)
        assert done.returncode == 3 and "chroma run" in done.stdout, done.stdout + done.stderr[-2000:]
    finally:
        holder.send_signal(signal.SIGKILL)  # kill -9: the kernel releases the lock
        holder.wait(timeout=30)
    done = _second(path)
    assert done.returncode == 0 and "wrote" in done.stdout, done.stderr[-2000:]
    mem = Memory.open(path, embedder=HashingEmbedder())
    assert [r.text for r in mem.records(Scope(tenant="acme", user="holder"))] == [
        "written by the holder process"
    ]
    assert [r.text for r in mem.records(Scope(tenant="acme", user="second"))] == [
        "written by the second process"
    ]
    assert mem.governor.audit_verify(Principal(id="audrey", role=Role.AUDITOR)).ok
    mem.close()


def test_one_process_may_open_a_directory_twice_and_close_releases_it(tmp_path: Path) -> None:
    path = tmp_path / "store"
    first = Memory.open(path, embedder=HashingEmbedder())
    second = Memory.open(path, embedder=HashingEmbedder())  # same process: shared, counted
    second.remember("from the second handle", scope=Scope(tenant="acme", user="u"))
    second.close()
    done = _second(path)
    assert done.returncode == 3 and "StoreLocked" in done.stdout or "another process" in done.stdout
    first.close()
    done = _second(path)
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]


def test_mixed_writers_in_turn_keep_the_audit_chain(tmp_path: Path) -> None:
    """Processes that take turns (each waits for the lock to be free) never break the chain."""
    path = tmp_path / "store"
    notes = [
        "Ann booked the ferry to Bergen",
        "Ben repaired the garden shed roof",
        "Cat adopted a grey kitten",
    ]
    for note in notes:
        deadline = time.monotonic() + 60
        while True:
            done = _second(path, note)
            if done.returncode == 0 or time.monotonic() > deadline:
                break
        assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    mem = Memory.open(path, embedder=HashingEmbedder())
    report = mem.governor.audit_verify(Principal(id="audrey", role=Role.AUDITOR))
    assert report.ok and report.count >= 3, report
    assert sorted(r.text for r in mem.records(Scope(tenant="acme", user="second"))) == sorted(notes)
    mem.close()
