"""The registry of every public entry point that writes, changes or deletes memory (issue #17).

Each `Entry` says, as data, how to drive it for each governance property, or why a property does
not apply (`na`). `tests/unit/test_write_registry.py` turns every entry x property into one case and
also checks, by introspection, that no public writer is missing from here.

Properties:
    pii        an e-mail address written through it is in no stored row and no file of the store
    hold       under `Governor.hold` a destructive call is refused (LegalHold / PolicyViolation,
               CLI exit 4) and changes nothing
    audit      the audit log grows, names the action, and still verifies
    role       a principal without the permission is refused and nothing changes
    resurrect  what it deleted is still gone after close + `Memory.open` of the same path
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from shared_core import MemoConfig, Memory, Scope
from shared_core.async_memory import AsyncMemory
from shared_core.clock import ManualClock
from shared_core.embed import HashingEmbedder
from shared_core.governance import policy_store
from shared_core.governance.access import Principal, Role
from shared_core.governance.policy import GovernancePolicy
from shared_core.models import Kind, MemoryRecord, Status

PROPS = ("pii", "hold", "audit", "role", "resurrect")

TENANT, USER, SESSION = "acme", "alice", "s1"
SCOPE = Scope(tenant=TENANT, user=USER)
ADMIN = Principal(id="dpo", role=Role.ADMIN)
AUDITOR = Principal(id="eve", role=Role.AUDITOR)
REVIEWER = Principal(id="rita", role=Role.REVIEWER)

SEED_MEMORY = "Alice keeps her spare key under the heron statue"
SEED_TURN = "I moor the blue kayak at the north pier every Sunday"
CONFIG = MemoConfig(policy=GovernancePolicy(ttl_days={Kind.FACT: 30}))


def probe_email(name: str) -> str:
    """A unique address per entry point, so a leak names its path."""
    slug = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
    return f"wreg-{slug}@quokka-example.org"


class CliExit(Exception):
    """A `memo` command ended with a non-zero exit code."""

    def __init__(self, code: int, out: str) -> None:
        super().__init__(f"memo exited {code}: {out[-500:]}")
        self.code = code


# --------------------------------------------------------------------------------- context
class Ctx:
    """One embedded store with a seeded memory and a seeded raw turn in `SCOPE`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / "store"
        self.clock = ManualClock()
        self.mem = self._open()
        self.memory_id = self.mem.remember(SEED_MEMORY, SCOPE).id
        res = self.mem.add_messages(
            [{"role": "user", "content": SEED_TURN, "id": "m-seed"}], SCOPE, session_id=SESSION, extract=False
        )
        self.turn_id = res.episodes[0].id
        # the deployer's retention policy is stored with the store, so every process (the CLI's
        # `sweep --apply` too) applies the same TTLs (issue #17 item 6)
        policy_store.change_and_audit(
            self.mem.store,
            self.mem.engine.audit,
            ADMIN,
            CONFIG.policy,
            reason="retention",
            now=self.clock.now(),
        )
        self.mem.flush()

    def _open(self) -> Memory:
        return Memory.open(self.path, embedder=HashingEmbedder(), clock=self.clock, config=CONFIG)

    def reopen(self) -> Memory:
        self.mem.close()
        self.mem = self._open()
        return self.mem

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.mem.close()

    def cli(self, *args: str, who: str = "admin:dpo") -> str:
        """Run `memo` in process on this store (closed meanwhile: one process per directory)."""
        from shared_core.cli.main import main

        self.mem.close()
        buf = io.StringIO()
        try:
            with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
                code = main([*args, "--path", str(self.path), "--as", who])
        finally:
            self.mem = self._open()
        if code != 0:
            raise CliExit(code, buf.getvalue())
        return buf.getvalue()

    def pending(self) -> str:
        """Put the seeded memory in the review queue; its id."""
        self.mem.update(self.memory_id, SCOPE, status=Status.PENDING_REVIEW, reason="needs review")
        self.mem.flush()
        return self.memory_id

    def export_line(self, text: str | None = None, record_id: str | None = None) -> Path:
        """A JSONL file (outside the store) holding the seeded memory, optionally changed."""
        rec = self.mem.get(self.memory_id, SCOPE)
        upd: dict[str, Any] = {}
        if text is not None:
            upd["text"] = text
        if record_id is not None:
            upd["id"] = record_id
        out = self.root / f"import-{len(list(self.root.glob('import-*')))}.jsonl"
        out.write_text(rec.model_copy(update=upd).model_dump_json() + "\n", encoding="utf-8")
        return out

    def exported(self) -> dict[str, Any]:
        return self.mem.export_records(SCOPE)


