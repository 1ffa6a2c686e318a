"""Rules for events: past actions ("I went to", "we had a ...")."""

from __future__ import annotations

import re

from shared_core.extract.rules.hits import Rule, _Clause, _Hit, _rx
from shared_core.extract.rules.lexicon import (
    _ADV,
    _IRREGULAR_PAST,
    _MAJOR_EVENT,
    _MENTAL,
    _MENTAL_ING,
    _PARTICIPLES,
)
from shared_core.extract.rules.plans import _R_PROGRESSIVE
from shared_core.extract.rules.text import _phrase
from shared_core.models import Kind

# ---- events

_R_EVENT = _rx(r"^" + _ADV + r"(?P<verb>[a-z]+)\b(?P<rest>.*)$")
_R_PERFECT = _rx(r"^" + _ADV + r"have\s+" + _ADV + r"(?P<verb>[a-z]+)\b(?P<rest>.*)$")
_R_WAS_IN = _rx(r"^" + _ADV + r"(?:was|were)\s+(?P<rest>(?:in|at|on)\s+.+)$")
_R_BEEN_ING = _rx(r"^" + _ADV + r"have\s+been\s+" + _ADV + r"(?P<verb>[a-z]+ing)\b(?P<rest>.*)$")
_TRIVIAL_OBJECTS = re.compile(
    r"^(?:to\s+bed|to\s+sleep|home|back|out|up|down|off|it|that|this|there|here)\s*$", re.I
)


_MOTION = {
    "went",
    "moved",
    "came",
    "flew",
    "drove",
    "traveled",
    "travelled",
    "been",
    "returned",
    "walked",
    "rode",
}


def _event_value(verb: str, rest: str) -> tuple[str, str | None]:
    """("went", " to Rome with Ana") -> ("went_to", "Rome"); ("graduated", " from NYU") -> ("graduated_from", "NYU")."""
    verb = verb.lower()
    rest = rest.strip()
    attr = verb
    m = re.match(r"^(?:back\s+)?(to|from|into)\s+", rest, re.IGNORECASE)
    if m and (verb in _MOTION or m.group(1).lower() == "from"):
        back = "_back" if rest.lower().startswith("back") else ""
        attr, rest = f"{verb}{back}_{m.group(1).lower()}", rest[m.end() :]
    elif re.match(r"^back\s+from\s", rest, re.IGNORECASE):
        attr, rest = f"{verb}_back_from", rest[10:]
    elif pm := re.match(r"^(up|out|off|down|over|away|back|in)\b\s*", rest, re.IGNORECASE):
        # a phrasal verb: "broke up", "gave up smoking", "signed up for a class"
        attr, rest = f"{verb}_{pm.group(1).lower()}", rest[pm.end() :]
        if not rest or re.match(r"^(?:with|for|on|at|from|to)?\s*$", rest):
            return attr, f"{verb} {pm.group(1).lower()}"
    return attr, _phrase(rest, max_words=8)


def _m_events(c: _Clause) -> list[_Hit]:
    b = c.body
    if m := _R_BEEN_ING.match(b):
        verb = m.group("verb").lower()
        if verb in _MENTAL_ING:
            return []
        v = _phrase(f"{verb}{m.group('rest')}", max_words=8)
        return [_Hit(Kind.EVENT, "activity", v, 0.8, 0.5, "event")] if v else []
    if m := _R_PERFECT.match(b):
        verb = m.group("verb").lower()
        if verb not in _PARTICIPLES and not (verb.endswith("ed") and verb not in _MENTAL):
            return []
        if verb == "been" and not re.match(r"^\s+to\s", m.group("rest"), re.IGNORECASE):
            return []
        if verb in _MENTAL or _TRIVIAL_OBJECTS.match(m.group("rest").strip()):
            return []
        attr, v = _event_value(verb, m.group("rest"))
        if v is None and verb not in {"graduated", "retired"}:
            return []
        return [_event_hit(attr, v, verb, m.group("rest"))]
    if m := _R_PROGRESSIVE.match(b):
        verb = m.group("v").split()[0].lower()
        if verb in _MENTAL_ING or len(m.group("v").split()) < 2 and verb not in {"training", "studying"}:
            return []
        v = _phrase(m.group("v"), max_words=8)
        return [_Hit(Kind.EVENT, "activity", v, 0.8, 0.5, "event")] if v else []
    if c.spans and (m := _R_WAS_IN.match(b)):
        v = _phrase(m.group("rest"), max_words=8)
        return [_Hit(Kind.EVENT, "was_in", v, 0.8, 0.5, "event")] if v else []
    m = _R_EVENT.match(b)
    if m is None:
        return []
    verb = m.group("verb").lower()
    is_past = verb in _IRREGULAR_PAST or (len(verb) > 4 and verb.endswith("ed"))
    if not is_past or verb in _MENTAL:
        return []
    rest = m.group("rest")
    if re.match(
        r"^\s+(?:out|up\s+on|about|that|if|to\s+(?:say|tell|ask))\b", rest, re.IGNORECASE
    ) and verb in {
        "found",
        "read",
        "came",
    }:
        return []
    if _TRIVIAL_OBJECTS.match(rest.strip()) and verb in {"went", "got", "came", "did", "made", "had", "saw"}:
        return []
    if verb == "had" and re.match(r"^\s+(?:to|no\s+idea|a\s+feeling|a\s+point)\b", rest, re.IGNORECASE):
        return []
    attr, v = _event_value(verb, rest)
    if v is None and verb not in {"graduated", "retired", "proposed", "relocated"}:
        return []
    return [_event_hit(attr, v, verb, rest)]


def _event_hit(attr: str, value: str | None, verb: str, rest: str) -> _Hit:
    major = bool(_MAJOR_EVENT.search(f"{verb} {rest}"))
    strong = verb in {
        "went",
        "visited",
        "started",
        "finished",
        "adopted",
        "attended",
        "joined",
        "graduated",
        "had",
    }
    return _Hit(Kind.EVENT, attr, value, 0.9 if strong else 0.8, 0.8 if major else 0.5, "event")


RULES = (Rule("events", "positive", 110, _m_events),)
