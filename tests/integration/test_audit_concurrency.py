"""Several processes write through one Chroma server: the audit chain stays whole and verifiable."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid

import pytest

from shared_core import MemoConfig, Memory, Scope
from shared_core.embed import HashingEmbedder
from shared_core.governance.access import Principal, Role

pytestmark = [pytest.mark.integration, pytest.mark.enable_socket]

WRITER = textwrap.dedent(
    """
    import sys
    from shared_core import Memory, MemoConfig, Scope
    from shared_core.embed import HashingEmbedder
    host, port, prefix, who = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    mem = Memory.connect(host, port, embedder=HashingEmbedder(), config=MemoConfig(collection_prefix=prefix))
    scope = Scope(tenant="acme", user=who)
    for i in range(15):
        mem.add_messages([{"role": "user", "content": f"{who} note {i}: the build {i} passed", "id": f"{who}-{i}"}],
                         scope=scope, session_id="s1")
    print("done", flush=True)
    """
)


def test_concurrent_writers_keep_one_valid_chain(chroma_server: tuple[str, int]) -> None:
    host, port = chroma_server
    prefix = "a" + uuid.uuid4().hex[:10]
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, host, str(port), prefix, who],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )  # fmt: skip
        for who in ("ann", "ben", "cat", "dan")
    ]
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0 and "done" in out, err[-2000:]
    mem = Memory.connect(host, port, embedder=HashingEmbedder(), config=MemoConfig(collection_prefix=prefix))
    report = mem.governor.audit_verify(Principal(id="audrey", role=Role.AUDITOR))
    assert report.ok, report
    events = mem.engine.audit.events() if mem.engine.audit else []
    assert [e.seq for e in events] == list(range(len(events)))
    per_user = {
        who: [e for e in events if e.scope is not None and e.scope.user == who]
        for who in ("ann", "ben", "cat", "dan")
    }
    for who, evs in per_user.items():
        raw = [e for e in evs if e.reason == "raw turn"]
        assert len(raw) == 15, who
        assert len(mem.records(Scope(tenant="acme", user=who), kinds=["episode"])) == 15