def arun(coro: Any) -> Any:
    return asyncio.run(coro)


# ---------------------------------------------------------------------------------- entries
Target = Callable[[Ctx], str]  # prepares the record a destructive call will remove; its id


@dataclass(frozen=True)
class Entry:
    name: str
    surface: str  # facade, async, governor, cli, langchain, llamaindex
    write: Callable[[Ctx, str], Any] | None = None  # writes `text` through the entry point
    target: Target | None = None  # seeds what `destroy` removes
    destroy: Callable[[Ctx, str], Any] | None = None  # removes the target through the entry point
    deny: Callable[[Ctx], Any] | None = None  # the call made by a principal without the permission
    resurrect: Callable[[Ctx], str] | None = None  # custom: does the entry bring a deleted id back?
    actions: frozenset[str] = frozenset()  # audit actions or decisions that name it
    hold_refuses: bool = True  # False: documented to do nothing under hold instead of raising
    na: dict[str, str] = field(default_factory=dict)
    xfail: dict[str, str] = field(default_factory=dict)

    def applies(self, prop: str) -> bool:
        if prop == "pii":
            return self.write is not None
        if prop == "hold":
            return self.destroy is not None
        if prop == "audit":
            return self.write is not None or self.destroy is not None
        if prop == "role":
            return self.deny is not None
        return self.destroy is not None or self.resurrect is not None


NO_TEXT = "writes no caller text (ids or a status only)"
NOT_DESTRUCTIVE = (
    "adds or changes data without removing any: a legal hold keeps data, it does not freeze writes"
)
NO_PRINCIPAL = (
    "no principal: the application acts as itself, bound by its own scope (adapters, facade writes)"
)
NOTHING_DELETED = "deletes nothing, so there is nothing to resurrect"


def _memory_target(ctx: Ctx) -> str:
    return ctx.memory_id


def _turn_target(ctx: Ctx) -> str:
    return ctx.turn_id


def _pending_target(ctx: Ctx) -> str:
    return ctx.pending()


def _expirable_target(ctx: Ctx) -> str:
    """The seeded fact, 60 days later than the 30-day TTL of `CONFIG` allows."""
    ctx.clock.advance(days=60)
    return ctx.memory_id


def _import_resurrect(do_import: Callable[[Ctx, Path], Any]) -> Callable[[Ctx], str]:
    def run(ctx: Ctx) -> str:
        line = ctx.export_line()
        ctx.mem.delete([ctx.memory_id], SCOPE)
        ctx.mem.flush()
        with contextlib.suppress(Exception):  # refusing the tombstoned id is fine too
            do_import(ctx, line)
        return ctx.memory_id

    return run


def _records(path: Path) -> list[MemoryRecord]:
    return [MemoryRecord.model_validate_json(x) for x in path.read_text(encoding="utf-8").splitlines() if x]


