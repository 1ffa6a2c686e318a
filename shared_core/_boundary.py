"""The one place where foreign errors become MeMo errors.

Chroma, the file system, HTTP transports and LLM clients raise their own exceptions; code
that calls them runs inside `translate(...)`, so callers only ever see the `MemoError` tree.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from .errors import (
    EmbeddingError,
    ExtractionError,
    InvalidInput,
    LLMError,
    MemoError,
    StoreCorrupted,
    StoreUnavailable,
)

_FOREIGN = {
    "store": StoreUnavailable,
    "embedding": EmbeddingError,
    "llm": LLMError,
    "extraction": ExtractionError,
}


def _is_connection_error(exc: BaseException) -> bool:
    name = type(exc).__name__
    module = type(exc).__module__ or ""
    return (
        isinstance(exc, (ConnectionError, TimeoutError))
        or module.startswith(("httpx", "httpcore", "urllib3", "requests"))
        or name in {"ConnectError", "ReadTimeout", "ConnectTimeout", "RemoteProtocolError"}
    )


@contextmanager
def translate(where: str, what: str = "") -> Iterator[None]:
    """Run foreign code; re-raise its errors as MeMo errors (MemoError passes through)."""
    try:
        yield
    except MemoError:
        raise
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as exc:
        raise _translate(exc, where, what) from exc


def _translate(exc: BaseException, where: str, what: str) -> MemoError:
    label = f"{where} {what}".strip()
    module = type(exc).__module__ or ""
    name = type(exc).__name__
    detail = f"{label} failed: {name}: {exc}"
    if where == "store":
        if _is_connection_error(exc) or isinstance(exc, OSError):
            return StoreUnavailable(detail)
        if module.startswith("chromadb"):
            if name in {"InvalidArgumentError", "InvalidDimensionException", "DuplicateIDError"}:
                return InvalidInput(detail)
            if name in {"InternalError"} and "readonly" in str(exc):
                return StoreUnavailable(
                    detail + " (is another client holding this directory after it was deleted?)"
                )
            return StoreUnavailable(detail)
        if isinstance(exc, (ValueError, TypeError)):
            return InvalidInput(detail)
        if isinstance(exc, (UnicodeDecodeError, KeyError)):
            return StoreCorrupted(detail)
        return StoreUnavailable(detail)
    return _FOREIGN.get(where, MemoError)(detail)
