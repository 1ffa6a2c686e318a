"""Loads the hostile-input corpus (`data/*.json`, made readable by `data/build_corpus.py`).

JSON cannot hold every hostile value, so a few are tagged: `{"$bytes": hex}`, `{"$datetime": iso}`
(naive when the string has no offset), `{"$date": iso}`, `{"$set": [...]}`, `{"$tuple": [...]}`,
`{"$decimal": "1.5"}`, `{"$object": "object"}` (a plain `object()`), `{"$pairs": [[k, v], ...]}`
(a dict whose keys JSON cannot express, such as ints or None). NaN and infinities are JSON
extensions Python reads as floats; lone surrogates are `\\udXXX` escapes.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "data"


def decode(value: Any) -> Any:
    if isinstance(value, list):
        return [decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((tag, arg),) = value.items()
        if tag == "$bytes":
            return bytes.fromhex(arg)
        if tag == "$datetime":
            return datetime.fromisoformat(arg)
        if tag == "$date":
            return date.fromisoformat(arg)
        if tag == "$set":
            return set(decode(arg))
        if tag == "$tuple":
            return tuple(decode(arg))
        if tag == "$decimal":
            return Decimal(arg)
        if tag == "$object":
            return object()
        if tag == "$pairs":
            return {decode(k): decode(v) for k, v in arg}
    return {k: decode(v) for k, v in value.items()}


def load(name: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    return [decode(r) for r in rows]


TEXTS = load("texts")
METADATA = load("metadata")
SCOPES = load("scopes")
PARAMS = load("params")
CASES = len(TEXTS) + len(METADATA) + len(SCOPES) + len(PARAMS)
