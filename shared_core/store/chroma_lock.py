"""One process per embedded store directory: an exclusive lock held for the life of the store.

An embedded Chroma directory (`PersistentClient`) is written by the process that opened it: its
SQLite log, its HNSW files, MeMo's audit chain and local journal. Two processes on one directory
broke the audit chain and lost writes (issue #18.2), so `Memory.open` takes an exclusive,
non-blocking `flock` on `<dir>/memo.lock` and keeps it until `close()` (or the process ends: the
kernel releases it on `kill -9` too). A second process gets `StoreLocked`, which names the
multi-process path: a `chroma run` server and `Memory.connect`.

Inside one process the lock is shared: several `Memory.open` of the same directory count
references (Chroma itself shares one client per directory in a process). `fcntl` is imported on
first use, so importing MeMo works on Windows (where `msvcrt.locking` is used instead).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

from .. import errors as _errors
from ..errors import MemoError, StoreUnavailable

LOCK_NAME = "memo.lock"


class _StoreLockedFallback(MemoError):
    """Another process holds this embedded store (until guard's `errors.StoreLocked` lands)."""


StoreLocked: type[MemoError] = getattr(_errors, "StoreLocked", None) or _StoreLockedFallback

_GUARD = threading.Lock()
_HELD: dict[str, tuple[int, int]] = {}  # real path -> (fd, references)


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined,unused-ignore]
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _holder(path: Path) -> str:
    try:
        text = path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return ""
    return f" (pid {text})" if text.isdigit() else ""


class DirLock:
    """A reference to the process's lock on one directory; `release()` once."""

    def __init__(self, key: str) -> None:
        self.key = key
        self._released = False

    def release(self) -> None:
        with _GUARD:
            if self._released:
                return
            self._released = True
            fd, refs = _HELD[self.key]
            if refs > 1:
                _HELD[self.key] = (fd, refs - 1)
                return
            del _HELD[self.key]
            os.close(fd)  # closing the only descriptor releases the flock


def acquire(directory: str | os.PathLike[str]) -> DirLock:
    """Lock `directory` for this process, or raise `StoreLocked` naming the holder and the way out."""
    root = Path(directory)
    key = str(root.resolve())
    with _GUARD:
        if key in _HELD:
            fd, refs = _HELD[key]
            _HELD[key] = (fd, refs + 1)
            return DirLock(key)
        lock_path = root / LOCK_NAME
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StoreUnavailable(f"cannot create {lock_path}: {exc}") from exc
        if not _try_lock(fd):
            os.close(fd)
            raise StoreLocked(
                f"the embedded store {key} is open in another process{_holder(lock_path)}. An embedded "
                "store is single-process; for several processes run a server "
                f"(`chroma run --path {key} --host 127.0.0.1 --port 8000`) and use "
                "`Memory.connect('127.0.0.1', 8000)` in every process."
            )
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode("ascii"))
        _HELD[key] = (fd, 1)
        return DirLock(key)
