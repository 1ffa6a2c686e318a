"""Every Store passes the same contract: in memory and embedded Chroma (server: tests/integration)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shared_core.store import InMemoryStore
from shared_core.store.chroma import ChromaStore
from shared_core.testing import StoreContract


class TestInMemoryStore(StoreContract):
    @pytest.fixture
    def store(self) -> InMemoryStore:
        return InMemoryStore()


class TestChromaPersistentStore(StoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[ChromaStore]:
        s = ChromaStore.persistent(tmp_path / "chroma", prefix="contract", dim=64)
        yield s
        s.close()
