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

Layout: `spans` (`TimeSpan`, names, calendar arithmetic), `resolvers` (patterns and what a match
means), `find` (the rule table, `find_time_expressions`, `resolve`), `query` (`query_time_range`).
"""

from shared_core.extract.dates.find import find_time_expressions, resolve
from shared_core.extract.dates.query import query_time_range
from shared_core.extract.dates.spans import (
    MONTH_NAMES,
    NUMBER_WORDS,
    OPEN_END,
    OPEN_START,
    Direction,
    Granularity,
    TimeSpan,
    said_on,
)

__all__ = [
    "MONTH_NAMES",
    "NUMBER_WORDS",
    "OPEN_END",
    "OPEN_START",
    "Direction",
    "Granularity",
    "TimeSpan",
    "find_time_expressions",
    "query_time_range",
    "resolve",
    "said_on",
]
