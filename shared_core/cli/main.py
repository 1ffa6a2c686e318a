"""`memo`: inspect and manage a MeMo store from the shell.

    memo COMMAND [options] [--path DIR | --host H --port P] [--json] [--as ROLE:NAME]

Point it at an embedded store (`--path`, default `$MEMO_PATH` or `./memo_data`) or at a Chroma
server (`--host/--port`). Tables for people, `--json` for scripts. The global options may come
before or after the command. Every command acts as an explicit principal (`--as`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, NoReturn

from ..governance.access import Operation, authorize
from ..models import HistoryEntry, MemoryRecord, Status
from . import common, output
from .common import EXIT_CODES_HELP, EXIT_FAILED, EXIT_OK, EXIT_PIPE, EXIT_USAGE

Handler = Callable[[argparse.Namespace], int]
HISTORY_KEY = "memo_history"  # a history line of an export file


class Parser(argparse.ArgumentParser):
    """argparse, with errors as JSON when --json is on the command line."""

    json_errors = False

    def error(self, message: str) -> NoReturn:
        if Parser.json_errors:
            output.emit_json({"error": {"type": "UsageError", "message": message, "exit_code": EXIT_USAGE}})
            raise SystemExit(EXIT_USAGE)
        super().error(message)


def _global_options() -> argparse.ArgumentParser:
    """Options every command takes, before or after the command name (defaults set after parsing)."""
    g = Parser(add_help=False)
    s = argparse.SUPPRESS
    g.add_argument("--path", default=s, help="embedded store directory (default $MEMO_PATH or ./memo_data)")
    g.add_argument("--create", action="store_true", default=s, help="create the store if --path holds none")
    g.add_argument("--host", default=s, help="Chroma server host (instead of --path)")
    g.add_argument("--port", type=int, default=s, help="Chroma server port (default 8000)")
    g.add_argument("--json", action="store_true", default=s, help="machine-readable output (errors too)")
    g.add_argument("--as", dest="as_", metavar="ROLE:NAME", default=s, help="who acts (see below)")
    return g


def _defaults() -> dict[str, Any]:
    return {
        "path": os.environ.get("MEMO_PATH", "./memo_data"),
        "create": False,
        "host": None,
        "port": 8000,
        "json": False,
        "as_": None,
    }


class _Sub:
    """The subparsers action, giving every command the global options."""

    def __init__(self, action: Any, parents: list[argparse.ArgumentParser]) -> None:
        self._action = action
        self._parents = parents

    def add_parser(self, name: str, **kw: Any) -> argparse.ArgumentParser:
        kw.setdefault("parents", self._parents)
        kw.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        kw.setdefault("epilog", EXIT_CODES_HELP)
        p: argparse.ArgumentParser = self._action.add_parser(name, **kw)
        return p


def _add_scope_args(p: argparse.ArgumentParser, required_user: bool = False) -> None:
    p.add_argument("--tenant", default=os.environ.get("MEMO_TENANT", "default"))
    p.add_argument("--user", required=required_user, help="user id of the scope")
    p.add_argument("--agent")
    p.add_argument("--session")


# ------------------------------------------------------------------------------ commands
def cmd_list(ns: argparse.Namespace) -> int:
    with common.open_memory(ns) as mem:
        ins = common.inspector(ns, mem)
        recs = ins.timeline(
            common.scope_of(ns), kinds=ns.kind, statuses=ns.status or ["active"], text=ns.text, limit=ns.limit
        )
        output.records(recs, as_json=ns.json)
    return EXIT_OK


def cmd_search(ns: argparse.Namespace) -> int:
    with common.open_memory(ns) as mem:
        view = common.inspector(ns, mem).search(ns.query, common.scope_of(ns), k=ns.k, token_budget=ns.budget)
        output.hits(view.hits, as_json=ns.json, context=view.context if ns.context else None)
    return EXIT_OK


def cmd_show(ns: argparse.Namespace) -> int:
    with common.open_memory(ns) as mem:
        output.record_detail(common.inspector(ns, mem).show(ns.id, common.scope_of(ns)), as_json=ns.json)
    return EXIT_OK


def cmd_history(ns: argparse.Namespace) -> int:
    with common.open_memory(ns) as mem:
        output.history(common.inspector(ns, mem).show(ns.id, common.scope_of(ns)).history, as_json=ns.json)
    return EXIT_OK


def cmd_delete(ns: argparse.Namespace) -> int:
    with common.open_memory(ns) as mem:
        ins, sc = common.inspector(ns, mem), common.scope_of(ns)
        authorize(ins.principal, Operation.DELETE_MEMORY, sc)
        ids = [ins.resolve_id(i, sc, Operation.DELETE_MEMORY) for i in ns.ids]
        gone = mem.delete(ids, sc, actor=ins.principal.id)
        output.message({"deleted": gone}, f"deleted {len(gone)} of {len(ns.ids)}", as_json=ns.json)
    return EXIT_OK if gone else EXIT_FAILED


def cmd_export(ns: argparse.Namespace) -> int:
    """Records of every status, one JSON object a line, then their history (`{"memo_history": entry}`)."""
    if ns.subject:
        from .governance import cmd_subject_export

        return cmd_subject_export(ns)
    with common.open_memory(ns) as mem:
        ins, sc = common.inspector(ns, mem), common.scope_of(ns)
        recs = ins.timeline(sc, statuses=[s.value for s in Status])  # authorized and audited
        recs.sort(key=lambda r: r.created_at)
        hist = mem.store.history(sc) if ins.can(Operation.READ_MEMORY, sc) else []
        out = open(ns.out, "w", encoding="utf-8") if ns.out and ns.out != "-" else sys.stdout
        try:
            for r in common.progress(ns, recs, "export", total=len(recs), unit="rec"):
                out.write(r.model_dump_json() + "\n")
            for e in hist:
                out.write(json.dumps({HISTORY_KEY: e.model_dump(mode="json")}) + "\n")
        finally:
            if out is not sys.stdout:
                out.close()
        if out is not sys.stdout:
            output.message(
                {"exported": len(recs), "history": len(hist), "file": ns.out},
                f"exported {len(recs)} records and {len(hist)} history entries to {ns.out}",
                as_json=ns.json,
            )
    return EXIT_OK


def _read_jsonl(path: str) -> Iterator[tuple[int, dict[str, Any]]]:
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    yield n, json.loads(line)
                except json.JSONDecodeError as exc:
                    raise json.JSONDecodeError(f"line {n}: {exc.msg}", exc.doc, exc.pos) from None


def _valid_row(row: Any, limits: Any) -> MemoryRecord | HistoryEntry:
    """One line of an export file, checked as the write seam would check it."""
    from .. import validate

    if isinstance(row, dict) and HISTORY_KEY in row:
        entry = HistoryEntry.model_validate(row[HISTORY_KEY])
        validate.scope(entry.scope)
        return entry
    rec = MemoryRecord.model_validate(row)
    validate.scope(rec.scope)
    validate.text(rec.text, limits)
    validate.metadata(rec.metadata, limits)
    return rec


def cmd_import(ns: argparse.Namespace) -> int:
    """All or nothing: every line is read, validated and authorized before anything is written;
    the first bad line is named ("line 301: ...") and nothing is written."""
    from ..errors import InvalidInput

    with common.open_memory(ns) as mem:
        who = common.principal(ns)
        records: list[MemoryRecord] = []
        history: list[HistoryEntry] = []
        for n, row in common.progress(ns, list(_read_jsonl(ns.file)), "validate", unit="line"):
            try:
                got = _valid_row(row, mem.config.limits)
            except (ValueError, TypeError) as exc:  # TypeError: models.check_id inside a validator
                raise InvalidInput(
                    f"{ns.file} line {n}: not a valid memory record or history entry: {exc}", field="file"
                ) from None
            if isinstance(got, HistoryEntry):
                history.append(got)
            else:
                records.append(got)
        for sc in {r.scope for r in records} | {e.scope for e in history}:
            authorize(who, Operation.WRITE_MEMORY, sc)
        importer = getattr(mem, "import_records", None)
        # the governed seam (redaction, validity, holds, tombstones, audit), all or nothing
        if callable(importer):
            got_n = importer(records, history, principal=who)
            done = got_n if isinstance(got_n, int) else len(records if got_n is None else got_n)
        else:  # older engines: one commit of the records (their history is not carried over)
            done = mem.governor.import_records(records)
        output.message(
            {"imported": done, "history": len(history)}, f"imported {done} records", as_json=ns.json
        )
    return EXIT_OK


def cmd_stats(ns: argparse.Namespace) -> int:
    with common.open_memory(ns) as mem:
        ins = common.inspector(ns, mem)
        st = ins.stats(ns.tenant)
        if ns.user:
            rows = [c for c in ins.scopes(ns.tenant) if c.scope.user == ns.user]
            data: dict[str, Any] = {"records": sum(c.records for c in rows)}
            for c in rows:
                for k, v in c.by_kind.items():
                    data[f"kind:{k}"] = data.get(f"kind:{k}", 0) + v
                for k, v in c.by_status.items():
                    data[f"status:{k}"] = data.get(f"status:{k}", 0) + v
        else:
            data = {
                "records": st.records,
                **{f"kind:{k}": v for k, v in sorted(st.by_kind.items())},
                **{f"status:{k}": v for k, v in sorted(st.by_status.items())},
                "history_entries": st.history_entries,
                "audit_events": st.audit_events,
            }
            if st.disk_bytes is not None:
                data["disk_bytes"] = st.disk_bytes
        output.stats(data, as_json=ns.json)
    return EXIT_OK


def cmd_scopes(ns: argparse.Namespace) -> int:
    with common.open_memory(ns) as mem:
        ins = common.inspector(ns, mem)
        tenants = [ns.tenant] if ns.tenant else ins.tenants()
        counts = [c for t in tenants for c in ins.scopes(t)]
        if ns.json:
            output.emit_json([c.model_dump(mode="json") for c in counts])
        else:
            output.rows(
                f"{len(counts)} scopes",
                ["tenant", "user", "agent", "session", "records", "by kind"],
                [
                    (
                        c.scope.tenant,
                        c.scope.user or "",
                        c.scope.agent or "",
                        c.scope.session or "",
                        c.records,
                        " ".join(f"{k}={v}" for k, v in sorted(c.by_kind.items())),
                    )
                    for c in counts
                ],
            )
    return EXIT_OK


def cmd_maintain(ns: argparse.Namespace) -> int:
    """SQLite planner statistics of a Chroma directory (an embedded store, or a Chroma server's
    persist directory, which no MeMo process analyses itself): store/chroma_stats.py."""
    from .._boundary import translate
    from ..errors import StoreUnavailable
    from ..store import chroma_stats

    db = Path(ns.path) / "chroma.sqlite3"
    if not db.is_file():
        raise StoreUnavailable(f"no Chroma database at {db}")
    with translate("store", f"analyse {db}"):
        rows, analysed, done = chroma_stats.analyse(db, force=True)
    data = {"database": str(db), "rows": rows, "analysed_rows": analysed or 0, "analysed_now": done}
    output.stats(data, as_json=ns.json)
    return EXIT_OK


def cmd_demo(ns: argparse.Namespace) -> int:
    from .demo import run_demo

    return run_demo(ns.path if ns.path_given else None, as_json=ns.json)


def cmd_version(ns: argparse.Namespace) -> int:
    print(f"memo {_version()}")
    return EXIT_OK


def _version() -> str:
    try:
        return metadata.version("memo-memory")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0+unknown"


# --------------------------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    glob = _global_options()
    p = Parser(
        prog="memo",
        description="MeMo: persistent, governed memory for LLM apps.",
        parents=[glob],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EXIT_CODES_HELP,
    )
    p.add_argument("--version", action="version", version=f"memo {_version()}")
    sub = _Sub(p.add_subparsers(dest="command", required=True, parser_class=Parser), [glob])

    s = sub.add_parser("list", help="a scope's memories, newest first")
    _add_scope_args(s)
    s.add_argument("--kind", action="append", help="filter by kind (repeatable)")
    s.add_argument("--status", action="append", help="filter by status (default active; repeatable)")
    s.add_argument("--text", help="only memories whose text contains this")
    s.add_argument("--limit", type=int)
    s.set_defaults(func=cmd_list)

    s = sub.add_parser("search", help="search a scope as the agent would")
    s.add_argument("query")
    _add_scope_args(s)
    s.add_argument("-k", type=int, default=10)
    s.add_argument("--budget", type=int, default=512, help="token budget of the context block (default 512)")
    s.add_argument("--context", action="store_true", help="also print the context block the agent gets")
    s.set_defaults(func=cmd_search)

    for name, fn, helptext in (
        ("show", cmd_show, "one memory: provenance, decay, expiry, history"),
        ("history", cmd_history, "a memory's history"),
    ):
        s = sub.add_parser(name, help=helptext)
        s.add_argument("id", help="a memory id or a unique prefix of one")
        _add_scope_args(s)
        s.set_defaults(func=fn)

    s = sub.add_parser("delete", help="delete memories by id (or unique prefix)")
    s.add_argument("ids", nargs="+")
    _add_scope_args(s)
    s.set_defaults(func=cmd_delete)

    s = sub.add_parser("export", help="export a scope's records as JSONL")
    _add_scope_args(s)
    s.add_argument("--out", "-o", default="-")
    s.add_argument(
        "--subject", action="store_true", help="everything held about the subject: records, history, audit"
    )
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("import", help="import records from JSONL (as written by export); all or nothing")
    s.add_argument("file")
    s.add_argument("--tenant", default=os.environ.get("MEMO_TENANT", "default"), help=argparse.SUPPRESS)
    s.set_defaults(func=cmd_import)

    s = sub.add_parser("stats", help="counts by kind and status")
    _add_scope_args(s)
    s.set_defaults(func=cmd_stats)

    s = sub.add_parser("scopes", help="tenants, users, agents and sessions with record counts")
    s.add_argument("--tenant", default=None, help="one tenant (default: every tenant you may see)")
    s.set_defaults(func=cmd_scopes)

    s = sub.add_parser(
        "maintain", help="update the query statistics of a Chroma directory (embedded or a server's)"
    )
    s.set_defaults(func=cmd_maintain)

    s = sub.add_parser("demo", help="a scripted two-session conversation, then what was remembered")
    s.set_defaults(func=cmd_demo)

    s = sub.add_parser("version", help="print the version")
    s.set_defaults(func=cmd_version)

    from . import governance, ui, worker

    governance.register(sub, _add_scope_args)
    ui.register(sub)
    worker.register(sub)
    _register_bench(sub)
    _hide_suppressed(p)
    return p


def _hide_suppressed(parser: argparse.ArgumentParser) -> None:
    """argparse lists a subcommand added with help=SUPPRESS as `==SUPPRESS==`: drop it, everywhere."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            hidden = {a.dest for a in action._choices_actions if a.help == argparse.SUPPRESS}
            action._choices_actions = [a for a in action._choices_actions if a.help != argparse.SUPPRESS]
            if hidden and action.metavar is None:
                action.metavar = "{" + ",".join(n for n in action.choices if n not in hidden) + "}"
            for child in action.choices.values():
                _hide_suppressed(child)


