"""Rules for facts: age, where the speaker lives, work, teaching, study."""

from __future__ import annotations

import re

from shared_core.extract.rules.hits import Rule, _Clause, _Hit, _rx
from shared_core.extract.rules.lexicon import _ADV, _NUM_WORDS, _PRONOUN_OBJECTS
from shared_core.extract.rules.text import _gerund, _phrase, _place
from shared_core.models import Kind

# ---- facts


_R_AGE = [
    _rx(r"^am\s+(?P<v>\d{1,3})\s+(?:years?|yrs?)(?:\s+old)?\b"),
    _rx(r"^am\s+(?P<v>\d{1,3})\s*(?:yo|y/o)?\s*$"),
    _rx(r"^" + _ADV + r"turned\s+(?P<v>\d{1,3})\b"),
    _rx(
        r"^am\s+(?P<v>" + "|".join(list(_NUM_WORDS)[1:]) + r"|twenty|thirty|forty|fifty|sixty|seventy|eighty)"
        r"(?:[-\s](?:one|two|three|four|five|six|seven|eight|nine))?\s+years\s+old\b"
    ),
]


def _m_age(c: _Clause) -> list[_Hit]:
    if c.plural:
        return []
    for i, rx in enumerate(_R_AGE):
        m = rx.match(c.body)
        if m:
            v = m.group("v")
            if v.isdigit() and not 0 < int(v) < 125:
                return []
            role = "start" if i == 2 else "none"
            return [_Hit(Kind.FACT, "age", v, 0.9, 0.7, role)]
    return []


_R_LIVES = _rx(
    r"^"
    + _ADV
    + r"(?:live|am\s+living|are\s+living|have\s+been\s+living|have\s+lived|reside|am\s+based|are\s+based|"
    r"am\s+settled|are\s+settled|currently\s+live)\s+(?:(?:right|just)\s+)?(?:in|at|near|on|outside(?:\s+of)?)\s+(?P<v>.+)"
)
_R_MOVED = _rx(
    r"^" + _ADV + r"(?:moved|relocated|have\s+moved|have\s+relocated)\s+(?:back\s+)?to\s+(?P<v>.+)"
)
_R_MOVED_OUT = _rx(r"^" + _ADV + r"(?:moved|have\s+moved)\s+(?:out\s+of|away\s+from)\s+(?P<v>.+)")
_R_LIVED = _rx(r"^" + _ADV + r"(?:lived|used\s+to\s+live)\s+(?:in|at|near)\s+(?P<v>.+)")
_R_FROM = _rx(r"^" + _ADV + r"(?:am|are|come)\s+(?:originally\s+)?from\s+(?P<v>.+)")
_R_GREW = _rx(r"^" + _ADV + r"grew\s+up\s+(?:in|on|near)\s+(?P<v>.+)")
_R_BORN = _rx(r"^" + _ADV + r"was\s+born(?:\s+(?:in|at)\s+(?P<v>.+))?\s*$")


def _m_lives(c: _Clause) -> list[_Hit]:
    b = c.body
    if m := _R_LIVES.match(b):
        v = _place(m.group("v"))
        return [_Hit(Kind.FACT, "lives_in", v, 0.95, 0.8, "start")] if v else []
    if m := _R_MOVED.match(b):
        v = _place(m.group("v"))
        return [_Hit(Kind.FACT, "lives_in", v, 0.9, 0.8, "start")] if v else []
    if m := _R_LIVED.match(b):
        v = _place(m.group("v"))
        return [_Hit(Kind.FACT, "lived_in", v, 0.9, 0.5, "event")] if v else []
    if c.plural:
        return []
    if m := _R_FROM.match(b):
        v = _place(m.group("v"))
        return [_Hit(Kind.FACT, "from", v, 0.9, 0.7)] if v else []
    if m := _R_GREW.match(b):
        v = _place(m.group("v"))
        return [_Hit(Kind.FACT, "grew_up_in", v, 0.9, 0.6)] if v else []
    if m := _R_BORN.match(b):
        v = _place(m.group("v"))
        if v:
            return [_Hit(Kind.FACT, "born_in", v, 0.9, 0.7, "start")]
        if c.spans:
            return [_Hit(Kind.FACT, "birth_date", c.spans[0]._bare(), 0.9, 0.7, "start")]
    return []


