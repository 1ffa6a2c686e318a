"""Governance operations over one engine: review, retention sweeps, legal hold, erasure with
proof, subject export and the audit log. Each takes an explicit `Principal` and is authorized
(deny by default) before anything is read or written.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from . import validate
from .decay import SweepPlan, plan_sweep
from .engine import hold_key
from .errors import InvalidInput, NotFound, PolicyViolation
from .governance.access import Principal, authorize
from .governor_check import CheckItem, CheckReport
from .models import HistoryEntry, Kind, MemoryRecord, Scope, Status
from .store import chroma_files
from .store.base import ALL_STATUSES, RecordFilter

if TYPE_CHECKING:
    from .engine import Engine


def fingerprint(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Check(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    passed: bool
    detail: str = ""


class ErasureReport(BaseModel):
    """Proof of erasure: every place MeMo keeps data was checked for the subject's residue."""

    model_config = ConfigDict(extra="forbid")

    scope: Scope
    erased_records: int = 0
    erased_history: int = 0
    redacted_audit_events: int = 0
    fingerprints: int = 0
    checks: list[Check] = Field(default_factory=list)
    purged: dict[str, int] = Field(default_factory=dict)  # what the physical purge removed
    unverified: list[str] = Field(default_factory=list)  # places this process cannot check

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    def failed(self) -> list[str]:
        """The names of the checks that did not pass, in order."""
        return [c.name for c in self.checks if not c.passed]


def _texts(records: Sequence[MemoryRecord], history: Sequence[HistoryEntry]) -> list[str]:
    """Every text an erasure must remove from the files: record texts, indexed texts, string
    metadata values (8+ characters: shorter ones are too common to prove anything) and snapshots."""
    recs = [*records, *(e.snapshot for e in history if e.snapshot is not None)]
    out = {t for r in recs for t in (r.text, r.index_text())}
    out |= {v for r in recs for v in (r.metadata or {}).values() if isinstance(v, str) and len(v) >= 8}
    return sorted(t for t in out if t)


def _erasure_key(scope: Scope) -> str:
    return f"erasure:{scope.key()}"


