"""Governance commands: review, sweep, erase, audit, hold, subject export, check, purge-files,
policy.

Each acts as the explicit principal of `--as` and goes through the `Governor` (via the `Inspector`
for reads), so the role table and the audit log apply exactly as they do to the API.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..errors import InvalidInput, NotFound
from ..governance.access import Operation
from ..governor import ErasureReport
from ..inspect import Inspector
from ..models import MemoryRecord, Scope
from . import common, output
from .common import EXIT_FAILED, EXIT_OK


def _find_pending(ins: Inspector, ns: argparse.Namespace) -> MemoryRecord:
    """The pending memory an id (or unique prefix) names, anywhere in the tenant's queue."""
    queue = ins.review_queue(ns.tenant, ns.user)
    exact = [r for r in queue if r.id == ns.id]
    found = exact or [r for r in queue if r.id.startswith(ns.id)]
    if not found:
        raise NotFound(f"no pending memory {ns.id!r} in tenant {ns.tenant!r}")
    if len(found) > 1:
        raise InvalidInput(f"id prefix {ns.id!r} is ambiguous: {', '.join(r.id[:16] for r in found[:5])}")
    return found[0]


def cmd_review(ns: argparse.Namespace) -> int:
    with common.open_memory(ns) as mem:
        ins = common.inspector(ns, mem)
        if ns.action == "list":
            queue = ins.review_queue(ns.tenant, ns.user)
            output.records(queue, as_json=ns.json, title=f"{len(queue)} memories waiting for review")
            return EXIT_OK
        if not ns.id:
            raise InvalidInput("memo review approve|reject|edit needs a memory id")
        if ns.action == "edit" and not ns.text:
            raise InvalidInput("memo review edit needs --text")
        rec = _find_pending(ins, ns)
        done = ins.decide(ns.action, rec.id, rec.scope, reason=ns.reason or "", text=ns.text)
        output.message(
            done.model_dump(mode="json"),
            f"{ns.action}: {done.id} is now {done.status.value}",
            as_json=ns.json,
        )
    return EXIT_OK


def cmd_sweep(ns: argparse.Namespace) -> int:
    with common.open_memory(ns) as mem:
        ins = common.inspector(ns, mem)
        users: list[str | None] = [ns.user] if ns.user else [g.user for g in ins.groups(ns.tenant) if g.user]
        users = users or [None]
        rows: list[Any] = []
        kept = 0
        held: list[Scope] = []
        for u in common.progress(ns, users, "sweep", total=len(users), unit="scope"):
            view = ins.sweep(ns.tenant, user=u, apply=ns.apply)
            rows.extend(view.rows)
            kept += view.kept
            held.extend(view.held_scopes)
        if ns.json:
            output.emit_json(
                {
                    "applied": ns.apply,
                    "kept": kept,
                    "held": [h.model_dump(mode="json") for h in held],
                    "to_expire": [r.model_dump(mode="json") for r in rows],
                }
            )
            return EXIT_OK
        verb = "expired" if ns.apply else "would expire (dry run; --apply to expire them)"
        output.rows(
            f"{len(rows)} memories {verb}; {kept} kept",
            ["id", "user", "kind", "reason", "strength", "text"],
            [
                (
                    r.record_id,
                    r.scope.user or "",
                    r.kind,
                    f"{r.reason}: {r.detail}",
                    f"{r.strength:.3f}",
                    r.text,
                )
                for r in rows
            ],
        )
        for h in held:
            output.note(f"{h.tenant}/{h.user} is under legal hold: nothing of it expires")
    return EXIT_OK