_JOB_TAIL = r"(?:an?\s+)?(?P<job>[a-z][a-z\s-]{1,40}?)"
_ORG = r"(?P<v>.+?)"
_R_WORK_AT = _rx(
    r"^"
    + _ADV
    + r"(?:work|am\s+working|are\s+working|have\s+been\s+working|have\s+worked|work\s+full[-\s]time|"
    r"work\s+part[-\s]time|am\s+employed|am\s+interning|intern)(?:\s+(?:remotely|from\s+home|full[-\s]time|part[-\s]time|"
    r"freelance|there|now))?\s+(?P<prep>at|for|with)\s+" + _ORG + r"(?:\s+as\s+" + _JOB_TAIL + r")?\s*$"
)
_R_WORK_AS = _rx(
    r"^"
    + _ADV
    + r"(?:work|am\s+working|have\s+been\s+working|have\s+worked|work\s+full[-\s]time|work\s+part[-\s]time)"
    r"\s+as\s+" + _JOB_TAIL + r"(?:\s+(?:at|for|with)\s+" + _ORG + r")?\s*$"
)
_R_WORK_IN = _rx(r"^" + _ADV + r"(?:work|am\s+working)\s+in\s+(?P<v>.+)")
_R_NEW_JOB = _rx(
    r"^"
    + _ADV
    + r"(?:got|landed|started|accepted|took|began|found|have\s+got|have\s+started|have\s+accepted|"
    r"have\s+landed|have\s+found)\s+(?:a\s+|an\s+|my\s+|the\s+)?(?:new\s+|first\s+|dream\s+|full[-\s]time\s+|"
    r"part[-\s]time\s+)*(?:job|position|role|internship|gig)\b(?P<tail>.*)$"
)
_R_STARTED_WORK = _rx(
    r"^"
    + _ADV
    + r"(?:started|began|have\s+started)\s+(?:working|to\s+work)\s+(?:at|for)\s+"
    + _ORG
    + r"(?:\s+as\s+"
    + _JOB_TAIL
    + r")?\s*$"
)
_R_PROMOTED = _rx(r"^" + _ADV + r"(?:was|got|have\s+been)\s+promoted\s+to\s+(?:an?\s+)?(?P<job>.+)")
_R_HIRED = _rx(r"^" + _ADV + r"(?:was|got|have\s+been)\s+hired\s+(?:at|by)\s+(?P<v>.+)")
_R_QUIT = _rx(
    r"^" + _ADV + r"(?:quit|left|resigned\s+from|have\s+quit|have\s+left|lost|was\s+laid\s+off\s+from|"
    r"got\s+laid\s+off\s+from|was\s+fired\s+from|got\s+fired\s+from)\s+(?:my\s+)?(?:job|position|role|work)"
    r"(?:\s+(?:at|with)\s+(?P<v>.+))?$"
)
_R_LAID_OFF = _rx(
    r"^" + _ADV + r"(?:was|got|have\s+been)\s+(?:laid\s+off|fired|let\s+go)(?:\s+(?:from|by)\s+(?P<v>.+))?$"
)
_R_RETIRED = _rx(
    r"^" + _ADV + r"(?:retired|have\s+retired|am\s+retired|am\s+unemployed|am\s+between\s+jobs)\b"
)


def _job_hits(job_raw: str | None, org_raw: str | None, conf: float, role: str) -> list[_Hit]:
    hits: list[_Hit] = []
    org = _place(org_raw)
    if org:
        hits.append(_Hit(Kind.FACT, "works_at", org, conf, 0.8, role))
    job = _phrase(job_raw, max_words=5)
    if job:
        hits.append(_Hit(Kind.FACT, "job", job, conf, 0.8, role))
    return hits


def _m_work(c: _Clause) -> list[_Hit]:
    b = c.body
    if c.plural:
        return []
    if m := _R_WORK_AS.match(b):
        return _job_hits(m.group("job"), m.group("v"), 0.95, "start")
    if m := _R_WORK_AT.match(b):
        org = m.group("v")
        if m.group("prep").lower() == "with" and not org[:1].isupper():
            return []
        return _job_hits(m.group("job"), org, 0.95, "start")
    if m := _R_STARTED_WORK.match(b):
        return _job_hits(m.group("job"), m.group("v"), 0.9, "start")
    if m := _R_NEW_JOB.match(b):
        tail = m.group("tail")
        jm = re.search(
            r"\bas\s+(?:an?\s+)?(?P<job>[a-z][a-z\s-]+?)(?=\s+(?:at|with|for)\b|$)", tail, re.IGNORECASE
        )
        om = re.search(r"\b(?:at|with|for)\s+(?P<v>.+?)(?=\s+as\b|$)", tail, re.IGNORECASE)
        hits = _job_hits(jm.group("job") if jm else None, om.group("v") if om else None, 0.9, "start")
        return hits or [_Hit(Kind.EVENT, "new_job", "new job", 0.85, 0.8, "event")]
    if m := _R_PROMOTED.match(b):
        return _job_hits(m.group("job"), None, 0.9, "start")
    if m := _R_HIRED.match(b):
        return _job_hits(None, m.group("v"), 0.9, "start")
    if m := _R_WORK_IN.match(b):
        v = _place(m.group("v"))
        return [_Hit(Kind.FACT, "works_in", v, 0.9, 0.7, "start")] if v else []
    if _R_RETIRED.match(b):
        word = "retired" if "retired" in b.lower() else "unemployed"
        return [_Hit(Kind.FACT, "job", word, 0.9, 0.8, "start")]
    return []


