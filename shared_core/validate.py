"""Input validation: every check a caller's data must pass before anything is written or read.

One function per kind of input, the same on every path (facade, async facade, adapters, CLI,
import). Each returns the value in its canonical form or raises `InvalidInput` (`ScopeError` for
scopes) whose message starts with the field's name and whose `.field` names it too. Nothing is
coerced silently: a wrong type, an unknown enum value, a non-finite number, a negative limit or a
zero token budget is an error, never a default.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any, NoReturn

from pydantic import ValidationError

from .clock import ensure_utc
from .config import Limits
from .errors import InvalidInput, ScopeError
from .models import Kind, MetaValue, Scope, Status, Turn, check_id

INT64_MAX = 2**63 - 1
"""Largest integer a store can hold in metadata (and in a JSON number read back exactly)."""


def fail(field: str, problem: str) -> NoReturn:
    """Raise `InvalidInput("<field> <problem>", field=field)`."""
    raise InvalidInput(f"{field} {problem}", field=field)


def _type(value: Any) -> str:
    return type(value).__name__


def pydantic_problem(exc: ValidationError, field: str) -> str:
    """A pydantic error as one line naming each offending sub-field (`messages[0].role: ...`)."""
    parts = []
    for err in exc.errors(include_url=False, include_input=False):
        loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.get("loc", ()))
        parts.append(f"{field}{loc}: {err.get('msg', 'invalid')}")
    return "; ".join(parts) or f"{field}: invalid"


# ----------------------------------------------------------------------------- text, ids


def text(value: Any, limits: Limits, what: str = "text", *, max_chars: int | None = None) -> str:
    """A non-empty, valid-UTF-8 string without NUL, within the size limit. Any other character
    (controls, U+2028, bidi overrides...) is data: stored as given, escaped when rendered."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        fail(what, "must be str, not bytes (decode it as UTF-8 first)")
    if not isinstance(value, str):
        fail(what, f"must be str, got {_type(value)}")
    if not value.strip():
        fail(what, "is empty or whitespace")
    if "\x00" in value:
        fail(what, "contains a NUL character")
    limit = max_chars if max_chars is not None else limits.max_text_chars
    if len(value) > limit:
        fail(what, f"has {len(value)} characters; the limit is {limit}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        fail(what, f"is not valid UTF-8 (lone surrogate at {exc.start})")
    return value


def identifier(value: Any, what: str) -> str:
    """An opaque id (scope ids, record ids, session ids, metadata keys): printable text up to 128
    characters. `*`, `$`, `{`, `../` are plain characters, never operators or paths."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        fail(what, "must be str, not bytes")
    try:
        return check_id(value, what)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(str(exc), field=what) from None


def optional_identifier(value: Any, what: str) -> str | None:
    return None if value is None else identifier(value, what)


def ids(values: Any, what: str = "id") -> list[str]:
    """One id or a list of ids (order kept, duplicates dropped). None is an error, not "nothing"."""
    if values is None:
        fail(what, "is required (got None)")
    if isinstance(values, str):
        return [identifier(values, what)]
    if isinstance(values, (bytes, bytearray, memoryview, Mapping)) or not isinstance(values, Iterable):
        fail(what, f"must be an id or a list of ids, got {_type(values)}")
    out = [identifier(v, f"{what}[{i}]") for i, v in enumerate(values)]
    return list(dict.fromkeys(out))


def record_ids(values: Any, what: str = "record_ids") -> list[str]:
    """The ids given to delete / record_use: an id or a list of ids; None is an error."""
    return ids(values, what)


def scope(value: Any, what: str = "scope") -> Scope:
    """A readable scope (a tenant plus a user, an agent or a session). Values are data."""
    if isinstance(value, Scope):
        s = value
    elif isinstance(value, Mapping):
        bad = [k for k in value if not isinstance(k, str)]
        if bad:
            raise ScopeError(f"{what} has a non-string key {bad[0]!r}", field=what)
        try:
            s = Scope(**value)
        except ValidationError as exc:
            raise ScopeError(f"invalid scope: {pydantic_problem(exc, what)}", field=what) from None
        except TypeError as exc:
            raise ScopeError(f"invalid scope: {exc}", field=what) from None
    else:
        raise ScopeError(f"{what}: a Scope is required, got {_type(value)}", field=what)
    if not s.is_readable():
        raise ScopeError(
            f"{what}: a scope needs a user, an agent or a session besides the tenant", field=what
        )
    return s


# --------------------------------------------------------------------------- numbers, flags


def finite(value: Any, what: str) -> float:
    """A real number (int or float, not bool) that is neither NaN nor infinite."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        fail(what, f"must be a number, got {_type(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        fail(what, f"must be a finite number, got {value!r}")
    return float(value)


def unit(value: Any, what: str) -> float:
    """A finite number within [0, 1] (importance, confidence, thresholds)."""
    v = finite(value, what)
    if not 0.0 <= v <= 1.0:
        fail(what, f"must be within [0, 1], got {value!r}")
    return v


def importance(value: Any, what: str = "importance") -> float:
    return unit(value, what)


def flag(value: Any, what: str) -> bool:
    """A real bool: "yes", 1 or None are not flags."""
    if not isinstance(value, bool):
        fail(what, f"must be True or False, got {_type(value)}")
    return value


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        fail(what, f"must be an int, got {_type(value)}")
    return value


def k(value: Any, limits: Limits, what: str = "k") -> int:
    v = _int(value, what)
    if not 1 <= v <= limits.max_k:
        fail(what, f"must be between 1 and {limits.max_k}, got {v}")
    return v


def limit(value: Any, what: str = "limit") -> int | None:
    """None (no limit) or an int >= 0. A negative limit is an error, never "all but the last"."""
    if value is None:
        return None
    v = _int(value, what)
    if v < 0:
        fail(what, f"must be >= 0, got {v}")
    return v


def offset(value: Any, what: str = "offset") -> int:
    """An int >= 0 (None means 0). A negative offset is an error, never "from the end"."""
    if value is None:
        return 0
    v = _int(value, what)
    if v < 0:
        fail(what, f"must be >= 0, got {v}")
    return v


def token_budget(value: Any, what: str = "token_budget") -> int | None:
    """None (the configured default applies) or an int >= 1. Zero is an error, not the default."""
    if value is None:
        return None
    v = _int(value, what)
    if v < 1:
        fail(what, f"must be a positive int, got {v}")
    return v


# ------------------------------------------------------------------------------- enums


def kind(value: Any, what: str = "kind") -> Kind:
    if isinstance(value, Kind):
        return value
    if isinstance(value, str):
        try:
            return Kind(value)
        except ValueError:
            pass
        fail(what, f"is not a kind: {value[:40]!r}; one of {[x.value for x in Kind]}")
    fail(what, f"must be a Kind or one of {[x.value for x in Kind]}, got {_type(value)}")


def status(value: Any, what: str = "status") -> Status:
    if isinstance(value, Status):
        return value
    if isinstance(value, str):
        try:
            return Status(value)
        except ValueError:
            pass
        fail(what, f"is not a status: {value[:40]!r}; one of {[x.value for x in Status]}")
    fail(what, f"must be a Status or one of {[x.value for x in Status]}, got {_type(value)}")


def _many(values: Any, what: str) -> list[Any] | None:
    if values is None:
        return None
    if isinstance(values, (str, bytes, bytearray, Mapping, Kind, Status)) or not isinstance(values, Iterable):
        fail(what, f"must be a list, got {_type(values)}")
    items = list(values)
    if not items:
        fail(what, "is empty (pass None for no filter)")
    return items


def kinds(values: Any, what: str = "kinds") -> frozenset[Kind] | None:
    """None (every kind) or a non-empty list of kinds."""
    items = _many(values, what)
    return None if items is None else frozenset(kind(v, f"{what}[{i}]") for i, v in enumerate(items))


def statuses(values: Any, what: str = "statuses") -> frozenset[Status] | None:
    """None (the caller's default) or a non-empty list of statuses."""
    items = _many(values, what)
    return None if items is None else frozenset(status(v, f"{what}[{i}]") for i, v in enumerate(items))


# ------------------------------------------------------------------------------- time


def when(value: Any, what: str) -> datetime:
    """A datetime; a naive one is UTC (as everywhere in MeMo). A `date` alone is ambiguous: an error."""
    if not isinstance(value, datetime):
        kind_of = "a date without a time" if isinstance(value, date) else _type(value)
        fail(what, f"must be a datetime, got {kind_of}")
    try:
        return ensure_utc(value)
    except (OverflowError, ValueError) as exc:
        fail(what, f"is out of range ({exc})")


def optional_when(value: Any, what: str) -> datetime | None:
    return None if value is None else when(value, what)


def window(since: Any, until: Any) -> tuple[datetime | None, datetime | None]:
    """A time window (`since`, `until`), both optional; `until` before `since` is an error."""
    lo, hi = optional_when(since, "since"), optional_when(until, "until")
    if lo is not None and hi is not None and hi < lo:
        fail("until", "is before since")
    return lo, hi


# ---------------------------------------------------------------------------- metadata


def meta_value(value: Any, limits: Limits, what: str, *, max_chars: int | None = None) -> MetaValue:
    """One metadata value: str (may be empty or blank), bool, an int that fits in 64 bits or a finite float.
    Strings are capped at `max_chars` (default `limits.max_text_chars`)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if not -INT64_MAX - 1 <= value <= INT64_MAX:
            fail(what, "is an int outside the 64-bit range")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            fail(what, f"must be a finite number, got {value!r}")
        return value
    if isinstance(value, str):
        return _plain_str(value, limits, what, max_chars)
    fail(what, f"must be str, int, float or bool, got {_type(value)}")


def _plain_str(value: str, limits: Limits, what: str, max_chars: int | None = None) -> str:
    """Any string (empty or blank included) without NUL, valid UTF-8, within the size limit."""
    if "\x00" in value:
        fail(what, "contains a NUL character")
    cap = limits.max_text_chars if max_chars is None else max_chars
    if len(value) > cap:
        fail(what, f"has {len(value)} characters; the limit is {cap}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        fail(what, f"is not valid UTF-8 (lone surrogate at {exc.start})")
    return value


def metadata(
    value: Any, limits: Limits, what: str = "metadata", *, max_chars: int | None = None
) -> dict[str, MetaValue]:
    """A flat dict of id-like keys to `meta_value`s; None is {}. Nested or wrong-typed values,
    NaN and infinities are rejected here, before anything is written. String values are capped at
    `max_chars` (default `limits.max_text_chars`; a turn's metadata: `limits.max_message_chars`)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        fail(what, f"must be a dict, got {_type(value)}")
    if len(value) > limits.max_metadata_keys:
        fail(what, f"has {len(value)} keys; the limit is {limits.max_metadata_keys}")
    out: dict[str, MetaValue] = {}
    for key, v in value.items():
        name = identifier(key, f"{what} key")
        out[name] = meta_value(v, limits, f"{what}[{name!r}]", max_chars=max_chars)
    return out


def metadata_filter(value: Any, limits: Limits, what: str = "metadata") -> dict[str, MetaValue] | None:
    """The `metadata=` filter of list/search: None or a non-empty dict (exact equality per key)."""
    if value is None:
        return None
    out = metadata(value, limits, what)
    if not out:
        fail(what, "filter is empty (pass None for no filter)")
    return out


# ------------------------------------------------------------------------------- turns


def _turn(m: Any, limits: Limits, i: int) -> Turn:
    where = f"messages[{i}]"
    if isinstance(m, Turn):
        turn = m
    elif isinstance(m, Mapping):
        bad = [key for key in m if not isinstance(key, str)]
        if bad:
            fail(where, f"has a non-string key {bad[0]!r}")
        text(m.get("content"), limits, f"{where}.content", max_chars=limits.max_message_chars)
        fields = dict(m)
        if fields.get("metadata") is not None:
            fields["metadata"] = metadata(
                fields["metadata"], limits, f"{where}.metadata", max_chars=limits.max_message_chars
            )
        try:
            turn = Turn(**fields)
        except ValidationError as exc:
            raise InvalidInput(f"{where} is invalid: {pydantic_problem(exc, where)}", field=where) from None
        except TypeError as exc:
            fail(where, f"is invalid: {exc}")
    else:
        fail(where, f"must be a dict or Turn, got {_type(m)}")
    text(turn.content, limits, f"{where}.content", max_chars=limits.max_message_chars)
    meta = getattr(turn, "metadata", None)
    if meta is not None:
        metadata(meta, limits, f"{where}.metadata", max_chars=limits.max_message_chars)
    return turn


def turns(messages: Any, limits: Limits) -> list[Turn]:
    """A non-empty list of messages (dicts or `Turn`s), each valid, ids unique within the call."""
    if isinstance(messages, (str, bytes, bytearray, Mapping)) or not isinstance(messages, Iterable):
        fail("messages", "must be a list of {'role', 'content'} dicts or Turn objects")
    items = list(messages)
    if not items:
        fail("messages", "is empty")
    if len(items) > limits.max_batch_messages:
        fail("messages", f"has {len(items)} messages in one call; the limit is {limits.max_batch_messages}")
    out = [_turn(m, limits, i) for i, m in enumerate(items)]
    given = [t.id for t in out if t.id]
    if len(given) != len(set(given)):
        fail("messages", "has two messages that share an id")
    return out


def texts(values: Any, limits: Limits, what: str = "texts") -> list[str]:
    """A non-empty list of memory texts (`remember_many`); a single string is an error."""
    if isinstance(values, (str, bytes, bytearray, Mapping)) or not isinstance(values, Iterable):
        fail(what, f"must be a list of strings, got {_type(values)}")
    items = list(values)
    if not items:
        fail(what, "is empty")
    if len(items) > limits.max_batch_messages:
        fail(what, f"has {len(items)} texts in one call; the limit is {limits.max_batch_messages}")
    return [text(v, limits, f"{what}[{i}]") for i, v in enumerate(items)]
