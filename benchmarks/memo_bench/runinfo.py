"""What every benchmark result records about its run (code, machine, command, timing) and how
it is written. Shared by `cli.py` and the benchmark modules it registers (which must not import
`cli.py` back: no import cycle)."""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"


def repo_relative(path: Path | str) -> str:
    """`path` relative to the checkout when it lies inside it (results carry no machine paths)."""
    p = Path(path).resolve()
    try:
        return str(p.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def git_sha(root: Path = REPO_ROOT) -> str | None:
    """The checked-out commit, read from .git (no git process is run)."""
    git = root / ".git"
    try:
        if git.is_file():  # a worktree: "gitdir: <path>"
            git = (root / git.read_text().split(":", 1)[1].strip()).resolve()
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref:"):
            return head or None
        ref = head.split(":", 1)[1].strip()
        common = git / "commondir"  # a worktree's refs live in the main repository's git dir
        bases = [git, (git / common.read_text().strip()).resolve()] if common.is_file() else [git]
        for base in bases:
            path = base / ref
            if path.is_file():
                return path.read_text().strip() or None
        for packed in (b / "packed-refs" for b in bases):
            if not packed.is_file():
                continue
            for line in packed.read_text().splitlines():
                parts = line.split()
                if len(parts) == 2 and parts[1] == ref:
                    return parts[0]
    except OSError:
        return None
    return None


def machine_info() -> dict[str, Any]:
    import platform

    info: dict[str, Any] = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor() or None,
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
    }
    try:
        info["loadavg_1_5_15"] = [round(x, 2) for x in os.getloadavg()]
    except OSError:
        pass
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gib"] = round(int(line.split()[1]) / 1024**2, 1)
                break
    except OSError:
        pass
    return info


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _command(args: argparse.Namespace) -> str:
    return getattr(args, "command_line", None) or shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]])


def _run_info(args: argparse.Namespace, machine: dict[str, Any], t0: float) -> dict[str, Any]:
    """What every result file records about its run: code, machine (and its load before and after), command."""
    return {
        "git_sha": git_sha(),
        "machine": machine,
        "loadavg_at_end": machine_info().get("loadavg_1_5_15"),
        "command": _command(args),
        "elapsed_s": round(time.perf_counter() - t0, 2),
    }


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    tmp.replace(path)
