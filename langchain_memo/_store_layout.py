"""How a LangGraph store item is laid out in a MeMo record's metadata (conversion only, no decisions)."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from shared_core import MemoryRecord

_NS, _KEY, _VALUE, _ID, _IDX, _EXP, _TTL = (
    "lg_ns",
    "lg_key",
    "lg_value",
    "lg_id",
    "lg_idx",
    "lg_exp",
    "lg_ttl",
)
_DEPTH = 8  # prefixes up to this length are pushed down to the store as metadata equality
_FIELDS, _SHORT = 12, 256  # short string fields (the first 12 of a value) pushed down for `filter` equality
_BARE = re.compile(r"(?<=[:\[,])(\s*)(\[[A-Z_]+\])(?=\s*[,\]}])")  # a redacted number: quote it back


def langmem_user(namespace: tuple[str, ...]) -> str | None:
    """The default mapping: LangMem's `("memories", user_id, ...)` names the user; other namespaces don't."""
    return namespace[1] if len(namespace) >= 2 and namespace[0] == "memories" else None


def _pushable(field: str, value: Any) -> bool:
    return (
        isinstance(value, str) and 0 < len(value) <= _SHORT and field.isprintable() and 0 < len(field) <= 100
    )


_HEX, _LETTERS = str.maketrans("0123456789", "ghijklmnop"), str.maketrans("ghijklmnop", "0123456789")


def _enc(text: str) -> str:
    """Namespaces and keys are addresses, kept exact: letters only, which no PII pattern rewrites."""
    return text.encode().hex().translate(_HEX)


def _dec(value: object) -> str:
    return bytes.fromhex(str(value).translate(_LETTERS)).decode()


def _prefix(ns: tuple[str, ...], n: int) -> str:
    return _enc(json.dumps(list(ns[:n]), ensure_ascii=False))


def _namespace(rec: MemoryRecord) -> tuple[str, ...]:
    return tuple(json.loads(_dec(rec.metadata[_NS])))


def _item_id(ns: tuple[str, ...], key: str) -> str:  # letters only: nothing a PII pattern could match
    return hashlib.sha256(json.dumps([list(ns), key]).encode()).hexdigest().translate(_HEX)


def _value(rec: MemoryRecord) -> Any:
    raw = str(rec.metadata[_VALUE])
    try:
        return json.loads(raw)
    except json.JSONDecodeError:  # the engine redacted a number that looked like PII: quote the placeholder
        return json.loads(_BARE.sub(r'\1"\2"', raw))
