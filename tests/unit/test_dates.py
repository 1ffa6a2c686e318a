"""Time expressions resolved against a reference timestamp (shared_core.extract.dates)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from shared_core.extract.dates import (
    OPEN_END,
    OPEN_START,
    TimeSpan,
    find_time_expressions,
    query_time_range,
    resolve,
)

UTC = timezone.utc
MON = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)  # Monday 8 May 2023


def d(s: str) -> date:
    return date.fromisoformat(s)


def one(text: str, ref: datetime | None = MON, **kw: str) -> TimeSpan:
    spans = find_time_expressions(text, ref, **kw)  # type: ignore[arg-type]
    assert len(spans) == 1, spans
    return spans[0]


# (expression, first day, last day inclusive, granularity) with ref = Monday 8 May 2023
RELATIVE = [
    ("yesterday", "2023-05-07", "2023-05-07", "day"),
    ("today", "2023-05-08", "2023-05-08", "day"),
    ("tomorrow", "2023-05-09", "2023-05-09", "day"),
    ("the day before yesterday", "2023-05-06", "2023-05-06", "day"),
    ("the day after tomorrow", "2023-05-10", "2023-05-10", "day"),
    ("last week", "2023-05-01", "2023-05-07", "week"),
    ("this week", "2023-05-08", "2023-05-14", "week"),
    ("next week", "2023-05-15", "2023-05-21", "week"),
    ("last month", "2023-04-01", "2023-04-30", "month"),
    ("next month", "2023-06-01", "2023-06-30", "month"),
    ("last year", "2022-01-01", "2022-12-31", "year"),
    ("next year", "2024-01-01", "2024-12-31", "year"),
    ("last weekend", "2023-05-06", "2023-05-07", "weekend"),
    ("this weekend", "2023-05-13", "2023-05-14", "weekend"),
    ("next weekend", "2023-05-20", "2023-05-21", "weekend"),
    ("over the weekend", "2023-05-06", "2023-05-07", "weekend"),
    ("last Friday", "2023-05-05", "2023-05-05", "day"),
    ("next Tuesday", "2023-05-09", "2023-05-09", "day"),
    ("this Friday", "2023-05-12", "2023-05-12", "day"),
    ("on Friday", "2023-05-05", "2023-05-05", "day"),
    ("two years ago", "2021-01-01", "2021-12-31", "year"),
    ("3 days ago", "2023-05-05", "2023-05-05", "day"),
    ("a week ago", "2023-05-01", "2023-05-07", "week"),
    ("five months ago", "2022-12-01", "2022-12-31", "month"),
    ("twelve days ago", "2023-04-26", "2023-04-26", "day"),
    ("in two weeks", "2023-05-22", "2023-05-28", "week"),
    ("in 3 days", "2023-05-11", "2023-05-11", "day"),
    ("a few days ago", "2023-05-04", "2023-05-06", "fuzzy"),
    ("a couple of weeks ago", "2023-04-24", "2023-04-30", "week"),
    ("several months ago", "2022-10-01", "2023-02-28", "fuzzy"),
    ("the week before", "2023-05-01", "2023-05-07", "week"),
    ("last summer", "2022-06-01", "2022-08-31", "season"),
    ("this summer", "2023-06-01", "2023-08-31", "season"),
    ("in May", "2023-05-01", "2023-05-31", "month"),
    ("last May", "2022-05-01", "2022-05-31", "month"),
    ("in June", "2022-06-01", "2022-06-30", "month"),
]


@pytest.mark.parametrize(("expr", "first", "last", "gran"), RELATIVE)
def test_relative_expressions(expr: str, first: str, last: str, gran: str) -> None:
    sp = one(f"It happened {expr}, I think.")
    assert sp.start.date() == d(first)
    assert (sp.end - timedelta(microseconds=1)).date() == d(last)
    assert sp.granularity == gran
    assert sp.relative
    assert sp.start.tzinfo is not None


@pytest.mark.parametrize(
    ("expr", "first", "last", "gran"),
    [
        ("on 8 May 2023", "2023-05-08", "2023-05-08", "day"),
        ("8 May, 2023", "2023-05-08", "2023-05-08", "day"),
        ("May 8th, 2023", "2023-05-08", "2023-05-08", "day"),
        ("the 3rd of June 2022", "2022-06-03", "2022-06-03", "day"),
        ("2023-05-01", "2023-05-01", "2023-05-01", "day"),
        ("May 2023", "2023-05-01", "2023-05-31", "month"),
        ("in early June 2023", "2023-06-01", "2023-06-30", "month"),
        ("in 2022", "2022-01-01", "2022-12-31", "year"),
        ("summer 2021", "2021-06-01", "2021-08-31", "season"),
        ("winter 2022", "2022-12-01", "2023-02-28", "season"),
    ],
)
def test_absolute_expressions_need_no_reference(expr: str, first: str, last: str, gran: str) -> None:
    sp = one(f"That was {expr}.", ref=None)
    assert sp.start.date() == d(first)
    assert (sp.end - timedelta(microseconds=1)).date() == d(last)
    assert sp.granularity == gran
    assert not sp.relative


def test_relative_expressions_need_a_reference() -> None:
    assert find_time_expressions("I went there yesterday", None) == []
    assert [s.expression for s in find_time_expressions("yesterday and in 2022", None)] == ["in 2022"]


def test_clock_time_on_a_date_in_text() -> None:
    for bad in ["at 13:00 pm on 8 May, 2023", "at 1:00 pm on 31 February, 2023"]:
        assert all(s.granularity != "minute" for s in find_time_expressions(bad, None))
    sp = one("We met at 1:56 pm on 8 May, 2023 in Paris", ref=None)
    assert sp.granularity == "minute"
    assert sp.start == datetime(2023, 5, 8, 13, 56, tzinfo=UTC)


def test_number_words_one_to_twelve() -> None:
    words = [
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
    ]
    for n, w in enumerate(words, start=1):
        sp = one(f"{w} days ago")
        assert sp.start.date() == MON.date() - timedelta(days=n)


def test_the_week_before_an_anchor_date() -> None:
    sp = one("the week before 9 June 2023", ref=None)
    assert (sp.start.date(), sp.end.date()) == (d("2023-06-02"), d("2023-06-09"))
    sp = one("the day after 8 May 2023", ref=None)
    assert sp.start.date() == d("2023-05-09")
    sp = one("the week before last Friday")
    assert (sp.start.date(), sp.end.date()) == (d("2023-04-28"), d("2023-05-05"))


def test_positions_prepositions_and_several_expressions() -> None:
    text = "Since 2020 I lived in Rome, and last week I moved to Oslo until next year."
    spans = find_time_expressions(text, MON)
    assert [s.expression for s in spans] == ["Since 2020", "last week", "until next year"]
    assert [s.prep for s in spans] == ["since", None, "until"]
    for s in spans:
        assert text[s.char_start : s.char_end] == s.expression


def test_words_that_only_look_like_times() -> None:
    for text in [
        "You may go now.",
        "May I ask?",
        "We march on.",
        "The Sun is hot.",
        "My favourite season is autumn.",
    ]:
        assert find_time_expressions(text, MON) == [], text


def test_direction_settles_bare_weekdays_and_months() -> None:
    assert one("on Friday", direction="future").start.date() == d("2023-05-12")
    assert one("in June", direction="future").start.date() == d("2023-06-01")
    assert one("on 3 June").start.date() == d("2022-06-03")
    assert one("on 3 June", direction="future").start.date() == d("2023-06-03")


def test_describe_is_absolute_english() -> None:
    assert one("yesterday").describe() == "on 7 May 2023"
    assert one("last weekend").describe() == "on the weekend of 6 May 2023"
    assert one("last week").describe() == "during the week of 1 May 2023"
    assert one("last month").describe() == "in April 2023"
    assert one("two years ago").describe() == "in 2021"
    assert one("since 2020").describe() == "since 2020"
    assert one("a few days ago").describe() == "between 4 May 2023 and 6 May 2023"


def test_timezone_of_reference_is_kept_in_utc() -> None:
    tokyo = timezone(timedelta(hours=9))
    ref = datetime(2023, 5, 8, 7, 0, tzinfo=tokyo)  # still 7 May in UTC
    sp = one("yesterday", ref=ref)
    assert sp.start == datetime(2023, 5, 6, tzinfo=UTC)
    naive = one("yesterday", ref=datetime(2023, 5, 8, 12, 0))
    assert naive.start == datetime(2023, 5, 7, tzinfo=UTC)


def test_resolve_and_contains() -> None:
    sp = resolve("I saw her last week", MON)
    assert sp is not None and sp.contains(datetime(2023, 5, 3, tzinfo=UTC))
    assert not sp.contains(datetime(2023, 5, 8, tzinfo=UTC))
    assert sp.overlaps(datetime(2023, 5, 7, tzinfo=UTC), datetime(2023, 5, 9, tzinfo=UTC))
    assert resolve("nothing here", MON) is None


# ------------------------------------------------------------------ query side


def test_query_time_range_relative_needs_ref() -> None:
    assert query_time_range("What did she do last week?") is None
    sp = query_time_range("What did she do last week?", MON)
    assert sp is not None and (sp.start.date(), sp.end.date()) == (d("2023-05-01"), d("2023-05-08"))


@pytest.mark.parametrize(
    ("query", "start", "end"),
    [
        ("What happened in May 2023?", "2023-05-01", "2023-06-01"),
        ("Where did Caroline travel in 2022?", "2022-01-01", "2023-01-01"),
        ("What did they do on 8 May 2023?", "2023-05-08", "2023-05-09"),
    ],
)
def test_query_time_range_absolute(query: str, start: str, end: str) -> None:
    sp = query_time_range(query)
    assert sp is not None
    assert (sp.start.date(), sp.end.date()) == (d(start), d(end))


def test_query_time_range_open_ended_and_combined() -> None:
    since = query_time_range("What has she painted since 2022?")
    assert since is not None and since.start.date() == d("2022-01-01") and since.end == OPEN_END
    before = query_time_range("Where did he live before 2020?")
    assert before is not None and before.start == OPEN_START and before.end.date() == d("2020-01-01")
    both = query_time_range("What happened after May 2023 and before 2024?")
    assert both is not None and (both.start.date(), both.end.date()) == (d("2023-06-01"), d("2024-01-01"))
    hull = query_time_range("Compare March 2023 with May 2023")
    assert hull is not None and (hull.start.date(), hull.end.date()) == (d("2023-03-01"), d("2023-06-01"))


def test_query_without_time() -> None:
    assert query_time_range("When did Caroline go to the support group?", MON) is None
    assert query_time_range("", MON) is None
