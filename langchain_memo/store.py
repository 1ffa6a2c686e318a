"""`MemoStore`: MeMo as a LangGraph `BaseStore` (long-term memory for graphs and `create_agent(store=)`).

**Namespaces map onto scopes.** By default a namespace is `(tenant, user, *rest)`:
`("acme", "alice", "memories")` is `Scope(tenant="acme", user="alice")`, and `rest` (`("memories",)`)
plus the item key are kept on the record, so every item round-trips. With `MemoStore(mem, tenant="acme")`
a namespace is `(user, *rest)` in that one tenant. Shorter namespaces raise `ScopeError`: every read and
write names a user, so two users never see each other's items.

**Values** are dicts, stored as JSON in the record's metadata: `get` returns exactly the dict that was
`put` (anything JSON can hold, at most `limits.max_text_chars` characters of JSON), except that string
values first go through the governance PII policy, like all text MeMo stores (an e-mail becomes
`[EMAIL]`). The searchable text is the fields named by `index=` (in `put`), else the value's `"text"` /
`"content"` fields, else its JSON. `put(value=None)` (`delete`) deletes.

**Search.** `search(prefix, query=...)` is the core's semantic search (its best `limits.max_k` memories
of the user, then narrowed to the prefix and `filter`); without `query`, items come oldest first.
`filter` matches value fields: equality or `{"$eq"|"$ne"|"$gt"|"$gte"|"$lt"|"$lte": x}`.
`list_namespaces` needs the tenant: the store's `tenant`, or a prefix whose first label is concrete.
Items are memories of the user (kind `fact`, pinned: decay and sweeps never expire them), so the core's
`context()` recalls them too; a pending-review item is hidden like any pending memory. Lookups by key list
the user's items (fine for thousands of items per user). LangGraph TTLs are not supported.
"""

from __future__ import annotations

import asyncio
import json
import operator
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from langgraph.store.base import (
    BaseStore,
    GetOp,
    Item,
    ListNamespacesOp,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
)

from shared_core import InvalidInput, Kind, MemoryRecord, Scope, ScopeError, validate
from shared_core.governance import pii
from shared_core.governance.policy import GovernancePolicy

from ._convert import MemoryLike, sync_memory

__all__ = ["MemoStore"]

_NS, _KEY, _VALUE = "lg_namespace", "lg_key", "lg_value"
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "$eq": operator.eq, "$ne": operator.ne, "$gt": operator.gt, "$gte": operator.ge, "$lt": operator.lt, "$lte": operator.le,
}  # fmt: skip


def _matches_filter(value: dict[str, Any], flt: dict[str, Any] | None) -> bool:
    for field, want in (flt or {}).items():
        have = value.get(field)
        tests = (
            want.items() if isinstance(want, dict) and want and set(want) <= set(_OPS) else [("$eq", want)]
        )
        try:
            if not all(_OPS[op](have, arg) for op, arg in tests):
                return False
        except TypeError:  # e.g. None > 3
            return False
    return True


def _matches_path(namespace: tuple[str, ...], match_type: str, path: tuple[str, ...]) -> bool:
    if len(path) > len(namespace):
        return False
    part = namespace[: len(path)] if match_type == "prefix" else namespace[len(namespace) - len(path) :]
    return all(p == "*" or p == n for p, n in zip(path, part, strict=True))


def _redacted(value: Any, policy: GovernancePolicy) -> Any:
    """String leaves go through the core's PII policy, as every text MeMo stores does."""
    if isinstance(value, str):
        return pii.apply(value, policy).text
    if isinstance(value, Mapping):
        return {k: _redacted(v, policy) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redacted(v, policy) for v in value]
    return value


def _text(value: Mapping[str, Any], index: list[str] | None) -> str:
    fields = index or ["text", "content"]
    parts = [str(value[f]) for f in fields if value.get(f) not in (None, "")]
    return " ".join(parts) or json.dumps(value, ensure_ascii=False)


