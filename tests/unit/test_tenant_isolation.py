"""Property-based tenant isolation (hypothesis, issue #18): generated programs over several tenants x
users x agents with hostile ids; after every step nothing of one scope is visible from another and an
oracle agrees with what every scope lists. The machine is `memo_bench.isolation` (also the program
`memo bench isolation --ops 10000`, >= 10,000 operations).

CI runs it bounded and derandomized: a few hundred operations on the in-memory store (the same
`StoreContract` as Chroma, ~20 s), and a short run on real embedded Chroma (a fresh directory per
program).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test

from memo_bench.isolation import KNOWN_LEAKS, Leak, admin, build_machine, new_world
from shared_core import MemoError, Scope

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _run(machine: type, examples: int, steps: int) -> dict[str, object]:
    cfg = settings(
        max_examples=examples, stateful_step_count=steps, deadline=None, database=None, derandomize=True,
        suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate],
    )  # fmt: skip
    run_state_machine_as_test(machine, settings=cfg)
    return machine.stats  # type: ignore[attr-defined, no-any-return]


def test_generated_programs_leak_nothing_in_memory_store() -> None:
    machine = build_machine("memory", exclude=KNOWN_LEAKS)
    stats = _run(machine, examples=25, steps=30)
    assert stats["ops"] >= 200, stats  # a few hundred operations really ran
    counts = stats["counts"]
    assert isinstance(counts, dict)
    for op in (
        "remember",
        "update",
        "delete",
        "search",
        "context",
        "langchain_history",
        "langgraph_store",
        "llamaindex_memory",
    ):
        assert counts.get(op, 0) > 0, counts
    assert (
        sum(counts.get(op, 0) for op in ("export", "import_round_trip", "import_foreign_refused", "erase"))
        > 0
    )


def test_generated_programs_leak_nothing_on_embedded_chroma(tmp_path: Path) -> None:
    machine = build_machine("chroma", tmp_path, exclude=KNOWN_LEAKS)
    # derandomized, but the programs drawn depend on where the test file lives: enough examples
    # that a few dozen operations run from any checkout
    stats = _run(machine, examples=10, steps=25)
    assert stats["ops"] >= 40, stats


def test_an_import_cannot_move_another_scopes_record() -> None:
    world, close = new_world("memory", None)
    try:
        a, b = Scope(tenant="acme", user="alice"), Scope(tenant="Acme", user="alice")
        rec = world.mem.remember("alice likes zq1x", a, consolidate=False)
        out = world.mem.export_records(a)
        moved = [{**r, "scope": b.model_dump(mode="json")} for r in out["records"]]
        try:
            world.mem.import_records(moved, [], principal=admin())
        except MemoError:  # refusing is fine
            pass
        assert world.mem.get(rec.id, a).text == "alice likes zq1x"  # refused: the record stays in its scope
    finally:
        close()


def test_the_oracle_catches_a_planted_leak() -> None:
    """A check that cannot fail is no check: write behind the oracle's back and it must object."""
    world, close = new_world("memory", None)
    try:
        world.mem.remember("alice likes zq7x", Scope(tenant="acme", user="alice"), consolidate=False)
        with pytest.raises(Leak):
            world.invariant()
        world.recs.clear()
        world.reconcile(Scope(tenant="acme", user="alice"), "adopt")
        world.invariant()
        with pytest.raises(Leak):
            world.check_text("context", Scope(tenant="Acme", user="alice"), "alice likes zq7x")
    finally:
        close()
