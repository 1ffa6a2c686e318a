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
    p = hit.record.provenance
    ids = p.source_message_ids[:3]
    parts = []
    if p.session_id:
        parts.append(p.session_id)
    if ids:
        parts.append(",".join(ids) + ("…" if len(p.source_message_ids) > 3 else ""))
    if p.origin.value == "inferred":
        parts.append("inferred")
    return "; ".join(parts)


def line(hit: Hit, cfg: RenderConfig) -> str:
    rec = hit.record
    text = rec.index_text() if rec.kind is Kind.EPISODE else rec.text
    out = "- "
    if cfg.include_dates:
        out += f"[{rec.event_time.date().isoformat()}] "
    out += escape(text)
    if cfg.include_citations:
        c = cite(hit)
        if c:
            out += f" ({escape(c)})"
    return out


class Context(BaseModel):
    """What goes into the prompt: the text, the hits it holds, and its size in tokens."""

    model_config = ConfigDict(extra="forbid")

    text: str
    hits: list[Hit]
    tokens: int
    budget: int


def pack(hits: Sequence[Hit], budget: int, cfg: RenderConfig | None = None) -> Context:
    """Greedy packing in rank order; a hit that does not fit is skipped, a smaller later one may fit.

    The rendered text, header and delimiters included, never exceeds `budget` tokens.
    """
    cfg = cfg or RenderConfig()
    frame = [OPEN, cfg.header, CLOSE]
    base = count_tokens("\n".join(frame))
    if base > budget or not hits:
        return Context(text="", hits=[], tokens=0, budget=budget)
    used = base
    lines: list[str] = []
    chosen: list[Hit] = []
    for hit in hits:
        ln = line(hit, cfg)
        cost = count_tokens(ln) + 1  # +1 for the newline
        if used + cost > budget:
            continue
        lines.append(ln)
        chosen.append(hit)
        used += cost
    if not chosen:
        return Context(text="", hits=[], tokens=0, budget=budget)
    text = "\n".join([OPEN, cfg.header, *lines, CLOSE])
    tokens = count_tokens(text)
    while tokens > budget and chosen:  # tokenizer merges across lines are rare; stay exact anyway
        chosen.pop()
        lines.pop()
        text = "\n".join([OPEN, cfg.header, *lines, CLOSE])
        tokens = count_tokens(text)
    if not chosen:
        return Context(text="", hits=[], tokens=0, budget=budget)
    return Context(text=text, hits=chosen, tokens=tokens, budget=budget)
