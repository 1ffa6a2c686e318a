"""Background work yields to callers.

The applier's store writes and the extraction worker run in threads of the caller's process. On
CPython they hold the interpreter lock for most of their work (Chroma's client among it), so a
caller's `add_messages` or `search` that overlaps them waits for it: measured on 2 cores, a 0.3 ms
fsync took 13 ms (p50) and 30 ms (p95) beside a thread writing to Chroma.

`Gate` keeps them apart. Public calls run inside `foreground()`; background threads call
`wait_quiet()` before each unit of work, which returns once no call is running and none ended in
the last `quiet` seconds (a write and the search after it stay together), or after `max_wait`
(so background work is delayed, never starved, under a constant stream of calls), or at once while
someone waits for the background (`urgent()`: `flush`, `drain`, `close`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class Gate:
    def __init__(self, quiet: float = 0.02, max_wait: float = 0.5) -> None:
        self.quiet = quiet
        self.max_wait = max_wait
        self._active = 0
        self._urgent = 0
        self._last = 0.0
        self._cv = threading.Condition()

    @contextmanager
    def foreground(self) -> Iterator[None]:
        with self._cv:
            self._active += 1
        try:
            yield
        finally:
            with self._cv:
                self._active -= 1
                self._last = time.monotonic()
                self._cv.notify_all()

    @contextmanager
    def urgent(self) -> Iterator[None]:
        with self._cv:
            self._urgent += 1
            self._cv.notify_all()
        try:
            yield
        finally:
            with self._cv:
                self._urgent -= 1

    def wait_quiet(self) -> None:
        deadline = time.monotonic() + self.max_wait
        with self._cv:
            while not self._urgent:
                now = time.monotonic()
                if now >= deadline:
                    return
                idle = now - self._last
                if not self._active and idle >= self.quiet:
                    return
                step = deadline - now if self._active else min(deadline - now, self.quiet - idle)
                self._cv.wait(max(step, 0.001))