class MemoStore(BaseStore):
    """A LangGraph store backed by MeMo; `batch`/`abatch` over Get/Put/Search/ListNamespaces ops."""

    supports_ttl: bool = False

    def __init__(self, memory: MemoryLike, *, tenant: str | None = None) -> None:
        self.memory = sync_memory(memory)
        self.tenant = tenant

    # ------------------------------------------------------------------- namespace <-> scope
    def _split(self, namespace: tuple[str, ...]) -> tuple[Scope, tuple[str, ...]]:
        head = 1 if self.tenant is not None else 2
        if len(namespace) < head:
            need = "(user, ...)" if self.tenant is not None else "(tenant, user, ...)"
            raise ScopeError(f"namespace {namespace!r} must start with {need}")
        tenant = self.tenant if self.tenant is not None else namespace[0]
        return validate.scope({"tenant": tenant, "user": namespace[head - 1]}), tuple(namespace[head:])

    def _namespace(self, rec: MemoryRecord) -> tuple[str, ...]:
        head = (rec.scope.user,) if self.tenant is not None else (rec.scope.tenant, rec.scope.user)
        return (*head, *json.loads(str(rec.metadata[_NS])))  # type: ignore[arg-type]

    def _records(self, scope: Scope, records: Iterable[MemoryRecord] | None = None) -> list[MemoryRecord]:
        """This store's records of exactly `scope` (not the user's other memories)."""
        recs = self.memory.list(scope, kinds=[Kind.FACT]) if records is None else records
        return [r for r in recs if _KEY in r.metadata and r.scope == scope]

    def _find(self, namespace: tuple[str, ...], key: str) -> tuple[Scope, str, MemoryRecord | None]:
        """The scope, the stored form of the rest of the namespace, and the item's record if any."""
        scope, rest = self._split(namespace)
        ns = json.dumps(list(rest))
        found = [r for r in self._records(scope) if r.metadata[_KEY] == key and r.metadata[_NS] == ns]
        return scope, ns, (found[0] if found else None)

    def _item(self, rec: MemoryRecord, score: float | None = None, search: bool = False) -> Item:
        args = {
            "namespace": self._namespace(rec), "key": str(rec.metadata[_KEY]), "created_at": rec.created_at,
            "value": json.loads(str(rec.metadata[_VALUE])), "updated_at": rec.updated_at,
        }  # fmt: skip
        return SearchItem(**args, score=score) if search else Item(**args)

    # ------------------------------------------------------------------------------- ops
    def _get(self, op: GetOp) -> Item | None:
        *_, rec = self._find(op.namespace, op.key)
        return None if rec is None else self._item(rec)

    def _put(self, op: PutOp) -> None:
        scope, ns, rec = self._find(op.namespace, op.key)
        if op.value is None:
            if rec is not None:
                self.memory.delete([rec.id], scope)
            return
        value = _redacted(op.value, self.memory.config.policy)
        try:
            meta = {_NS: ns, _KEY: op.key, _VALUE: json.dumps(value, ensure_ascii=False)}
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"store values must be JSON-serialisable dicts: {exc}") from None
        text = _text(value, op.index or None)
        if rec is None:
            self.memory.remember(text, scope, metadata=meta, consolidate=False, pinned=True)
        else:
            self.memory.update(rec.id, scope, text=text, metadata=meta)

    def _search(self, op: SearchOp) -> list[SearchItem]:
        scope, rest = self._split(op.namespace_prefix)
        if op.query:
            hits = self.memory.search(op.query, scope, k=self.memory.config.limits.max_k, kinds=[Kind.FACT])
            scores = {h.id: h.score for h in hits}
            recs = self._records(scope, [h.record for h in hits])
        else:
            scores, recs = {}, self._records(scope)
        out = [
            self._item(r, scores.get(r.id), search=True)
            for r in recs
            if tuple(json.loads(str(r.metadata[_NS])))[: len(rest)] == rest
            and _matches_filter(json.loads(str(r.metadata[_VALUE])), op.filter)
        ]
        return out[op.offset : op.offset + op.limit]  # type: ignore[return-value]

    def _list_namespaces(self, op: ListNamespacesOp) -> list[tuple[str, ...]]:
        conds = op.match_conditions or ()
        prefix = next((tuple(c.path) for c in conds if c.match_type == "prefix"), ())
        tenant = (
            self.tenant if self.tenant is not None else (prefix[0] if prefix and prefix[0] != "*" else None)
        )
        if tenant is None:
            raise ScopeError(
                "list_namespaces needs the tenant: MemoStore(tenant=...) or a prefix (tenant, ...)"
            )
        found = {
            self._namespace(r)
            for s in self.memory.scopes(tenant)  # type: ignore[attr-defined]  # core: `Memory.list` shadows `list`
            if s.user is not None and s.agent is None and s.session is None
            for r in self._records(s)
        }
        names = {
            ns[: op.max_depth] if op.max_depth is not None else ns
            for ns in found
            if all(_matches_path(ns, c.match_type, tuple(c.path)) for c in conds)
        }
        return sorted(names)[op.offset : op.offset + op.limit]

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        out: list[Result] = []
        for op in ops:
            if isinstance(op, GetOp):
                out.append(self._get(op))
            elif isinstance(op, PutOp):
                out.append(self._put(op))  # type: ignore[func-returns-value]
            elif isinstance(op, SearchOp):
                out.append(self._search(op))
            elif isinstance(op, ListNamespacesOp):
                out.append(self._list_namespaces(op))
            else:
                raise InvalidInput(f"unknown store operation {type(op).__name__}")
        return out

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        return await asyncio.to_thread(self.batch, list(ops))
