"""The extraction job queue in Chroma (`<prefix>_jobs`), shared by the processes of one server.

A row per job: the payload as its document; its scope (the same composite keys as records, so
erasure finds it), when it was queued, and its claim (`owner`, `until`) as metadata. Chroma has no
compare-and-set: a worker writes its claim, waits `settle` seconds and reads it back, keeping only
the rows still carrying its name. Two workers racing for one scope then leave it to the last
writer, unless one took longer than `settle` between reading and claiming; that case, like a
worker dying mid-job, runs a job twice (at least once), never loses it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from .._boundary import translate
from ..models import Scope
from .chroma import ChromaStore, _scope_keys, _scope_meta, _where
from .jobs import InMemoryJobQueue, JobQueue, QueuedJob

_UNIT = [1.0]
_SCAN = 1_000  # waiting jobs read to find the oldest one's scope


class ChromaJobQueue:
    def __init__(self, store: ChromaStore, settle: float = 0.05) -> None:
        prefix = store._records.name.rsplit("_records", 1)[0]
        with translate("store", "open job queue"):
            self._col = store._client.get_or_create_collection(f"{prefix}_jobs", embedding_function=None)
        self.settle = settle

    def put(self, jobs: Sequence[QueuedJob], now: float) -> None:
        if not jobs:
            return
        with translate("store", "queue extraction jobs"):
            self._col.add(  # `add` leaves a job already queued (and its claim) as it is
                ids=[j.id for j in jobs],
                embeddings=[_UNIT] * len(jobs),
                documents=[j.payload for j in jobs],
                metadatas=[
                    {
                        **_scope_meta(j.scope),
                        **_scope_keys(j.scope),
                        "group": j.scope.key(),
                        "at": now,
                        "owner": "",
                        "until": 0.0,
                    }
                    for j in jobs
                ],
            )

    def claim(self, owner: str, now: float, lease: float, limit: int) -> list[QueuedJob]:
        with translate("store", "claim extraction jobs"):
            free = self._col.get(where={"until": {"$lte": now}}, include=["metadatas"], limit=_SCAN)
            metas: list[Any] = free.get("metadatas") or []
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
            self._col.update(
                ids=ids, metadatas=[{**r[1], "owner": owner, "until": now + lease} for r in rows]
            )
        time.sleep(self.settle)
        with translate("store", "claim extraction jobs"):
            back = self._col.get(ids=ids, include=["metadatas"])
        mine = {i for i, m in zip(back["ids"], back["metadatas"] or []) if m and m.get("owner") == owner}
        return [QueuedJob(i, _scope_of(m), doc) for i, m, doc in rows if i in mine]

    def release(self, ids: Sequence[str]) -> None:
        if ids:
            with translate("store", "release extraction jobs"):
                got = self._col.get(ids=list(ids), include=["metadatas"])
                metas = [{**m, "owner": "", "until": 0.0} for m in got["metadatas"] or []]
                if metas:
                    self._col.update(ids=got["ids"], metadatas=metas)

    def finish(self, ids: Sequence[str]) -> None:
        if ids:
            with translate("store", "finish extraction jobs"):
                self._col.delete(ids=list(ids))

    def held(self, ids: Sequence[str], owner: str, now: float) -> bool:
        with translate("store", "check extraction job claims"):
            got = self._col.get(ids=list(ids), include=["metadatas"])
        metas = got.get("metadatas") or []
        return len(metas) == len(set(ids)) and all(
            m and m.get("owner") == owner and float(m.get("until", 0.0)) > now for m in metas
        )

    def purge(self, scope: Scope) -> int:
        with translate("store", "purge extraction jobs"):
            ids = self._col.get(where=_where(scope), include=[])["ids"]
            if ids:
                self._col.delete(ids=ids)
        return len(ids)

    def waiting(self) -> int:
        with translate("store", "count extraction jobs"):
            return int(self._col.count())


def _scope_of(meta: Any) -> Scope:
    return Scope(
        tenant=meta["tenant"],
        user=meta["user"] or None,
        agent=meta["agent"] or None,
        session=meta["session"] or None,
    )


def job_queue_for(store: Any) -> JobQueue:
    """The job queue that belongs with `store`: its Chroma collection, or one per in-memory store."""
    if isinstance(store, ChromaStore):
        return ChromaJobQueue(store)
    queue = getattr(store, "_job_queue", None)
    if queue is None:
        queue = InMemoryJobQueue()
        store._job_queue = queue
    return queue
