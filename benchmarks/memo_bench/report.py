"""Side-by-side Markdown tables and PNG plots from the results JSONs of `memo bench`.

    memo bench report [--results benchmarks/results]

LoCoMo results (JSONs with `overall`) are grouped by data file: `<data>.md` and
`<data>-budget.png` (recall against token budget, every system). Scale results (JSONs with
`sizes`) give `scale.md`, `scale-latency.png` and `scale-ingest.png`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .locomo import BUDGETS, CATEGORIES, K_VALUES

SYSTEM_ORDER = ["memo", "fused-turns", "bm25-turns", "dense-turns", "mem0", "langchain-legacy", "llamaindex"]


def label(r: dict[str, Any]) -> str:
    return f"{r['system']} ({r['variant']})" if r.get("variant") else str(r["system"])


def _order(name: str) -> tuple[int, str]:
    return (SYSTEM_ORDER.index(name) if name in SYSTEM_ORDER else len(SYSTEM_ORDER), name)


def load_results(results_dir: Path) -> tuple[dict[str, list[dict[str, Any]]], list[dict[str, Any]]]:
    """LoCoMo results grouped by data file stem, and the scale results."""
    locomo: dict[str, list[dict[str, Any]]] = defaultdict(list)
    scale: list[dict[str, Any]] = []
    for path in sorted(results_dir.glob("*.json")):
        try:
            obj = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if not isinstance(obj, dict) or "system" not in obj:
            continue
        obj["_file"] = path.name
        if "overall" in obj:
            data = ((obj.get("config") or {}).get("data") or {}).get("name") or "locomo.json"
            locomo[Path(data).stem].append(obj)
        elif "sizes" in obj:
            scale.append(obj)
    for runs in locomo.values():
        runs.sort(key=lambda r: (_order(r["system"]), r.get("variant") or ""))
    scale.sort(key=lambda r: (_order(r["system"]), r.get("variant") or ""))
    return dict(locomo), scale


def _f(x: Any, digits: int = 3) -> str:
    return f"{x:.{digits}f}" if isinstance(x, (int, float)) else "–"


def _load(r: dict[str, Any]) -> str:
    start = ((r.get("machine") or {}).get("loadavg_1_5_15") or [None])[0]
    end = (r.get("loadavg_at_end") or [None])[0]
    return f"load {_f(start, 1)} -> {_f(end, 1)}"


def _machine(runs: Sequence[dict[str, Any]]) -> list[str]:
    seen: list[str] = []
    for r in runs:
        m = r.get("machine") or {}
        desc = (
            f"{m.get('platform', '?')}, {m.get('cpu', m.get('processor') or '?')}, {m.get('cpu_count', '?')} CPUs, "
            f"{m.get('memory_gib', '?')} GiB, Python {m.get('python', '?')}"
        )
        if desc not in seen:
            seen.append(desc)
    return seen


def _runs(runs: Sequence[dict[str, Any]], named: bool, folder: str = "") -> list[str]:
    """The "Runs" section: each run's command, git sha, time, load and file; then the machine."""
    lines = ["", "## Runs", ""]
    for r in runs:
        lines.append(
            ("- **" + label(r) + "**: " if named else "- ")
            + f"`{r.get('command', '?')}` (git {str(r.get('git_sha') or '?')[:12]}, {r.get('started_at', '?')}, "
            f"{_f(r.get('elapsed_s'), 0)} s, {_load(r)}, file `{folder}{r.get('_file')}`)"
        )
    return [*lines, "", "Machine: " + "; ".join(_machine(runs)), ""]


