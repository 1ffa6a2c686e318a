"""The Porter2 ("Snowball English") stemmer, pure Python, no data files.

An implementation of the published algorithm (snowballstem.org/algorithms/english/stemmer.html),
in the variant NLTK's `SnowballStemmer("english")` implements (R1 exceptions `gener`, `commun`,
`arsen`), so `phones`/`phone`, `hiking`/`hike` and `dogs`/`dog` meet. Input: one lowercase word
(`a-z`, digits, and an apostrophe at most); anything else passes through.
"""

from __future__ import annotations

import functools

_VOWELS = frozenset("aeiouy")
_DOUBLES = ("bb", "dd", "ff", "gg", "mm", "nn", "pp", "rr", "tt")
_LI_ENDING = frozenset("cdeghkmnrt")

_EXCEPTIONS = {
    "skis": "ski",
    "skies": "sky",
    "dying": "die",
    "lying": "lie",
    "tying": "tie",
    "idly": "idl",
    "gently": "gentl",
    "ugly": "ugli",
    "early": "earli",
    "only": "onli",
    "singly": "singl",
    "sky": "sky",
    "news": "news",
    "howe": "howe",
    "atlas": "atlas",
    "cosmos": "cosmos",
    "bias": "bias",
    "andes": "andes",
}
_AFTER_1A = frozenset(["inning", "outing", "canning", "herring", "earring", "proceed", "exceed", "succeed"])

_STEP1A = ("sses", "ied", "ies", "us", "ss", "s")
_STEP1B = ("eedly", "ingly", "edly", "eed", "ing", "ed")
_STEP2 = (
    ("ization", "ize"),
    ("ational", "ate"),
    ("fulness", "ful"),
    ("ousness", "ous"),
    ("iveness", "ive"),
    ("tional", "tion"),
    ("biliti", "ble"),
    ("lessli", "less"),
    ("entli", "ent"),
    ("ation", "ate"),
    ("alism", "al"),
    ("aliti", "al"),
    ("ousli", "ous"),
    ("iviti", "ive"),
    ("fulli", "ful"),
    ("enci", "ence"),
    ("anci", "ance"),
    ("abli", "able"),
    ("izer", "ize"),
    ("ator", "ate"),
    ("alli", "al"),
    ("bli", "ble"),
    ("ogi", "og"),
    ("li", ""),
)
_STEP3 = (
    ("ational", "ate"),
    ("tional", "tion"),
    ("alize", "al"),
    ("icate", "ic"),
    ("iciti", "ic"),
    ("ative", ""),
    ("ical", "ic"),
    ("ness", ""),
    ("ful", ""),
)
_STEP4 = (
    "ement",
    "ance",
    "ence",
    "able",
    "ible",
    "ment",
    "ant",
    "ent",
    "ism",
    "ate",
    "iti",
    "ous",
    "ive",
    "ize",
    "ion",
    "al",
    "er",
    "ic",
)


def _is_vowel(ch: str) -> bool:
    return ch in _VOWELS


def _region_after(word: str, start: int) -> int:
    """Index just after the first non-vowel that follows a vowel, from `start` (len(word) if none)."""
    for i in range(start + 1, len(word)):
        if not _is_vowel(word[i]) and _is_vowel(word[i - 1]):
            return i + 1
    return len(word)


def _regions(word: str) -> tuple[int, int]:
    for prefix in ("gener", "commun", "arsen"):
        if word.startswith(prefix):
            r1 = len(prefix)
            break
    else:
        r1 = _region_after(word, 0)
    return r1, _region_after(word, r1) if r1 < len(word) else len(word)


def _short_syllable_at_end(word: str) -> bool:
    n = len(word)
    if n == 2:
        return _is_vowel(word[0]) and not _is_vowel(word[1])
    if n >= 3:
        a, b, c = word[-3], word[-2], word[-1]
        return not _is_vowel(a) and _is_vowel(b) and not _is_vowel(c) and c not in "wxY"
    return False