class Governor:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.store = engine.store

    # ------------------------------------------------------------------------ plumbing
    def _audit(
        self,
        principal: Principal | None,
        action: str,
        scope: Scope | None,
        record_id: str | None,
        decision: str,
        reason: str,
        **payload: Any,
    ) -> None:
        if self.engine.audit is not None:
            self.engine.audit.append(
                actor=principal.id if principal else "system",
                action=action,
                scope=scope,
                record_id=record_id,
                decision=decision,
                reason=self.engine.redact(reason),
                payload=payload,
            )

    def _all(self, scope: Scope) -> list[MemoryRecord]:
        return self.store.list_records(scope, ALL_STATUSES)

    # --------------------------------------------------------------------------- review
    def review_queue(self, principal: Principal, scope: Any) -> list[MemoryRecord]:
        """Memories waiting for a decision (never returned by search or injected into prompts)."""
        sc = validate.scope(scope)
        authorize(principal, "review", sc)
        items = self.store.list_records(sc, RecordFilter(statuses=frozenset({Status.PENDING_REVIEW})))
        self._audit(principal, "read", sc, None, "review_list", "review queue read", count=len(items))
        return items

    def _pending(self, principal: Principal, record_id: str, scope: Any) -> tuple[Scope, MemoryRecord]:
        sc = validate.scope(scope)
        authorize(principal, "review", sc)
        rec = self.engine.get(record_id, sc)
        if rec.status is not Status.PENDING_REVIEW:
            raise InvalidInput(f"memory {record_id} is {rec.status.value}, not pending_review")
        return sc, rec

    def approve(
        self, principal: Principal, record_id: str, scope: Any, reason: str = "approved"
    ) -> MemoryRecord:
        sc, rec = self._pending(principal, record_id, scope)
        return self.engine.update(
            rec.id, sc, status=Status.ACTIVE, actor=principal.id, reason=reason, op="review"
        )

    def edit(
        self, principal: Principal, record_id: str, scope: Any, text: str, reason: str = "edited"
    ) -> MemoryRecord:
        """Correct the text of a pending memory and approve it."""
        sc, rec = self._pending(principal, record_id, scope)
        return self.engine.update(
            rec.id, sc, text=text, status=Status.ACTIVE, actor=principal.id, reason=reason, op="review"
        )

    def reject(
        self, principal: Principal, record_id: str, scope: Any, reason: str = "rejected"
    ) -> MemoryRecord:
        """Rejected memories are marked deleted and their content removed from the store."""
        sc, rec = self._pending(principal, record_id, scope)
        done = self.engine.update(
            rec.id, sc, status=Status.DELETED, actor=principal.id, reason=reason, op="review"
        )
        self.engine.delete([rec.id], sc, actor=principal.id)
        return done

    # ------------------------------------------------------------------ retention / hold
    def hold(self, principal: Principal, scope: Any, reason: str) -> None:
        """Legal hold: nothing of the scope's user is deleted, expired or erased while held."""
        sc = validate.scope(scope)
        authorize(principal, "legal_hold", sc)
        reason = self.engine.redact(reason)  # a free-text reason gets the PII step like every stored text
        self.store.set_meta(hold_key(sc.tenant, sc.user), json.dumps({"by": principal.id, "reason": reason}))
        self._audit(principal, "hold", sc, None, "hold", reason)

    def release(self, principal: Principal, scope: Any, reason: str = "released") -> None:
        sc = validate.scope(scope)
        authorize(principal, "legal_hold", sc)
        self.store.set_meta(hold_key(sc.tenant, sc.user), "")
        self._audit(principal, "hold", sc, None, "release", reason)

    def is_held(self, scope: Scope) -> bool:
        """Held when its user, or its whole tenant, is (the seam refuses deletions in both cases)."""
        keys = {hold_key(scope.tenant, scope.user), hold_key(scope.tenant, None)}
        return any(self.store.get_meta(k) for k in keys)

    def sweep(self, principal: Principal, scope: Any, *, apply: bool = False) -> SweepPlan:
        """Retention and decay. Dry-run by default: the plan of what would expire."""
        sc = validate.scope(scope)
        authorize(principal, "sweep", sc)
        eng = self.engine
        records = self.store.list_records(sc, RecordFilter())
        plan = plan_sweep(
            records, eng.clock.now(), eng.config.decay, eng.config.policy, held=self.is_held(sc)
        )
        if apply and plan.to_expire:
            for item in plan.to_expire:
                eng.update(
                    item.record_id,
                    sc,
                    status=Status.EXPIRED,
                    actor=principal.id,
                    reason=item.reason,
                    op="expire",
                )
        self._audit(
            principal, "sweep", sc, None, "apply" if apply else "dry_run", f"{len(plan.to_expire)} to expire"
        )
        return plan

    # --------------------------------------------------------------------------- erasure
    def forget_user(self, principal: Principal, scope: Any) -> ErasureReport:
        """Erase everything held about a scope: memories of every status, raw turns, history,
        review items, index entries; audit payloads are redacted (their hashes stay)."""
        sc = validate.scope(scope)
        authorize(principal, "erase", sc)
        if self.is_held(sc):
            raise PolicyViolation("this scope is under legal hold; release it before erasure")
        # background extraction and the applier first: a queued job holds the subject's turns (in
        # the journal too) and would otherwise write memories of them after the erasure
        self.engine.flush()
        records = self._all(sc)
        history = self.store.history(sc)
        prints = sorted(
            {fingerprint(t) for r in records for t in (r.text, r.index_text())}
            | {
                fingerprint(t)
                for e in history
                if e.snapshot
                for t in (e.snapshot.text, e.snapshot.index_text())
            }
        )
        erased_ids = sorted({r.id for r in records} | {e.record_id for e in history})
        texts = _texts(records, history)
        self._save_ledger(sc, prints, erased_ids, texts)
        # the one erasure seam: records of every status (rows that cannot be parsed included) and
        # their whole history, legal hold checked, audited, the journal compacted
        self.engine.erase_scope(sc, actor=principal.id)
        redacted = self.engine.audit.redact_scope(sc) if self.engine.audit is not None else 0
        self._audit(
            principal,
            "erase",
            sc,
            None,
            "erase",
            "subject erasure",
            records=len(records),
            history=len(history),
        )
        purged = self._purge_files()
        report = self._verify(principal, sc, (), texts)
        report.erased_records, report.erased_history, report.redacted_audit_events = (
            len(records),
            len(history),
            redacted,
        )
        report.purged = purged
        return report

    def forget_record(self, principal: Principal, record_id: str, scope: Any) -> ErasureReport:
        sc = validate.scope(scope)
        authorize(principal, "erase", sc)
        if self.is_held(sc):
            raise PolicyViolation("this scope is under legal hold")
        self.engine.flush()  # a queued extraction job may hold (or rewrite) the record
        rec = self.store.get(sc, [validate.identifier(record_id, "record id")])
        if not rec:
            raise NotFound(f"no memory {record_id!r} in this scope")
        hist = self.store.history(sc, record_id)
        prints = {fingerprint(t) for t in (rec[0].text, rec[0].index_text())}
        prints |= {fingerprint(e.snapshot.text) for e in hist if e.snapshot}
        texts = _texts(rec, hist)
        self.engine.delete([record_id], sc, actor=principal.id, purge_history=True)
        self._compact_journal()
        report = ErasureReport(scope=sc, erased_records=1, erased_history=len(hist), fingerprints=len(prints))
        report.purged = self._purge_files()
        report.checks = self._residue_checks(sc, prints, {record_id}, [rec[0].text], record_ids={record_id})
        report.checks.append(self._file_check(report, texts, [], ""))
        self._audit(principal, "erase", sc, record_id, "erase", "record erasure", ok=report.ok)
        return report

    def verify_erasure(
        self,
        principal: Principal,
        scope: Any,
        samples: Sequence[str] = (),
        data_dir: str | os.PathLike[str] | None = None,
    ) -> ErasureReport:
        """Check every collection, the lexical index, a search for sample text and the bytes of every
        file of the store (an embedded store's directory, or `data_dir`: the `chroma run --path`
        directory of a server, on its host); a report, not a promise."""
        sc = validate.scope(scope)
        authorize(principal, "verify_erasure", sc)
        return self._verify(principal, sc, samples, [], data_dir)

    def _verify(
        self,
        principal: Principal,
        sc: Scope,
        samples: Sequence[str],
        texts: Sequence[str],
        data_dir: str | os.PathLike[str] | None = None,
    ) -> ErasureReport:
        raw = self.store.get_meta(_erasure_key(sc))
        saved = json.loads(raw) if raw else {"content": [], "ids": []}
        prints = set(saved["content"])
        report = ErasureReport(scope=sc, fingerprints=len(prints))
        report.checks = self._residue_checks(sc, prints, set(), list(samples), id_prints=set(saved["ids"]))
        report.checks.append(
            self._file_check(
                report, [*texts, *samples], saved.get("probes", []), saved.get("salt", ""), data_dir
            )
        )
        self._audit(
            principal, "verify_erasure", sc, None, "ok" if report.ok else "residue", "erasure verified"
        )
        return report

    def _save_ledger(self, sc: Scope, prints: list[str], ids: list[str], texts: list[str]) -> None:
        """What a later `verify_erasure` needs, without the text: content and id fingerprints, and
        salted probes of 16-byte windows for the byte scan of the store's files."""
        salt = secrets.token_hex(16)
        ledger = {
            "content": prints,
            "ids": [fingerprint(i) for i in ids],
            "salt": salt,
            "probes": chroma_files.probes_for(texts, salt),
        }
        self.store.set_meta(_erasure_key(sc), json.dumps(ledger))

    def _compact_journal(self) -> None:
        """After a record erasure: the journal's old segment, which holds the erased text, is
        replaced by one holding only what is still live (`Engine.erase_scope` does this itself)."""
        # TODO(core): `Engine.delete(..., purge_history=True)` should flush and compact like erase_scope
        self.engine.flush()
        journal = self.engine._seam.journal
        if journal is not None:
            journal.compact()

    def _purge_files(self) -> dict[str, int]:
        """Physical purge of an embedded store's files (nothing for other stores)."""
        if getattr(self.store, "path", None) is None:
            return {}
        with self.engine.write_lock:  # no write of this process may persist a segment meanwhile
            purged: dict[str, int] = self.store.purge_files()  # type: ignore[attr-defined]
        return purged

    def purge_files(self, principal: Principal, path: str | os.PathLike[str]) -> dict[str, int]:
        """Physically purge deleted data from a Chroma directory on this machine: run it on the
        host of a `chroma run --path <path>` server after an erasure (docs/reliability.md)."""
        authorize(principal, "erase", None)
        purged = chroma_files.purge(path)
        self._audit(
            principal,
            "erase",
            None,
            None,
            "purge_files",
            "physical purge of a store directory",
            **{k: v for k, v in purged.items()},
        )
        return purged

    def _file_check(
        self,
        report: ErasureReport,
        texts: Sequence[str],
        probes: Sequence[str],
        salt: str,
        data_dir: str | os.PathLike[str] | None = None,
    ) -> Check:
        """A byte scan of every file of the store's directory for the erased texts (and the plaintext
        behind the ledger's probes); text another live record still holds is not residue."""
        path = data_dir if data_dir is not None else getattr(self.store, "path", None)
        if path is None and not hasattr(self.store, "purge_files"):
            return Check(name="files", passed=True, detail="an in-memory store keeps no files")
        if path is None:
            report.unverified.append(
                "files: a server's files are scanned on its host (verify_erasure(..., data_dir=DIR))"
            )
            return Check(name="files", passed=True, detail="not a local store: files not scanned")
        texts = [t for t in texts if t and t.strip()]
        hits = chroma_files.scan(path, texts, probes, salt)
        if hits:  # another subject may legitimately hold the same words
            live = self._live_texts()
            texts = [t for t in texts if not any(t in x for x in live)]
            hits = chroma_files.scan(path, texts, probes, salt, allowed=live)
        where = sorted({h.file for h in hits})
        return Check(
            name="files",
            passed=not hits,
            detail=f"{len(hits)} occurrences of erased data in {', '.join(where) or 'no file'}",
        )

    def _live_texts(self) -> list[str]:
        out: list[str] = []
        for got in self.store.raw_dump().values():
            out += [d for d in got.get("documents") or [] if d]
            out += [str(v) for m in got.get("metadatas") or [] if m for v in m.values() if isinstance(v, str)]
        return out

    def _residue_checks(
        self,
        sc: Scope,
        prints: set[str],
        erased_ids: set[str],
        samples: Sequence[str],
        record_ids: set[str] | None = None,
        id_prints: set[str] | None = None,
    ) -> list[Check]:
        checks: list[Check] = []
        left = self._all(sc)
        if record_ids is not None:
            left = [r for r in left if r.id in record_ids]
        checks.append(
            Check(name="records", passed=not left, detail=f"{len(left)} records of any status remain")
        )
        hist = self.store.history(sc)
        if record_ids is not None:
            hist = [e for e in hist if e.record_id in record_ids]
        checks.append(Check(name="history", passed=not hist, detail=f"{len(hist)} history entries remain"))
        pending = [r for r in left if r.status is Status.PENDING_REVIEW]
        checks.append(
            Check(name="review_queue", passed=not pending, detail=f"{len(pending)} review items remain")
        )
        index = self.engine._index(sc, ALL_STATUSES)  # the index searches read, current with the store
        stale = [r.id for r in index.records if record_ids is None or r.id in record_ids]
        checks.append(
            Check(name="lexical_index", passed=not stale, detail=f"{len(stale)} index entries remain")
        )
        # raw scan of everything the store holds, in every collection, for content fingerprints and samples
        # raw scan of every row of every collection: erased ids, erased content fingerprints (in rows
        # that are not another live subject's own: two users may both say "I live in Lyon") and samples
        id_prints = (id_prints or set()) | {fingerprint(i) for i in erased_ids}
        hits = 0
        scope_rows = 0
        for got in self.store.raw_dump().values():
            docs = got.get("documents") or []
            for rid, doc, meta in zip(got.get("ids") or [""] * len(docs), docs, got.get("metadatas") or []):
                meta = meta or {}
                texts = [doc or ""] + [str(v) for v in meta.values()]
                owner = (meta.get("tenant"), meta.get("user"))
                foreign = bool(owner[1]) and owner != (sc.tenant, sc.user)
                by_content = not foreign and any(fingerprint(t) in prints for t in texts if t)
                by_id = bool(id_prints & {fingerprint(str(rid)), fingerprint(str(meta.get("record_id", "")))})
                by_sample = any(s and s in t for s in samples for t in texts)
                if by_content or by_id or by_sample:
                    hits += 1
                if record_ids is None and owner == (sc.tenant, sc.user) and sc.user:
                    scope_rows += 1
        checks.append(Check(name="raw_scan", passed=hits == 0, detail=f"{hits} stored rows hold erased data"))
        if record_ids is None:
            checks.append(
                Check(
                    name="scope_rows",
                    passed=scope_rows == 0,
                    detail=f"{scope_rows} rows still carry the scope",
                )
            )
        if self.engine.audit is not None and record_ids is None:
            open_events = [
                e
                for e in self.engine.audit.events()
                if e.scope is not None
                and sc.contains(e.scope)
                and not e.payload_redacted
                and e.action != "erase"
                and e.action != "verify_erasure"
            ]
            checks.append(
                Check(
                    name="audit_payloads",
                    passed=not open_events,
                    detail=f"{len(open_events)} audit events keep payloads",
                )
            )
        found = 0
        for s in samples:
            if s.strip():
                for h in self.engine.search(s, sc, k=10):
                    held = (h.record.text, h.record.index_text())
                    if any(s.lower() in t.lower() or fingerprint(t) in prints for t in held):
                        found += 1
        checks.append(
            Check(name="search", passed=found == 0, detail=f"{found} hits hold {len(samples)} sample texts")
        )
        return checks

    # --------------------------------------------------------------------- export / audit
    def export_subject(self, principal: Principal, scope: Any) -> dict[str, Any]:
        """Everything held about a subject (access and portability requests)."""
        sc = validate.scope(scope)
        authorize(principal, "export_subject", sc)
        records = self._all(sc)
        history = self.store.history(sc)
        events = (
            [e for e in self.engine.audit.events() if e.scope is not None and sc.contains(e.scope)]
            if self.engine.audit
            else []
        )
        self._audit(
            principal, "export", sc, None, "export_subject", "subject access request", records=len(records)
        )
        return {
            "scope": sc.model_dump(mode="json"),
            "records": [r.model_dump(mode="json") for r in records],
            "history": [e.model_dump(mode="json") for e in history],
            "audit": [e.model_dump(mode="json") for e in events],
        }

    def audit_verify(self, principal: Principal) -> Any:
        authorize(principal, "read_audit", None)
        if self.engine.audit is None:
            raise InvalidInput("no audit log is configured")
        return self.engine.audit.verify()

    def audit_export(self, principal: Principal) -> list[dict[str, Any]]:
        authorize(principal, "export_audit", None)
        if self.engine.audit is None:
            raise InvalidInput("no audit log is configured")
        out = self.engine.audit.export()
        self._audit(principal, "export", None, None, "export_audit", "audit export", count=len(out))
        return out

    # --------------------------------------------------------------------------- check
    def check(self, principal: Principal, *, repair: bool = False) -> CheckReport:
        """Find (and with `repair`, fix) what crashes and old versions leave behind: see
        `governor_check.run_check`. Reading is an audited admin/auditor operation; repairing is admin only."""
        from .governor_check import run_check

        return run_check(self, principal, repair)

    # ------------------------------------------------------------------------ operations
    def stats(self, scope: Any) -> dict[str, int]:
        sc = validate.scope(scope)
        recs = self._all(sc)
        c: Counter[str] = Counter()
        for r in recs:
            c[f"kind:{r.kind.value}"] += 1
            c[f"status:{r.status.value}"] += 1
        return {"records": len(recs), **dict(sorted(c.items()))}

    def import_records(
        self,
        records: Sequence[MemoryRecord],
        history: Sequence[HistoryEntry] = (),
        *,
        principal: Principal | None = None,
    ) -> int:
        """Import records (and their history) as exported, through the engine's governed seam
        (`Engine.import_records`: validated, redacted, validity rules, tombstones respected, ids
        kept, audited, all or nothing). With a `principal`, it must be allowed to write there."""
        if not records and not history:
            return 0
        if principal is not None:
            for sc in {r.scope for r in records} | {e.scope for e in history}:
                authorize(principal, "write_memory", sc)
        actor = principal.id if principal is not None else "system:import"
        return self.engine.import_records(records, history, actor=actor)


__all__ = ["Check", "CheckItem", "CheckReport", "ErasureReport", "Governor", "Kind"]
