"""Rules for "my ..." clauses with no first-person subject (name, favourites, goals, birthday)."""

from __future__ import annotations

import re

from shared_core.extract.rules.family import _R_MY_REL, _rel
from shared_core.extract.rules.hits import Rule, _Clause, _Hit, _rx
from shared_core.extract.rules.lexicon import _FILLER_VERBS
from shared_core.extract.rules.text import _name_value, _phrase
from shared_core.models import Kind

# ---- "my ..." clauses (no first-person subject)

_R_MY_NAME = re.compile(
    r"^(?i:my\s+(?:full\s+|first\s+|real\s+)?name\s+is|call\s+me|people\s+call\s+me)\s+(?P<v>.+)$"
)
_R_MY_FAV = _rx(
    r"^my\s+(?:all[-\s]time\s+|absolute\s+|current\s+|new\s+|personal\s+)?favourite\s+(?P<what>[a-z][a-z\s-]{0,30}?)\s+"
    r"(?:is|are|has\s+(?:got\s+)?to\s+be|would\s+have\s+to\s+be|right\s+now\s+is|at\s+the\s+moment\s+is|was)\s+(?P<v>.+)"
)
_R_IS_MY_FAV = _rx(
    r"^(?P<v>[\w\s'&.-]{1,40}?)\s+(?:is|are)\s+(?:definitely\s+|probably\s+|still\s+|totally\s+)?my\s+"
    r"(?:all[-\s]time\s+|absolute\s+|new\s+)?favourite(?:\s+(?P<what>[a-z][a-z\s-]{0,30}))?\s*$"
)
_R_MY_GOAL = _rx(
    r"^my\s+(?:(?:main|big|biggest|next|new)\s+)?(?P<what>goal|dream|plan|resolution|new\s+year's\s+resolution|"
    r"aim|mission)\s+(?:for\s+\S+(?:\s+\S+)?\s+)?is\s+to\s+(?P<v>.+)"
)
_R_MY_BIRTHDAY = _rx(r"^my\s+(?:birthday|bday)\s+is\b")


def _my_hits(c: _Clause) -> list[_Hit]:
    p = c.plain
    if m := _R_MY_NAME.match(p):
        name = _name_value(m.group("v"))
        return (
            [_Hit(Kind.FACT, "name", name, 0.95, 0.9, text=f"{c.display}'s name is {name}")] if name else []
        )
    if m := _R_MY_FAV.match(p):
        what = "_".join(m.group("what").lower().split())
        v = _phrase(m.group("v"), 6)
        return [_Hit(Kind.PREFERENCE, f"favourite_{what}", v, 0.95, 0.6)] if v else []
    if m := _R_IS_MY_FAV.match(p):
        what = "_".join((m.group("what") or "").lower().split())
        v = _phrase(m.group("v"), 6)
        attr = f"favourite_{what}" if what else "favourite"
        return [_Hit(Kind.PREFERENCE, attr, v, 0.9, 0.6)] if v else []
    if m := _R_MY_GOAL.match(p):
        kind_attr = "plan" if m.group("what").lower().startswith("plan") else "goal"
        v = _phrase(m.group("v"), 10)
        if v and not _FILLER_VERBS.match(v):
            return [_Hit(Kind.COMMITMENT, kind_attr, v, 0.9, 0.7, "plan")]
        return []
    if _R_MY_BIRTHDAY.match(p) and c.spans:
        sp = c.spans[0]
        return [_Hit(Kind.FACT, "birthday", f"{sp.start.day} {sp._bare().split()[1]}", 0.9, 0.7)]
    if m := _R_MY_REL.match(p):
        name = _name_value(m.group("name"))
        if name:
            return [_Hit(Kind.FACT, _rel(m.group("rel")), name, 0.9, 0.7)]
    return []


RULES = (Rule("possessive", "possessive", 10, _my_hits),)
