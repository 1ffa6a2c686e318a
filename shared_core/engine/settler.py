"""A small write is embedded before its call returns, unless the embedder is slow.

`Seam.commit` journals raw turns before they are embedded (a failing or hung embedder never fails
or blocks a write). A chat exchange (a write of a few turns) is then embedded at once on this
thread, and the write waits for it up to a bound: the search that follows it (the next question)
then pays nothing for it. When the embedder is slower than the bound, or still busy with an
earlier write, the write returns without waiting; its turns are embedded by the next search of
their scope or by the applier, as any bulk write is.

One job at a time, on a daemon thread; a hung embedder holds that thread, never a caller.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("shared_core.engine")


class Settler:
    """Runs one job at a time, each on a thread of its own (as the worker runs an extraction under
    its timeout): a caller waits for it up to a bound, and a job still running turns the next
    callers away instead of queueing them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._busy = False
        self._stopped = False

    def run(self, job: Callable[[], None], wait: float) -> bool:
        """Run `job` and wait up to `wait` seconds. False when it did not finish in time, or did not
        start (an earlier job is still running, or the settler is stopped)."""
        with self._lock:
            if self._busy or self._stopped:
                return False
            self._busy = True

        def body() -> None:
            try:
                job()
            except Exception:  # the turns wait for the next search or the applier, which retry
                log.debug("embedding a write before it returns failed", exc_info=True)
            finally:
                with self._lock:
                    self._busy = False

        thread = threading.Thread(target=body, name="memo-settle", daemon=True)
        try:
            thread.start()
        except RuntimeError:  # no new threads at interpreter exit (an atexit close)
            with self._lock:
                self._busy = False
            return False
        thread.join(wait)
        return not thread.is_alive()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