_R_TEACH = _rx(r"^" + _ADV + r"(?:teach|coach|tutor|instruct)\s+(?P<v>.+)")


def _m_teach(c: _Clause) -> list[_Hit]:
    m = _R_TEACH.match(c.body)
    if m is None or _PRONOUN_OBJECTS.match(m.group("v")):
        return []
    v = _phrase(re.split(r"\s+(?:on|at|in|every|to)\s", m.group("v"))[0], 5)
    return [_Hit(Kind.FACT, "teaches", v, 0.85, 0.6)] if v else []


def _m_moved_out(c: _Clause) -> list[_Hit]:
    m = _R_MOVED_OUT.match(c.body)
    v = _place(m.group("v")) if m else None
    return [_Hit(Kind.FACT, "lives_in", v, 0.9, 0.8, "start", negated=True)] if v else []


def _m_work_ended(c: _Clause) -> list[_Hit]:
    if c.plural:
        return []
    m = _R_QUIT.match(c.body) or _R_LAID_OFF.match(c.body)
    if m is None:
        return []
    return [_Hit(Kind.FACT, "works_at", _place(m.group("v")), 0.9, 0.8, "start", negated=True)]


_R_STUDY = _rx(
    r"^" + _ADV + r"(?:study|am\s+studying|have\s+been\s+studying|major\s+in|am\s+majoring\s+in|studied)\s+"
    r"(?P<v>.+?)(?:\s+at\s+(?P<school>.+))?$"
)
_R_SCHOOL = _rx(
    r"^" + _ADV + r"(?:am\s+a\s+(?:\w+\s+)?student|go\s+to\s+(?:school|college|university|uni)|am\s+enrolled|"
    r"am\s+in\s+(?:school|college|grad\s+school))\s+(?:at|in)\s+(?P<v>.+)"
)
_R_LEARN = _rx(
    r"^"
    + _ADV
    + r"(?:am\s+learning|are\s+learning|have\s+been\s+learning|started\s+learning|began\s+learning|"
    r"am\s+taking\s+(?:\w+\s+)?(?:lessons|classes|a\s+class|a\s+course|courses))\s+(?:how\s+to\s+|to\s+|in\s+|on\s+)?"
    r"(?P<v>.+)"
)


def _m_study(c: _Clause) -> list[_Hit]:
    b = c.body
    if m := _R_SCHOOL.match(b):
        v = _place(m.group("v"))
        return [_Hit(Kind.FACT, "studies_at", v, 0.9, 0.7, "start")] if v else []
    if m := _R_LEARN.match(b):
        raw = m.group("v")
        words = raw.split()
        if re.match(r"^(?:how\s+)?to\s", b[m.start("v") - 3 : m.start("v")] + " ", re.IGNORECASE) and words:
            raw = " ".join([_gerund(words[0]), *words[1:]])
        v = _phrase(raw, max_words=6)
        role = "start" if re.search(r"\b(?:started|began)\b", b, re.IGNORECASE) else "none"
        return [_Hit(Kind.FACT, "learning", v, 0.85, 0.6, role)] if v else []
    if not c.plural and (m := _R_STUDY.match(b)):
        hits: list[_Hit] = []
        v = _phrase(m.group("v"), max_words=6)
        attr = "studied" if b.lower().startswith("studied") else "studies"
        if v:
            hits.append(_Hit(Kind.FACT, attr, v, 0.9, 0.7))
        school = _place(m.group("school"))
        if school:
            hits.append(
                _Hit(Kind.FACT, "studied_at" if attr == "studied" else "studies_at", school, 0.9, 0.7)
            )
        return hits
    return []


RULES = (
    Rule("work_ended", "special", 20, _m_work_ended),
    Rule("moved_out", "special", 30, _m_moved_out),
    Rule("age", "positive", 10, _m_age),
    Rule("lives", "positive", 20, _m_lives),
    Rule("work", "positive", 30, _m_work),
    Rule("study", "positive", 40, _m_study),
    Rule("teach", "positive", 90, _m_teach),
)
