"""Which rules run for a clause, and negation ("I don't live in Paris anymore")."""

from __future__ import annotations

import re

from shared_core.extract.rules.hits import Stage, _Clause, _Hit, _rx
from shared_core.extract.rules.lexicon import _ADV, _FILLER_VERBS
from shared_core.extract.rules.preferences import _MENTAL_BASE
from shared_core.extract.rules.registry import rules_for
from shared_core.extract.rules.text import _phrase
from shared_core.models import Kind

# ---------------------------------------------------------------- the pipeline

_NEGATION = _rx(
    r"^"
    + _ADV
    + r"(?P<neg>do\s+not|does\s+not|no\s+longer|never\s+again|am\s+not|are\s+not|am\s+no\s+longer|"
    r"are\s+no\s+longer|will\s+not|did\s+not|have\s+not|had\s+not|was\s+not|were\s+not|"
    r"cannot(?!\s+(?:wait|stand|bear)\b)|never)\s+(?P<rest>.*)$"
)
_ANYMORE = re.compile(r"\s*\b(?:anymore|any\s+more|any\s+longer|these\s+days)\b", re.IGNORECASE)
_NEGATABLE = {
    "lives_in",
    "works_at",
    "works_in",
    "job",
    "identity",
    "diet",
    "relationship_status",
    "studies",
    "studies_at",
    "partner",
    "has",
    "likes",
    "learning",
    "plan",
    "goal",
    "promise",
    "todo",
}


def _first_hits(stage: Stage, c: _Clause) -> list[_Hit]:
    """The hits of the first rule of `stage` (in order) that matches the clause."""
    for rule in rules_for(stage):
        hits = rule.match(c)
        if hits:
            return hits
    return []


def _positive(c: _Clause) -> list[_Hit]:
    return _first_hits("positive", c)


def _negated(c: _Clause, m: re.Match[str]) -> list[_Hit]:
    neg = " ".join(m.group("neg").lower().split())
    rest = _ANYMORE.sub("", m.group("rest")).strip()
    if neg in {"did not", "have not", "had not", "was not", "were not", "cannot"}:
        return []
    if neg == "never":
        return []  # "I never ..." is a habit; handled by the positive matchers
    aux = {
        "am not": "am ",
        "am no longer": "am ",
        "are not": "are ",
        "are no longer": "are ",
        "will not": "will ",
    }
    positive = aux.get(neg, "") + rest
    sub = _Clause(
        plain=c.plain,
        marked=c.marked,
        spans=c.spans,
        future_spans=c.future_spans,
        subj=c.subj,
        plural=c.plural,
        body=positive,
        ref=c.ref,
        display=c.display,
    )
    hits = [h for h in _positive(sub) if h.attribute in _NEGATABLE and h.kind is not Kind.EVENT]
    if not hits and neg in {"do not", "does not"}:
        first = rest.split()[0].lower() if rest.split() else ""
        if (
            first
            and not _MENTAL_BASE.match(rest)
            and not _FILLER_VERBS.match(rest)
            and first not in {"have", "get"}
        ):
            v = _phrase(rest, 8)
            if v:
                return [_Hit(Kind.PREFERENCE, "habit", f"not {v}", 0.8, 0.5)]
        return []
    for h in hits:
        h.negated = True
        h.confidence = min(h.confidence, 0.85)
        if h.attribute == "likes":
            h.attribute, h.negated = "dislikes", False
    return hits


def _clause_hits(c: _Clause) -> list[_Hit]:
    if c.subj is None:
        return _first_hits("possessive", c)
    hits = _first_hits("special", c)
    if hits:
        return hits
    m = _NEGATION.match(c.body)
    if m is not None and not re.match(r"^" + _ADV + r"never\b", c.body, re.IGNORECASE):
        return _negated(c, m)
    return _positive(c)
