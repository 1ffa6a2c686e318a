"""The patterns of time expressions and the resolvers that turn a match into a span."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone, tzinfo

from shared_core.clock import ensure_utc
from shared_core.extract.dates.spans import (
    _MONTHS,
    _SEASONS,
    _WEEKDAYS,
    NUMBER_WORDS,
    Direction,
    Granularity,
    _add_months,
    _at,
    _day_span,
    _month_span,
    _safe_date,
    _season_span,
    _week_span,
    _week_start,
    _weekend_span,
    _year_span,
)

# ---------------------------------------------------------------- patterns

_MONTH_RE = (
    r"(?P<mon>january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\.?(?![a-z])"
)
_WEEKDAY_RE = (
    r"(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tues|tue|wed|thurs|thur|thu|fri|sat|sun)"
    r"(?![a-z'])"
)
_NUM_RE = (
    r"(?P<num>\d{1,3}|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve"
    r"|a\s+couple\s+of|couple\s+of|a\s+couple|a\s+few|few|several|an?)"
)
_UNIT_RE = r"(?P<unit>minute|hour|day|night|week|weekend|month|year)s?"
_YEAR_RE = r"(?P<year>(?:19|20)\d{2})(?![\d:])"
_DAYNUM_RE = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_PREP = (
    r"(?:(?P<prep>back\s+in|in|on|during|since|from|until|till|by|before|after|around|throughout|as\s+of|of|over)"
    r"\s+)?(?:(?:the\s+)?(?:early|mid|late|beginning\s+of|end\s+of|start\s+of|middle\s+of)[-\s]+)?"
)

Resolved = tuple[datetime, datetime, Granularity] | None


class _Ctx:
    def __init__(self, ref: datetime | None, direction: Direction) -> None:
        self.ref = ensure_utc(ref) if ref is not None else None
        self.tz: tzinfo = self.ref.tzinfo if self.ref is not None and self.ref.tzinfo else timezone.utc
        self.direction = direction

    @property
    def today(self) -> date | None:
        return self.ref.date() if self.ref is not None else None


def _num(text: str) -> tuple[int, int] | None:
    t = " ".join(text.lower().split())
    if t.isdigit():
        n = int(t)
        return (n, n) if n > 0 else None
    if t in NUMBER_WORDS:
        return NUMBER_WORDS[t], NUMBER_WORDS[t]
    if t in {"a", "an"}:
        return 1, 1
    if "couple" in t:
        return 2, 2
    if "few" in t:
        return 2, 4
    if t == "several":
        return 3, 7
    return None


def _month_of(m: re.Match[str]) -> int:
    return _MONTHS[m.group("mon").lower().rstrip(".")]


def _year_for(month: int, day: int, ctx: _Ctx) -> int | None:
    """The year of a day-month with no year: the nearest past (or future) occurrence."""
    today = ctx.today
    if today is None:
        return None
    cand = _safe_date(today.year, month, day)
    if cand is None:
        return today.year
    if ctx.direction == "past":
        return today.year if cand <= today else today.year - 1
    return today.year if cand >= today else today.year + 1


def _clock_on_date(m: re.Match[str]) -> datetime | None:
    """ "1:56 pm on 8 May, 2023" (a match of `find._CLOCK_ON_DATE_RE`) -> that minute, UTC."""
    hour, minute = int(m.group("h")), int(m.group("mi"))
    ap = (m.group("ap") or "").lower().replace(".", "")
    if ap:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ap == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    d = _safe_date(int(m.group("year")), _month_of(m), int(m.group("day")))
    if d is None:
        return None
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=timezone.utc)


def _r_clock_on_date(m: re.Match[str], ctx: _Ctx) -> Resolved:
    dt = _clock_on_date(m)
    if dt is None:
        return None
    dt = dt.replace(tzinfo=ctx.tz) if ctx.ref is not None else dt
    return dt, dt + timedelta(minutes=1), "minute"


def _r_iso(m: re.Match[str], ctx: _Ctx) -> Resolved:
    d = _safe_date(int(m.group("y")), int(m.group("m")), int(m.group("d")))
    if d is None:
        return None
    if m.group("hh") is not None:
        hh, mm = int(m.group("hh")), int(m.group("mm"))
        if hh > 23 or mm > 59:
            return None
        start = _at(d, ctx.tz, hh, mm)
        return start, start + timedelta(minutes=1), "minute"
    return _day_span(d, ctx.tz)


def _r_dmy(m: re.Match[str], ctx: _Ctx) -> Resolved:
    d = _safe_date(int(m.group("year")), _month_of(m), int(m.group("day")))
    return _day_span(d, ctx.tz) if d else None


def _r_dm(m: re.Match[str], ctx: _Ctx) -> Resolved:
    month, day = _month_of(m), int(m.group("day"))
    year = _year_for(month, day, ctx)
    if year is None:
        return None
    d = _safe_date(year, month, day)
    return _day_span(d, ctx.tz) if d else None


def _r_my(m: re.Match[str], ctx: _Ctx) -> Resolved:
    return _month_span(int(m.group("year")), _month_of(m), ctx.tz)


def _r_month(m: re.Match[str], ctx: _Ctx) -> Resolved:
    month = _month_of(m)
    today = ctx.today
    if today is None:
        return None
    which = (m.group("which") or "").lower()
    if not which and not m.group("prep"):
        return None  # a bare month name is too often something else ("May I ...")
    y = today.year
    if which == "last":
        y = y if month < today.month else y - 1
    elif which in {"next", "coming"}:
        y = y if month > today.month else y + 1
    elif which == "this":
        pass
    elif ctx.direction == "past":
        y = y if month <= today.month else y - 1
    else:
        y = y if month >= today.month else y + 1
    return _month_span(y, month, ctx.tz)


def _r_year(m: re.Match[str], ctx: _Ctx) -> Resolved:
    return _year_span(int(m.group("year")), ctx.tz)


def _season_year_containing(d: date, first_month: int) -> int:
    """The season-year whose `first_month` season contains or precedes `d` most recently."""
    if first_month == 12:
        return d.year if d.month == 12 else d.year - 1
    return d.year if d.month >= first_month else d.year - 1


def _r_season(m: re.Match[str], ctx: _Ctx) -> Resolved:
    first = _SEASONS[m.group("season").lower()]
    if not (m.group("year") or m.group("which") or m.group("prep")):
        return None  # "my favourite season is autumn": a season, not a time
    if m.group("year"):
        return _season_span(int(m.group("year")), first, ctx.tz)
    today = ctx.today
    if today is None:
        return None
    which = (m.group("which") or "").lower().replace("past", "last")
    y0 = _season_year_containing(today, first)  # latest season started on or before today
    s0, e0, _ = _season_span(y0, first, ctx.tz)
    inside = s0.date() <= today < e0.date()
    if which == "last":
        y = y0 - 1 if inside else y0
    elif which in {"next", "coming"}:
        y = y0 + 1
    elif which == "this":
        # the one we are in; else the one that ended this calendar year; else the coming one
        y = y0 if inside or (first != 12 and y0 == today.year) else y0 + 1
    elif ctx.direction == "past":
        y = y0
    else:
        y = y0 if inside else y0 + 1
    return _season_span(y, first, ctx.tz)


def _r_relday(m: re.Match[str], ctx: _Ctx) -> Resolved:
    today = ctx.today
    if today is None:
        return None
    word = " ".join(m.group("rel").lower().split())
    offsets = {
        "today": 0,
        "earlier today": 0,
        "later today": 0,
        "this morning": 0,
        "this afternoon": 0,
        "this evening": 0,
        "tonight": 0,
        "yesterday": -1,
        "tomorrow": 1,
        "the day before yesterday": -2,
        "the day after tomorrow": 2,
        "last night": -1,
    }
    off = offsets[word]
    d = today + timedelta(days=off)
    hours = {
        "this morning": (6, 12),
        "this afternoon": (12, 18),
        "this evening": (18, 24),
        "tonight": (18, 24),
    }
    if word in hours:
        h0, h1 = hours[word]
        return _at(d, ctx.tz, h0), _at(d, ctx.tz) + timedelta(hours=h1), "day"
    if word == "last night":
        return _at(d, ctx.tz, 18), _at(today, ctx.tz, 6), "day"
    return _day_span(d, ctx.tz)


def _r_relunit(m: re.Match[str], ctx: _Ctx) -> Resolved:
    """this/last/next/past/coming week|month|year|weekend."""
    today = ctx.today
    if today is None:
        return None
    which = " ".join(m.group("which").lower().split())
    unit = m.group("unit").lower()
    steps = {
        "last": -1,
        "past": -1,
        "this past": -1,
        "previous": -1,
        "next": 1,
        "coming": 1,
        "this coming": 1,
    }
    step = steps.get(which, 1 if which == "following" else 0)
    if which in {"this past", "the past"} and unit == "weekend":
        which, step = "bare-past", 0
    if unit == "week":
        if which == "the past":
            return _at(today - timedelta(days=7), ctx.tz), _at(today + timedelta(days=1), ctx.tz), "range"
        return _week_span(today + timedelta(days=7 * step), ctx.tz)
    if unit == "weekend":
        if which in {"bare-past", "the"}:
            return _bare_weekend(today, ctx)
        if which == "this coming":
            return _bare_weekend(today, _Ctx(ctx.ref, "future"))
        return _weekend_span(today + timedelta(days=7 * step), ctx.tz)
    if unit == "month":
        if which == "the past":
            return _at(today - timedelta(days=30), ctx.tz), _at(today + timedelta(days=1), ctx.tz), "range"
        y, mo = _add_months(today.year, today.month, step)
        return _month_span(y, mo, ctx.tz)
    if which == "the past":
        return _at(today - timedelta(days=365), ctx.tz), _at(today + timedelta(days=1), ctx.tz), "range"
    return _year_span(today.year + step, ctx.tz)


def _bare_weekend(today: date, ctx: _Ctx) -> Resolved:
    sat = _week_start(today) + timedelta(days=5)
    if ctx.direction == "past" and today < sat:
        sat -= timedelta(days=7)
    return _at(sat, ctx.tz), _at(sat + timedelta(days=2), ctx.tz), "weekend"


def _r_the_weekend(m: re.Match[str], ctx: _Ctx) -> Resolved:
    today = ctx.today
    return None if today is None else _bare_weekend(today, ctx)


def _shift(today: date, unit: str, n: int, ctx: _Ctx) -> tuple[datetime, datetime, Granularity]:
    if unit in {"day", "night"}:
        return _day_span(today + timedelta(days=n), ctx.tz)
    if unit == "week":
        return _week_span(today + timedelta(days=7 * n), ctx.tz)
    if unit == "weekend":
        return _weekend_span(today + timedelta(days=7 * n), ctx.tz)
    if unit == "month":
        y, mo = _add_months(today.year, today.month, n)
        return _month_span(y, mo, ctx.tz)
    return _year_span(today.year + n, ctx.tz)


def _r_offset(m: re.Match[str], ctx: _Ctx, sign: int) -> Resolved:
    ref, today = ctx.ref, ctx.today
    if ref is None or today is None:
        return None
    rng = _num(m.group("num"))
    if rng is None:
        return None
    lo, hi = rng
    unit = m.group("unit").lower()
    if unit in {"minute", "hour"}:
        delta = timedelta(minutes=1) if unit == "minute" else timedelta(hours=1)
        if lo == hi:
            start = ref + sign * lo * delta
            return start, start + delta, "hour" if unit == "hour" else "minute"
        a, b = ref + sign * lo * delta, ref + sign * hi * delta
        return min(a, b), max(a, b) + delta, "fuzzy"
    if lo == hi:
        return _shift(today, unit, sign * lo, ctx)
    s1, e1, _ = _shift(today, unit, sign * lo, ctx)
    s2, e2, _ = _shift(today, unit, sign * hi, ctx)
    return min(s1, s2), max(e1, e2), "fuzzy"


def _r_ago(m: re.Match[str], ctx: _Ctx) -> Resolved:
    return _r_offset(m, ctx, -1)


def _r_in(m: re.Match[str], ctx: _Ctx) -> Resolved:
    return _r_offset(m, ctx, +1)


def _r_pastn(m: re.Match[str], ctx: _Ctx) -> Resolved:
    """ "the past 3 weeks", "the last few months", "over the past two years": up to today."""
    ref, today = ctx.ref, ctx.today
    if ref is None or today is None:
        return None
    rng = _num(m.group("num"))
    if rng is None:
        return None
    n = rng[1]
    unit = m.group("unit").lower()
    days = {"day": 1, "night": 1, "week": 7, "weekend": 7, "month": 30, "year": 365}.get(unit)
    if days is None:
        return None
    return _at(today - timedelta(days=days * n), ctx.tz), _at(today + timedelta(days=1), ctx.tz), "range"


def _r_weekday(m: re.Match[str], ctx: _Ctx) -> Resolved:
    today = ctx.today
    if today is None:
        return None
    wd = _WEEKDAYS[m.group("wd").lower()]
    which = " ".join((m.group("which") or "").lower().split())
    if not which and not m.group("prep") and len(m.group("wd")) <= 5:
        return None  # a bare "Sun", "wed", "Sat" is more often a word than a day
    if which in {"last", "past", "this past"}:
        direction: Direction = "past"
    elif which in {"next", "coming", "this coming"}:
        direction = "future"
    elif which == "this":
        d = _week_start(today) + timedelta(days=wd)
        return _day_span(d, ctx.tz)
    else:
        direction = ctx.direction
    if direction == "past":
        back = (today.weekday() - wd) % 7 or 7
        d = today - timedelta(days=back)
    else:
        fwd = (wd - today.weekday()) % 7 or 7
        d = today + timedelta(days=fwd)
    return _day_span(d, ctx.tz)


def _r_before_after(m: re.Match[str], ctx: _Ctx) -> Resolved:
    """ "the week before" / "the day after" relative to the reference (an anchor date is merged later)."""
    today = ctx.today
    if today is None:
        return None
    unit = m.group("unit").lower()
    sign = -1 if m.group("ba").lower() == "before" else 1
    return _shift(today, unit, sign, ctx)


def _r_earlier_later(m: re.Match[str], ctx: _Ctx) -> Resolved:
    today = ctx.today
    if today is None:
        return None
    el = m.group("el").lower()
    unit = m.group("unit").lower()
    s, e, _ = _shift(today, unit, 0, ctx)
    if el == "earlier":
        return s, _at(today + timedelta(days=1), ctx.tz), "range"
    return _at(today, ctx.tz), e, "range"


def _r_vague(m: re.Match[str], ctx: _Ctx) -> Resolved:
    today = ctx.today
    if today is None:
        return None
    word = " ".join(m.group("vague").lower().split())
    if word == "the other day":
        return _at(today - timedelta(days=7), ctx.tz), _at(today - timedelta(days=1), ctx.tz), "fuzzy"
    return _at(today - timedelta(days=30), ctx.tz), _at(today + timedelta(days=1), ctx.tz), "fuzzy"
