"""The house rules of docs/architecture.md, checked on the source: imports point down only, no
import cycle, and no core module over 600 lines.

The import graph is read with `ast` from the files (nothing is imported): every `import` and
`from ... import` counts for the floors, also those inside functions and `if TYPE_CHECKING:`
blocks, because a lazy import is still a dependency. Cycles are looked for among the imports that
run: an import under `if TYPE_CHECKING:` never executes, so it cannot make an import cycle. `from pkg import name` is an edge to `pkg.name` when that is a
module, else to `pkg`. Importing a submodule is not counted as importing its parent package.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = {
    "shared_core": ROOT / "shared_core",
    "langchain_memo": ROOT / "langchain_memo",
    "llamaindex_memo": ROOT / "llamaindex_memo",
    "memo_bench": ROOT / "benchmarks" / "memo_bench",
}
MAX_LINES = 600

# The floors of docs/architecture.md, bottom up. A module may import its own floor and the floors
# below. The longest matching prefix decides a module's floor; a new module must be given one here.
GROUND, PURE, STORE, ENGINE, FACADE, TOP = range(6)
FLOOR_NAMES = ["ground floor", "pure core", "store/embed", "engine", "facade/governor", "cli/adapters"]
FLOORS: dict[str, int] = {
    "shared_core.models": GROUND,
    "shared_core.config": GROUND,
    "shared_core.errors": GROUND,
    "shared_core.clock": GROUND,
    "shared_core.validate": GROUND,
    "shared_core._boundary": GROUND,
    # the policy object is configuration (MemoConfig holds it): data only, it imports only models
    "shared_core.governance.policy": GROUND,
    "shared_core.store": STORE,
    "shared_core.store.chroma_files": STORE,  # byte scans and physical purge of a Chroma directory
    "shared_core.store.chroma_lock": STORE,  # one process per embedded directory
    "shared_core.store.chroma_server": STORE,  # server connection: timeouts, retries, TLS, auth
    "shared_core.store.chroma_check": STORE,  # whole-store reads for Governor.check, quarantine
    "shared_core.embed": STORE,
    "shared_core.extract": PURE,
    "shared_core.consolidate": PURE,
    "shared_core.search": STORE,  # the scope index in memory (reads store.base filters)
    "shared_core.search.score": PURE,  # the one place distances become scores
    "shared_core.search.lexical": PURE,  # BM25 analyser
    "shared_core.search.features": PURE,  # what ranking reads of each record, as arrays
    "shared_core.search.stemmer": PURE,
    "shared_core.decay": PURE,
    "shared_core.render": PURE,
    "shared_core.tokens": PURE,
    "shared_core.governance": PURE,
    "shared_core.governance.audit_file": PURE,  # the audit chain in a file (errors + governance.audit)
    "shared_core.engine": ENGINE,
    "shared_core.memory": FACADE,
    "shared_core.async_memory": FACADE,
    "shared_core.governor": FACADE,
    "shared_core.governor_check": FACADE,  # Governor.check (a protocol of the governor, no import back)
    "shared_core.inspect": FACADE,
    "shared_core.testing": FACADE,
    "shared_core": FACADE,  # the package's __init__: the public names
    "shared_core.cli": TOP,
    "shared_core.ui": TOP,
    "langchain_memo": TOP,
    "llamaindex_memo": TOP,
    "memo_bench": TOP,
}


def _modules() -> dict[str, Path]:
    out: dict[str, Path] = {}
    for pkg, root in PACKAGES.items():
        for path in sorted(root.rglob("*.py")):
            rel = path.relative_to(root).with_suffix("")
            parts = [pkg, *rel.parts]
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _is_package(name: str) -> bool:
    return MODULES.get(name, Path()).name == "__init__.py"


def _imports(name: str, path: Path) -> Iterator[tuple[str, int]]:
    """(imported module, line) for each import in `path` that names a module of ours."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    here = name if _is_package(name) else name.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in MODULES or alias.name.split(".")[0] in PACKAGES:
                    yield _known(alias.name), node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = here.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join(base_parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if base.split(".")[0] not in PACKAGES:
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield (sub if sub in MODULES else _known(base)), node.lineno


def _known(name: str) -> str:
    """The nearest enclosing module we have a file for."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def _type_only_lines(path: Path) -> set[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return {
        n.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for n in ast.walk(node)
        if isinstance(n, ast.Import | ast.ImportFrom)
    }


def _graph(runtime_only: bool = False) -> dict[str, dict[str, int]]:
    graph: dict[str, dict[str, int]] = {}
    for name, path in MODULES.items():
        edges = graph.setdefault(name, {})
        skip = _type_only_lines(path) if runtime_only else set()
        for target, line in _imports(name, path):
            if target and target != name and line not in skip:
                edges.setdefault(target, line)
    return graph


GRAPH = _graph()
RUNTIME = _graph(runtime_only=True)  # the imports that execute: what an import cycle is made of


def floor(module: str) -> int | None:
    parts = module.split(".")
    for i in range(len(parts), 0, -1):
        key = ".".join(parts[:i])
        if key in FLOORS:
            return FLOORS[key]
    return None


def test_the_graph_is_read() -> None:
    # guards the reader itself: known edges must be found, or every other test here passes vacuously
    assert "shared_core.engine" in GRAPH["shared_core.memory"]
    assert "shared_core.models" in GRAPH["shared_core.engine.base"]
    assert "shared_core.engine.seam" in GRAPH["shared_core.engine.base"]  # under TYPE_CHECKING
    assert "shared_core.engine.seam" not in RUNTIME["shared_core.engine.base"]
    assert "shared_core.extract.base" in GRAPH["shared_core.extract.rules.pipeline"]
    assert len(GRAPH) > 60


def test_every_core_module_has_a_floor() -> None:
    missing = sorted(m for m in MODULES if floor(m) is None)
    assert not missing, f"give these modules a floor in FLOORS (docs/architecture.md): {missing}"


def test_no_upward_import() -> None:
    bad = []
    for src, targets in GRAPH.items():
        fs = floor(src)
        for dst, line in targets.items():
            fd = floor(dst)
            if fs is not None and fd is not None and fd > fs:
                bad.append(
                    f"{MODULES[src].relative_to(ROOT)}:{line} {src} ({FLOOR_NAMES[fs]}) imports "
                    f"{dst} ({FLOOR_NAMES[fd]})"
                )
    assert not bad, "imports must point down:\n" + "\n".join(bad)


def _cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in RUNTIME.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    return sorted(out)


def test_no_import_cycle() -> None:
    cycles = _cycles()
    assert not cycles, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_a_cycle_and_an_upward_import_would_be_seen(monkeypatch: pytest.MonkeyPatch) -> None:
    # the checks above are only worth something if they can fail: feed them a bad graph
    monkeypatch.setitem(GRAPH, "shared_core.models", {**GRAPH["shared_core.models"], "shared_core.engine": 1})
    monkeypatch.setitem(
        RUNTIME, "shared_core.models", {**RUNTIME["shared_core.models"], "shared_core.engine": 1}
    )
    assert any("shared_core.models" in c and "shared_core.engine" in c for c in _cycles())
    with pytest.raises(AssertionError, match="imports must point down"):
        test_no_upward_import()


CORE_FILES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "shared_core").rglob("*.py"))


@pytest.mark.parametrize("rel", CORE_FILES)
def test_no_core_file_over_600_lines(rel: str) -> None:
    lines = len((ROOT / rel).read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, (
        f"{rel} has {lines} lines (max {MAX_LINES}): split it into rooms with one job each"
    )


def _eager_imports(name: str, path: Path) -> set[str]:
    """The modules `path` imports when it is imported (module level, class bodies, `if`/`try`
    blocks; not inside functions, not under `if TYPE_CHECKING:`)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    lazy_lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            lazy_lines |= {n.lineno for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)}
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            lazy_lines |= {n.lineno for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom)}
    return {target for target, line in _imports(name, path) if line not in lazy_lines and target != name}


