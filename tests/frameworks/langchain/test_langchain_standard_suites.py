"""`langchain_tests`' own standard suites (tools, retriever) run against MeMo's tools and retriever.

The tools are `create_memory_tools(memory, scope)` with a fixed scope: plain LangChain tools.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from langchain_core.tools import BaseTool
from langchain_tests.integration_tests import RetrieversIntegrationTests, ToolsIntegrationTests
from langchain_tests.unit_tests import ToolsUnitTests

from langchain_memo import MemoRetriever, create_memory_tools
from shared_core import Memory, Scope
from shared_core.embed import HashingEmbedder

ALICE = Scope(tenant="acme", user="alice")
FACTS = ["Alice likes the weather in Lisbon", "The weather in Oslo is cold", "Alice's cat is called Miso",
         "Weather reports say rain tomorrow", "Alice plays the cello"]  # fmt: skip


@pytest.fixture(scope="module")
def memory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Memory]:
    mem = Memory.open(Path(tmp_path_factory.mktemp("standard")) / "store", embedder=HashingEmbedder(256))
    mem.remember_many(FACTS, ALICE)
    yield mem
    mem.close()


class _MemoryTool:
    index = 0
    _tool: BaseTool

    @pytest.fixture(autouse=True)
    def _bind(self, memory: Memory) -> None:
        type(self)._tool = create_memory_tools(memory, ALICE)[self.index]

    @property
    def tool_constructor(self) -> BaseTool:
        return self._tool


class TestSearchToolUnit(_MemoryTool, ToolsUnitTests):
    tool_invoke_params_example = {"query": "weather"}  # type: ignore[assignment]


class TestSearchToolIntegration(_MemoryTool, ToolsIntegrationTests):
    tool_invoke_params_example = {"query": "weather"}  # type: ignore[assignment]


class TestSaveToolUnit(_MemoryTool, ToolsUnitTests):
    index = 1
    tool_invoke_params_example = {"text": "Alice visited Porto"}  # type: ignore[assignment]


class TestSaveToolIntegration(_MemoryTool, ToolsIntegrationTests):
    index = 1
    tool_invoke_params_example = {"text": "Alice visited Porto"}  # type: ignore[assignment]


class TestForgetToolUnit(_MemoryTool, ToolsUnitTests):
    index = 2
    tool_invoke_params_example = {"memory_id": "no-such-memory"}  # type: ignore[assignment]


class TestForgetToolIntegration(_MemoryTool, ToolsIntegrationTests):
    index = 2
    tool_invoke_params_example = {"memory_id": "no-such-memory"}  # type: ignore[assignment]


class TestMemoRetrieverStandard(RetrieversIntegrationTests):
    _params: dict[str, Any]

    @pytest.fixture(autouse=True)
    def _bind(self, memory: Memory) -> None:
        type(self)._params = {"memory": memory, "scope": ALICE}

    @property
    def retriever_constructor(self) -> type[MemoRetriever]:
        return MemoRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return self._params

    @property
    def retriever_query_example(self) -> str:
        return "weather"


def test_tools_work_with_plain_invoke(memory: Memory) -> None:
    """Issue #12: with a fixed scope the tools need no LangGraph runtime."""
    search, save, forget = create_memory_tools(memory, ALICE)
    saved = save.invoke({"text": "Alice's sister lives in Quito"})
    rid = saved.rsplit(" ", 1)[-1]
    assert "Quito" in search.invoke({"query": "sister Quito"})
    assert rid in forget.invoke({"memory_id": rid})
    assert "Quito" not in search.invoke({"query": "sister Quito"})
