"""The one place MeMo counts tokens: tiktoken `cl100k_base`, loaded from an offline cache.

llama-index-core ships the cache; we point `TIKTOKEN_CACHE_DIR` at it with `setdefault`
(a user's own cache wins) the first time a count is needed, never at import time.
"""

from __future__ import annotations

import importlib.util
import os
import pathlib
import threading
from functools import lru_cache
from typing import Any

from .errors import ConfigError

ENCODING = "cl100k_base"
_lock = threading.Lock()


def _cache_dir() -> str | None:
    spec = importlib.util.find_spec("llama_index.core")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = pathlib.Path(next(iter(spec.submodule_search_locations))) / "_static" / "tiktoken_cache"
    return str(path) if path.is_dir() else None


@lru_cache(maxsize=1)
def _encoding() -> Any:
    with _lock:
        cache = _cache_dir()
        if cache:
            os.environ.setdefault("TIKTOKEN_CACHE_DIR", cache)
        import tiktoken

        try:
            return tiktoken.get_encoding(ENCODING)
        except Exception as exc:  # network error when no cache is found
            raise ConfigError(
                f"tiktoken could not load {ENCODING} offline; install llama-index-core or set TIKTOKEN_CACHE_DIR"
            ) from exc


def count_tokens(text: str) -> int:
    if not text:
        return 0
    return len(_encoding().encode(text, disallowed_special=()))


def truncate_to_tokens(text: str, max_tokens: int) -> str:
    if max_tokens <= 0:
        return ""
    enc = _encoding()
    ids = enc.encode(text, disallowed_special=())
    if len(ids) <= max_tokens:
        return text
    return str(enc.decode(ids[:max_tokens]))
