"""The public facade: `Memory` (sync) and `AsyncMemory` (the same engine, each call in a thread).

```python
from shared_core import Memory, Scope
mem = Memory.open("./memo_data")                 # embedded Chroma (PersistentClient)
mem = Memory.connect("127.0.0.1", 8000)          # a Chroma server (`chroma run`)
alice = Scope(tenant="acme", user="alice")
mem.add_messages([{"role": "user", "content": "I moved to Berlin"}], scope=alice, session_id="s1")
hits = mem.search("where does alice live?", scope=alice, k=5)
mem.flush()                                      # wait for background extraction (tests, scripts)
```

Writes return once durable in a local journal (embedded: `<path>/memo_journal/`; server: the
`journal_dir` given, by default `$XDG_STATE_HOME/memo/journal/<host>-<port>-<prefix>`), and
are visible to this process's reads at once; a background applier writes them to Chroma.
"""

from __future__ import annotations

import builtins
import functools
import inspect
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar, Union, cast

from . import validate
from .clock import Clock, SystemClock
from .config import MemoConfig
from .embed import Embedder, default_embedder, embedder_by_name
from .engine import AddResult, Engine, RepairReport
from .errors import InvalidInput
from .extract.base import Extractor
from .governance import policy_store
from .governance.access import Principal, authorize
from .governance.audit import AuditLog
from .governance.policy import GovernancePolicy
from .governor import Governor
from .models import HistoryEntry, Hit, Kind, MemoryRecord, MetaValue, Scope, Status, Turn
from .render import Context
from .store.base import RecordFilter, Store
from .store.chroma import ChromaStore
from .store.chroma_audit import audit_log_for, pii_hash_key
from .store.chroma_jobs import job_queue_for
from .store.in_memory import InMemoryStore

ScopeArg = Union[Scope, Mapping[str, Union[str, None]]]
MessageArg = Union[Turn, Mapping[str, Any]]
Metadata = Mapping[str, MetaValue]

_F = TypeVar("_F", bound=Callable[..., Any])


def _foreground(method: _F) -> _F:
    """A caller's call: background work (applier, extraction) waits while it runs (engine/gate.py)."""

    @functools.wraps(method)
    def call(self: Memory, *args: Any, **kwargs: Any) -> Any:
        with self.engine.gate.foreground():
            return method(self, *args, **kwargs)

    return cast(_F, call)


def renamed(new: _F, old: str) -> _F:
    """`old`, kept as a deprecated name of the method `new`: the same parameters, a
    `DeprecationWarning` at each call (sync or async alike). Names go in the next minor release."""
    msg = f"{old} is now {new.__qualname__}; {old} goes in 0.3"
    if inspect.iscoroutinefunction(new):

        @functools.wraps(new)
        async def acall(*args: Any, **kwargs: Any) -> Any:
            warnings.warn(msg, DeprecationWarning, stacklevel=2)
            return await new(*args, **kwargs)

        return cast(_F, acall)

    @functools.wraps(new)
    def call(*args: Any, **kwargs: Any) -> Any:
        warnings.warn(msg, DeprecationWarning, stacklevel=2)
        return new(*args, **kwargs)

    return cast(_F, call)


_REPAIR_KEY = "repair_checkpoint"
_REPAIR_WINDOW = timedelta(minutes=10)
JOURNAL_DIRNAME = "memo_journal"


