"""A small write is embedded before its call returns, unless the embedder is slow.

`Seam.commit` journals raw turns before they are embedded (a failing or hung embedder never fails
or blocks a write). A chat exchange (a write of a few turns) is then embedded at once on this
thread, and the write waits for it up to a bound: the search that follows it (the next question)
then pays nothing for it. When the embedder is slower than the bound, or still busy with an
earlier write, the write returns without waiting; its turns are embedded by the next search of
their scope or by the applier, as any bulk write is.

One daemon thread, one job at a time; a hung embedder holds the thread, never a caller.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("shared_core.engine")


class Settler:
    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._job: Callable[[], None] | None = None
        self._done: threading.Event | None = None
        self._thread: threading.Thread | None = None
        self._stop = False

    def run(self, job: Callable[[], None], wait: float) -> bool:
        """Run `job` on the thread and wait up to `wait` seconds. False when it did not finish in
        time, or did not start (the thread is busy with an earlier job, or stopped)."""
        done = threading.Event()
        with self._cv:
            if self._stop or self._done is not None:
                return False
            if self._thread is None:
                thread = threading.Thread(target=self._loop, name="memo-settle", daemon=True)
                try:
                    thread.start()
                except RuntimeError:  # no new threads at interpreter exit (an atexit close)
                    return False
                self._thread = thread
            self._job, self._done = job, done
            self._cv.notify_all()
        return done.wait(wait)

    def _loop(self) -> None:
        while True:
            with self._cv:
                while self._job is None and not self._stop:
                    self._cv.wait()
                if self._job is None:
                    return
                job, done = self._job, self._done
            try:
                job()
            except Exception:  # the turns wait for the next search or the applier, which retry
                log.debug("embedding a write before it returns failed", exc_info=True)
            finally:
                with self._cv:
                    self._job, self._done = None, None
                assert done is not None
                done.set()

    def stop(self) -> None:
        with self._cv:
            self._stop = True
            self._cv.notify_all()
