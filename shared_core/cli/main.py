"""`memo`: inspect and manage a MeMo store from the shell.

    memo [--path DIR | --host H --port P] [--json] COMMAND ...

Point it at an embedded store (`--path`, default `$MEMO_PATH` or `./memo_data`) or at a Chroma
server (`--host/--port`). Tables for people, `--json` for scripts.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ..errors import MemoError
from ..models import MemoryRecord, Scope
from . import output

Handler = Callable[[argparse.Namespace], int]


def _scope(ns: argparse.Namespace) -> Scope:
    return Scope(tenant=ns.tenant, user=ns.user, agent=ns.agent, session=ns.session)


def open_memory(ns: argparse.Namespace) -> Any:
    """Open the store with the built-in embedder it was written with (MiniLM for a new store)."""
    from ..memory import Memory

    return Memory.connect(ns.host, ns.port) if ns.host else Memory.open(ns.path)


def _add_scope_args(p: argparse.ArgumentParser, required_user: bool = False) -> None:
    p.add_argument("--tenant", default=os.environ.get("MEMO_TENANT", "default"))
    p.add_argument("--user", required=required_user, help="user id of the scope")
    p.add_argument("--agent")
    p.add_argument("--session")


def cmd_list(ns: argparse.Namespace) -> int:
    with open_memory(ns) as mem:
        recs = mem.list(_scope(ns), kinds=ns.kind or None, statuses=ns.status or None, limit=ns.limit)
        output.records(recs, as_json=ns.json)
    return 0


def cmd_search(ns: argparse.Namespace) -> int:
    with open_memory(ns) as mem:
        hits = mem.search(ns.query, _scope(ns), k=ns.k, token_budget=ns.budget)
        output.hits(hits, as_json=ns.json)
    return 0


def cmd_show(ns: argparse.Namespace) -> int:
    with open_memory(ns) as mem:
        output.record_detail(mem.get(ns.id, _scope(ns)), as_json=ns.json)
    return 0


def cmd_history(ns: argparse.Namespace) -> int:
    with open_memory(ns) as mem:
        output.history(mem.history(ns.id, _scope(ns)), as_json=ns.json)
    return 0


def cmd_delete(ns: argparse.Namespace) -> int:
    with open_memory(ns) as mem:
        gone = mem.delete(ns.ids, _scope(ns), actor="cli")
        output.message({"deleted": gone}, f"deleted {len(gone)} of {len(ns.ids)}", as_json=ns.json)
    return 0 if gone else 1


def _all_statuses() -> list[str]:
    from ..models import Status

    return [s.value for s in Status]


def cmd_export(ns: argparse.Namespace) -> int:
    if ns.subject:
        from .governance import cmd_subject_export

        return cmd_subject_export(ns)
    with open_memory(ns) as mem:
        recs: list[MemoryRecord] = mem.list(_scope(ns), statuses=_all_statuses())
        out = open(ns.out, "w", encoding="utf-8") if ns.out and ns.out != "-" else sys.stdout
        try:
            for r in recs:
                out.write(r.model_dump_json() + "\n")
        finally:
            if out is not sys.stdout:
                out.close()
        if out is not sys.stdout:
            output.message(
                {"exported": len(recs), "file": ns.out},
                f"exported {len(recs)} records to {ns.out}",
                as_json=ns.json,
            )
    return 0


def _read_jsonl(path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                yield n, json.loads(line)


def cmd_import(ns: argparse.Namespace) -> int:
    from tqdm import tqdm

    with open_memory(ns) as mem:
        rows = list(_read_jsonl(ns.file))
        done = 0
        batch: list[MemoryRecord] = []
        for _n, row in tqdm(rows, desc="import", unit="rec", file=sys.stderr, disable=ns.json):
            batch.append(MemoryRecord.model_validate(row))
            if len(batch) >= 256:
                done += mem.governor.import_records(batch)
                batch = []
        if batch:
            done += mem.governor.import_records(batch)
        output.message({"imported": done}, f"imported {done} records", as_json=ns.json)
    return 0


def cmd_stats(ns: argparse.Namespace) -> int:
    with open_memory(ns) as mem:
        output.stats(mem.governor.stats(_scope(ns)), as_json=ns.json)
    return 0


def cmd_demo(ns: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(ns.path if ns.path_given else None, as_json=ns.json)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="memo", description="MeMo: persistent, governed memory for LLM apps.")
    p.add_argument(
        "--path", default=os.environ.get("MEMO_PATH", "./memo_data"), help="embedded store directory"
    )
    p.add_argument("--host", help="Chroma server host (instead of --path)")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--json", action="store_true", help="machine-readable output")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("list", help="list memories of a scope")
    _add_scope_args(s, required_user=False)
    s.add_argument("--kind", action="append", help="filter by kind (repeatable)")
    s.add_argument("--status", action="append", help="filter by status (default active)")
    s.add_argument("--limit", type=int)
    s.set_defaults(func=cmd_list)

    s = sub.add_parser("search", help="search a scope")
    s.add_argument("query")
    _add_scope_args(s)
    s.add_argument("-k", type=int, default=10)
    s.add_argument("--budget", type=int, help="token budget for the packed context")
    s.set_defaults(func=cmd_search)

    for name, fn, helptext in (
        ("show", cmd_show, "show one memory"),
        ("history", cmd_history, "a memory's history"),
    ):
        s = sub.add_parser(name, help=helptext)
        s.add_argument("id")
        _add_scope_args(s)
        s.set_defaults(func=fn)

    s = sub.add_parser("delete", help="delete memories by id")
    s.add_argument("ids", nargs="+")
    _add_scope_args(s)
    s.set_defaults(func=cmd_delete)

    s = sub.add_parser("export", help="export a scope's records as JSONL")
    _add_scope_args(s)
    s.add_argument("--out", "-o", default="-")
    s.add_argument(
        "--subject", action="store_true", help="everything held about the subject: records, history, audit"
    )
    s.add_argument("--actor", default=os.environ.get("MEMO_ACTOR", "cli"))
    s.add_argument("--role", default=os.environ.get("MEMO_ROLE", "admin"))
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("import", help="import records from JSONL (as written by export)")
    s.add_argument("file")
    s.set_defaults(func=cmd_import)

    s = sub.add_parser("stats", help="counts by kind and status")
    _add_scope_args(s)
    s.set_defaults(func=cmd_stats)

    s = sub.add_parser("demo", help="a scripted two-session conversation, then what was remembered")
    s.set_defaults(func=cmd_demo)

    from . import governance

    governance.register(sub, _add_scope_args)
    _register_bench(sub)
    return p


def _register_bench(sub: Any) -> None:
    """`memo bench` comes from the separate `memo-bench` distribution (benchmarks/ in the checkout);
    without it the command says how to get it."""
    try:
        from memo_bench.cli import register
    except ImportError:
        s = sub.add_parser("bench", help="benchmarks (needs the memo-bench package)")
        s.set_defaults(func=_no_bench)
        return
    register(sub)


def _no_bench(ns: argparse.Namespace) -> int:
    print(
        "memo: `memo bench` needs the benchmarks: pip install -e ./benchmarks (from a MeMo checkout)",
        file=sys.stderr,
    )
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    ns = parser.parse_args(argv)
    ns.path_given = any(a == "--path" or a.startswith("--path=") for a in argv) or "MEMO_PATH" in os.environ
    try:
        return int(ns.func(ns))
    except MemoError as exc:
        print(f"memo: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    except (OSError, json.JSONDecodeError, ValueError) as exc:
        print(f"memo: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
