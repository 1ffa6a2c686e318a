"""Rules for relationships and family: counts, partners, marriage, "my sister Anna"."""

from __future__ import annotations

import re

from shared_core.extract.rules.hits import Rule, _Clause, _Hit, _rx
from shared_core.extract.rules.lexicon import (
    _ADV,
    _NUM,
    _NUM_WORDS,
    _PLURAL_COUNTS,
    _REL_NORMAL,
    _REL_WORDS,
    _SINGULAR_COUNTS,
)
from shared_core.extract.rules.text import _name_value
from shared_core.models import Kind

# ---- relationships and family

_R_COUNT = _rx(
    r"^"
    + _ADV
    + r"(?:have|have\s+got|are\s+raising|are\s+parents\s+(?:of|to)|am\s+a\s+(?:mom|mum|dad|mother|father|"
    r"parent)\s+(?:of|to))\s+(?P<n>" + _NUM + r")\s+(?:\w+\s+)?(?P<what>" + "|".join(_PLURAL_COUNTS) + r")\b"
)
_R_HAVE_A = _rx(
    r"^" + _ADV + r"(?:have|have\s+got|now\s+have)\s+(?:an?|one)\s+(?:(?!named|called)[a-z-]+\s+){0,2}?"
    r"(?P<rel>" + _REL_WORDS + r")\b(?:\s+(?:named|called)\s+(?P<name>\S+(?:\s+\S+)?))?"
)
_R_STATUS = _rx(
    r"^"
    + _ADV
    + r"(?:am|are|have\s+been)\s+(?:happily\s+|newly\s+|recently\s+|still\s+|now\s+)?(?P<v>married|single|divorced|"
    r"engaged|widowed|separated|in\s+a\s+relationship|dating\s+someone|seeing\s+someone)\b"
)
_R_GOT_MARRIED = _rx(
    r"^" + _ADV + r"(?:got|have\s+got|have\s+gotten)\s+(?:re-?)?(?P<v>married|engaged|divorced)\b"
)
_R_GETTING_MARRIED = _rx(r"^" + _ADV + r"(?:am|are)\s+getting\s+(?P<v>married|engaged|divorced)\b")
_R_DATING = _rx(
    r"^"
    + _ADV
    + r"(?:am|are|have\s+been)\s+(?:dating|seeing|together\s+with|with)\s+(?P<name>\S+(?:\s+\S+)?)"
)
_R_MY_REL = re.compile(
    r"^(?i:my)\s+(?:(?i:older|younger|little|big|baby|new|oldest|youngest|eldest|twin|lovely|amazing)\s+)?"
    r"(?P<rel>(?i:"
    + _REL_WORDS
    + r"))(?:'s\s+(?i:name\s+is)|\s+(?i:is\s+named|is\s+called|named|called)|,)?\s+"
    r"(?P<name>\S+(?:\s+\S+)?)"
)


def _rel(word: str) -> str:
    w = " ".join(word.lower().split())
    return _REL_NORMAL.get(w, w.replace(" ", "_").replace("-", ""))


def _m_family(c: _Clause) -> list[_Hit]:
    b = c.body
    if m := _R_COUNT.match(b):
        n = m.group("n").lower()
        count = int(n) if n.isdigit() else _NUM_WORDS[n]
        attr = "number_of_" + _PLURAL_COUNTS[m.group("what").lower()]
        return [_Hit(Kind.FACT, attr, str(count), 0.9, 0.7)]
    if m := _R_HAVE_A.match(b):
        rel = _rel(m.group("rel"))
        name = _name_value(m.group("name"))
        if name:
            return [_Hit(Kind.FACT, rel, name, 0.9, 0.7)]
        plural = _SINGULAR_COUNTS.get(m.group("rel").lower())
        if plural and re.match(r"^" + _ADV + r"(?:have|have\s+got|now\s+have)\s+one\b", b, re.IGNORECASE):
            return [_Hit(Kind.FACT, f"number_of_{plural}", "1", 0.9, 0.7)]
        return [_Hit(Kind.FACT, "has", rel.replace("_", " "), 0.9, 0.6)]
    if m := _R_GOT_MARRIED.match(b):
        v = m.group("v").lower()
        return [
            _Hit(Kind.EVENT, f"got_{v}", v, 0.9, 0.8, "event"),
            _Hit(Kind.FACT, "relationship_status", v, 0.9, 0.8, "start"),
        ]
    if m := _R_GETTING_MARRIED.match(b):
        v = m.group("v").lower()
        return [_Hit(Kind.COMMITMENT, "plan", f"get {v}", 0.9, 0.8, "plan")]
    if m := _R_STATUS.match(b):
        v = " ".join(m.group("v").lower().split())
        v = {"dating someone": "dating", "seeing someone": "dating"}.get(v, v)
        return [_Hit(Kind.FACT, "relationship_status", v, 0.9, 0.8, "start")]
    if not c.plural and (m := _R_DATING.match(b)):
        name = _name_value(m.group("name"))
        if name:
            return [
                _Hit(Kind.FACT, "partner", name, 0.85, 0.8, "start"),
                _Hit(Kind.FACT, "relationship_status", "dating", 0.85, 0.7, "start"),
            ]
    return []


RULES = (Rule("family", "positive", 50, _m_family),)
