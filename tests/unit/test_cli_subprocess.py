"""The `memo` command as a person or a script meets it: each fixed item of issue #15 (and #17.5,
#18.5's CLI part), run in a real subprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_cli_store import make_store  # noqa: E402

MEMO = str(Path(sys.executable).parent / "memo")
ENV = {k: v for k, v in os.environ.items() if k not in ("MEMO_PRINCIPAL", "MEMO_PATH", "MEMO_PROGRESS")}
ENV.update(ANONYMIZED_TELEMETRY="False", ORT_DISABLE_TELEMETRY="1", HF_HUB_OFFLINE="1", NO_COLOR="1")


def memo(
    *args: str, env: dict[str, str] | None = None, check: int | None = 0
) -> subprocess.CompletedProcess[str]:
    e = {**ENV, "MEMO_CONFIG": "/nonexistent/memo.json", **(env or {})}
    res = subprocess.run([MEMO, *args], capture_output=True, text=True, env=e, timeout=120)
    if check is not None:
        assert res.returncode == check, (args, res.returncode, res.stdout[-2000:], res.stderr[-2000:])
    return res


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(make_store(tmp_path_factory.mktemp("cli") / "store"))


def ids_in(text: str) -> list[str]:
    return re.findall(r"\b[0-9a-f]{32}\b", text)


def test_full_ids_in_tables_and_prefixes_accepted(store: str) -> None:
    out = memo("list", "--path", store, "--tenant", "acme", "--user", "alice", "--as", "admin:dpo").stdout
    full = ids_in(out)
    assert full, out  # a table shows whole ids, which every other command accepts
    shown = memo("show", full[0], "--path", store, "--tenant", "acme", "--user", "alice", "--as", "admin:dpo")
    assert full[0] in shown.stdout and "strength" in shown.stdout
    by_prefix = memo("--json", "history", full[0][:8], "--path", store, "--tenant", "acme", "--user", "alice",
                     "--as", "admin:dpo")  # fmt: skip
    assert json.loads(by_prefix.stdout)[0]["record_id"] == full[0]


def test_global_flags_after_the_command_and_json_errors(store: str) -> None:
    res = memo("list", "--tenant", "acme", "--user", "alice", "--json", "--path", store, "--as", "admin:dpo")
    assert {r["scope"]["user"] for r in json.loads(res.stdout)} == {"alice"}
    missing = memo("show", "f" * 32, "--tenant", "acme", "--user", "alice", "--path", store, "--json",
                   "--as", "admin:dpo", check=3)  # fmt: skip
    err = json.loads(missing.stdout)["error"]
    assert err["type"] == "NotFound" and err["exit_code"] == 3 and not missing.stderr.strip()
    usage = memo("list", "--no-such-flag", "--json", check=2)
    assert json.loads(usage.stdout)["error"]["type"] == "UsageError"


def test_distinct_exit_codes_documented_in_help(store: str, tmp_path: Path) -> None:
    helptext = memo("--help").stdout
    for line in ("2    usage error", "3    not found", "4    permission denied", "5    store error"):
        assert line in helptext
    memo("list", "--bogus", check=2)  # usage
    memo("show", "nope", "--path", store, "--user", "alice", "--tenant", "acme", "--as", "admin:a", check=3)
    memo("list", "--path", store, "--user", "alice", "--tenant", "acme", "--as", "auditor:eve", check=4)
    memo("list", "--path", str(tmp_path / "typo"), "--user", "alice", "--as", "admin:a", check=5)
    assert memo("--version").stdout.startswith("memo ")


def test_a_path_without_a_store_needs_create(tmp_path: Path) -> None:
    typo = tmp_path / "typo"
    res = memo("list", "--path", str(typo), "--user", "alice", "--as", "admin:a", check=5)
    assert "no MeMo store" in res.stderr and "--create" in res.stderr and not typo.exists()
    made = memo("list", "--path", str(typo), "--user", "alice", "--as", "admin:a", "--create")
    assert "created a new, empty store" in made.stderr and (typo / "chroma.sqlite3").exists()


def test_scopes_and_tenant_wide_review_then_approve_by_prefix(store: str, tmp_path: Path) -> None:
    scopes = json.loads(memo("scopes", "--json", "--path", store, "--as", "admin:dpo").stdout)
    assert {(s["scope"]["tenant"], s["scope"]["user"]) for s in scopes} == {
        ("acme", "alice"),
        ("acme", "bob"),
    }
    queue = json.loads(memo("review", "list", "--tenant", "acme", "--json", "--path", store,
                            "--as", "reviewer:kim").stdout)  # fmt: skip
    assert [r["text"] for r in queue] == ["User loves jazz"]
    # a reviewer never needed --user, and sees pending memories only
    seen = json.loads(memo("list", "--path", store, "--tenant", "acme", "--user", "alice", "--as", "reviewer:kim",
                           "--status", "active", "--status", "pending_review", "--json").stdout)  # fmt: skip
    assert [r["status"] for r in seen] == ["pending_review"]
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-r", store, str(copy)], check=True)
    done = memo("review", "approve", queue[0]["id"][:6], "--tenant", "acme", "--reason", "checked",
                "--path", str(copy), "--as", "reviewer:kim", "--json")  # fmt: skip
    assert json.loads(done.stdout)["status"] == "active"


def test_sweep_dry_run_shows_texts(store: str) -> None:
    res = memo("sweep", "--tenant", "acme", "--path", store, "--as", "admin:dpo")
    assert "would expire" in res.stdout and "I live in Lisbon" in res.stdout
    data = json.loads(
        memo("sweep", "--tenant", "acme", "--path", store, "--as", "admin:dpo", "--json").stdout
    )
    assert data["applied"] is False and any("Lisbon" in r["text"] for r in data["to_expire"])


def test_bench_help_hides_suppressed_commands() -> None:
    out = memo("bench", "--help").stdout
    assert "==SUPPRESS==" not in out and "scale-worker" not in out and "locomo" in out


def test_bench_usage_lists_every_registered_subcommand() -> None:
    import argparse

    from memo_bench.cli import add_bench_subcommands

    parser = argparse.ArgumentParser()
    add_bench_subcommands(parser)
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    listed = str(sub.metavar).strip("{}").split(",")
    assert set(listed) == set(sub.choices) - {"scale-worker"}  # computed, hidden ones excepted
    assert {"locomo", "scale", "report", "soak", "erasure-cost"} <= set(listed)
    assert "{" + ",".join(listed) + "}" in memo("bench", "--help").stdout


def test_progress_bars_on_stderr_only_for_people(store: str, tmp_path: Path) -> None:
    dump = tmp_path / "alice.jsonl"
    args = (
        "export",
        "--tenant",
        "acme",
        "--user",
        "alice",
        "-o",
        str(dump),
        "--path",
        store,
        "--as",
        "admin:dpo",
    )
    shown = memo(*args, env={"MEMO_PROGRESS": "always"})
    assert "export" in shown.stderr and "rec" in shown.stderr and "exported" in shown.stdout
    quiet = memo(*args)  # not a tty: no bar
    assert "rec/s" not in quiet.stderr and "%|" not in quiet.stderr
    other = tmp_path / "other"
    imported = memo("import", str(dump), "--path", str(other), "--create", "--as", "admin:dpo", "--json",
                    env={"MEMO_PROGRESS": "always"})  # fmt: skip
    lines = dump.read_text().splitlines()
    assert json.loads(imported.stdout)["imported"] == len([ln for ln in lines if "memo_history" not in ln])
    assert "%|" not in imported.stderr  # --json: no bar even when forced on


def test_piping_into_head_prints_no_traceback(store: str) -> None:
    cmd = f"{MEMO} audit list --path {store} --as auditor:eve --limit 200 | head -n 3"
    res = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, env=ENV, timeout=120)
    assert res.returncode == 0 and len(res.stdout.splitlines()) == 3
    assert (
        "Traceback" not in res.stderr
        and "BrokenPipe" not in res.stderr
        and "Exception ignored" not in res.stderr
    )


def test_stored_text_is_printed_as_data(store: str) -> None:
    for cmd in (("list",), ("search", "Bob note")):
        res = memo(*cmd, "--tenant", "acme", "--user", "bob", "--path", store, "--as", "admin:dpo")
        out = res.stdout
        assert "[/]" in out and "[bold]x[/bold]" in out  # rich markup shown, not interpreted (no crash)
        assert "\x1b" not in out and "\u2028" not in out  # no escape sequence reaches the terminal
        assert "\\e[31m" in out and "\\u2028" in out  # render.as_data's escapes
    raw = memo("--json", "list", "--tenant", "acme", "--user", "bob", "--path", store, "--as", "admin:dpo")
    assert "\x1b" not in raw.stdout and "\u2028" not in raw.stdout
    assert "\x1b[31m" in json.loads(raw.stdout)[0]["text"]  # the data round-trips exactly


def test_principals_are_required_enforced_and_audited(store: str, tmp_path: Path) -> None:
    base = ("list", "--tenant", "acme", "--user", "alice", "--path", store)
    nobody = memo(*base, check=4)
    assert "--as" in nobody.stderr  # no implicit admin
    memo(*base, env={"MEMO_PRINCIPAL": "subject:alice"})  # a subject reads their own memories
    memo("list", "--tenant", "acme", "--user", "bob", "--path", store, "--as", "subject:alice", check=4)
    cfg = tmp_path / "memo.json"
    cfg.write_text(json.dumps({"principal": "admin:carol"}))
    memo(*base, env={"MEMO_CONFIG": str(cfg)})
    log = json.loads(memo("audit", "list", "--event", "read", "--user", "alice", "--json", "--path", store,
                          "--as", "auditor:eve").stdout)  # fmt: skip
    readers = {e["actor"] for e in log["events"]}
    assert {"alice", "carol"} <= readers and log["chain"]["ok"] is True


def _copy(store: str, tmp_path: Path, name: str = "copy") -> str:
    copy = tmp_path / name
    subprocess.run(["cp", "-r", store, str(copy)], check=True)
    return str(copy)


def test_check_command(store: str, tmp_path: Path) -> None:
    res = memo("check", "--path", store, "--as", "admin:dpo", "--json", check=None)
    data = json.loads(res.stdout)
    assert res.returncode == (0 if data["ok"] else 1), res.stderr[-2000:]
    assert {i["name"] for i in data["items"]} >= {"orphans", "unaudited", "half_applied", "audit_chain"}
    table = memo("check", "--path", store, "--as", "auditor:eve", check=None)  # reading: admin or auditor
    assert table.returncode == res.returncode and "store check" in table.stdout
    memo("check", "--repair", "--path", store, "--as", "auditor:eve", check=4)  # repairing: admin only
    memo("check", "--path", store, "--as", "reviewer:kim", check=4)
    # a record without its audit event: found (exit 1), repaired, then clean (exit 0)
    copy = _copy(store, tmp_path)
    from shared_core import Memory, Scope
    from shared_core.embed import HashingEmbedder

    with Memory.open(copy, embedder=HashingEmbedder()) as mem:
        rec = mem.records(Scope(tenant="acme", user="alice"))[0]
        odd = rec.model_copy(update={"id": "f" * 32, "text": "written around the engine"})
        mem.store.upsert(
            [odd], mem.engine.embedder.embed([odd.text])
        )  # a write that crashed before its audit
    found = json.loads(memo("check", "--path", copy, "--as", "admin:dpo", "--json", check=1).stdout)
    assert found["ok"] is False and [i for i in found["items"] if i["name"] == "unaudited"][0]["found"] >= 1
    memo("check", "--repair", "--path", copy, "--as", "admin:dpo", "--json", check=None)
    assert json.loads(memo("check", "--path", copy, "--as", "admin:dpo", "--json").stdout)["ok"] is True


def test_purge_files_and_erase_verified_in_a_data_dir(store: str, tmp_path: Path) -> None:
    copy = _copy(store, tmp_path)
    memo("purge-files", copy, "--path", copy, "--as", "auditor:eve", check=4)
    purged = json.loads(memo("purge-files", copy, "--path", copy, "--as", "admin:dpo", "--json").stdout)
    assert purged["dir"] == copy and isinstance(purged["purged"], dict)
    erased = memo("--json", "erase", "--tenant", "acme", "--user", "alice", "--path", copy, "--data-dir", copy,
                  "--sample", "heron statue", "--as", "admin:dpo")  # fmt: skip
    report = json.loads(erased.stdout)
    assert report["ok"] is True and report["erased_records"] >= 1
    assert [c for c in report["checks"] if c["name"] == "files"][0]["passed"] is True
    again = json.loads(memo("--json", "erase", "--verify-only", "--tenant", "acme", "--user", "alice",
                            "--path", copy, "--data-dir", copy, "--as", "auditor:eve").stdout)  # fmt: skip
    assert again["ok"] is True and not any("files" in u for u in again["unverified"])
    log = json.loads(
        memo("audit", "list", "--event", "erase", "--json", "--path", copy, "--as", "auditor:eve").stdout
    )
    assert any(e["decision"] == "purge_files" for e in log["events"])


def test_policy_show_and_set_are_versioned_audited_and_admin_only(store: str, tmp_path: Path) -> None:
    copy = _copy(store, tmp_path)
    shown = json.loads(memo("policy", "show", "--path", copy, "--as", "auditor:eve", "--json").stdout)
    assert shown["stored"] is False and shown["history"] == [] and "hash_key" not in shown["policy"]
    memo("policy", "show", "--path", copy, check=4)  # no principal, no answer
    new = tmp_path / "policy.json"
    new.write_text(json.dumps({"ttl_days": {"fact": 30}, "capacity_per_scope": 100}))
    memo("policy", "set", str(new), "--reason", "retention", "--path", copy, "--as", "reviewer:kim", check=4)
    memo(
        "policy", "set", str(new), "--reason", "retention", "--path", copy, "--as", "admin:dpo@acme", check=4
    )
    memo("policy", "set", str(new), "--path", copy, "--as", "admin:dpo", check=2)  # --reason is required
    done = json.loads(memo("policy", "set", str(new), "--reason", "retention", "--path", copy,
                           "--as", "admin:dpo", "--json").stdout)  # fmt: skip
    assert (
        done["version"] == 1 and done["changed_by"] == "dpo" and done["policy"]["ttl_days"] == {"fact": 30.0}
    )
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps({"hash_key": "s3cret", "ttl_days": {"fact": 7}}))
    refused = memo(
        "policy", "set", str(secret), "--reason", "x", "--path", copy, "--as", "admin:dpo", check=2
    )
    assert "hash_key" in refused.stderr and "s3cret" not in refused.stderr
    table = memo("policy", "show", "--path", copy, "--as", "admin:dpo").stdout
    assert "stored policy v1 by dpo" in table and "capacity_per_scope" in table and "retention" in table
    log = json.loads(
        memo("audit", "list", "--event", "policy", "--json", "--path", copy, "--as", "auditor:eve").stdout
    )
    assert [(e["actor"], e["reason"]) for e in log["events"]] == [("dpo", "retention")]
    raw = (Path(copy) / "chroma.sqlite3").read_bytes()
    assert b"s3cret" not in raw


def test_import_validates_the_whole_file_first_and_names_the_line(tmp_path: Path) -> None:
    from shared_core import Memory, Scope
    from shared_core.embed import HashingEmbedder

    target = tmp_path / "target"
    Memory.open(target, embedder=HashingEmbedder()).close()
    now = "2026-01-01T00:00:00+00:00"
    rows = [{"id": f"r{i}", "scope": {"tenant": "t", "user": "u"}, "kind": "fact", "text": f"fact {i}",
             "created_at": now, "updated_at": now} for i in range(3)]  # fmt: skip
    rows.append({**rows[0], "id": "bad", "text": "a\x00b"})
    path = tmp_path / "bad.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    bad = memo("import", str(path), "--path", str(target), "--as", "admin:dpo", check=2)
    assert "line 4" in bad.stderr and "Traceback" not in bad.stderr
    path.write_text("".join(json.dumps(r) + "\n" for r in rows[:3]) + "{not json\n")
    bad = memo("import", str(path), "--path", str(target), "--as", "admin:dpo", check=2)
    assert "line 4" in bad.stderr and "Traceback" not in bad.stderr
    with Memory.open(target, embedder=HashingEmbedder()) as mem:
        assert mem.records(Scope(tenant="t", user="u")) == []  # nothing written
