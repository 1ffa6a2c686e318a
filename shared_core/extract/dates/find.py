"""The table of time-expression rules and `find_time_expressions` / `resolve` over it."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import datetime, timedelta

from shared_core.extract.dates.resolvers import (
    _DAYNUM_RE,
    _MONTH_RE,
    _NUM_RE,
    _PREP,
    _UNIT_RE,
    _WEEKDAY_RE,
    _YEAR_RE,
    Resolved,
    _Ctx,
    _r_ago,
    _r_before_after,
    _r_clock_on_date,
    _r_dm,
    _r_dmy,
    _r_earlier_later,
    _r_in,
    _r_iso,
    _r_month,
    _r_my,
    _r_pastn,
    _r_relday,
    _r_relunit,
    _r_season,
    _r_the_weekend,
    _r_vague,
    _r_weekday,
    _r_year,
)
from shared_core.extract.dates.spans import Direction, TimeSpan

_Resolver = Callable[[re.Match[str], _Ctx], Resolved]

# (pattern, resolver, relative) in priority order: earlier patterns win overlapping text.
_RULES: list[tuple[re.Pattern[str], _Resolver, bool]] = []


def _rule(pattern: str, fn: _Resolver, relative: bool) -> None:
    _RULES.append((re.compile(r"(?<![\w-])" + pattern, re.IGNORECASE), fn, relative))


_CLOCK_ON_DATE_RE = (
    r"(?P<h>\d{1,2})[:.](?P<mi>\d{2})\s*(?P<ap>a\.?m\.?|p\.?m\.?)?\s+on\s+"
    + _DAYNUM_RE
    + r"\s+"
    + _MONTH_RE
    + r",?\s+"
    r"(?P<year>\d{4})"
)
_rule(_PREP + _CLOCK_ON_DATE_RE, _r_clock_on_date, False)
_rule(
    _PREP
    + r"(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})(?:[T\s](?P<hh>\d{2}):(?P<mm>\d{2})(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?(?!\d)",
    _r_iso,
    False,
)
_rule(_PREP + r"(?:the\s+)?" + _DAYNUM_RE + r"(?:\s+of)?\s+" + _MONTH_RE + r",?\s+" + _YEAR_RE, _r_dmy, False)
_rule(_PREP + _MONTH_RE + r"\s+(?:the\s+)?" + _DAYNUM_RE + r",?\s+" + _YEAR_RE, _r_dmy, False)
_rule(_PREP + _MONTH_RE + r",?\s+(?:of\s+)?" + _YEAR_RE, _r_my, False)
_rule(
    _PREP
    + r"(?:the\s+)?(?P<which>last|this|next|coming|past)?\s*(?P<season>spring|summer|autumn|fall|winter)(?:\s+(?:of\s+)?"
    + _YEAR_RE
    + ")?(?![a-z])",
    _r_season,
    True,
)
_rule(
    r"(?P<prep>in|during|since|from|until|till|by|before|after|around|throughout|of)\s+(?:the\s+year\s+)?"
    + _YEAR_RE,
    _r_year,
    False,
)
_rule(r"(?P<prep>)the\s+year\s+" + _YEAR_RE, _r_year, False)
_rule(
    _PREP
    + r"(?P<rel>the\s+day\s+before\s+yesterday|the\s+day\s+after\s+tomorrow|earlier\s+today|later\s+today"
    r"|yesterday|today|tonight|tomorrow|this\s+morning|this\s+afternoon|this\s+evening|last\s+night)(?![a-z])",
    _r_relday,
    True,
)
_rule(
    r"(?:(?P<prep>in|during|over|for|within)\s+)?(?:the\s+)?(?:past|last)\s+"
    + _NUM_RE
    + r"\s+"
    + _UNIT_RE
    + r"(?![a-z])",
    _r_pastn,
    True,
)
_rule(_PREP + _NUM_RE + r"\s+" + _UNIT_RE + r"\s+(?:ago|back|before\s+now)(?![a-z])", _r_ago, True)
_rule(
    r"(?P<prep>in|within|after)\s+" + _NUM_RE + r"\s+" + _UNIT_RE + r"(?:'?s?\s+time)?(?=\W|$)(?!\s+ago)",
    _r_in,
    True,
)
_rule(
    _PREP + r"(?P<el>earlier|later)\s+this\s+(?P<unit>week|month|year)(?![a-z])",
    _r_earlier_later,
    True,
)
_rule(
    _PREP + r"the\s+(?P<unit>day|night|week|weekend|month|year)\s+(?P<ba>before|after)(?![a-z])",
    _r_before_after,
    True,
)
_rule(
    _PREP
    + r"(?P<which>this\s+past|this\s+coming|the\s+past|last|next|this|past|coming|previous|following)\s+"
    r"(?P<unit>week|weekend|month|year)(?![a-z])",
    _r_relunit,
    True,
)
_rule(r"(?P<prep>over|during|on|at)\s+the\s+weekend(?![a-z])", _r_the_weekend, True)
_rule(
    _PREP + r"(?:the\s+)?" + _DAYNUM_RE + r"(?:\s+of)?\s+" + _MONTH_RE + r"(?!,?\s+(?:of\s+)?\d)", _r_dm, True
)
_rule(_PREP + _MONTH_RE + r"\s+(?:the\s+)?" + _DAYNUM_RE + r"(?![\d:])(?!,?\s+\d{4})", _r_dm, True)
_rule(
    _PREP + r"(?P<which>last|next|this|coming)?\s*" + _MONTH_RE + r"(?!\s*\d)(?!\s+(?:of\s+)?(?:19|20)\d{2})",
    _r_month,
    True,
)
_rule(
    r"(?:(?P<prep>on|by|until|till|since|before|after)\s+)?(?P<which>this\s+past|this\s+coming|last|next|this|coming|past)?\s*"
    + _WEEKDAY_RE,
    _r_weekday,
    True,
)
_rule(_PREP + r"(?P<vague>the\s+other\s+day|recently|lately)(?![a-z])", _r_vague, True)


def _valid_month_pattern(m: re.Match[str]) -> bool:
    """Reject lower-case month names that are really other words: "may" (modal), "march" (verb)."""
    if "mon" not in m.re.groupindex or m.group("mon") is None:
        return True
    word = m.group("mon")
    if word.lower() not in {"may", "march", "august"} or word[0].isupper():
        return True
    has_prep = "prep" in m.re.groupindex and bool(m.group("prep"))
    has_year = "year" in m.re.groupindex and bool(m.group("year"))
    return has_prep or has_year


def _strip_prep(m: re.Match[str]) -> str | None:
    if "prep" not in m.re.groupindex or not m.group("prep"):
        return None
    p = " ".join(m.group("prep").lower().split())
    return {"back in": "in", "as of": "since", "throughout": "during", "over": "during", "within": "in"}.get(
        p, p
    )


@functools.lru_cache(maxsize=512)
def _rule_matches(text: str) -> tuple[tuple[re.Match[str], ...], ...]:
    """Every rule's matches in `text` (the costly part, shared by the past and future readings)."""
    return tuple(tuple(pattern.finditer(text)) for pattern, _, _ in _RULES)


