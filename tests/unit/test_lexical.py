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


def _bm25_by_hand(docs: list[tuple[str, str]], query: str, skip: set[str] = frozenset()) -> dict[str, float]:
    """BM25 as the textbook writes it (Lucene idf, k1 1.5, b 0.75), over every document."""
    import math

    toks = {rid: tokenize(text) for rid, text in docs}
    n, avg = len(docs), sum(len(t) for t in toks.values()) / len(docs)
    out: dict[str, float] = {}
    for rid, t in toks.items():
        s = 0.0
        for q in tokenize(query):
            df = sum(q in d for d in toks.values())
            if not df or q in skip:
                continue
            tf = t.count(q)
            idf = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
            s += idf * tf / (1.5 * (0.25 + 0.75 * len(t) / avg) + tf)
        if s > 0:
            out[rid] = s
    return out


def test_bm25_reads_only_the_query_postings_and_scores_as_the_formula() -> None:
    import random

    rng = random.Random(7)
    words = ["harbour", "sailing", "market", "violin", "garden", "pottery", "chess", "museum", "river"]
    docs = [(f"d{i}", " ".join(rng.choice(words) for _ in range(rng.randint(2, 9)))) for i in range(300)]
    ix = LexicalIndex(docs)
    for q in ("sailing", "violin chess chess", "museum river garden", "harbour pottery"):
        want = _bm25_by_hand(docs, q)
        got = dict(ix.search(q, 300))
        assert got.keys() == want.keys(), q
        assert all(abs(got[r] - want[r]) < 1e-4 for r in got), q
        top = ix.search(q, 5)  # the five best scores, best first (near-ties may come in either order)
        assert [round(x, 3) for _, x in top] == [round(x, 3) for x in sorted(want.values(), reverse=True)[:5]]
    ix.remove("d3")  # removal changes the statistics the same way a fresh index has them
    rest = [d for d in docs if d[0] != "d3"]
    assert dict(ix.search("chess", 300)).keys() == _bm25_by_hand(rest, "chess").keys()


def test_a_term_in_every_document_is_skipped_only_beside_a_rarer_one() -> None:
    docs = [(f"n{i}", f"topic note {i % 7} {'harbour' if i % 50 == 3 else ''}") for i in range(500)]
    ix = LexicalIndex(docs)
    # "topic" is in all 500 notes: next to "harbour" (in 10) it cannot reorder anything
    want = _bm25_by_hand(docs, "topic harbour", skip={"topic"})
    best_first = sorted(want, key=lambda r: (-want[r], int(r[1:])))
    assert [r for r, _ in ix.search("topic harbour", 20)] == best_first
    assert len(ix.search("topic", 1000)) == 500  # alone, it is the query: every note matches
