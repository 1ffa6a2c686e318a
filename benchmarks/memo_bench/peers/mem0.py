"""`mem0`: mem0ai's `Memory` with `add(..., infer=False)` on a local Chroma, telemetry off.

mem0ai pins protobuf<7, which clashes with MeMo's environment; it runs in `benchmarks/peers-venv`
(see `benchmarks/setup_peers.sh`), and the CLI re-runs itself there when mem0 is missing here.
Each turn is one `add` with the turn's dia_id, session and date as metadata (mem0 OSS rejects the
`timestamp` argument). `search` uses `threshold=0` so that the ranking is never cut short.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..locomo import LocomoConversation
from ..systems import Item, Progress, RankedSystem
from .embeddings import langchain_embeddings

_MEM0_DIR: str | None = None


def _prepare_env() -> None:
    """MEM0_TELEMETRY and MEM0_DIR must be set before mem0 is imported (it writes $HOME/.mem0 otherwise)."""
    global _MEM0_DIR
    os.environ["MEM0_TELEMETRY"] = "False"
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    if _MEM0_DIR is None:
        _MEM0_DIR = tempfile.mkdtemp(prefix="memo-bench-mem0-")
        atexit.register(shutil.rmtree, _MEM0_DIR, True)
    os.environ["MEM0_DIR"] = _MEM0_DIR
    for name in ("mem0", "mem0.memory", "mem0.vector_stores"):
        logging.getLogger(name).setLevel(logging.ERROR)


class Mem0System(RankedSystem):
    name = "mem0"

    def __init__(self, path: Path, embedder: Any) -> None:
        super().__init__()
        _prepare_env()
        from langchain_core.language_models.fake_chat_models import FakeListChatModel
        from mem0 import Memory

        self.path = path
        self.memory = Memory.from_config(
            {
                "vector_store": {
                    "provider": "chroma",
                    "config": {"collection_name": "mem0", "path": str(path / "chroma")},
                },
                "embedder": {
                    "provider": "langchain",
                    "config": {"model": langchain_embeddings(embedder), "embedding_dims": embedder.dim},
                },
                # never called: infer=False adds raw messages without the LLM
                "llm": {"provider": "langchain", "config": {"model": FakeListChatModel(responses=["{}"])}},
                "history_db_path": str(path / "history.db"),
            }
        )
        self.user_id = ""

    def ingest(self, conversation: LocomoConversation, progress: Progress | None = None) -> None:
        self.user_id = conversation.sample_id
        for session in conversation.sessions:
            for t in session.turns:
                meta: dict[str, Any] = {"dia_id": t.dia_id, "session": session.number}
                if session.date_time:
                    meta["session_date"] = session.date_time
                self.memory.add(
                    [{"role": "user", "content": t.line, "name": t.speaker}],
                    user_id=self.user_id,
                    infer=False,
                    metadata=meta,
                )
            if progress:
                progress(len(session.turns))

    def rank(self, question: str, depth: int) -> list[Item]:
        res = self.memory.search(question, top_k=depth, filters={"user_id": self.user_id}, threshold=0.0)
        rows = res.get("results", []) if isinstance(res, dict) else res
        items = []
        for r in rows:
            dia = (r.get("metadata") or {}).get("dia_id")
            items.append(Item(str(r.get("memory", "")), (str(dia),) if dia else (), r.get("score")))
        return items

    def close(self) -> None:
        super().close()
        try:
            self.memory.vector_store.client.clear_system_cache()
        except Exception:
            pass


def make(embedder: Any) -> tuple[Callable[[Path], Mem0System], dict[str, Any]]:
    import importlib.metadata as md

    _prepare_env()
    cfg = {
        "versions": {p: md.version(p) for p in ("mem0ai", "chromadb", "protobuf", "langchain-core")},
        "add": "one add([{'role': 'user', 'content': 'Speaker: text [image: caption]', 'name': speaker}], infer=False) per turn",
        "metadata": ["dia_id", "session", "session_date"],
        "search": "search(question, top_k=depth, filters={'user_id': sample_id}, threshold=0.0)",
        "telemetry": "MEM0_TELEMETRY=False, MEM0_DIR=<temp dir>",
        "timestamps": "mem0 OSS rejects add(timestamp=...); the session date is kept as metadata",
    }
    return (lambda path: Mem0System(path, embedder)), cfg


class Mem0Scale:
    """Scale adapter: one mem0 Memory, `add(text, user_id=user, infer=False)` per memory."""

    name = "mem0"
    persistent = True

    def __init__(self, path: Path, embedder: Any) -> None:
        self.inner = Mem0System(path, embedder)

    def add(self, user: str, memories: Any) -> None:
        for m in memories:
            self.inner.memory.add(m.text, user_id=user, infer=False, metadata={"kind": m.kind})

    def search(self, user: str, query: str, k: int) -> list[str]:
        res = self.inner.memory.search(query, top_k=k, filters={"user_id": user}, threshold=0.0)
        rows = res.get("results", []) if isinstance(res, dict) else res
        return [str(r.get("memory", "")) for r in rows]

    def close(self) -> None:
        self.inner.close()


def make_scale(path: Path, embedder: Any) -> Mem0Scale:
    return Mem0Scale(path, embedder)
