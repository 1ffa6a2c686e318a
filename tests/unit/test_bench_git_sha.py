"""`memo_bench.cli.git_sha` reads the checked-out commit from `.git` in a plain clone and in a git
worktree (a `.git` file pointing at `<main>/.git/worktrees/<name>`, refs in the main `.git`)."""

from __future__ import annotations

from pathlib import Path

from memo_bench.cli import git_sha

SHA = "0123456789abcdef0123456789abcdef01234567"
PACKED = "89abcdef0123456789abcdef0123456789abcdef"


def _main_repo(root: Path, branch: str) -> Path:
    git = root / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text(f"ref: refs/heads/{branch}\n")
    (git / "refs" / "heads" / "main").write_text(SHA + "\n")
    (git / "packed-refs").write_text(f"# pack-refs with: peeled\n{PACKED} refs/heads/old\n")
    return git


def test_plain_clone(tmp_path: Path) -> None:
    _main_repo(tmp_path, "main")
    assert git_sha(tmp_path) == SHA


def test_worktree_loose_and_packed_refs(tmp_path: Path) -> None:
    git = _main_repo(tmp_path / "main", "main")
    for name, branch, want in (("wt", "main", SHA), ("old", "old", PACKED)):
        meta = git / "worktrees" / name
        meta.mkdir(parents=True)
        (meta / "HEAD").write_text(f"ref: refs/heads/{branch}\n")
        (meta / "commondir").write_text("../..\n")
        tree = tmp_path / name
        tree.mkdir()
        (tree / ".git").write_text(f"gitdir: {meta}\n")
        assert git_sha(tree) == want


def test_detached_head_and_no_repo(tmp_path: Path) -> None:
    git = _main_repo(tmp_path / "r", "main")
    (git / "HEAD").write_text(SHA + "\n")
    assert git_sha(tmp_path / "r") == SHA
    assert git_sha(tmp_path / "none") is None
