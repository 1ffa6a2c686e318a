"""How the CLI shows things: rich tables for people, JSON for scripts.

Stored text is data: every value is shown as `rich.text.Text(render.as_data(value))` (`_cell`), so
no terminal escape sequence, control character or line separator inside a memory is interpreted,
and rich markup is never parsed (`[/]` is printed as is).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from ..models import HistoryEntry, Hit, MemoryRecord
from ..render import as_data


def safe(value: Any) -> str:
    """One line of inert text (`render.as_data`): control characters and separators shown as
    escapes. Shown through `rich.text.Text`, so markup in it is never parsed."""
    return as_data(value if isinstance(value, str) else str(value))


def _console() -> Console:
    return Console(soft_wrap=False, width=160, markup=False, highlight=False, emoji=False)


def _cell(value: Any) -> Text:
    return Text(safe(value))


def _table(title: str, columns: Sequence[str]) -> Table:
    t = Table(title=_cell(title))
    for col in columns:
        t.add_column(col, overflow="fold")
    return t


def emit_json(value: Any) -> None:
    """JSON for scripts; ASCII only, so no control or separator character reaches a terminal raw."""
    print(json.dumps(value, indent=2, default=str, ensure_ascii=True))


def _cite(rec: MemoryRecord) -> str:
    p = rec.provenance
    ids = ",".join(p.source_message_ids[:3]) + ("…" if len(p.source_message_ids) > 3 else "")
    return " ".join(x for x in (p.session_id or "", ids, p.origin.value) if x)


def records(recs: Sequence[MemoryRecord], as_json: bool = False, title: str | None = None) -> None:
    if as_json:
        emit_json([r.model_dump(mode="json") for r in recs])
        return
    t = _table(title or f"{len(recs)} memories", ("id", "scope", "kind", "status", "when", "text", "source"))
    for r in recs:
        t.add_row(
            *map(
                _cell,
                (
                    r.id,
                    _scope_label(r),
                    r.kind.value,
                    r.status.value,
                    r.event_time.date().isoformat(),
                    r.index_text(),
                    _cite(r),
                ),
            )
        )
    _console().print(t)


def _scope_label(r: MemoryRecord) -> str:
    s = r.scope
    return "/".join(
        x
        for x in (s.tenant, s.user, s.agent and f"agent:{s.agent}", s.session and f"session:{s.session}")
        if x
    )


def hits(items: Sequence[Hit], as_json: bool = False, context: Any = None) -> None:
    if as_json:
        data: Any = [
            {"score": h.score, "components": h.components, "record": h.record.model_dump(mode="json")}
            for h in items
        ]
        if context is not None:
            data = {"hits": data, "context": context.model_dump(mode="json")}
        emit_json(data)
        return
    t = _table(f"{len(items)} hits", ("id", "score", "why", "kind", "when", "text", "source"))
    for h in items:
        r = h.record
        why = " ".join(f"{k}={v:.2f}" for k, v in h.components.items())
        t.add_row(
            *map(
                _cell,
                (
                    r.id,
                    f"{h.score:.3f}",
                    why,
                    r.kind.value,
                    r.event_time.date().isoformat(),
                    r.index_text(),
                    _cite(r),
                ),
            )
        )
    con = _console()
    con.print(t)
    if context is not None:
        con.print(Text(f"context block ({context.tokens} of {context.budget} tokens):"))
        for ln in context.text.splitlines():
            con.print(Text(safe(ln)))


def record_detail(detail: Any, as_json: bool = False) -> None:
    """A `MemoryDetail` (or a bare record)."""
    rec: MemoryRecord = getattr(detail, "record", detail)
    if as_json:
        emit_json(detail.model_dump(mode="json"))
        return
    t = Table(show_header=False, title=_cell(f"memory {rec.id}"))
    t.add_column("field")
    t.add_column("value", overflow="fold")
    for k, v in rec.model_dump(mode="json").items():
        t.add_row(_cell(k), _cell(json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v))
    if detail is not rec:
        t.add_row(
            _cell("strength"), _cell(f"{detail.strength:.3f} (half-life {detail.half_life_days:g} days)")
        )
        for e in detail.expiry:
            t.add_row(
                _cell(f"expiry:{e.reason}"), _cell(f"{e.at.isoformat() if e.at else 'never'} {e.detail}")
            )
    _console().print(t)
    if detail is not rec:
        history(detail.history)


def history(entries: Sequence[HistoryEntry], as_json: bool = False) -> None:
    if as_json:
        emit_json([e.model_dump(mode="json") for e in entries])
        return
    t = _table(f"{len(entries)} changes", ("at", "version", "op", "actor", "reason", "text", "status"))
    for e in entries:
        snap = e.snapshot
        t.add_row(
            *map(
                _cell,
                (
                    e.at.isoformat(timespec="seconds"),
                    e.version,
                    e.op,
                    e.actor,
                    e.reason,
                    snap.text if snap else "",
                    snap.status.value if snap else "",
                ),
            )
        )
    _console().print(t)


def stats(data: Mapping[str, Any], as_json: bool = False) -> None:
    if as_json:
        emit_json(data)
        return
    t = _table("memory statistics", ("what", "count"))
    for k, v in data.items():
        t.add_row(_cell(k), _cell(v))
    _console().print(t)


def message(data: Mapping[str, Any], text: str, as_json: bool = False) -> None:
    if as_json:
        emit_json(data)
    else:
        _console().print(Text(safe(text)))


def note(text: str, as_json: bool = False) -> None:
    """A remark for people, on stderr (never mixed into JSON output)."""
    if not as_json:
        print(f"memo: {safe(text)}", file=sys.stderr)


def rows(title: str, columns: Sequence[str], data: Sequence[Sequence[Any]], as_json: bool = False) -> None:
    if as_json:
        emit_json([dict(zip(columns, r)) for r in data])
        return
    t = _table(title, columns)
    for r in data:
        t.add_row(*map(_cell, r))
    _console().print(t)
