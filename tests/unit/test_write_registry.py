"""Every public entry point that writes, changes or deletes memory, checked for every governance
promise (issue #17): PII redacted, legal hold respected, audit entry written, role enforced,
nothing resurrected after reopen. The registry is `tests/unit/write_registry.py`; a public writer
missing from it fails `test_every_*_is_classified`."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import write_registry as reg
from write_registry import ADMIN, PROPS, REGISTRY, SCOPE, CliExit, Ctx, Entry

from shared_core import Memory
from shared_core.async_memory import AsyncMemory
from shared_core.errors import PermissionDenied, PolicyViolation
from shared_core.governor import Governor
from shared_core.store.base import ALL_STATUSES

try:
    from shared_core.errors import LegalHold
except ImportError:  # pragma: no cover - before guard's errors land
    LegalHold = PolicyViolation  # type: ignore[assignment,misc]


def _cases() -> Iterator[Any]:
    for entry in REGISTRY:
        for prop in PROPS:
            marks = []
            if prop in entry.xfail:
                marks.append(pytest.mark.xfail(strict=True, reason=entry.xfail[prop]))
            yield pytest.param(entry, prop, id=f"{entry.name}-{prop}", marks=marks)


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[Ctx]:
    c = Ctx(tmp_path)
    yield c
    c.close()


def _state(ctx: Ctx) -> tuple[frozenset[tuple[str, str, str]], int]:
    """What the scope holds: every record (any status) and the number of history entries."""
    ctx.mem.flush()
    recs = ctx.mem.store.list_records(SCOPE, ALL_STATUSES)
    return frozenset((r.id, r.status.value, r.text) for r in recs), len(ctx.mem.store.history(SCOPE))


def _events(ctx: Ctx) -> list[Any]:
    ctx.mem.flush()
    assert ctx.mem.engine.audit is not None
    return list(ctx.mem.engine.audit.events())


def _is_refusal(exc: BaseException, kinds: tuple[type[BaseException], ...], code: int) -> bool:
    return isinstance(exc, kinds) or (isinstance(exc, CliExit) and exc.code == code)


# -------------------------------------------------------------------------- the properties
def check_pii(ctx: Ctx, entry: Entry) -> None:
    assert entry.write is not None
    email = reg.probe_email(entry.name)
    entry.write(ctx, email)
    ctx.mem.flush()
    rows = reg.json_dump(ctx.mem.store.raw_dump())  # type: ignore[attr-defined]
    assert email not in rows, f"{entry.name}: the e-mail address is in the store's rows"
    audit = reg.json_dump([e.model_dump(mode="json") for e in _events(ctx)])
    assert email not in audit, f"{entry.name}: the e-mail address is in the audit log"
    needle = email.encode()
    leaks = [
        str(p.relative_to(ctx.path)) for p in ctx.path.rglob("*") if p.is_file() and needle in p.read_bytes()
    ]
    assert not leaks, f"{entry.name}: the e-mail address is in {leaks}"
    assert (ctx.path / "chroma.sqlite3").is_file()


def check_hold(ctx: Ctx, entry: Entry) -> None:
    assert entry.destroy is not None and entry.target is not None
    rid = entry.target(ctx)
    ctx.mem.governor.hold(ADMIN, SCOPE, "litigation")
    before = _state(ctx)
    try:
        entry.destroy(ctx, rid)
    except Exception as exc:
        assert _is_refusal(exc, (LegalHold, PolicyViolation), 4), f"{entry.name}: {exc!r}"
    else:
        assert not entry.hold_refuses, f"{entry.name} deleted under legal hold without an error"
    assert _state(ctx) == before, f"{entry.name} changed a scope under legal hold"
    # the control: released, the same call does remove it (so the check above can fail)
    ctx.mem.governor.release(ADMIN, SCOPE, "case closed")
    entry.destroy(ctx, rid)
    assert _state(ctx) != before, f"{entry.name} removed nothing even without a hold"


def check_audit(ctx: Ctx, entry: Entry) -> None:
    n = len(_events(ctx))
    if entry.write is not None:
        entry.write(ctx, "an ordinary sentence about the weather")
    else:
        assert entry.destroy is not None and entry.target is not None
        entry.destroy(ctx, entry.target(ctx))
    new = _events(ctx)[n:]
    assert new, f"{entry.name} wrote no audit event"
    named = {e.action for e in new} | {e.decision for e in new}
    assert named & entry.actions, (
        f"{entry.name}: audit events {sorted(named)} name none of {sorted(entry.actions)}"
    )
    report = ctx.mem.engine.audit.verify()  # type: ignore[union-attr]
    assert report.ok, report
    if entry.surface == "cli":
        ctx.cli("audit", "verify")  # `memo audit verify` exits 0


def check_role(ctx: Ctx, entry: Entry) -> None:
    assert entry.deny is not None
    before = _state(ctx)
    with pytest.raises((PermissionDenied, CliExit)) as info:
        entry.deny(ctx)
    assert _is_refusal(info.value, (PermissionDenied,), 4), f"{entry.name}: {info.value!r}"
    after = _state(ctx)
    # the deny drivers of review commands first queue the seeded memory themselves: compare ids and texts
    assert {(i, t) for i, _, t in after[0]} == {(i, t) for i, _, t in before[0]}, (
        f"{entry.name} wrote when refused"
    )


def check_resurrect(ctx: Ctx, entry: Entry) -> None:
    if entry.resurrect is not None:
        rid = entry.resurrect(ctx)
    else:
        assert entry.destroy is not None and entry.target is not None
        rid = entry.target(ctx)
        entry.destroy(ctx, rid)
    ctx.mem.flush()
    gone_now = {r.id for r in ctx.mem.records(SCOPE, limit=None)}
    assert rid not in gone_now, f"{entry.name} did not remove {rid}"
    mem = ctx.reopen()
    texts = {reg.SEED_MEMORY: None, reg.SEED_TURN: None}
    for text in texts:
        hits = mem.search(text, SCOPE, k=50)
        assert rid not in {h.id for h in hits}, f"{entry.name}: {rid} is back in search after reopen"
    assert rid not in {r.id for r in mem.records(SCOPE, limit=None)}, (
        f"{entry.name}: {rid} is listed after reopen"
    )


CHECKS = {"pii": check_pii, "hold": check_hold, "audit": check_audit, "role": check_role,
          "resurrect": check_resurrect}  # fmt: skip


@pytest.mark.parametrize(("entry", "prop"), list(_cases()))
def test_entry_point_keeps_its_promise(entry: Entry, prop: str, tmp_path: Path) -> None:
    reason = entry.na.get(prop)
    if not entry.applies(prop):
        assert reason and reason.strip(), (
            f"{entry.name}: {prop} has no driver and no reason it does not apply"
        )
        return
    assert reason is None, f"{entry.name}: {prop} has a driver and also says it does not apply ({reason})"
    c = Ctx(tmp_path)
    try:
        CHECKS[prop](c, entry)
    finally:
        c.close()


# ---------------------------------------------------------------- nothing unregistered
def _public(cls: type, own: bool = False) -> set[str]:
    names = vars(cls) if own else dict(inspect.getmembers(cls))
    return {n for n in names if not n.startswith("_")}


def _registered(prefix: str) -> set[str]:
    return {
        e.name.split(".", 1)[1].split("(")[0].split(" ")[0]
        for e in REGISTRY
        if e.name.startswith(prefix + ".")
    }


def _unclassified(cls: type, name: str) -> set[str]:
    return _public(cls) - _registered(name) - set(reg.FACADE_READS)


@pytest.mark.parametrize("cls", [Memory, AsyncMemory], ids=lambda c: c.__name__)
def test_every_facade_method_is_classified(cls: type) -> None:
    writers, public = _registered(cls.__name__), _public(cls)
    unknown = _unclassified(cls, cls.__name__)
    assert not unknown, (
        f"{cls.__name__}: public methods neither registered as writers nor read-only: {unknown}"
    )
    assert writers <= public, f"registered but gone: {writers - public}"
    assert writers.isdisjoint(reg.FACADE_READS)


def test_a_new_unregistered_method_fails_the_registry() -> None:
    """The check above can fail: a facade that grows a writer nobody registered is caught."""

    class Grown(Memory):
        def forget_everything(self) -> None:  # a new writing entry point, not in the registry
            raise NotImplementedError

    assert _unclassified(Grown, "Memory") == {"forget_everything"}


def test_every_governor_method_is_classified() -> None:
    writers = _registered("Governor") | {"hold", "release", "check"}
    unknown = _public(Governor) - writers - set(reg.GOVERNOR_READS)
    assert not unknown, f"Governor methods neither registered nor read-only: {unknown}"


def _subcommands() -> set[str]:
    import argparse

    from shared_core.cli.main import build_parser

    parser = build_parser()
    subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(subs.choices)


def test_every_cli_command_is_classified() -> None:
    commands = _subcommands()
    unknown = commands - reg.CLI_WRITE_COMMANDS - set(reg.CLI_READS)
    assert not unknown, f"memo commands neither registered as writers nor read-only: {unknown}"
    assert reg.CLI_WRITE_COMMANDS.isdisjoint(reg.CLI_READS)
    registered = {e.name.split()[1] for e in REGISTRY if e.surface == "cli"}
    assert registered == reg.CLI_WRITE_COMMANDS


@pytest.mark.parametrize(
    "command",
    [pytest.param(c, marks=[pytest.mark.xfail(strict=True, reason=e.xfail["registered"])]
                  if "registered" in e.xfail else [])
     for e in REGISTRY if e.surface == "cli" for c in [e.name.split()[1]]],
)  # fmt: skip
def test_registered_cli_writer_exists(command: str) -> None:
    assert command in _subcommands(), (
        f"`memo {command}` is registered as a writer but the CLI has no such command"
    )


def _adapter_classes() -> list[tuple[str, type]]:
    import langchain_memo
    import llamaindex_memo

    return [
        ("langchain", langchain_memo.MemoChatMessageHistory),
        ("langchain", langchain_memo.MemoConversationMemory),
        ("langchain", langchain_memo.MemoStore),
        ("langchain", langchain_memo.MemoMiddleware),
        ("llamaindex", llamaindex_memo.MemoMemory),
        ("llamaindex", llamaindex_memo.MemoMemoryBlock),
    ]


@pytest.mark.parametrize(("surface", "cls"), _adapter_classes(), ids=lambda x: getattr(x, "__name__", x))
def test_every_adapter_method_is_classified(surface: str, cls: type) -> None:
    """Methods the adapter class defines itself: each registered as a writer or classified."""
    reads = (reg.LANGCHAIN_READS if surface == "langchain" else reg.LLAMAINDEX_READS).get(cls.__name__, set())
    writers = {
        e.name.split(".")[-1].split(" ")[0]
        for e in REGISTRY
        if e.name.startswith(f"{surface}.{cls.__name__}.")
    }
    own = {
        n
        for n in _public(cls, own=True)
        if callable(getattr(cls, n, None)) or isinstance(vars(cls)[n], property)
    }
    own -= {"model_config", "model_fields", "model_computed_fields", "supports_ttl", "name", "description"}
    unknown = own - writers - reads
    assert not unknown, f"{cls.__name__}: public methods neither registered nor classified: {unknown}"


def test_tools_are_registered() -> None:
    from langchain_memo import create_memory_tools
    from llamaindex_memo import memory_tools

    mem = Memory.in_memory()
    lc = {t.name for t in create_memory_tools(mem, SCOPE)}
    li = {t.metadata.name for t in memory_tools(mem, SCOPE)}
    names = {e.name for e in REGISTRY}
    for surface, tools in (("langchain", lc), ("llamaindex", li)):
        for t in tools - {"search_memory"}:
            assert f"{surface}.{t} tool" in names, f"{surface} tool {t} is not registered"
    mem.close()
