"""`memo bench isolation --ops 10000`: property-based tenant isolation (hypothesis, issue #18).

A hypothesis `RuleBasedStateMachine` drives one `Memory` through generated programs over several
tenants x users x agents with hostile ids (case, trailing space, combining accents, `*`, `%`,
operator-looking JSON, SQL-looking text). Operations: add_messages (with and without extraction),
remember (with and without consolidation), update, delete, get/update/delete of another scope's id,
search, context, list, export, import (round trip, a foreign subject's import, an admin import of one
scope's export rewritten into another scope), erasure (`Governor.forget_user`), review approve and
reject, sweep, and the adapters (LangChain `MemoChatMessageHistory`, LangGraph `MemoStore`, LlamaIndex
`MemoMemory`). An oracle model holds what each exact scope owns; after every step every read scope's
listing must equal the oracle's, and every output (hits, context block, export, adapter reads) must
hold only what its scope may see. A violation is a leak.

The test `tests/unit/test_tenant_isolation.py` runs a bounded, derandomized run of the same machine;
this program runs >= `--ops` generated operations and writes `benchmarks/results/isolation.{json,md}`.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from shared_core import Memory, Scope
from shared_core.clock import ManualClock
from shared_core.embed import HashingEmbedder
from shared_core.errors import MemoError, NotFound, PermissionDenied
from shared_core.governance.access import Principal, Role
from shared_core.models import Kind, MemoryRecord, Status

# hostile ids: each pair differs by one thing a sloppy filter or key would fold together
TENANTS = ["acme", "Acme", '{"$ne": ""}']
USERS = ["alice", "alice ", "e\u0301", "*"]
AGENTS: list[str | None] = [None, "bot", "%"]
SESSIONS = ["s1", "s2"]
MARK = re.compile(r"zq\d+x")
ALL_STATUS_NAMES = [s.value for s in Status]


class Leak(AssertionError):
    """Something of one scope was visible from another, or the store disagrees with the oracle."""


@dataclass
class Rec:
    scope: Scope
    status: str
    text: str
    kind: str
    marks: frozenset[str] = frozenset()  # every marker this record's text ever held

    def core(self) -> tuple[Scope, str, str, str]:
        return (self.scope, self.status, self.text, self.kind)

    def __post_init__(self) -> None:
        self.marks = self.marks | frozenset(MARK.findall(self.text))


@dataclass
class World:
    """The system under test (one `Memory`) and the oracle: record id -> (exact scope, status, text)."""

    mem: Memory
    clock: ManualClock
    recs: dict[str, Rec] = field(default_factory=dict)
    kv: dict[tuple[str, str, str], tuple[str, str]] = field(default_factory=dict)  # MemoStore items
    erased: set[tuple[str, str]] = field(default_factory=set)
    counter: Any = field(default_factory=lambda: itertools.count())
    ops: int = 0
    checks: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    # ------------------------------------------------------------------ helpers
    def marker(self) -> str:
        return f"zq{next(self.counter)}x"

    def count(self, op: str) -> None:
        self.ops += 1
        self.counts[op] = self.counts.get(op, 0) + 1

    def visible(self, read: Scope, statuses: set[str] | None = None) -> dict[str, Rec]:
        return {
            i: r
            for i, r in self.recs.items()
            if read.contains(r.scope) and (statuses is None or r.status in statuses)
        }

    def read_scopes(self) -> list[Scope]:
        out: list[Scope] = []
        for t in TENANTS:
            for u in USERS:
                out.append(Scope(tenant=t, user=u))
                out += [Scope(tenant=t, user=u, agent=a) for a in AGENTS if a]
            out += [Scope(tenant=t, agent=a) for a in AGENTS if a]
        return out

    def actual(self) -> dict[str, Rec]:
        """Everything the store holds, read per (tenant, user): every write names both."""
        out: dict[str, Rec] = {}
        for t in TENANTS:
            for u in USERS:
                for r in self.mem.records(Scope(tenant=t, user=u), statuses=ALL_STATUS_NAMES):
                    out[r.id] = Rec(r.scope, r.status.value, r.text, r.kind.value)
        return out

    def reconcile(self, allowed: Scope, op: str) -> None:
        """Adopt what a non-deterministic operation (extraction, consolidation, sweep, adapters)
        changed, after checking that every change is inside `allowed`. Background extraction
        (adapters write with it) is waited for first."""
        self.mem.flush(timeout=120)
        now = self.actual()
        for rid in set(now) | set(self.recs):
            a, b = self.recs.get(rid), now.get(rid)
            if a is not None and b is not None:
                b.marks = b.marks | a.marks
            if (a and a.core()) == (b and b.core()):
                continue
            for r in (a, b):
                if r is not None and not allowed.contains(r.scope):
                    raise Leak(f"{op} on {allowed} changed record {rid} of {r.scope}: {a} -> {b}")
        kept = {i: now[i] for i in self.recs if i in now}  # keep the oracle's order: picks are reproducible
        self.recs = {**kept, **{i: r for i, r in now.items() if i not in kept}}

    def unchanged(self, op: str) -> None:
        now = {i: r.core() for i, r in self.actual().items()}
        was = {i: r.core() for i, r in self.recs.items()}
        if now != was:
            changed = sorted(i for i in set(now) | set(was) if now.get(i) != was.get(i))[:5]
            raise Leak(f"{op} changed records {changed}")

    def check_records(
        self, where: str, read: Scope, got: list[MemoryRecord], statuses: set[str] | None
    ) -> None:
        exp = self.visible(read, statuses)
        for r in got:
            if not read.contains(r.scope):
                raise Leak(f"{where}: {read} returned {r.id} of {r.scope}")
            if r.id not in exp:
                raise Leak(
                    f"{where}: {read} returned {r.id} ({r.scope}, {r.status.value}) the oracle does not hold"
                )

    def check_text(self, where: str, read: Scope, text: str, ever: bool = False) -> None:
        """Markers in an output must come from records `read` may see (`ever`: from any text such a
        record ever had: adapters keep the original framework message of a turn)."""
        vis = self.visible(read, {"active"}).values()
        allowed = {m for r in vis for m in (r.marks if ever else MARK.findall(r.text))}
        bad = set(MARK.findall(text)) - allowed
        if bad:
            owners = [
                (i, r.scope.tenant, r.scope.user, r.scope.agent, r.status, r.text)
                for i, r in self.recs.items()
                if bad & r.marks
            ]
            raise Leak(
                f"{where}: {read} output holds markers {sorted(bad)} it may not see (oracle: {owners[:4]}); output {text[:300]!r}"
            )

    def invariant(self) -> None:
        """After every step: every read scope lists exactly what the oracle says it holds."""
        self.checks += 1
        for read in self.read_scopes():
            got = self.mem.records(read, statuses=ALL_STATUS_NAMES)
            self.check_records("list", read, got, None)
            exp = self.visible(read)
            have = {r.id: r.status.value for r in got}
            want = {i: r.status for i, r in exp.items()}
            if have != want:
                missing = sorted(set(want) - set(have))[:5]
                extra = sorted(set(have) - set(want))[:5]
                diff = sorted(i for i in set(have) & set(want) if have[i] != want[i])[:5]
                raise Leak(f"list {read}: missing {missing}, extra {extra}, status differs {diff}")
        for t, u in self.erased:
            if any(r.scope.tenant == t and r.scope.user == u for r in self.recs.values()):
                continue  # written again after the erasure
            if self.mem.records(Scope(tenant=t, user=u), statuses=ALL_STATUS_NAMES):
                raise Leak(f"erased user {(t, u)} still has records")

    def any_marker(self, index: int) -> str:
        marks = sorted({m for r in self.recs.values() for m in MARK.findall(r.text)})
        return marks[index % len(marks)] if marks else "zq0x"


# ---------------------------------------------------------------------- principals
def admin() -> Principal:
    return Principal(id="root", role=Role.ADMIN)


def subject(sc: Scope) -> Principal:
    return Principal(id="subj", role=Role.SUBJECT, scope=Scope(tenant=sc.tenant, user=sc.user))


def reviewer(tenant: str) -> Principal:
    return Principal(id="rev", role=Role.REVIEWER, scope=Scope(tenant=tenant))


def new_world(store: str, base: Path | None) -> tuple[World, Callable[[], None]]:
    """A fresh `Memory`: `memory` (in-memory store, same `StoreContract`) or `chroma` (embedded, in a
    new directory under `base`)."""
    clock = ManualClock()
    emb = HashingEmbedder(dim=64)
    if store == "memory":
        mem = Memory.in_memory(embedder=emb, clock=clock)
        return World(mem, clock), mem.close
    path = Path(tempfile.mkdtemp(prefix="iso-", dir=base))
    mem = Memory.open(path, embedder=emb, clock=clock)

    def close() -> None:
        mem.close()
        shutil.rmtree(path, ignore_errors=True)

    return World(mem, clock), close


# Rules left out of a run (`--skip-known`). This machine found one leak (seed 0: an admin import of
# one scope's export rewritten into another scope, ids kept, moved the records across tenants); the
# engine now refuses ids owned by another scope, so nothing is left out.
KNOWN_LEAKS: frozenset[str] = frozenset()  # none: the engine refuses ids owned by another scope


def build_machine(
    store: str = "memory", base: Path | None = None, exclude: frozenset[str] = frozenset()
) -> Any:
    """The hypothesis state machine over a fresh `World` per example (hypothesis imported here);
    rules named in `exclude` never run."""
    from hypothesis import strategies as st
    from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

    tenants, users, agents = st.sampled_from(TENANTS), st.sampled_from(USERS), st.sampled_from(AGENTS)
    scopes = st.builds(lambda t, u, a: Scope(tenant=t, user=u, agent=a), tenants, users, agents)
    sessions = st.sampled_from(SESSIONS)
    picks = st.integers(min_value=0, max_value=10_000)

    class Isolation(RuleBasedStateMachine):
        world: World
        stats: dict[str, Any] = {"ops": 0, "examples": 0, "counts": {}}

        @initialize()
        def start(self) -> None:
            self.world, self._close = new_world(store, base)
            Isolation.stats["examples"] += 1

        def teardown(self) -> None:
            w = getattr(self, "world", None)
            if w is not None:
                Isolation.stats["ops"] += w.ops
                counts = Isolation.stats["counts"]
                for k, v in w.counts.items():
                    counts[k] = counts.get(k, 0) + v
                self._close()

        def pick(self, n: int, pred: Callable[[Rec], bool] = lambda r: True) -> tuple[str, Rec] | None:
            items = [(i, r) for i, r in self.world.recs.items() if pred(r)]
            return items[n % len(items)] if items else None

        # ------------------------------------------------------------------ writes
        @rule(sc=scopes, sid=sessions, n=st.integers(1, 3))
        def add_messages(self, sc: Scope, sid: str, n: int) -> None:
            w = self.world
            msgs = [
                {"role": "user" if i % 2 == 0 else "assistant", "content": f"turn {w.marker()} of {sc.user}"}
                for i in range(n)
            ]
            res = w.mem.add_messages(msgs, sc, sid, extract=False)
            for e in res.episodes:
                w.recs[e.id] = Rec(sc, "active", e.text, e.kind.value)
            w.count("add_messages")

        @rule(sc=scopes, sid=sessions, city=st.sampled_from(["Berlin", "Lyon", "Oslo"]))
        def add_messages_extracting(self, sc: Scope, sid: str, city: str) -> None:
            w = self.world
            m = w.marker()
            w.mem.add_messages(
                [{"role": "user", "content": f"I live in {city} {m}. I like jazz {m}."}], sc, sid, wait=True
            )
            w.reconcile(Scope(tenant=sc.tenant, user=sc.user), "add_messages(extract)")
            w.count("add_messages_extract")

        @rule(sc=scopes, consolidate=st.booleans(), kind=st.sampled_from([Kind.FACT, Kind.PREFERENCE]))
        def remember(self, sc: Scope, consolidate: bool, kind: Kind) -> None:
            w = self.world
            rec = w.mem.remember(f"{sc.user} likes {w.marker()}", sc, kind=kind, consolidate=consolidate)
            if consolidate:
                w.reconcile(Scope(tenant=sc.tenant, user=sc.user), "remember(consolidate)")
            else:
                w.recs[rec.id] = Rec(sc, rec.status.value, rec.text, rec.kind.value)
            w.count("remember")

        @rule(n=picks)
        def update(self, n: int) -> None:
            w = self.world
            got = self.pick(n, lambda r: r.status == "active")
            if got is None:
                return
            rid, r = got
            new = w.mem.update(rid, r.scope, text=f"{r.scope.user} now likes {w.marker()}")
            w.recs[rid] = Rec(r.scope, new.status.value, new.text, r.kind, r.marks)
            w.count("update")

        @rule(n=picks)
        def delete(self, n: int) -> None:
            w = self.world
            got = self.pick(n)
            if got is None:
                return
            rid, r = got
            assert w.mem.delete([rid], r.scope) == [rid]
            del w.recs[rid]
            w.count("delete")

        @rule(n=picks, other=scopes)
        def cross_scope_access(self, n: int, other: Scope) -> None:
            """get / update / delete of a record through a scope that does not contain it: NotFound, nothing changes."""
            w = self.world
            got = self.pick(n, lambda r: not other.contains(r.scope))
            if got is None:
                return
            rid, _ = got
            calls: list[Callable[[], object]] = [
                lambda: w.mem.get(rid, other),
                lambda: w.mem.update(rid, other, text=f"hijacked {w.marker()}"),
            ]
            for call in calls:
                try:
                    call()
                except NotFound:
                    pass
                else:
                    raise Leak(f"{other} reached record {rid} of {w.recs[rid].scope}")
            if w.mem.delete([rid], other):
                raise Leak(f"{other} deleted record {rid} of {w.recs[rid].scope}")
            w.count("cross_scope_access")

        # ------------------------------------------------------------------- reads
        @rule(read=st.sampled_from([0, 1, 2]), sc=scopes, n=picks)
        def search(self, read: int, sc: Scope, n: int) -> None:
            w = self.world
            rs = [
                Scope(tenant=sc.tenant, user=sc.user),
                sc,
                Scope(tenant=sc.tenant, agent=sc.agent or "bot"),
            ][read]
            q = w.any_marker(n)
            hits = w.mem.search(q, rs, k=20)
            w.check_records("search", rs, [h.record for h in hits], {"active"})
            w.count("search")

        @rule(sc=scopes, n=picks)
        def context(self, sc: Scope, n: int) -> None:
            w = self.world
            rs = Scope(tenant=sc.tenant, user=sc.user)
            ctx = w.mem.context(f"what does {sc.user} like {w.any_marker(n)}", rs)
            w.check_records("context", rs, [h.record for h in ctx.hits], {"active"})
            w.check_text("context", rs, ctx.text)
            w.count("context")

        @rule(sc=scopes)
        def export(self, sc: Scope) -> None:
            w = self.world
            rs = Scope(tenant=sc.tenant, user=sc.user)
            out = w.mem.export_records(rs)
            ids = {r["id"] for r in out["records"]}
            if ids != set(w.visible(rs)):
                raise Leak(f"export {rs}: {sorted(ids ^ set(w.visible(rs)))[:5]} differ from the oracle")
            for e in out["history"]:
                if not rs.contains(Scope.model_validate(e["scope"])):
                    raise Leak(f"export {rs} holds history of {e['scope']}")
            w.count("export")

        # ------------------------------------------------------------------ import
        @rule(sc=scopes)
        def import_round_trip(self, sc: Scope) -> None:
            w = self.world
            rs = Scope(tenant=sc.tenant, user=sc.user)
            out = w.mem.export_records(rs)
            if not out["records"]:
                return
            w.mem.import_records(out["records"], out["history"], principal=subject(rs))
            w.reconcile(rs, "import(round trip)")
            w.count("import_round_trip")

        @rule(src=scopes, dst=scopes)
        def import_foreign_by_subject(self, src: Scope, dst: Scope) -> None:
            """A subject imports another user's export: refused, nothing written."""
            w = self.world
            a, b = Scope(tenant=src.tenant, user=src.user), Scope(tenant=dst.tenant, user=dst.user)
            out = w.mem.export_records(a)
            if a == b or not out["records"]:
                return
            try:
                w.mem.import_records(out["records"], out["history"], principal=subject(b))
            except PermissionDenied:
                pass
            else:
                raise Leak(f"subject of {b} imported records of {a}")
            w.unchanged("import(refused)")
            w.count("import_foreign_refused")

        @precondition(lambda self: "import_rewritten_by_admin" not in exclude)
        @rule(src=scopes, dst=scopes)
        def import_rewritten_by_admin(self, src: Scope, dst: Scope) -> None:
            """An admin imports one user's export rewritten into another scope, ids kept: the source
            scope must not change (an id collision may not move a record across scopes)."""
            w = self.world
            a, b = Scope(tenant=src.tenant, user=src.user), Scope(tenant=dst.tenant, user=dst.user)
            out = w.mem.export_records(a)
            if a == b or not out["records"]:
                return
            bs = b.model_dump(mode="json")
            recs = [
                {**r, "scope": {**bs, "agent": r["scope"].get("agent"), "session": r["scope"].get("session")}}
                for r in out["records"]
            ]
            try:
                w.mem.import_records(recs, [], principal=admin())
            except MemoError:
                pass  # refusing is fine; moving is not
            w.reconcile(b, "import(rewritten into another scope)")
            w.count("import_rewritten")

        # -------------------------------------------------------------- governance
        @precondition(lambda self: len(self.world.recs) >= 4)
        @rule(sc=scopes)
        def erase(self, sc: Scope) -> None:
            w = self.world
            rs = Scope(tenant=sc.tenant, user=sc.user)
            w.mem.governor.forget_user(subject(rs), rs)
            w.recs = {i: r for i, r in w.recs.items() if not rs.contains(r.scope)}
            w.kv = {k: v for k, v in w.kv.items() if (k[0], k[1]) != (rs.tenant, rs.user)}
            w.erased.add((rs.tenant, str(rs.user)))
            if w.mem.search(f"{sc.user} likes", rs, k=5):
                raise Leak(f"erased {rs} still answers searches")
            w.count("erase")

        @rule(n=picks, approve=st.booleans(), wrong=tenants)
        def review(self, n: int, approve: bool, wrong: str) -> None:
            w = self.world
            got = self.pick(n, lambda r: r.status == "active" and r.kind != "episode")
            if got is None:
                return
            rid, r = got
            w.mem.update(rid, r.scope, status=Status.PENDING_REVIEW)
            w.recs[rid] = Rec(r.scope, "pending_review", r.text, r.kind, r.marks)
            if wrong != r.scope.tenant:  # a reviewer of another tenant is refused
                try:
                    w.mem.governor.approve(reviewer(wrong), rid, r.scope)
                except PermissionDenied:
                    pass
                else:
                    raise Leak(f"a reviewer of {wrong!r} approved {rid} of {r.scope}")
            if approve:
                w.mem.governor.approve(reviewer(r.scope.tenant), rid, r.scope)
                w.recs[rid] = Rec(r.scope, "active", r.text, r.kind, r.marks)
            else:
                w.mem.governor.reject(reviewer(r.scope.tenant), rid, r.scope)
                del w.recs[rid]
            w.count("review")

        @precondition(lambda self: len(self.world.recs) >= 4)
        @rule(sc=scopes, days=st.integers(0, 400))
        def sweep(self, sc: Scope, days: int) -> None:
            w = self.world
            w.clock.advance(timedelta(days=days))
            rs = Scope(tenant=sc.tenant, user=sc.user)
            w.mem.governor.sweep(admin(), rs, apply=True)
            w.reconcile(rs, "sweep")
            w.count("sweep")

        # ---------------------------------------------------------------- adapters
        @rule(sc=scopes, sid=sessions)
        def langchain_history(self, sc: Scope, sid: str) -> None:
            from langchain_core.messages import AIMessage, HumanMessage

            from langchain_memo import MemoChatMessageHistory

            w = self.world
            h = MemoChatMessageHistory(w.mem, sc, sid)
            h.add_messages([HumanMessage(f"hi {w.marker()}"), AIMessage(f"hello {w.marker()}")])
            w.reconcile(sc, "MemoChatMessageHistory.add_messages")
            got = [str(m.content) for m in MemoChatMessageHistory(w.mem, sc, sid).messages]
            want = [r.text for i, r in sorted(w.visible(sc, {"active"}).items()) if r.kind == "episode"]
            w.check_text("MemoChatMessageHistory.messages", sc, " ".join(got), ever=True)
            if len(got) > len(want):
                raise Leak(f"MemoChatMessageHistory({sc}, {sid}) read {got[:3]}")
            w.count("langchain_history")

        @rule(t=tenants, u=users, key=st.sampled_from(["k1", "k2"]), n=picks)
        def langgraph_store(self, t: str, u: str, key: str, n: int) -> None:
            from langchain_memo import MemoStore

            w = self.world
            store = MemoStore(w.mem, tenant=t)
            m = w.marker()
            store.put(("memories", u), key, {"text": f"item {m}"})
            w.reconcile(Scope(tenant=t, user=u), "MemoStore.put")
            rid = next(i for i, r in w.recs.items() if m in r.text)
            w.kv[(t, u, key)] = (rid, f"item {m}")
            for (t2, u2, k2), (rid2, text) in list(w.kv.items()):
                if t2 != t:
                    continue
                item = store.get(("memories", u2), k2)
                live = rid2 in w.recs and w.recs[rid2].status == "active"
                got = None if item is None else item.value.get("text")
                if got != (text if live else None):
                    raise Leak(
                        f"MemoStore({t!r}).get(({u2!r}), {k2}) = {got!r}, oracle {text if live else None!r}"
                    )
            for item in store.search(("memories", u), query=w.any_marker(n), limit=20):
                if item.namespace != ("memories", u):
                    raise Leak(f"MemoStore search of {u!r} returned namespace {item.namespace}")
                w.check_text("MemoStore.search", Scope(tenant=t, user=u), json.dumps(item.value), ever=True)
            w.count("langgraph_store")

        @rule(sc=scopes, sid=sessions, n=picks)
        def llamaindex_memory(self, sc: Scope, sid: str, n: int) -> None:
            from llama_index.core.base.llms.types import ChatMessage, MessageRole

            from llamaindex_memo import MemoMemory

            w = self.world
            mm = MemoMemory(w.mem, scope=sc, session_id=sid)
            mm.put(ChatMessage(role=MessageRole.USER, content=f"note {w.marker()} about {w.any_marker(n)}"))
            w.reconcile(sc, "MemoMemory.put")
            fresh = MemoMemory(w.mem, scope=sc, session_id=sid)
            w.check_text(
                "MemoMemory.get_all", sc, " ".join(str(m.content) for m in fresh.get_all()), ever=True
            )
            w.check_text(
                "MemoMemory.get", sc, " ".join(str(m.content) for m in fresh.get(w.any_marker(n))), ever=True
            )
            w.count("llamaindex_memory")

        @invariant()
        def nothing_leaks(self) -> None:
            if hasattr(self, "world"):
                self.world.invariant()

    return Isolation


