"""`memo bench ...`: argparse wiring for the benchmarks.

The `memo` CLI calls `register(subparsers)`; every subcommand sets `func(args) -> int`.
`python -m memo_bench locomo ...` works too (see `__main__.py`).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .runinfo import (  # noqa: F401 - re-exported: the benchmarks' shared run record
    REPO_ROOT,
    RESULTS_DIR,
    _command,
    _run_info,
    _write_json,
    git_sha,
    machine_info,
    sha256_file,
)

PEERS_VENV = REPO_ROOT / "benchmarks" / "peers-venv"


# --------------------------------------------------------------------------- helpers


def _variant(args: argparse.Namespace, uses_embedder: bool) -> dict[str, str]:
    """What sets a run apart from the default run of its system (the report's label). The hashing
    embedder of the tests is no variant: its runs are never published."""
    parts = ["UUID message ids"] if args.ids == "uuid" else []
    if (
        uses_embedder
        and args.embedder not in ("minilm", "hashing")
        and not args.embedder.startswith("hashing-")
    ):
        parts.append(f"{args.embedder} embedder")
    return {"variant": ", ".join(parts)} if parts else {}


def _rerun_in_peers_env(subcommand: str, argv: list[str], command_line: str) -> int | None:
    """Run this subcommand with the peers venv's Python (None when there is no such venv)."""
    py = PEERS_VENV / "bin" / "python"
    if not py.is_file():
        return None
    print(f"[bench] running in {PEERS_VENV} (its pins clash with this environment)", file=sys.stderr)
    cmd = [str(py), "-m", "memo_bench", subcommand, *argv, "--command-line", command_line]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
    return subprocess.call(cmd, env=env)


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """`scoring.mmr_enabled=false` -> {"scoring": {"mmr_enabled": False}} (values are JSON, else strings)."""
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--set expects KEY=VALUE (e.g. scoring.mmr_enabled=false), got {item!r}")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        node = out
        *parents, leaf = key.strip().split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return out


def _check_system(name: str, subcommand: str, argv: list[str], args: argparse.Namespace) -> int | None:
    """None: run here. An int: the exit code (ran elsewhere, or cannot run)."""
    from .systems import SYSTEMS, missing_modules

    spec = SYSTEMS.get(name)
    if spec is None:
        print(f"unknown system {name!r}; choose from {', '.join(SYSTEMS)}", file=sys.stderr)
        return 2
    missing = missing_modules(spec)
    if not missing:
        return None
    if spec.own_env:
        code = _rerun_in_peers_env(subcommand, argv, _command(args))
        if code is not None:
            return code
        hint = "bash benchmarks/setup_peers.sh"
    else:
        hint = "pip install 'memo-memory[bench]'"
    print(f"system {name!r} needs {', '.join(missing)}: {hint}", file=sys.stderr)
    return 3


# --------------------------------------------------------------------------- locomo


def cmd_locomo(args: argparse.Namespace) -> int:
    argv = [
        "--data",
        str(args.data),
        "--out",
        str(args.out),
        "--system",
        args.system,
        "--embedder",
        args.embedder,
    ]
    if args.limit is not None:
        argv += ["--limit", str(args.limit)]
    for item in args.set or []:
        argv += ["--set", item]
    if args.no_progress:
        argv.append("--no-progress")
    if args.set and args.system != "memo":
        print("--set only applies to --system memo", file=sys.stderr)
        return 2
    try:
        overrides = parse_overrides(args.set or [])
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    code = _check_system(args.system, "locomo", argv, args)
    if code is not None:
        return code

    from .locomo import BUDGETS, K_VALUES, MAX_CREDIT_PER_HIT, load_locomo, run_locomo
    from .systems import SYSTEMS, make_embedder, system_factory

    data = Path(args.data)
    conversations = load_locomo(data)
    if args.limit is not None:
        conversations = conversations[: args.limit]
    spec = SYSTEMS[args.system]
    embedder = make_embedder(args.embedder) if spec.uses_embedder else None
    try:
        factory, sys_cfg = system_factory(args.system, embedder, overrides)
    except ValueError as exc:  # a MemoConfig that does not validate
        print(f"invalid --set: {exc}", file=sys.stderr)
        return 2
    started = datetime.now(timezone.utc)
    machine = machine_info()
    t0 = time.perf_counter()
    report = run_locomo(
        conversations,
        factory,
        system_name=args.system,
        show_progress=not args.no_progress,
        uuid_ids=args.ids == "uuid",
    )
    out: dict[str, Any] = {
        **report,
        **_variant(args, spec.uses_embedder),
        "config": {
            "system": sys_cfg,
            "data": {"path": str(data), "name": data.name, "sha256": sha256_file(data)},
            "k": list(K_VALUES),
            "budgets": list(BUDGETS),
            "max_credit_per_hit": MAX_CREDIT_PER_HIT,
            "tokenizer": "tiktoken cl100k_base",
            "message_ids": args.ids,
            "embedder": args.embedder if spec.uses_embedder else None,
        },
        **_run_info(args, machine, t0),
        "started_at": started.isoformat(timespec="seconds"),
    }
    _write_json(Path(args.out), out)
    ov = out["overall"]
    print(
        f"{args.system}: {out['questions']} questions, recall@5/10/20/30 = "
        f"{ov['recall@5']:.3f}/{ov['recall@10']:.3f}/{ov['recall@20']:.3f}/{ov['recall@30']:.3f}, "
        f"budget@1024/2048/4096 = {ov['budget@1024']:.3f}/{ov['budget@2048']:.3f}/{ov['budget@4096']:.3f}, "
        f"search p50 {out['search_ms']['p50']:.1f} ms -> {args.out}",
        file=sys.stderr,
    )
    return 0


# --------------------------------------------------------------------------- scale


def cmd_scale(args: argparse.Namespace) -> int:
    sizes = [int(x.replace("_", "")) for x in str(args.n).split(",") if x.strip()]
    argv = ["--n", ",".join(map(str, sizes)), "--out", str(args.out), "--system", args.system]
    argv += ["--embedder", args.embedder, "--queries", str(args.queries), "--seed", str(args.seed)]
    argv += ["--timeout", str(args.timeout), "--memo-consolidate", args.memo_consolidate]
    if args.no_progress:
        argv.append("--no-progress")
    code = _check_system(args.system, "scale", argv, args)
    if code is not None:
        return code
    from .scale import run_scale

    machine = machine_info()
    t0 = time.perf_counter()
    report = run_scale(
        args.system,
        sizes,
        embedder=args.embedder,
        queries=args.queries,
        seed=args.seed,
        show_progress=not args.no_progress,
        timeout_s=args.timeout,
        consolidate=args.memo_consolidate == "on",
    )
    out = {
        **report,
        **_run_info(args, machine, t0),
    }
    _write_json(Path(args.out), out)
    for row in out["sizes"]:
        print(
            f"{args.system} N={row['n']}: {row.get('status', 'ok')} "
            f"ingest {row.get('ingest_per_s', 0):.0f}/s, search p50 {row.get('search_ms', {}).get('p50', 0):.1f} ms",
            file=sys.stderr,
        )
    return 0


def cmd_scale_worker(args: argparse.Namespace) -> int:
    from .scale import worker_main

    return worker_main(args)


# --------------------------------------------------------------------------- report


def cmd_report(args: argparse.Namespace) -> int:
    from .report import write_reports

    written = write_reports(Path(args.results))
    for path in written:
        print(path, file=sys.stderr)
    return 0


# --------------------------------------------------------------------------- wiring


def add_bench_subcommands(parser: argparse.ArgumentParser) -> None:
    from .systems import SYSTEMS

    sub = parser.add_subparsers(dest="bench_command")
    sub.required = True
    names = list(SYSTEMS)

    p = sub.add_parser("locomo", help="evidence recall on LoCoMo-format conversations")
    p.add_argument("--data", required=True, help="a LoCoMo-format JSON file (a list of conversations)")
    p.add_argument("--out", required=True, help="where to write the results JSON")
    p.add_argument("--system", default="memo", choices=names)
    p.add_argument(
        "--embedder",
        default="minilm",
        help="minilm (default, all systems), e5 (the optional multilingual-e5-small) or hashing (tests)",
    )
    p.add_argument("--limit", type=int, default=None, help="only the first N conversations")
    p.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="memo only: override a MemoConfig field, e.g. --set scoring.mmr_enabled=false (repeatable; ablations)",
    )
    p.add_argument(
        "--ids",
        choices=["locomo", "uuid"],
        default="locomo",
        help="message ids the system sees: LoCoMo's short ones (D1:3) or UUIDs, as applications send",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--command-line", default=None, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_locomo)

    p = sub.add_parser("scale", help="ingest rate, search latency, RSS and disk against N")
    p.add_argument("--n", default="1000,10000,100000", help="comma-separated sizes")
    p.add_argument("--out", required=True)
    p.add_argument("--system", default="memo", choices=names)
    p.add_argument("--embedder", default="minilm")
    p.add_argument("--queries", type=int, default=200, help="timed searches per size")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds per size before it is abandoned")
    p.add_argument(
        "--memo-consolidate",
        choices=["on", "off"],
        default="on",
        help="memo only: remember_many with consolidation (MeMo's default) or without",
    )
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--command-line", default=None, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_scale)

    p = sub.add_parser("scale-worker", help=argparse.SUPPRESS)
    p.add_argument("--system", required=True)
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--embedder", default="minilm")
    p.add_argument("--queries", type=int, default=200)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--dir", required=True)
    p.add_argument("--memo-consolidate", choices=["on", "off"], default="on")
    p.add_argument("--out", required=True)
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=cmd_scale_worker)

    from .adapters import add_parser as add_adapters_parser  # memo bench adapters (langchain helper)

    add_adapters_parser(sub)

    from .loop import add_parser as add_loop  # core's `memo bench loop` (issue #13)

    add_loop(sub)

    p = sub.add_parser("report", help="write the Markdown tables and PNG plots from results JSONs")
    p.add_argument("--results", default=str(RESULTS_DIR))
    p.set_defaults(func=cmd_report)

    from .soak import add_parser as add_soak_parser  # store's `memo bench soak`

    add_soak_parser(sub)

    from .isolation import add_parser as add_isolation_parser  # `memo bench isolation` (issue #18)

    add_isolation_parser(sub)
    # keep last: the usage lists every subcommand registered above (hidden ones excepted)
    list_visible_subcommands(sub)


def list_visible_subcommands(sub: Any) -> None:
    """Set the subparsers' metavar to `{a,b,...}` of every registered subcommand that is not
    hidden (`help=argparse.SUPPRESS`), so the usage line is computed, never a stale literal."""
    hidden = {a.dest for a in sub._choices_actions if a.help == argparse.SUPPRESS}
    sub.metavar = "{" + ",".join(name for name in sub.choices if name not in hidden) + "}"


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add `bench` to the `memo` CLI's subparsers."""
    parser: argparse.ArgumentParser = subparsers.add_parser("bench", help="benchmarks: LoCoMo recall, scale")
    add_bench_subcommands(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m memo_bench", description="MeMo benchmarks")
    add_bench_subcommands(parser)
    args = parser.parse_args(argv)
    if getattr(args, "command_line", None) is None and hasattr(args, "command_line"):
        args.command_line = shlex.join(
            ["python", "-m", "memo_bench", *(argv if argv is not None else sys.argv[1:])]
        )
    return int(args.func(args))