def cmd_erase(ns: argparse.Namespace) -> int:
    with common.open_memory(ns) as mem:
        ins = common.inspector(ns, mem)
        gov = mem.governor
        reports = []
        for user in common.progress(ns, ns.user, "erase", total=len(ns.user), unit="user"):
            sc = Scope(tenant=ns.tenant, user=user)
            rep: ErasureReport | None = None
            if ns.record:
                rid = ins.resolve_id(ns.record, sc, Operation.ERASE)
                rep = gov.forget_record(ins.principal, rid, sc)
            elif not ns.verify_only:
                rep = ins.erase(sc)
            if rep is None or ns.data_dir:  # a server's files: verified on its host, in DIR
                v = ins.verify_erasure(sc, samples=ns.sample or [], data_dir=ns.data_dir)
                rep = (
                    v
                    if rep is None
                    else rep.model_copy(update={"checks": v.checks, "unverified": v.unverified})
                )
            reports.append(rep)
        ok = all(r.ok for r in reports)
        if ns.json:
            data = [{**r.model_dump(mode="json"), "ok": r.ok} for r in reports]
            output.emit_json(data[0] if len(data) == 1 else data)
        else:
            for r in reports:
                sc = r.scope
                output.rows(
                    f"erasure of {sc.tenant}/{sc.user}: {'VERIFIED' if r.ok else 'RESIDUE FOUND'} "
                    f"({r.erased_records} records, {r.erased_history} history entries, "
                    f"{r.redacted_audit_events} audit payloads redacted)",
                    ["check", "passed", "detail"],
                    [(c.name, "yes" if c.passed else "NO", c.detail) for c in r.checks],
                )
    return EXIT_OK if ok else EXIT_FAILED


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"not an ISO date or time: {value!r}") from None


def cmd_audit(ns: argparse.Namespace) -> int:
    with common.open_memory(ns) as mem:
        ins = common.inspector(ns, mem)
        if ns.action == "verify":
            rep = mem.governor.audit_verify(ins.principal)
            data = rep.model_dump(mode="json")
            status = (
                "intact" if rep.ok else f"BROKEN at seq {rep.first_bad_seq}: {rep.problem} ({rep.detail})"
            )
            output.message(
                data, f"audit chain: {status}; {rep.count} events; head {rep.head_hash}", as_json=ns.json
            )
            return EXIT_OK if rep.ok else EXIT_FAILED
        if ns.action == "list":
            view = ins.audit(
                actor=ns.actor,
                action=ns.event,
                tenant=ns.tenant,
                user=ns.user,
                since=_when(ns.since),
                until=_when(ns.until),
                limit=ns.limit,
            )
            if ns.json:
                output.emit_json(
                    {
                        "chain": view.report.model_dump(mode="json"),
                        "events": [e.model_dump(mode="json") for e in view.events],
                    }
                )
            else:
                chain = "intact" if view.report.ok else f"BROKEN at seq {view.report.first_bad_seq}"
                output.rows(
                    f"audit log: chain {chain}; {len(view.events)} of {view.total} events",
                    ["seq", "at", "actor", "action", "scope", "record", "decision", "reason"],
                    [
                        (
                            e.seq,
                            e.at.isoformat(timespec="seconds"),
                            e.actor,
                            e.action,
                            f"{e.scope.tenant}/{e.scope.user or ''}" if e.scope else "",
                            e.record_id or "",
                            e.decision,
                            e.reason,
                        )
                        for e in view.events
                    ],
                )
            return EXIT_OK if view.report.ok else EXIT_FAILED
        events = ins.audit_export()
        text = "".join(json.dumps(e, default=str, ensure_ascii=True) + "\n" for e in events)
        if not ns.out or ns.out == "-":
            print(text, end="")
        else:
            with open(ns.out, "w", encoding="utf-8") as f:
                for e in common.progress(ns, events, "export", total=len(events), unit="event"):
                    f.write(json.dumps(e, default=str, ensure_ascii=True) + "\n")
            output.message(
                {"exported": len(events)}, f"exported {len(events)} audit events to {ns.out}", as_json=ns.json
            )
    return EXIT_OK


def cmd_hold(ns: argparse.Namespace) -> int:
    with common.open_memory(ns) as mem:
        who, sc = common.principal(ns), common.scope_of(ns)
        if ns.release:
            mem.governor.release(who, sc, ns.reason or "released")
        else:
            mem.governor.hold(who, sc, ns.reason or "legal hold")
        output.message({"held": not ns.release}, "released" if ns.release else "held", as_json=ns.json)
    return EXIT_OK


def cmd_subject_export(ns: argparse.Namespace) -> int:
    with common.open_memory(ns) as mem:
        data = mem.governor.export_subject(common.principal(ns), common.scope_of(ns))
        text = json.dumps(data, indent=2, default=str, ensure_ascii=True)
        if ns.out and ns.out != "-":
            with open(ns.out, "w", encoding="utf-8") as f:
                f.write(text)
            output.message(
                {"exported": len(data.get("records", [])), "file": ns.out},
                f"exported the subject's data to {ns.out}",
                as_json=ns.json,
            )
        else:
            print(text)
    return EXIT_OK


