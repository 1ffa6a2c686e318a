"""A small keyword / pattern classifier of sensitive topics (pure, offline, deterministic).

`classify(text)` returns the subset of {"health", "religion", "politics", "sexuality",
"finances"} that the text touches; the engine's keep/review/drop policy sends inferred
memories on these topics to review. It favours precision on everyday chat over recall:

* words are matched on word boundaries; ambiguous words count only in a telling phrase
  ("vote Labour", "go to mass", "had a stroke", "I'm bi", "trans woman");
* "party" alone is not politics (birthday party), "bank holiday" / "river bank" /
  "budget airline" are not finances, "retail therapy" / "the Great Depression" /
  "tropical depression" are not health, "oh my god" / "thank god" are not religion;
* "depressed about/over/that/because ..." (a mood about an event: "depressed about the
  game") is NOT health, while "depressed" otherwise ("I've been depressed for months",
  "clinically depressed") and "depression" are. A false "health" only costs a review, but
  flagging every sports fan would make the review queue useless.

`explain(text)` gives the matched phrases per topic (for review UIs and tests).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["TOPICS", "classify", "explain", "is_sensitive"]

TOPICS: tuple[str, ...] = ("health", "religion", "politics", "sexuality", "finances")


def _words(*alternatives: str) -> str:
    return "|".join(alternatives)


# each topic: (case-insensitive patterns, case-sensitive patterns, exclusions (case-insensitive))
_RULES: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "health": (
        (
            r"diagnos(?:ed|is|es)",
            _words(
                r"cancer", r"tumou?rs?", r"chemo(?:therapy)?", r"radiotherapy", r"leuka?emia", r"lymphoma"
            ),
            _words(r"diabet(?:es|ic)", r"insulin", r"hiv", r"hepatitis", r"sexually transmitted"),
            _words(r"asthma", r"epilep(?:sy|tic)", r"seizures?", r"migraines?", r"arthritis"),
            _words(r"depression", r"depressive", r"antidepressants?", r"depressed"),
            _words(r"anxiety (?:disorder|attacks?|meds|medication)", r"panic attacks?", r"my anxiety"),
            _words(r"bipolar", r"schizophreni\w*", r"psychosis", r"psychotic", r"ptsd", r"adhd", r"ocd"),
            _words(r"autis(?:m|tic)", r"dyslexi[ac]", r"eating disorder", r"anorexi[ac]", r"bulimi[ac]"),
            _words(r"self[- ]harm(?:ing)?", r"suicid(?:e|al)"),
            _words(r"therap(?:y|ist|ists)", r"psychiatr(?:ist|ic|y)", r"psychologist", r"counsell?ing"),
            _words(r"medications?", r"prescri(?:bed|ption|ptions)", r"my meds"),
            _words(r"pregnan(?:t|cy)", r"miscarri(?:age|ed)", r"ivf", r"infertil(?:e|ity)", r"abortion"),
            _words(r"surgery", r"hospitali[sz]ed", r"in (?:the )?hospital", r"emergency room", r"a&e"),
            _words(r"chronic (?:pain|illness|fatigue)", r"disabilit(?:y|ies)", r"wheelchair"),
            _words(r"(?:am|i'?m|is|was|are|were|being|physically|mentally|severely) disabled"),
            _words(r"disabled (?:person|people|child|son|daughter|parking|access|badge|veteran)"),
            _words(r"allerg(?:y|ies|ic)", r"blood pressure", r"hypertension", r"cholesterol"),
            _words(r"heart (?:attack|disease|condition|failure|surgery)", r"(?:had|suffered) a stroke"),
            _words(r"dementia", r"alzheimer'?s", r"parkinson'?s", r"multiple sclerosis", r"crohn'?s"),
            _words(r"c[oe]eliac", r"long covid", r"tested positive", r"mental (?:health|illness)"),
            _words(r"rehab", r"addiction", r"addicted to (?:alcohol|drugs|opioids|gambling|painkillers)"),
            _words(r"alcoholi(?:c|sm)", r"sobriety", r"overdosed?", r"opioids?", r"erectile dysfunction"),
            _words(r"broke my (?:arm|leg|wrist|ankle|hip|back|neck)", r"concussion"),
            _words(r"(?:is|was|went|goes|in|into) labou?r", r"contractions started"),
        ),
        (r"AIDS", r"STIs?", r"STDs?", r"IBS", r"(?:my|our) GP", r"GP (?:appointment|surgery|practice)"),
        (
            r"great depression",
            r"(?:tropical|economic) depression",
            r"depressed (?:about|over|that|because|when|after)\b",
            r"retail therapy",
            r"therapy dogs?",
            r"depressed the",
            r"(?:asset|drug|property|cash) seizures?",
        ),
    ),
    "religion": (
        (
            _words(
                r"religio(?:n|us|ns)", r"my faith", r"(?:lost|losing|keep|keeping) (?:my|his|her|their) faith"
            ),
            _words(
                r"christianity",
                r"christians",
                r"catholic(?:ism|s)?",
                r"protestants?",
                r"evangelicals?",
                r"mormons?",
            ),
            _words(r"jehovah'?s witness(?:es)?", r"anglican", r"baptists?", r"methodists?", r"lutherans?"),
            _words(
                r"presbyterian", r"pentecostal", r"quakers?", r"orthodox (?:church|jews?|jewish|christians?)"
            ),
            _words(r"muslims?", r"islam(?:ic)?", r"jews", r"jewish", r"judaism", r"hindus?", r"hinduism"),
            _words(r"buddhis(?:t|ts|m)", r"sikhs?", r"sikhism", r"jainism", r"atheis(?:t|ts|m)"),
            _words(r"(?:i'?m|am|is|a|as a|being|devout|practi[cs]ing) (?:christian|jain)"),
            _words(r"christian (?:faith|church|values|school|community|upbringing|prayer)"),
            _words(r"agnostic", r"pagan(?:ism)?", r"wicca\w*", r"scientolog\w*"),
            _words(
                r"church(?:es)?", r"mosques?", r"synagogues?", r"(?:hindu|buddhist|sikh) temple", r"gurdwara"
            ),
            _words(r"pray(?:s|ed|ing)?", r"prayers?", r"bible", r"qur'?an", r"koran", r"torah", r"talmud"),
            _words(r"ramadan", r"eid", r"passover", r"yom kippur", r"rosh hashanah", r"hanukk?ah", r"diwali"),
            _words(r"bapti[sz](?:ed|m)", r"bar mitzvah", r"bat mitzvah", r"kosher", r"halal", r"hijab"),
            _words(r"rosary", r"(?:go to|goes to|went to|attend|attends|sunday|midnight) mass", r"sabbath"),
            _words(r"shabbat", r"pastor", r"priest", r"rabbi", r"imam", r"pilgrimage", r"hajj"),
            _words(r"believe in god", r"god'?s (?:plan|will)", r"born again"),
        ),
        (
            r"(?:for|during|before|after) Lent",
            r"Lent (?:starts|begins|is)",
        ),
        (
            r"oh my god",
            r"thank god",
            r"god knows",
            r"for god'?s sake",
            r"church (?:street|st|road|rd|lane|ln|avenue|ave|hill)\b",
            r"(?:st\.? |saint )?mary'?s church road",
            r"praying mantis",
        ),
    ),
    "politics": (
        (
            _words(
                r"politic(?:s|al|ian|ians|ally)",
                r"elections?",
                r"ballots?",
                r"referendum",
                r"polling station",
            ),
            _words(r"vot(?:e|ed|ing) (?:for|against) (?:the )?(?:labour|tor(?:y|ies)|conservatives?)"),
            _words(r"vot(?:e|ed|ing) (?:for|against) (?:the )?(?:republicans?|democrats?|greens?|lib dems?)"),
            _words(r"vot(?:e|ed|ing) (?:in|at) the (?:election|referendum|primary|primaries|midterms?)"),
            _words(
                r"republicans?", r"democrats?", r"democratic party", r"labour (?:party|voter|mp|government)"
            ),
            _words(
                r"tor(?:y|ies)", r"conservative party", r"lib dems?", r"liberal democrats?", r"green party"
            ),
            _words(r"(?:left|right)[- ]wing(?:er|ers)?", r"far[- ](?:left|right)", r"socialis(?:t|ts|m)"),
            _words(r"communis(?:t|ts|m)", r"fascis(?:t|ts|m)", r"libertarians?", r"marxis(?:t|ts|m)"),
            _words(r"(?:i'?m|i am) an? (?:liberal|conservative|progressive|centrist|socialist)"),
            _words(
                r"brexit", r"prime minister", r"parliament", r"congress(?:man|woman|ional)?", r"senators?"
            ),
            _words(r"immigration policy", r"gun control", r"pro[- ]life", r"pro[- ]choice"),
            _words(r"abortion (?:rights|ban|law|laws)", r"trade unions?", r"union member"),
            _words(r"protest(?:ed|ing)? against", r"(?:political )?activist", r"campaign(?:ed|ing) for"),
        ),
        (
            r"Labour",
            r"Trump",
            r"Biden",
            r"Obama",
            r"Putin",
            r"MAGA",
            r"GOP",
            r"SNP",
            r"UKIP",
            r"AfD",
            r"SPD",
            r"CDU",
        ),
        (
            r"office politics",
            r"trump cards?",
            r"labour (?:pains?|ward|room|market|costs?|of love)",
            r"in labour",
        ),
    ),
    "sexuality": (
        (
            _words(r"gay", r"lesbians?", r"bisexual(?:ity)?", r"pansexual", r"asexual", r"queer"),
            _words(r"homosexual(?:ity)?", r"heterosexual", r"lgbt\w*", r"transgender", r"non[- ]?binary"),
            _words(r"genderqueer", r"trans (?:woman|women|man|men|person|people|kid|guy|girl|boy)"),
            _words(r"(?:i'?m|i am|he'?s|she'?s|they'?re) (?:bi|trans)"),
            _words(r"came out (?:as|to)", r"coming out (?:as|to)", r"sexual orientation", r"gender identity"),
            _words(r"sex life", r"sexual (?:health|partners?|preferences?|history)", r"same[- ]sex"),
            _words(r"my kinks?", r"kinky", r"fetish(?:es)?", r"bdsm", r"grindr", r"libido"),
        ),
        (),
        (r"trans[- ]fats?", r"gay abandon"),
    ),
    "finances": (
        (
            _words(r"salar(?:y|ies)", r"income", r"wages?", r"pay ?(?:checks?|cheques?|slips?)"),
            _words(r"pay (?:rise|raise|cut)", r"(?:annual|year-end|my|performance) bonus"),
            _words(r"debts?", r"loans?", r"mortgages?", r"overdraft", r"overdrawn", r"bankrupt(?:cy)?"),
            _words(r"insolven(?:t|cy)", r"foreclos(?:ure|ed)", r"evict(?:ed|ion)", r"repossess(?:ed|ion)"),
            _words(r"credit (?:score|rating|history)", r"credit card (?:debt|bill|bills|balance)"),
            _words(r"(?:can'?t|cannot|couldn'?t|can not) afford", r"(?:tight|small|monthly) budget"),
            _words(
                r"owe (?:money|the bank|taxes|rent)", r"tax (?:return|bill|debt)", r"taxes", r"irs", r"hmrc"
            ),
            _words(r"net worth", r"(?:my|our|his|her|their|life) savings", r"savings accounts?"),
            _words(r"bank (?:account|balance|statement|loan|details)"),
            _words(r"pensions?", r"401\(?k\)?", r"retirement (?:fund|account|savings)", r"investments?"),
            _words(
                r"(?:stock|investment) portfolio", r"stocks", r"shares in", r"crypto(?:currency|currencies)?"
            ),
            _words(r"bitcoin", r"ethereum", r"inheritance", r"alimony", r"child support", r"welfare"),
            _words(r"on benefits", r"unemployment benefits?", r"food stamps", r"food banks?", r"unemployed"),
            _words(r"laid off", r"lost my job", r"payday loans?", r"behind on (?:rent|payments|bills)"),
            r"[$£€]\s?\d[\d,.]*\s?k? (?:a|per) (?:year|month|week|hour|annum)",
        ),
        (r"IRA",),
        (
            r"bank holidays?",
            r"(?:river|blood|memory|sperm|data|west) bank",
            r"budget (?:airline|hotel|flight|option)",
            r"low[- ]budget",
            r"bonus (?:level|round|track|points?|feature|content|episode)",
            r"loan (?:words?|shark films?)",
            r"(?:technical|sleep|design) debts?",
            r"(?:animal|child|employee) welfare",
        ),
    ),
}


_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


def _compile(patterns: Iterable[str], flags: int) -> re.Pattern[str] | None:
    pats = [p for p in patterns if p]
    if not pats:
        return None
    return re.compile(r"(?<![\w])(?:" + "|".join(f"(?:{p})" for p in pats) + r")(?![\w])", flags)


_COMPILED: dict[str, tuple[re.Pattern[str] | None, re.Pattern[str] | None, re.Pattern[str] | None]] = {
    topic: (
        _compile(ci, re.IGNORECASE),
        _compile(cs, 0),
        _compile(ex, re.IGNORECASE),
    )
    for topic, (ci, cs, ex) in _RULES.items()
}


def _hits(topic: str, text: str) -> list[str]:
    ci, cs, ex = _COMPILED[topic]
    text = text.translate(_APOSTROPHES)
    masked = ex.sub(lambda m: " " * len(m.group()), text) if ex is not None else text
    found: list[str] = []
    for pattern in (ci, cs):
        if pattern is not None:
            found.extend(m.group() for m in pattern.finditer(masked))
    return found


def explain(text: str) -> dict[str, tuple[str, ...]]:
    """The matched phrases per topic (only topics with a match)."""
    if not isinstance(text, str) or not text:
        return {}
    out: dict[str, tuple[str, ...]] = {}
    for topic in TOPICS:
        hits = _hits(topic, text)
        if hits:
            out[topic] = tuple(hits)
    return out


def classify(text: str) -> frozenset[str]:
    """The sensitive topics `text` touches (empty for everyday content)."""
    return frozenset(explain(text))


def is_sensitive(text: str) -> bool:
    return bool(explain(text))
