"""The one place where LlamaIndex types become MeMo types and back (messages, nodes, scopes).

Nothing here decides anything: no scoring, no policy, no store access.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from llama_index.core.base.llms.types import ChatMessage, MessageRole, TextBlock
from llama_index.core.schema import NodeWithScore, TextNode

from shared_core import AsyncMemory, InvalidInput, Memory, Scope, ScopeError, validate
from shared_core.models import Hit, MemoryRecord

# LlamaIndex has more roles than MeMo; each maps onto the nearest MeMo turn role.
_ROLE = {
    MessageRole.SYSTEM: "system",
    MessageRole.DEVELOPER: "system",
    MessageRole.USER: "user",
    MessageRole.ASSISTANT: "assistant",
    MessageRole.CHATBOT: "assistant",
    MessageRole.MODEL: "assistant",
}
_TOOL_ROLES = {MessageRole.TOOL, MessageRole.FUNCTION}

# metadata a node shows the LLM (the rest stays available to code)
_LLM_KEYS = ("kind", "date", "session_id")


def as_memory(memory: Memory | AsyncMemory) -> Memory:
    """Accept either facade; adapters keep the sync `Memory` and wrap it in `AsyncMemory` for coroutines."""
    if isinstance(memory, AsyncMemory):
        return memory.sync
    if isinstance(memory, Memory):
        return memory
    raise InvalidInput(f"memory must be a shared_core Memory or AsyncMemory, got {type(memory).__name__}")


def as_scope(scope: Scope | Mapping[str, Any] | None) -> Scope:
    """A readable scope (user, agent or session set), else `ScopeError`."""
    if scope is None:
        raise ScopeError("a scope is required, e.g. Scope(tenant='acme', user='alice')")
    return validate.scope(scope)


def session_id_for(scope: Scope, session_id: str | None) -> str:
    if session_id is None:
        session_id = scope.session or uuid.uuid4().hex
    return validate.identifier(session_id, "session_id")


def bind(
    memory: Memory | AsyncMemory, scope: Scope | Mapping[str, Any] | None, session_id: str | None,
    fields: Mapping[str, Any],
) -> tuple[Memory, dict[str, Any]]:  # fmt: skip
    """The memory and the pydantic fields (scope, session id, the rest) of a component bound to a scope."""
    sc = as_scope(scope)
    return as_memory(memory), {"scope": sc, "session_id": session_id_for(sc, session_id), **fields}


def _is_scratchpad(msg: ChatMessage) -> bool:
    """Tool calls and tool results: agent scratchpad with no faithful turn form (no tool_call_id)."""
    if msg.role in _TOOL_ROLES or msg.additional_kwargs.get("tool_calls"):
        return True
    has_text = bool((msg.content or "").strip())
    return not has_text and any(not isinstance(b, TextBlock) for b in msg.blocks)


def to_turn(msg: ChatMessage) -> dict[str, Any] | None:
    """A ChatMessage as a MeMo turn dict; None for agent scratchpad (tool calls / results, pure media).

    An empty text message is passed on as is: the core refuses it with `InvalidInput`.
    """
    if not isinstance(msg, ChatMessage):
        raise InvalidInput(f"expected a llama_index ChatMessage, got {type(msg).__name__}")
    if _is_scratchpad(msg):
        return None
    turn: dict[str, Any] = {"role": _ROLE.get(MessageRole(msg.role), "user"), "content": msg.content or ""}
    kw = msg.additional_kwargs
    for key in ("id", "name"):
        if isinstance(kw.get(key), str):
            turn[key] = kw[key]
    if isinstance(kw.get("timestamp"), datetime):
        turn["timestamp"] = kw["timestamp"]
    return turn


def to_turns(messages: Iterable[ChatMessage], now: datetime) -> list[dict[str, Any]]:
    """Turn dicts for one `add_messages` call. Turns without a timestamp get `now` plus their
    position in microseconds: the core stamps a whole batch with one time, and would otherwise
    return the turns of one batch in arbitrary order from `recent_turns`."""
    turns = [t for t in (to_turn(m) for m in messages) if t is not None]
    for i, t in enumerate(turns):
        t.setdefault("timestamp", now + timedelta(microseconds=i))
    return turns


def to_message(record: MemoryRecord) -> ChatMessage:
    """A stored raw turn back as a ChatMessage (its original role)."""
    role = str(record.metadata.get("role", "user"))
    return ChatMessage(role=MessageRole(role), content=record.text)


def system_message(text: str) -> ChatMessage:
    return ChatMessage(role=MessageRole.SYSTEM, content=text)


def query_text(messages: Iterable[ChatMessage] | None) -> str:
    """The latest user message's text (else the latest message with text); '' when there is none."""
    msgs = [m for m in (messages or []) if (m.content or "").strip() and not _is_scratchpad(m)]
    users = [m for m in msgs if m.role == MessageRole.USER]
    pick = users[-1] if users else (msgs[-1] if msgs else None)
    return (pick.content or "") if pick is not None else ""


def to_node(hit: Hit) -> NodeWithScore:
    """A hit as a node: a raw turn reads "speaker: text"; provenance is in the metadata, of which the
    LLM sees kind, date and session only."""
    rec, prov = hit.record, hit.record.provenance
    metadata: dict[str, Any] = {
        "memo_id": rec.id,
        "kind": rec.kind.value,
        "date": rec.event_time.date().isoformat(),
        "session_id": prov.session_id or "",
        "source_message_ids": list(prov.source_message_ids),
        "turn_timestamps": [t.isoformat() for t in prov.turn_timestamps],
        "speaker": prov.speaker or "",
        "extractor": prov.extractor,
        "origin": prov.origin.value,
        "created_at": rec.created_at.isoformat(),
    }
    hidden = [k for k in metadata if k not in _LLM_KEYS]
    node = TextNode(
        id_=rec.id,
        text=rec.index_text(),  # raw turns as "speaker: text"
        metadata=metadata,
        excluded_llm_metadata_keys=hidden,
        excluded_embed_metadata_keys=list(metadata),
    )
    return NodeWithScore(node=node, score=hit.score)
