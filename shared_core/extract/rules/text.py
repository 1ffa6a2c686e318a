"""Text normalisation, sentence and clause patterns, and small phrase helpers."""

from __future__ import annotations

import re

from shared_core.extract.rules.lexicon import _NAME, _NOT_NAMES, _PRONOUN_OBJECTS

# ---------------------------------------------------------------- text normalisation

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "\u00a0": " "})
_CONTRACTIONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p, re.IGNORECASE), r)
    for p, r in [
        (r"\bi'm\b", "I am"),
        (r"\bim\b(?=\s+(?:a|an|so|going|from|in|at|not|the|really|very|just|also|still|\d))", "I am"),
        (r"\bi've\b", "I have"),
        (r"\bive\b(?=\s+(?:been|got|just|never|always|had|done|seen))", "I have"),
        (r"\bi'll\b", "I will"),
        (r"\bi'd\b", "I would"),
        (r"\bwe're\b", "we are"),
        (r"\bwe've\b", "we have"),
        (r"\bwe'll\b", "we will"),
        (r"\bwe'd\b", "we would"),
        (r"\b(?:can't|cant|can not)\b", "cannot"),
        (r"\bwon't\b", "will not"),
        (r"\b(do|does|did|is|are|was|were|have|has|had|would|could|should)n't\b", r"\1 not"),
        (r"\b(do|does|did|is|are|was|were|have|has|had)nt\b", r"\1 not"),
        (r"\bgonna\b", "going to"),
        (r"\bwanna\b", "want to"),
        (r"\bgotta\b", "have to"),
        (r"\bname's\b", "name is"),
        (r"\b(favou?rite|fave|fav)\b", "favourite"),
    ]
]
_ABBREV = re.compile(
    r"\b(Mr|Mrs|Ms|Dr|St|Prof|Jr|Sr|vs|etc|e\.g|i\.e|a\.m|p\.m|approx|Mt|Ave)\.", re.IGNORECASE
)
_SENT_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n+|(?<=[.!?])(?=[A-Z])")
_DOT = "\u2024"


def _normalise(text: str) -> str:
    text = text.translate(_APOSTROPHES)
    for pattern, repl in _CONTRACTIONS:
        text = pattern.sub(repl, text)
    return text


def split_sentences(text: str) -> list[str]:
    """Sentences of a turn (abbreviations like "Dr." do not end one)."""
    protected = _ABBREV.sub(lambda m: m.group(0)[:-1] + _DOT, text)
    protected = re.sub(r"(\d)\.(\d)", lambda m: m.group(1) + _DOT + m.group(2), protected)
    parts = [c for p in _SENT_END.split(protected) if p for c in _CLAUSE.split(p)]
    return [p.replace(_DOT, ".").strip() for p in parts if p and p.strip()]


# independent clauses that start over with a first-person subject: "I live in Paris, and next week I'm ..."
_CLAUSE = re.compile(
    r"(?:\s*[;,]\s*(?:and|but|so|plus)\s+|\s*;\s*|\s+but\s+|\s+and\s+(?=i\s+(?:live|work|am|have|love|like|"
    r"hate|prefer|moved|will|just|also|really|recently|started|went|got)\b))"
    r"(?=(?:(?:next|last|this)\s+\w+\s+|tomorrow\s+|yesterday\s+|today\s+|tonight\s+|now\s+)?"
    r"(?:i|i'm|i've|i'll|i'd|my|we|we're|we've|we'll|our)\b)",
    re.IGNORECASE,
)