# facade / async facade ------------------------------------------------------------------
def facade_entries(
    prefix: str, call: Callable[[Ctx, str, tuple[Any, ...], dict[str, Any]], Any]
) -> list[Entry]:
    def m(name: str) -> Callable[..., Any]:
        return lambda ctx, *a, **kw: call(ctx, name, a, kw)

    def imp(ctx: Ctx, line: Path, who: Principal = ADMIN) -> Any:
        return m("import_records")(ctx, _records(line), principal=who)

    return [
        Entry(f"{prefix}.add_messages", prefix.lower(),
              write=lambda c, t: m("add_messages")(c, [{"role": "user", "content": f"mail me at {t}"}], SCOPE,
                                                   session_id="s2"),
              actions=frozenset({"write"}),
              na={"hold": NOT_DESTRUCTIVE, "role": NO_PRINCIPAL, "resurrect": NOTHING_DELETED}),
        Entry(f"{prefix}.remember", prefix.lower(),
              write=lambda c, t: m("remember")(c, f"Alice's backup address is {t}", SCOPE),
              actions=frozenset({"write"}),
              na={"hold": NOT_DESTRUCTIVE, "role": NO_PRINCIPAL, "resurrect": NOTHING_DELETED}),
        Entry(f"{prefix}.remember_many", prefix.lower(),
              write=lambda c, t: m("remember_many")(c, [f"Alice's work address is {t}", "Alice likes tea"], SCOPE),
              actions=frozenset({"write"}),
              na={"hold": NOT_DESTRUCTIVE, "role": NO_PRINCIPAL, "resurrect": NOTHING_DELETED}),
        Entry(f"{prefix}.update", prefix.lower(),
              write=lambda c, t: m("update")(c, c.memory_id, SCOPE, text=f"Alice's address is now {t}"),
              target=_memory_target,
              destroy=lambda c, rid: m("update")(c, rid, SCOPE, status=Status.DELETED),
              actions=frozenset({"update", "delete"}),
              na={"role": NO_PRINCIPAL}),
        Entry(f"{prefix}.delete", prefix.lower(), target=_memory_target,
              destroy=lambda c, rid: m("delete")(c, [rid], SCOPE), actions=frozenset({"delete"}),
              na={"pii": NO_TEXT, "role": NO_PRINCIPAL}),
        Entry(f"{prefix}.clear_session", prefix.lower(), target=_turn_target,
              destroy=lambda c, rid: m("clear_session")(c, SCOPE, SESSION), actions=frozenset({"delete"}),
              na={"pii": NO_TEXT, "role": NO_PRINCIPAL}),
        Entry(f"{prefix}.record_use", prefix.lower(),
              na={"pii": NO_TEXT, "hold": NOT_DESTRUCTIVE,
                  "audit": "use reinforcement changes access counters only (a `touch` change set, no content, "
                           "no history, by design: docs/architecture.md, path of a question, step 4)",
                  "role": NO_PRINCIPAL, "resurrect": NOTHING_DELETED}),  # fmt: skip
        Entry(f"{prefix}.import_records", prefix.lower(),
              write=lambda c, t: imp(c, c.export_line(text=f"Alice's old address was {t}", record_id="imported-1")),
              deny=lambda c: imp(c, c.export_line(text="Alice likes tea", record_id="imported-2"), AUDITOR),
              resurrect=_import_resurrect(imp),
              actions=frozenset({"import"}),
              na={"hold": NOT_DESTRUCTIVE}),
    ]  # fmt: skip


def _sync_call(ctx: Ctx, name: str, a: tuple[Any, ...], kw: dict[str, Any]) -> Any:
    return getattr(ctx.mem, name)(*a, **kw)


def _async_call(ctx: Ctx, name: str, a: tuple[Any, ...], kw: dict[str, Any]) -> Any:
    return arun(getattr(AsyncMemory(ctx.mem), name)(*a, **kw))


FACADE_READS = {  # public, and changes no memory
    "open": "constructor", "connect": "constructor", "in_memory": "constructor",
    "flush": "waits for writes already made", "drain": "waits for writes already made",
    "policy": "returns the policy in force (changing it is `memo policy set`, registered)",
    "close": "lifecycle", "aclose": "lifecycle", "stats": "write-path counters",
    "search": "read (track_access=True queues the same touch as record_use)",
    "context": "read", "get": "read", "history": "read", "recent_turns": "read", "scopes": "read",
    "records": "read", "list": "read (deprecated name of records)", "export_records": "read",
    "governor": "handle: the Governor, registered below", "engine": "handle: internal",
    "store": "handle: the raw store, below the governed seam (documented for tests and tools)",
    "sync": "handle: the wrapped Memory, registered above",
}  # fmt: skip


# governor -----------------------------------------------------------------------------------
def _gov(ctx: Ctx) -> Any:
    return ctx.mem.governor


GOVERNOR_READS = {
    "review_queue": "read (audited)", "is_held": "read", "verify_erasure": "read (audited report)",
    "export_subject": "read (audited)", "audit_verify": "read", "audit_export": "read", "stats": "read",
    "purge_files": "physical purge of bytes already erased (covered by tests/integration/test_physical_erasure.py)",
}  # fmt: skip

