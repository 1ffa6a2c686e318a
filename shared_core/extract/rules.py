"""The offline default extractor: first-person English statements, matched by rules.

From each turn it reads statements of identity and facts ("my name is", "I live in", "I work at",
"my sister Anna", "I have two kids"), preferences ("I love", "I can't stand", "my favourite X
is"), plans and commitments ("I will", "I'm going to", "remind me to") and events ("I went
to", "we had a ...", "last weekend I ..."). Every candidate's subject is the speaker (its
lowercased name, else "user"); its text is rewritten in the third person with the speaker's
name ("Caroline lives in Berlin") and relative times are replaced by absolute ones resolved
against the turn's timestamp ("Melanie went camping on the weekend of 10 June 2023").

Skipped on purpose: questions ("do you like ...?"), conditionals ("if I ...") and modal or
hedged clauses ("I might", "I would love to", "maybe"), filler ("I'll let you know"), and
statements about other people. Negation that flips a fact ("I don't live in Paris anymore",
"I quit my job") gives a candidate with `negated=True` (see `base.py`).

Which turns are read: `user` turns, and any turn that names its speaker (multi-party human
conversations). Assistant turns without a speaker name, system and tool turns are ignored.
The rules are general English, not tuned to any data set.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from ..models import Kind
from .base import Candidate, ExtractInput, normalise_subject
from .dates import MONTH_NAMES, NUMBER_WORDS, TimeSpan, find_time_expressions

__all__ = ["RuleExtractor", "split_sentences"]

# ---------------------------------------------------------------- word lists

_ADV_WORDS = (
    "really|also|just|recently|finally|actually|still|currently|now|absolutely|totally|truly|honestly|"
    "definitely|seriously|already|literally|officially|even|personally|kinda|mostly|so|very|genuinely|"
    "basically|happily|proudly|newly|first|originally|both|all|too|certainly|pretty\\s+much|kind\\s+of|sort\\s+of"
)
_ADV = rf"(?:(?:{_ADV_WORDS})\s+)*"
_FREQ_WORDS = (
    "always|never|usually|often|regularly|rarely|seldom|sometimes|normally|typically|generally|occasionally"
)
_REWRITE_ADV = {w for w in _ADV_WORDS.replace("\\s+", " ").split("|") if " " not in w} | set(
    _FREQ_WORDS.split("|")
)

_NUM_WORDS = {"no": 0, **NUMBER_WORDS}
_SINGULAR_COUNTS = {
    "kid": "children", "child": "children", "son": "sons", "daughter": "daughters", "sister": "sisters",
    "brother": "brothers", "sibling": "siblings", "dog": "dogs", "cat": "cats", "pet": "pets",
}  # fmt: skip
_NUM = r"(?:\d{1,2}|no|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)"

_REL_NORMAL = {
    "mom": "mother",
    "mum": "mother",
    "mommy": "mother",
    "mother": "mother",
    "dad": "father",
    "daddy": "father",
    "father": "father",
    "kid": "child",
    "child": "child",
    "baby": "child",
    "puppy": "dog",
    "dog": "dog",
    "kitten": "cat",
    "kitty": "cat",
    "cat": "cat",
    "bunny": "rabbit",
    "fiancée": "fiance",
    "fiancee": "fiance",
    "fiancé": "fiance",
    "best friend": "best_friend",
    "bff": "best_friend",
    "grandma": "grandmother",
    "granny": "grandmother",
    "grandpa": "grandfather",
    "hubby": "husband",
}
_REL_WORDS = (
    "best friend|bff|sister|brother|sibling|wife|husband|hubby|spouse|partner|boyfriend|girlfriend|fiancée|fiancee|"
    "fiancé|fiance|son|daughter|kid|child|baby|mom|mum|mommy|mother|dad|daddy|father|grandma|granny|grandmother|"
    "grandpa|grandfather|grandson|granddaughter|aunt|uncle|cousin|niece|nephew|friend|roommate|flatmate|boss|"
    "coworker|co-worker|colleague|neighbou?r|mentor|therapist|dog|cat|puppy|kitten|kitty|pet|bird|parrot|hamster|"
    "rabbit|bunny|horse|turtle|tortoise|snake|guinea\\s+pig"
)
_PLURAL_COUNTS = {
    "kids": "children",
    "children": "children",
    "sons": "sons",
    "daughters": "daughters",
    "sisters": "sisters",
    "brothers": "brothers",
    "siblings": "siblings",
    "dogs": "dogs",
    "cats": "cats",
    "pets": "pets",
    "grandkids": "grandchildren",
    "grandchildren": "grandchildren",
    "nieces": "nieces",
    "nephews": "nephews",
}

# fmt: off
_JOBS = frozenset({
    "accountant", "actor", "actress", "agent", "analyst", "architect", "artist", "assistant", "astronaut",
    "athlete", "attorney", "baker", "banker", "barber", "barista", "bartender", "biologist", "bookkeeper",
    "builder", "butcher", "carpenter", "cashier", "ceo", "cfo", "cto", "chef", "chemist", "cleaner",
    "clerk", "coach", "comedian", "consultant", "cook", "counselor", "counsellor", "dancer", "dentist",
    "designer", "detective", "developer", "dietitian", "director", "doctor", "driver", "economist",
    "editor", "electrician", "engineer", "entrepreneur", "farmer", "firefighter", "fisherman", "freelancer",
    "gardener", "geologist", "graphic", "guard", "hairdresser", "historian", "illustrator", "influencer",
    "instructor", "intern", "investor", "janitor", "journalist", "judge", "labourer", "laborer", "lawyer",
    "lecturer", "librarian", "lifeguard", "manager", "mechanic", "medic", "midwife", "model", "musician",
    "nanny", "nurse", "officer", "optician", "painter", "paralegal", "paramedic", "pharmacist",
    "photographer", "physician", "physicist", "physiotherapist", "pilot", "plumber", "poet", "police",
    "policeman", "policewoman", "politician", "producer", "professor", "programmer", "psychiatrist",
    "psychologist", "publisher", "realtor", "receptionist", "reporter", "researcher", "salesman",
    "saleswoman", "scientist", "secretary", "server", "singer", "soldier", "student", "surgeon", "tailor",
    "teacher", "technician", "therapist", "translator", "tutor", "veterinarian", "vet", "waiter",
    "waitress", "welder", "writer", "youtuber", "streamer"
})
# fmt: on
# fmt: off
_NOT_JOBS = frozenset({
    "lover", "fan", "member", "mother", "father", "brother", "sister", "daughter", "son", "partner",
    "owner", "beginner", "believer", "follower", "newcomer", "winner", "loser", "survivor", "supporter",
    "user", "runner", "swimmer", "hiker", "climber", "biker", "gamer", "reader", "dreamer", "thinker",
    "learner", "traveler", "traveller", "foodie", "collector", "volunteer", "optimist", "pessimist",
    "perfectionist", "feminist", "minimalist", "realist", "idealist", "cyclist", "tourist", "atheist",
    "baptist", "introvert", "extrovert", "person", "people", "parent", "patient", "resident", "citizen",
    "grandmother", "grandfather", "wanderer", "explorer", "procrastinator", "overthinker", "caretaker",
    "caregiver", "homeowner", "other", "order", "number", "letter", "answer", "matter", "summer", "winter",
    "weather", "water", "dinner", "computer", "paper", "wonder"
})
# fmt: on
_JOB_SUFFIXES = ("er", "or", "ist", "eer", "grapher", "ician")
_DIETS = r"vegetarian|vegan|pescatarian|pescetarian|gluten[-\s]free|lactose[-\s]intolerant|teetotal|sober|celiac|coeliac"
_IDENTITY_ADJ = (
    r"transgender|trans|gay|lesbian|bisexual|queer|non-?binary|asexual|pansexual|christian|muslim|jewish|buddhist|"
    r"hindu|atheist|agnostic|catholic|introverted|extroverted|left-handed|right-handed|deaf|blind|autistic|"
    r"neurodivergent|adopted|pregnant|retired|unemployed|self-employed|disabled|diabetic|dyslexic"
)

# fmt: off
_IRREGULAR_PAST = frozenset({
    "went", "began", "bought", "brought", "built", "caught", "chose", "came", "did", "drew", "drove", "ate",
    "fell", "fought", "found", "flew", "got", "gave", "grew", "had", "held", "hid", "kept", "left", "lent",
    "lost", "made", "met", "paid", "put", "quit", "ran", "rode", "rang", "rose", "saw", "sold", "sent",
    "set", "shook", "shot", "sang", "sat", "slept", "spoke", "spent", "stood", "swam", "took", "taught",
    "threw", "woke", "wore", "won", "wrote", "became", "broke", "read", "led", "lit", "dug", "fed", "hung",
    "overcame", "rebuilt", "split", "struck", "swung", "withdrew", "sped", "spun", "bet", "cut", "hit",
    "hurt", "dove", "beat", "bent", "bled", "blew", "bred", "burnt", "dealt", "drank", "fled", "flung",
    "forgave", "froze", "ground", "knelt", "laid", "leapt", "lay", "mistook", "rid", "sank", "shut", "slid",
    "sought", "stuck", "stung", "swept", "tore", "upset", "wept", "wound"
})
# fmt: on
# fmt: off
_PARTICIPLES = frozenset({
    "been", "gone", "done", "seen", "taken", "made", "begun", "bought", "built", "eaten", "given", "got",
    "gotten", "had", "met", "read", "run", "sold", "won", "written", "flown", "driven", "ridden", "swum",
    "grown", "found", "started", "finished", "adopted", "visited", "moved", "joined", "tried", "learned",
    "learnt", "graduated", "become", "kept", "left", "lost", "paid", "quit", "sent", "spent", "taught",
    "thrown", "worn", "broken", "chosen"
})
# fmt: on
# fmt: off
_MENTAL = frozenset({
    "wanted", "needed", "liked", "loved", "hated", "wondered", "realized", "realised", "noticed", "guessed",
    "hoped", "wished", "supposed", "assumed", "believed", "imagined", "figured", "used", "remembered",
    "mentioned", "asked", "thought", "knew", "felt", "heard", "said", "told", "meant", "forgot",
    "understood", "expected", "seemed", "appreciated", "agreed", "disagreed", "missed", "worried",
    "doubted", "decided", "replied", "answered", "admitted", "explained", "suggested", "reckoned",
    "considered", "preferred", "enjoyed", "dreaded", "regretted", "was", "were"
})
# fmt: on
# fmt: off
_MENTAL_ING = frozenset({
    "thinking", "feeling", "wondering", "meaning", "trying", "hoping", "wanting", "wishing", "planning", "guessing",
    "going", "getting", "doing", "kidding", "joking", "saying", "asking", "telling", "loving", "hating", "dying",
    "talking", "messing", "freaking", "looking", "considering", "referring", "assuming", "imagining",
    "leaving", "coming", "sitting", "standing", "having", "being", "sorry", "glad", "happy", "missing",
    "hearing", "seeing", "waiting", "curious", "laughing", "crying", "screaming", "rooting", "cheering",
})
# fmt: on
_FILLER_VERBS = re.compile(
    r"^(?:say|tell|ask|thank|mention|admit|add|bet|guess|confess|agree|wonder|hear|know|promise\s+you|"
    r"see\s+(?:you|what|if|how|about|for)|talk\s+(?:to\s+you|later|soon|again)|chat|catch\s+up|get\s+back|"
    r"keep\s+(?:that|it|this|you|them|u)\b|think\s+about|let\s+(?:you|u|me)\b|be\s+(?:honest|there\s+for|right\s+back|"
    r"back|fine|okay|ok|sure|careful)|check\s+(?:it|that|this)\s+out|try\s+(?:my\s+best|it|that|this)|"
    r"do\s+(?:it|that|this|my\s+best|so|the\s+same)\b|miss\s+you|remember\s+(?:that|this|it)|help\s+you|"
    r"make\s+sure|look\s+into\s+(?:it|that)|share\s+(?:it|that|more|with)|send\s+(?:you|it)|go\s+now|leave\s+it|"
    r"stop\s+(?:there|here)|hold\s+(?:you|on)|give\s+it\s+a\s+(?:try|go|shot))",
    re.IGNORECASE,
)
_PRONOUN_OBJECTS = re.compile(
    r"^(?:(?:it|them|you|him|her|there|here|so|too|one|some|any|all|both|the\s+same|no\s+idea|"
    r"what|how|when|why|where|who|which|whatever|everything|something|anything|nothing|yours|ya|u|"
    r"it\s+when|that\s+you|this\s+you|how\s+you|the\s+way|to\s+(?:hear|see|know|read|think|say|tell))(?:\W|$)"
    # "that", "this", "these", "those" are pronouns alone, determiners before a noun ("that lake")
    r"|(?:that|this|these|those)(?:\s+(?:one|ones|too|so\s+much|a\s+lot|very\s+much|as\s+well|again|now|is|was|"
    r"you|i|we))?\s*[.!?,]*$)",
    re.IGNORECASE,
)
_MAJOR_EVENT = re.compile(
    r"\b(?:married|engaged|divorced|adopted|graduated|promoted|retired|born|moved|pregnant|baby|wedding|house|"
    r"home|degree|diploma|business|company|job|passed\s+away|died|funeral|surgery|hospital|accident|diagnosed)\b",
    re.IGNORECASE,
)

_SINGLE_NAME = r"[A-Z][\w'’-]*"
_NAME = rf"{_SINGLE_NAME}(?:\s+{_SINGLE_NAME}){{0,2}}"
_NOT_NAMES = {
    "I",
    "Is",
    "Was",
    "And",
    "But",
    "So",
    "The",
    "A",
    "An",
    "My",
    "He",
    "She",
    "It",
    "They",
    "We",
    "You",
}

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


# ---------------------------------------------------------------- hits


@dataclass
class _Hit:
    kind: Kind
    attribute: str
    value: str | None
    confidence: float
    importance: float
    time_role: str = "none"  # none | start | event | plan
    negated: bool = False
    text: str | None = None  # a template, when the rewritten clause would not read well


@dataclass
class _Clause:
    plain: str  # time expressions removed; starts with the subject when there is one
    marked: str  # time expressions replaced by \x00i\x00 markers (fronted ones moved to the end)
    spans: list[TimeSpan]
    future_spans: list[TimeSpan]
    greeted: bool = False
    subj: re.Match[str] | None = None
    plural: bool = False
    body: str = ""
    ref: datetime | None = None
    display: str = "The user"


_Matcher = Callable[[_Clause], list[_Hit]]


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


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

# specials run before negation handling: their own wording contains "not"/"cannot"
_SPECIALS: list[_Matcher] = [_m_dislike, _m_work_ended, _m_moved_out]
_POSITIVE: list[_Matcher] = [
    _m_age,
    _m_lives,
    _m_work,
    _m_study,
    _m_family,
    _m_prefs,
    _m_plans,
    _m_identity,
    _m_teach,
]


def _positive(c: _Clause) -> list[_Hit]:
    for matcher in _POSITIVE:
        hits = matcher(c)
        if hits:
            return hits
    hits = _m_future(c)
    if hits:
        return hits
    return _m_events(c)


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
        return _my_hits(c)
    for special in _SPECIALS:
        hits = special(c)
        if hits:
            return hits
    m = _NEGATION.match(c.body)
    if m is not None and not re.match(r"^" + _ADV + r"never\b", c.body, re.IGNORECASE):
        return _negated(c, m)
    return _positive(c)


@dataclass
class _Speaker:
    key: str
    display: str  # "Caroline" / "The user"
    mid: str  # "Caroline" / "the user"


def _speaker(turn: ExtractInput) -> _Speaker:
    if turn.speaker:
        name = turn.speaker.strip()
        name = name if any(ch.isupper() for ch in name) else name.title()
        return _Speaker(normalise_subject(turn.speaker), name, name)
    return _Speaker("user", "The user", "the user")


def _strip_discourse(s: str) -> str:
    prev = None
    while prev != s:
        prev = s
        s = _DISCOURSE.sub("", s).lstrip(" ,.;:!-")
    return s


def _statement(sentence: str) -> str | None:
    """The declarative part of a sentence, or None for questions."""
    s = sentence.strip().rstrip(" )").strip()
    if s.endswith("?"):
        m = _TAG_QUESTION.match(s)
        return m.group("head").strip() if m else None
    core = _strip_discourse(s)
    if _QUESTION_START.match(core):
        return None
    return s


_JOINT_SUBJECT = re.compile(r"\b((?i:my)\s+[a-z]+(?:\s+[a-z]+)?|(?i:me)|[A-Z][a-z]+)\s+(and)\s+(I|me)\b")
_JOIN = "\x01"


def _clauses(sentence: str) -> list[str]:
    out: list[str] = []
    protected = _JOINT_SUBJECT.sub(lambda m: f"{m.group(1)}{_JOIN}{m.group(2)}{_JOIN}{m.group(3)}", sentence)
    for part in _CLAUSE_SPLIT.split(protected):
        part = part.replace(_JOIN, " ")
        if not part or not part.strip():
            continue
        pieces = _ELLIPSIS_SPLIT.split(part)
        head = _strip_discourse(pieces[0].strip())
        out.append(head)
        sm = _SUBJECT.match(head)
        for extra in pieces[1:]:
            if sm is not None and extra.strip():
                out.append(f"{sm.group(0)} {extra.strip()}")
    return [c for c in out if c]


def _mark(clause: str, spans: list[TimeSpan]) -> tuple[str, str]:
    """(marked, plain): spans replaced by markers / removed; fronted markers moved to the end."""
    marked = clause
    for i in range(len(spans) - 1, -1, -1):
        sp = spans[i]
        marked = marked[: sp.char_start] + f" \x00{i}\x00 " + marked[sp.char_end :]
    fronted: list[str] = []
    while True:
        stripped = _strip_discourse(marked.strip())
        m = re.match("^\x00\\d+\x00", stripped)
        if not m:
            marked = stripped
            break
        fronted.append(m.group(0))
        marked = stripped[m.end() :]
    marked = " ".join([marked, *fronted])
    marked = " ".join(marked.split())
    marked = re.sub(r"\s+([,.;:!?])", r"\1", marked)
    plain = " ".join(_MARK.sub(" ", marked).split())
    plain = re.sub(r"\s+([,.;:!?])", r"\1", plain).strip(" ,;:")
    plain = re.sub(r",(\s*,)+", ",", plain)
    return marked, plain


_KEEP_VERB = frozenset(
    {"will", "would", "can", "cannot", "could", "should", "must", "might", "may", "did", "had", "was"}
)


def _head_rewrite(marked: str, sp: _Speaker, plural_with: str | None, singular: bool) -> str:
    m = _SUBJECT.match(marked)
    if m is None:
        return _pronouns(marked, sp.mid, possessive_first=True)
    rest = marked[m.end() :]
    if not singular:
        subject = f"{sp.display} and {plural_with}" if plural_with else f"{sp.display} and others"
        return subject + _pronouns(rest, None)
    words = rest.split(" ")
    # words[0] == "" (rest starts with a space); rewrite the first verb after any adverbs
    for i in range(1, len(words)):
        w = words[i]
        low = w.lower()
        if low in _REWRITE_ADV or _MARK.fullmatch(w):
            continue
        if low in {"am", "are"}:
            words[i] = "is"
        elif low == "have" and i + 1 < len(words) and words[i + 1].lower() == "to":
            words[i] = "has"
        elif low in {"have", "do"}:
            words[i] = _conj3(w)
        elif low in _KEEP_VERB or low in _IRREGULAR_PAST or low.endswith("ed") or not low.isalpha():
            pass
        elif low in {"not", "no", "longer"}:
            continue
        else:
            words[i] = _conj3(w)
        break
    return sp.display + _pronouns(" ".join(words), None)


def _render(marked: str, spans: list[TimeSpan], *, capitalise: bool = True, verbatim: bool = False) -> str:
    """The text with its time markers written out: absolute ("on 7 May 2023"), or as said (`verbatim`)."""

    def sub(m: re.Match[str]) -> str:
        i = int(m.group(1))
        if i >= len(spans):
            return ""
        if not verbatim:
            return spans[i].describe()
        words = spans[i].expression
        return words if m.start() == 0 else words[:1].lower() + words[1:]

    text = _MARK.sub(sub, marked)
    text = " ".join(text.split())
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = text.strip(" ,;:-")
    text = re.sub(r"[.!]+$", "", text).strip()
    return text[:1].upper() + text[1:] if capitalise else text


def _validity(hit: _Hit, span: TimeSpan | None) -> tuple[datetime | None, datetime | None]:
    if span is None or hit.time_role == "none":
        return None, None
    prep = span.prep
    if prep in {"since", "from"}:
        return span.start, None
    if prep == "after":
        return span.end, None
    if prep in {"until", "till", "by"}:
        return None, span.end
    if prep == "before":
        return None, span.start
    if hit.time_role == "start":
        return span.start, None
    return span.start, span.end


def _candidates_from_sentence(sentence: str, turn: ExtractInput, sp: _Speaker) -> list[Candidate]:
    out: list[Candidate] = []
    ref = turn.timestamp
    rem = _REMINDER.search(sentence)
    if rem is not None:
        v_raw = rem.group("v")
        spans = find_time_expressions(v_raw, ref, direction="future")
        marked, plain = _mark(v_raw, spans)
        v = _phrase(plain, 10)
        if v:
            body = _render(_pronouns(marked, None), spans, capitalise=False)
            about = "to" if rem.group("prep").lower() == "to" else rem.group("prep").lower()
            text = f"{sp.display} asked to be reminded {about} {body}"
            if not spans:
                text += f" (said on {_day(ref)})"
            vf, vt = (spans[0].start, spans[0].end) if spans else (None, None)
            out.append(
                _candidate(
                    turn,
                    sp,
                    Kind.COMMITMENT,
                    "reminder",
                    v,
                    text,
                    0.95,
                    0.8,
                    vf,
                    vt,
                    spans[0] if spans else None,
                )
            )
        return out
    stmt = _statement(sentence)
    if stmt is None or _CONDITIONAL.search(stmt):
        return out
    greeted = bool(_GREETING.match(stmt))
    for raw in _clauses(stmt):
        if _MODAL.search(raw) and not re.search(r"\bwould\s+rather\b", raw, re.IGNORECASE):
            continue
        out.extend(_candidates_from_clause(raw, turn, sp, greeted))
    return out


def _day(ts: datetime) -> str:
    return f"{ts.day} {MONTH_NAMES[ts.month - 1]} {ts.year}"


def _candidates_from_clause(raw: str, turn: ExtractInput, sp: _Speaker, greeted: bool) -> list[Candidate]:
    ref = turn.timestamp
    clause = _strip_discourse(raw.strip()).rstrip(" .!?…,;:")
    if not clause or len(clause) > 400:
        return []
    spans = find_time_expressions(clause, ref, direction="past")
    future = find_time_expressions(clause, ref, direction="future")
    if [(s.char_start, s.char_end) for s in future] != [(s.char_start, s.char_end) for s in spans]:
        future = spans
    marked, plain = _mark(clause, spans)
    c = _Clause(
        plain=plain,
        marked=marked,
        spans=spans,
        future_spans=future,
        greeted=greeted,
        ref=ref,
        display=sp.display,
    )
    c.subj = _SUBJECT.match(plain)
    if c.subj is not None:
        c.plural = c.subj.group("subj").lower() != "i"
        c.body = plain[c.subj.end() :].strip()
        if greeted and not c.plural and (nm := re.match(r"^am\s+(?P<v>[A-Z][a-z]+)(?:\s*[,!.]|$)", c.body)):
            name = nm.group("v")
            if name not in _NOT_NAMES and not re.fullmatch(_IDENTITY_ADJ, name, re.IGNORECASE):
                hits = [_Hit(Kind.FACT, "name", name, 0.85, 0.9, text=f"{sp.display}'s name is {name}")]
                return [_build(h, c, turn, sp) for h in hits]
    elif re.match(r"^(?i:my|call\s+me|people\s+call\s+me)\b", plain) is None and not _R_IS_MY_FAV.match(
        plain
    ):
        return []
    hits = _clause_hits(c)
    return [_build(h, c, turn, sp) for h in hits if h.value is not None or h.negated]


def _build(hit: _Hit, c: _Clause, turn: ExtractInput, sp: _Speaker) -> Candidate:
    spans = c.future_spans if hit.time_role == "plan" else c.spans
    span = spans[0] if spans else None
    vf, vt = _validity(hit, span)
    if hit.text is not None:
        text = hit.text
    else:
        plural_with = None
        if c.subj is not None:
            w = c.subj.group("w1") or c.subj.group("w2")
            if w:
                plural_with = f"their {w.lower()}"
            elif c.subj.group("w3"):
                plural_with = c.subj.group("w3")
        # a time in a preference or an identity is habitual ("in the summer I swim"): keep its words
        verbatim = hit.time_role == "none"
        text = _render(_head_rewrite(c.marked, sp, plural_with, not c.plural), spans, verbatim=verbatim)
        if hit.kind in {Kind.EVENT, Kind.COMMITMENT} and span is None:
            text += f" (said on {_day(turn.timestamp)})"
    return _candidate(
        turn,
        sp,
        hit.kind,
        hit.attribute,
        hit.value,
        text,
        hit.confidence,
        hit.importance,
        vf,
        vt,
        span if hit.time_role != "none" or span is not None else None,
        negated=hit.negated,
    )


def _candidate(
    turn: ExtractInput,
    sp: _Speaker,
    kind: Kind,
    attribute: str,
    value: str | None,
    text: str,
    confidence: float,
    importance: float,
    valid_from: datetime | None,
    valid_to: datetime | None,
    span: TimeSpan | None,
    *,
    negated: bool = False,
) -> Candidate:
    if valid_from is not None and valid_to is not None and valid_to < valid_from:
        valid_to = None
    return Candidate(
        kind=kind,
        text=text,
        subject=sp.key,
        attribute=attribute,
        value=value,
        negated=negated,
        valid_from=valid_from,
        valid_to=valid_to,
        importance=importance,
        confidence=confidence,
        source_message_ids=[turn.message_id],
        speaker=turn.speaker,
        observed_at=turn.timestamp,
        session_id=turn.session_id,
        time_expression=span.expression if span is not None else None,
    )


def _reads(turn: ExtractInput) -> bool:
    if turn.role == "user":
        return True
    return turn.role == "assistant" and turn.speaker is not None


class RuleExtractor:
    """Offline, deterministic extraction of first-person statements (see the module docstring)."""

    name = "rules"
    version = "1"

    def extract(self, turns: Sequence[ExtractInput], *, now: datetime) -> list[Candidate]:
        """Candidates from every readable turn; times resolve against each turn's timestamp.

        `now` is unused by the rules (the turn timestamps are the reference) but is part of the
        `Extractor` protocol.
        """
        out: list[Candidate] = []
        seen: set[tuple[str, str, str, str, bool, str]] = set()
        for turn in turns:
            if not _reads(turn):
                continue
            sp = _speaker(turn)
            text = _normalise(turn.text)
            for sentence in split_sentences(text):
                for cand in _candidates_from_sentence(sentence, turn, sp):
                    key = (
                        turn.message_id,
                        cand.kind.value,
                        cand.attribute,
                        (cand.value or "").lower(),
                        cand.negated,
                        cand.text,
                    )
                    if key in seen:
                        continue
                    seen.add(key)
                    out.append(cand)
        return out
