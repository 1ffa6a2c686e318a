"""The public facade: `Memory` (sync) and `AsyncMemory` (the same engine, run in a worker thread).

```python
from shared_core import Memory, Scope
mem = Memory.open("./memo_data")                 # embedded Chroma (PersistentClient)
mem = Memory.connect("127.0.0.1", 8000)          # a Chroma server (`chroma run`)
alice = Scope(tenant="acme", user="alice")
mem.add_messages([{"role": "user", "content": "I moved to Berlin"}], scope=alice, session_id="s1")
hits = mem.search("where does alice live?", scope=alice, k=5)
```
"""

from __future__ import annotations

import asyncio
import builtins
import functools
import os
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, ParamSpec, TypeVar

from . import validate
from .clock import Clock, SystemClock
from .config import MemoConfig
from .embed import Embedder, default_embedder, embedder_by_name
from .engine import AddResult, Engine
from .extract.base import Extractor
from .governor import Governor
from .models import HistoryEntry, Hit, Kind, MemoryRecord, Scope, Status
from .render import Context
from .store.audit import audit_log_for
from .store.base import RecordFilter, Store
from .store.chroma import ChromaStore
from .store.memory import InMemoryStore

P = ParamSpec("P")
R = TypeVar("R")

_REPAIR_KEY = "repair_checkpoint"
_REPAIR_WINDOW = timedelta(minutes=10)


