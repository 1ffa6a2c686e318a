"""kill -9 during journal apply and during background extraction (issue #13): nothing
acknowledged is lost, nothing is duplicated, every record has its audit event. "embed" dies while
raw turns acknowledged before their embedding are being embedded.
A longer series: `python tests/unit/kill_harness.py --kills 20`."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from kill_harness import run_once, verify  # noqa: E402


@pytest.mark.parametrize("kill_at", ["audit", "history", "records", "revision", "embed", "extract"])
def test_kill_9_during_apply_or_extraction_loses_and_duplicates_nothing(tmp_path: Path, kill_at: str) -> None:
    path = tmp_path / "store"
    acked, _ = run_once(path, kill_at, 0, random.Random(3))
    assert acked["turns"], "the writer acknowledged writes before it died"
    got = verify(path, acked)
    assert got["lost"] == 0 and got["duplicate_ids"] == 0 and got["duplicate_facts"] == 0, got
    assert got["unaudited"] == 0 and got["duplicate_audit"] == 0 and got["audit_ok"], got
    assert got["pending_jobs_after_flush"] == 0, got
    if kill_at != "extract":
        assert got["replayed"] >= 1, got  # the writer died inside the applier: the journal replayed it
