"""The store port: what the engine needs from a place that keeps records.

Every read, write, list and delete takes a `Scope`; a store never returns a record outside it.
Scope values are compared as data (equality), never interpreted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from ..embed.base import Vectors
from ..errors import ScopeError
from ..models import HistoryEntry, Kind, MemoryRecord, MetaValue, Scope, Status


class RecordFilter(BaseModel):
    """Which records of a scope: by kind, status and event-time range (inclusive)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kinds: frozenset[Kind] | None = None
    statuses: frozenset[Status] | None = Field(default_factory=lambda: frozenset({Status.ACTIVE}))
    since: datetime | None = None
    until: datetime | None = None
    # exact equality on every key (bool and number kept apart: True never equals 1)
    metadata: dict[str, MetaValue] | None = None

    def matches(self, record: MemoryRecord) -> bool:
        if self.metadata and not self.metadata_matches(record):
            return False
        if self.kinds is not None and record.kind not in self.kinds:
            return False
        if self.statuses is not None and record.status not in self.statuses:
            return False
        t = record.event_time
        if self.since is not None and t < self.since:
            return False
        return not (self.until is not None and t > self.until)

    def metadata_matches(self, record: MemoryRecord) -> bool:
        for k, want in (self.metadata or {}).items():
            have = record.metadata.get(k, _MISSING)
            if have is _MISSING or isinstance(want, bool) != isinstance(have, bool) or have != want:
                return False
        return True

    def without_metadata(self) -> RecordFilter:
        return self.model_copy(update={"metadata": None}) if self.metadata else self


_MISSING = object()

ALL_STATUSES = RecordFilter(statuses=None)


def revision_keys(scopes: Iterable[Scope]) -> list[str]:
    """The revision tokens a write in these scopes changes: its tenant's (read by scopes without a
    user) and its user's (read by scopes with one), so one user's writes leave other users' caches valid."""
    keys: set[str] = set()
    for s in scopes:
        keys.add(f"rev:{s.tenant}")
        if s.user is not None:
            keys.add(f"rev:{s.tenant}\x1fuser:{s.user}")
    return sorted(keys)


def revision_key(scope: Scope) -> str:
    """The revision token a read through `scope` depends on."""
    return f"rev:{scope.tenant}" if scope.user is None else f"rev:{scope.tenant}\x1fuser:{scope.user}"


def require_readable(scope: Scope) -> None:
    if not isinstance(scope, Scope):
        raise ScopeError(f"a Scope is required, got {type(scope).__name__}")
    if not scope.is_readable():
        raise ScopeError("a scope needs a user, an agent or a session besides the tenant")


@runtime_checkable
class Store(Protocol):
    """Persistence of records (with their vectors), their history, and a revision token."""

    dim: int | None

    def upsert(self, records: Sequence[MemoryRecord], vectors: Vectors | None, *, bump: bool = True) -> None:
        """Insert or replace records. `vectors=None` keeps each record's stored vector.

        Changes the revision tokens of the records' scopes unless `bump=False` (only for changes
        that do not alter what is searchable, such as access counts)."""
        ...

    def get(self, scope: Scope, ids: Sequence[str]) -> list[MemoryRecord]: ...

    def owners(self, ids: Sequence[str]) -> dict[str, Scope]:
        """The scope each stored id belongs to, whatever the scope (an import must not move a
        record of one scope into another by reusing its id)."""
        ...

    def query(
        self, scope: Scope, vector: Vectors, k: int, flt: RecordFilter
    ) -> list[tuple[MemoryRecord, float]]:
        """Nearest records by cosine distance (0 = same direction), best first."""
        ...

    def query_many(
        self, scope: Scope, vectors: Vectors, k: int, flt: RecordFilter
    ) -> list[list[tuple[MemoryRecord, float]]]:
        """`query` for several vectors in one call (consolidation compares a batch at once)."""
        ...

    def list_records(
        self, scope: Scope, flt: RecordFilter, limit: int | None = None, offset: int = 0
    ) -> list[MemoryRecord]:
        """Records of the scope, oldest first by creation time."""
        ...

    def fetch(self, scope: Scope, ids: Sequence[str]) -> dict[str, tuple[MemoryRecord, Vectors]]:
        """Records with their vectors, by id, in one read (ids outside the scope are absent)."""
        ...

    def snapshot(self, scope: Scope, flt: RecordFilter) -> tuple[list[MemoryRecord], Vectors]:
        """Every record of the scope with its vector (row i is record i), in one read: oldest first,
        records created at the same instant in the order they were first written."""
        ...

    def delete(self, scope: Scope, ids: Sequence[str]) -> None:
        """Remove records and their vectors for good (and change their scopes' revision tokens)."""
        ...

    def scopes(self, tenant: str) -> list[Scope]:
        """The distinct scopes that hold records in a tenant (for admin views and namespace listing)."""
        ...

    def append_history(self, entries: Sequence[HistoryEntry]) -> None: ...

    def history(self, scope: Scope, record_id: str | None = None) -> list[HistoryEntry]:
        """History entries of the scope (or of one record), oldest first."""
        ...

    def delete_history(self, scope: Scope, record_ids: Sequence[str] | None = None) -> None: ...

    def purge_scope_rows(self, scope: Scope) -> int:
        """Delete every record and history row of `scope`, rows that cannot be parsed included
        (erasure must reach quarantined rows too). Returns how many rows were deleted."""
        ...

    def history_since(self, since: datetime) -> list[HistoryEntry]:
        """All history entries written at or after `since` (used by repair on open)."""
        ...

    def revision(self, scope: Scope) -> str:
        """A token that changes whenever a record readable through `scope` changes (any process)."""
        ...

    def bump_revision(self, scopes: Iterable[Scope]) -> None:
        """New tokens for every read scope that can see records written with these scopes."""
        ...

    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...

    def raw_dump(self) -> dict[str, Any]:
        """Every stored document and metadata, per collection (Chroma `get` shape): erasure proofs."""
        ...

    def close(self) -> None: ...
