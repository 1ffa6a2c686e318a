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
TOP_UPS = 2  # packing passes after the first, each from the exact count of the block so far
HEADER_TOKENS = 3  # `2023:`, `8 May:`, `22 December:` (the estimate; the exact count follows)

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
    """What the marker `n.` that starts a line of the context text stands for: the memory, the
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
    """One memory: `n. text` (`n. (inferred) text` when a model concluded it); its date goes in
    the group header above it. The marker is a number whatever the message ids look like (a UUID
    costs ~25 tokens, `12.` one, and two fewer than a trailing `[12]`): `Context.citations` maps
    it to the full provenance. Without citations a line is `- text`."""
    rec = hit.record
    text = (
        f"{speaker_label(rec)}: {shown_text(rec, cfg)}" if rec.kind is Kind.EPISODE else shown_text(rec, cfg)
    )
    if not cfg.include_citations:
        return "- " + text
    return (
        f"{marker}. (inferred) {text}" if rec.provenance.origin.value == "inferred" else f"{marker}. {text}"
    )


def headers(hit: Hit) -> tuple[str, str]:
    """The headers of a hit's year and day: `2023:` once per year, then `8 May:` over each day's
    group (3 tokens each; `8 May 2023:` over every day cost 6, `[2023-05-08]` 8)."""
    d = hit.record.event_time.date()
    return f"{d.year}:", f"{d.day} {_MONTHS[d.month - 1]}:"


def _render(chosen: Sequence[Hit], cfg: RenderConfig) -> tuple[str, list[Citation]]:
    """Memories grouped under their years and days, oldest first (ties keep rank order), numbered
    from the top: the text and what each marker stands for."""
    out = [OPEN, cfg.header]
    year = day = None
    citations: list[Citation] = []
    for hit in sorted(chosen, key=lambda h: h.record.event_time if cfg.include_dates else 0):
        if cfg.include_dates:
            y, d = headers(hit)
            if y != year:
                year, day = y, None
                out.append(y)
            if d != day:
                day = d
                out.append(d)
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


def redundant(hits: Sequence[Hit]) -> set[str]:
    """Ids of the memories among `hits` whose source turns are all among them too: the turns
    hold everything such a memory says, so it would spend tokens on nothing new."""
    turns = {i for h in hits if h.record.kind is Kind.EPISODE for i in h.record.provenance.source_message_ids}
    return {
        h.record.id
        for h in hits
        if h.record.kind is not Kind.EPISODE
        and h.record.provenance.source_message_ids
        and turns.issuperset(h.record.provenance.source_message_ids)
    }


def pack(
    hits: Sequence[Hit], budget: int, cfg: RenderConfig | None = None, *, collapse: bool = False
) -> Context:
    """Greedy packing in rank order; a hit that does not fit is skipped, a smaller later one may fit.
    `collapse`: a memory whose source turns all made it into the block leaves it, and the tokens
    it freed go to the next hits (repeated until nothing changes).

    The rendered text, header, date lines and delimiters included, never exceeds `budget` tokens.
    """
    cfg = cfg or RenderConfig()
    dropped: set[str] = set()
    costs: dict[tuple[int, bool], int] = {}  # (hit, marker of 4 digits) -> its line's estimated cost
    while True:
        ctx = _pack([h for h in hits if h.record.id not in dropped], budget, cfg, costs)
        more = redundant(ctx.hits) if collapse else set()
        if not more:
            return ctx
        dropped |= more


def _pack(hits: Sequence[Hit], budget: int, cfg: RenderConfig, costs: dict[tuple[int, bool], int]) -> Context:
    base = count_tokens("\n".join([OPEN, cfg.header, CLOSE]))
    if base > budget or not hits:
        return Context(text="", hits=[], tokens=0, budget=budget)
    used = base
    shown: set[str] = set()  # the years and days with a header in the block
    chosen: list[Hit] = []
    rest = list(hits)
    for _ in range(TOP_UPS + 1):
        for hit in rest:
            # the marker it will get is at most len(chosen) + 1 (numbers under 1,000 are one token)
            marker = len(chosen) + 1
            key = (id(hit), marker >= 1000)
            if key not in costs:
                costs[key] = count_tokens(line(hit, cfg, marker)) + 1  # +1 for the newline
            cost = costs[key]
            new: list[str] = []
            if cfg.include_dates:
                y, d = headers(hit)
                new = [h for h in (y, f"{y} {d}") if h not in shown]
                cost += (HEADER_TOKENS + 1) * len(new)
            if used + cost > budget:
                continue
            chosen.append(hit)
            used += cost
            shown.update(new)
        text, citations = _render(chosen, cfg)
        tokens = count_tokens(text)
        # the estimate counts a newline per line, which the tokenizer often merges with the
        # punctuation before it: the exact count leaves room for the next hits that fit
        if tokens >= used or len(chosen) == len(hits):
            break
        taken = {id(h) for h in chosen}
        rest = [h for h in rest if id(h) not in taken]
        used = tokens
    while chosen and tokens > budget:  # tokenizer merges across lines are rare; stay exact anyway
        chosen.pop()
        text, citations = _render(chosen, cfg)
        tokens = count_tokens(text)
    if not chosen:
        return Context(text="", hits=[], tokens=0, budget=budget)
    return Context(text=text, hits=chosen, tokens=tokens, budget=budget, citations=citations)
