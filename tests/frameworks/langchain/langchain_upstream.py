"""The frameworks' own test suites, run against MeMo's adapters with only the class swapped.

    python tests/frameworks/langchain/langchain_upstream.py [--suite NAME] [--cache DIR] [--fetch]

Downloads the source distributions of the *installed* versions (`pip download --no-binary :all: --no-deps`,
cached in `$MEMO_UPSTREAM_CACHE` or `~/.cache/memo-upstream`), extracts the test files listed in `SUITES`
and runs each suite in its own pytest process (its own `tests` package and rootdir) with the plugin
`langchain_memo_swap` (this directory), which swaps `InMemoryStore` / `InMemoryChatMessageHistory` in each test
module for MeMo's adapter and marks the deliberate differences of docs/adapters.md as strict xfails.
Prints one JSON line per suite: passed / failed / xfailed (excused) / skipped, and the command.
Exit status 0 when no suite has a failure.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

# suite -> (distribution, test node ids to run, files to extract from the sdist). The upstream conftest
# files are not used (they need Postgres/Redis); `langchain_memo_swap` provides the store/checkpointer fixtures.
SUITES: dict[str, tuple[str, list[str], list[str]]] = {
    "langgraph-checkpoint-store": (
        "langgraph-checkpoint", ["tests/test_store.py"],
        ["tests/__init__.py", "tests/test_store.py", "tests/embed_test_utils.py"],
    ),
    "langchain-core-chat-history": (
        "langchain-core",
        ["tests/unit_tests/chat_history/test_chat_history.py", "tests/unit_tests/runnables/test_history.py"],
        ["tests/__init__.py", "tests/unit_tests/__init__.py", "tests/unit_tests/chat_history/__init__.py",
         "tests/unit_tests/runnables/__init__.py", "tests/unit_tests/pydantic_utils.py",
         "tests/unit_tests/chat_history/test_chat_history.py", "tests/unit_tests/runnables/test_history.py"],
    ),
    "langgraph-store-injection": (
        "langgraph",
        ["tests/test_pregel.py::test_store_injected", "tests/test_pregel.py::test_overriding_injectable_args_with_tasks",
         "tests/test_pregel_async.py::test_store_injected_async", "tests/test_runtime.py"],
        ["tests/__init__.py", "tests/agents.py", "tests/any_str.py", "tests/messages.py", "tests/fake_tracer.py",
         "tests/memory_assert.py", "tests/test_pregel.py", "tests/test_pregel_async.py", "tests/test_runtime.py"],
    ),
    "langgraph-prebuilt-store": (
        "langgraph-prebuilt",
        ["tests/test_react_agent.py::test_prompt_with_store", "tests/test_react_agent.py::test_prompt_with_store_async",
         "tests/test_react_agent.py::test_tool_node_inject_store", "tests/test_tool_node.py::test_tool_node_inject_store",
         "tests/test_tool_node_validation_error_filtering.py::test_filter_injected_store_validation_errors"],
        ["tests/__init__.py", "tests/any_str.py", "tests/messages.py", "tests/model.py", "tests/test_react_agent.py",
         "tests/test_tool_node.py", "tests/test_tool_node_validation_error_filtering.py"],
    ),
}  # fmt: skip


def cache_dir() -> Path:
    return Path(os.environ.get("MEMO_UPSTREAM_CACHE") or Path.home() / ".cache" / "memo-upstream")


def sdist(dist: str, cache: Path) -> Path:
    """The installed version's sdist, downloaded once into the cache."""
    version = importlib.metadata.version(dist)
    stem = f"{dist.replace('-', '_')}-{version}"
    found = [p for p in cache.glob("*.tar.gz") if re.sub(r"[-_.]+", "_", p.name.lower()).startswith(re.sub(r"[-_.]+", "_", stem.lower()) + "_tar")]  # fmt: skip
    if found:
        return found[0]
    cache.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps", "-q", "-d", str(cache), f"{dist}=={version}"]  # fmt: skip
    subprocess.run(cmd, check=True)
    return sdist(dist, cache)


def extract(name: str, cache: Path) -> Path:
    dist, _, helpers = SUITES[name]
    archive = sdist(dist, cache)
    root = cache / "suites" / name / archive.name.removesuffix(".tar.gz")
    with tarfile.open(archive) as tar:
        top = tar.getnames()[0].split("/")[0]
        for rel in helpers:
            member = tar.extractfile(f"{top}/{rel}")
            if member is None:
                raise FileNotFoundError(f"{rel} not in {archive.name}")
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(member.read())
    return root


def run(name: str, cache: Path) -> dict[str, object]:
    root = extract(name, cache)
    report = root / "report.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), str(HERE.parents[2]), os.environ.get("PYTHONPATH", "")])}  # fmt: skip
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "langchain_memo_swap", "-p", "no:cacheprovider", "--rootdir", str(root),
           "-o", "asyncio_mode=auto", "-o", "asyncio_default_fixture_loop_scope=function", "-W", "ignore::DeprecationWarning",
           *SUITES[name][1]]  # fmt: skip
    env["MEMO_SWAP_REPORT"] = str(report)
    done = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True)
    counts = json.loads(report.read_text()) if report.exists() else {}
    return {"suite": name, "dist": SUITES[name][0], "version": importlib.metadata.version(SUITES[name][0]),
            **counts, "exit": done.returncode, "command": "python " + " ".join(cmd[1:]), "tail": done.stdout[-1500:]}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", action="append", choices=sorted(SUITES))
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--fetch", action="store_true", help="only download and extract (CI warm-up)")
    args = parser.parse_args()
    if args.fetch:
        for n in args.suite or sorted(SUITES):
            print(extract(n, args.cache or cache_dir()))
        return 0
    results = [run(n, args.cache or cache_dir()) for n in args.suite or sorted(SUITES)]
    for r in results:
        print(json.dumps(r))
    return 0 if all(r["exit"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
