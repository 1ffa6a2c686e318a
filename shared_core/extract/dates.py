"""Time expressions: find them in text and resolve them against a reference timestamp.

Pure functions, no clock: relative expressions ("last weekend", "3 days ago") need the
reference `ref` (the turn's timestamp); absolute ones ("8 May 2023", "in 2022") do not.

Conventions (documented because English is ambiguous):

* A `TimeSpan` is half-open: `start <= t < end`, in the reference's timezone (UTC when none).
* Weeks are ISO weeks, Monday to Sunday. "last week" is the previous ISO week, "next week" the
  following one. "this/last/next weekend" are the Saturday+Sunday of the current/previous/next
  ISO week; a bare "the weekend" is the latest one already started (past) or the coming one
  (future).
* "last Friday" is the latest Friday strictly before the reference day, "next Friday" the first
  one strictly after it, "this Friday" the Friday of the current ISO week. A bare "Friday" /
  "on Friday" uses `direction` (past: latest strictly before; future: first strictly after).
* "N weeks ago" is the ISO week containing ref - N weeks; "N months ago" the calendar month;
  "N years ago" the calendar year. "in N weeks" mirrors that forwards.
* "a few" is 2-4, "several" 3-7, "a couple of" is 2: such spans have granularity "fuzzy".
* Seasons are northern-hemisphere meteorological: spring Mar-May, summer Jun-Aug, autumn/fall
  Sep-Nov, winter Dec-Feb ("winter 2022" is Dec 2022 - Feb 2023).
* "the week before" on its own is the week before the reference's week; "the week before
  9 June 2023" is the seven days before that date.
* A leading preposition is kept in `TimeSpan.prep` ("since", "until", "before"...): callers
  decide what it means (valid_from vs valid_to, open-ended query ranges).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Literal

from pydantic import BaseModel, ConfigDict

from ..clock import ensure_utc

Granularity = Literal["minute", "hour", "day", "weekend", "week", "month", "season", "year", "fuzzy", "range"]
Direction = Literal["past", "future"]

OPEN_START = datetime(1, 1, 2, tzinfo=timezone.utc)
"""Start of an open-ended range ("before 2023")."""
OPEN_END = datetime(9999, 12, 30, tzinfo=timezone.utc)
"""End of an open-ended range ("since May 2023")."""

MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_MONTHS: dict[str, int] = {name.lower(): i + 1 for i, name in enumerate(MONTH_NAMES)}
_MONTHS.update({"jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8})
_MONTHS.update({"sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12})
_WEEKDAYS = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}
_WEEKDAYS.update({"mon": 0, "tue": 1, "tues": 1, "wed": 2, "thu": 3, "thur": 3, "thurs": 3, "fri": 4})
_WEEKDAYS.update({"sat": 5, "sun": 6})
NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
}
_SEASONS = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}  # first month


class TimeSpan(BaseModel):
    """A resolved time expression: `[start, end)` with its granularity and original words."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: datetime
    end: datetime
    granularity: Granularity
    expression: str
    prep: str | None = None  # leading preposition: in/on/since/until/before/after/by/from/during
    relative: bool = False  # True when it needed the reference time
    char_start: int = -1  # position in the searched text (-1 when not from text)
    char_end: int = -1

    def contains(self, when: datetime) -> bool:
        when = ensure_utc(when)
        return ensure_utc(self.start) <= when < ensure_utc(self.end)

    def overlaps(self, start: datetime, end: datetime | None = None) -> bool:
        """True when `[start, end)` (a point when `end` is None) meets this span."""
        s, e = ensure_utc(start), ensure_utc(end) if end is not None else None
        if e is None:
            return self.contains(s)
        return s < ensure_utc(self.end) and ensure_utc(self.start) < e

    @property
    def is_open(self) -> bool:
        return self.start <= OPEN_START or self.end >= OPEN_END

    def describe(self) -> str:
        """Absolute English for the span, as it would be written in a memory's text.

        "on 7 May 2023", "in May 2023", "in 2022", "during the week of 1 May 2023",
        "since 2020", "between 3 May 2023 and 6 May 2023".
        """
        core = self._core()
        if self.prep in {"since", "until", "till", "before", "after", "by", "from"}:
            return f"{self.prep} {self._bare()}"
        if self.prep == "around":
            return f"around {self._bare()}"
        return core

    def _bare(self) -> str:
        s = self.start
        if self.granularity in {"minute", "hour", "day"}:
            return _fmt_day(s.date())
        if self.granularity == "month":
            return f"{MONTH_NAMES[s.month - 1]} {s.year}"
        if self.granularity == "year":
            return str(s.year)
        if self.granularity == "season":
            return f"{_season_name(s.month)} {s.year}"
        if self.granularity == "weekend":
            return f"the weekend of {_fmt_day(s.date())}"
        if self.granularity == "week":
            return f"the week of {_fmt_day(s.date())}"
        return f"{_fmt_day(s.date())}"

    def _core(self) -> str:
        s = self.start
        g = self.granularity
        if self.is_open:
            if self.start <= OPEN_START:
                return f"before {_fmt_day(self.end.date())}"
            return f"since {_fmt_day(s.date())}"
        if g == "minute":
            return f"on {_fmt_day(s.date())} at {s.strftime('%H:%M')}"
        if g in {"hour", "day"}:
            return f"on {_fmt_day(s.date())}"
        if g == "weekend":
            return f"on the weekend of {_fmt_day(s.date())}"
        if g == "week":
            return f"during the week of {_fmt_day(s.date())}"
        if g == "month":
            return f"in {MONTH_NAMES[s.month - 1]} {s.year}"
        if g == "season":
            return f"in {_season_name(s.month)} {s.year}"
        if g == "year":
            return f"in {s.year}"
        last = (self.end - timedelta(microseconds=1)).date()
        if last == s.date():
            return f"on {_fmt_day(s.date())}"
        return f"between {_fmt_day(s.date())} and {_fmt_day(last)}"


