"""Rules for preferences: likes, dislikes, fears, allergies, habits, diets."""

from __future__ import annotations

import re

from shared_core.extract.rules.hits import Rule, _Clause, _Hit, _rx
from shared_core.extract.rules.lexicon import _ADV, _DIETS, _FILLER_VERBS, _FREQ_WORDS
from shared_core.extract.rules.text import _gerund, _phrase
from shared_core.models import Kind

# ---- preferences

_R_DISLIKE = _rx(
    r"^"
    + _ADV
    + r"(?:hate|dislike|detest|loathe|despise|cannot\s+stand|cannot\s+bear|do\s+not\s+(?:really\s+|much\s+)?"
    r"(?:like|love|enjoy|care\s+for)|am\s+not\s+(?:really\s+|much\s+of\s+)?(?:a\s+)?(?:big\s+|huge\s+)?(?:fan\s+of|into|"
    r"fond\s+of|keen\s+on))\s+(?P<v>.+)"
)
_R_FEAR = _rx(
    r"^" + _ADV + r"(?:am|are|have\s+always\s+been)\s+(?:really\s+|so\s+|very\s+|terribly\s+|deathly\s+)?"
    r"(?:afraid|scared|terrified|frightened)\s+of\s+(?P<v>.+)"
)
_R_ALLERGIC = _rx(
    r"^" + _ADV + r"(?:am|are)\s+(?:severely\s+|very\s+|deathly\s+|super\s+)?allergic\s+to\s+(?P<v>.+)"
)
_R_LIKE = _rx(
    r"^" + _ADV + r"(?P<verb>love|like|enjoy|adore|have\s+(?:always\s+)?(?:loved|liked|enjoyed|adored)|"
    r"am\s+(?:really\s+|so\s+|totally\s+|very\s+)?(?:into|passionate\s+about|obsessed\s+with|fond\s+of|keen\s+on|"
    r"crazy\s+about|addicted\s+to|hooked\s+on|a\s+(?:huge|big|massive|great)\s+fan\s+of|a\s+fan\s+of)|"
    r"are\s+(?:really\s+|so\s+|totally\s+)?(?:into|passionate\s+about|obsessed\s+with|huge\s+fans\s+of|big\s+fans\s+of))"
    r"\s+(?P<v>.+)"
)
_R_PREFER = _rx(
    r"^" + _ADV + r"prefer\s+(?P<v>.+?)(?:\s+(?:over|to|rather\s+than|than|instead\s+of)\s+(?P<o>.+))?$"
)
_R_HABIT = _rx(r"^" + _ADV + r"(?:have\s+|am\s+|are\s+)?(?P<freq>" + _FREQ_WORDS + r")\s+(?P<v>.+)")
_R_EVERY = _rx(
    r"^"
    + _ADV
    + r"(?P<v>[a-z]+\b.*?)\s+(?P<per>every|each)\s+(?P<unit>day|morning|evening|night|week|weekend|month|"
    r"year|summer|winter|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b"
)
_R_DULL_HABIT = _rx(r"^(?:been\s+)?(?:a|an|the|so|very)\b")
_R_USED_TO = _rx(r"^" + _ADV + r"used\s+to\s+(?P<v>.+)")
_R_DIET = _rx(
    r"^" + _ADV + r"(?:am|are|have\s+been|went)\s+(?:an?\s+)?(?:strict\s+|full\s+)?(?P<v>" + _DIETS + r")\b"
)
_MENTAL_BASE = re.compile(
    r"^(?:know|think|thought|knew|say|said|tell|told|expect|expected|imagine|imagined|realize|realise|realized|understand|"
    r"mean|meant|care|mind|want|need|get\s+it|forget|forgot|remember|feel|felt|guess|wonder|agree|"
    r"believe|miss|stop|seem|worry|doubt|regret|hear|heard)\b",
    re.IGNORECASE,
)


def _like_value(raw: str) -> str | None:
    words = raw.split()
    if words and words[0].lower() == "to" and len(words) > 1:
        if _MENTAL_BASE.match(words[1]) or _FILLER_VERBS.match(" ".join(words[1:])):
            return None
        raw = " ".join([_gerund(words[1]), *words[2:]])
    return _phrase(raw, max_words=6)


def _m_prefs(c: _Clause) -> list[_Hit]:
    b = c.body
    if m := _R_ALLERGIC.match(b):
        v = _phrase(m.group("v"), 5)
        return [_Hit(Kind.FACT, "allergic_to", v, 0.95, 0.9)] if v else []
    if m := _R_DIET.match(b):
        return [_Hit(Kind.FACT, "diet", m.group("v").lower().replace(" ", "-"), 0.9, 0.7, "start")]
    if m := _R_FEAR.match(b):
        v = _phrase(m.group("v"), 6)
        return [_Hit(Kind.PREFERENCE, "fears", v, 0.9, 0.6)] if v else []
    if m := _R_LIKE.match(b):
        v = _like_value(m.group("v"))
        return [_Hit(Kind.PREFERENCE, "likes", v, 0.9, 0.6)] if v else []
    if m := _R_PREFER.match(b):
        v = _like_value(m.group("v"))
        return [_Hit(Kind.PREFERENCE, "prefers", v, 0.9, 0.6)] if v else []
    if m := _R_USED_TO.match(b):
        if _MENTAL_BASE.match(m.group("v")):
            return []
        v = _phrase(m.group("v"), 8)
        return [_Hit(Kind.FACT, "used_to", v, 0.85, 0.4)] if v else []
    if m := _R_HABIT.match(b):
        rest = m.group("v")
        dull = _MENTAL_BASE.match(rest) or _FILLER_VERBS.match(rest) or _R_DULL_HABIT.match(rest)
        if dull and not re.match(r"^been\s+to\b", rest, re.IGNORECASE):
            return []
        v = _phrase(rest, 8)
        return [_Hit(Kind.PREFERENCE, "habit", f"{m.group('freq').lower()} {v}", 0.85, 0.5)] if v else []
    if m := _R_EVERY.match(b):
        if _MENTAL_BASE.match(m.group("v")) or m.group("v").split()[0].lower() in {
            "am",
            "are",
            "was",
            "have",
            "do",
        }:
            return []
        v = _phrase(m.group("v"), 8)
        return (
            [_Hit(Kind.PREFERENCE, "habit", f"{v} every {m.group('unit').lower()}", 0.85, 0.5)] if v else []
        )
    return []


def _m_dislike(c: _Clause) -> list[_Hit]:
    if m := _R_DISLIKE.match(c.body):
        v = _like_value(m.group("v"))
        return [_Hit(Kind.PREFERENCE, "dislikes", v, 0.9, 0.6)] if v else []
    return []


RULES = (
    Rule("dislike", "special", 10, _m_dislike),
    Rule("preferences", "positive", 60, _m_prefs),
)
