"""MeMo: a persistent, governed memory layer for LLM applications.

Importing this package has no side effects: no network, no model loading, no global settings.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .async_memory import AsyncMemory
    from .clock import Clock, ManualClock, SystemClock
    from .config import MemoConfig
    from .engine import AddResult, key_id
    from .engine.external import ExternalWorker
    from .errors import (
        AuditIntegrityError,
        ConfigError,
        EmbeddingError,
        ErasureIncomplete,
        ExtractionError,
        FlushTimeout,
        InvalidInput,
        LegalHold,
        LLMError,
        MemoError,
        NotFound,
        PermissionDenied,
        PolicyConflict,
        PolicyViolation,
        ScopeError,
        StoreCorrupted,
        StoreLocked,
        StoreUnavailable,
    )
    from .memory import Memory
    from .models import HistoryEntry, Hit, Kind, MemoryRecord, Origin, Provenance, Scope, Status
    from .render import Citation, Context

_HOME = {
    **dict.fromkeys(["Clock", "ManualClock", "SystemClock"], "clock"),
    "MemoConfig": "config",
    "AddResult": "engine",
    "key_id": "engine",
    "ExternalWorker": "engine.external",
    **dict.fromkeys(
        [
            "AuditIntegrityError",
            "ConfigError",
            "EmbeddingError",
            "ErasureIncomplete",
            "ExtractionError",
            "FlushTimeout",
            "InvalidInput",
            "LLMError",
            "LegalHold",
            "MemoError",
            "NotFound",
            "PermissionDenied",
            "PolicyConflict",
            "PolicyViolation",
            "ScopeError",
            "StoreCorrupted",
            "StoreLocked",
            "StoreUnavailable",
        ],
        "errors",
    ),
    "AsyncMemory": "async_memory",
    "Memory": "memory",
    **dict.fromkeys(
        ["HistoryEntry", "Hit", "Kind", "MemoryRecord", "Origin", "Provenance", "Scope", "Status"], "models"
    ),
    **dict.fromkeys(["Citation", "Context"], "render"),
}


def __getattr__(name: str) -> Any:
    """Public names load on first use, so `import shared_core` stays cheap and side-effect free."""
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'shared_core' has no attribute {name!r}")
    return getattr(import_module(f".{module}", __name__), name)


__version__ = "0.1.0"

__all__ = [
    "AddResult",
    "key_id",
    "AsyncMemory",
    "AuditIntegrityError",
    "Clock",
    "Citation",
    "ConfigError",
    "Context",
    "EmbeddingError",
    "ErasureIncomplete",
    "ExternalWorker",
    "ExtractionError",
    "FlushTimeout",
    "HistoryEntry",
    "Hit",
    "InvalidInput",
    "Kind",
    "LLMError",
    "LegalHold",
    "ManualClock",
    "MemoConfig",
    "MemoError",
    "Memory",
    "MemoryRecord",
    "NotFound",
    "Origin",
    "PermissionDenied",
    "PolicyConflict",
    "PolicyViolation",
    "Provenance",
    "Scope",
    "ScopeError",
    "Status",
    "StoreCorrupted",
    "StoreLocked",
    "StoreUnavailable",
    "SystemClock",
]