_DISCOURSE = re.compile(
    r"^(?:(?:oh\s+my\s+god|oh\s+wow|oh|ooh|well|yeah|yes|yep|yup|no|nope|nah|hey|hi|hello|so|and|but|also|actually|"
    r"honestly|btw|by\s+the\s+way|anyway|anyways|guess\s+what|you\s+know\s+what|you\s+know|um+|uh+|ha(?:ha)+|lol|wow|"
    r"omg|ok|okay|great|cool|nice|awesome|thanks|thank\s+you|sure|right|fun\s+fact|totally|definitely|absolutely|"
    r"aww*|ah+|hmm+|speaking\s+of\s+which|funny\s+enough|to\s+be\s+honest|tbh|big\s+news|good\s+news|exciting\s+news|"
    r"news|update|plus|besides|these\s+days|now|currently|right\s+now|at\s+the\s+moment|personally|as\s+for\s+me|"
    r"for\s+me|me\s+too|same\s+here|same|true|indeed|sadly|unfortunately|luckily|fortunately|thankfully|"
    r"finally|anyhow|alright|all\s+right|dude|man|girl|haha|yay|woohoo|whoa|oops|ugh|sigh|"
    r"(?:[A-Z][a-z]+)(?=\s*,\s*(?:i|we|my)\b))(?:[\s,!.:;-]+|$))+",
    re.IGNORECASE,
)
_GREETING = re.compile(
    r"^\s*(?:hi|hello|hey)(?:\s+there|\s+everyone|\s+all)?\s*[,!.]*\s*i\s+am\s+", re.IGNORECASE
)
_CONDITIONAL = re.compile(
    r"\b(?:if|unless|suppose|supposing|imagine|imagining|hypothetically|whether|in\s+case|assuming|what\s+if|"
    r"as\s+long\s+as|provided\s+that|otherwise)\b",
    re.IGNORECASE,
)
_MODAL = re.compile(
    r"(?i:\b(?:would|could|might|maybe|perhaps|possibly|hopefully|wish|should|someday|one\s+day|probably\s+not|"
    r"not\s+sure)\b)"
    # the modal "may" (lower case), not the month: "I may go" but not "in may", "may 5"
    r"|(?<![Ii]n\s)(?<![Oo]f\s)(?<!early\s)(?<!late\s)(?<!mid\s)(?<!this\s)(?<!last\s)(?<!next\s)\bmay\b(?!\s+\d)"
)
_QUESTION_START = re.compile(
    r"^(?:what|where|when|why|how|who|whom|which|whose|do|does|did|are|is|was|were|can|could|would|will|should|"
    r"have|has|shall|any|anyone|isn't|aren't|don't|didn't)\b",
    re.IGNORECASE,
)
_TAG_QUESTION = re.compile(
    r"^(?P<head>.+?)\s*[,-]\s*(?P<tail>(?:and\s+|what\s+about\s+|how\s+about\s+)?(?:do|does|did|have|has|are|is|was|"
    r"were|can|will|what|how|right|you\s+know|huh|yeah|no|ok|okay|don't|didn't|isn't|aren't)\b[^,]{0,40})\?+$",
    re.IGNORECASE,
)
_REMINDER = re.compile(
    r"\b(?:remind\s+me|don't\s+let\s+me\s+forget|do\s+not\s+let\s+me\s+forget|I\s+(?:need|have)\s+to\s+remember)\s+"
    r"(?P<prep>to|about|that)\s+(?P<v>[^?!.]+)",
    re.IGNORECASE,
)

_CLAUSE_SPLIT = re.compile(
    r"\s*;\s*|\s+-{1,2}\s+|\s+[—–]\s+|:\s+(?=(?:i|we|my)\b)"
    r"|,?\s+(?:and\s+then|and\s+now|and\s+also|and|but|so|plus|because|cause|cuz|since|although|though|while|"
    r"whereas|then|now|as|after|before|until|when|once)\s+(?=(?:i|we|my|our|me\s+and\s+my)\b)"
    r"|,\s+(?=(?:i|we|my)\b)",
    re.IGNORECASE,
)
_ELLIPSIS_SPLIT = re.compile(
    r",?\s+(?:and|but|and\s+also|and\s+now)\s+(?=(?:also\s+|now\s+|still\s+|just\s+|recently\s+)?(?:work|live|love|"
    r"like|enjoy|hate|have|plan|started|went|visited|moved|adopted|got|bought|finished|joined|am|will|want|hope|"
    r"volunteer|teach|study|play|run)\b)",
    re.IGNORECASE,
)
_SUBJECT = re.compile(
    r"^(?P<subj>i|we|my\s+(?P<w1>[a-z]+(?:\s+[a-z]+)?)\s+and\s+i|me\s+and\s+my\s+(?P<w2>[a-z]+(?:\s+[a-z]+)?)|"
    r"(?P<w3>[A-Z][a-z]+)\s+and\s+i)\b",
    re.IGNORECASE,
)
_MARK = re.compile("\x00(\\d+)\x00")


# ---------------------------------------------------------------- small helpers


def _gerund(verb: str) -> str:
    v = verb.lower()
    if v in {"be", "see", "flee", "agree", "ski"}:
        return v + "ing"
    if v.endswith("ie"):
        return v[:-2] + "ying"
    if v.endswith("e") and not v.endswith(("ee", "ye", "oe")):
        return v[:-1] + "ing"
    if len(v) <= 4 and re.search(r"[^aeiou][aeiou][^aeiouwxy]$", v) and len(re.findall(r"[aeiou]+", v)) == 1:
        return v + v[-1] + "ing"
    return v + "ing"


def _conj3(verb: str) -> str:
    """Third person singular present: love -> loves, go -> goes, study -> studies."""
    low = verb.lower()
    irregular = {"am": "is", "are": "is", "have": "has", "do": "does", "go": "goes", "be": "is"}
    if low in irregular:
        return irregular[low]
    if re.search(r"(?:s|sh|ch|x|z|o)$", low):
        return verb + "es"
    if re.search(r"[^aeiou]y$", low):
        return verb[:-1] + "ies"
    return verb + "s"


