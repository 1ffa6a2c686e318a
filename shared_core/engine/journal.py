"""The local append-only journal: a write is acknowledged once its change set is here, fsync'd.

One segment file per live process (`seg-<uuid>.log` in the journal directory), locked with
`flock` for as long as the process holds it. A line is `<crc32 hex> <json>\\n`; a torn last line
(the crash happened mid-write) fails its checksum and is ignored: that write was never
acknowledged. Entries:

- `{"t": "c", "seq": n, "change": {...}}`: a change set (the writer returned after its fsync);
- `{"t": "a", "upto": n}`: every change up to `n` is in the store (not fsync'd: losing it only
  means an idempotent re-apply).

Group commit: writers append under a short lock, then one of them fsyncs for everyone whose
bytes were written before that fsync began. A segment whose lock nobody holds belongs to a
process that died: `Journal.orphans()` yields it for replay, after which it is deleted.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .changes import ChangeSet, dumps


def _flock(fd: int) -> None:
    """An exclusive, non-blocking lock on `fd` (OSError when held). `fcntl` is POSIX only: imported
    here, so `import shared_core` works everywhere."""
    import fcntl

    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


@dataclass
class Segment:
    """What a segment file holds: its changes in order, and how far they were applied."""

    path: Path
    changes: list[tuple[int, ChangeSet]] = field(default_factory=list)
    applied: int = 0
    handoff: bool = False  # written with `extraction.external_worker`: applied jobs went to the queue

    def unapplied(self) -> list[tuple[int, ChangeSet]]:
        return [(s, c) for s, c in self.changes if s > self.applied]

    def pending_jobs(self) -> list[Any]:
        done = {j for _, c in self.changes for j in c.done_jobs}
        return [j for _, c in self.changes for j in c.jobs if j.id not in done]


def _line(obj: dict[str, Any] | bytes) -> bytes:
    body = obj if isinstance(obj, bytes) else json.dumps(obj, separators=(",", ":")).encode()
    return b"%08x " % zlib.crc32(body) + body + b"\n"


def read_segment(path: Path) -> Segment:
    seg = Segment(path)
    with open(path, "rb") as fh:
        data = fh.read()
    for raw in data.split(b"\n"):
        if len(raw) < 10 or raw[8:9] != b" ":
            continue
        body = raw[9:]
        try:
            if int(raw[:8], 16) != zlib.crc32(body):
                continue  # torn or damaged: never acknowledged
            entry = json.loads(body)
        except ValueError:
            continue
        if entry.get("t") == "c":
            seg.changes.append((int(entry["seq"]), ChangeSet.from_json(entry["change"])))
        elif entry.get("t") == "a":
            seg.applied = max(seg.applied, int(entry["upto"]))
        elif entry.get("t") == "h":
            seg.handoff = True
    return seg


class Journal:
    """This process's segment in `directory`; thread-safe; `append` returns once durable."""

    def __init__(self, directory: str | os.PathLike[str], *, fsync: bool = True) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._fsync = fsync
        self._lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self._seq = 0
        self._written = 0  # bytes written / made durable, for group commit
        self._synced = 0
        self._applied = 0
        self._live: dict[int, ChangeSet] = {}  # entries a replay would still need
        self._done_jobs: set[str] = set()
        self.handoff = False
        self._open_segment()

    def _open_segment(self) -> None:
        self.path = self.directory / f"seg-{uuid.uuid4().hex}.log"
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        _flock(self._fd)
        if self.handoff:
            os.write(self._fd, _line({"t": "h"}))
        self._sync_dir()

    def mark_handoff(self) -> None:
        """From now on jobs leave with their change (to the store's shared queue) once applied; the
        segment says so, so a replay does not run them again."""
        with self._lock:
            self.handoff = True
            data = _line({"t": "h"})
            os.write(self._fd, data)
            self._written += len(data)

    def _sync_dir(self) -> None:
        if not self._fsync:
            return
        dfd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)

    def orphans(self) -> Iterator[Segment]:
        """Segments of processes that are gone (their lock is free), oldest first."""
        paths = sorted(self.directory.glob("seg-*.log"), key=lambda p: p.stat().st_mtime)
        for p in paths:
            if p == self.path:
                continue
            try:
                fd = os.open(p, os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                _flock(fd)
            except OSError:
                os.close(fd)
                continue  # a live process owns it
            try:
                yield read_segment(p)
            finally:
                os.close(fd)

    @staticmethod
    def discard(segment: Segment) -> None:
        segment.path.unlink(missing_ok=True)

    def append(self, change: ChangeSet) -> int:
        """Write one change set and return its sequence number once it is on disk."""
        body = dumps(change)
        with self._lock:
            self._seq += 1
            seq = self._seq
            data = _line(b'{"t":"c","seq":%d,"change":' % seq + body + b"}")
            os.write(self._fd, data)
            self._written += len(data)
            mine = self._written
            self._live[seq] = change
        self._sync_upto(mine)
        return seq

    def _sync_upto(self, pos: int) -> None:
        if not self._fsync:
            return
        with self._sync_lock:  # whoever holds it fsyncs for every byte written so far
            if self._synced >= pos:
                return
            with self._lock:
                target = self._written
            os.fdatasync(self._fd)
            self._synced = target

    def mark_applied(self, upto: int) -> None:
        """Changes up to `upto` are in the store; forget what a replay no longer needs, and start
        a fresh segment when this one has grown past `rotate_bytes`."""
        with self._lock:
            data = _line({"t": "a", "upto": upto})
            os.write(self._fd, data)
            self._written += len(data)
            self._applied = max(self._applied, upto)
            for seq, ch in self._live.items():
                if seq <= upto:
                    self._done_jobs.update(ch.done_jobs)
                    if self.handoff:
                        self._done_jobs.update(j.id for j in ch.jobs)
            for seq in [s for s, ch in self._live.items() if s <= upto]:
                ch = self._live[seq]
                if all(j.id in self._done_jobs for j in ch.jobs):
                    del self._live[seq]
            if self._written > self.rotate_bytes:
                self._rotate()

    rotate_bytes = 4 << 20

    def size(self) -> int:
        with self._lock:
            return self._written

    def _rotate(self) -> None:
        """(under the lock) A fresh segment holding only the live entries (unapplied, or with
        pending jobs) and the applied mark; the old one is deleted. Sequence numbers continue."""
        old_fd, old_path = self._fd, self.path
        self._open_segment()
        data = b"".join(
            _line(b'{"t":"c","seq":%d,"change":' % seq + dumps(ch) + b"}")
            for seq, ch in sorted(self._live.items())
        ) + _line({"t": "a", "upto": self._applied})
        os.write(self._fd, data)
        if self._fsync:
            os.fdatasync(self._fd)
        self._written = self._synced = len(data)
        os.close(old_fd)
        old_path.unlink(missing_ok=True)

    def compact(self) -> None:
        """Start a fresh segment now (after an erasure: the old one, with the erased text, is deleted)."""
        with self._lock:
            self._rotate()

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                if self._fsync:
                    os.fdatasync(self._fd)
                os.close(self._fd)
                self._fd = -1

    def close_or_remove(self) -> None:
        """Delete this segment when a replay would need nothing in it; else keep it for the next open."""
        with self._lock:
            clean = not self._live
        self.close()
        if clean:
            self.path.unlink(missing_ok=True)
