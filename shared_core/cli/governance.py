"""Governance commands: review, sweep, erase, audit, hold; each acts as an explicit principal."""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Callable
from typing import Any

from ..governance.access import Principal, Role
from ..models import Scope
from . import output


def _principal(ns: argparse.Namespace) -> Principal:
    scope = Scope(tenant=ns.tenant, user=ns.user) if getattr(ns, "user", None) else None
    return Principal(id=ns.actor, role=Role(ns.role), scope=scope)


def _scope(ns: argparse.Namespace) -> Scope:
    return Scope(
        tenant=ns.tenant, user=ns.user, agent=getattr(ns, "agent", None), session=getattr(ns, "session", None)
    )


def _open(ns: argparse.Namespace) -> Any:
    from .main import open_memory

    return open_memory(ns)


def cmd_review(ns: argparse.Namespace) -> int:
    with _open(ns) as mem:
        gov, who, sc = mem.governor, _principal(ns), _scope(ns)
        if ns.action == "list":
            output.records(gov.review_queue(who, sc), as_json=ns.json)
            return 0
        if not ns.id:
            raise SystemExit("memo review approve|reject|edit needs a memory id")
        if ns.action == "approve":
            rec = gov.approve(who, ns.id, sc, reason=ns.reason or "approved")
        elif ns.action == "reject":
            rec = gov.reject(who, ns.id, sc, reason=ns.reason or "rejected")
        else:
            if not ns.text:
                raise SystemExit("memo review edit needs --text")
            rec = gov.edit(who, ns.id, sc, ns.text, reason=ns.reason or "edited")
        output.message(
            rec.model_dump(mode="json"), f"{ns.action}: {rec.id} is now {rec.status.value}", as_json=ns.json
        )
    return 0


def cmd_sweep(ns: argparse.Namespace) -> int:
    with _open(ns) as mem:
        plan = mem.governor.sweep(_principal(ns), _scope(ns), apply=ns.apply)
        verb = "expired" if ns.apply else "would expire (dry run; --apply to expire)"
        if ns.json:
            output.message(plan.model_dump(mode="json"), "", as_json=True)
        else:
            output.rows(f"{len(plan.to_expire)} memories {verb}", ["record", "reason"],
                        [(i.record_id, i.reason) for i in plan.to_expire])  # fmt: skip
    return 0


def cmd_erase(ns: argparse.Namespace) -> int:
    with _open(ns) as mem:
        who, sc = _principal(ns), _scope(ns)
        gov = mem.governor
        if ns.record:
            report = gov.forget_record(who, ns.record, sc)
        elif ns.verify_only:
            report = gov.verify_erasure(who, sc, samples=ns.sample or [])
        else:
            report = gov.forget_user(who, sc)
        if ns.json:
            output.message({**report.model_dump(mode="json"), "ok": report.ok}, "", as_json=True)
        else:
            output.rows(
                f"erasure of {sc.tenant}/{sc.user}: {'VERIFIED' if report.ok else 'RESIDUE FOUND'} "
                f"({report.erased_records} records, {report.erased_history} history entries, "
                f"{report.redacted_audit_events} audit payloads redacted)",
                ["check", "passed", "detail"],
                [(c.name, "yes" if c.passed else "NO", c.detail) for c in report.checks],
            )
    return 0 if report.ok else 1


def cmd_audit(ns: argparse.Namespace) -> int:
    with _open(ns) as mem:
        who = _principal(ns)
        if ns.action == "verify":
            rep = mem.governor.audit_verify(who)
            data = rep.model_dump(mode="json")
            output.message(
                data, f"audit chain: {'intact' if rep.ok else 'BROKEN'} ({json.dumps(data)})", as_json=ns.json
            )
            return 0 if rep.ok else 1
        events = mem.governor.audit_export(who)
        out = ns.out or "-"
        text = "\n".join(json.dumps(e, default=str) for e in events) + "\n"
        if out == "-":
            print(text, end="")
        else:
            with open(out, "w", encoding="utf-8") as f:
                f.write(text)
            output.message(
                {"exported": len(events)}, f"exported {len(events)} audit events to {out}", as_json=ns.json
            )
    return 0


def cmd_hold(ns: argparse.Namespace) -> int:
    with _open(ns) as mem:
        if ns.release:
            mem.governor.release(_principal(ns), _scope(ns), ns.reason or "released")
        else:
            mem.governor.hold(_principal(ns), _scope(ns), ns.reason or "legal hold")
        output.message({"held": not ns.release}, "released" if ns.release else "held", as_json=ns.json)
    return 0


def cmd_subject_export(ns: argparse.Namespace) -> int:
    with _open(ns) as mem:
        data = mem.governor.export_subject(_principal(ns), _scope(ns))
        text = json.dumps(data, indent=2, default=str)
        if ns.out and ns.out != "-":
            with open(ns.out, "w", encoding="utf-8") as f:
                f.write(text)
        else:
            print(text)
    return 0


def _who(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--actor", default=os.environ.get("MEMO_ACTOR", os.environ.get("USER", "cli")), help="who acts"
    )
    p.add_argument("--role", default=os.environ.get("MEMO_ROLE", "admin"),
                   choices=["subject", "agent", "reviewer", "auditor", "admin"])  # fmt: skip


def register(sub: Any, add_scope: Callable[..., None]) -> None:
    s = sub.add_parser("review", help="the review queue: list, approve, reject, edit")
    s.add_argument("action", choices=["list", "approve", "reject", "edit"])
    s.add_argument("id", nargs="?")
    s.add_argument("--text")
    s.add_argument("--reason")
    add_scope(s, required_user=True)
    _who(s)
    s.set_defaults(func=cmd_review)

    s = sub.add_parser("sweep", help="retention and decay (dry run unless --apply)")
    s.add_argument("--apply", action="store_true")
    add_scope(s, required_user=True)
    _who(s)
    s.set_defaults(func=cmd_sweep)

    s = sub.add_parser("erase", help="erase a user (or one --record) and print the proof")
    s.add_argument("--record")
    s.add_argument("--verify-only", action="store_true", help="only verify an earlier erasure")
    s.add_argument("--sample", action="append", help="text that must not be found (repeatable)")
    add_scope(s, required_user=True)
    _who(s)
    s.set_defaults(func=cmd_erase)

    s = sub.add_parser("audit", help="verify or export the audit log")
    s.add_argument("action", choices=["verify", "export"])
    s.add_argument("--out", "-o")
    s.add_argument("--tenant", default="default")
    _who(s)
    s.set_defaults(func=cmd_audit)

    s = sub.add_parser("hold", help="put a user's memory under legal hold (or --release)")
    s.add_argument("--release", action="store_true")
    s.add_argument("--reason")
    add_scope(s, required_user=True)
    _who(s)
    s.set_defaults(func=cmd_hold)

    s = sub.add_parser("subject-export", help="everything held about a subject, as JSON")
    s.add_argument("--out", "-o")
    add_scope(s, required_user=True)
    _who(s)
    s.set_defaults(func=cmd_subject_export)
