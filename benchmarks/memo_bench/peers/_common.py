"""Helpers shared by the third-party peers."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from ..locomo import LocomoConversation


def chroma_client(path: Path) -> Any:
    import chromadb
    from chromadb.config import Settings

    return chromadb.PersistentClient(str(path), settings=Settings(anonymized_telemetry=False))


def line_index(conversation: LocomoConversation) -> dict[str, list[str]]:
    """`Speaker: text [image: caption]` -> the dia_ids with that exact line (peers that do not keep
    per-document metadata are mapped back to turns through their stored text; in the dev file only
    one line, "Jolene: See you!", occurs twice)."""
    out: dict[str, list[str]] = defaultdict(list)
    for t in conversation.turns:
        out[t.line].append(t.dia_id)
    return dict(out)
