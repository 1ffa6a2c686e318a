"""What a rule sees (`_Clause`), what it returns (`_Hit`), and how a rule is declared (`Rule`).

A rule module of this package ends with a `RULES` tuple; the pipeline finds every module of the
package that has one (see `registry.py`), so adding a rule is one small module plus one row in
`RULE_EXAMPLES` (`tests/unit/test_rules.py`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from shared_core.extract.dates import TimeSpan
from shared_core.models import Kind

# ---------------------------------------------------------------- hits


@dataclass
class _Hit:
    kind: Kind
    attribute: str
    value: str | None
    confidence: float
    importance: float
    time_role: str = "none"  # none | start | event | plan
    negated: bool = False
    text: str | None = None  # a template, when the rewritten clause would not read well


@dataclass
class _Clause:
    plain: str  # time expressions removed; starts with the subject when there is one
    marked: str  # time expressions replaced by \x00i\x00 markers (fronted ones moved to the end)
    spans: list[TimeSpan]
    future_spans: list[TimeSpan]
    greeted: bool = False
    subj: re.Match[str] | None = None
    plural: bool = False
    body: str = ""
    ref: datetime | None = None
    display: str = "The user"


_Matcher = Callable[[_Clause], list[_Hit]]


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


Stage = Literal["special", "positive", "possessive"]
"""When a rule runs: `special` before negation handling (its own wording has "not"/"cannot"),
`positive` for first-person clauses (also re-run on the positive form of a negated clause),
`possessive` for "my ..." clauses without a first-person subject."""


@dataclass(frozen=True)
class Rule:
    """One rule: `match` runs in `stage`, in ascending `order`; the first rule with hits wins."""

    name: str
    stage: Stage
    order: int
    match: _Matcher