def locomo_markdown(stem: str, runs: Sequence[dict[str, Any]]) -> str:
    rk = [f"recall@{k}" for k in K_VALUES]
    bk = [f"budget@{b}" for b in BUDGETS]
    lines = [f"# LoCoMo evidence recall: `{stem}`", ""]
    data = (runs[0].get("config") or {}).get("data") or {}
    lines += [
        f"Data: `{data.get('name', stem)}` (sha256 `{data.get('sha256', '?')}`), "
        f"{runs[0].get('conversations', '?')} conversations, {runs[0].get('turns', '?')} turns, "
        f"{runs[0].get('questions', '?')} questions of categories 1-4 with evidence "
        f"({runs[0].get('skipped_questions', '?')} without resolvable evidence skipped; category 5 left out). "
        f"Mean full conversation: {_f(runs[0].get('full_context_tokens_mean'), 0)} cl100k tokens.",
        "",
        "A hit credits at most 3 source turns. recall@k: share of a question's evidence turns found in the top k, "
        "averaged over questions; all@10: share of questions with all evidence in the top 10; budget@B: recall "
        "of the context the system would inject within B cl100k tokens. Every system uses the same embedder "
        "(all-MiniLM-L6-v2 int8, 384-d) unless noted.",
        "",
        "## Overall",
        "",
        "| system | " + " | ".join([*rk, "all@10", *bk]) + " | ingest turns/s | search p50 / p95 ms |",
        "|---|" + "---:|" * (len(rk) + 1 + len(bk) + 2),
    ]
    for r in runs:
        ov = r["overall"]
        cells = [_f(ov.get(k)) for k in [*rk, "all@10", *bk]]
        sm = r.get("search_ms") or {}
        lines.append(
            f"| {label(r)} | "
            + " | ".join(cells)
            + f" | {_f(r.get('ingest_turns_per_s'), 1)} | {_f(sm.get('p50'), 1)} / {_f(sm.get('p95'), 1)} |"
        )
    lines += ["", "## Tokens actually used by each budget's context (mean)", ""]
    lines += ["| system | " + " | ".join(bk) + " |", "|---|" + "---:|" * len(bk)]
    for r in runs:
        used = r.get("budget_tokens_used_mean") or {}
        lines.append(f"| {label(r)} | " + " | ".join(_f(used.get(k), 0) for k in bk) + " |")
    for metric in ("recall@10", "budget@1024", "budget@4096"):
        lines += ["", f"## {metric} by category", ""]
        names = list(CATEGORIES.values())
        lines += ["| system | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
        for r in runs:
            cats = r.get("by_category") or {}
            lines.append(
                f"| {label(r)} | " + " | ".join(_f((cats.get(n) or {}).get(metric)) for n in names) + " |"
            )
        counts = (runs[0].get("by_category") or {}) if runs else {}
        lines.append("")
        lines.append(
            "Questions per category: "
            + ", ".join(f"{n} {(counts.get(n) or {}).get('questions', '?')}" for n in names)
            + "."
        )
    lines += _runs(runs, named=True)
    lines.append(f"Plot: `{stem}-budget.png` (recall against token budget).")
    return "\n".join(lines) + "\n"


def _overrides(r: dict[str, Any]) -> str:
    def flat(d: dict[str, Any], prefix: str = "") -> list[str]:
        out: list[str] = []
        for k, v in d.items():
            out += flat(v, f"{prefix}{k}.") if isinstance(v, dict) else [f"{prefix}{k}={json.dumps(v)}"]
        return out

    over = ((r.get("config") or {}).get("system") or {}).get("memo_overrides") or {}
    return ", ".join(flat(over)) or "none (default)"


def ablation_markdown(runs: Sequence[dict[str, Any]]) -> str:
    """What each part adds: MeMo runs that differ by `--set` overrides, against the default run."""
    base = next((r for r in runs if _overrides(r) == "none (default)"), None)
    names = list(CATEGORIES.values())
    keys = ["recall@10", "budget@1024", "budget@2048", "budget@4096"]
    lines = [
        "# Ablations: MeMo with one part switched off (or an opt-in part switched on)",
        "",
        "Each row is `memo bench locomo` with `--set` overrides of MeMo's default configuration (same data, "
        "same embedder); Δ is the change against the default run. A negative Δ is what a default part adds, "
        "or what an opt-in part (`scoring.aggregate_items`) costs.",
        "",
        "| override | "
        + " | ".join(keys)
        + " | Δ recall@10 | Δ budget@1024 | "
        + " | ".join(f"{n} r@10" for n in names)
        + " |",
        "|---|" + "---:|" * (len(keys) + 2 + len(names)),
    ]
    for r in sorted(runs, key=lambda r: (_overrides(r) != "none (default)", _overrides(r))):
        ov = r["overall"]
        cats = r.get("by_category") or {}
        deltas = [
            f"{ov[k] - base['overall'][k]:+.3f}" if base is not None and r is not base else "–"
            for k in ("recall@10", "budget@1024")
        ]
        lines.append(
            f"| {_overrides(r)} | "
            + " | ".join(_f(ov.get(k)) for k in keys)
            + " | "
            + " | ".join(deltas)
            + " | "
            + " | ".join(_f((cats.get(n) or {}).get("recall@10")) for n in names)
            + " |"
        )
    lines += _runs(runs, named=False, folder="ablations/")
    return "\n".join(lines) + "\n"


def _mib(x: Any) -> str:
    return f"{x / 2**20:.0f}" if isinstance(x, (int, float)) else "–"


def scale_markdown(runs: Sequence[dict[str, Any]]) -> str:
    lines = [
        "# Scale: the cost curve",
        "",
        "Synthetic memories for many users (about 50 each: facts, preferences, events, commitments from seeded "
        "templates). Each size runs in a fresh process; searches are scoped to one user (k = 10). "
        "`found@10` is a sanity check: the share of searches whose target memory came back in the top 10. "
        "In-memory baselines keep nothing on disk.",
        "",
        "| system | N | users | ingest /s | search p50 ms | search p95 ms | found@10 | peak RSS MiB | disk MiB | status |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in runs:
        for row in r.get("sizes", []):
            sm = row.get("search_ms") or {}
            disk = _mib(row.get("disk_bytes")) if row.get("persistent", True) else "in memory"
            lines.append(
                f"| {label(r)} | {row.get('n')} | {row.get('users', '–')} | {_f(row.get('ingest_per_s'), 0)} | "
                f"{_f(sm.get('p50'), 1)} | {_f(sm.get('p95'), 1)} | {_f(row.get('target_in_top10'), 2)} | "
                f"{_mib(row.get('peak_rss_bytes'))} | {disk} | {row.get('status', 'ok')} |"
            )
    lines += ["", "## Runs", ""]
    for r in runs:
        lines.append(
            f"- **{r['system']}**: `{r.get('command', '?')}` (git {str(r.get('git_sha') or '?')[:12]}, "
            f"{_f(r.get('elapsed_s'), 0)} s, {_load(r)}, file `{r.get('_file')}`)"
        )
    lines += ["", "Machine: " + "; ".join(_machine(runs)), ""]
    lines.append(
        "Plots: `scale-latency.png` (search p50/p95 against N), `scale-ingest.png` (ingest rate against N)."
    )
    return "\n".join(lines) + "\n"


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_budget(stem: str, runs: Sequence[dict[str, Any]], path: Path) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.8), dpi=120)
    markers = "osD^vP*Xh<>"
    drawn: list[tuple[str, list[Any]]] = []
    for i, r in enumerate(runs):
        ys = [r["overall"].get(f"budget@{b}") for b in BUDGETS]
        same = next((name for name, prev in drawn if prev == ys), None)
        name = label(r) if same is None else f"{label(r)} (= {same})"
        drawn.append((label(r), ys))
        ax.plot(
            BUDGETS,
            ys,
            marker=markers[i % len(markers)],
            markersize=9 - 1.5 * min(i, 4) if same else 6,
            linestyle=":" if same else "-",
            label=name,
            linewidth=2.6 if r["system"] == "memo" else 1.4,
        )
    full = runs[0].get("full_context_tokens_mean") if runs else None
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(BUDGETS), [str(b) for b in BUDGETS])
    ax.set_xlabel("context budget (cl100k tokens)")
    ax.set_ylabel("evidence recall")
    ax.set_ylim(0, 1)
    ax.grid(True, alpha=0.3)
    title = f"LoCoMo ({stem}): recall within a token budget"
    if isinstance(full, (int, float)):
        title += f"\nfull conversation ≈ {full:,.0f} tokens"
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_scale(runs: Sequence[dict[str, Any]], latency_path: Path, ingest_path: Path) -> None:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7.5, 4.8), dpi=120)
    for i, r in enumerate(runs):
        rows = [x for x in r.get("sizes", []) if x.get("status") == "ok"]
        if not rows:
            continue
        ns = [x["n"] for x in rows]
        color = f"C{i % 10}"
        ax.plot(ns, [x["search_ms"]["p50"] for x in rows], marker="o", color=color, label=f"{label(r)} p50")
        ax.plot(
            ns,
            [x["search_ms"]["p95"] for x in rows],
            marker="x",
            color=color,
            linestyle="--",
            label=f"{label(r)} p95",
        )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("memories stored (N)")
    ax.set_ylabel("search latency (ms)")
    ax.set_title("Search latency against N (one user's scope, k = 10)", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(latency_path)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7.5, 4.8), dpi=120)
    for i, r in enumerate(runs):
        rows = [x for x in r.get("sizes", []) if x.get("status") == "ok"]
        if rows:
            ax.plot(
                [x["n"] for x in rows],
                [x["ingest_per_s"] for x in rows],
                marker="o",
                color=f"C{i % 10}",
                label=label(r),
            )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("memories stored (N)")
    ax.set_ylabel("ingest rate (memories / s)")
    ax.set_title("Ingest throughput against N", fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(ingest_path)
    plt.close(fig)


def write_reports(results_dir: Path, plots: bool = True) -> list[Path]:
    results_dir.mkdir(parents=True, exist_ok=True)
    locomo, scale = load_results(results_dir)
    written: list[Path] = []
    for stem, runs in locomo.items():
        md = results_dir / f"{stem if stem.startswith('locomo') else 'locomo-' + stem}.md"
        md.write_text(locomo_markdown(stem, runs), encoding="utf-8")
        written.append(md)
        if plots:
            png = md.with_name(md.stem + "-budget.png")
            plot_budget(stem, runs, png)
            written.append(png)
    ablations = results_dir / "ablations"
    if ablations.is_dir():
        runs = [r for rs in load_results(ablations)[0].values() for r in rs if r.get("system") == "memo"]
        if runs:
            md = results_dir / "ablations.md"
            md.write_text(ablation_markdown(runs), encoding="utf-8")
            written.append(md)
    if scale:
        md = results_dir / "scale.md"
        md.write_text(scale_markdown(scale), encoding="utf-8")
        written.append(md)
        if plots:
            lat, ing = results_dir / "scale-latency.png", results_dir / "scale-ingest.png"
            plot_scale(scale, lat, ing)
            written += [lat, ing]
    return written
