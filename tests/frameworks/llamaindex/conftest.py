"""LlamaIndex's own tests, run twice: against the built-in class and against MeMo's, only the class swapped.

Each upstream test takes the `impl` fixture: `impl.name` is "llama_index" (the built-in component, the
reference) or "memo". Where a test builds a `ChatMemoryBuffer`, `Memory` or memory block, it asks
`impl` for one; everything else is the upstream test as written for llama-index-core 0.14.25.
Deliberate differences are marked with `excused(...)` and listed in docs/adapters.md (LlamaIndex part).

LlamaIndex's own test suite sets `Settings.llm` to its `MockLLM`; `mock_settings` does the same here
(offline, the default `Settings.llm` needs llama-index-llms-openai).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from li_upstream_support import Impl
from llama_index.core import MockEmbedding, Settings
from llama_index.core.llms.mock import MockLLM


@pytest.fixture(params=["llama_index", "memo"])
def impl(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Impl]:
    it = Impl(request.param, tmp_path / "memo-store", request)
    yield it
    it.close()


@pytest.fixture(autouse=True)
def mock_settings() -> Iterator[None]:
    """LlamaIndex's tests run with its MockLLM / MockEmbedding as the global defaults."""
    llm, embed = Settings._llm, Settings._embed_model
    Settings.llm = MockLLM()
    Settings.embed_model = MockEmbedding(embed_dim=8)
    yield
    Settings._llm, Settings._embed_model = llm, embed
