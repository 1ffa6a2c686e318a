"""`MemoStore`: MeMo as a LangGraph `BaseStore`, a drop-in for `InMemoryStore` (see docs/adapters.md).

```python
store = MemoStore(mem, tenant="acme")                    # like InMemoryStore(index=...): index= accepted
store.put(("memories", "alice"), "k1", {"text": "Alice likes jazz"})   # LangMem's namespace: user alice
agent = create_agent(model, tools, store=store)          # run config {"configurable": {"user_id": ...}}
```

**Whose memory.** Items keep their whole namespace; the namespace decides only the scope
`Scope(tenant, user)`: the user is `namespace_user(namespace)` (default: LangMem's `("memories", user_id)`),
else the run's `config["configurable"]["user_id"]` (or LangMem's `langgraph_user_id`), else
`MemoStore(..., user_id=...)`. The tenant is the constructor's. Items are pinned `fact` memories of the
user, so `MemoMiddleware` recalls them; the engine redacts their text and values like everything it stores.

**Contract kept** (LangGraph's own store tests run against this class): one item per key (the record id is derived from
the scope and the key, so a get is one keyed read and racing processes leave one item), prefix,
`filter` (InMemoryStore's comparison, nested dicts and `$eq/$ne/$gt/$gte/$lt/$lte`) and `offset` applied
before the cut, `index=False` items never ranked by a query, TTLs (`ttl=`, `TTLConfig`, `sweep_ttl`).
Items written by MeMo 0.1 take the id of their key the first time a process touches their scope.
"""

from __future__ import annotations

import asyncio
import json
import threading
import weakref
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from langgraph.config import get_config
from langgraph.store.base import (
    BaseStore,
    GetOp,
    IndexConfig,
    Item,
    ListNamespacesOp,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
    TTLConfig,
)
from langgraph.store.base.embed import get_text_at_path, tokenize_path
from langgraph.store.memory import _compare_values, _does_match  # InMemoryStore's own semantics

from shared_core import InvalidInput, Kind, Memory, MemoryRecord, NotFound, Scope, ScopeError, Status, key_id

from ._convert import MemoryLike, sync_memory
from ._store_layout import (
    _DEPTH,
    _EXP,
    _FIELDS,
    _ID,
    _IDX,
    _KEY,
    _NS,
    _TTL,
    _VALUE,
    _dec,
    _enc,
    _item_id,
    _namespace,
    _prefix,
    _pushable,
    _value,
    langmem_user,
)

__all__ = ["MemoStore", "langmem_user"]

_LOCKS: weakref.WeakKeyDictionary[Memory, threading.RLock] = weakref.WeakKeyDictionary()


