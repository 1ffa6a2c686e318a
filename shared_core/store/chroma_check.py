"""Whole-store checks of a `ChromaStore` for `Governor.check`: every row of the records and history
collections is read in pages and parsed; rows that cannot be parsed are found (and, on repair,
moved to `<prefix>_quarantine` with their raw metadata, for an administrator to inspect)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from .._boundary import translate
from ..models import HistoryEntry, MemoryRecord
from .chroma_graph import side_collection
from .chroma_rows import Quarantine, parse_history, parse_record

if TYPE_CHECKING:
    from .chroma import ChromaStore

_PAGE = 1000


def _pages(col: Any) -> Iterator[tuple[list[str], list[Any], list[Any]]]:
    offset = 0
    while True:
        with translate("store", "read all rows"):
            got = col.get(include=["metadatas", "documents"], limit=_PAGE, offset=offset)
        ids = got.get("ids") or []
        if not ids:
            return
        yield ids, got.get("metadatas") or [], got.get("documents") or [None] * len(ids)
        offset += len(ids)


def read_all(store: ChromaStore) -> tuple[list[MemoryRecord], list[HistoryEntry], dict[str, str]]:
    """Every parseable record and history entry, and the unparseable rows ("collection:id" -> why)."""
    found = Quarantine()
    records: list[MemoryRecord] = []
    history: list[HistoryEntry] = []
    for ids, metas, _ in _pages(store._records):
        records += [r for r in found.parse_all("records", ids, metas, parse_record) if r is not None]
    for ids, metas, _ in _pages(store._history):
        history += [e for e in found.parse_all("history", ids, metas, parse_history) if e is not None]
    store.quarantine.rows.update(found.rows)
    return records, history, dict(found.rows)


def move_to_quarantine(store: ChromaStore, keys: list[str]) -> int:
    """Copy each unparseable row (raw metadata and document) to `<prefix>_quarantine`, then delete it
    from its collection. Returns how many rows were moved."""
    if not keys:
        return 0
    prefix = store._records.name.rsplit("_records", 1)[0]
    cols = {"records": store._records, "history": store._history}
    moved = 0
    with translate("store", "quarantine rows"):
        target = side_collection(store._client, f"{prefix}_quarantine")
        for key in keys:
            name, rid = key.split(":", 1)
            col = cols.get(name)
            if col is None:
                continue
            got = col.get(ids=[rid], include=["metadatas", "documents"])
            if not got["ids"]:
                continue
            meta = {str(k): str(v) for k, v in (got["metadatas"][0] or {}).items()}
            meta.update({"from_collection": name, "why": store.quarantine.rows.get(key, "")[:500]})
            target.upsert(
                ids=[key], embeddings=[[1.0]], documents=[got["documents"][0] or ""], metadatas=[meta]
            )
            col.delete(ids=[rid])
            store.quarantine.rows.pop(key, None)
            moved += 1
    return moved