def default_server_journal(host: str, port: int, prefix: str) -> Path:
    """Where a server client journals by default: a local, per-server directory."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(os.path.expanduser("~"), ".local", "state")
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in f"{host}-{port}-{prefix}")
    return Path(base) / "memo" / "journal" / safe


def _effective_config(store: Store, config: MemoConfig) -> MemoConfig:
    """The configuration a process runs with: the policy stored with the store (every process
    applies the same one), and this store's own PII hash key unless the caller brought one."""
    cfg = policy_store.apply_to_config(store, config)
    if cfg.policy.hash_key in (None, GovernancePolicy().hash_key):
        policy = cfg.policy.model_copy(update={"hash_key": pii_hash_key(store)})
        cfg = cfg.model_copy(update={"policy": policy})
    return cfg


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
        audit: AuditLog | None = None,
        repair: bool = True,
        journal_dir: str | os.PathLike[str] | None = None,
        background: bool = True,
        extract_timeout: float = 60.0,
    ) -> None:
        self.config = _effective_config(store, config or MemoConfig())
        self.clock = clock or SystemClock()
        self.engine = Engine(
            store,
            embedder or default_embedder(),
            config=self.config,
            clock=self.clock,
            extractor=extractor,
            audit=audit,
            journal_dir=journal_dir,
            background=background,
            extract_timeout=extract_timeout,
            job_queue=job_queue_for(store) if self.config.extraction.external_worker else None,
        )
        self.store = self.engine.store
        self.governor = Governor(self.engine)
        self.recovered: RepairReport = self.engine.recover()
        if repair:
            self._repair()

    # --------------------------------------------------------------------------- opening
    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        embedder: Embedder | None = None,
        config: MemoConfig | None = None,
        clock: Clock | None = None,
        extractor: Extractor | None = None,
        audit: AuditLog | None = None,
        repair: bool = True,
        background: bool = True,
        extract_timeout: float = 60.0,
    ) -> Memory:
        """Embedded Chroma in a directory (created if needed), journal in `<path>/memo_journal/`.
        Without `embedder`, a store reopens with the built-in embedder it was written with."""
        client = ChromaStore.persistent_client(path)
        return cls._on_chroma(
            client,
            embedder,
            config,
            clock,
            extractor,
            audit,
            repair,
            background,
            extract_timeout,
            Path(path) / JOURNAL_DIRNAME,
        )

    @classmethod
    def connect(
        cls,
        host: str = "127.0.0.1",
        port: int = 8000,
        *,
        embedder: Embedder | None = None,
        config: MemoConfig | None = None,
        clock: Clock | None = None,
        extractor: Extractor | None = None,
        audit: AuditLog | None = None,
        repair: bool = True,
        background: bool = True,
        extract_timeout: float = 60.0,
        journal_dir: str | os.PathLike[str] | None = None,
        ssl: bool = False,
        ca_file: str | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 5.0,
        retries: int = 2,
        backoff: float = 0.2,
    ) -> Memory:
        """A Chroma server (`chroma run --path DIR --host H --port P`), shared by processes. Writes
        are journaled in `journal_dir` (local to this machine; see `default_server_journal`).
        `ssl`/`ca_file`/`token`/`headers` reach a server behind a TLS proxy with authentication;
        every HTTP call is bounded by `timeout` seconds and retried `retries` times (`backoff`)."""
        cfg = config or MemoConfig()
        jdir = journal_dir or default_server_journal(host, port, cfg.collection_prefix)
        client = ChromaStore.server_client(
            host,
            port,
            ssl=ssl,
            ca_file=ca_file,
            token=token,
            headers=headers,
            timeout=timeout,
            retries=retries,
            backoff=backoff,
        )
        return cls._on_chroma(
            client, embedder, cfg, clock, extractor, audit, repair, background, extract_timeout, jdir
        )

    @classmethod
    def _on_chroma(
        cls,
        client: Any,
        embedder: Embedder | None,
        config: MemoConfig | None,
        clock: Clock | None,
        extractor: Extractor | None,
        audit: AuditLog | None,
        repair: bool,
        background: bool,
        extract_timeout: float,
        journal_dir: str | os.PathLike[str],
    ) -> Memory:
        cfg = config or MemoConfig()
        emb = embedder or embedder_by_name(ChromaStore.recorded_embedder(client, cfg.collection_prefix))
        store = ChromaStore(client, prefix=cfg.collection_prefix, dim=emb.dim, embedder_name=emb.name)
        return cls(
            store,
            embedder=emb,
            config=cfg,
            clock=clock,
            extractor=extractor,
            audit=audit or audit_log_for(store, clock),
            repair=repair,
            journal_dir=journal_dir,
            background=background,
            extract_timeout=extract_timeout,
        )

    @classmethod
    def in_memory(
        cls,
        *,
        embedder: Embedder | None = None,
        config: MemoConfig | None = None,
        clock: Clock | None = None,
        extractor: Extractor | None = None,
        audit: AuditLog | None = None,
        background: bool = True,
        extract_timeout: float = 60.0,
    ) -> Memory:
        """Nothing persists (no journal: writes reach the in-memory store within the call)."""
        store = InMemoryStore()
        return cls(
            store,
            embedder=embedder,
            config=config,
            clock=clock,
            extractor=extractor,
            audit=audit or audit_log_for(store, clock),
            background=background,
            extract_timeout=extract_timeout,
        )

    def _repair(self) -> None:
        raw = self.engine._store.get_meta(_REPAIR_KEY)
        since = (
            datetime.fromisoformat(raw) - _REPAIR_WINDOW if raw else datetime.fromtimestamp(0).astimezone()
        )
        report = self.engine.repair_report(since)
        self.recovered = self.recovered.model_copy(
            update={k: getattr(report, k) for k in ("restored", "tombstones_enforced", "quarantined")}
        )
        self.engine._store.set_meta(_REPAIR_KEY, self.clock.now().isoformat())

    def policy(self) -> GovernancePolicy:
        """The governance policy in force (the one stored with the store, when it keeps one)."""
        return self.config.policy

    def flush(self, timeout: float | None = None) -> None:
        """Wait until background extraction is done and every journaled write is in the store
        (`FlushTimeout` after `timeout` seconds)."""
        self.engine.flush(timeout)

    def stats(self) -> dict[str, Any]:
        """Write-path counters: journal backlog, applier batches, extraction jobs, tokens."""
        return self.engine.stats()

    def close(self) -> None:
        self.engine.close()
        self.engine._store.close()

    def __enter__(self) -> Memory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------ writes
    @_foreground
    def add_messages(
        self,
        messages: Sequence[MessageArg],
        scope: ScopeArg,
        session_id: str | None = None,
        *,
        actor: str = "system",
        extract: bool | None = None,
        wait: bool = False,
    ) -> AddResult:
        """Store conversation turns: durable and searchable on return; memories are extracted in
        the background (`wait=True`: in this call; `flush()` waits for the queue)."""
        return self.engine.add_messages(messages, scope, session_id, actor=actor, extract=extract, wait=wait)

    @_foreground
    def remember(
        self,
        text: str,
        scope: ScopeArg,
        *,
        kind: Kind | str = Kind.FACT,
        importance: float = 0.5,
        pinned: bool = False,
        valid_from: datetime | None = None,
        valid_to: datetime | None = None,
        metadata: Metadata | None = None,
        session_id: str | None = None,
        source_message_ids: Sequence[str] = (),
        actor: str = "system",
        tool_call_id: str | None = None,
        consolidate: bool = True,
        key: str | None = None,
    ) -> MemoryRecord:
        """Store one memory directly; provenance records the session, messages, tool call and actor."""
        return self.engine.remember(
            text,
            scope,
            kind=kind,
            importance=importance,
            pinned=pinned,
            valid_from=valid_from,
            valid_to=valid_to,
            metadata=metadata,
            session_id=session_id,
            source_message_ids=source_message_ids,
            actor=actor,
            tool_call_id=tool_call_id,
            consolidate=consolidate,
            key=key,
        )

    @_foreground
    def remember_many(
        self,
        texts: Sequence[str],
        scope: ScopeArg,
        *,
        kind: Kind | str = Kind.FACT,
        importance: float = 0.5,
        pinned: bool = False,
        valid_from: datetime | None = None,
        valid_to: datetime | None = None,
        metadata: Metadata | None = None,
        session_id: str | None = None,
        source_message_ids: Sequence[str] = (),
        actor: str = "system",
        tool_call_id: str | None = None,
        consolidate: bool = True,
    ) -> builtins.list[MemoryRecord]:
        return self.engine.remember_many(
            texts,
            scope,
            kind=kind,
            importance=importance,
            pinned=pinned,
            valid_from=valid_from,
            valid_to=valid_to,
            metadata=metadata,
            session_id=session_id,
            source_message_ids=source_message_ids,
            actor=actor,
            tool_call_id=tool_call_id,
            consolidate=consolidate,
        )

    @_foreground
    def update(
        self,
        record_id: str,
        scope: ScopeArg,
        *,
        text: str | None = None,
        importance: float | None = None,
        pinned: bool | None = None,
        status: Status | str | None = None,
        valid_to: datetime | None = None,
        metadata: Metadata | None = None,
        actor: str = "system",
        reason: str = "updated",
    ) -> MemoryRecord:
        return self.engine.update(
            record_id,
            scope,
            text=text,
            importance=importance,
            pinned=pinned,
            status=status,
            valid_to=valid_to,
            metadata=metadata,
            actor=actor,
            reason=reason,
        )

    @_foreground
    def delete(
        self, record_ids: str | Sequence[str], scope: ScopeArg, *, actor: str = "system"
    ) -> builtins.list[str]:
        """Delete for good (a tombstone stays in history; nothing brings the record back).
        Raises `LegalHold` under a legal hold."""
        return self.engine.delete(record_ids, scope, actor=actor)

    @_foreground
    def clear_session(self, scope: ScopeArg, session_id: str, *, actor: str = "system") -> int:
        return self.engine.clear_session(scope, session_id, actor=actor)

    @_foreground
    def record_use(self, record_ids: Sequence[str], *, scope: ScopeArg) -> None:
        """Memories injected into a prompt were used: reinforced in the background (never blocks)."""
        self.engine.record_use(validate.record_ids(record_ids), validate.scope(scope))

    def import_records(
        self,
        records: Sequence[MemoryRecord | Mapping[str, Any]],
        history: Sequence[HistoryEntry | Mapping[str, Any]] = (),
        *,
        principal: Principal,
    ) -> int:
        """Records with their history (as `export_records` gives them) through the governed write
        path: authorized per scope, redacted, validity rules, tombstones respected, all or nothing."""
        scopes = set()
        for i, r in enumerate(records):
            raw = (
                r.scope if isinstance(r, MemoryRecord) else r.get("scope") if isinstance(r, Mapping) else None
            )
            try:
                scopes.add(raw if isinstance(raw, Scope) else Scope.model_validate(raw))
            except ValueError:
                raise InvalidInput(f"records[{i}] has no valid scope") from None
        for sc in scopes:
            authorize(principal, "write_memory", sc)
        return self.engine.import_records(list(records), list(history), actor=principal.id)

    def export_records(self, scope: ScopeArg) -> dict[str, builtins.list[dict[str, Any]]]:
        """Every record of a scope (any status) with its history, JSON-ready."""
        return self.engine.export_records(scope)

    # ------------------------------------------------------------------------------- reads
    @_foreground
    def search(
        self,
        query: str,
        scope: ScopeArg,
        *,
        k: int = 10,
        token_budget: int | None = None,
        kinds: Sequence[Kind | str] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        include_superseded: bool = False,
        track_access: bool = False,
        metadata: Metadata | None = None,
    ) -> builtins.list[Hit]:
        """Hits best first (score in [0, 1]) with provenance; filters apply before `k`."""
        return self.engine.search(
            query,
            scope,
            k=k,
            token_budget=token_budget,
            kinds=kinds,
            since=since,
            until=until,
            include_superseded=include_superseded,
            track_access=track_access,
            metadata=None if metadata is None else dict(metadata),
        )

    @_foreground
    def context(
        self,
        query: str,
        scope: ScopeArg,
        *,
        token_budget: int | None = None,
        k: int = 50,
        kinds: Sequence[Kind | str] | None = None,
        metadata: Metadata | None = None,
    ) -> Context:
        """The cited, delimited, token-budgeted memory block to inject into a prompt."""
        return self.engine.context(
            query,
            scope,
            token_budget=token_budget,
            k=k,
            kinds=kinds,
            metadata=None if metadata is None else dict(metadata),
        )

    @_foreground
    def get(self, record_id: str, scope: ScopeArg) -> MemoryRecord:
        """One record by id (O(1))."""
        return self.engine.get(record_id, scope)

    @_foreground
    def history(self, record_id: str, scope: ScopeArg) -> builtins.list[HistoryEntry]:
        return self.engine.history(record_id, scope)

    @_foreground
    def recent_turns(
        self, scope: ScopeArg, session_id: str | None = None, limit: int = 20
    ) -> builtins.list[MemoryRecord]:
        """The last raw turns of a session (or of the scope), oldest first: short-term memory."""
        return self.engine.recent_turns(scope, session_id, limit)

    def scopes(self, tenant: str = "default") -> builtins.list[Scope]:
        """The scopes holding memories in a tenant."""
        return list(self.store.scopes(validate.identifier(tenant, "tenant")))

    @_foreground
    def records(
        self,
        scope: ScopeArg,
        *,
        kinds: Sequence[Kind | str] | None = None,
        statuses: Sequence[Status | str] | None = None,
        limit: int | None = None,
        offset: int = 0,
        metadata: Metadata | None = None,
    ) -> builtins.list[MemoryRecord]:
        """Records oldest first; kinds, statuses and metadata (exact equality) apply before offset/limit."""
        flt = RecordFilter(
            kinds=validate.kinds(kinds),
            statuses=validate.statuses(statuses) or frozenset({Status.ACTIVE}),
            metadata=validate.metadata_filter(metadata, self.config.limits),
        )
        limit = validate.limit(limit)
        offset = validate.offset(offset)
        return self.engine.list_records(scope, flt, limit, offset)

    list = renamed(records, "Memory.list")  # shadowed the builtin in this class body
