"""The one place where foreign errors become MeMo errors.

Chroma, SQLite, the file system, HTTP transports, embedding runtimes and LLM clients raise their
own exceptions; code that calls them runs inside `translate(where, what)`, so callers only ever see
the `MemoError` tree.

* `where="store"`: a typed table (`_store_table`) maps the foreign classes Chroma, httpx, SQLite,
  pydantic and the OS raise; the first matching row wins. Anything not in the table (an
  `AttributeError`, an `AssertionError`: a bug) passes through unchanged, and so does every
  `MemoError`.
* `where="embedding" | "llm" | "extraction"`: the code inside is a plug-in (a framework's
  embedding model, a user's extractor), whose exception classes cannot be known: any `Exception`
  becomes `EmbeddingError` / `LLMError` / `ExtractionError`. `KeyboardInterrupt`, `SystemExit`
  and the other `BaseException`s are never caught.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from .errors import (
    EmbeddingError,
    ExtractionError,
    InvalidInput,
    LLMError,
    MemoError,
    StoreCorrupted,
    StoreUnavailable,
)

T = TypeVar("T")

_PLUGIN: dict[str, type[MemoError]] = {
    "embedding": EmbeddingError,
    "llm": LLMError,
    "extraction": ExtractionError,
}

# words SQLite (and Chroma's Rust core, which reports SQLite's message) uses for a damaged file
_CORRUPT_WORDS = ("malformed", "not a database", "file is encrypted", "disk image", "no such table")


@functools.cache
def _store_table() -> tuple[tuple[tuple[type[BaseException], ...], type[MemoError]], ...]:
    """(foreign classes, MeMo class), most specific first. Imported on first use: importing MeMo
    does not import Chroma or httpx."""
    import chromadb.errors as ce
    import httpx
    import pydantic

    return (
        ((ce.InvalidArgumentError, ce.DuplicateIDError), InvalidInput),
        ((httpx.TimeoutException, httpx.TransportError), StoreUnavailable),
        ((sqlite3.DatabaseError,), StoreCorrupted),  # refined by `_corrupt` below
        ((ce.ChromaError,), StoreUnavailable),  # refined by `_corrupt` below
        ((pydantic.ValidationError, UnicodeDecodeError, json.JSONDecodeError), StoreCorrupted),
        ((OSError,), StoreUnavailable),  # ConnectionError and TimeoutError included
        ((ValueError,), InvalidInput),  # Chroma's client-side validation of what we pass
    )


def _corrupt(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(w in text for w in _CORRUPT_WORDS)


def store_error(exc: BaseException, what: str = "") -> MemoError | None:
    """The MeMo error for a foreign store error, or None when `exc` is not a known foreign error."""
    for classes, target in _store_table():
        if isinstance(exc, classes):
            if isinstance(exc, sqlite3.DatabaseError):
                target = StoreCorrupted if _corrupt(exc) else StoreUnavailable  # "locked" is not damage
            elif target is StoreUnavailable and _corrupt(exc):
                target = StoreCorrupted
            label = f"store {what}".strip()
            return target(f"{label} failed: {type(exc).__name__}: {exc}")
    return None


@contextmanager
def translate(where: str, what: str = "") -> Iterator[None]:
    """Run foreign code; re-raise its errors as MeMo errors (MemoError and bugs pass through)."""
    try:
        yield
    except MemoError:
        raise
    except Exception as exc:
        mapped = _translate(exc, where, what)
        if mapped is None:
            raise
        raise mapped from exc


def _translate(exc: Exception, where: str, what: str) -> MemoError | None:
    if where == "store":
        return store_error(exc, what)
    target = _PLUGIN.get(where)
    if target is None:
        return None
    label = f"{where} {what}".strip()
    return target(f"{label} failed: {type(exc).__name__}: {exc}")


# Chroma's known transient (chroma-core/chroma#4212): a read that races the first flush of a new
# collection's vector segment fails with this; the same read a moment later succeeds.
TRANSIENT = ("Error creating hnsw segment reader",)


def read_retrying(fn: Callable[[], T], what: str, attempts: int = 5) -> T:
    """`fn()` (a store read) under `translate("store", what)`, tried again after 50 ms, doubling,
    while Chroma reports a known transient; any other error, or the last one, is raised."""
    for attempt in range(attempts):
        try:
            with translate("store", what):
                return fn()
        except StoreUnavailable as exc:
            if attempt == attempts - 1 or not any(t in str(exc) for t in TRANSIENT):
                raise
            time.sleep(0.05 * 2**attempt)
    raise AssertionError("unreachable")
