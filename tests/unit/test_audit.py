"""The hash-chained audit log of shared_core.governance.audit and its two backends."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from shared_core.clock import ManualClock
from shared_core.errors import AuditIntegrityError, InvalidInput, MemoError
from shared_core.governance.audit import (
    GENESIS,
    AuditAppendConflict,
    AuditBackend,
    AuditEvent,
    AuditLog,
    InMemoryAuditBackend,
    build_event,
    compute_hash,
    payload_digest,
    redact_payload,
    verify,
)
from shared_core.governance.audit_file import FileAuditBackend
from shared_core.models import Scope

ALICE = Scope(tenant="acme", user="alice")
BOB = Scope(tenant="acme", user="bob")
T0 = datetime(2024, 1, 1, tzinfo=timezone.utc)


def _log(backend: AuditBackend | None = None) -> AuditLog:
    return AuditLog(backend or InMemoryAuditBackend(), ManualClock(T0))


def _fill(log: AuditLog, n: int = 5) -> list[AuditEvent]:
    scopes = [
        ALICE,
        BOB,
        None,
        Scope(tenant="acme", user="alice", session="s1"),
        Scope(tenant="other", user="alice"),
    ]
    return [
        log.append(
            actor="system",
            action="write",
            scope=scopes[i % len(scopes)],
            record_id=f"r{i}",
            decision="keep",
            reason="stated",
            payload={"text": f"secret fact {i}", "n": i, "score": 0.5, "ok": True, "none": None},
        )
        for i in range(n)
    ]


# ----------------------------------------------------------------------------- hashing format


def test_hash_covers_canonical_fields_and_payload_digest() -> None:
    ev = build_event(
        seq=0,
        at=T0,
        actor="a",
        action="write",
        scope=ALICE,
        record_id="r1",
        decision="keep",
        reason="why",
        payload={"b": 1, "a": "x"},
        prev_hash=GENESIS,
    )
    digest = hashlib.sha256(b'{"a":"x","b":1}').hexdigest()
    assert ev.payload_digest == digest
    fields = {
        "v": 1,
        "seq": 0,
        "at": "2024-01-01T00:00:00+00:00",
        "actor": "a",
        "action": "write",
        "scope": {"tenant": "acme", "user": "alice", "agent": None, "session": None},
        "record_id": "r1",
        "decision": "keep",
        "reason": "why",
        "payload_digest": digest,
        "prev_hash": GENESIS,
    }
    expected = hashlib.sha256(json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    assert ev.hash == expected == compute_hash(ev)


def test_events_chain_and_use_the_clock() -> None:
    clock = ManualClock(T0)
    log = AuditLog(InMemoryAuditBackend(), clock)
    a = log.append("system", "write", ALICE, "r1", "keep", "stated", {"k": 1})
    clock.advance(timedelta(seconds=5))
    b = log.append("system", "update", ALICE, "r1", "merge", "duplicate")
    assert (a.seq, b.seq) == (0, 1)
    assert a.prev_hash == GENESIS and b.prev_hash == a.hash
    assert b.at == T0 + timedelta(seconds=5)
    assert log.verify().ok


def test_json_round_trip_keeps_types_and_hash() -> None:
    log = _log()
    ev = log.append("s", "write", ALICE, None, "keep", "", {"i": 1, "f": 1.0, "b": True, "s": "1", "n": None})
    back = AuditEvent.model_validate_json(ev.model_dump_json())
    assert back == ev
    assert (
        type(back.payload["b"]) is bool
        and type(back.payload["i"]) is int
        and type(back.payload["f"]) is float
    )
    assert verify([back]).ok


@pytest.mark.parametrize(
    "payload",
    [{"nested": {"a": 1}}, {"list": [1, 2]}, {"nan": float("nan")}, {"inf": float("inf")}],
)
def test_payload_must_be_flat_finite_scalars(payload: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(InvalidInput):
        _log().append("s", "write", ALICE, None, "keep", "", payload)


def test_empty_actor_or_action_is_refused() -> None:
    with pytest.raises(InvalidInput):
        _log().append("", "write")
    with pytest.raises(InvalidInput):
        _log().append("s", "")


# ----------------------------------------------------------------------------- verify


def test_verify_ok_and_report() -> None:
    log = _log()
    events = _fill(log)
    rep = log.verify()
    assert rep.ok and rep.count == 5 and rep.problem is None and rep.head_hash == events[-1].hash
    assert verify([]).ok


def test_changed_payload_is_detected() -> None:
    events = _fill(_log())
    events[2] = events[2].model_copy(update={"payload": {**events[2].payload, "n": 99}})
    rep = verify(events)
    assert (rep.ok, rep.problem, rep.first_bad_seq) == (False, "changed", 2)


def test_changed_field_is_detected() -> None:
    events = _fill(_log())
    events[3] = events[3].model_copy(update={"reason": "tampered"})
    rep = verify(events)
    assert (rep.problem, rep.first_bad_seq) == ("changed", 3)


def test_changed_and_rehashed_entry_breaks_the_next_link() -> None:
    events = _fill(_log())
    forged = events[1].model_copy(update={"decision": "drop"})
    events[1] = forged.model_copy(update={"hash": compute_hash(forged)})
    rep = verify(events)
    assert not rep.ok and rep.first_bad_seq == 2 and rep.problem == "removed"


def test_removed_entry_is_detected() -> None:
    events = _fill(_log())
    del events[2]
    rep = verify(events)
    assert (rep.problem, rep.first_bad_seq) == ("removed", 2)


def test_removed_and_renumbered_is_detected() -> None:
    events = _fill(_log())
    del events[2]
    renumbered = events[:2]
    for ev in events[2:]:
        moved = ev.model_copy(update={"seq": ev.seq - 1})
        renumbered.append(moved.model_copy(update={"hash": compute_hash(moved)}))
    rep = verify(renumbered)
    assert (rep.problem, rep.first_bad_seq) == ("removed", 2)


def test_reordering_is_detected() -> None:
    events = _fill(_log())
    events[1], events[2] = events[2], events[1]
    rep = verify(events)
    assert rep.problem == "reordered" and not rep.ok
    events = _fill(_log())
    rep = verify([events[0], events[1], events[3], events[2], events[4]])
    assert rep.problem == "reordered"


def test_truncated_head_is_bad_genesis() -> None:
    events = _fill(_log())
    rep = verify(events[2:])
    assert (rep.problem, rep.first_bad_seq) == ("bad genesis", 2)


def test_truncated_tail_needs_the_anchor() -> None:
    events = _fill(_log())
    head = events[-1].hash
    assert verify(events[:-1]).ok  # a chain cannot see its own missing tail
    rep = verify(events[:-1], expected_head=head)
    assert (rep.problem, rep.first_bad_seq) == ("removed", 4)
    assert verify(events, expected_head=head).ok


# ----------------------------------------------------------------------------- redaction


def test_redact_payload_keeps_the_chain() -> None:
    events = _fill(_log())
    red = redact_payload(events[1])
    assert red.payload == {"sha256": events[1].payload_digest} and red.payload_redacted
    assert red.hash == events[1].hash
    assert redact_payload(red) == red
    events[1] = red
    assert verify(events).ok
    # a "redacted" payload that does not match the digest is a change
    events[1] = red.model_copy(update={"payload": {"sha256": "0" * 64}})
    assert verify(events).problem == "changed"


def test_redact_scope_only_touches_contained_scopes() -> None:
    log = _log()
    _fill(log, 10)
    n = log.redact_scope(ALICE)
    events = log.events()
    redacted = {e.seq for e in events if e.payload_redacted}
    expected = {e.seq for e in events if e.scope is not None and ALICE.contains(e.scope)}
    assert redacted == expected and n == len(expected) == 4  # alice and alice/s1, twice each
    assert all("secret fact" not in json.dumps(e.payload) for e in events if e.seq in redacted)
    assert log.verify().ok
    assert log.redact_scope(ALICE) == 0  # idempotent


def test_replace_refuses_more_than_a_payload_change() -> None:
    backend = InMemoryAuditBackend()
    log = _log(backend)
    events = _fill(log, 3)
    with pytest.raises(AuditIntegrityError):
        backend.replace([events[1].model_copy(update={"reason": "x"})])
    with pytest.raises(AuditIntegrityError):
        backend.replace([events[1].model_copy(update={"payload": {"text": "other"}})])
    with pytest.raises(AuditIntegrityError):
        backend.replace([events[1].model_copy(update={"seq": 7})])
    assert log.verify().ok


def test_export_is_json_ready() -> None:
    log = _log()
    _fill(log, 2)
    out = log.export()
    assert [e["seq"] for e in out] == [0, 1]
    assert isinstance(out[0]["at"], str)
    json.dumps(out)


# ----------------------------------------------------------------------------- append races


class _LosingBackend(InMemoryAuditBackend):
    """Loses the race `losses` times (another writer sneaks in an event each time)."""

    def __init__(self, losses: int) -> None:
        super().__init__()
        self.losses = losses
        self.other = AuditLog(InMemoryAuditBackend(), ManualClock(T0))

    def try_append(self, event: AuditEvent) -> bool:
        if self.losses > 0:
            self.losses -= 1
            last = self.last()
            rival = build_event(
                seq=0 if last is None else last.seq + 1,
                at=T0,
                actor="rival",
                action="write",
                scope=None,
                record_id=None,
                decision="",
                reason="",
                payload=None,
                prev_hash=GENESIS if last is None else last.hash,
            )
            assert super().try_append(rival)
            return super().try_append(event)  # stale: refused
        return super().try_append(event)


def test_append_retries_after_losing_races() -> None:
    backend = _LosingBackend(losses=3)
    log = AuditLog(backend, ManualClock(T0))
    ev = log.append("me", "write", ALICE)
    assert ev.seq == 3
    assert [e.actor for e in log.events()] == ["rival", "rival", "rival", "me"]
    assert log.verify().ok


def test_append_gives_up_with_a_clear_error() -> None:
    log = AuditLog(_LosingBackend(losses=1000), ManualClock(T0), max_retries=5)
    with pytest.raises(AuditAppendConflict) as info:
        log.append("me", "write", ALICE)
    assert isinstance(info.value, AuditIntegrityError) and isinstance(info.value, MemoError)


def test_backend_refuses_gaps_and_bad_links() -> None:
    backend = InMemoryAuditBackend()
    first = build_event(
        seq=0, at=T0, actor="a", action="write", scope=None, record_id=None,
        decision="", reason="", payload=None, prev_hash=GENESIS,
    )  # fmt: skip
    assert backend.try_append(first)
    assert not backend.try_append(first)  # seq 0 taken
    gap = build_event(
        seq=2, at=T0, actor="a", action="write", scope=None, record_id=None,
        decision="", reason="", payload=None, prev_hash=first.hash,
    )  # fmt: skip
    assert not backend.try_append(gap)
    unlinked = build_event(
        seq=1, at=T0, actor="a", action="write", scope=None, record_id=None,
        decision="", reason="", payload=None, prev_hash="f" * 64,
    )  # fmt: skip
    assert not backend.try_append(unlinked)


def test_threads_append_to_memory_backend() -> None:
    log = _log()
    threads = [
        threading.Thread(target=lambda i=i: [log.append(f"t{i}", "write", ALICE) for _ in range(50)])
        for i in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rep = log.verify()
    assert rep.ok and rep.count == 400


def test_protocol_is_satisfied(tmp_path: Path) -> None:
    assert isinstance(InMemoryAuditBackend(), AuditBackend)
    assert isinstance(FileAuditBackend(tmp_path / "a.jsonl"), AuditBackend)


# ----------------------------------------------------------------------------- file backend


def test_file_backend_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "audit.jsonl"
    backend = FileAuditBackend(path)
    assert backend.last() is None and backend.read() == []
    log = _log(backend)
    events = _fill(log, 6)
    assert backend.last() == events[-1]
    assert backend.read() == events
    assert backend.read(start_seq=4) == events[4:]
    assert len(path.read_bytes().splitlines()) == 6
    assert log.verify().ok
    # a fresh backend object on the same file continues the chain
    log2 = _log(FileAuditBackend(path))
    assert log2.append("s", "read", ALICE).seq == 6
    assert log2.verify().ok


def test_file_backend_large_lines(tmp_path: Path) -> None:
    backend = FileAuditBackend(tmp_path / "audit.jsonl")
    log = _log(backend)
    for i in range(3):
        log.append("s", "write", ALICE, payload={"blob": "x" * 20_000, "i": i})
    last = backend.last()
    assert last is not None and last.seq == 2 and last.payload["i"] == 2
    assert log.verify().ok


def test_torn_last_line_is_ignored_then_repaired(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    backend = FileAuditBackend(path)
    log = _log(backend)
    events = _fill(log, 3)
    with open(path, "ab") as f:  # a crash in the middle of writing event 3
        f.write(b'{"seq": 3, "at": "2024-01-01T00:0')
    assert backend.read() == events
    assert backend.last() == events[-1]
    assert log.verify().ok
    ev = log.append("s", "write", ALICE)
    assert ev.seq == 3
    data = path.read_bytes()
    assert data.endswith(b"\n") and b"2024-01-01T00:0\n" not in data
    assert len(data.splitlines()) == 4
    assert log.verify().ok


def test_corrupt_middle_line_fails_verification(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = _log(FileAuditBackend(path))
    _fill(log, 3)
    lines = path.read_bytes().splitlines()
    lines[1] = b"not json"
    path.write_bytes(b"\n".join(lines) + b"\n")
    rep = log.verify()
    assert not rep.ok and rep.problem == "changed"


def test_edited_line_in_file_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = _log(FileAuditBackend(path))
    _fill(log, 3)
    path.write_bytes(path.read_bytes().replace(b"secret fact 1", b"secret fact X"))
    rep = log.verify()
    assert (rep.problem, rep.first_bad_seq) == ("changed", 1)


def test_file_redaction_erases_bytes_and_keeps_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = _log(FileAuditBackend(path))
    _fill(log, 5)
    assert log.redact_scope(ALICE) == 2
    data = path.read_bytes()
    assert b"secret fact 0" not in data and b"secret fact 3" not in data
    assert b"secret fact 1" in data  # bob's event is untouched
    assert log.verify().ok
    assert not (tmp_path / "audit.jsonl.tmp").exists()
    assert log.append("s", "erase", ALICE).seq == 5
    assert log.verify().ok


def test_file_backend_threads(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"

    def work(i: int) -> None:
        log = AuditLog(FileAuditBackend(path), ManualClock(T0))
        for _ in range(15):
            log.append(f"t{i}", "write", ALICE, payload={"i": i})

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rep = AuditLog(FileAuditBackend(path)).verify()
    assert rep.ok and rep.count == 90


def _proc_append(path: str, who: int, n: int) -> None:
    log = AuditLog(FileAuditBackend(path))
    for _ in range(n):
        log.append(f"p{who}", "write", None, payload={"who": who})


@pytest.mark.integration
def test_file_backend_processes(tmp_path: Path) -> None:
    path = str(tmp_path / "audit.jsonl")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_proc_append, args=(path, i, 20)) for i in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    events = FileAuditBackend(path).read()
    assert verify(events).ok and len(events) == 80
    assert {e.actor for e in events} == {"p0", "p1", "p2", "p3"}


def test_payload_digest_is_order_independent() -> None:
    assert payload_digest({"a": 1, "b": 2}) == payload_digest({"b": 2, "a": 1})


def test_no_memo_module_imports_fcntl_at_import_time() -> None:
    """`fcntl` is POSIX only: MeMo imports it inside the functions that lock (FileAuditBackend,
    the embedded store's directory lock), never at module level, so `import shared_core` works on
    Windows."""
    import ast
    from pathlib import Path

    import shared_core

    offenders = []
    for path in Path(shared_core.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        todo: list[ast.stmt] = list(tree.body)
        while todo:  # module level, including inside top-level if/try blocks
            node = todo.pop()
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + (
                    [node.module] if isinstance(node, ast.ImportFrom) and node.module else []
                )
                if "fcntl" in names:
                    offenders.append(str(path))
            elif isinstance(node, ast.If | ast.Try):
                todo += node.body + node.orelse + getattr(node, "finalbody", [])
                todo += [s for h in getattr(node, "handlers", []) for s in h.body]
    assert offenders == []
