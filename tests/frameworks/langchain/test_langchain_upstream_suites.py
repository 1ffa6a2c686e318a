"""CI entry: the frameworks' own suites (see `langchain_upstream.py`) pass against MeMo's adapters.

Each suite runs in its own pytest process on the sdist of the installed version (downloaded once into
`$MEMO_UPSTREAM_CACHE`, default `~/.cache/memo-upstream`: the package registry must be reachable the first
time). A failure that is not a listed deliberate difference (docs/adapters.md) fails this test.
"""

from __future__ import annotations

import pytest
from langchain_upstream import SUITES, cache_dir, run


@pytest.mark.parametrize("suite", sorted(SUITES))
def test_upstream_suite_passes_with_only_the_class_swapped(suite: str) -> None:
    result = run(suite, cache_dir())
    assert result.get("passed", 0) > 0, result["tail"]
    assert result["exit"] == 0 and not result.get("failures"), f"{result.get('failures')}\n{result['tail']}"
