"""The one error tree of MeMo. Every error a caller can see is a `MemoError`.

Foreign errors (Chroma, the file system, an LLM, an embedding model) are translated into
this tree at one boundary: `shared_core._boundary`.
"""

from __future__ import annotations


class MemoError(Exception):
    """Root of every error MeMo raises on purpose."""


class InvalidInput(MemoError, ValueError):
    """A caller passed something MeMo cannot accept (empty text, NUL, oversize, wrong type...).

    Nothing was written when this is raised.
    """


class ScopeError(InvalidInput):
    """A scope is missing, incomplete for the operation, or holds an invalid id."""


class NotFound(MemoError, KeyError):
    """No record with that id exists in the given scope."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "not found"


class StoreUnavailable(MemoError):
    """The store (a Chroma directory or server) cannot be reached or used."""


class StoreCorrupted(MemoError):
    """The store holds data MeMo cannot read back."""


class EmbeddingError(MemoError):
    """The embedding model failed to load or to embed."""


class ExtractionError(MemoError):
    """An extractor (rule or LLM) failed in a way the engine could not recover from."""


class LLMError(ExtractionError):
    """An LLM call failed or kept returning output that does not validate."""


class PolicyViolation(MemoError):
    """The governance policy refuses the write (for example PII configured as `reject`)."""


class PermissionDenied(MemoError):
    """The principal's role does not allow this operation."""


class ConfigError(MemoError, ValueError):
    """A configuration value is invalid."""


class ErasureIncomplete(MemoError):
    """`verify_erasure` found data that should have been erased."""


class AuditIntegrityError(MemoError):
    """The audit chain was changed, reordered or truncated."""
