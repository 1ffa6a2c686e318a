"""The bytes of an embedded Chroma directory: open checks, physical purge, byte scan.

Deleting through Chroma's API leaves the deleted text in the directory's files:

* `embeddings_queue` in `chroma.sqlite3` (Chroma's write log) keeps every write, text and metadata
  included, until the HNSW segment of its collection is persisted (every ~1,000 writes);
* SQLite free pages keep deleted rows until the file is vacuumed;
* the FTS5 trigram index (`embedding_fulltext_search_*`) keeps deleted documents' terms in old
  index segments until they are merged;
* a rollback journal (`chroma.sqlite3-journal`) or WAL file left by a crash holds old pages.

`purge(path)` removes all of it: in the log, the rows Chroma has already applied to its SQLite
metadata segment that are either an older version of a record or a record that no longer exists
get their metadata (document included) replaced by `{}` and, for records that no longer exist,
their vector by a unit vector (the HNSW replay of the log still sees the same ids and operations,
and ends with the same records); the full-text index is optimized; the database is vacuumed.
A live record's latest log row is never touched.

HNSW segment files (`<segment uuid>/data_level0.bin`, `length.bin`) are written by hnswlib from a
buffer allocated for the index's capacity and never zeroed: the slots beyond the element count and
the unused link slots hold whatever the process's heap held, and that was measured to include
records' JSON, text of other collections included (tests/integration/test_physical_erasure.py).
`purge` zeroes those bytes and the vectors of elements marked deleted (`scrub_hnsw`). A process
that keeps the index in memory can write stale heap bytes again at its next persist of that
segment: `verify_erasure` scans for that, and docs/reliability.md says what to do.

`scan(path, texts, probes)` reads every byte of every file under the directory and reports where
the given texts (raw, JSON-escaped, JSON-in-JSON-escaped) or the plaintext behind stored probes
(`probes_for`: salted SHA-256 of 16-byte windows, found through a 20-bit bucket of their first 4 bytes) occur.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import struct
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict

from ..errors import ConfigError, StoreCorrupted, StoreUnavailable
from .chroma_lock import LOCK_NAME

DB_NAME = "chroma.sqlite3"
SQLITE_MAGIC = b"SQLite format 3\x00"
WINDOW = 16  # bytes per probe window
_MAX_PROBES_PER_TEXT = 8
_CHUNK = 1 << 22
_BITS = 20


class Residue(BaseModel):
    """One place a byte scan found erased data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    file: str
    offset: int
    what: str  # "text" (a plaintext given to the scan) or "probe" (a stored fingerprint's plaintext)


# ------------------------------------------------------------------------------ open checks
def check_directory(path: str | os.PathLike[str]) -> None:
    """Refuse a directory that held a store and lost or damaged its database (never open it as
    empty): a 0-byte or non-SQLite `chroma.sqlite3`, or Chroma segment files or a journal without
    it. A missing or empty directory (or one holding only MeMo's lock file) is a new store."""
    root = Path(path)
    if not root.exists():
        return
    if not root.is_dir():
        raise ConfigError(f"{root} is not a directory")
    db = root / DB_NAME
    if db.exists():
        try:
            with open(db, "rb") as fh:
                head = fh.read(len(SQLITE_MAGIC))
        except OSError as exc:
            raise StoreUnavailable(f"cannot read {db}: {exc}") from exc
        if not head:
            raise StoreCorrupted(
                f"{db} is empty (0 bytes): restore it from a backup; it is not opened as empty"
            )
        if head != SQLITE_MAGIC:
            raise StoreCorrupted(f"{db} is not a SQLite database: restore it from a backup")
        return
    leftovers = [p.name for p in root.iterdir() if p.name != LOCK_NAME]
    segment_dirs = [n for n in leftovers if _is_uuid(n) and (root / n).is_dir()]
    journals = [n for n in leftovers if n.startswith(DB_NAME)]
    if segment_dirs or journals:
        raise StoreCorrupted(
            f"{root} holds Chroma index files ({', '.join(sorted(segment_dirs + journals)[:3])}) but no {DB_NAME}: "
            "the database was deleted or moved; restore it (an empty memory is not created over it)"
        )


def _is_uuid(name: str) -> bool:
    parts = name.split("-")
    return [len(p) for p in parts] == [8, 4, 4, 4, 12] and all(
        c in "0123456789abcdef" for c in name.replace("-", "")
    )


# ------------------------------------------------------------------------------ purge
def _connect(db: Path) -> sqlite3.Connection:
    con = sqlite3.connect(db, timeout=30.0, isolation_level=None)
    con.execute("PRAGMA secure_delete=ON")
    return con