def _register_bench(sub: _Sub) -> None:
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
    return EXIT_USAGE


def _report_error(exc: BaseException, as_json: bool) -> int:
    code = common.exit_code_for(exc)
    name = type(exc).__name__
    if isinstance(exc, common.NoStore):
        name = "NoStore"
    if as_json:
        output.emit_json({"error": {"type": name, "message": str(exc), "exit_code": code}})
    else:
        print(f"memo: error: {name}: {output.safe(str(exc))}", file=sys.stderr)
    return code


def _run(argv: list[str]) -> int:
    Parser.json_errors = "--json" in argv
    parser = build_parser()
    ns = parser.parse_args(argv)
    for k, v in _defaults().items():
        if not hasattr(ns, k):
            setattr(ns, k, v)
    ns.path_given = any(a == "--path" or a.startswith("--path=") for a in argv) or "MEMO_PATH" in os.environ
    try:
        return int(ns.func(ns))
    except BrokenPipeError:
        raise
    except Exception as exc:  # every MeMo/OS/value error is reported with its exit code, no traceback
        from ..errors import MemoError

        if not isinstance(exc, MemoError | OSError | ValueError):
            raise
        return _report_error(exc, ns.json)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        code = _run(args)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # the reader (e.g. `head`) is gone: stop quietly, and keep Python from complaining at exit
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_PIPE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