GOVERNOR = [
    Entry("Governor.approve", "governor",
          write=lambda c, t: _gov(c).approve(ADMIN, c.pending(), SCOPE, reason=f"checked with {t}"),
          deny=lambda c: _gov(c).approve(AUDITOR, c.pending(), SCOPE),
          actions=frozenset({"review", "update"}),
          na={"hold": NOT_DESTRUCTIVE, "resurrect": NOTHING_DELETED}),
    Entry("Governor.edit", "governor",
          write=lambda c, t: _gov(c).edit(ADMIN, c.pending(), SCOPE, f"Alice's address is {t}"),
          deny=lambda c: _gov(c).edit(AUDITOR, c.pending(), SCOPE, "Alice likes tea"),
          actions=frozenset({"review", "update"}),
          na={"hold": NOT_DESTRUCTIVE, "resurrect": NOTHING_DELETED}),
    Entry("Governor.reject", "governor", target=_pending_target,
          destroy=lambda c, rid: _gov(c).reject(ADMIN, rid, SCOPE),
          deny=lambda c: _gov(c).reject(AUDITOR, c.pending(), SCOPE),
          actions=frozenset({"review", "delete"}), na={"pii": NO_TEXT}),
    Entry("Governor.sweep(apply=True)", "governor", target=_expirable_target,
          destroy=lambda c, rid: _gov(c).sweep(ADMIN, SCOPE, apply=True),
          deny=lambda c: _gov(c).sweep(REVIEWER, SCOPE, apply=True),
          actions=frozenset({"sweep", "expire"}), hold_refuses=False, na={"pii": NO_TEXT}),
    Entry("Governor.forget_user", "governor", target=_memory_target,
          destroy=lambda c, rid: _gov(c).forget_user(ADMIN, SCOPE),
          deny=lambda c: _gov(c).forget_user(REVIEWER, SCOPE),
          actions=frozenset({"erase"}), na={"pii": NO_TEXT}),
    Entry("Governor.forget_record", "governor", target=_memory_target,
          destroy=lambda c, rid: _gov(c).forget_record(ADMIN, rid, SCOPE),
          deny=lambda c: _gov(c).forget_record(REVIEWER, c.memory_id, SCOPE),
          actions=frozenset({"erase"}), na={"pii": NO_TEXT}),
    Entry("Governor.hold/release", "governor",
          write=lambda c, t: (_gov(c).hold(ADMIN, SCOPE, f"case {t}"), _gov(c).release(ADMIN, SCOPE, f"closed {t}")),
          deny=lambda c: _gov(c).hold(REVIEWER, SCOPE, "no"),
          actions=frozenset({"hold", "release"}),
          na={"hold": "it is the legal hold itself", "resurrect": NOTHING_DELETED}),
    Entry("Governor.check(repair=True)", "governor",
          deny=lambda c: _gov(c).check(AUDITOR, repair=True),
          na={"pii": NO_TEXT, "hold": "repairs only damage (tombstones enforced, half-applied writes); "
              "its hold checks are the seam's", "audit": "covered by tests/integration/test_store_damage.py "
              "(a clean store has nothing to repair, so nothing to audit)", "resurrect":
              "repair respecting tombstones is this test's `resurrect` property of every deleting entry"}),
    Entry("Governor.import_records", "governor",
          write=lambda c, t: _gov(c).import_records(_records(c.export_line(text=f"old address {t}",
                                                                              record_id="gov-imported-1"))),
          resurrect=_import_resurrect(lambda c, line: _gov(c).import_records(_records(line))),
          actions=frozenset({"import", "write"}),
          na={"hold": NOT_DESTRUCTIVE,
              "role": "takes no principal (legacy path of `memo import`; reported as a gap: it should take one)"}),
]  # fmt: skip


# cli ------------------------------------------------------------------------------------------
def _pending_id(ctx: Ctx) -> str:
    return ctx.pending()


CLI_SCOPE = ("--tenant", TENANT, "--user", USER)
CLI_READS = {
    "list": "read (audited)", "search": "read (audited)", "show": "read (audited)", "history": "read (audited)",
    "export": "read (audited)", "stats": "read", "scopes": "read", "version": "prints the version",
    "purge-files": "physical purge of bytes already erased on a server's host (Governor.purge_files; "
    "tests/integration/test_physical_erasure.py)",
    "audit": "reads the audit log (verify, list, export)", "subject-export": "read (audited)",
    "demo": "writes a scripted conversation to a store of its own (a tour, not an entry point for data)",
    "ui": "serves the Inspector and the Governor, which are registered here; tests/ui covers the pages",
    "bench": "benchmarks on stores of their own",
    "maintain": "refreshes SQLite's planner statistics (ANALYZE: sqlite_stat1 rows only); no memory, history "
    "or audit row changes (tests/unit/test_chroma_stats.py)",
    "worker": "runs queued extraction jobs through Engine.run_jobs, the same seam as the thread worker "
    "(tests/unit/test_external_worker.py, tests/integration/test_external_worker_server.py)",
}  # fmt: skip

