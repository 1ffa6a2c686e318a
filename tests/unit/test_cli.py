"""The `memo` command on an embedded store: tables, --json, export/import round trip, governance."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared_core import Memory, Scope
from shared_core.cli.main import main
from shared_core.embed import HashingEmbedder


@pytest.fixture
def store(tmp_path: Path) -> Path:
    # written with the hashing embedder: the CLI opens a store with the embedder it was written with
    path = tmp_path / "store"
    mem = Memory.open(path, embedder=HashingEmbedder())
    alice = Scope(tenant="acme", user="alice")
    mem.add_messages([{"role": "user", "content": "I live in Lisbon and I love jazz.", "id": "m1", "name": "Alice"}],
                     scope=alice, session_id="s1")  # fmt: skip
    mem.close()
    return path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main([*args, "--as", "admin:dpo"])
    return code, capsys.readouterr().out


def test_list_search_show_history_json(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "--path", str(store), "--json", "list", "--tenant", "acme", "--user", "alice")
    records = json.loads(out)
    assert code == 0 and {r["kind"] for r in records} >= {"episode", "fact", "preference"}
    code, out = run(
        capsys, "--path", str(store), "--json", "search", "jazz", "--tenant", "acme", "--user", "alice"
    )
    hits = json.loads(out)
    assert code == 0 and "jazz" in hits[0]["record"]["text"] and 0 <= hits[0]["score"] <= 1
    rid = hits[0]["record"]["id"]
    code, out = run(capsys, "--path", str(store), "show", rid, "--tenant", "acme", "--user", "alice")
    assert code == 0 and rid in out
    code, out = run(
        capsys, "--path", str(store), "--json", "history", rid, "--tenant", "acme", "--user", "alice"
    )
    assert code == 0 and json.loads(out)[0]["op"] == "add"
    code, out = run(capsys, "--path", str(store), "stats", "--tenant", "acme", "--user", "alice")
    assert code == 0 and "kind:episode" in out


def test_export_import_round_trip(store: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dump = tmp_path / "alice.jsonl"
    assert (
        run(capsys, "--path", str(store), "export", "--tenant", "acme", "--user", "alice", "-o", str(dump))[0]
        == 0
    )
    lines = [ln for ln in dump.read_text().splitlines() if not ln.startswith('{"memo_history"')]
    assert len(lines) < len(dump.read_text().splitlines())  # the history travels with the records
    other = tmp_path / "other"
    Memory.open(other, embedder=HashingEmbedder()).close()  # an existing (empty) store: no --create needed
    code, out = run(capsys, "--path", str(other), "--json", "import", str(dump))
    assert code == 0 and json.loads(out)["imported"] == len(lines)
    code, out = run(capsys, "--path", str(other), "--json", "list", "--tenant", "acme", "--user", "alice",
                    "--status", "active")  # fmt: skip
    assert len(json.loads(out)) == len(lines)


def test_errors_are_reported_not_raised(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["--path", str(store), "search", "", "--tenant", "acme", "--user", "alice", "--as", "admin:a"])
        == 2
    )
    assert "InvalidInput" in capsys.readouterr().err
    assert (
        main(["--path", str(store), "show", "nope", "--tenant", "acme", "--user", "alice", "--as", "admin:a"])
        == 3
    )


def test_governance_commands(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "--path", str(store), "--json", "sweep", "--tenant", "acme", "--user", "alice")
    assert code == 0 and json.loads(out)["to_expire"] == []
    code, out = run(capsys, "--path", str(store), "--json", "audit", "verify")
    assert code == 0 and json.loads(out)["ok"] is True
    code, out = run(capsys, "--path", str(store), "--json", "erase", "--tenant", "acme", "--user", "alice")
    assert code == 0 and json.loads(out)["ok"] is True
    code, out = run(capsys, "--path", str(store), "--json", "list", "--tenant", "acme", "--user", "alice")
    assert json.loads(out) == []
    code = main(
        [
            "--path",
            str(store),
            "--json",
            "erase",
            "--tenant",
            "acme",
            "--user",
            "alice",
            "--as",
            "auditor:eve",
        ]
    )
    assert code == 4
