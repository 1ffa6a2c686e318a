"""The store contract and a full Memory round trip against a real `chroma run` server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from shared_core import Memory, Scope
from shared_core.store.chroma import ChromaStore
from shared_core.testing import StoreContract

pytestmark = [pytest.mark.integration, pytest.mark.enable_socket]


class TestChromaServerStore(StoreContract):
    @pytest.fixture
    def store(self, chroma_server: tuple[str, int]) -> Iterator[ChromaStore]:
        host, port = chroma_server
        s = ChromaStore.server(host, port, prefix="c" + uuid.uuid4().hex[:10], dim=64)
        yield s
        s.close()


def test_server_round_trip_and_second_client_sees_writes(
    server_mem: Memory, chroma_server: tuple[str, int]
) -> None:
    alice = Scope(tenant="acme", user="alice")
    server_mem.add_messages(
        [{"role": "user", "content": "Deploys fail at the OAuth step again"}], scope=alice, session_id="s1"
    )
    server_mem.remember("Prefers strict typing and test-first patches", scope=alice, kind="preference")
    server_mem.flush()  # another process sees a write once it is applied (bounded delay; flush waits)
    host, port = chroma_server
    other = Memory.connect(host, port, embedder=server_mem.engine.embedder, config=server_mem.config)
    hits = other.search("what does the team prefer in patches?", scope=alice, k=5)
    assert hits and hits[0].record.text == "Prefers strict typing and test-first patches"
    # a write by the second client is seen by the first, lexical index included
    other.remember("The staging cluster is called bluebird", scope=alice)
    other.flush()
    hits = server_mem.search("bluebird", scope=alice, k=3)
    assert hits[0].record.text == "The staging cluster is called bluebird"
    assert hits[0].components["relevance"] > 0
