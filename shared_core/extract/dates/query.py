"""The query side: the time range a question asks about."""

from __future__ import annotations

from datetime import datetime

from shared_core.extract.dates.find import find_time_expressions
from shared_core.extract.dates.spans import OPEN_END, OPEN_START, TimeSpan

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
