"""`memo worker` against a real `chroma run`: writer processes queue extraction jobs, two worker
processes (the CLI, as a deployment runs it) take them, and the memories reach every process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import uuid

import pytest

from shared_core import Kind, MemoConfig, Memory, Scope
from shared_core.config import ExtractionConfig
from shared_core.embed import HashingEmbedder

pytestmark = [pytest.mark.integration, pytest.mark.enable_socket]

WRITER = textwrap.dedent(
    """
    import sys
    from shared_core import Memory, MemoConfig, Scope
    from shared_core.config import ExtractionConfig
    from shared_core.embed import HashingEmbedder
    host, port, prefix, who = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    cfg = MemoConfig(collection_prefix=prefix, extraction=ExtractionConfig(external_worker=True))
    mem = Memory.connect(host, port, embedder=HashingEmbedder(), config=cfg)
    scope = Scope(tenant="acme", user=who)
    for i, city in enumerate(["Lisbon", "Porto", "Braga"]):
        r = mem.add_messages([{"role": "user", "content": f"I am allergic to peanuts and I visited {city}", "id": f"{who}-{i}"},
                              {"role": "assistant", "content": f"Noted, {city}.", "id": f"{who}-{i}-a"}],
                             scope=scope, session_id=f"s{i}")
        assert r.extraction == "queued", r
    hits = mem.search("peanuts", scope=scope, k=3)
    assert hits and all(h.record.kind.value == "episode" for h in hits), hits  # turns at once, no memory yet
    mem.close()
    print("done", flush=True)
    """
)


def _run(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def test_memo_worker_processes_extract_for_writer_processes(chroma_server: tuple[str, int]) -> None:
    host, port = chroma_server
    prefix = "w" + uuid.uuid4().hex[:10]
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    users = ["ann", "ben", "cat"]
    writers = [_run([sys.executable, "-c", WRITER, host, str(port), prefix, u], env) for u in users]
    for p in writers:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0 and "done" in out, err[-3000:]
    cfg = MemoConfig(collection_prefix=prefix, extraction=ExtractionConfig(external_worker=True))
    mem = Memory.connect(host, port, embedder=HashingEmbedder(), config=cfg)
    assert mem.stats()["jobs_waiting"] == 9  # one job per exchange, none run by the writers
    assert all(r.kind is Kind.EPISODE for u in users for r in mem.records(Scope(tenant="acme", user=u)))
    memo = [sys.executable, "-m", "shared_core.cli.main"]
    worker_args = [
        "worker",
        "--host",
        host,
        "--port",
        str(port),
        "--prefix",
        prefix,
        "--until-empty",
        "--poll",
        "0.1",
    ]
    workers = [_run([*memo, *worker_args], env) for _ in range(2)]
    outs = []
    for p in workers:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-3000:]
        outs.append(out)
    done = sum(int(o.rsplit(": ", 1)[1].split(" jobs")[0]) for o in outs)
    assert done >= 9, outs  # every job run (at least once: two workers share the queue)
    time.sleep(mem.engine.revision_ttl + 0.1)
    assert mem.stats()["jobs_waiting"] == 0
    for u in users:
        facts = [r.text for r in mem.records(Scope(tenant="acme", user=u)) if r.kind is not Kind.EPISODE]
        assert any("peanut" in t for t in facts), (u, facts)
        assert all(any(c in t for t in facts) for c in ("Lisbon", "Porto", "Braga")), (u, facts)
    mem.close()
