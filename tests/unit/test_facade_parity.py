"""`Memory` and `AsyncMemory` stay in step: the same public methods, the same typed parameters,
no `Any` scope, no `**kwargs`, and every async method is a coroutine."""

from __future__ import annotations

import inspect
from typing import Any

from shared_core import AsyncMemory, Memory

SYNC_ONLY = {"close"}  # AsyncMemory.aclose
ASYNC_ONLY = {"aclose", "drain"}


def public(cls: type) -> dict[str, Any]:
    return {
        n: f for n, f in vars(cls).items()
        if not n.startswith("_") and (inspect.isfunction(f) or isinstance(f, classmethod))
    }  # fmt: skip


def params(f: Any) -> list[tuple[str, Any, Any, Any]]:
    fn = f.__func__ if isinstance(f, classmethod) else f
    sig = inspect.signature(fn)
    return [
        (p.name, p.kind, p.default, p.annotation)
        for p in sig.parameters.values()
        if p.name not in ("self", "cls")
    ]


def test_async_memory_has_every_method_of_memory_with_the_same_parameters() -> None:
    sync, asyn = public(Memory), public(AsyncMemory)
    assert set(sync) - SYNC_ONLY == set(asyn) - ASYNC_ONLY
    for name in set(sync) - SYNC_ONLY:
        assert params(sync[name]) == params(asyn[name]), name
        if not isinstance(asyn[name], classmethod):
            assert inspect.iscoroutinefunction(asyn[name]), name
    assert not hasattr(AsyncMemory, "__getattr__")


def test_no_untyped_scope_and_no_catch_all_keywords() -> None:
    for cls in (Memory, AsyncMemory):
        for name, f in public(cls).items():
            fn = f.__func__ if isinstance(f, classmethod) else f
            for p in inspect.signature(fn).parameters.values():
                assert p.kind is not inspect.Parameter.VAR_KEYWORD, f"{cls.__name__}.{name} takes **{p.name}"
                if p.name == "scope":
                    assert p.annotation not in ("Any", Any), f"{cls.__name__}.{name}: scope is Any"