_CUT = re.compile(
    r"[,;:!?()\[\]\"]|\.(?:\s|$)|\s[-—–]+\s|\s+(?:because|since|cause|cuz|so\s+that|so|but|although|though|while|which|"
    r"who|whom|whose|where|when|whenever|if|unless|and\s+then|and\s+i|and\s+we|as\s+well|too|lol|haha|now\s+that|"
    r"and\s+(?:it|that|this|they|he|she|you|so|now|then|there)|"
    r"even\s+though|especially|these\s+days|right\s+now|at\s+the\s+moment|anymore|any\s+more|any\s+longer|with|"
    r"for\s+(?:a\s+while|years|months|ages|now|good|(?:a|an|one|two|three|four|five|six|several|many|a\s+few|a\s+couple\s+of|"
    r"the\s+past|the\s+last|over\s+a|\d+)\s+(?:long\s+)?(?:while|time|bit|minutes?|hours?|days?|nights?|weeks?|months?|"
    r"years?|decades?)))\b",
    re.IGNORECASE,
)
_PLACE_CUT = re.compile(
    r"\s+(?:with|for|to|and|as|now|after|before|on|at\s+the\s+moment|by|from|during|until|last|next|this|"
    r"all|about|since|because|ever|full[-\s]time|part[-\s]time)\b",
    re.IGNORECASE,
)
_TRAIL = re.compile(
    r"(?:\s+(?:too|also|a\s+lot|so\s+much|very\s+much|lately|again|though|now|anymore|any\s+more|any\s+longer|"
    r"originally|their|my|his|her|our|its|twice|once|again|here|there|about|"
    r"these\s+days|honestly|really|either|as\s+well|and|or|with|to|of|the|a|an|in|at|on|for))+$",
    re.IGNORECASE,
)


def _phrase(raw: str | None, max_words: int = 8) -> str | None:
    if raw is None:
        return None
    s = _ABBREV.sub(lambda m: m.group(0)[:-1] + _DOT, _MARK.sub(" ", raw))
    m = _CUT.search(s)
    if m:
        s = s[: m.start()]
    s = " ".join(s.split()).replace(_DOT, ".")
    prev = None
    while prev != s:
        prev, s = s, _TRAIL.sub("", s).strip(" .,'\"")
    words = s.split()
    if not words:
        return None
    s = " ".join(words[:max_words])
    if _PRONOUN_OBJECTS.match(s):
        return None
    return _pronouns(s, display=None)


def _place(raw: str | None) -> str | None:
    s = _phrase(raw, max_words=12)
    if s is None:
        return None
    m = _PLACE_CUT.search(s)
    if m and m.start() > 0:
        s = s[: m.start()]
    s = _TRAIL.sub("", s).strip()
    words = s.split()
    if not words or len(words) > 6:
        return None
    return s


def _is_name(value: str | None) -> bool:
    return bool(value) and value is not None and value.split()[0] not in _NOT_NAMES and value[0].isupper()


def _name_value(raw: str | None) -> str | None:
    if raw is None:
        return None
    m = re.match(_NAME, raw.strip())
    if m is None:
        return None
    words = [w for w in m.group(0).split() if w not in _NOT_NAMES]
    out = " ".join(words).rstrip("'’")
    return out if _is_name(out) else None


_PRONOUN_MAP = {
    "i": "they",
    "me": "them",
    "my": "their",
    "mine": "theirs",
    "myself": "themselves",
    "we": "they",
    "us": "them",
    "our": "their",
    "ours": "theirs",
    "ourselves": "themselves",
}
_PRONOUN_RE = re.compile(r"\b(i|me|my|mine|myself|we|us|our|ours|ourselves)\b", re.IGNORECASE)


def _pronouns(text: str, display: str | None, possessive_first: bool = False) -> str:
    """First person -> third person. With `possessive_first`, the first "my" becomes "<display>'s"."""
    used = [not possessive_first]

    def sub(m: re.Match[str]) -> str:
        word = m.group(0)
        low = word.lower()
        if low == "us" and word == "US":
            return word
        if low == "my" and not used[0] and display is not None:
            used[0] = True
            return f"{display}'s"
        out = _PRONOUN_MAP[low]
        return out.capitalize() if word[0].isupper() and word != "I" else out

    out = _PRONOUN_RE.sub(sub, text)
    out = re.sub(r"\bthey am\b", "they are", out)
    out = re.sub(r"\bthey was\b", "they were", out)
    out = re.sub(r"\bthey has\b", "they have", out)
    return out
