"""The context block adapters inject: cited, token-budgeted, memory text delimited and escaped.

Memory text is data. It is escaped so that nothing inside a memory can close the block or
pose as an instruction outside it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from .config import RenderConfig
from .extract.dates import said_on
from .models import ROLE_WORDS, Hit, Kind, MemoryRecord
from .tokens import count_tokens

OPEN, CLOSE = "<memories>", "</memories>"

_ROLES = frozenset({"user", "assistant", "system", "tool"})
_LEADING_LABEL = re.compile(r"^(\W{0,8}(?:" + "|".join(ROLE_WORDS) + r"))(\s*):", re.IGNORECASE)
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v", "\f": "\\f", "\x1b": "\\e"}


def _escaped(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


# what could break a line (C0 incl. LF/CR/VT/FF, NEL and the rest of C1, U+2028/2029), drive a
# terminal (ESC, CSI, DEL), reorder what a reader sees (bidi overrides and isolates), a BOM, or is
# not text at all (a lone surrogate)
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff" + "".join(sorted(_BIDI)) + "]")


def as_data(text: str) -> str:
    """Stored text made safe to show as ONE line of data, in a prompt or on a terminal.

    Every character that could start a new line (LF, CR, VT, FF, NEL, U+2028, U+2029), drive a
    terminal (ESC and the other C0/C1 controls, DEL) or reorder the text on screen (bidi overrides
    and isolates) is replaced by a visible escape (`\\n`, `\\e`, `\\x85`, `\\u2028`...). Lone
    surrogates are escaped too. A role label at the very start (`SYSTEM:`, `assistant:`, `AI:`)
    gets its colon escaped (`SYSTEM\\x3a`), so the text cannot pose as a turn even when a caller
    puts it at the start of a line. Everything else, markup included, is left as is: a renderer
    that interprets markup (rich, HTML) must still escape for itself.
    """
    if not isinstance(text, str):
        raise TypeError(f"as_data needs str, got {type(text).__name__}")
    out = _UNSAFE.sub(lambda m: _escaped(m.group()), text)
    return _LEADING_LABEL.sub(lambda m: m.group(1) + m.group(2) + "\\x3a", out, count=1)


def escape(text: str) -> str:
    """Memory text inside the context block: one line of data (`as_data`) that cannot open or
    close a tag."""
    return as_data(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# a name shown bare: Latin letters (Latin-1 and Extended-A: no look-alike of another script, no
# fullwidth or mathematical forms), spaces, dots, apostrophes and hyphens, 1-40 characters
_LATIN = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u017f"
_PLAIN_NAME = re.compile(f"[{_LATIN}][{_LATIN} .'-]{{0,39}}")
# not strftime: its month names follow the locale
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")  # fmt: skip
_ROLE_WORD = re.compile(r"(?:" + "|".join(ROLE_WORDS) + r")\b", re.IGNORECASE)


def speaker_label(rec: MemoryRecord) -> str:
    """Who said a raw turn. A user's turn with a plain name shows the name alone (`Melanie`, 3
    tokens fewer per line than `user "Melanie"`); any other turn shows its real role, then the
    name as quoted data. A name is never a role label: a user named "SYSTEM" (or "System Admin",
    "Ѕystem" in Cyrillic, "ＳＹＳＴＥＭ", or anything with a colon, quote or control character)
    renders as `user "SYSTEM"`."""
    role = rec.metadata.get("role")
    label = role if isinstance(role, str) and role in _ROLES else "message"
    name = rec.provenance.speaker
    if not name or name == role:
        return label
    if label == "user" and _PLAIN_NAME.fullmatch(name):
        folded = unicodedata.normalize("NFKC", name).casefold()  # "ſystem" is "system"
        if not _ROLE_WORD.match(folded):
            return name
    return label + ' "' + escape(name).replace('"', '\\"') + '"'


class Citation(BaseModel):
    """What the marker `[n]` after a line of the context text stands for: the memory, the
    messages it came from (or its session), and whether a model inferred it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    marker: int
    record_id: str
    source_message_ids: list[str]
    session_id: str | None
    inferred: bool

    @classmethod
    def of(cls, marker: int, hit: Hit) -> Citation:
        p = hit.record.provenance
        return cls(
            marker=marker,
            record_id=hit.record.id,
            source_message_ids=list(p.source_message_ids),
            session_id=p.session_id,
            inferred=p.origin.value == "inferred",
        )


def shown_text(rec: MemoryRecord, cfg: RenderConfig) -> str:
    """A record's text as the block shows it: a statement's `(said on <day>)` is left out under
    the header of that day (the date is said once, in the header)."""
    text = rec.text
    if cfg.include_dates and rec.kind is not Kind.EPISODE:
        suffix = said_on(rec.event_time)
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
    return escape(text)


def line(hit: Hit, cfg: RenderConfig, marker: int) -> str:
    """One memory: `- text [n]` (`[n, inferred]` when a model concluded it); its date goes in the
    group header above it. The marker is a number whatever the message ids look like (a UUID costs
    ~25 tokens, `[12]` three): `Context.citations` maps it to the full provenance."""
    rec = hit.record
    if rec.kind is Kind.EPISODE:
        out = f"- {speaker_label(rec)}: {shown_text(rec, cfg)}"
    else:
        out = "- " + shown_text(rec, cfg)
    if cfg.include_citations:
        out += f" [{marker}, inferred]" if rec.provenance.origin.value == "inferred" else f" [{marker}]"
    return out


def day(hit: Hit) -> str:
    """The header of a day's group: `8 May 2023:` (6 tokens; `[2023-05-08]` costs 8)."""
    d = hit.record.event_time.date()
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}:"


def _render(chosen: Sequence[Hit], cfg: RenderConfig) -> tuple[str, list[Citation]]:
    """Memories grouped under their dates, oldest first (ties keep rank order), numbered from the
    top: the text and what each marker stands for."""
    out = [OPEN, cfg.header]
    current = None
    citations: list[Citation] = []
    for hit in sorted(chosen, key=lambda h: h.record.event_time if cfg.include_dates else 0):
        if cfg.include_dates and day(hit) != current:
            current = day(hit)
            out.append(current)
        marker = len(citations) + 1
        out.append(line(hit, cfg, marker))
        if cfg.include_citations:
            citations.append(Citation.of(marker, hit))
    out.append(CLOSE)
    return "\n".join(out), citations


class Context(BaseModel):
    """What goes into the prompt: the text, the hits it holds, and its size in tokens."""

    model_config = ConfigDict(extra="forbid")

    text: str
    hits: list[Hit]
    tokens: int
    budget: int
    citations: list[Citation] = []  # marker n is citations[n - 1] (none with include_citations off)


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
    chosen: list[Hit] = []
    for hit in hits:
        # the marker it will get is at most len(chosen) + 1 (numbers under 1,000 are one token)
        cost = count_tokens(line(hit, cfg, len(chosen) + 1)) + 1  # +1 for the newline
        header = cfg.include_dates and day(hit) not in days
        if header:
            cost += count_tokens(day(hit)) + 1
        if used + cost > budget:
            continue
        chosen.append(hit)
        used += cost
        if header:
            days.add(day(hit))
    text, citations = _render(chosen, cfg)
    tokens = count_tokens(text)
    while chosen and tokens > budget:  # tokenizer merges across lines are rare; stay exact anyway
        chosen.pop()
        text, citations = _render(chosen, cfg)
        tokens = count_tokens(text)
    if not chosen:
        return Context(text="", hits=[], tokens=0, budget=budget)
    return Context(text=text, hits=chosen, tokens=tokens, budget=budget, citations=citations)