# ----------------------------------------------------------------------------- program
def run(
    ops: int,
    *,
    store: str = "memory",
    steps: int = 50,
    seed: int = 0,
    base: Path | None = None,
    progress: bool = True,
    exclude: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Run generated programs (`steps` steps each) until `ops` operations ran; one seed per batch."""
    from hypothesis import HealthCheck, Phase, settings
    from hypothesis import seed as hseed
    from hypothesis.stateful import run_state_machine_as_test

    machine = build_machine(store, base, exclude)
    done, seeds, failures = 0, [], []
    t0 = time.monotonic()
    batch = seed
    while done < ops:
        before = machine.stats["ops"]
        cfg = settings(
            max_examples=20,
            stateful_step_count=steps,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.generate],
        )
        seeded = hseed(batch)(machine)
        try:
            run_state_machine_as_test(seeded, settings=cfg)
        except Exception as exc:  # a leak (after shrinking) or a crash: both are failures
            inner = [f"{type(e).__name__}: {e}" for e in getattr(exc, "exceptions", [])]
            failures.append(
                {
                    "seed": batch,
                    "error": f"{type(exc).__name__}: {exc}"[:2000],
                    "causes": [c[:2000] for c in inner],
                }
            )
        seeds.append(batch)
        done = machine.stats["ops"]
        if progress:
            print(
                f"[isolation] seed {batch}: {done - before} ops, {done} total, {len(failures)} failures, "
                f"{time.monotonic() - t0:.0f} s",
                flush=True,
            )
        batch += 1
    return {
        "ops": done,
        "examples": machine.stats["examples"],
        "leaks": len(failures),
        "failures": failures,
        "seeds": seeds,
        "store": store,
        "steps_per_example": steps,
        "counts": dict(sorted(machine.stats["counts"].items())),
        "duration_s": round(time.monotonic() - t0, 1),
        "excluded_rules": sorted(exclude),
        "scopes": {"tenants": TENANTS, "users": USERS, "agents": AGENTS, "sessions": SESSIONS},
    }


def _markdown(out: dict[str, Any]) -> str:
    rows = "\n".join(f"| {k} | {v} |" for k, v in out["counts"].items())
    return (
        f"# Tenant isolation (property-based, hypothesis)\n\n`{out['command']}` on {out['machine'].get('cpu')} "
        f"({out['machine'].get('cpu_count')} cores, load {out['machine'].get('loadavg_1_5_15')} at start)\n\n"
        f"- store: {out['store']}\n- operations: {out['ops']} in {out['examples']} generated programs\n"
        f"- leaks: {out['leaks']}\n- excluded rules (known leaks): {out['excluded_rules']}\n- seeds: {out['seeds'][0]}..{out['seeds'][-1]}\n"
        f"- duration: {out['duration_s']} s\n\n| operation | count |\n|---|---|\n{rows}\n"
    )


def cmd_isolation(args: argparse.Namespace) -> int:
    from .runinfo import RESULTS_DIR, _command, _write_json, git_sha, machine_info

    try:
        import hypothesis  # noqa: F401
    except ImportError:
        print("memo bench isolation needs hypothesis: pip install 'hypothesis>=6'")
        return 3
    machine = machine_info()
    exclude = KNOWN_LEAKS if args.skip_known else frozenset()
    out = run(args.ops, store=args.store, steps=args.steps, seed=args.seed, exclude=exclude)
    out.update(
        {
            "command": _command(args),
            "machine": machine,
            "git_sha": git_sha(),
            "loadavg_at_end": machine_info().get("loadavg_1_5_15"),
        }
    )
    dest = Path(args.out) if args.out else RESULTS_DIR / "isolation.json"
    _write_json(dest, out)
    dest.with_suffix(".md").write_text(_markdown(out), encoding="utf-8")
    print(f"isolation: {out['ops']} ops, {out['leaks']} leaks, {out['duration_s']} s -> {dest}")
    return 1 if out["leaks"] else 0


def add_parser(sub: Any) -> None:
    """`memo bench isolation` (registered by `cli.add_bench_subcommands`)."""
    p = sub.add_parser("isolation", help="property-based tenant isolation over N generated operations")
    p.add_argument("--ops", type=int, default=10_000)
    p.add_argument("--store", choices=["memory", "chroma"], default="memory")
    p.add_argument("--steps", type=int, default=50, help="operations per generated program")
    p.add_argument("--seed", type=int, default=0, help="first hypothesis seed (one per batch of programs)")
    p.add_argument(
        "--skip-known", action="store_true", help=f"leave out the known leaks: {sorted(KNOWN_LEAKS)}"
    )
    p.add_argument("--out", default=None, help="results JSON (default benchmarks/results/isolation.json)")
    p.add_argument("--command-line", default=None, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_isolation)


if __name__ == "__main__":  # `python -m memo_bench.isolation --ops 10000` (before `memo bench` registers it)
    import shlex
    import sys

    _parser = argparse.ArgumentParser(prog="python -m memo_bench.isolation")
    add_parser(_parser.add_subparsers(dest="bench_command", required=True))
    _args = _parser.parse_args(["isolation", *sys.argv[1:]])
    _args.command_line = _args.command_line or shlex.join(
        ["python", "-m", "memo_bench.isolation", *sys.argv[1:]]
    )
    sys.exit(cmd_isolation(_args))
