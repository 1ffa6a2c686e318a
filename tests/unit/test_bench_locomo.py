"""The LoCoMo benchmark harness: data, normalisation, metrics (hand-computed), systems, CLI, report.

Uses only a tiny hand-written conversation in LoCoMo's format (tests/data/tiny_locomo.json).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from memo_bench import locomo as lm
from memo_bench.locomo import (
    QuestionResult,
    aggregate,
    credited,
    load_locomo,
    normalise_evidence,
    parse_locomo_datetime,
    percentile,
    recall,
    recall_at,
)
from memo_bench.systems import Item, TurnIndexSystem, pack_greedy, render_lines, rrf
from shared_core.embed import HashingEmbedder
from shared_core.tokens import count_tokens

TINY = Path(__file__).resolve().parents[1] / "data" / "tiny_locomo.json"

REQUIRED_KEYS = {
    "overall", "by_category", "questions", "skipped_questions", "ingest_turns_per_s", "search_ms",
    "full_context_tokens_mean", "system", "config", "git_sha",
}  # fmt: skip
METRIC_KEYS = {
    "recall@5", "recall@10", "recall@20", "recall@30", "all@10",
    "budget@256", "budget@512", "budget@1024", "budget@2048", "budget@4096",
}  # fmt: skip


@pytest.fixture(scope="module")
def conv() -> lm.LocomoConversation:
    (c,) = load_locomo(TINY)
    return c


# --------------------------------------------------------------------------- data


def test_normalise_evidence_rule() -> None:
    valid = {"D8:6", "D9:17", "D9:1", "D4:4", "D4:6", "D2:3"}
    assert normalise_evidence(["D8:6; D9:17"], valid) == ["D8:6", "D9:17"]
    assert normalise_evidence(["D9:1 D4:4 D4:6"], valid) == ["D9:1", "D4:4", "D4:6"]
    # parentheses dropped, leading zeros dropped, "D:2:3" form, duplicates removed (first kept)
    assert normalise_evidence(["(D2:3)", "D02:3", "D:2:3", "D9:17"], valid) == ["D2:3", "D9:17"]
    assert normalise_evidence(["D77:1"], valid) == []  # not a turn of this conversation
    assert normalise_evidence(["D77:1"]) == ["D77:1"]  # no validation set: kept
    assert normalise_evidence([], valid) == []
    assert normalise_evidence(None, valid) == []
    assert normalise_evidence("D8:6", valid) == []  # not a list
    assert normalise_evidence([3, None, "D8:6"], valid) == ["D8:6"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1:56 pm on 8 May, 2023", datetime(2023, 5, 8, 13, 56, tzinfo=timezone.utc)),
        ("10:05 am on 11 July, 2023", datetime(2023, 7, 11, 10, 5, tzinfo=timezone.utc)),
        ("12:09 am on 13 September, 2023", datetime(2023, 9, 13, 0, 9, tzinfo=timezone.utc)),
        ("12:30 pm on 1 January, 2024", datetime(2024, 1, 1, 12, 30, tzinfo=timezone.utc)),
        ("8 May, 2023", datetime(2023, 5, 8, tzinfo=timezone.utc)),
    ],
)
def test_parse_locomo_datetime(text: str, expected: datetime) -> None:
    assert parse_locomo_datetime(text) == expected


@pytest.mark.parametrize(
    "text",
    ["yesterday", "13:00 pm on 8 May, 2023", "1:00 pm on 31 February, 2023", "1:60 pm on 8 May, 2023", ""],
)
def test_parser_rejects_garbage(text: str) -> None:
    assert parse_locomo_datetime(text) is None


def test_the_core_has_no_locomo_parser() -> None:
    import shared_core.extract.dates as dates

    assert not hasattr(dates, "parse_locomo_datetime")  # LoCoMo's stamp format is the bench's business


def test_load_tiny(conv: lm.LocomoConversation) -> None:
    assert conv.sample_id == "tiny-1"
    assert [s.number for s in conv.sessions] == [1, 2]  # session_3 has a date but no turns
    assert len(conv.turns) == 10
    assert conv.sessions[0].timestamp == datetime(2023, 5, 8, 13, 56, tzinfo=timezone.utc)
    assert all(t.timestamp == conv.sessions[1].timestamp for t in conv.sessions[1].turns)
    img = conv.turns[3]
    assert img.dia_id == "D1:4"
    assert (
        img.content
        == "Look at the trail I ran yesterday. [image: a photo of a forest trail with a wooden bridge]"
    )
    assert img.line == "Ben: " + img.content
    q = {x.index: x for x in conv.questions}
    assert q[2].evidence == ("D1:3", "D2:4")  # "D1:3; D2:4"
    assert q[5].evidence == ("D2:3",)  # "(D2:3)", "D02:3", and a dangling "D9:9"
    assert not q[3].usable  # [] evidence
    assert not q[4].usable  # category 5
    assert [x.index for x in conv.usable_questions] == [0, 1, 2, 5]


# --------------------------------------------------------------------------- metrics (hand-computed)


def test_credit_is_capped_at_three_per_hit() -> None:
    assert credited([["a", "b", "c", "d"], ["e"]]) == {"a", "b", "c", "e"}
    assert recall(["d"], [["a", "b", "c", "d"]]) == 0.0  # a summary citing many turns cannot buy recall
    assert recall(["a", "d"], [["a", "b", "c", "d"], ["d"]]) == 1.0


def test_recall_at_k_by_hand() -> None:
    ev = ["D1:3", "D2:4"]
    ranked = [["D1:1"], ["D1:3"], ["D2:2"], ["D2:5"], ["D1:5"], ["D2:4"]]
    assert recall_at(ev, ranked, 1) == 0.0
    assert recall_at(ev, ranked, 2) == 0.5
    assert recall_at(ev, ranked, 5) == 0.5
    assert recall_at(ev, ranked, 10) == 1.0
    assert recall([], ranked) == 0.0


def test_aggregate_by_hand() -> None:
    # q1 (single-hop): evidence at rank 6 -> r@5 0, r@10 1, all@10 1
    # q2 (multi-hop): one of two found at rank 1, the other never -> 0.5 everywhere, all@10 0
    # q3 (temporal): found at rank 25 -> r@20 0, r@30 1
    q1 = QuestionResult("c", 0, 4, ("a",), [["x"]] * 5 + [["a"]], {256: [["a"]], 512: [["a"]]})
    q2 = QuestionResult("c", 1, 1, ("b", "c"), [["b"]] + [["y"]] * 40, {256: [], 512: [["b"], ["c"]]})
    q3 = QuestionResult("c", 2, 2, ("d",), [["z"]] * 24 + [["d"]], {256: [], 512: []})
    agg = aggregate([q1, q2, q3], budgets=(256, 512))
    ov = agg["overall"]
    assert ov["recall@5"] == pytest.approx((0 + 0.5 + 0) / 3, abs=1e-4)
    assert ov["recall@10"] == pytest.approx((1 + 0.5 + 0) / 3, abs=1e-4)
    assert ov["recall@20"] == pytest.approx((1 + 0.5 + 0) / 3, abs=1e-4)
    assert ov["recall@30"] == pytest.approx((1 + 0.5 + 1) / 3, abs=1e-4)
    assert ov["all@10"] == pytest.approx(1 / 3, abs=1e-4)
    assert ov["budget@256"] == pytest.approx(1 / 3, abs=1e-4)
    assert ov["budget@512"] == pytest.approx((1 + 1 + 0) / 3, abs=1e-4)
    assert ov["questions"] == 3
    cats = agg["by_category"]
    assert set(cats) == {"multi-hop", "temporal", "open-domain", "single-hop"}
    assert cats["single-hop"]["recall@10"] == 1.0
    assert cats["multi-hop"]["recall@10"] == 0.5 and cats["multi-hop"]["all@10"] == 0.0
    assert cats["temporal"]["recall@30"] == 1.0 and cats["temporal"]["recall@20"] == 0.0
    assert cats["open-domain"]["questions"] == 0 and cats["open-domain"]["recall@10"] == 0.0


def test_percentile_matches_numpy_linear() -> None:
    xs = [5.0, 1.0, 3.0, 2.0, 4.0]
    assert percentile(xs, 50) == 3.0
    assert percentile(xs, 95) == pytest.approx(4.8)
    assert percentile([], 50) == 0.0


def test_rrf_by_hand() -> None:
    # 0: 1/61+1/62, 1: 1/62+1/63, 2: 1/63+1/61  ->  0 > 2 > 1
    assert rrf([[0, 1, 2], [2, 0, 1]], k=60) == [0, 2, 1]
    assert rrf([[3, 4], [4]], k=60) == [4, 3]


def test_pack_greedy_skips_what_does_not_fit() -> None:
    short = [Item(f"fact number {i}", (f"D1:{i}",)) for i in range(20)]
    long = Item("word " * 300, ("D9:9",))
    packed = pack_greedy([short[0], long, *short[1:]], 40)
    assert long not in packed and packed[0] is short[0]
    assert count_tokens(render_lines(packed)) <= 40
    assert len(packed) > 3
    assert pack_greedy(short, 0) == []


# --------------------------------------------------------------------------- systems


def test_bm25_turns_is_predictable(conv: lm.LocomoConversation) -> None:
    system = TurnIndexSystem("bm25")
    system.ingest(conv)
    top = system.search("What is the name of Ana's kitten?", 3)
    assert top[0].source_ids == ("D1:1",) and top[0].text.startswith("Ana: ")
    assert system.search("cello", 1)[0].source_ids == ("D2:4",)
    ctx = system.context("Toronto sister", 30)
    assert ctx and ctx[0].source_ids == ("D2:3",)
    assert system.context_tokens(ctx) <= 30
    system.close()


def test_turn_systems_evaluate_tiny(conv: lm.LocomoConversation) -> None:
    emb = HashingEmbedder(256)
    for mode in ("bm25", "dense", "fused"):
        _, results = lm.evaluate_conversation(TurnIndexSystem(mode, emb), conv)
        assert [r.index for r in results] == [0, 1, 2, 5]
        # 10 turns in all: every budget >= 256 tokens holds the whole conversation
        for r in results:
            assert r.metrics()["recall@30"] == 1.0
            assert r.metrics()["budget@256"] == 1.0


# --------------------------------------------------------------------------- CLI + report


def _run_cli(tmp_path: Path, system: str, *extra: str) -> dict:
    from memo_bench.cli import main

    out = tmp_path / f"{system}.json"
    code = main(
        [
            "locomo",
            "--data",
            str(TINY),
            "--out",
            str(out),
            "--system",
            system,
            "--embedder",
            "hashing",
            "--no-progress",
            *extra,
        ]
    )
    assert code == 0
    return json.loads(out.read_text())


def test_a_run_with_another_embedder_is_labelled_and_reported_apart(tmp_path: Path) -> None:
    """`--embedder e5` (the real model, a dev dependency) is a variant of the system, never mixed
    with its default run; the hashing embedder of the tests is none."""
    from memo_bench.report import locomo_markdown

    e5 = _run_cli(tmp_path, "fused-turns", "--embedder", "e5")
    plain = _run_cli(tmp_path, "bm25-turns")
    assert e5["variant"] == "e5 embedder" and e5["config"]["embedder"] == "e5"
    assert "variant" not in plain
    md = locomo_markdown("tiny_locomo", [e5, plain])
    assert "| fused-turns (e5 embedder) |" in md and "| bm25-turns |" in md


@pytest.mark.parametrize("system", ["bm25-turns", "fused-turns"])
def test_cli_writes_all_keys(tmp_path: Path, system: str) -> None:
    report = _run_cli(tmp_path, system)
    assert set(report) >= REQUIRED_KEYS
    assert set(report["overall"]) >= METRIC_KEYS
    assert set(report["by_category"]) == {"multi-hop", "temporal", "open-domain", "single-hop"}
    for cat in report["by_category"].values():
        assert set(cat) >= METRIC_KEYS
    assert report["system"] == system
    assert report["questions"] == 4 and report["skipped_questions"] == 1
    assert set(report["search_ms"]) == {"p50", "p95"}
    assert report["ingest_turns_per_s"] > 0
    assert report["full_context_tokens_mean"] == pytest.approx(count_tokens(load_locomo(TINY)[0].full_text()))
    assert report["overall"]["recall@30"] == 1.0
    assert report["config"]["data"]["name"] == "tiny_locomo.json"


@pytest.mark.parametrize("system", ["langchain-legacy", "llamaindex"])
def test_cli_runs_the_peers_installed_by_the_bench_extra(tmp_path: Path, system: str) -> None:
    """The peers that share our environment run on a fresh install (a missing one fails: exit code 3)."""
    report = _run_cli(tmp_path, system)
    assert report["system"] == system and report["questions"] == 4
    assert set(report["overall"]) >= METRIC_KEYS
    assert 0.0 < report["overall"]["recall@30"] <= 1.0
    if system == "langchain-legacy":  # every raw turn is a document: all evidence of the tiny file is found
        assert report["overall"]["recall@30"] == 1.0


def test_cli_memo_system(tmp_path: Path) -> None:
    report = _run_cli(tmp_path, "memo")
    assert set(report) >= REQUIRED_KEYS
    assert report["questions"] == 4
    assert all(0.0 <= report["overall"][k] <= 1.0 for k in METRIC_KEYS)
    used = report["budget_tokens_used_mean"]
    assert all(used[f"budget@{b}"] <= b for b in (256, 512, 1024, 2048, 4096))


def test_uuid_ids_are_what_the_system_sees_and_are_scored_as_locomo_ids(
    conv: lm.LocomoConversation, tmp_path: Path
) -> None:
    fed, back = lm.with_uuid_ids(conv)
    assert len(back) == len(conv.turns) and all(len(t.dia_id) == 36 for t in fed.turns)
    assert [back[t.dia_id] for t in fed.turns] == [t.dia_id for t in conv.turns]
    seen: list[str] = []

    class Spy(TurnIndexSystem):
        def ingest(self, c: lm.LocomoConversation, progress: object = None) -> None:
            seen.extend(t.dia_id for t in c.turns)
            super().ingest(c, progress)  # type: ignore[arg-type]

    _, plain = lm.evaluate_conversation(TurnIndexSystem("bm25", HashingEmbedder(256)), conv)
    _, uuids = lm.evaluate_conversation(Spy("bm25", HashingEmbedder(256)), conv, uuid_ids=True)
    assert seen == [t.dia_id for t in fed.turns]
    assert [r.metrics() for r in uuids] == [r.metrics() for r in plain]  # scored in LoCoMo's ids
    report = _run_cli(tmp_path, "memo", "--ids", "uuid")
    assert report["config"]["message_ids"] == "uuid" and report["overall"]["recall@30"] > 0


def test_cli_memo_ablation_overrides(tmp_path: Path) -> None:
    report = _run_cli(
        tmp_path, "memo", "--set", "extraction.extract=false", "--set", "scoring.mmr_enabled=false"
    )
    cfg = report["config"]["system"]
    assert cfg["memo_overrides"] == {"extraction": {"extract": False}, "scoring": {"mmr_enabled": False}}
    assert (
        cfg["memo_config"]["extraction"]["extract"] is False
        and cfg["memo_config"]["scoring"]["mmr_enabled"] is False
    )
    assert "--set" in report["command"]


@pytest.mark.parametrize(
    "bad", [["--set", "scoring.no_such_weight=1"], ["--set", "novalue"], ["--set", "scoring.rrf_k=-3"]]
)
def test_cli_memo_bad_override_is_a_usage_error(tmp_path: Path, bad: list[str]) -> None:
    from memo_bench.cli import main

    argv = ["locomo", "--data", str(TINY), "--out", str(tmp_path / "x.json"), "--embedder", "hashing", *bad]
    assert main([*argv, "--no-progress"]) == 2
    assert not (tmp_path / "x.json").exists()


def test_report_tables(tmp_path: Path) -> None:
    from memo_bench.report import locomo_markdown, write_reports

    results = tmp_path / "results"
    results.mkdir()
    for system in ("bm25-turns", "fused-turns"):
        rep = _run_cli(tmp_path, system)
        (results / f"tiny.{system}.json").write_text(json.dumps(rep))
    md = locomo_markdown("tiny_locomo", [json.loads(p.read_text()) for p in sorted(results.glob("*.json"))])
    assert "| bm25-turns |" in md and "| fused-turns |" in md and "Machine:" in md
    import matplotlib  # noqa: F401  (the bench extra; CI installs it: a missing one must fail)

    written = write_reports(results)
    names = {p.name for p in written}
    assert {"locomo-tiny_locomo.md", "locomo-tiny_locomo-budget.png"} <= names


def test_ablation_report(tmp_path: Path) -> None:
    from memo_bench.report import write_reports

    results = tmp_path / "results"
    (results / "ablations").mkdir(parents=True)
    for name, extra in (("default", ()), ("nolex", ("--set", "scoring.lexical_enabled=false"))):
        rep = _run_cli(tmp_path, "memo", *extra)
        (results / "ablations" / f"tiny.memo-{name}.json").write_text(json.dumps(rep))
    written = write_reports(results, plots=False)
    md = (results / "ablations.md").read_text()
    assert results / "ablations.md" in written
    rows = {line.split(" | ")[0]: line for line in md.splitlines() if line.startswith("| ")}
    assert "| none (default)" in rows and "| scoring.lexical_enabled=false" in rows
    base, off = (
        json.loads((results / "ablations" / f"tiny.memo-{n}.json").read_text()) for n in ("default", "nolex")
    )
    want = off["overall"]["recall@10"] - base["overall"]["recall@10"]
    assert f"{want:+.3f}" in rows["| scoring.lexical_enabled=false"]


def test_git_sha_is_the_checked_out_commit_also_in_a_worktree() -> None:
    import subprocess

    from memo_bench.runinfo import REPO_ROOT, git_sha

    if not (REPO_ROOT / ".git").exists():  # an unpacked sdist: no commit to name
        assert git_sha() is None
        return
    head = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"], capture_output=True, text=True)
    assert git_sha() == head.stdout.strip()
