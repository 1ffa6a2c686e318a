"""What every benchmarked system is: the `BenchSystem` protocol and the `Item` it returns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from .locomo_data import LocomoConversation

Progress = Callable[[int], None]


@dataclass(frozen=True)
class Item:
    """One retrieved item: its text (as it would be injected) and the source turns it cites."""

    text: str
    source_ids: tuple[str, ...] = ()
    score: float | None = None


@runtime_checkable
class BenchSystem(Protocol):
    name: str

    def ingest(self, conversation: LocomoConversation, progress: Progress | None = None) -> None: ...

    def search(self, question: str, k: int) -> list[Item]: ...

    def context(self, question: str, budget: int) -> list[Item]: ...

    def context_tokens(self, items: Sequence[Item]) -> int: ...

    def close(self) -> None: ...
