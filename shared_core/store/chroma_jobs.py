"""The extraction job queue in Chroma (`<prefix>_jobs`), shared by the processes of one server.

A row per job: the payload as its document; its scope (the same composite keys as records, so
erasure finds it), its group (the scope's key), when it was queued, and its claim (`owner`,
`until`, `cancelled`) as metadata. Chroma has no compare-and-set: a worker writes its claim,
waits `settle` seconds and reads it back, keeping only the rows still carrying its name. Two
workers racing for one scope then leave it to the last writer, unless one took longer than
`settle` between reading and claiming; that case, like a worker dying mid-job, runs a job twice
(at least once), never loses it. Leases compare the workers' clocks: keep them in sync (NTP).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from .._boundary import translate
from ..models import Scope
from .chroma import ChromaStore, _scope_keys, _scope_meta, _where
from .chroma_graph import UNIT, side_collection
from .chroma_rows import scope_of
from .jobs import InMemoryJobQueue, JobQueue, QueuedJob

_SCAN = 1_000  # waiting jobs read to find the oldest scope no one holds


class ChromaJobQueue:
    def __init__(self, store: ChromaStore, settle: float = 0.05) -> None:
        prefix = store._records.name.rsplit("_records", 1)[0]
        with translate("store", "open job queue"):
            self._col = side_collection(store._client, f"{prefix}_jobs")
        self.settle = settle

    def put(self, jobs: Sequence[QueuedJob], now: float) -> None:
        if not jobs:
            return
        with translate("store", "queue extraction jobs"):
            self._col.add(  # `add` leaves a job already queued (and its claim) as it is
                ids=[j.id for j in jobs],
                embeddings=[UNIT] * len(jobs),
                documents=[j.payload for j in jobs],
                metadatas=[
                    {
                        **_scope_meta(j.scope),
                        **_scope_keys(j.scope),
                        "group": j.scope.key(),
                        "at": now,
                        "owner": "",
                        "until": 0.0,
                        "cancelled": False,
                    }
                    for j in jobs
                ],
            )

    def _rows(self, ids: Sequence[str]) -> dict[str, Any]:
        got = self._col.get(ids=list(dict.fromkeys(ids)), include=["metadatas"])
        return {i: m for i, m in zip(got["ids"], got["metadatas"] or []) if m}

    def claim(self, owner: str, now: float, lease: float, limit: int) -> list[QueuedJob]:
        with translate("store", "claim extraction jobs"):
            held = self._col.get(where={"until": {"$gt": now}}, include=["metadatas"])
            busy = sorted({m["group"] for m in held.get("metadatas") or [] if m})
            where: dict[str, Any] = {"until": {"$lte": now}}
            if busy:  # in the query, so a scope with many jobs that someone holds cannot hide the rest
                where = {"$and": [where, {"group": {"$nin": busy}}]}
            free = self._col.get(where=where, include=["metadatas"], limit=_SCAN)
            metas = [m for m in free.get("metadatas") or [] if m]
            if not metas:
                return []
            group = min(metas, key=lambda m: (m["at"], m["group"]))["group"]
            got = self._col.get(
                where={"$and": [{"group": {"$eq": group}}, {"until": {"$lte": now}}]},
                include=["metadatas", "documents"],
            )
            rows = sorted(
                zip(got["ids"], got["metadatas"] or [], got["documents"] or []), key=lambda r: r[1]["at"]
            )[:limit]
            if not rows:
                return []
            ids = [r[0] for r in rows]
            claim = {"owner": owner, "until": now + lease, "cancelled": False}
            self._col.update(ids=ids, metadatas=[{**r[1], **claim} for r in rows])
        time.sleep(self.settle)
        with translate("store", "claim extraction jobs"):
            back = self._rows(ids)
        mine = {i for i, m in back.items() if m.get("owner") == owner}
        return [QueuedJob(i, scope_of(m), doc) for i, m, doc in rows if i in mine]

    def requeue(self, jobs: Sequence[QueuedJob], owner: str) -> None:
        if not jobs:
            return
        with translate("store", "requeue extraction jobs"):
            rows = self._rows([j.id for j in jobs])
            keep = [
                j
                for j in jobs
                if j.id in rows and rows[j.id].get("owner") == owner and not rows[j.id].get("cancelled")
            ]
            if keep:
                self._col.update(
                    ids=[j.id for j in keep],
                    documents=[j.payload for j in keep],
                    metadatas=[{**rows[j.id], "owner": "", "until": 0.0} for j in keep],
                )

    def finish(self, ids: Sequence[str]) -> None:
        if ids:
            with translate("store", "finish extraction jobs"):
                self._col.delete(ids=list(dict.fromkeys(ids)))

    def abandon(self, ids: Sequence[str], owner: str) -> None:
        if not ids:
            return
        with translate("store", "abandon extraction jobs"):
            rows = self._rows(ids)
            gone = [i for i, m in rows.items() if m.get("cancelled")]
            back = [(i, m) for i, m in rows.items() if not m.get("cancelled") and m.get("owner") == owner]
            if gone:
                self._col.delete(ids=gone)
            if back:
                self._col.update(
                    ids=[i for i, _ in back], metadatas=[{**m, "owner": "", "until": 0.0} for _, m in back]
                )

    def held(self, ids: Sequence[str], owner: str, now: float) -> bool:
        with translate("store", "check extraction job claims"):
            rows = self._rows(ids)
        return len(rows) == len(set(ids)) and all(
            m.get("owner") == owner and float(m.get("until", 0.0)) > now and not m.get("cancelled")
            for m in rows.values()
        )

    def live(self, ids: Sequence[str]) -> bool:
        with translate("store", "check extraction jobs"):
            rows = self._rows(ids)
        return len(rows) == len(set(ids)) and not any(m.get("cancelled") for m in rows.values())

    def cancel(self, scope: Scope, now: float) -> list[tuple[str, float]]:
        with translate("store", "cancel extraction jobs"):
            got = self._col.get(where=_where(scope), include=["metadatas"])
            rows = [(i, m) for i, m in zip(got["ids"], got["metadatas"] or []) if m]
            claimed = [(i, m) for i, m in rows if float(m.get("until", 0.0)) > now]
            waiting = [i for i, m in rows if float(m.get("until", 0.0)) <= now]
            if waiting:
                self._col.delete(ids=waiting)
            if claimed:
                self._col.update(
                    ids=[i for i, _ in claimed], metadatas=[{**m, "cancelled": True} for _, m in claimed]
                )
        return [(i, float(m["until"])) for i, m in claimed]

    def remaining(self, ids: Sequence[str]) -> list[str]:
        if not ids:
            return []
        with translate("store", "check extraction jobs"):
            rows = self._rows(ids)
        return [i for i in ids if i in rows]

    def purge(self, scope: Scope) -> int:
        with translate("store", "purge extraction jobs"):
            ids = self._col.get(where=_where(scope), include=[])["ids"]
            if ids:
                self._col.delete(ids=ids)
        return len(ids)

    def waiting(self) -> int:
        with translate("store", "count extraction jobs"):
            return int(self._col.count())


def job_queue_for(store: Any) -> JobQueue:
    """The job queue that belongs with `store`: its Chroma collection, or one per in-memory store."""
    if isinstance(store, ChromaStore):
        return ChromaJobQueue(store)
    queue = getattr(store, "_job_queue", None)
    if queue is None:
        queue = InMemoryJobQueue()
        store._job_queue = queue
    return queue
