"""Keeps the SQLite query planner's statistics of an embedded Chroma database current.

Every cold search reads one scope with `get(where={<scope key>: ...})`. Chroma's SQLite metadata
segment runs it as (chromadb 1.5, `rust/segment/src/sqlite_metadata.rs`):

    SELECT DISTINCT e.id, e.embedding_id FROM embeddings e
    WHERE e.segment_id = ? AND e.id IN (SELECT id FROM embedding_metadata
                                        WHERE key = ? AND string_value = ?)
    ORDER BY e.id

Chroma never runs `ANALYZE`. Without statistics SQLite walks every row of the segment through
its `segment_id` index and probes the list for each one: the cost of reading one user's 50
records grows with the whole store (100,000 records: 26 ms for this statement, Chroma's `get`
15 ms p50). With statistics it looks the user's rows up by key and reads only them (0.2 ms; the
`get` 3.6 ms p50). Measured in `benchmarks/results/scale.md`.

So an embedded store analyses its database once it holds `MIN_ROWS` rows, and again each time it
has grown `GROWTH` times since (sampled: `analysis_limit`; 0.6 s at 198,000 rows). It runs inside
the store's serialised calls of the one process holding the directory lock, so no write of
Chroma's runs beside it. Best effort: a failure is logged and leaves the database as it was (the
statements stay correct, only slower). A Chroma server's database is analysed by its operator:
`memo --path <persist directory> maintain` (SQLite's own locks make that safe while it runs).
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

log = logging.getLogger("shared_core.store")

MIN_ROWS = 1_000
GROWTH = 4.0
ANALYSIS_LIMIT = 1_000  # rows sampled per index


def _rows(con: sqlite3.Connection) -> int:
    """The size of the embeddings table: its largest row id (no scan)."""
    got = con.execute("SELECT max(id) FROM embeddings").fetchone()
    return int(got[0] or 0) if got else 0


def _analysed(con: sqlite3.Connection) -> int | None:
    """The size of the embeddings table when it was last analysed; None if it never was."""
    try:
        got = con.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = 'embeddings' LIMIT 1").fetchone()
    except sqlite3.OperationalError:  # no sqlite_stat1: never analysed
        return None
    return int(str(got[0]).split()[0]) if got else None


def analyse(db: Path, *, force: bool = False) -> tuple[int, int | None, bool]:
    """Analyse the database `db` if it is big enough and its statistics are missing or stale
    (`force`: whenever it has rows). Returns (rows, rows at the analysis now in force, whether it
    analysed now). Raises `sqlite3.Error`."""
    con = sqlite3.connect(str(db), timeout=5.0, isolation_level=None)
    try:
        rows = _rows(con)
        analysed = _analysed(con)
        stale = analysed is None or rows >= GROWTH * max(analysed, 1)
        due = rows > 0 if force else rows >= MIN_ROWS and stale
        if due:
            con.execute(f"PRAGMA analysis_limit = {ANALYSIS_LIMIT}")
            con.execute("ANALYZE")
            analysed = _analysed(con)
            log.info("analysed %s at %d rows", db, rows)
        return rows, analysed, due
    finally:
        con.close()


class PlannerStats:
    """The statistics of one embedded Chroma database (`<dir>/chroma.sqlite3`), analysed again as
    this process writes it."""

    def __init__(self, directory: Path) -> None:
        self.db = directory / "chroma.sqlite3"
        self.analysed: int | None = None  # rows at the last analysis
        self._written = 0  # rows written by this process since the last check
        self._next = 0  # rows to write before the next check
        self.refresh()

    def wrote(self, rows: int) -> None:
        """`rows` records were written: analyse again once the database may have grown enough."""
        self._written += rows
        if self._written >= self._next:
            self.refresh()

    def refresh(self) -> bool:
        """Analyse now if due (`analyse`); True when it did. Never raises: logged."""
        self._written = 0
        try:
            rows, self.analysed, done = analyse(self.db)
        except sqlite3.Error as exc:
            log.warning("could not update the statistics of %s: %s", self.db, exc)
            self._next = MIN_ROWS
            return False
        base = max(self.analysed or 0, rows, 1)
        self._next = max(MIN_ROWS - rows, int(GROWTH * base) - rows, MIN_ROWS // 4)
        return done