def cmd_check(ns: argparse.Namespace) -> int:
    """`Governor.check(principal, repair=...)`: orphans, unaudited records, half-applied writes,
    quarantined rows, the audit chain and the database file. Exit 1 unless the report is ok."""
    with common.open_memory(ns) as mem:
        report = mem.governor.check(common.principal(ns), repair=ns.repair)
        if ns.json:
            output.emit_json({**report.model_dump(mode="json"), "ok": report.ok})
        else:
            title = f"store check: {'clean' if report.ok else 'PROBLEMS FOUND'}"
            output.rows(
                title + (" (repaired)" if ns.repair else ""),
                ["check", "found", "repaired", "detail"],
                [(i.name, i.found, i.repaired, i.detail) for i in report.items],
            )
    return EXIT_OK if report.ok else EXIT_FAILED


def cmd_purge_files(ns: argparse.Namespace) -> int:
    """`Governor.purge_files(principal, DIR)`: on the host of a `chroma run --path DIR` server."""
    with common.open_memory(ns) as mem:
        purged = mem.governor.purge_files(common.principal(ns), ns.dir)
        if ns.json:
            output.emit_json({"dir": ns.dir, "purged": purged})
        else:
            output.rows(f"purged {ns.dir}", ["what", "count"], sorted(purged.items()))
    return EXIT_OK


def register(sub: Any, add_scope: Callable[..., None]) -> None:
    s = sub.add_parser("review", help="the review queue of a tenant: list, approve, reject, edit")
    s.add_argument("action", choices=["list", "approve", "reject", "edit"])
    s.add_argument("id", nargs="?", help="memory id or unique prefix (approve, reject, edit)")
    s.add_argument("--text", help="the corrected text (edit)")
    s.add_argument("--reason")
    add_scope(s)
    s.set_defaults(func=cmd_review)

    s = sub.add_parser(
        "sweep", help="retention and decay of a tenant or user, with texts (dry run unless --apply)"
    )
    s.add_argument("--apply", action="store_true")
    add_scope(s)
    s.set_defaults(func=cmd_sweep)

    s = sub.add_parser("erase", help="erase users (or one --record) and print the proof")
    s.add_argument("--record", help="only this memory (id or unique prefix)")
    s.add_argument("--verify-only", action="store_true", help="only verify an earlier erasure")
    s.add_argument("--sample", action="append", help="text that must not be found (repeatable)")
    s.add_argument("--tenant", default="default")
    s.add_argument("--user", action="append", required=True, help="user to erase (repeatable)")
    s.add_argument(
        "--data-dir",
        metavar="DIR",
        help="also scan the files of DIR (a server's `chroma run --path DIR`, on its host)",
    )
    s.set_defaults(func=cmd_erase)

    s = sub.add_parser("audit", help="the audit log: verify the chain, list (filtered) or export it")
    s.add_argument("action", choices=["verify", "list", "export"])
    s.add_argument("--out", "-o")
    s.add_argument("--tenant")
    s.add_argument("--user")
    s.add_argument("--actor", help="list: only events by this actor")
    s.add_argument("--event", help="list: only this action (read, write, review, erase, ...)")
    s.add_argument("--since", help="list: ISO date/time")
    s.add_argument("--until", help="list: ISO date/time")
    s.add_argument("--limit", type=int, default=200)
    s.set_defaults(func=cmd_audit)

    s = sub.add_parser("hold", help="put a user's memory under legal hold (or --release)")
    s.add_argument("--release", action="store_true")
    s.add_argument("--reason")
    add_scope(s, required_user=True)
    s.set_defaults(func=cmd_hold)

    s = sub.add_parser("subject-export", help="everything held about a subject, as JSON")
    s.add_argument("--out", "-o")
    add_scope(s, required_user=True)
    s.set_defaults(func=cmd_subject_export)

    s = sub.add_parser("check", help="check the store (orphans, unaudited records, half-applied writes)")
    s.add_argument("--repair", action="store_true", help="fix what can be fixed")
    s.set_defaults(func=cmd_check)

    s = sub.add_parser(
        "purge-files", help="physically purge erased data from a server's directory (on its host)"
    )
    s.add_argument("dir", help="the `chroma run --path` directory of the server")
    s.set_defaults(func=cmd_purge_files)

    from .policy import register as register_policy

    register_policy(sub)
