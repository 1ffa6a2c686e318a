"""From turns to candidates: speakers, clauses, time markers, rendering, `RuleExtractor`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from shared_core.extract.base import Candidate, ExtractInput, normalise_subject
from shared_core.extract.dates import TimeSpan, find_time_expressions, said_on
from shared_core.extract.rules.hits import _Clause, _Hit
from shared_core.extract.rules.lexicon import _IDENTITY_ADJ, _IRREGULAR_PAST, _NOT_NAMES, _REWRITE_ADV
from shared_core.extract.rules.negation import _clause_hits
from shared_core.extract.rules.possessive import _R_IS_MY_FAV
from shared_core.extract.rules.text import (
    _CLAUSE_SPLIT,
    _CONDITIONAL,
    _DISCOURSE,
    _ELLIPSIS_SPLIT,
    _GREETING,
    _MARK,
    _MODAL,
    _QUESTION_START,
    _REMINDER,
    _SUBJECT,
    _TAG_QUESTION,
    _conj3,
    _normalise,
    _phrase,
    _pronouns,
    split_sentences,
)
from shared_core.models import Kind


@dataclass
class _Speaker:
    key: str
    display: str  # "Caroline" / "The user"
    mid: str  # "Caroline" / "the user"


def _speaker(turn: ExtractInput) -> _Speaker:
    if turn.speaker:
        name = turn.speaker.strip()
        name = name if any(ch.isupper() for ch in name) else name.title()
        return _Speaker(normalise_subject(turn.speaker), name, name)
    return _Speaker("user", "The user", "the user")


def _strip_discourse(s: str) -> str:
    prev = None
    while prev != s:
        prev = s
        s = _DISCOURSE.sub("", s).lstrip(" ,.;:!-")
    return s


def _statement(sentence: str) -> str | None:
    """The declarative part of a sentence, or None for questions."""
    s = sentence.strip().rstrip(" )").strip()
    if s.endswith("?"):
        m = _TAG_QUESTION.match(s)
        return m.group("head").strip() if m else None
    core = _strip_discourse(s)
    if _QUESTION_START.match(core):
        return None
    return s


_JOINT_SUBJECT = re.compile(r"\b((?i:my)\s+[a-z]+(?:\s+[a-z]+)?|(?i:me)|[A-Z][a-z]+)\s+(and)\s+(I|me)\b")
_JOIN = "\x01"


def _clauses(sentence: str) -> list[str]:
    out: list[str] = []
    protected = _JOINT_SUBJECT.sub(lambda m: f"{m.group(1)}{_JOIN}{m.group(2)}{_JOIN}{m.group(3)}", sentence)
    for part in _CLAUSE_SPLIT.split(protected):
        part = part.replace(_JOIN, " ")
        if not part or not part.strip():
            continue
        pieces = _ELLIPSIS_SPLIT.split(part)
        head = _strip_discourse(pieces[0].strip())
        out.append(head)
        sm = _SUBJECT.match(head)
        for extra in pieces[1:]:
            if sm is not None and extra.strip():
                out.append(f"{sm.group(0)} {extra.strip()}")
    return [c for c in out if c]


def _mark(clause: str, spans: list[TimeSpan]) -> tuple[str, str]:
    """(marked, plain): spans replaced by markers / removed; fronted markers moved to the end."""
    marked = clause
    for i in range(len(spans) - 1, -1, -1):
        sp = spans[i]
        marked = marked[: sp.char_start] + f" \x00{i}\x00 " + marked[sp.char_end :]
    fronted: list[str] = []
    while True:
        stripped = _strip_discourse(marked.strip())
        m = re.match("^\x00\\d+\x00", stripped)
        if not m:
            marked = stripped
            break
        fronted.append(m.group(0))
        marked = stripped[m.end() :]
    marked = " ".join([marked, *fronted])
    marked = " ".join(marked.split())
    marked = re.sub(r"\s+([,.;:!?])", r"\1", marked)
    plain = " ".join(_MARK.sub(" ", marked).split())
    plain = re.sub(r"\s+([,.;:!?])", r"\1", plain).strip(" ,;:")
    plain = re.sub(r",(\s*,)+", ",", plain)
    return marked, plain


_KEEP_VERB = frozenset(
    {"will", "would", "can", "cannot", "could", "should", "must", "might", "may", "did", "had", "was"}
)


def _head_rewrite(marked: str, sp: _Speaker, plural_with: str | None, singular: bool) -> str:
    m = _SUBJECT.match(marked)
    if m is None:
        return _pronouns(marked, sp.mid, possessive_first=True)
    rest = marked[m.end() :]
    if not singular:
        subject = f"{sp.display} and {plural_with}" if plural_with else f"{sp.display} and others"
        return subject + _pronouns(rest, None)
    words = rest.split(" ")
    # words[0] == "" (rest starts with a space); rewrite the first verb after any adverbs
    for i in range(1, len(words)):
        w = words[i]
        low = w.lower()
        if low in _REWRITE_ADV or _MARK.fullmatch(w):
            continue
        if low in {"am", "are"}:
            words[i] = "is"
        elif low == "have" and i + 1 < len(words) and words[i + 1].lower() == "to":
            words[i] = "has"
        elif low in {"have", "do"}:
            words[i] = _conj3(w)
        elif low in _KEEP_VERB or low in _IRREGULAR_PAST or low.endswith("ed") or not low.isalpha():
            pass
        elif low in {"not", "no", "longer"}:
            continue
        else:
            words[i] = _conj3(w)
        break
    return sp.display + _pronouns(" ".join(words), None)


def _render(marked: str, spans: list[TimeSpan], *, capitalise: bool = True, verbatim: bool = False) -> str:
    """The text with its time markers written out: absolute ("on 7 May 2023"), or as said (`verbatim`)."""

    def sub(m: re.Match[str]) -> str:
        i = int(m.group(1))
        if i >= len(spans):
            return ""
        if not verbatim:
            return spans[i].describe()
        words = spans[i].expression
        return words if m.start() == 0 else words[:1].lower() + words[1:]

    text = _MARK.sub(sub, marked)
    text = " ".join(text.split())
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = text.strip(" ,;:-")
    text = re.sub(r"[.!]+$", "", text).strip()
    return text[:1].upper() + text[1:] if capitalise else text


def _validity(hit: _Hit, span: TimeSpan | None) -> tuple[datetime | None, datetime | None]:
    if span is None or hit.time_role == "none":
        return None, None
    prep = span.prep
    if prep in {"since", "from"}:
        return span.start, None
    if prep == "after":
        return span.end, None
    if prep in {"until", "till", "by"}:
        return None, span.end
    if prep == "before":
        return None, span.start
    if hit.time_role == "start":
        return span.start, None
    return span.start, span.end


def _candidates_from_sentence(sentence: str, turn: ExtractInput, sp: _Speaker) -> list[Candidate]:
    out: list[Candidate] = []
    ref = turn.timestamp
    rem = _REMINDER.search(sentence)
    if rem is not None:
        v_raw = rem.group("v")
        spans = find_time_expressions(v_raw, ref, direction="future")
        marked, plain = _mark(v_raw, spans)
        v = _phrase(plain, 10)
        if v:
            body = _render(_pronouns(marked, None), spans, capitalise=False)
            about = "to" if rem.group("prep").lower() == "to" else rem.group("prep").lower()
            text = f"{sp.display} asked to be reminded {about} {body}"
            if not spans:
                text += said_on(ref)
            vf, vt = (spans[0].start, spans[0].end) if spans else (None, None)
            out.append(
                _candidate(
                    turn,
                    sp,
                    Kind.COMMITMENT,
                    "reminder",
                    v,
                    text,
                    0.95,
                    0.8,
                    vf,
                    vt,
                    spans[0] if spans else None,
                )
            )
        return out
    stmt = _statement(sentence)
    if stmt is None or _CONDITIONAL.search(stmt):
        return out
    greeted = bool(_GREETING.match(stmt))
    for raw in _clauses(stmt):
        if _MODAL.search(raw) and not re.search(r"\bwould\s+rather\b", raw, re.IGNORECASE):
            continue
        out.extend(_candidates_from_clause(raw, turn, sp, greeted))
    return out


def _candidates_from_clause(raw: str, turn: ExtractInput, sp: _Speaker, greeted: bool) -> list[Candidate]:
    ref = turn.timestamp
    clause = _strip_discourse(raw.strip()).rstrip(" .!?…,;:")
    if not clause or len(clause) > 400:
        return []
    spans = find_time_expressions(clause, ref, direction="past")
    future = find_time_expressions(clause, ref, direction="future")
    if [(s.char_start, s.char_end) for s in future] != [(s.char_start, s.char_end) for s in spans]:
        future = spans
    marked, plain = _mark(clause, spans)
    c = _Clause(
        plain=plain,
        marked=marked,
        spans=spans,
        future_spans=future,
        greeted=greeted,
        ref=ref,
        display=sp.display,
    )
    c.subj = _SUBJECT.match(plain)
    if c.subj is not None:
        c.plural = c.subj.group("subj").lower() != "i"
        c.body = plain[c.subj.end() :].strip()
        if greeted and not c.plural and (nm := re.match(r"^am\s+(?P<v>[A-Z][a-z]+)(?:\s*[,!.]|$)", c.body)):
            name = nm.group("v")
            if name not in _NOT_NAMES and not re.fullmatch(_IDENTITY_ADJ, name, re.IGNORECASE):
                hits = [_Hit(Kind.FACT, "name", name, 0.85, 0.9, text=f"{sp.display}'s name is {name}")]
                return [_build(h, c, turn, sp) for h in hits]
    elif re.match(r"^(?i:my|call\s+me|people\s+call\s+me)\b", plain) is None and not _R_IS_MY_FAV.match(
        plain
    ):
        return []
    hits = _clause_hits(c)
    return [_build(h, c, turn, sp) for h in hits if h.value is not None or h.negated]


def _build(hit: _Hit, c: _Clause, turn: ExtractInput, sp: _Speaker) -> Candidate:
    spans = c.future_spans if hit.time_role == "plan" else c.spans
    span = spans[0] if spans else None
    vf, vt = _validity(hit, span)
    if hit.text is not None:
        text = hit.text
    else:
        plural_with = None
        if c.subj is not None:
            w = c.subj.group("w1") or c.subj.group("w2")
            if w:
                plural_with = f"their {w.lower()}"
            elif c.subj.group("w3"):
                plural_with = c.subj.group("w3")
        # a time in a preference or an identity is habitual ("in the summer I swim"): keep its words
        verbatim = hit.time_role == "none"
        text = _render(_head_rewrite(c.marked, sp, plural_with, not c.plural), spans, verbatim=verbatim)
        if hit.kind in {Kind.EVENT, Kind.COMMITMENT} and span is None:
            text += said_on(turn.timestamp)
    return _candidate(
        turn,
        sp,
        hit.kind,
        hit.attribute,
        hit.value,
        text,
        hit.confidence,
        hit.importance,
        vf,
        vt,
        span if hit.time_role != "none" or span is not None else None,
        negated=hit.negated,
    )


def _candidate(
    turn: ExtractInput,
    sp: _Speaker,
    kind: Kind,
    attribute: str,
    value: str | None,
    text: str,
    confidence: float,
    importance: float,
    valid_from: datetime | None,
    valid_to: datetime | None,
    span: TimeSpan | None,
    *,
    negated: bool = False,
) -> Candidate:
    if valid_from is not None and valid_to is not None and valid_to < valid_from:
        valid_to = None
    return Candidate(
        kind=kind,
        text=text,
        subject=sp.key,
        attribute=attribute,
        value=value,
        negated=negated,
        valid_from=valid_from,
        valid_to=valid_to,
        importance=importance,
        confidence=confidence,
        source_message_ids=[turn.message_id],
        speaker=turn.speaker,
        observed_at=turn.timestamp,
        session_id=turn.session_id,
        time_expression=span.expression if span is not None else None,
    )


def _reads(turn: ExtractInput) -> bool:
    if turn.role == "user":
        return True
    return turn.role == "assistant" and turn.speaker is not None


class RuleExtractor:
    """Offline, deterministic extraction of first-person statements (see the module docstring)."""

    name = "rules"
    version = "1"

    def extract(self, turns: Sequence[ExtractInput], *, now: datetime) -> list[Candidate]:
        """Candidates from every readable turn; times resolve against each turn's timestamp.

        `now` is unused by the rules (the turn timestamps are the reference) but is part of the
        `Extractor` protocol.
        """
        out: list[Candidate] = []
        seen: set[tuple[str, str, str, str, bool, str]] = set()
        for turn in turns:
            if not _reads(turn):
                continue
            sp = _speaker(turn)
            text = _normalise(turn.text)
            for sentence in split_sentences(text):
                for cand in _candidates_from_sentence(sentence, turn, sp):
                    key = (
                        turn.message_id,
                        cand.kind.value,
                        cand.attribute,
                        (cand.value or "").lower(),
                        cand.negated,
                        cand.text,
                    )
                    if key in seen:
                        continue
                    seen.add(key)
                    out.append(cand)
        return out