def _in(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


# Edges between the rooms of the top floor and into the facade floor that docs/architecture.md
# allows (the floors alone would let any of them import any other). (source, target, how):
# "eager" may be a module-level import, "lazy" only inside a function.
TOP_EDGES = {
    ("shared_core.cli", "shared_core.inspect"): "eager",
    ("shared_core.cli", "shared_core.ui"): "lazy",  # `memo ui` only: the web stack is an extra
    ("shared_core.ui", "shared_core.inspect"): "eager",
    ("shared_core.ui", "shared_core.cli.output"): "eager",  # the one `safe` rendering of stored text
    ("shared_core.cli", "memo_bench.cli"): "lazy",  # `memo bench`, from the separate distribution
}
ROOMS = ("shared_core.cli", "shared_core.ui", "shared_core.inspect", "memo_bench")


def test_the_top_floor_rooms_import_each_other_only_as_documented() -> None:
    bad = []
    for src, targets in GRAPH.items():
        room = next((r for r in ROOMS if _in(src, r)), None)
        if room is None:
            continue
        eager = _eager_imports(src, MODULES[src])
        for dst, line in targets.items():
            other = next((r for r in ROOMS if _in(dst, r) and r != room), None)
            if other is None or room == "shared_core.inspect":
                continue
            rule = next((how for (a, b), how in TOP_EDGES.items() if _in(src, a) and _in(dst, b)), None)
            if rule is None or (rule == "lazy" and dst in eager):
                bad.append(
                    f"{MODULES[src].relative_to(ROOT)}:{line} {src} imports {dst} ({rule or 'not allowed'})"
                )
    assert not bad, "undocumented edges between cli, ui, inspect and memo_bench:\n" + "\n".join(bad)


def test_inspect_stands_on_the_governor_decay_and_governance_only_above_the_ground() -> None:
    allowed = ("shared_core.governor", "shared_core.decay", "shared_core.governance", "shared_core.render",
               "shared_core.store.base", "shared_core.memory")  # fmt: skip
    upper = {d for d in GRAPH["shared_core.inspect"] if floor(d) not in (None, GROUND)}
    assert {d for d in upper if not any(_in(d, a) for a in allowed)} == set()
    assert {"shared_core.governor", "shared_core.decay"} <= upper


def test_the_engine_imports_no_cli_ui_or_inspect() -> None:
    engine = [m for m in GRAPH if _in(m, "shared_core.engine") or m.startswith("shared_core.engine_")]
    assert engine, "the engine modules are found"
    bad = [f"{m} imports {d}" for m in engine for d in GRAPH[m]
           if any(_in(d, p) for p in ("shared_core.cli", "shared_core.ui", "shared_core.inspect"))]  # fmt: skip
    assert not bad, bad


def test_an_undocumented_top_floor_edge_would_be_seen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(
        GRAPH, "shared_core.ui.app", {**GRAPH["shared_core.ui.app"], "shared_core.cli.main": 1}
    )
    with pytest.raises(AssertionError, match="shared_core.cli.main"):
        test_the_top_floor_rooms_import_each_other_only_as_documented()
