"""`TimeSpan` (a resolved time expression), the names of months, weekdays and numbers, calendar arithmetic."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Literal

from pydantic import BaseModel, ConfigDict

from shared_core.clock import ensure_utc

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


def said_on(ts: datetime) -> str:
    """The suffix that dates a statement with no time of its own: `" (said on 8 May 2023)"`.
    The context block leaves it out under a date header of the same day."""
    return f" (said on {ts.day} {MONTH_NAMES[ts.month - 1]} {ts.year})"


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
