"""Rules for plans and commitments: "I will", "I'm going to", future-dated statements."""

from __future__ import annotations

import re
from datetime import datetime

from shared_core.extract.rules.hits import Rule, _Clause, _Hit, _rx
from shared_core.extract.rules.lexicon import _ADV, _FILLER_VERBS, _PRONOUN_OBJECTS
from shared_core.extract.rules.preferences import _MENTAL_BASE
from shared_core.extract.rules.text import _phrase
from shared_core.models import Kind

# ---- plans and commitments

_PLAN_AUX = {
    "plan": r"will|am\s+going\s+to|are\s+going\s+to|plan\s+to|plan\s+on|am\s+planning\s+to|am\s+planning\s+on|"
    r"are\s+planning\s+to|are\s+planning\s+on|intend\s+to|am\s+about\s+to|are\s+about\s+to|have\s+decided\s+to|"
    r"decided\s+to|have\s+plans\s+to|have\s+a\s+plan\s+to|am\s+scheduled\s+to|are\s+scheduled\s+to|"
    r"am\s+supposed\s+to|are\s+supposed\s+to|have\s+signed\s+up\s+(?:for|to)|signed\s+up\s+(?:for|to)|"
    r"cannot\s+wait\s+to|am\s+looking\s+forward\s+to|are\s+looking\s+forward\s+to|look\s+forward\s+to|"
    r"am\s+excited\s+to|are\s+excited\s+to|am\s+so\s+excited\s+to|am\s+going|are\s+going|have\s+booked|booked",
    "commitment": r"promised\s+to|promise\s+to|have\s+promised\s+to|am\s+committed\s+to|committed\s+to",
    "goal": r"want\s+to|hope\s+to|am\s+hoping\s+to|are\s+hoping\s+to|aim\s+to|am\s+aiming\s+to|am\s+determined\s+to|"
    r"have\s+always\s+wanted\s+to|dream\s+of",
    "todo": r"have\s+to|need\s+to|must|have\s+got\s+to",
}
_R_PLAN = _rx(
    r"^"
    + _ADV
    + r"(?P<aux>"
    + "|".join(f"(?P<{k}>{v})" for k, v in _PLAN_AUX.items())
    + r")\s+"
    + _ADV
    + r"(?P<v>.+)"
)
_TODO_FILLER = re.compile(
    r"^(?:go|run|leave|head|dash|bounce|sleep|pee|get\s+going|get\s+off|sign\s+off)\b", re.I
)
_R_PROGRESSIVE = _rx(r"^" + _ADV + r"(?:am|are)\s+" + _ADV + r"(?P<v>[a-z]+ing\b.*)")
_R_PRESENT = _rx(
    r"^" + _ADV + r"(?P<v>(?:start|begin|leave|fly|move|go|travel|head|visit|get|have|meet|see)\b.*)"
)
_DETERMINER = re.compile(r"^(?:the|a|an|my|our|his|her|their|this|that|some|[A-Z])", re.IGNORECASE)


def _is_future(c: _Clause, ref: datetime) -> bool:
    """A present or progressive clause with a time expression that can be read as future."""
    return any(sp.start > ref for sp in c.future_spans)


def _m_plans(c: _Clause) -> list[_Hit]:
    b = c.body
    m = _R_PLAN.match(b)
    if m is None:
        return []
    v_raw = m.group("v")
    if _FILLER_VERBS.match(v_raw) or _PRONOUN_OBJECTS.match(v_raw):
        return []
    aux = " ".join(m.group("aux").lower().split())
    if m.group("todo") and _TODO_FILLER.match(v_raw):
        return []
    if re.match(r"^(?:be\s+)?(?:honest|there\s+for|back|fine|ok|okay)\b", v_raw, re.IGNORECASE):
        return []
    if aux in {"am going", "are going"}:
        if not re.match(r"^[a-z]+ing\b", v_raw, re.IGNORECASE):
            return []
        v_raw = "go " + v_raw
    elif (
        aux in {"am going to", "are going to"}
        and _DETERMINER.match(v_raw)
        and not re.match(r"^(?:try|take|start|have|make|be|get|see|visit|buy|do)\b", v_raw, re.IGNORECASE)
    ):
        v_raw = "go to " + v_raw
    elif aux in {"have booked", "booked"}:
        v_raw = "booked " + v_raw
    if m.group("goal"):
        attr, conf, imp = "goal", 0.8, 0.6
    elif m.group("todo"):
        attr, conf, imp = "todo", 0.8, 0.6
    elif m.group("commitment"):
        attr, conf, imp = "promise", 0.9, 0.8
    else:
        attr, conf, imp = "plan", 0.9, 0.7
    v = _phrase(v_raw, max_words=10)
    if not v or _MENTAL_BASE.match(v):
        return []
    return [_Hit(Kind.COMMITMENT, attr, v, conf, imp, "plan")]


def _m_future(c: _Clause) -> list[_Hit]:
    """A present or progressive clause with a future time: "I fly to Rome next week"."""
    if c.ref is None or not _is_future(c, c.ref):
        return []
    m = _R_PROGRESSIVE.match(c.body) or _R_PRESENT.match(c.body)
    if m is None or _MENTAL_BASE.match(m.group("v")):
        return []
    if re.match(r"^(?:going|getting|doing|feeling|thinking|trying)\b", m.group("v"), re.IGNORECASE):
        return []
    v = _phrase(
        re.sub(r"^planning\s+(?=(?:a|an|the|our|my|some)\b)", "", m.group("v"), flags=re.IGNORECASE), 10
    )
    return [_Hit(Kind.COMMITMENT, "plan", v, 0.85, 0.7, "plan")] if v else []


RULES = (
    Rule("plans", "positive", 70, _m_plans),
    Rule("future", "positive", 100, _m_future),
)
