"""`AsyncMemory`: the `Memory` facade with `async` methods over the same engine (each call runs the
sync method in a worker thread; no second copy of any logic)."""

from __future__ import annotations

import asyncio
import builtins
import os
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from .clock import Clock
from .config import MemoConfig
from .embed import Embedder
from .engine import AddResult, Engine
from .extract.base import Extractor
from .governance.access import Principal
from .governance.audit import AuditLog
from .governance.policy import GovernancePolicy
from .governor import Governor
from .memory import Memory, MessageArg, Metadata, ScopeArg, renamed
from .models import HistoryEntry, Hit, Kind, MemoryRecord, Scope, Status
from .render import Context
from .store.base import Store


class AsyncMemory:
    """`Memory` with `async` methods: the same engine, each call run in a worker thread.

    There is no second copy of any logic: every coroutine awaits the sync method of the same
    name with the same arguments (`tests/unit/test_facade_parity.py` keeps the two in step).
    """

    def __init__(self, memory: Memory) -> None:
        self.sync = memory

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
    ) -> AsyncMemory:
        return cls(
            Memory.open(
                path,
                embedder=embedder,
                config=config,
                clock=clock,
                extractor=extractor,
                audit=audit,
                repair=repair,
                background=background,
                extract_timeout=extract_timeout,
            )
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
    ) -> AsyncMemory:
        return cls(
            Memory.connect(
                host,
                port,
                embedder=embedder,
                config=config,
                clock=clock,
                extractor=extractor,
                audit=audit,
                repair=repair,
                background=background,
                extract_timeout=extract_timeout,
                journal_dir=journal_dir,
                ssl=ssl,
                ca_file=ca_file,
                token=token,
                headers=headers,
                timeout=timeout,
                retries=retries,
                backoff=backoff,
            )
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
    ) -> AsyncMemory:
        return cls(
            Memory.in_memory(
                embedder=embedder,
                config=config,
                clock=clock,
                extractor=extractor,
                audit=audit,
                background=background,
                extract_timeout=extract_timeout,
            )
        )

    @property
    def governor(self) -> Governor:
        return self.sync.governor

    @property
    def store(self) -> Store:
        return self.sync.store

    @property
    def engine(self) -> Engine:
        return self.sync.engine

    async def aclose(self) -> None:
        await asyncio.to_thread(self.sync.close)

    async def drain(self, timeout: float | None = None) -> None:
        """Wait until background extraction is done and every journaled write is in the store."""
        await asyncio.to_thread(self.sync.flush, timeout)

    async def flush(self, timeout: float | None = None) -> None:
        await asyncio.to_thread(self.sync.flush, timeout)

    async def policy(self) -> GovernancePolicy:
        return await asyncio.to_thread(self.sync.policy)

    async def stats(self) -> dict[str, Any]:
        return await asyncio.to_thread(self.sync.stats)

    async def add_messages(
        self,
        messages: Sequence[MessageArg],
        scope: ScopeArg,
        session_id: str | None = None,
        *,
        actor: str = "system",
        extract: bool | None = None,
        wait: bool = False,
    ) -> AddResult:
        return await asyncio.to_thread(
            self.sync.add_messages, messages, scope, session_id, actor=actor, extract=extract, wait=wait
        )

    async def remember(
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
        return await asyncio.to_thread(
            self.sync.remember,
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

    async def remember_many(
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
        return await asyncio.to_thread(
            self.sync.remember_many,
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

    async def update(
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
        return await asyncio.to_thread(
            self.sync.update,
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

    async def delete(
        self, record_ids: str | Sequence[str], scope: ScopeArg, *, actor: str = "system"
    ) -> builtins.list[str]:
        return await asyncio.to_thread(self.sync.delete, record_ids, scope, actor=actor)

    async def clear_session(self, scope: ScopeArg, session_id: str, *, actor: str = "system") -> int:
        return await asyncio.to_thread(self.sync.clear_session, scope, session_id, actor=actor)

    async def record_use(self, record_ids: Sequence[str], *, scope: ScopeArg) -> None:
        await asyncio.to_thread(self.sync.record_use, record_ids, scope=scope)

    async def import_records(
        self,
        records: Sequence[MemoryRecord | Mapping[str, Any]],
        history: Sequence[HistoryEntry | Mapping[str, Any]] = (),
        *,
        principal: Principal,
    ) -> int:
        return await asyncio.to_thread(self.sync.import_records, records, history, principal=principal)

    async def export_records(self, scope: ScopeArg) -> dict[str, builtins.list[dict[str, Any]]]:
        return await asyncio.to_thread(self.sync.export_records, scope)

    async def search(
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
        return await asyncio.to_thread(
            self.sync.search,
            query,
            scope,
            k=k,
            token_budget=token_budget,
            kinds=kinds,
            since=since,
            until=until,
            include_superseded=include_superseded,
            track_access=track_access,
            metadata=metadata,
        )

    async def context(
        self,
        query: str,
        scope: ScopeArg,
        *,
        token_budget: int | None = None,
        k: int = 50,
        kinds: Sequence[Kind | str] | None = None,
        metadata: Metadata | None = None,
    ) -> Context:
        return await asyncio.to_thread(
            self.sync.context, query, scope, token_budget=token_budget, k=k, kinds=kinds, metadata=metadata
        )

    async def get(self, record_id: str, scope: ScopeArg) -> MemoryRecord:
        return await asyncio.to_thread(self.sync.get, record_id, scope)

    async def history(self, record_id: str, scope: ScopeArg) -> builtins.list[HistoryEntry]:
        return await asyncio.to_thread(self.sync.history, record_id, scope)

    async def recent_turns(
        self, scope: ScopeArg, session_id: str | None = None, limit: int = 20
    ) -> builtins.list[MemoryRecord]:
        return await asyncio.to_thread(self.sync.recent_turns, scope, session_id, limit)

    async def scopes(self, tenant: str = "default") -> builtins.list[Scope]:
        return await asyncio.to_thread(self.sync.scopes, tenant)

    async def records(
        self,
        scope: ScopeArg,
        *,
        kinds: Sequence[Kind | str] | None = None,
        statuses: Sequence[Status | str] | None = None,
        limit: int | None = None,
        offset: int = 0,
        metadata: Metadata | None = None,
    ) -> builtins.list[MemoryRecord]:
        return await asyncio.to_thread(
            self.sync.records,
            scope,
            kinds=kinds,
            statuses=statuses,
            limit=limit,
            offset=offset,
            metadata=metadata,
        )

    list = renamed(records, "AsyncMemory.list")  # shadowed the builtin in this class body