class MemoStore(BaseStore):
    """A LangGraph store over one `Memory`; `batch`/`abatch` over Get/Put/Search/ListNamespaces ops."""

    supports_ttl: bool = True

    def __init__(
        self,
        memory: MemoryLike,
        *,
        index: IndexConfig | None = None,
        ttl: TTLConfig | None = None,
        tenant: str = "default",
        user_id: str | None = None,
        namespace_user: Callable[[tuple[str, ...]], str | None] | None = langmem_user,
    ) -> None:
        self.memory = sync_memory(memory)
        self.index_config, self.ttl_config = index, ttl
        self.fields = list((index or {}).get("fields") or ["text", "content"])
        self.tenant, self.user_id, self.namespace_user = tenant, user_id, namespace_user
        self._lock = _LOCKS.setdefault(self.memory, threading.RLock())
        self._upgraded: set[Scope] = set()

    # ------------------------------------------------------------------- namespace <-> scope
    def _scope(self, ns: tuple[str, ...]) -> Scope:
        user = self.namespace_user(ns) if self.namespace_user and ns else None
        if user is None:
            try:
                conf = get_config().get("configurable") or {}
            except RuntimeError:  # not inside a LangGraph run
                conf = {}
            user = conf.get("user_id") or conf.get("langgraph_user_id") or self.user_id
        if user is None:
            raise ScopeError(
                f"MemoStore needs a user_id for namespace {ns!r}: put it in the run's "
                'config["configurable"]["user_id"], or construct MemoStore(memory, user_id=...), '
                'or use a namespace ("memories", user_id)'
            )
        try:
            return Scope(tenant=self.tenant, user=str(user))
        except ValueError as exc:
            raise ScopeError(f"invalid user_id {user!r}: {exc}") from None

    def _records(
        self, scope: Scope, meta: dict[str, Any], limit: int | None = None, offset: int = 0
    ) -> list[MemoryRecord]:
        return self.memory.records(scope, kinds=[Kind.FACT], limit=limit, offset=offset, metadata=meta)

    def _live(self, rec: MemoryRecord) -> bool:
        exp = rec.metadata.get(_EXP) or 0.0
        return not exp or float(exp) > self.memory.clock.now().timestamp()

    def _item(self, rec: MemoryRecord, score: float | None = None, search: bool = False) -> Item:
        value = _value(rec)
        args = {
            "namespace": _namespace(rec),
            "key": _dec(rec.metadata[_KEY]),
            "value": value,
            "created_at": rec.created_at,
            "updated_at": rec.updated_at,
        }
        return SearchItem(**args, score=score) if search else Item(**args)

    def _refresh(self, scope: Scope, recs: Iterable[MemoryRecord], refresh: bool) -> None:
        now = self.memory.clock.now().timestamp()
        for r in recs:
            if refresh and r.metadata.get(_TTL):
                exp = now + float(r.metadata[_TTL]) * 60
                try:
                    self.memory.update(r.id, scope, metadata={_EXP: exp})
                except NotFound:  # deleted meanwhile
                    pass

    # ------------------------------------------------------------------------------- ops
    def _upgrade(self, scope: Scope) -> None:
        """Once per scope and process: items written by MeMo 0.1 (random record ids) take the id of
        their key, so every later lookup is one keyed read."""
        if scope in self._upgraded:
            return
        with self._lock:
            old = [
                r
                for r in self._records(scope, {"lg_p0": _prefix((), 0)})
                if r.id != key_id(scope, str(r.metadata[_ID]))
            ]
            for r in old:
                self.memory.remember(
                    r.text,
                    scope,
                    metadata=r.metadata,
                    consolidate=False,
                    pinned=True,
                    key=str(r.metadata[_ID]),
                )
            if old:
                self.memory.delete([r.id for r in old], scope)
            self._upgraded.add(scope)

    def _keyed(self, scope: Scope, ns: tuple[str, ...], key: str) -> MemoryRecord | None:
        self._upgrade(scope)
        try:
            rec = self.memory.get(key_id(scope, _item_id(ns, key)), scope)
        except NotFound:
            return None
        return rec if rec.status is Status.ACTIVE else None

    def _get(self, op: GetOp) -> Item | None:
        scope = self._scope(op.namespace)
        rec = self._keyed(scope, op.namespace, op.key)
        if rec is None or not self._live(rec):
            return None
        self._refresh(scope, [rec], op.refresh_ttl)
        return self._item(rec)

    def _record(self, op: PutOp, value: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The text and metadata of the record holding an item."""
        ns, ttl = op.namespace, op.ttl
        try:
            raw = json.dumps(value, ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"store values must be JSON-serialisable dicts: {exc}") from None
        meta: dict[str, Any] = {
            _NS: _prefix(ns, len(ns)),
            _KEY: _enc(op.key),
            _VALUE: raw,
            _ID: _item_id(ns, op.key),
            _IDX: op.index is not False,
            _TTL: float(ttl or 0.0),
            _EXP: (self.memory.clock.now() + timedelta(minutes=ttl)).timestamp() if ttl else 0.0,
            **{f"lg_p{n}": _prefix(ns, n) for n in range(min(len(ns), _DEPTH) + 1)},
            **{f"lg_v.{f}": v for f, v in list(value.items())[:_FIELDS] if _pushable(f, v)},
        }
        paths = self.fields if op.index is None or op.index is False else list(op.index)
        texts = [t for p in paths for t in get_text_at_path(value, tokenize_path(p)) if str(t).strip()]
        return (" ".join(map(str, texts)) or raw)[: self.memory.config.limits.max_text_chars], meta

    def _put(self, op: PutOp) -> None:
        ns, scope = op.namespace, self._scope(op.namespace)
        self._upgrade(scope)
        item = _item_id(ns, op.key)
        if op.value is None:
            self.memory.delete([key_id(scope, item)], scope)
            return
        text, meta = self._record(op, dict(op.value))
        # the record id is the key's: a put of an existing key is a new version of that record, and
        # processes racing on one key leave one item (the last put wins, as in InMemoryStore)
        self.memory.remember(text, scope, metadata=meta, consolidate=False, pinned=True, key=item)

    def _search(self, op: SearchOp) -> list[SearchItem]:
        prefix, scope = op.namespace_prefix, self._scope(op.namespace_prefix)
        depth = min(len(prefix), _DEPTH)
        meta: dict[str, Any] = {f"lg_p{depth}": _prefix(prefix, depth)}
        flt = dict(op.filter or {})
        meta.update({f"lg_v.{f}": v for f, v in flt.items() if _pushable(f, v)})
        flt = {f: v for f, v in flt.items() if not _pushable(f, v)}
        exact = depth == len(prefix) and not flt  # everything is pushed down: page in the store

        def keep(r: MemoryRecord) -> bool:
            if not self._live(r):
                return False
            ns = _namespace(r)
            return ns[: len(prefix)] == prefix and all(
                _compare_values(self._item(r).value.get(k), v) for k, v in flt.items()
            )

        out: list[tuple[MemoryRecord, float | None]]
        no_score: float | None = None
        if op.query:
            k = (
                min(op.offset + op.limit, self.memory.config.limits.max_k)
                if exact
                else self.memory.config.limits.max_k
            )
            hits = self.memory.search(op.query, scope, k=k, kinds=[Kind.FACT], metadata={**meta, _IDX: True})
            ranked: list[tuple[MemoryRecord, float | None]] = [
                (h.record, h.score)
                for h in hits
                if _ID in h.record.metadata and h.record.metadata.get(_IDX) is not False and keep(h.record)
            ]
            out = list(ranked[op.offset : op.offset + op.limit])
            if len(out) < op.limit:  # like InMemoryStore, every item of the prefix can come back
                seen = {r.id for r, _ in ranked}
                rest = [r for r in self._records(scope, meta) if r.id not in seen and keep(r)]
                rest.sort(key=lambda r: r.metadata.get(_IDX) is False)  # items with no vector last
                skip = max(0, op.offset - len(ranked))
                out += [(r, no_score) for r in rest[skip : skip + op.limit - len(out)]]
        elif exact:
            out = [(r, no_score) for r in self._records(scope, meta, op.limit, op.offset) if self._live(r)]
        else:
            out = [(r, no_score) for r in self._records(scope, meta) if keep(r)][
                op.offset : op.offset + op.limit
            ]
        self._refresh(scope, (r for r, _ in out), op.refresh_ttl)
        return [self._item(r, s, search=True) for r, s in out]  # type: ignore[misc]

    def _namespaces(self) -> set[tuple[str, ...]]:
        fixed = self.user_id
        scopes = (
            [Scope(tenant=self.tenant, user=fixed)]
            if fixed
            else [
                s
                for s in self.memory.scopes(self.tenant)
                if s.user is not None and s.agent is None and s.session is None
            ]
        )
        return {
            _namespace(r)
            for s in scopes
            for r in self._records(s, {"lg_p0": _prefix((), 0)})
            if self._live(r)
        }

    def _list_namespaces(self, op: ListNamespacesOp) -> list[tuple[str, ...]]:
        found = [
            ns for ns in self._namespaces() if all(_does_match(c, ns) for c in op.match_conditions or ())
        ]
        names = sorted({ns[: op.max_depth] for ns in found} if op.max_depth is not None else set(found))
        return names[op.offset : op.offset + op.limit]

    def sweep_ttl(self) -> int:
        """Delete expired items of the tenant (what `start_ttl_sweeper` runs). Returns how many."""
        gone = 0
        for s in self.memory.scopes(self.tenant):
            dead = [
                r.id
                for r in self._records(s, {"lg_p0": _prefix((), 0)})
                if not self._live(r) and r.scope == s
            ]
            if dead:
                gone += len(self.memory.delete(dead, s))
        return gone

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        run: dict[type, Callable[[Any], Result]] = {
            GetOp: self._get,
            PutOp: self._put,
            SearchOp: self._search,
            ListNamespacesOp: self._list_namespaces,
        }
        ops = list(ops)
        if any(type(op) not in run for op in ops):
            raise InvalidInput(f"unknown store operation in {[type(op).__name__ for op in ops]}")
        # like InMemoryStore: reads see the store as it was before the batch; the last put of a key wins
        out: list[Result] = [None if isinstance(op, PutOp) else run[type(op)](op) for op in ops]
        for put in {(op.namespace, op.key): op for op in ops if isinstance(op, PutOp)}.values():
            self._put(put)
        return out

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        return await asyncio.to_thread(self.batch, list(ops))

    def __repr__(self) -> str:
        return f"MemoStore(tenant={self.tenant!r}, user_id={self.user_id!r})"
