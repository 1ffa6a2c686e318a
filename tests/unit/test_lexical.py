"""The lexical analyser and the Porter2 stemmer: forms of one word meet, others stay apart."""

from __future__ import annotations

import pytest

from shared_core.search.lexical import LexicalIndex, tokenize
from shared_core.search.stemmer import stem


def _pairs(table: str) -> list[tuple[str, str]]:
    words = table.split()
    return list(zip(words[::2], words[1::2], strict=True))


# From the Snowball English page's sample vocabulary, plus the algorithm's special cases.
PORTER2 = _pairs("""
consign consign consigned consign consigning consign consignment consign consist consist
consisted consist consistency consist consistent consist consistently consist consisting consist
consists consist consolation consol consolations consol consolatory consolatori console consol
consoled consol consoles consol consolidate consolid consolidated consolid consolidating consolid
consoling consol consolingly consol consols consol consonant conson consort consort consorted consort
consorting consort conspicuous conspicu conspicuously conspicu conspiracy conspiraci conspirator conspir
conspirators conspir conspire conspir conspired conspir conspiring conspir constable constabl
constables constabl constance constanc constancy constanc constant constant knack knack
knackeries knackeri knacks knack knag knag knave knave knaves knave knavish knavish kneaded knead
kneading knead knee knee kneel kneel kneeled kneel kneeling kneel kneels kneel knees knee knell knell
knelt knelt knew knew knick knick knif knif knife knife knight knight knightly knight knights knight
knit knit knits knit knitted knit knitting knit knives knive knob knob knobs knob knock knock
knocked knock knocker knocker knockers knocker knocking knock knocks knock knopp knopp knot knot
knots knot skies sky skis ski dying die lying lie tying tie news news cries cri ties tie
generously generous communication communic succeeded succeed inning inning hopping hop hoped hope
luxuriated luxuri gaps gap gas gas this this kiwis kiwi caresses caress agreed agre feed feed
proceed proceed realization realiz realize realiz sayyid saYyid
""")


@pytest.mark.parametrize(("word", "want"), PORTER2)
def test_porter2_table(word: str, want: str) -> None:
    assert stem(word) == want.replace("Y", "y")


def test_short_and_foreign_words_pass_through() -> None:
    assert [stem(w) for w in ("a", "is", "by", "caf\u00e9", "")] == ["a", "is", "by", "caf\u00e9", ""]


MEET = [
    ("phone", "phones"),
    ("hike", "hiking"),
    ("hike", "hiked"),
    ("dog", "dogs"),
    ("Caroline", "Caroline's"),
    ("Caroline", "Caroline\u2019s"),
    ("parents", "parents'"),
    ("paint", "painting"),
    ("painted", "paints"),
    ("running", "run"),
    ("pottery", "potteries"),
    ("family", "families"),
    ("adopt", "adoption"),
    ("camp", "camping"),
    ("caf\u00e9", "Cafe"),
    ("need", "needn't"),
]
APART = [("dog", "dogma"), ("car", "carolin"), ("paint", "pain"), ("hike", "hick"), ("new", "news")]


@pytest.mark.parametrize(("a", "b"), MEET)
def test_forms_of_a_word_meet(a: str, b: str) -> None:
    assert tokenize(a) == tokenize(b) and len(tokenize(a)) == 1


@pytest.mark.parametrize(("a", "b"), APART)
def test_different_words_stay_apart(a: str, b: str) -> None:
    assert tokenize(a) != tokenize(b)


def test_stopwords_clitics_and_scripts() -> None:
    assert tokenize("What is it that she's doing? It'll be fine, I'm sure") == ["fine", "sure"]
    assert tokenize("Melanie's kids went camping in 2022") == ["melani", "kid", "went", "camp", "2022"]
    assert tokenize("Ich wandere gern in W\u00e4ldern") == ["ich", "wander", "gern", "waldern"]
    assert tokenize("\u6211\u559c\u6b22\u732b") == ["\u6211", "\u559c", "\u6b22", "\u732b"]
    assert tokenize("snake_case under_scores") == ["snake", "case", "score"]
    assert tokenize("") == [] and tokenize("the of and") == []


def test_bm25_finds_other_forms_of_the_query_words() -> None:
    ix = LexicalIndex(
        [
            ("a", "Caroline: I went hiking with my dogs last weekend"),
            ("b", "Melanie: my new phones keep breaking"),
            ("c", "Caroline: the weather was fine"),
        ]
    )
    assert [i for i, _ in ix.search("Where did Caroline's dog hike?", 3)][0] == "a"
    assert [i for i, _ in ix.search("which phone", 3)] == ["b"]
    assert ix.search("the of and", 3) == [] and LexicalIndex([]).search("dog", 3) == []
