"""How the CLI shows things: rich tables for people, JSON for scripts."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table

from ..models import HistoryEntry, Hit, MemoryRecord


def _console() -> Console:
    return Console(soft_wrap=False, width=140)


def _json(value: Any) -> None:
    print(json.dumps(value, indent=2, default=str, ensure_ascii=False))


def _cite(rec: MemoryRecord) -> str:
    p = rec.provenance
    ids = ",".join(p.source_message_ids[:3]) + ("…" if len(p.source_message_ids) > 3 else "")
    return " ".join(x for x in (p.session_id or "", ids, p.origin.value) if x)


def records(recs: Sequence[MemoryRecord], as_json: bool = False) -> None:
    if as_json:
        _json([r.model_dump(mode="json") for r in recs])
        return
    t = Table(title=f"{len(recs)} memories")
    for col in ("id", "kind", "status", "when", "text", "source"):
        t.add_column(col, overflow="fold")
    for r in recs:
        t.add_row(
            r.id[:12], r.kind.value, r.status.value, r.event_time.date().isoformat(), r.index_text(), _cite(r)
        )
    _console().print(t)


def hits(items: Sequence[Hit], as_json: bool = False) -> None:
    if as_json:
        _json(
            [
                {"score": h.score, "components": h.components, "record": h.record.model_dump(mode="json")}
                for h in items
            ]
        )
        return
    t = Table(title=f"{len(items)} hits")
    for col in ("score", "kind", "when", "text", "source"):
        t.add_column(col, overflow="fold")
    for h in items:
        r = h.record
        t.add_row(f"{h.score:.3f}", r.kind.value, r.event_time.date().isoformat(), r.index_text(), _cite(r))
    _console().print(t)


def record_detail(rec: MemoryRecord, as_json: bool = False) -> None:
    if as_json:
        _json(rec.model_dump(mode="json"))
        return
    t = Table(show_header=False, title=f"memory {rec.id}")
    t.add_column("field")
    t.add_column("value", overflow="fold")
    for k, v in rec.model_dump(mode="json").items():
        t.add_row(k, json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else str(v))
    _console().print(t)


def history(entries: Sequence[HistoryEntry], as_json: bool = False) -> None:
    if as_json:
        _json([e.model_dump(mode="json") for e in entries])
        return
    t = Table(title=f"{len(entries)} changes")
    for col in ("at", "version", "op", "actor", "reason", "text", "status"):
        t.add_column(col, overflow="fold")
    for e in entries:
        snap = e.snapshot
        t.add_row(e.at.isoformat(timespec="seconds"), str(e.version), e.op, e.actor, e.reason,
                  snap.text if snap else "", snap.status.value if snap else "")  # fmt: skip
    _console().print(t)


def stats(data: Mapping[str, Any], as_json: bool = False) -> None:
    if as_json:
        _json(data)
        return
    t = Table(title="memory statistics")
    t.add_column("what")
    t.add_column("count", justify="right")
    for k, v in data.items():
        t.add_row(str(k), str(v))
    _console().print(t)


def message(data: Mapping[str, Any], text: str, as_json: bool = False) -> None:
    if as_json:
        _json(data)
    else:
        _console().print(text)


def rows(title: str, columns: Sequence[str], data: Sequence[Sequence[Any]], as_json: bool = False) -> None:
    if as_json:
        _json([dict(zip(columns, r)) for r in data])
        return
    t = Table(title=title)
    for c in columns:
        t.add_column(c, overflow="fold")
    for r in data:
        t.add_row(*[str(x) for x in r])
    _console().print(t)
