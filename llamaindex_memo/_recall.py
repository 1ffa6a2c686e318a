"""Long-term memories for a prompt: MeMo's search, minus what the prompt already holds, packed by MeMo's renderer.

Memories whose every source message is already in the returned history are left out (the model would
read them twice). The ids of the memories injected are reported to MeMo as used (`Memory.record_use`,
batched by core, off the reply's critical path).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from shared_core import Kind, Memory, Scope
from shared_core.render import Context, pack


def recall(
    memory: Memory,
    query: str,
    scope: Scope,
    *,
    budget: int,
    k: int,
    kinds: Sequence[Kind] | None,
    exclude: Collection[str] = (),
) -> Context | None:
    """The cited `<memories>` block for `query` within `budget` tokens, or None when nothing fits."""
    if budget <= 0 or not query.strip():
        return None
    hits = memory.search(query[:4000], scope, k=k, kinds=kinds)
    ex = set(exclude)
    hits = [
        h
        for h in hits
        if not (ex and h.provenance.source_message_ids and ex >= set(h.provenance.source_message_ids))
    ]
    ctx = pack(hits, budget, memory.config.render)
    if not ctx.hits:
        return None
    memory.record_use([h.id for h in ctx.hits], scope=scope)  # batched by core, off the reply's path
    return ctx
