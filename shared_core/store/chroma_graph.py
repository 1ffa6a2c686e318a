"""The HNSW graphs of MeMo's Chroma collections, which MeMo never searches.

Chroma keeps every vector of a collection in an HNSW graph. MeMo reads a scope's vectors by key
and ranks them by exact cosine (`ChromaStore.query_many`, the search index); side collections
(history, meta, audit, jobs, quarantine) hold a unit vector and are read by id or metadata. So a
new collection builds the smallest graph Chroma takes: each write costs less (4,190 upserts
2.73 -> 2.08 s; LoCoMo dev ingest 138 -> 145 turns/s), and the vectors are stored alike.
Collections created before keep the graph Chroma fixed at their creation.
"""

from __future__ import annotations

from typing import Any

UNSEARCHED_GRAPH = {"ef_construction": 4, "max_neighbors": 2}
UNIT = [1.0]  # the vector of every row of a side collection


def records_collection(client: Any, name: str, metadata: dict[str, Any]) -> Any:
    """The records collection: vectors by cosine (as MeMo's similarities assume), `metadata` set
    when it is created."""
    return client.get_or_create_collection(
        name,
        embedding_function=None,
        configuration={"hnsw": {"space": "cosine", **UNSEARCHED_GRAPH}},
        metadata=metadata,
    )


def side_collection(client: Any, name: str) -> Any:
    """A collection of rows read by id or metadata, never by similarity."""
    return client.get_or_create_collection(
        name, embedding_function=None, configuration={"hnsw": dict(UNSEARCHED_GRAPH)}
    )