def _fmt_day(d: date) -> str:
    return f"{d.day} {MONTH_NAMES[d.month - 1]} {d.year}"


def _season_name(month: int) -> str:
    return {3: "spring", 6: "summer", 9: "autumn", 12: "winter"}.get(month, "season")


# ---------------------------------------------------------------- calendar helpers


def _at(d: date, tz: tzinfo, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=tz)


def _month_start(year: int, month: int) -> date:
    return date(year, month, 1)


def _add_months(year: int, month: int, n: int) -> tuple[int, int]:
    idx = year * 12 + (month - 1) + n
    return idx // 12, idx % 12 + 1


def _day_span(d: date, tz: tzinfo) -> tuple[datetime, datetime, Granularity]:
    return _at(d, tz), _at(d + timedelta(days=1), tz), "day"


def _week_start(d: date) -> date:
    return d - timedelta(days=d.weekday())


def _week_span(d: date, tz: tzinfo) -> tuple[datetime, datetime, Granularity]:
    ws = _week_start(d)
    return _at(ws, tz), _at(ws + timedelta(days=7), tz), "week"


def _weekend_span(d: date, tz: tzinfo) -> tuple[datetime, datetime, Granularity]:
    """The Saturday+Sunday of the ISO week containing `d`."""
    sat = _week_start(d) + timedelta(days=5)
    return _at(sat, tz), _at(sat + timedelta(days=2), tz), "weekend"


def _month_span(year: int, month: int, tz: tzinfo) -> tuple[datetime, datetime, Granularity]:
    ny, nm = _add_months(year, month, 1)
    return _at(_month_start(year, month), tz), _at(_month_start(ny, nm), tz), "month"


def _year_span(year: int, tz: tzinfo) -> tuple[datetime, datetime, Granularity]:
    return _at(date(year, 1, 1), tz), _at(date(year + 1, 1, 1), tz), "year"


def _season_span(season_year: int, first_month: int, tz: tzinfo) -> tuple[datetime, datetime, Granularity]:
    ey, em = _add_months(season_year, first_month, 3)
    return _at(date(season_year, first_month, 1), tz), _at(date(ey, em, 1), tz), "season"


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


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


def _r_locomo(m: re.Match[str], ctx: _Ctx) -> Resolved:
    dt = _locomo_from_match(m)
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


_Resolver = Callable[[re.Match[str], _Ctx], Resolved]