CLI = [
    Entry("memo import", "cli",
          write=lambda c, t: c.cli("import", str(c.export_line(text=f"old address {t}", record_id="cli-imported-1"))),
          deny=lambda c: c.cli("import", str(c.export_line(record_id="cli-imported-2")), who="auditor:eve"),
          resurrect=_import_resurrect(lambda c, line: c.cli("import", str(line))),
          actions=frozenset({"import"}), na={"hold": NOT_DESTRUCTIVE}),
    Entry("memo review approve", "cli",
          write=lambda c, t: c.cli("review", "approve", _pending_id(c), "--tenant", TENANT, "--reason", f"ok {t}"),
          deny=lambda c: c.cli("review", "approve", _pending_id(c), "--tenant", TENANT, who="auditor:eve"),
          actions=frozenset({"review", "update"}), na={"hold": NOT_DESTRUCTIVE, "resurrect": NOTHING_DELETED}),
    Entry("memo review edit", "cli",
          write=lambda c, t: c.cli("review", "edit", _pending_id(c), "--tenant", TENANT, "--text", f"address {t}"),
          deny=lambda c: c.cli("review", "edit", _pending_id(c), "--tenant", TENANT, "--text", "tea",
                               who="auditor:eve"),
          actions=frozenset({"review", "update"}), na={"hold": NOT_DESTRUCTIVE, "resurrect": NOTHING_DELETED}),
    Entry("memo review reject", "cli", target=_pending_target,
          destroy=lambda c, rid: c.cli("review", "reject", rid, "--tenant", TENANT),
          deny=lambda c: c.cli("review", "reject", _pending_id(c), "--tenant", TENANT, who="auditor:eve"),
          actions=frozenset({"review", "delete"}), na={"pii": NO_TEXT}),
    Entry("memo sweep --apply", "cli", target=_memory_target,
          destroy=lambda c, rid: c.cli("sweep", "--apply", *CLI_SCOPE),
          deny=lambda c: c.cli("sweep", "--apply", *CLI_SCOPE, who="reviewer:rita"),
          actions=frozenset({"sweep", "expire"}), hold_refuses=False, na={"pii": NO_TEXT}),
    Entry("memo erase", "cli", target=_memory_target,
          destroy=lambda c, rid: c.cli("erase", *CLI_SCOPE),
          deny=lambda c: c.cli("erase", *CLI_SCOPE, who="reviewer:rita"),
          actions=frozenset({"erase"}), na={"pii": NO_TEXT}),
    Entry("memo erase --record", "cli", target=_memory_target,
          destroy=lambda c, rid: c.cli("erase", "--record", rid, *CLI_SCOPE),
          deny=lambda c: c.cli("erase", "--record", c.memory_id, *CLI_SCOPE, who="reviewer:rita"),
          actions=frozenset({"erase"}), na={"pii": NO_TEXT}),
    Entry("memo delete", "cli", target=_memory_target,
          destroy=lambda c, rid: c.cli("delete", rid, *CLI_SCOPE),
          deny=lambda c: c.cli("delete", c.memory_id, *CLI_SCOPE, who="auditor:eve"),
          actions=frozenset({"delete"}), na={"pii": NO_TEXT}),
    Entry("memo hold", "cli",
          write=lambda c, t: (c.cli("hold", *CLI_SCOPE, "--reason", f"case {t}"),
                              c.cli("hold", "--release", *CLI_SCOPE, "--reason", f"closed {t}")),
          deny=lambda c: c.cli("hold", *CLI_SCOPE, who="reviewer:rita"),
          actions=frozenset({"hold", "release"}),
          na={"hold": "it is the legal hold itself", "resurrect": NOTHING_DELETED}),
    Entry("memo check --repair", "cli",
          deny=lambda c: c.cli("check", "--repair", who="auditor:eve"),
          na={"pii": NO_TEXT, "hold": "see Governor.check(repair=True)", "audit": "see Governor.check(repair=True)",
              "resurrect": "see Governor.check(repair=True)"}),
    Entry("memo policy set", "cli",
          deny=lambda c: c.cli("policy", "set", _policy_file(c), "--reason", "r", who="reviewer:rita"),
          na={"pii": NO_TEXT, "hold": "changes the policy, no memory", "resurrect": NOTHING_DELETED,
              "audit": "the policy store's audit entries are tested by guard's tests of policy_store"}),
]  # fmt: skip


def _policy_file(ctx: Ctx) -> str:
    path = ctx.path.parent / "policy.json"
    path.write_text(CONFIG.policy.model_dump_json(exclude={"hash_key"}))
    return str(path)