def purge(path: str | os.PathLike[str]) -> dict[str, int]:
    """Remove deleted and superseded data from the files of the Chroma directory `path` (see the
    module docstring). Safe while Chroma has the directory open (SQLite locks; the purged log rows
    are already applied). Returns counts: log rows scrubbed, vectors replaced, bytes before/after."""
    db = Path(path) / DB_NAME
    if not db.exists():
        raise StoreUnavailable(f"no {DB_NAME} in {path}")
    before = db.stat().st_size
    con = _connect(db)
    try:
        con.execute("BEGIN IMMEDIATE")
        scrubbed = replaced = 0
        segs = con.execute(
            "SELECT s.collection, s.id, m.seq_id FROM segments s JOIN max_seq_id m ON m.segment_id = s.id "
            "WHERE s.scope = 'METADATA'"
        ).fetchall()
        for collection, segment, applied in segs:
            applied = int.from_bytes(applied, "big") if isinstance(applied, bytes) else int(applied)
            topic = f"%/{collection}"
            live = {
                r[0]
                for r in con.execute("SELECT embedding_id FROM embeddings WHERE segment_id = ?", (segment,))
            }
            rows = con.execute(
                "SELECT seq_id, id, vector, metadata FROM embeddings_queue WHERE topic LIKE ? AND seq_id <= ? "
                "ORDER BY seq_id",
                (topic, applied),
            ).fetchall()
            latest: dict[str, int] = {}
            for seq, rid, _vec, _meta in rows:
                latest[rid] = seq
            for seq, rid, vec, meta in rows:
                gone = rid not in live
                if not gone and latest[rid] == seq:
                    continue  # a live record's current row: untouched
                if meta not in (None, "{}"):
                    con.execute("UPDATE embeddings_queue SET metadata = '{}' WHERE seq_id = ?", (seq,))
                    scrubbed += 1
                if gone and vec is not None and len(vec) >= 4:
                    unit = np.zeros(len(vec) // 4, dtype=np.float32)
                    unit[0] = 1.0
                    if bytes(vec) != unit.tobytes():
                        con.execute(
                            "UPDATE embeddings_queue SET vector = ? WHERE seq_id = ?", (unit.tobytes(), seq)
                        )
                        replaced += 1
        fts = con.execute("SELECT 1 FROM sqlite_master WHERE name = 'embedding_fulltext_search'").fetchone()
        if fts:
            con.execute(
                "INSERT INTO embedding_fulltext_search(embedding_fulltext_search) VALUES ('optimize')"
            )
        con.execute("COMMIT")
        con.execute("VACUUM")
        scrubbed_hnsw = scrub_all_hnsw(path)
    except sqlite3.DatabaseError as exc:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise StoreUnavailable(f"purge of {db} failed: {exc}") from exc
    finally:
        con.close()
    return {
        "log_rows_scrubbed": scrubbed,
        "vectors_replaced": replaced,
        "bytes_before": before,
        "bytes_after": db.stat().st_size,
        "hnsw_bytes_zeroed": scrubbed_hnsw,
    }


def scrub_all_hnsw(path: str | os.PathLike[str]) -> int:
    """`scrub_hnsw` on every segment directory of the Chroma directory `path`."""
    return sum(scrub_hnsw(d) for d in Path(path).iterdir() if d.is_dir() and _is_uuid(d.name))


_HNSW_HEADER = struct.Struct("<I6QiI3QdQ")  # Chroma's hnswlib header.bin (100 bytes)


def scrub_hnsw(segment: Path) -> int:
    """Zero what hnswlib wrote without meaning to: slots beyond the element count, unused link slots
    and the vectors of deleted elements, in `data_level0.bin`; `length.bin` beyond the count.
    Returns how many bytes changed. An unknown layout is left alone."""
    head, data_path, lengths = segment / "header.bin", segment / "data_level0.bin", segment / "length.bin"
    if not (head.exists() and data_path.exists()):
        return 0
    raw = head.read_bytes()
    if len(raw) != _HNSW_HEADER.size:
        return 0
    _v, off0, cap, count, size, label_off, data_off, *_rest = _HNSW_HEADER.unpack(raw)
    data = bytearray(data_path.read_bytes())
    if (
        off0 != 0
        or size <= 0
        or count > cap
        or len(data) < count * size
        or not 4 <= data_off <= label_off < size
    ):
        return 0
    before = bytes(data)
    data[count * size :] = bytes(len(data) - count * size)
    for i in range(count):
        base = i * size
        links = int.from_bytes(data[base : base + 2], "little")
        start = base + 4 + 4 * links
        if start < base + data_off:
            data[start : base + data_off] = bytes(base + data_off - start)
        if data[base + 2] & 0x01:  # hnswlib's DELETE_MARK: the vector of a deleted record
            data[base + data_off : base + label_off] = bytes(label_off - data_off)
    changed = int(np.count_nonzero(np.frombuffer(before, np.uint8) != np.frombuffer(bytes(data), np.uint8)))
    if changed:
        data_path.write_bytes(bytes(data))
    if lengths.exists():
        buf = bytearray(lengths.read_bytes())
        if len(buf) > 4 * count and any(buf[4 * count :]):
            changed += int(np.count_nonzero(np.frombuffer(bytes(buf[4 * count :]), np.uint8)))
            buf[4 * count :] = bytes(len(buf) - 4 * count)
            lengths.write_bytes(bytes(buf))
    return changed


def integrity(path: str | os.PathLike[str]) -> str:
    """SQLite's `PRAGMA integrity_check` of the directory's database ("ok" when sound)."""
    db = Path(path) / DB_NAME
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30.0)
        try:
            rows = con.execute("PRAGMA integrity_check").fetchall()
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    return "; ".join(str(r[0]) for r in rows[:5])


