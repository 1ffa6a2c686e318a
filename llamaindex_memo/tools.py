"""Memory tools for LlamaIndex agents: search, save and forget memories of one scope.

```python
agent = FunctionAgent(tools=memory_tools(Memory.open("./memo_data"), Scope(user="alice")), llm=llm)
```
Tool results are JSON (memory text is data, never instructions). Errors are `MemoError`s,
which LlamaIndex agents hand back to the model as the tool's error output.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from llama_index.core.tools import FunctionTool

from shared_core import AsyncMemory, Memory, Scope
from shared_core.models import Hit, MemoryRecord

from ._convert import as_scope
from ._store import as_memory


def _hits(hits: list[Hit]) -> str:
    return json.dumps(
        [
            {
                "id": h.id,
                "text": h.text,
                "kind": h.record.kind.value,
                "date": h.record.event_time.date().isoformat(),
                "score": h.score,
            }
            for h in hits
        ],
        ensure_ascii=False,
    )


def _saved(rec: MemoryRecord) -> str:
    return json.dumps({"saved": rec.id, "text": rec.text, "kind": rec.kind.value}, ensure_ascii=False)


def memory_tools(
    memory: Memory | AsyncMemory, scope: Scope | Mapping[str, Any] | None = None, *, k: int = 5
) -> list[FunctionTool]:
    """`search_memory`, `save_memory` and `forget_memory`, bound to one scope (sync and async)."""
    amem = AsyncMemory(as_memory(memory))
    mem, sc = amem.sync, as_scope(scope)
    meta = {"via": "llamaindex_tool"}

    def search_memory(query: str) -> str:
        """Search long-term memory about the user. Returns a JSON list of {id, text, kind, date, score}."""
        return _hits(mem.search(query, sc, k=k))

    async def asearch_memory(query: str) -> str:
        return _hits(await amem.search(query, sc, k=k))

    def save_memory(text: str, kind: str = "fact") -> str:
        """Save a lasting memory about the user. kind: fact, preference, event or commitment."""
        return _saved(mem.remember(text, sc, kind=kind, metadata=meta))

    async def asave_memory(text: str, kind: str = "fact") -> str:
        return _saved(await amem.remember(text, sc, kind=kind, metadata=meta))

    def forget_memory(memory_id: str) -> str:
        """Delete a memory by the id search_memory returned."""
        return json.dumps({"deleted": mem.delete([memory_id], sc)})

    async def aforget_memory(memory_id: str) -> str:
        return json.dumps({"deleted": await amem.delete([memory_id], sc)})

    return [
        FunctionTool.from_defaults(fn=search_memory, async_fn=asearch_memory),
        FunctionTool.from_defaults(fn=save_memory, async_fn=asave_memory),
        FunctionTool.from_defaults(fn=forget_memory, async_fn=aforget_memory),
    ]
