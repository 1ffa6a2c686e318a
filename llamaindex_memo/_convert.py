"""The one place where LlamaIndex types become MeMo types and back (messages, queries, nodes, scopes).

Nothing here decides anything: no scoring, no policy, no store access.

A message MeMo can hold as text (a role and text blocks) is stored as a turn of that text. Any other
message (images, audio, documents, tool calls and results, empty content, provider kwargs) is stored
as a turn whose text describes it, and the message itself, serialized, in the turn's metadata
(`Turn.metadata`, core), so that `get()` gives the model exactly what it was given.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from llama_index.core.base.llms.types import ChatMessage, MessageRole, TextBlock, ToolCallBlock
from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode

from shared_core import InvalidInput, Scope, ScopeError, validate
from shared_core.models import Hit, MemoryRecord
from shared_core.render import as_data  # the one rule for showing stored text as data

log = logging.getLogger("llamaindex_memo")

MESSAGE_KEY = "li_message"  # the turn's metadata key holding the serialized message (`Turn.metadata`)

_ROLE = {
    MessageRole.SYSTEM: "system",
    MessageRole.DEVELOPER: "system",
    MessageRole.USER: "user",
    MessageRole.ASSISTANT: "assistant",
    MessageRole.CHATBOT: "assistant",
    MessageRole.MODEL: "assistant",
    MessageRole.TOOL: "tool",
    MessageRole.FUNCTION: "tool",
}
_PLAIN_KWARGS = {"id", "name", "timestamp", "session_id"}
# token estimates for non-text blocks: LlamaIndex `Memory`'s own defaults
_BLOCK_TOKENS = {"image": 256, "audio": 256, "video": 256, "document": 2048}
_LLM_KEYS = ("kind", "date", "session_id")


def as_scope(scope: Scope | Mapping[str, Any] | None) -> Scope:
    """A readable scope (user, agent or session set), else `ScopeError`."""
    if scope is None:
        raise ScopeError("a scope is required, e.g. Scope(tenant='acme', user='alice')")
    return validate.scope(scope)


def session_id_for(scope: Scope, session_id: str | None) -> str:
    if session_id is None:
        session_id = scope.session or uuid.uuid4().hex
    return validate.identifier(session_id, "session_id")


def _is_plain(msg: ChatMessage) -> bool:
    return all(isinstance(b, TextBlock) for b in msg.blocks) and set(msg.additional_kwargs) <= _PLAIN_KWARGS


def describe(msg: ChatMessage) -> str:
    """The text MeMo keeps (and searches) for a message: its text, else what it holds."""
    text = msg.content or ""
    if text.strip():
        return text
    parts = []
    for b in msg.blocks:
        if isinstance(b, ToolCallBlock):
            parts.append(f"[tool call {b.tool_name}({json.dumps(b.tool_kwargs, default=str)[:500]})]")
        elif not isinstance(b, TextBlock):
            url = getattr(b, "url", None) or getattr(b, "path", None)
            parts.append(f"[{b.block_type}{': ' + str(url) if url else ''}]")
    for call in msg.additional_kwargs.get("tool_calls") or []:
        fn = call.get("function", {}) if isinstance(call, Mapping) else getattr(call, "function", None)
        name = fn.get("name") if isinstance(fn, Mapping) else getattr(fn, "name", "?")
        parts.append(f"[tool call {name}]")
    if msg.role in (MessageRole.TOOL, MessageRole.FUNCTION) and not parts:
        parts.append("[tool result]")
    return " ".join(parts) or "[empty message]"


def _serialize(msg: ChatMessage) -> str:
    kw = {k: v for k, v in msg.additional_kwargs.items() if k != "session_id"}
    copy = msg.model_copy(update={"additional_kwargs": kw})
    try:
        return copy.model_dump_json()
    except Exception:  # provider objects in additional_kwargs: keep what JSON can hold
        safe = {k: v for k, v in kw.items() if _jsonable(v)}
        try:
            return msg.model_copy(update={"additional_kwargs": safe}).model_dump_json()
        except ValueError as exc:  # e.g. a lone surrogate in a block's text
            raise InvalidInput(f"this message cannot be stored: {exc}") from None


def _jsonable(v: Any) -> bool:
    try:
        json.dumps(v)
        return True
    except (TypeError, ValueError):
        return False


def to_turn(msg: ChatMessage, when: datetime, message_id: str | None = None) -> dict[str, Any]:
    """A ChatMessage as a MeMo turn dict (any other message than role + text rides in `Turn.metadata`)."""
    if not isinstance(msg, ChatMessage):
        raise InvalidInput(f"expected a llama_index ChatMessage, got {type(msg).__name__}")
    text = msg.content or ""
    plain = _is_plain(msg) and bool(text.strip())  # NUL, lone surrogates: MeMo refuses them (InvalidInput)
    kw = msg.additional_kwargs
    turn: dict[str, Any] = {
        "role": _ROLE.get(MessageRole(msg.role), "user"),
        "content": describe(msg),
        "timestamp": kw["timestamp"] if isinstance(kw.get("timestamp"), datetime) else when,
    }
    mid = kw.get("id") if isinstance(kw.get("id"), str) else message_id
    if mid:
        turn["id"] = mid
    if isinstance(kw.get("name"), str):
        turn["name"] = kw["name"]
    if not plain:
        turn["metadata"] = {MESSAGE_KEY: _serialize(msg)}
    return turn


def to_turns(messages: Iterable[ChatMessage], now: datetime) -> list[tuple[ChatMessage, dict[str, Any]]]:
    """(message, turn) pairs for one `add_messages` call; each turn gets a fresh id and `now` plus its
    position in microseconds (one batch keeps its order)."""
    out = []
    for i, m in enumerate(messages):
        out.append((m, to_turn(m, now + timedelta(microseconds=i), f"li-{uuid.uuid4().hex}")))
    return out


def to_message(record: MemoryRecord) -> ChatMessage:
    """A stored turn back as the ChatMessage it was (its text as MeMo holds it: redacted, if it was)."""
    raw = record.metadata.get(MESSAGE_KEY)
    if isinstance(raw, str):
        try:
            return ChatMessage.model_validate_json(raw)
        except ValueError:
            log.warning("stored message %s does not parse; returning its text", record.id)
    role = str(record.metadata.get("role", "user"))
    return ChatMessage(role=MessageRole(role), content=record.text)


def message_id(record: MemoryRecord) -> str:
    ids = record.provenance.source_message_ids
    return ids[0] if ids else record.id


def query_text(source: Any) -> str:
    """The text to search with: a str, a ChatMessage, a QueryBundle, or the latest user message of a list."""
    if source is None:
        return ""
    if isinstance(source, str):
        return source
    if isinstance(source, QueryBundle):
        return source.query_str or ""
    if isinstance(source, ChatMessage):
        return source.content or ""
    if not isinstance(source, (list, tuple)):
        return ""
    msgs = [m for m in source if isinstance(m, ChatMessage) and (m.content or "").strip()]
    users = [m for m in msgs if m.role == MessageRole.USER]
    pick = users[-1] if users else (msgs[-1] if msgs else None)
    return (pick.content or "") if pick is not None else ""


def token_counter(tokenizer: Callable[[str], list[Any]]) -> Callable[[ChatMessage], int]:
    """Tokens of one message: its text by `tokenizer`, other blocks at LlamaIndex `Memory`'s estimates."""

    def count(msg: ChatMessage) -> int:
        n = sum(_BLOCK_TOKENS.get(b.block_type, 0) for b in msg.blocks if not isinstance(b, TextBlock))
        return n + len(tokenizer(msg.content or "")) if msg.content else n

    return count


def to_node(hit: Hit) -> NodeWithScore:
    """A hit as a node: a raw turn reads "speaker: text"; provenance is in the metadata, of which the
    LLM sees kind, date and session only. Stored text is shown as data."""
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
        text=as_data(rec.index_text()),
        metadata=metadata,
        excluded_llm_metadata_keys=hidden,
        excluded_embed_metadata_keys=list(metadata),
    )
    return NodeWithScore(node=node, score=hit.score)
