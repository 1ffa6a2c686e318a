"""Reading stored rows of the Chroma store: the filter run on stored metadata before any JSON is
parsed, the parsers of record and history rows, and the quarantine of rows that cannot be read
(skipped by every read, reported by `Governor.check`, never fatal)."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..clock import to_ts
from ..errors import StoreCorrupted
from ..models import HistoryEntry, MemoryRecord, Scope
from .base import RecordFilter

log = logging.getLogger("shared_core.store")


def in_pages(
    get: Callable[[int, int], Mapping[str, Any]], size: int
) -> tuple[list[str], list[Any], list[Any]]:
    """Every row a Chroma `get` matches, read `size` rows at a time (`get(offset, limit)`): Chroma
    binds each matching row as an SQL variable, and fails a read of over 32,766 ("too many SQL
    variables", found with a scope of ~35,000 records). Ids, metadatas, embeddings (if included);
    a row read on two pages (rows moved between reads) is kept once."""
    ids: list[str] = []
    metas: list[Any] = []
    embs: list[Any] = []
    seen: set[str] = set()
    read = 0
    while True:
        got = get(read, size)
        page = list(got.get("ids") or [])
        read += len(page)
        rows = zip(
            page, got.get("metadatas") or [None] * len(page), _or_none(got.get("embeddings"), len(page))
        )
        for rid, meta, emb in rows:
            if rid not in seen:
                seen.add(rid)
                ids.append(rid)
                metas.append(meta)
                embs.append(emb)
        if len(page) < size:
            return ids, metas, embs


def _or_none(values: Any, n: int) -> list[Any]:
    return [None] * n if values is None else list(values)


def meta_filter(flt: RecordFilter) -> Callable[[dict[str, Any]], bool]:
    """`flt` as a test of stored metadata, applied before any JSON is parsed (the filter is applied
    here, not in Chroma: see `_scope_keys`). Built once per read, run once per row."""
    kinds = None if flt.kinds is None else {k.value for k in flt.kinds}
    statuses = None if flt.statuses is None else {s.value for s in flt.statuses}
    lo = -math.inf if flt.since is None else to_ts(flt.since)
    hi = math.inf if flt.until is None else to_ts(flt.until)
    timed = flt.since is not None or flt.until is not None
    wanted = flt.metadata or None

    def matches(meta: dict[str, Any]) -> bool:
        if kinds is not None and meta.get("kind") not in kinds:
            return False
        if statuses is not None and meta.get("status") not in statuses:
            return False
        ts = meta.get("event_ts")
        if timed and not (ts is not None and lo <= ts <= hi):
            return False
        return wanted is None or _metadata_matches(meta, wanted)

    return matches


def _metadata_matches(meta: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """`RecordFilter.metadata` (exact equality on every key, a bool never equals a number) on the
    record's stored JSON, read without validating the record. A row whose JSON cannot be read
    passes, so that parsing it quarantines it (one unreadable row never stops a read)."""
    try:
        have = json.loads(meta["json"]).get("metadata") or {}
    except (KeyError, TypeError, ValueError, AttributeError):
        return True
    if not isinstance(have, dict):
        return True
    for k, want in wanted.items():
        if k not in have:
            return False
        got = have[k]
        if isinstance(want, bool) != isinstance(got, bool) or got != want:
            return False
    return True


def parse_history(meta: dict[str, Any] | None) -> HistoryEntry:
    if not meta or "json" not in meta:
        raise StoreCorrupted("a stored history entry has no payload")
    try:
        return HistoryEntry.model_validate_json(meta["json"])
    except Exception as exc:  # any failure to read stored data: the row is quarantined, not fatal
        raise StoreCorrupted(
            f"a stored history entry cannot be read: {type(exc).__name__}: {str(exc)[:300]}"
        ) from None


def parse_record(meta: dict[str, Any] | None) -> MemoryRecord:
    if not meta or "json" not in meta:
        raise StoreCorrupted("a stored record has no payload")
    try:
        return MemoryRecord.model_validate_json(meta["json"])
    except Exception as exc:  # any failure to read stored data: the row is quarantined, not fatal
        raise StoreCorrupted(
            f"a stored record cannot be read: {type(exc).__name__}: {str(exc)[:300]}"
        ) from None


class Quarantine:
    """Rows that cannot be parsed (e.g. a NaN written by an old version): skipped by every read,
    remembered here and reported by `Governor.check` (which can move them aside); never fatal."""

    def __init__(self) -> None:
        self.rows: dict[str, str] = {}  # "<collection>:<id>" -> why

    def parse_all(
        self, collection: str, ids: Sequence[str], metas: Sequence[Any], parse: Callable[[Any], Any]
    ) -> list[Any]:
        out = []
        for rid, meta in zip(ids, metas):
            try:
                out.append(parse(meta))
            except StoreCorrupted as exc:
                self.note(collection, rid, str(exc))
                out.append(None)
        return out

    def note(self, collection: str, rid: str, why: str) -> None:
        """Remember (and log once) a row that cannot be read."""
        key = f"{collection}:{rid}"
        if key not in self.rows:
            log.warning("quarantined unreadable row %s: %s", key, why)
        self.rows[key] = why


def scope_of(meta: Mapping[str, Any]) -> Scope:
    """The scope a row's metadata carries (unset fields are stored as empty strings)."""
    return Scope(
        tenant=str(meta.get("tenant") or ""),
        user=meta.get("user") or None,
        agent=meta.get("agent") or None,
        session=meta.get("session") or None,
    )