def _is_short(word: str, r1: int) -> bool:
    return r1 >= len(word) and _short_syllable_at_end(word)


def _has_vowel(part: str) -> bool:
    return any(_is_vowel(ch) for ch in part)


def _step1a(w: str) -> str:
    for suf in _STEP1A:
        if not w.endswith(suf):
            continue
        stem = w[: -len(suf)]
        if suf == "sses":
            return stem + "ss"
        if suf in ("ied", "ies"):
            return stem + ("i" if len(stem) > 1 else "ie")
        if suf == "s":
            return stem if _has_vowel(stem[:-1]) else w
        return w  # us, ss
    return w


def _step1b(w: str, r1: int) -> str:
    for suf in _STEP1B:
        if not w.endswith(suf):
            continue
        stem = w[: -len(suf)]
        if suf in ("eed", "eedly"):
            return stem + "ee" if len(stem) >= r1 else w
        if not _has_vowel(stem):
            return w
        if stem.endswith(("at", "bl", "iz")):
            return stem + "e"
        if stem.endswith(_DOUBLES):
            return stem[:-1]
        if _is_short(stem, r1):
            return stem + "e"
        return stem
    return w


def _step1c(w: str) -> str:
    if len(w) > 2 and w[-1] in "yY" and not _is_vowel(w[-2]):
        return w[:-1] + "i"
    return w


def _step2(w: str, r1: int) -> str:
    for suf, rep in _STEP2:
        if not w.endswith(suf):
            continue
        stem = w[: -len(suf)]
        if len(stem) < r1:
            return w
        if suf == "ogi":
            return stem + rep if stem.endswith("l") else w
        if suf == "li":
            return stem if stem and stem[-1] in _LI_ENDING else w
        return stem + rep
    return w


def _step3(w: str, r1: int, r2: int) -> str:
    for suf, rep in _STEP3:
        if not w.endswith(suf):
            continue
        stem = w[: -len(suf)]
        if len(stem) < r1 or (suf == "ative" and len(stem) < r2):
            return w
        return stem + rep
    return w


def _step4(w: str, r2: int) -> str:
    for suf in _STEP4:
        if not w.endswith(suf):
            continue
        stem = w[: -len(suf)]
        if len(stem) < r2:
            return w
        if suf == "ion":
            return stem if stem.endswith(("s", "t")) else w
        return stem
    return w


def _step5(w: str, r1: int, r2: int) -> str:
    if w.endswith("e"):
        stem = w[:-1]
        if len(stem) >= r2 or (len(stem) >= r1 and not _short_syllable_at_end(stem)):
            return stem
    elif w.endswith("l") and len(w) - 1 >= r2 and w.endswith("ll"):
        return w[:-1]
    return w


@functools.lru_cache(maxsize=131_072)
def stem(word: str) -> str:
    """The Porter2 stem of one lowercase word."""
    if len(word) <= 2 or not word.isascii():
        return word
    if word in _EXCEPTIONS:
        return _EXCEPTIONS[word]
    w = word.lstrip("'")
    if w.startswith("y"):
        w = "Y" + w[1:]
    chars = list(w)
    for i in range(1, len(chars)):
        if chars[i] == "y" and _is_vowel(chars[i - 1]):  # left to right: "ayy" -> "aYy"
            chars[i] = "Y"
    w = "".join(chars)
    r1, r2 = _regions(w)
    for suf in ("'s'", "'s", "'"):  # step 0
        if w.endswith(suf):
            w = w[: -len(suf)]
            break
    w = _step1a(w)
    if w in _AFTER_1A:
        return w
    w = _step1b(w, r1)
    w = _step1c(w)
    w = _step2(w, r1)
    w = _step3(w, r1, r2)
    w = _step4(w, r2)
    w = _step5(w, r1, r2)
    return w.replace("Y", "y")