# ------------------------------------------------------------------------------ byte scan
def variants(text: str) -> list[bytes]:
    """The byte forms a text takes in Chroma's files: raw UTF-8, JSON-escaped (UTF-8 and ASCII
    escapes) and JSON-in-JSON-escaped (a record's JSON inside a metadata JSON in the log)."""
    once = json.dumps(text, ensure_ascii=False)[1:-1]
    forms = {text, once, json.dumps(once, ensure_ascii=False)[1:-1], json.dumps(text)[1:-1]}
    return sorted({f.encode("utf-8") for f in forms if f})


def _files(root: Path) -> Iterator[Path]:
    for base, _dirs, names in os.walk(root):
        for name in names:
            yield Path(base) / name


def _buckets(data: np.ndarray) -> np.ndarray:
    """A 20-bit bucket of the 4 bytes starting at every position (a multiplicative hash)."""
    n = len(data) - WINDOW + 1
    if n <= 0:
        return np.zeros(0, dtype=np.uint32)
    word = data[:n].astype(np.uint32)
    for j in (1, 2, 3):
        word |= data[j : j + n].astype(np.uint32) << np.uint32(8 * j)
    with np.errstate(over="ignore"):
        word *= np.uint32(2654435761)
    out: np.ndarray = word >> np.uint32(32 - _BITS)
    return out


def _bucket(window: bytes) -> int:
    return int(_buckets(np.frombuffer(window, dtype=np.uint8))[0])


def _salted(salt: str, window: bytes) -> str:
    return hashlib.sha256(salt.encode("utf-8") + window).hexdigest()


def probes_for(texts: Iterable[str], salt: str) -> list[str]:
    """Fingerprints that let a later scan find a text's bytes without keeping the text: for up to 8
    16-byte windows of each text (windows JSON leaves unchanged), `"<20-bit bucket of the first 4
    bytes>:<sha256(salt + window)>"`. Texts shorter than 16 bytes get no probe (the plaintext scan
    covers them)."""
    out: set[str] = set()
    for text in texts:
        raw = text.encode("utf-8")
        found = 0
        for start in range(0, len(raw) - WINDOW + 1, WINDOW):
            window = raw[start : start + WINDOW]
            if any(b < 0x20 or b in b'"\\' for b in window):
                continue
            try:
                window.decode("utf-8")
            except UnicodeDecodeError:
                continue  # a window that splits a character
            out.add(f"{_bucket(window):05x}:{_salted(salt, window)}")
            found += 1
            if found >= _MAX_PROBES_PER_TEXT:
                break
    return sorted(out)


def scan(
    path: str | os.PathLike[str],
    texts: Sequence[str] = (),
    probes: Sequence[str] = (),
    salt: str = "",
    allowed: Iterable[str] = (),
) -> list[Residue]:
    """Every occurrence, in any file under `path`, of `texts` (in each of their `variants`) and of
    the windows behind `probes`. A probe window that also occurs in one of the `allowed` texts
    (what the store legitimately still holds, e.g. another subject saying the same words) is not
    residue. Reads files whole, one at a time."""
    root = Path(path)
    needles = {v for t in texts if t for v in variants(t)}
    wanted: dict[int, set[str]] = {}
    for p in probes:
        bucket, _, digest = p.partition(":")
        if len(bucket) == 5 and len(digest) == 64:  # other formats are not probes of this version
            wanted.setdefault(int(bucket, 16), set()).add(digest)
    keys = np.zeros(1 << _BITS, dtype=bool)  # a filter on the windows' first 4 bytes; exact check after
    for key in wanted:
        keys[key] = True
    allowed_text = "\x00".join(allowed).encode("utf-8")
    out: list[Residue] = []
    for file in sorted(_files(root)):
        if file.name == LOCK_NAME:
            continue
        try:
            data = file.read_bytes()
        except OSError:
            continue
        rel = str(file.relative_to(root))
        for needle in needles:
            at = data.find(needle)
            if at >= 0:
                out.append(Residue(file=rel, offset=at, what="text"))
        if wanted:
            out.extend(_probe_hits(data, rel, keys, wanted, salt, allowed_text))
    return out


def _probe_hits(
    data: bytes, rel: str, keys: np.ndarray, wanted: dict[int, set[str]], salt: str, allowed: bytes
) -> list[Residue]:
    arr = np.frombuffer(data, dtype=np.uint8)
    hits: list[Residue] = []
    for start in range(0, max(1, len(arr) - WINDOW + 1), _CHUNK):
        part = arr[start : start + _CHUNK + WINDOW - 1]
        buckets = _buckets(part)
        for i in np.nonzero(keys[buckets])[0]:
            window = bytes(part[i : i + WINDOW])
            if _salted(salt, window) in wanted.get(int(buckets[i]), set()) and window not in allowed:
                hits.append(Residue(file=rel, offset=start + int(i), what="probe"))
    return hits
