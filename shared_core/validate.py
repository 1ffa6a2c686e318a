"""Input validation: every check a caller's data must pass before anything is written."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError

from .config import Limits
from .errors import InvalidInput, ScopeError
from .models import MetaValue, Scope, Turn, check_id


def text(value: Any, limits: Limits, what: str = "text") -> str:
    """A non-empty, valid-UTF-8 string without NUL, within the size limit."""
    if isinstance(value, (bytes, bytearray)):
        raise InvalidInput(f"{what} must be str, not bytes (decode it as UTF-8 first)")
    if not isinstance(value, str):
        raise InvalidInput(f"{what} must be str, got {type(value).__name__}")
    if not value.strip():
        raise InvalidInput(f"{what} is empty or whitespace")
    if "\x00" in value:
        raise InvalidInput(f"{what} contains a NUL character")
    if len(value) > limits.max_text_chars:
        raise InvalidInput(f"{what} has {len(value)} characters; the limit is {limits.max_text_chars}")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidInput(f"{what} is not valid UTF-8 (lone surrogate at {exc.start})") from None
    return value


def scope(value: Any) -> Scope:
    if isinstance(value, Scope):
        s = value
    elif isinstance(value, Mapping):
        try:
            s = Scope(**value)
        except (ValidationError, TypeError) as exc:
            raise ScopeError(f"invalid scope: {exc}") from None
    else:
        raise ScopeError(f"a Scope is required, got {type(value).__name__}")
    if not s.is_readable():
        raise ScopeError("a scope needs a user, an agent or a session besides the tenant")
    return s


def identifier(value: Any, what: str) -> str:
    try:
        return check_id(value, what)
    except (TypeError, ValueError) as exc:
        raise InvalidInput(str(exc)) from None


def turns(messages: Any, limits: Limits) -> list[Turn]:
    if isinstance(messages, (str, bytes, Mapping)) or not isinstance(messages, Iterable):
        raise InvalidInput("messages must be a list of {'role', 'content'} dicts or Turn objects")
    items = list(messages)
    if not items:
        raise InvalidInput("messages is empty")
    if len(items) > limits.max_batch_messages:
        raise InvalidInput(f"{len(items)} messages in one call; the limit is {limits.max_batch_messages}")
    out: list[Turn] = []
    for i, m in enumerate(items):
        if isinstance(m, Turn):
            turn = m
        elif isinstance(m, Mapping):
            text(m.get("content"), limits, f"messages[{i}].content")
            try:
                turn = Turn(**m)
            except (ValidationError, TypeError) as exc:
                raise InvalidInput(f"messages[{i}] is invalid: {exc}") from None
        else:
            raise InvalidInput(f"messages[{i}] must be a dict or Turn, got {type(m).__name__}")
        text(turn.content, limits, f"messages[{i}].content")
        out.append(turn)
    ids = [t.id for t in out if t.id]
    if len(ids) != len(set(ids)):
        raise InvalidInput("two messages in one call share an id")
    return out


def metadata(value: Any, limits: Limits) -> dict[str, MetaValue]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInput("metadata must be a dict")
    if len(value) > limits.max_metadata_keys:
        raise InvalidInput(f"metadata has more than {limits.max_metadata_keys} keys")
    out: dict[str, MetaValue] = {}
    for k, v in value.items():
        identifier(k, "metadata key")
        if not isinstance(v, (str, int, float, bool)):
            raise InvalidInput(f"metadata[{k!r}] must be str, int, float or bool")
        if isinstance(v, str):
            text(v, limits, f"metadata[{k!r}]") if v else None
        out[k] = v
    return out


def k(value: Any, limits: Limits) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"k must be an int, got {type(value).__name__}")
    if not 1 <= value <= limits.max_k:
        raise InvalidInput(f"k must be between 1 and {limits.max_k}")
    return value


def ids(values: Iterable[Any], what: str = "id") -> list[str]:
    if isinstance(values, (str, bytes)):
        values = [values]
    return [identifier(v, what) for v in values]