CLI_WRITE_COMMANDS = {"import", "review", "sweep", "erase", "delete", "hold", "check", "policy"}


# langchain ----------------------------------------------------------------------------------
def _lc_history(ctx: Ctx) -> Any:
    from langchain_memo import MemoChatMessageHistory

    return MemoChatMessageHistory(ctx.mem, SCOPE, SESSION)


def _lc_memory(ctx: Ctx) -> Any:
    from langchain_memo import MemoConversationMemory

    return MemoConversationMemory(memory=ctx.mem, scope=SCOPE, session_id=SESSION)


def _lc_store(ctx: Ctx) -> Any:
    from langchain_memo import MemoStore

    return MemoStore(ctx.mem, tenant=TENANT)


NS = ("memories", USER)


def _store_item(ctx: Ctx, key: str = "k1", ttl: float | None = None) -> str:
    """Put one item through MemoStore; the id of the record holding it."""
    text = f"{SEED_MEMORY} ({key})"
    _lc_store(ctx).put(NS, key, {"text": text}, ttl=ttl)
    ctx.mem.flush()
    found = [r.id for r in ctx.mem.records(SCOPE, limit=None) if r.text == text]
    assert len(found) == 1, found
    return found[0]


def _lc_tool(ctx: Ctx, name: str) -> Any:
    from langchain_memo import create_memory_tools

    return next(t for t in create_memory_tools(ctx.mem, SCOPE) if t.name == name)


def _batch_put(ctx: Ctx, text: str) -> Any:
    from langgraph.store.base import PutOp

    return _lc_store(ctx).batch([PutOp(NS, "kb", {"text": f"Alice's address is {text}"})])


def _batch_delete(ctx: Ctx, rid: str) -> Any:
    from langgraph.store.base import PutOp

    return _lc_store(ctx).batch([PutOp(NS, "k1", None)])


def _after_agent(ctx: Ctx, text: str) -> Any:
    from langchain_core.messages import AIMessage, HumanMessage

    from langchain_memo import MemoMiddleware

    state = {"messages": [HumanMessage(f"my address is {text}", id="h1"), AIMessage("noted", id="a1")]}
    return MemoMiddleware(ctx.mem, scope=SCOPE).after_agent(state, SimpleNamespace(context=None))  # type: ignore[arg-type]


def _ttl_target(ctx: Ctx) -> str:
    rid = _store_item(ctx, "kt", ttl=1.0)
    ctx.clock.advance(minutes=5)
    return rid


def _lc_human(text: str) -> Any:
    from langchain_core.messages import AIMessage, HumanMessage

    return [HumanMessage(f"my address is {text}"), AIMessage("noted")]


