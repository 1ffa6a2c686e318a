"""Helpers for the upstream LlamaIndex tests (see conftest.py): the class under test, and markers."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from llama_index.core import Settings
from llama_index.core.memory import ChatMemoryBuffer
from llama_index.core.memory import Memory as LIMemory

from llamaindex_memo import MemoMemory
from shared_core import Memory, Scope
from shared_core.embed import HashingEmbedder

UPSTREAM_VERSION = "llama-index-core 0.14.25"
SCOPE = Scope(tenant="upstream", user="u1")


def excused(impl: Impl, reason: str) -> None:
    """A deliberate difference of MeMo's class (docs/adapters.md (LlamaIndex part) lists each with its switch)."""
    if impl.name == "memo":
        impl.request.applymarker(pytest.mark.xfail(strict=True, reason=f"deliberate difference: {reason}"))


def builtin_fails(impl: Impl, reason: str) -> None:
    """The built-in class of the installed version fails this upstream test: a strict xfail for it only."""
    if impl.name == "llama_index":
        impl.request.applymarker(pytest.mark.xfail(strict=True, reason=f"built-in fails: {reason}"))


def installed_fails(impl: Impl, reason: str) -> None:
    """A test newer than the installed llama-index-core: it fails with either class (strict xfail for both)."""
    impl.request.applymarker(pytest.mark.xfail(strict=True, reason=f"fails with 0.14.25 itself: {reason}"))


class Impl:
    """The class under test: LlamaIndex's built-in one, or MeMo's in its place."""

    def __init__(self, name: str, store: Path, request: pytest.FixtureRequest) -> None:
        self.name = name
        self.request = request
        self._store = store
        self._mem: Memory | None = None
        self._semantic: Memory | None = None

    @property
    def mem(self) -> Memory:
        if self._mem is None:
            self._mem = Memory.open(self._store, embedder=HashingEmbedder(dim=256))  # fast, not semantic
        return self._mem

    @property
    def semantic_mem(self) -> Memory:
        """What a user gets by default: the built-in MiniLM embedder (offline), for tests of recall."""
        if self._semantic is None:
            self._semantic = Memory.open(self._store.with_name("memo-minilm"))
        return self._semantic

    # ChatMemoryBuffer's place
    @property
    def buffer_cls(self) -> type[Any]:
        return ChatMemoryBuffer if self.name == "llama_index" else MemoMemory

    def buffer(self, **kw: Any) -> Any:
        """`ChatMemoryBuffer.from_defaults(**kw)`, or MeMo's in its place (a fresh session of one user)."""
        if self.name == "llama_index":
            return ChatMemoryBuffer.from_defaults(**kw)
        return MemoMemory.from_defaults(memory=self.mem, scope=SCOPE, session_id=uuid.uuid4().hex, **kw)

    def from_string(self, text: str) -> Any:
        return self.buffer_cls.from_string(text)

    def from_dict(self, data: dict[str, Any]) -> Any:
        return self.buffer_cls.from_dict(data)

    # Memory's place (the class chat engines default to)
    def memory(self, **kw: Any) -> Any:
        """`Memory(**kw)` (or `Memory.from_defaults`), or MeMo's with the same limits."""
        if self.name == "llama_index":
            return LIMemory.from_defaults(**kw)
        kw.pop("token_flush_size", None)  # nothing is flushed: every turn is stored
        kw.setdefault("session_id", uuid.uuid4().hex)
        return MemoMemory.from_defaults(memory=self.mem, scope=SCOPE, **kw)

    def engine_memory(self, chat_history: list[Any] | None = None, llm: Any = None) -> Any:
        """What a chat engine's `from_defaults` builds when given no memory (Memory, context window - 256)."""
        window = (llm or Settings.llm).metadata.context_window
        return self.memory(chat_history=chat_history, token_limit=window - 256)

    def close(self) -> None:
        for m in (self._mem, self._semantic):
            if m is not None:
                m.close()
