"""The scale benchmark: the synthetic generator, one in-process measurement, and the size loop."""

from __future__ import annotations

import json
from pathlib import Path

from memo_bench import scale


def test_generate_is_deterministic_and_sized() -> None:
    a = scale.generate(230, seed=3)
    b = scale.generate(230, seed=3)
    assert a == b
    assert len(a) == 230
    users = {m.user for m in a}
    assert len(users) == 5  # ceil(230 / 50)
    assert {m.kind for m in scale.generate(2000, seed=1)} == {"fact", "preference", "event", "commitment"}
    assert scale.generate(230, seed=4) != a
    assert all(m.text and m.question.endswith("?") for m in a)
    assert len({m.text for m in scale.generate(5000)}) > 4500  # varied, not a handful of strings


def test_measure_in_process(tmp_path: Path) -> None:
    row = scale.measure("bm25-turns", 120, tmp_path, embedder_name="hashing", queries=20, show_progress=False)
    assert row["status"] == "ok" and row["n"] == 120 and row["users"] == 3
    assert row["ingest_per_s"] > 0 and row["queries"] == 20
    assert 0 < row["search_ms"]["p50"] <= row["search_ms"]["p95"]
    assert row["peak_rss_bytes"] > 0 and row["disk_bytes"] == 0 and row["persistent"] is False
    assert row["target_in_top10"] > 0.5


def test_run_scale_records_timeouts_and_skips() -> None:
    calls: list[list[str]] = []

    def fake_runner(cmd: list[str], timeout: float | None) -> int:
        calls.append(cmd)
        n = int(cmd[cmd.index("--n") + 1])
        if n >= 1000:
            return -9
        out = Path(cmd[cmd.index("--out") + 1])
        out.write_text(json.dumps({"n": n, "status": "ok"}))
        return 0

    rep = scale.run_scale("memo", [10, 1000, 10000], runner=fake_runner, timeout_s=5)
    assert [r["status"] for r in rep["sizes"]] == [
        "ok",
        "timeout (> 5 s)",
        "skipped (a smaller size timed out)",
    ]
    assert len(calls) == 2 and "scale-worker" in calls[0]


def test_scale_report_table(tmp_path: Path) -> None:
    from memo_bench.report import scale_markdown

    rows = [
        {"n": 1000, "status": "ok", "users": 20, "ingest_per_s": 500.0, "search_ms": {"p50": 2.0, "p95": 3.0},
         "target_in_top10": 0.9, "peak_rss_bytes": 300 * 2**20, "disk_bytes": 6 * 2**20, "persistent": True},
        {"n": 10000, "status": "timeout (> 5 s)"},
    ]  # fmt: skip
    md = scale_markdown([{"system": "memo", "sizes": rows, "command": "memo bench scale"}])
    assert "| memo | 1000 | 20 | 500 | 2.0 | 3.0 | 0.90 | 300 | 6 | ok |" in md
    assert "timeout" in md
    from memo_bench.report import plot_scale

    plot_scale([{"system": "memo", "sizes": rows}], tmp_path / "lat.png", tmp_path / "ing.png")
    assert (tmp_path / "lat.png").stat().st_size > 0