def find_time_expressions(
    text: str, ref: datetime | None = None, *, direction: Direction = "past"
) -> list[TimeSpan]:
    """Every time expression in `text`, resolved against `ref`, in order of appearance.

    Relative expressions are skipped when `ref` is None. `direction` settles bare weekdays
    and months ("on Friday", "in May"): the latest past one or the next future one.
    """
    ctx = _Ctx(ref, direction)
    taken: list[tuple[int, int]] = []
    found: list[TimeSpan] = []
    for (_, resolver, relative), matches in zip(_RULES, _rule_matches(text)):
        for m in matches:
            s, e = m.span()
            prep = _strip_prep(m)
            if any(s < te and ts < e for ts, te in taken) and prep is not None:
                s, prep = m.end("prep"), None  # "before" already belongs to "the week before"
            while s < e and text[s].isspace():
                s += 1
            if s >= e or any(s < te and ts < e for ts, te in taken):
                continue
            if not _valid_month_pattern(m):
                continue
            resolved = resolver(m, ctx)
            if resolved is None:
                continue
            start, end, gran = resolved
            has_year = "year" in m.re.groupindex and m.group("year") is not None
            taken.append((s, e))
            found.append(
                TimeSpan(
                    start=start,
                    end=end,
                    granularity=gran,
                    expression=text[s:e],
                    prep=prep,
                    relative=relative and not has_year,
                    char_start=s,
                    char_end=e,
                )
            )
    found.sort(key=lambda t: t.char_start)
    return _anchor_before_after(text, found)


_BA_RE = re.compile(
    r"the\s+(?P<unit>day|night|week|weekend|month|year)\s+(?P<ba>before|after)$", re.IGNORECASE
)


def _anchor_before_after(text: str, spans: list[TimeSpan]) -> list[TimeSpan]:
    """Anchor "the week before" on the date that follows it: "the week before 9 June 2023".

    Either the date was found with the preposition ("before 9 June 2023", preceded by
    "the week "), or "the week before" was found on its own and a date follows directly.
    """
    out: list[TimeSpan] = []
    i = 0
    while i < len(spans):
        cur = spans[i]
        nxt = spans[i + 1] if i + 1 < len(spans) else None
        lead = _BA_LEAD_RE.search(text[: cur.char_start]) if cur.prep in {"before", "after"} else None
        m = _BA_RE.search(cur.expression)
        if lead is not None:
            out.append(
                _anchored(text, lead.group("unit"), cur.prep == "before", cur, lead.start(), cur.char_end)
            )
            i += 1
            continue
        if m and nxt is not None and not text[cur.char_end : nxt.char_start].strip() and nxt.prep is None:
            anchored = _anchored(
                text, m.group("unit"), m.group("ba").lower() == "before", nxt, cur.char_start, nxt.char_end
            )
            out.append(anchored.model_copy(update={"prep": cur.prep}))
            i += 2
            continue
        out.append(cur)
        i += 1
    return out


_BA_LEAD_RE = re.compile(r"(?<![\w-])the\s+(?P<unit>day|night|week|weekend|month|year)\s+$", re.IGNORECASE)


def _anchored(text: str, unit: str, before: bool, anchor: TimeSpan, s: int, e: int) -> TimeSpan:
    days = {"day": 1, "night": 1, "week": 7, "weekend": 7, "month": 30, "year": 365}[unit.lower()]
    if before:
        start, end = anchor.start - timedelta(days=days), anchor.start
    else:
        start, end = anchor.end, anchor.end + timedelta(days=days)
    return TimeSpan(
        start=start,
        end=end,
        granularity="day" if days == 1 else "range",
        expression=text[s:e],
        prep=None,
        relative=anchor.relative,
        char_start=s,
        char_end=e,
    )


def resolve(
    expression: str, ref: datetime | None = None, *, direction: Direction = "past"
) -> TimeSpan | None:
    """The first time expression in `expression`, or None."""
    spans = find_time_expressions(expression, ref, direction=direction)
    return spans[0] if spans else None
