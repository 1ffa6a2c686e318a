"""`FileAuditBackend`: the audit chain as a JSONL file, safe for several processes (POSIX).

Kept apart from `audit.py` so that `fcntl` is imported only by whoever uses this backend (never
by `Memory`'s import chain: MeMo imports on Windows).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from pydantic import ValidationError

from ..errors import AuditIntegrityError
from .audit import AuditEvent, _links, check_replacement

__all__ = ["FileAuditBackend"]


class FileAuditBackend:
    """One JSON event per line in `path`; safe for several processes appending at once.

    Every operation holds `fcntl.flock` on `<path>.lock` (shared to read, exclusive to write),
    so `try_append`'s read-last-then-append is atomic across processes; each append is
    fsync'ed before it returns True. A crash mid-append leaves a last line without its
    newline: readers ignore it, and the next append truncates it first (that event was never
    acknowledged). `replace` rewrites the file into a temporary file and renames it over the
    original. POSIX only (fcntl).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")

    # -------------------------------------------------------------- locking and raw access
    @contextmanager
    def _locked(self, exclusive: bool) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        import fcntl  # POSIX only; imported here so that importing MeMo never needs it

        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def _parse(self, line: bytes, lineno: int) -> AuditEvent:
        try:
            return AuditEvent.model_validate_json(line)
        except ValidationError:
            raise AuditIntegrityError(f"{self.path}: line {lineno} is not a valid audit event") from None

    def _complete_lines(self) -> list[bytes]:
        """Every newline-terminated line (a torn last line is left out)."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        lines = data.split(b"\n")
        return lines[:-1]  # the piece after the last newline is empty or torn

    @staticmethod
    def _last_line(fh: IO[bytes], size: int) -> bytes | None:
        """The last non-empty newline-terminated line of `fh` (bytes after the last newline,
        a torn write, are ignored), reading backwards in blocks so appends stay O(1)."""
        block = 8192
        pos = size
        buf = b""
        while True:
            nl = buf.rfind(b"\n")
            if nl >= 0:
                head = buf[:nl]
                start = head.rfind(b"\n")
                if start >= 0 or pos == 0:
                    line = head[start + 1 :]
                    if line.strip():
                        return line
                    buf = head[: start + 1] if start >= 0 else b""  # skip a blank line
                    continue
            elif pos == 0:
                return None
            step = min(block, pos)
            pos -= step
            fh.seek(pos)
            buf = fh.read(step) + buf

    # -------------------------------------------------------------- protocol
    def last(self) -> AuditEvent | None:
        if not self.path.exists():
            return None
        with self._locked(exclusive=False):
            try:
                with open(self.path, "rb") as fh:
                    size = fh.seek(0, os.SEEK_END)
                    line = self._last_line(fh, size)
            except FileNotFoundError:
                return None
        return None if line is None else self._parse(line, -1)

    def try_append(self, event: AuditEvent) -> bool:
        record = event.model_dump_json().encode("utf-8") + b"\n"
        with self._locked(exclusive=True):
            created = not self.path.exists()
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            with os.fdopen(fd, "r+b") as fh:
                size = fh.seek(0, os.SEEK_END)
                if size:
                    fh.seek(size - 1)
                    if fh.read(1) != b"\n":  # torn by a crash: cut back to the last full line
                        fh.seek(0)
                        good = fh.read(size).rfind(b"\n") + 1
                        fh.truncate(good)
                        fh.flush()
                        os.fsync(fh.fileno())
                        size = good
                line = self._last_line(fh, size)
                last = None if line is None else self._parse(line, -1)
                if not _links(last, event):
                    return False
                fh.seek(size)
                fh.write(record)
                fh.flush()
                os.fsync(fh.fileno())
            if created:
                self._fsync_dir()
        return True

    def read(self, start_seq: int = 0) -> list[AuditEvent]:
        if not self.path.exists():
            return []
        with self._locked(exclusive=False):
            lines = self._complete_lines()
        events = [self._parse(line, n) for n, line in enumerate(lines, start=1) if line.strip()]
        return [e for e in events if e.seq >= start_seq]

    def replace(self, events: list[AuditEvent]) -> None:
        if not events:
            return
        wanted = {e.seq: e for e in events}
        with self._locked(exclusive=True):
            lines = [line for line in self._complete_lines() if line.strip()]
            out: list[bytes] = []
            for n, line in enumerate(lines, start=1):
                old = self._parse(line, n)
                new = wanted.pop(old.seq, None)
                if new is None:
                    out.append(line)
                else:
                    check_replacement(old, new)
                    out.append(new.model_dump_json().encode("utf-8"))
            if wanted:
                raise AuditIntegrityError(f"replace: no event with seq {min(wanted)}")
            tmp = self.path.with_name(self.path.name + ".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(b"".join(line + b"\n" for line in out))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
            self._fsync_dir()

    def _fsync_dir(self) -> None:
        try:
            dfd = os.open(self.path.parent, os.O_RDONLY)
        except OSError:
            return
        try:
            os.fsync(dfd)
        except OSError:
            pass
        finally:
            os.close(dfd)