LANGCHAIN = [
    Entry("langchain.MemoChatMessageHistory.add_messages", "langchain",
          write=lambda c, t: _lc_history(c).add_messages(_lc_human(t)), actions=frozenset({"write"}),
          na={"hold": NOT_DESTRUCTIVE, "role": NO_PRINCIPAL, "resurrect": NOTHING_DELETED}),
    Entry("langchain.MemoChatMessageHistory.aadd_messages", "langchain",
          write=lambda c, t: arun(_lc_history(c).aadd_messages(_lc_human(t))), actions=frozenset({"write"}),
          na={"hold": NOT_DESTRUCTIVE, "role": NO_PRINCIPAL, "resurrect": NOTHING_DELETED}),
    Entry("langchain.MemoChatMessageHistory.clear", "langchain", target=_turn_target,
          destroy=lambda c, rid: _lc_history(c).clear(), actions=frozenset({"delete"}),
          na={"pii": NO_TEXT, "role": NO_PRINCIPAL}),
    Entry("langchain.MemoChatMessageHistory.aclear", "langchain", target=_turn_target,
          destroy=lambda c, rid: arun(_lc_history(c).aclear()), actions=frozenset({"delete"}),
          na={"pii": NO_TEXT, "role": NO_PRINCIPAL}),
    Entry("langchain.MemoConversationMemory.save_context", "langchain",
          write=lambda c, t: _lc_memory(c).save_context({"input": f"my address is {t}"}, {"output": "noted"}),
          actions=frozenset({"write"}),
          na={"hold": NOT_DESTRUCTIVE, "role": NO_PRINCIPAL, "resurrect": NOTHING_DELETED}),
    Entry("langchain.MemoConversationMemory.asave_context", "langchain",
          write=lambda c, t: arun(_lc_memory(c).asave_context({"input": f"my address is {t}"}, {"output": "ok"})),
          actions=frozenset({"write"}),
          na={"hold": NOT_DESTRUCTIVE, "role": NO_PRINCIPAL, "resurrect": NOTHING_DELETED}),
    Entry("langchain.MemoConversationMemory.clear", "langchain", target=_turn_target,
          destroy=lambda c, rid: _lc_memory(c).clear(), actions=frozenset({"delete"}),
          na={"pii": NO_TEXT, "role": NO_PRINCIPAL}),
    Entry("langchain.MemoConversationMemory.aclear", "langchain", target=_turn_target,
          destroy=lambda c, rid: arun(_lc_memory(c).aclear()), actions=frozenset({"delete"}),
          na={"pii": NO_TEXT, "role": NO_PRINCIPAL}),
    Entry("langchain.MemoStore.put", "langchain",
          write=lambda c, t: _lc_store(c).put(NS, "kp", {"text": f"Alice's address is {t}", "mail": t}),
          actions=frozenset({"write"}),
          na={"hold": NOT_DESTRUCTIVE, "role": NO_PRINCIPAL, "resurrect": NOTHING_DELETED}),
    Entry("langchain.MemoStore.delete", "langchain", target=lambda c: _store_item(c),
          destroy=lambda c, rid: _lc_store(c).delete(NS, "k1"), actions=frozenset({"delete"}),
          na={"pii": NO_TEXT, "role": NO_PRINCIPAL}),
    Entry("langchain.MemoStore.batch", "langchain", write=_batch_put, target=lambda c: _store_item(c),
          destroy=_batch_delete, actions=frozenset({"write", "delete"}), na={"role": NO_PRINCIPAL}),
    Entry("langchain.MemoStore.abatch", "langchain",
          write=lambda c, t: arun(_lc_store(c).aput(NS, "ka", {"text": f"Alice's address is {t}"})),
          target=lambda c: _store_item(c), destroy=lambda c, rid: arun(_lc_store(c).adelete(NS, "k1")),
          actions=frozenset({"write", "delete"}), na={"role": NO_PRINCIPAL}),
    Entry("langchain.MemoStore.sweep_ttl", "langchain", target=_ttl_target,
          destroy=lambda c, rid: _lc_store(c).sweep_ttl(), actions=frozenset({"delete"}),
          na={"pii": NO_TEXT, "role": NO_PRINCIPAL}),
    Entry("langchain.save_memory tool", "langchain",
          write=lambda c, t: _lc_tool(c, "save_memory").invoke({"text": f"Alice's address is {t}"}),
          actions=frozenset({"write"}),
          na={"hold": NOT_DESTRUCTIVE, "role": NO_PRINCIPAL, "resurrect": NOTHING_DELETED}),
    Entry("langchain.forget_memory tool", "langchain", target=_memory_target,
          destroy=lambda c, rid: _lc_tool(c, "forget_memory").invoke({"memory_id": rid}),
          actions=frozenset({"delete"}), na={"pii": NO_TEXT, "role": NO_PRINCIPAL}),
    Entry("langchain.MemoMiddleware.after_agent", "langchain", write=_after_agent, actions=frozenset({"write"}),
          na={"hold": NOT_DESTRUCTIVE, "role": NO_PRINCIPAL, "resurrect": NOTHING_DELETED}),
]  # fmt: skip

LANGCHAIN_READS = {  # public methods that change no memory, or that delegate to a registered entry
    "MemoChatMessageHistory": {"messages", "aget_messages", "get_messages", "add_message", "aadd_message",
                               "add_user_message", "add_ai_message"},
    "MemoConversationMemory": {"memory_variables", "load_memory_variables", "aload_memory_variables"},
    "MemoStore": {"get", "aget", "search", "asearch", "list_namespaces", "alist_namespaces", "put", "aput",
                  "delete", "adelete"},
    "MemoMiddleware": {"wrap_model_call", "awrap_model_call", "aafter_agent"},
}  # fmt: skip
"""(`add_message`/`add_*_message` call `add_messages`; `put`/`delete` and their async forms call
`batch`/`abatch`; `aafter_agent` shares `_to_store` with `after_agent`: each writes through a
registered entry.)"""


# llamaindex ---------------------------------------------------------------------------------
def _li_memory(ctx: Ctx) -> Any:
    from llamaindex_memo import MemoMemory

    return MemoMemory(ctx.mem, scope=SCOPE, session_id=SESSION)