class Memory:
    """Persistent memory for one application. Thread-safe; one instance per process is enough."""

    def __init__(
        self,
        store: Store,
        *,
        embedder: Embedder | None = None,
        config: MemoConfig | None = None,
        clock: Clock | None = None,
        extractor: Extractor | None = None,
        audit: Any = None,
        repair: bool = True,
    ) -> None:
        self.config = config or MemoConfig()
        self.clock = clock or SystemClock()
        self.store = store
        self.engine = Engine(
            store, embedder or default_embedder(), config=self.config, clock=self.clock,
            extractor=extractor, audit=audit,
        )  # fmt: skip
        self.governor = Governor(self.engine)
        if repair:
            self._repair()

    # --------------------------------------------------------------------------- opening
    @classmethod
    def open(
        cls, path: str | os.PathLike[str], *, embedder: Embedder | None = None, config: MemoConfig | None = None,
        **kw: Any,
    ) -> Memory:  # fmt: skip
        """Embedded Chroma in a directory (created if needed). Without `embedder`, a store reopens
        with the built-in embedder it was written with (MiniLM for a new store)."""
        return cls._on_chroma(ChromaStore.persistent_client(path), embedder, config, kw)

    @classmethod
    def connect(
        cls, host: str = "127.0.0.1", port: int = 8000, *, embedder: Embedder | None = None,
        config: MemoConfig | None = None, **kw: Any,
    ) -> Memory:  # fmt: skip
        """A Chroma server started with `chroma run --path DIR --host H --port P` (shared by processes)."""
        return cls._on_chroma(ChromaStore.server_client(host, port), embedder, config, kw)

    @classmethod
    def _on_chroma(
        cls, client: Any, embedder: Embedder | None, config: MemoConfig | None, kw: dict[str, Any]
    ) -> Memory:
        cfg = config or MemoConfig()
        emb = embedder or embedder_by_name(ChromaStore.recorded_embedder(client, cfg.collection_prefix))
        store = ChromaStore(client, prefix=cfg.collection_prefix, dim=emb.dim, embedder_name=emb.name)
        audit = kw.pop("audit", None) or audit_log_for(store, kw.get("clock"))
        return cls(store, embedder=emb, config=cfg, audit=audit, **kw)

    @classmethod
    def in_memory(
        cls, *, embedder: Embedder | None = None, config: MemoConfig | None = None, **kw: Any
    ) -> Memory:
        """Nothing persists: for tests and throwaway sessions."""
        store = InMemoryStore()
        return cls(
            store,
            embedder=embedder,
            config=config,
            audit=kw.pop("audit", None) or audit_log_for(store, kw.get("clock")),
            **kw,
        )

    def _repair(self) -> None:
        raw = self.store.get_meta(_REPAIR_KEY)
        since = (
            datetime.fromisoformat(raw) - _REPAIR_WINDOW if raw else datetime.fromtimestamp(0).astimezone()
        )
        self.engine.repair(since)
        self.store.set_meta(_REPAIR_KEY, self.clock.now().isoformat())

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Memory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------ writes
    def add_messages(self, messages: Any, scope: Any, session_id: str | None = None, **kw: Any) -> AddResult:
        """Store conversation turns (each kept raw, durable first) and the memories extracted from them."""
        return self.engine.add_messages(messages, scope, session_id, **kw)

    def remember(self, text: str, scope: Any, **kw: Any) -> MemoryRecord:
        """Store one memory directly (kind, importance, pinned, valid_from/valid_to, metadata...)."""
        return self.engine.remember(text, scope, **kw)

    def remember_many(self, texts: Sequence[str], scope: Any, **kw: Any) -> list[MemoryRecord]:
        return self.engine.remember_many(texts, scope, **kw)

    def update(self, record_id: str, scope: Any, **kw: Any) -> MemoryRecord:
        return self.engine.update(record_id, scope, **kw)

    def delete(self, record_ids: Any, scope: Any, **kw: Any) -> list[str]:
        return self.engine.delete(record_ids, scope, **kw)

    def clear_session(self, scope: Any, session_id: str) -> int:
        return self.engine.clear_session(scope, session_id)

    # ------------------------------------------------------------------------------- reads
    def search(self, query: str, scope: Any, *, k: int = 10, **kw: Any) -> list[Hit]:
        """Hits best first (score in [0, 1]) with provenance; `token_budget=` packs them for a prompt."""
        return self.engine.search(query, scope, k=k, **kw)

    def context(self, query: str, scope: Any, **kw: Any) -> Context:
        """The cited, delimited, token-budgeted memory block to inject into a prompt."""
        return self.engine.context(query, scope, **kw)

    def get(self, record_id: str, scope: Any) -> MemoryRecord:
        return self.engine.get(record_id, scope)

    def history(self, record_id: str, scope: Any) -> list[HistoryEntry]:
        return self.engine.history(record_id, scope)

    def recent_turns(self, scope: Any, session_id: str | None = None, limit: int = 20) -> list[MemoryRecord]:
        """The last raw turns of a session (or of the scope), oldest first: short-term memory."""
        return self.engine.recent_turns(scope, session_id, limit)

    def scopes(self, tenant: str = "default") -> builtins.list[Scope]:
        """The scopes holding memories in a tenant."""
        return self.store.scopes(validate.identifier(tenant, "tenant"))

    def list(
        self, scope: Any, *, kinds: Sequence[Kind | str] | None = None, statuses: Sequence[Status | str] | None = None,
        limit: int | None = None, offset: int = 0,
    ) -> builtins.list[MemoryRecord]:  # fmt: skip
        flt = RecordFilter(
            kinds=frozenset(Kind(k) for k in kinds) if kinds else None,
            statuses=frozenset(Status(s) for s in statuses) if statuses else frozenset({Status.ACTIVE}),
        )
        return self.engine.list_records(scope, flt, limit, offset)


def _to_thread(fn: Callable[P, R]) -> Callable[P, Any]:
    @functools.wraps(fn)
    async def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return await asyncio.to_thread(fn, *args, **kwargs)

    return run


class AsyncMemory:
    """`Memory` with `async` methods: the same engine, each call run in a worker thread.

    There is no second copy of any logic: every coroutine awaits the sync method of the same name.
    """

    def __init__(self, memory: Memory) -> None:
        self.sync = memory

    @classmethod
    def open(cls, path: str | os.PathLike[str], **kw: Any) -> AsyncMemory:
        return cls(Memory.open(path, **kw))

    @classmethod
    def connect(cls, host: str = "127.0.0.1", port: int = 8000, **kw: Any) -> AsyncMemory:
        return cls(Memory.connect(host, port, **kw))

    @classmethod
    def in_memory(cls, **kw: Any) -> AsyncMemory:
        return cls(Memory.in_memory(**kw))

    @property
    def governor(self) -> Governor:
        return self.sync.governor

    async def aclose(self) -> None:
        await asyncio.to_thread(self.sync.close)

    def __getattr__(self, name: str) -> Any:  # only reached for names not set in __init__
        attr = getattr(self.sync, name)
        if callable(attr) and not name.startswith("_"):
            return _to_thread(attr)
        return attr
