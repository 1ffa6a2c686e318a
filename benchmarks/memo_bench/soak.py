"""Reliability benchmarks of the store.

`memo bench soak --minutes N`: writes and searches against a loopback Chroma server for a bounded
time; p50/p95/p99 latency, errors and RSS (client and server) per interval and overall.

`memo bench erasure-cost --turns 2000,10000`: what a physical erasure costs on an embedded store
of N raw turns (delete, log scrub, VACUUM, HNSW zeroing, byte scan) and what a later
`verify_erasure` costs.

Loopback only: it starts its own `chroma run --host 127.0.0.1` in a temporary directory unless
`--port` names one already running on 127.0.0.1. Results go to `benchmarks/results/soak.json` and
`soak.md` with the command and the machine.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

MAX_MINUTES = 240.0
TOPICS = [
    "the ferry to Bergen",
    "a grey kitten",
    "the garden shed",
    "her sister Ana",
    "the quarterly report",
    "a trip to Lisbon",
    "the piano lessons",
    "a broken bicycle",
    "the new apartment",
    "the marathon",
]


def _rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_server(data: Path, port: int) -> subprocess.Popen[bytes]:
    exe = Path(sys.executable).parent / "chroma"
    cmd = [
        str(exe) if exe.exists() else (shutil.which("chroma") or "chroma"),
        "run",
        "--path",
        str(data),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):  # loopback only: the port answers
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"chroma run did not start on 127.0.0.1:{port}")


def _pcts(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None}  # type: ignore[dict-item]
    a = np.asarray(values) * 1000
    return {
        "n": len(values),
        "p50_ms": round(float(np.percentile(a, 50)), 2),
        "p95_ms": round(float(np.percentile(a, 95)), 2),
        "p99_ms": round(float(np.percentile(a, 99)), 2),
        "max_ms": round(float(a.max()), 2),
    }


def run(
    minutes: float,
    port: int | None,
    interval: float,
    search_ratio: float,
    users: int,
    seed: int,
    embedder: str,
    timeout: float,
    retries: int,
) -> dict[str, Any]:
    from shared_core import Memory, Scope
    from shared_core.embed import HashingEmbedder, default_embedder
    from shared_core.errors import MemoError
    from shared_core.store.chroma import ChromaStore
    from shared_core.store.chroma_audit import audit_log_for

    rng = random.Random(seed)
    tmp = Path(tempfile.mkdtemp(prefix="memo-soak-"))
    own = port is None
    port = port or _free_port()
    server = _start_server(tmp / "data", port) if own else None
    emb = HashingEmbedder() if embedder == "hashing" else default_embedder()
    store = ChromaStore.server(
        "127.0.0.1", port, dim=emb.dim, embedder_name=emb.name, timeout=timeout, retries=retries
    )
    mem = Memory(store, embedder=emb, audit=audit_log_for(store))
    scopes = [Scope(tenant="soak", user=f"u{i}") for i in range(users)]
    windows: list[dict[str, Any]] = []
    writes: list[float] = []
    searches: list[float] = []
    errors: Counter[str] = Counter()
    end = time.monotonic() + minutes * 60
    t0 = time.monotonic()
    n = 0
    try:
        while time.monotonic() < end:
            w_lat: list[float] = []
            s_lat: list[float] = []
            w_end = min(end, time.monotonic() + interval)
            w_err = 0
            while time.monotonic() < w_end:
                scope = rng.choice(scopes)
                topic = rng.choice(TOPICS)
                started = time.perf_counter()
                try:
                    if rng.random() < search_ratio:
                        mem.search(f"what about {topic}?", scope=scope, k=5)
                        s_lat.append(time.perf_counter() - started)
                    else:
                        n += 1
                        turn = {
                            "role": "user",
                            "content": f"Note {n}: I talked about {topic} on day {n % 97}",
                            "id": f"m{n}",
                        }
                        mem.add_messages([turn], scope=scope, session_id=f"s{n // 50}")
                        w_lat.append(time.perf_counter() - started)
                except MemoError as exc:
                    errors[type(exc).__name__] += 1
                    w_err += 1
            writes += w_lat
            searches += s_lat
            windows.append(
                {
                    "t_s": round(time.monotonic() - t0, 1),
                    "writes": _pcts(w_lat),
                    "searches": _pcts(s_lat),
                    "errors": w_err,
                    "client_rss_mb": _rss_mb(os.getpid()),
                    "server_rss_mb": _rss_mb(server.pid) if server else None,
                }
            )
            last = windows[-1]
            print(
                f"[soak] t={last['t_s']:>6}s writes p50={last['writes']['p50_ms']} ms searches "
                f"p50={last['searches']['p50_ms']} ms errors={w_err} rss={last['client_rss_mb']} MB",
                flush=True,
            )
        audit_ok = mem.engine.audit.verify().ok if mem.engine.audit else None
        records = sum(len(mem.records(s)) for s in scopes)
        turns = sum(len(mem.records(s, kinds=["episode"])) for s in scopes)
    finally:
        mem.close()
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "minutes": minutes,
        "embedder": emb.name,
        "users": users,
        "search_ratio": search_ratio,
        "client": {"timeout_s": timeout, "retries": retries},
        "overall": {
            "writes": _pcts(writes),
            "searches": _pcts(searches),
            "errors": dict(errors),
            "ops_per_s": round((len(writes) + len(searches)) / max(1e-9, time.monotonic() - t0), 1),
            "records_at_end": records,
            "turns_at_end": turns,
            "acknowledged_writes": len(writes),
            "audit_chain_ok": audit_ok,
        },
        "windows": windows,
    }


def markdown(result: dict[str, Any]) -> str:
    o = result["overall"]
    rows = [
        "# Soak: writes and searches against a loopback Chroma server",
        "",
        f"Command: `{result['command']}`  ",
        f"Machine: {result['machine'].get('cpu')} ({result['machine'].get('cpu_count')} cores), "
        f"load {result['machine'].get('loadavg_1_5_15')} at start, {result.get('loadavg_at_end')} at end  ",
        f"Embedder {result['embedder']}, {result['users']} users, {int(result['search_ratio'] * 100)}% searches, "
        f"client timeout {result['client']['timeout_s']} s, retries {result['client']['retries']}",
        "",
        "| | n | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|",
    ]
    for kind in ("writes", "searches"):
        p = o[kind]
        rows.append(f"| {kind} | {p['n']} | {p['p50_ms']} | {p['p95_ms']} | {p['p99_ms']} | {p['max_ms']} |")
    rows += [
        "",
        f"Errors: {o['errors'] or 'none'}; {o['ops_per_s']} operations/s; {o['acknowledged_writes']} "
        f"acknowledged writes, {o['turns_at_end']} raw turns stored ({o['records_at_end']} records with extracted "
        f"memories) at the end; audit chain valid: {o['audit_chain_ok']}.",
        "",
        "| t (s) | writes p50/p99 ms | searches p50/p99 ms | errors | client RSS MB | server RSS MB |",
        "|---|---|---|---|---|---|",
    ]
    for w in result["windows"]:
        rows.append(
            f"| {w['t_s']} | {w['writes']['p50_ms']} / {w['writes']['p99_ms']} | {w['searches']['p50_ms']} / "
            f"{w['searches']['p99_ms']} | {w['errors']} | {w['client_rss_mb']} | {w['server_rss_mb']} |"
        )
    return "\n".join(rows) + "\n"


def cmd_soak(args: argparse.Namespace) -> int:
    from .runinfo import RESULTS_DIR, _run_info, _write_json, machine_info

    if not 0 < args.minutes <= MAX_MINUTES:
        raise SystemExit(f"--minutes must be in (0, {MAX_MINUTES:g}]")
    machine = machine_info()
    t0 = time.perf_counter()
    if args.writers:
        counts = [int(x) for x in args.writers.split(",") if x.strip()]
        rows = writers_run(counts, args.minutes * 60)
        result_w = {"writers": rows, **_run_info(args, machine, t0)}
        out_w = Path(args.out) if args.out else RESULTS_DIR / "soak-writers.json"
        _write_json(out_w, result_w)
        lines = [
            "# Several writer processes through one loopback Chroma server",
            "",
            f"Command: `{result_w['command']}`  ",
            f"Machine: {machine.get('cpu')} ({machine.get('cpu_count')} cores), "
            f"load {machine.get('loadavg_1_5_15')} at start, {result_w.get('loadavg_at_end')} at end",
            "",
            "| writers | writes/s | p50 ms | p99 ms | acknowledged | stored | lost | duplicated | audit chain | errors |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in rows:
            lines.append(
                f"| {r['writers']} | {r['writes_per_s']} | {r['latency']['p50_ms']} | {r['latency']['p99_ms']} | "
                f"{r['acknowledged']} | {r['stored_turns']} | {r['lost']} | {r['duplicated']} | "
                f"{'valid' if r['audit_chain_ok'] else 'BROKEN'} ({r['audit_events']}) | {r['errors'] or 'none'} |"
            )
        out_w.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"[soak] wrote {out_w}")
        return 0
    result = run(
        args.minutes,
        args.port,
        args.interval,
        args.search_ratio,
        args.users,
        args.seed,
        args.embedder,
        args.timeout,
        args.retries,
    )
    result.update(_run_info(args, machine, t0))
    out = Path(args.out) if args.out else RESULTS_DIR / "soak.json"
    _write_json(out, result)
    out.with_suffix(".md").write_text(markdown(result), encoding="utf-8")
    print(f"[soak] wrote {out} and {out.with_suffix('.md')}")
    return 0


def _worker(port: int, who: str, seconds: float, out: str) -> None:
    """One writer process of `writers_run`: add one turn at a time for `seconds`; write what was
    acknowledged (message ids) and the latencies to `out` as JSON."""
    import json

    from shared_core import Memory, Scope
    from shared_core.embed import HashingEmbedder
    from shared_core.errors import MemoError
    from shared_core.store.chroma import ChromaStore
    from shared_core.store.chroma_audit import audit_log_for

    emb = HashingEmbedder()
    store = ChromaStore.server("127.0.0.1", port, dim=emb.dim, embedder_name=emb.name)
    mem = Memory(store, embedder=emb, audit=audit_log_for(store))
    scope = Scope(tenant="soak", user=who)
    acked: list[str] = []
    lat: list[float] = []
    errors: Counter[str] = Counter()
    end = time.monotonic() + seconds
    i = 0
    while time.monotonic() < end:
        i += 1
        mid = f"{who}-{i}"
        started = time.perf_counter()
        try:
            mem.add_messages(
                [{"role": "user", "content": f"{who} note {i} about {TOPICS[i % len(TOPICS)]}", "id": mid}],
                scope=scope,
                session_id="s",
            )
        except MemoError as exc:
            errors[type(exc).__name__] += 1
            continue
        lat.append(time.perf_counter() - started)
        acked.append(mid)
    mem.close()
    Path(out).write_text(json.dumps({"acked": acked, "latencies": lat, "errors": dict(errors)}))


def writers_run(counts: list[int], seconds: float) -> list[dict[str, Any]]:
    """For each N: N writer processes through one loopback server for `seconds`; then every
    acknowledged turn is looked up (0 lost, 0 duplicated?) and the audit chain verified."""
    import json

    from shared_core import Memory, Scope
    from shared_core.embed import HashingEmbedder
    from shared_core.store.chroma import ChromaStore
    from shared_core.store.chroma_audit import audit_log_for

    rows = []
    for n in counts:
        tmp = Path(tempfile.mkdtemp(prefix="memo-writers-"))
        port = _free_port()
        server = _start_server(tmp / "data", port)
        try:
            env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
            procs = [
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "memo_bench.soak",
                        str(port),
                        f"w{k}",
                        str(seconds),
                        str(tmp / f"w{k}.json"),
                    ],
                    env=env,
                )
                for k in range(n)
            ]
            for p in procs:
                p.wait(timeout=seconds + 600)
            results = [json.loads((tmp / f"w{k}.json").read_text()) for k in range(n)]
            emb = HashingEmbedder()
            store = ChromaStore.server("127.0.0.1", port, dim=emb.dim, embedder_name=emb.name)
            mem = Memory(store, embedder=emb, audit=audit_log_for(store))
            lost = dup = stored = 0
            for k, r in enumerate(results):
                turns = mem.records(Scope(tenant="soak", user=f"w{k}"), kinds=["episode"])
                seen = Counter(
                    t.provenance.source_message_ids[0] for t in turns if t.provenance.source_message_ids
                )
                lost += sum(1 for mid in r["acked"] if seen[mid] == 0)
                dup += sum(1 for c in seen.values() if c > 1)
                stored += len(turns)
            audit = mem.engine.audit.verify() if mem.engine.audit else None
            mem.close()
            acked = sum(len(r["acked"]) for r in results)
            rows.append(
                {
                    "writers": n,
                    "seconds": seconds,
                    "acknowledged": acked,
                    "stored_turns": stored,
                    "lost": lost,
                    "duplicated": dup,
                    "audit_chain_ok": bool(audit and audit.ok),
                    "audit_events": audit.count if audit else 0,
                    "writes_per_s": round(acked / seconds, 2),
                    "latency": _pcts([x for r in results for x in r["latencies"]]),
                    "errors": dict(sum((Counter(r["errors"]) for r in results), Counter())),
                }
            )
            print(f"[soak] writers={n}: {rows[-1]}", flush=True)
        finally:
            server.terminate()
            server.wait(timeout=30)
            shutil.rmtree(tmp, ignore_errors=True)
    return rows


def erasure_cost(turns: int, seed: int) -> dict[str, Any]:
    from shared_core import Memory, Scope
    from shared_core.embed import HashingEmbedder
    from shared_core.governance.access import Principal, Role

    dpo = Principal(id="dpo", role=Role.ADMIN)
    tmp = Path(tempfile.mkdtemp(prefix="memo-erasure-"))
    rng = random.Random(seed)
    try:
        mem = Memory.open(tmp / "store", embedder=HashingEmbedder())
        for i in range(0, turns, 200):
            batch = [
                {
                    "role": "user",
                    "content": f"Note {j}: I talked about {rng.choice(TOPICS)} on day {j % 97}",
                    "id": f"m{j}",
                }
                for j in range(i, min(turns, i + 200))
            ]
            mem.add_messages(batch, scope=Scope(tenant="t", user=f"u{(i // 200) % 10}"), session_id="s")
        alice = Scope(tenant="t", user="alice")
        mem.add_messages(
            [
                {
                    "role": "user",
                    "content": f"Alice's private note {j}: the violet harbour key",
                    "id": f"a{j}",
                }
                for j in range(20)
            ],
            scope=alice,
            session_id="s",
        )
        size = sum(f.stat().st_size for f in (tmp / "store").rglob("*") if f.is_file())
        t = time.perf_counter()
        report = mem.governor.forget_user(dpo, alice)
        forget_s = time.perf_counter() - t
        t = time.perf_counter()
        again = mem.governor.verify_erasure(dpo, alice)
        verify_s = time.perf_counter() - t
        mem.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return {
        "turns": turns,
        "store_mb": round(size / 1e6, 1),
        "forget_user_s": round(forget_s, 2),
        "report_ok": report.ok,
        "verify_erasure_s": round(verify_s, 2),
        "verify_ok": again.ok,
        "purged": report.purged,
    }


def cmd_erasure_cost(args: argparse.Namespace) -> int:
    from .runinfo import RESULTS_DIR, _run_info, _write_json, machine_info

    machine = machine_info()
    t0 = time.perf_counter()
    rows = []
    for n in [int(x) for x in args.turns.split(",") if x.strip()]:
        rows.append(erasure_cost(n, args.seed))
        print(f"[erasure-cost] {rows[-1]}", flush=True)
    result = {"sizes": rows, **_run_info(args, machine, t0)}
    out = Path(args.out) if args.out else RESULTS_DIR / "erasure.json"
    _write_json(out, result)
    lines = [
        "# Physical erasure: cost on an embedded store",
        "",
        f"Command: `{result['command']}`  ",
        f"Machine: {machine.get('cpu')} ({machine.get('cpu_count')} cores), load {machine.get('loadavg_1_5_15')}",
        "",
        "| raw turns | store MB | forget_user s (delete, purge, scan) | verify_erasure s | ok | DB bytes before -> after |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        p = r["purged"]
        lines.append(
            f"| {r['turns']} | {r['store_mb']} | {r['forget_user_s']} | {r['verify_erasure_s']} | "
            f"{r['report_ok'] and r['verify_ok']} | {p.get('bytes_before')} -> {p.get('bytes_after')} |"
        )
    out.with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"[erasure-cost] wrote {out}")
    return 0


def add_parser(sub: Any) -> None:
    """`memo bench soak` and `memo bench erasure-cost` (registered by `cli.add_bench_subcommands`)."""
    p = sub.add_parser("erasure-cost", help="what a physical erasure costs on an embedded store of N turns")
    p.add_argument("--turns", default="2000,10000", help="comma-separated store sizes (raw turns)")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", default=None, help="results JSON (default benchmarks/results/erasure.json)")
    p.add_argument("--command-line", default=None, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_erasure_cost)

    p = sub.add_parser(
        "soak", help="bounded writes + searches against a loopback Chroma server: latency, errors, RSS"
    )
    p.add_argument("--minutes", type=float, required=True, help=f"how long (at most {MAX_MINUTES:g})")
    p.add_argument(
        "--port", type=int, default=None, help="a `chroma run` already on 127.0.0.1 (default: start one)"
    )
    p.add_argument("--interval", type=float, default=10.0, help="seconds per reported window")
    p.add_argument("--search-ratio", type=float, default=0.5)
    p.add_argument("--users", type=int, default=20)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--embedder", choices=["hashing", "minilm"], default="hashing")
    p.add_argument("--timeout", type=float, default=5.0, help="client timeout per HTTP call (s)")
    p.add_argument("--retries", type=int, default=2)
    p.add_argument(
        "--writers", default=None, help="e.g. 1,2,4: that many writer processes each (--minutes per count)"
    )
    p.add_argument("--out", default=None, help="results JSON (default benchmarks/results/soak.json)")
    p.add_argument("--command-line", default=None, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_soak)


if __name__ == "__main__":  # a writer process of `memo bench soak --writers`
    _worker(int(sys.argv[1]), sys.argv[2], float(sys.argv[3]), sys.argv[4])