def _li_msgs(text: str) -> list[Any]:
    from llama_index.core.llms import ChatMessage

    return [
        ChatMessage(role="user", content=f"my address is {text}"),
        ChatMessage(role="assistant", content="ok"),
    ]


def _li_tool(ctx: Ctx, name: str) -> Any:
    from llamaindex_memo import memory_tools

    tool = next(t for t in memory_tools(ctx.mem, SCOPE) if t.metadata.name == name)
    return tool


def _li_call(ctx: Ctx, name: str, **kw: Any) -> Any:
    out = _li_tool(ctx, name).call(**kw)
    if getattr(out, "is_error", False):
        raise getattr(out, "exception", None) or RuntimeError(str(out))
    return out


def _li_block_put(ctx: Ctx, text: str) -> Any:
    from llamaindex_memo import MemoMemoryBlock

    return arun(MemoMemoryBlock(ctx.mem, scope=SCOPE, session_id=SESSION).aput(_li_msgs(text)))


LLAMAINDEX = [
    Entry("llamaindex.MemoMemory.put", "llamaindex", write=lambda c, t: _li_memory(c).put(_li_msgs(t)[0]),
          actions=frozenset({"write"}),
          na={"hold": NOT_DESTRUCTIVE, "role": NO_PRINCIPAL, "resurrect": NOTHING_DELETED}),
    Entry("llamaindex.MemoMemory.put_messages", "llamaindex",
          write=lambda c, t: _li_memory(c).put_messages(_li_msgs(t)), actions=frozenset({"write"}),
          na={"hold": NOT_DESTRUCTIVE, "role": NO_PRINCIPAL, "resurrect": NOTHING_DELETED}),
    Entry("llamaindex.MemoMemory.set", "llamaindex", write=lambda c, t: _li_memory(c).set(_li_msgs(t)),
          target=_turn_target, destroy=lambda c, rid: _li_memory(c).set([]),
          actions=frozenset({"write", "delete"}), na={"role": NO_PRINCIPAL}),
    Entry("llamaindex.MemoMemory.reset", "llamaindex", target=_turn_target,
          destroy=lambda c, rid: _li_memory(c).reset(), actions=frozenset({"delete"}),
          na={"pii": NO_TEXT, "role": NO_PRINCIPAL}),
    Entry("llamaindex.MemoMemory.areset", "llamaindex", target=_turn_target,
          destroy=lambda c, rid: arun(_li_memory(c).areset()), actions=frozenset({"delete"}),
          na={"pii": NO_TEXT, "role": NO_PRINCIPAL}),
    Entry("llamaindex.MemoMemoryBlock.aput", "llamaindex", write=_li_block_put, actions=frozenset({"write"}),
          na={"hold": NOT_DESTRUCTIVE, "role": NO_PRINCIPAL, "resurrect": NOTHING_DELETED}),
    Entry("llamaindex.save_memory tool", "llamaindex",
          write=lambda c, t: _li_call(c, "save_memory", text=f"Alice's address is {t}"),
          actions=frozenset({"write"}),
          na={"hold": NOT_DESTRUCTIVE, "role": NO_PRINCIPAL, "resurrect": NOTHING_DELETED}),
    Entry("llamaindex.forget_memory tool", "llamaindex", target=_memory_target,
          destroy=lambda c, rid: _li_call(c, "forget_memory", memory_id=rid),
          actions=frozenset({"delete"}), na={"pii": NO_TEXT, "role": NO_PRINCIPAL}),
]  # fmt: skip

LLAMAINDEX_READS = {
    "MemoMemory": {"get", "aget", "get_all", "aget_all", "to_string", "from_string", "from_defaults",
                   "class_name", "memory", "aput", "aput_messages", "aset", "model_post_init"},
    "MemoMemoryBlock": {"memory", "aget", "atruncate", "model_post_init"},
}  # fmt: skip
"""(`aput`, `aput_messages`, `aset` are BaseMemory's: the sync method in a thread; `from_defaults`
with `chat_history` calls `set`.)"""

REGISTRY: list[Entry] = [
    *facade_entries("Memory", _sync_call),
    *facade_entries("AsyncMemory", _async_call),
    *GOVERNOR,
    *CLI,
    *LANGCHAIN,
    *LLAMAINDEX,
]


def json_dump(obj: Any) -> str:
    return json.dumps(obj, default=str, ensure_ascii=False)
