"""The context block adapters inject: cited, token-budgeted, memory text delimited and escaped.

Memory text is data. It is escaped so that nothing inside a memory can close the block or
pose as an instruction outside it.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from .config import RenderConfig
from .models import Hit, Kind
from .tokens import count_tokens

OPEN, CLOSE = "<memories>", "</memories>"


def escape(text: str) -> str:
    """Memory text cannot open or close tags, nor span lines."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\r", " ")
        .replace("\n", " ")
    )


def cite(hit: Hit) -> str:
    """Source message ids (at most 3), else the session; `inferred` when a model concluded it."""
    p = hit.record.provenance
    ids = p.source_message_ids[:3]
    parts = [",".join(ids) + ("…" if len(p.source_message_ids) > 3 else "")] if ids else []
    if not ids and p.session_id:
        parts.append(p.session_id)
    if p.origin.value == "inferred":
        parts.append("inferred")
    return "; ".join(parts)


def line(hit: Hit, cfg: RenderConfig) -> str:
    """One memory: `- text (citation)`; its date goes in the group header above it."""
    rec = hit.record
    out = "- " + escape(rec.index_text() if rec.kind is Kind.EPISODE else rec.text)
    if cfg.include_citations:
        c = cite(hit)
        if c:
            out += f" ({escape(c)})"
    return out


def day(hit: Hit) -> str:
    return hit.record.event_time.date().isoformat()


def _render(chosen: Sequence[Hit], lines: dict[str, str], cfg: RenderConfig) -> str:
    """Memories grouped under their dates, oldest first (ties keep rank order)."""
    out = [OPEN, cfg.header]
    current = None
    for hit in sorted(chosen, key=lambda h: h.record.event_time if cfg.include_dates else 0):
        if cfg.include_dates and day(hit) != current:
            current = day(hit)
            out.append(f"[{current}]")
        out.append(lines[hit.record.id])
    out.append(CLOSE)
    return "\n".join(out)


class Context(BaseModel):
    """What goes into the prompt: the text, the hits it holds, and its size in tokens."""

    model_config = ConfigDict(extra="forbid")

    text: str
    hits: list[Hit]
    tokens: int
    budget: int


def pack(hits: Sequence[Hit], budget: int, cfg: RenderConfig | None = None) -> Context:
    """Greedy packing in rank order; a hit that does not fit is skipped, a smaller later one may fit.

    The rendered text, header, date lines and delimiters included, never exceeds `budget` tokens.
    """
    cfg = cfg or RenderConfig()
    base = count_tokens("\n".join([OPEN, cfg.header, CLOSE]))
    if base > budget or not hits:
        return Context(text="", hits=[], tokens=0, budget=budget)
    used = base
    days: set[str] = set()
    lines: dict[str, str] = {}
    chosen: list[Hit] = []
    for hit in hits:
        ln = line(hit, cfg)
        cost = count_tokens(ln) + 1  # +1 for the newline
        header = cfg.include_dates and day(hit) not in days
        if header:
            cost += count_tokens(f"[{day(hit)}]") + 1
        if used + cost > budget:
            continue
        lines[hit.record.id] = ln
        chosen.append(hit)
        used += cost
        if header:
            days.add(day(hit))
    text = _render(chosen, lines, cfg)
    tokens = count_tokens(text)
    while chosen and tokens > budget:  # tokenizer merges across lines are rare; stay exact anyway
        chosen.pop()
        text = _render(chosen, lines, cfg)
        tokens = count_tokens(text)
    if not chosen:
        return Context(text="", hits=[], tokens=0, budget=budget)
    return Context(text=text, hits=chosen, tokens=tokens, budget=budget)
