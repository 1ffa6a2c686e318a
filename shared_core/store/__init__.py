"""Stores: the port, the Chroma implementation (embedded or server), an in-memory one."""

from .base import ALL_STATUSES, RecordFilter, Store, require_readable
from .in_memory import InMemoryStore

__all__ = ["ALL_STATUSES", "InMemoryStore", "RecordFilter", "Store", "require_readable"]
