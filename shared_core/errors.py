"""The one error tree of MeMo. Every error a caller can see is a `MemoError`.

Foreign errors (Chroma, the file system, an LLM, an embedding model) are translated into
this tree at one boundary: `shared_core._boundary`.
"""

from __future__ import annotations


class MemoError(Exception):
    """Root of every error MeMo raises on purpose."""


class InvalidInput(MemoError, ValueError):
    """A caller passed something MeMo cannot accept (empty text, NUL, oversize, wrong type,
    a non-finite number, an unknown enum value, a negative limit...).

    `field` names the offending input (for example `metadata['score']`, `limit`, `kinds[1]`)
    when it is known. Nothing was written when this is raised.
    """

    def __init__(self, message: str = "", *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class ScopeError(InvalidInput):
    """A scope is missing, incomplete for the operation, or holds an invalid id."""


class NotFound(MemoError, KeyError):
    """No record with that id exists in the given scope."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "not found"


class StoreUnavailable(MemoError):
    """The store (a Chroma directory or server) cannot be reached or used."""


class StoreCorrupted(MemoError):
    """The store holds data MeMo cannot read back, or is not a MeMo store at all (a 0-byte,
    missing or foreign database). It is never opened as an empty memory."""


class StoreLocked(MemoError):
    """Another process holds the embedded store (an embedded store is single-process; several
    processes share one through a Chroma server: `chroma run`)."""


class EmbeddingError(MemoError):
    """The embedding model failed to load or to embed."""


class ExtractionError(MemoError):
    """An extractor (rule or LLM) failed in a way the engine could not recover from."""


class LLMError(ExtractionError):
    """An LLM call failed or kept returning output that does not validate."""


class PolicyViolation(MemoError):
    """The governance policy refuses the write (for example PII configured as `reject`)."""


class LegalHold(PolicyViolation):
    """The scope is under legal hold: nothing of it may be deleted, expired or erased."""


class PolicyConflict(PolicyViolation):
    """The stored governance policy changed since it was read (a concurrent change): reload, retry."""


class FlushTimeout(MemoError, TimeoutError):
    """`flush(timeout)` returned before journaled writes or background work were done (they stay
    in the journal: nothing is lost)."""


class PermissionDenied(MemoError):
    """The principal's role does not allow this operation."""


class ConfigError(MemoError, ValueError):
    """A configuration value is invalid."""


class ErasureIncomplete(MemoError):
    """`verify_erasure` found data that should have been erased."""


class AuditIntegrityError(MemoError):
    """The audit chain was changed, reordered or truncated."""
