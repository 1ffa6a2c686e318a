"""Word lists the rules share: adverbs, numbers, relations, jobs, verbs, names."""

from __future__ import annotations

import re

from shared_core.extract.dates import NUMBER_WORDS

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
    "kid": "children",
    "child": "children",
    "son": "sons",
    "daughter": "daughters",
    "sister": "sisters",
    "brother": "brothers",
    "sibling": "siblings",
    "dog": "dogs",
    "cat": "cats",
    "pet": "pets",
}
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
