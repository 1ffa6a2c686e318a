"""Where a component's memory lives, as configuration: what `to_dict`, workflow contexts and pickles keep.

A `StoreRef` names a store (an embedded directory, or a Chroma server's host and port, plus the
collection prefix and MeMo's configuration), never a live handle. `StoreRef.connect()` gives back the
`Memory` already open in this process for that store (so a component restored here shares its engine,
caches and locks), else opens it, in this or any other process.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from pydantic import BaseModel, ConfigDict

from shared_core import AsyncMemory, ConfigError, InvalidInput, MemoConfig, Memory

_OPEN: weakref.WeakValueDictionary[str, Memory] = weakref.WeakValueDictionary()
_LOCK = threading.Lock()


class StoreRef(BaseModel):
    """A store by its address: `path` (embedded), `host`/`port` (server), or `memory_id` (in this process only)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: str | None = None
    host: str | None = None
    port: int | None = None
    memory_id: str | None = None
    config: dict[str, Any] | None = None  # MeMo's configuration (None: the defaults)

    def key(self) -> str:
        prefix = (self.config or {}).get("collection_prefix", MemoConfig().collection_prefix)
        if self.path is not None:
            return f"path:{self.path}|{prefix}"
        if self.host is not None:
            return f"http:{self.host}:{self.port}|{prefix}"
        return f"mem:{self.memory_id}"

    def connect(self) -> Memory:
        """The live `Memory` for this address: the one open in this process, else a new connection."""
        with _LOCK:
            live = _OPEN.get(self.key())
            if live is not None:
                return live
            cfg = MemoConfig.model_validate(self.config) if self.config else None
            if self.path is not None:
                mem = Memory.open(self.path, config=cfg)
            elif self.host is not None:
                mem = Memory.connect(self.host, self.port or 8000, config=cfg)
            else:
                raise ConfigError(
                    "this memory was in-process only (Memory.in_memory()) and is gone; "
                    "pass memory= to restore it, or use Memory.open(path) / Memory.connect(host, port)"
                )
            _OPEN[self.key()] = mem
            return mem


def as_memory(memory: Memory | AsyncMemory) -> Memory:
    """Accept either facade; adapters keep the sync `Memory` and wrap it in `AsyncMemory` for coroutines."""
    if isinstance(memory, AsyncMemory):
        return memory.sync
    if isinstance(memory, Memory):
        return memory
    raise InvalidInput(f"memory must be a shared_core Memory or AsyncMemory, got {type(memory).__name__}")


def ref_of(memory: Memory) -> StoreRef:
    """The address of a live memory (registered, so a restore in this process finds this object)."""
    settings = getattr(getattr(memory.store, "_client", None), "get_settings", lambda: None)()
    dumped = memory.config.model_dump(mode="json")
    config = None if dumped == MemoConfig().model_dump(mode="json") else dumped
    if settings is not None and getattr(settings, "is_persistent", False) and settings.persist_directory:
        ref = StoreRef(path=str(settings.persist_directory), config=config)
    elif settings is not None and getattr(settings, "chroma_server_host", None):
        ref = StoreRef(
            host=settings.chroma_server_host,
            port=int(settings.chroma_server_http_port or 8000),
            config=config,
        )
    else:
        ref = StoreRef(memory_id=f"{id(memory):x}", config=config)
    with _LOCK:  # the memory a component was last built with is the one a restore here reconnects to
        _OPEN[ref.key()] = memory
    return ref


def resolve(
    memory: Memory | AsyncMemory | None, store: StoreRef | dict[str, Any] | None
) -> tuple[Memory, StoreRef]:
    """The live memory and its address, from either (a component built in code, or restored from data)."""
    if memory is not None:
        mem = as_memory(memory)
        return mem, ref_of(mem)
    if store is None:
        raise InvalidInput("pass memory= (a shared_core Memory) or store= (where the memory lives)")
    ref = store if isinstance(store, StoreRef) else StoreRef.model_validate(store)
    return ref.connect(), ref
