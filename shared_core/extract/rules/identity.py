"""Rules for identity: "I am a nurse", "I am vegetarian", nationality."""

from __future__ import annotations

import re

from shared_core.extract.rules.hits import Rule, _Clause, _Hit, _rx
from shared_core.extract.rules.lexicon import _ADV, _DIETS, _IDENTITY_ADJ, _JOB_SUFFIXES, _JOBS, _NOT_JOBS
from shared_core.extract.rules.text import _phrase, _place
from shared_core.models import Kind

# ---- identity ("I am a nurse", "I am vegetarian")

_R_AM_A = _rx(r"^" + _ADV + r"(?:am|have\s+been|became|am\s+now)\s+(?:an?)\s+(?P<v>.+)")
_R_IDENTITY_ADJ = _rx(
    r"^" + _ADV + r"am\s+(?:a\s+)?(?P<v>" + _IDENTITY_ADJ + r")\b(?!\s+(?:of|to|about|that|with)\b)"
)
_R_NATIONALITY = re.compile(r"^(?:(?i:am)\s+)(?P<v>[A-Z][a-z]+(?:ian|ese|ish|an|i|ch))\b\s*$")
_NOT_IDENTITY_START = re.compile(
    r"^(?:bit|little|lot|lil|tad|mess|wreck|huge\s+fan|big\s+fan|fan|part|member\s+of\s+the\s+audience|"
    r"few|couple|good\s+(?:time|day)|great\s+(?:time|day)|new\s+(?:day|week)|while|long\s+time|way|chance|"
    r"pleasure|question|problem|good\s+idea|great\s+idea|fun|relief|shame|pity|blessing|sign|thing|joke|mood|"
    r"break|rest|moment|second|minute|sucker\s+for)\b",
    re.IGNORECASE,
)


def _job_like(head: str) -> tuple[bool, float]:
    h = head.lower()
    if h in _NOT_JOBS:
        return False, 0.0
    if h in _JOBS:
        return True, 0.9
    if h.endswith(_JOB_SUFFIXES) and len(h) > 4:
        return True, 0.8
    return False, 0.0


def _m_identity(c: _Clause) -> list[_Hit]:
    if c.plural:
        return []
    b = c.body
    if not re.match(r"^" + _ADV + r"am\s+an?\s", b, re.IGNORECASE) and (m := _R_IDENTITY_ADJ.match(b)):
        v = m.group("v").lower()
        if v in {"retired", "unemployed", "self-employed"}:
            return [_Hit(Kind.FACT, "job", v, 0.9, 0.8, "start")]
        return [_Hit(Kind.FACT, "identity", v, 0.85, 0.6)]
    if m := _R_NATIONALITY.match(b):
        return [_Hit(Kind.FACT, "identity", m.group("v"), 0.85, 0.6)]
    m = _R_AM_A.match(b)
    if m is None:
        return []
    raw = m.group("v")
    if _NOT_IDENTITY_START.match(raw):
        return []
    tail = re.search(r"\s+(?:at|for|with)\s+(?P<org>[A-Z].+)$", raw)
    core = raw[: tail.start()] if tail else raw
    core = re.split(
        r"\s+(?:in|from|who|that|and|but|because|since|so|of|to|on|by|now|here)\b|[,;:!?.]", core
    )[0]
    words = core.split()
    if not words or len(words) > 5:
        return []
    core_phrase = _phrase(" ".join(words), max_words=5)
    if not core_phrase:
        return []
    head = re.sub(r"[^a-z-]", "", words[-1].lower())
    is_job, conf = _job_like(head)
    if is_job:
        hits = [_Hit(Kind.FACT, "job", core_phrase, conf, 0.8, "start")]
        if tail:
            org = _place(tail.group("org"))
            if org:
                hits.append(_Hit(Kind.FACT, "works_at", org, conf, 0.8, "start"))
        return hits
    if re.fullmatch(_DIETS, head):
        return [_Hit(Kind.FACT, "diet", head, 0.9, 0.7, "start")]
    return [_Hit(Kind.FACT, "identity", core_phrase, 0.8, 0.6)]


RULES = (Rule("identity", "positive", 80, _m_identity),)