# (pattern, resolver, relative) in priority order: earlier patterns win overlapping text.
_RULES: list[tuple[re.Pattern[str], _Resolver, bool]] = []


def _rule(pattern: str, fn: _Resolver, relative: bool) -> None:
    _RULES.append((re.compile(r"(?<![\w-])" + pattern, re.IGNORECASE), fn, relative))


_LOCOMO_RE = (
    r"(?P<h>\d{1,2})[:.](?P<mi>\d{2})\s*(?P<ap>a\.?m\.?|p\.?m\.?)?\s+on\s+"
    + _DAYNUM_RE
    + r"\s+"
    + _MONTH_RE
    + r",?\s+"
    r"(?P<year>\d{4})"
)
_rule(_PREP + _LOCOMO_RE, _r_locomo, False)
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


# ---------------------------------------------------------------- LoCoMo timestamps

_LOCOMO_FULL = re.compile(r"^\s*" + _LOCOMO_RE + r"\s*$", re.IGNORECASE)
_DATE_ONLY = re.compile(
    r"^\s*" + _DAYNUM_RE + r"\s+" + _MONTH_RE + r",?\s+(?P<year>\d{4})\s*$", re.IGNORECASE
)
_DATE_MDY = re.compile(r"^\s*" + _MONTH_RE + r"\s+" + _DAYNUM_RE + r",?\s+(?P<year>\d{4})\s*$", re.IGNORECASE)


def _locomo_from_match(m: re.Match[str]) -> datetime | None:
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


def parse_locomo_datetime(s: str) -> datetime:
    """ "1:56 pm on 8 May, 2023" -> 2023-05-08 13:56 UTC. Also "8 May, 2023" and "May 8, 2023".

    Raises ValueError when `s` is not such a timestamp.
    """
    m = _LOCOMO_FULL.match(s)
    if m:
        dt = _locomo_from_match(m)
        if dt is not None:
            return dt
        raise ValueError(f"invalid LoCoMo timestamp: {s!r}")
    m = _DATE_ONLY.match(s) or _DATE_MDY.match(s)
    if m:
        d = _safe_date(int(m.group("year")), _month_of(m), int(m.group("day")))
        if d is not None:
            return datetime(d.year, d.month, d.day, tzinfo=timezone.utc)
    raise ValueError(f"not a LoCoMo timestamp: {s!r}")


# ---------------------------------------------------------------- query side


def query_time_range(query: str, ref: datetime | None = None) -> TimeSpan | None:
    """The time range a question asks about, or None.

    "what did she do last week" (needs `ref`), "in May 2023", "in 2022" (absolute: no `ref`
    needed). "since/after X" and "before/until X" give open-ended ranges (`OPEN_START` /
    `OPEN_END`). Several expressions give the smallest range covering them all.
    """
    spans = find_time_expressions(query, ref, direction="past")
    if not spans:
        return None
    ranges: list[tuple[datetime, datetime]] = []
    for sp in spans:
        if sp.prep in {"since", "from"}:
            ranges.append((sp.start, OPEN_END))
        elif sp.prep == "after":
            ranges.append((sp.end, OPEN_END))
        elif sp.prep == "before":
            ranges.append((OPEN_START, sp.start))
        elif sp.prep in {"until", "till", "by"}:
            ranges.append((OPEN_START, sp.end))
        else:
            ranges.append((sp.start, sp.end))
    if len(spans) == 1 and ranges[0] == (spans[0].start, spans[0].end):
        return spans[0]
    if any(s <= OPEN_START or e >= OPEN_END for s, e in ranges):
        # "after May 2023 and before 2024": the open-ended bounds narrow each other
        start, end = max(r[0] for r in ranges), min(r[1] for r in ranges)
    else:
        start, end = min(r[0] for r in ranges), max(r[1] for r in ranges)
    if end <= start:
        return None
    return TimeSpan(
        start=start,
        end=end,
        granularity="range",
        expression=" ... ".join(sp.expression for sp in spans),
        prep=spans[0].prep if len(spans) == 1 else None,
        relative=any(sp.relative for sp in spans),
        char_start=spans[0].char_start,
        char_end=spans[-1].char_end,
    )
