"""The one error boundary (`shared_core._boundary`): a typed table of foreign classes becomes the
`MemoError` tree; MeMo's own errors and bugs pass through unchanged; nothing else is swallowed."""

from __future__ import annotations

import json
import sqlite3

import chromadb.errors as ce
import httpx
import pydantic
import pytest

from shared_core._boundary import translate
from shared_core.errors import (
    EmbeddingError,
    ExtractionError,
    InvalidInput,
    LLMError,
    MemoError,
    NotFound,
    StoreCorrupted,
    StoreUnavailable,
)


class _Model(pydantic.BaseModel):
    x: int


def _validation_error() -> pydantic.ValidationError:
    try:
        _Model.model_validate({"x": "nope"})
    except pydantic.ValidationError as exc:
        return exc
    raise AssertionError("unreachable")


STORE_CASES: list[tuple[BaseException, type[MemoError]]] = [
    (ce.InvalidArgumentError("bad where"), InvalidInput),
    (ce.DuplicateIDError("dup"), InvalidInput),
    (
        ce.InternalError("error returned from database: (code: 11) database disk image is malformed"),
        StoreCorrupted,
    ),
    (ce.InternalError("attempt to write a readonly database"), StoreUnavailable),
    (ce.NotFoundError("collection memo_records does not exist"), StoreUnavailable),
    (httpx.ConnectError("[Errno 111] Connection refused"), StoreUnavailable),
    (httpx.ReadTimeout("timed out"), StoreUnavailable),
    (httpx.RemoteProtocolError("server disconnected"), StoreUnavailable),
    (sqlite3.DatabaseError("file is not a database"), StoreCorrupted),
    (sqlite3.OperationalError("database is locked"), StoreUnavailable),
    (_validation_error(), StoreCorrupted),
    (json.JSONDecodeError("Expecting value", "{", 1), StoreCorrupted),
    (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), StoreCorrupted),
    (ConnectionRefusedError(111, "refused"), StoreUnavailable),
    (TimeoutError("slow"), StoreUnavailable),
    (PermissionError(13, "denied"), StoreUnavailable),
    (ValueError("Expected metadata value to be a str, int, float or bool"), InvalidInput),
]


@pytest.mark.parametrize(
    "exc,expected",
    STORE_CASES,
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else v.__name__,
)
def test_store_errors_map_by_class(exc: BaseException, expected: type[MemoError]) -> None:
    with pytest.raises(expected) as got, translate("store", "read scope at 127.0.0.1:8000"):
        raise exc
    assert type(got.value) is expected
    assert got.value.__cause__ is exc and "127.0.0.1:8000" in str(got.value)


@pytest.mark.parametrize("bug", [AttributeError("x"), AssertionError("y"), KeyError("k"), TypeError("t"),
                                 ZeroDivisionError(), RuntimeError("r")])  # fmt: skip
def test_bugs_pass_through_the_store_boundary_unchanged(bug: Exception) -> None:
    with pytest.raises(type(bug)) as got, translate("store", "x"):
        raise bug
    assert got.value is bug


@pytest.mark.parametrize("own", [NotFound("r1"), InvalidInput("bad"), StoreCorrupted("c")])
def test_memo_errors_pass_through_every_boundary(own: MemoError) -> None:
    for where in ("store", "embedding", "llm", "extraction"):
        with pytest.raises(type(own)) as got, translate(where, "x"):
            raise own
        assert got.value is own


@pytest.mark.parametrize("where,expected", [("embedding", EmbeddingError), ("llm", LLMError),
                                            ("extraction", ExtractionError)])  # fmt: skip
def test_plugins_errors_become_their_category(where: str, expected: type[MemoError]) -> None:
    with pytest.raises(expected), translate(where, "plug-in"):
        raise RuntimeError("a framework model failed")


def test_base_exceptions_are_never_caught() -> None:
    for exc in (KeyboardInterrupt(), SystemExit(3)):
        with pytest.raises(type(exc)), translate("store", "x"):
            raise exc


def test_a_known_chroma_transient_is_read_again_and_nothing_else_is() -> None:
    from shared_core._boundary import read_retrying

    calls: list[int] = []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ce.InternalError(
                "Error executing plan: Internal error: Error creating hnsw segment reader: Nothing found on disk"
            )
        return "rows"

    assert read_retrying(flaky, "read scope") == "rows" and len(calls) == 3

    def broken() -> str:
        calls.append(1)
        raise ce.InternalError("attempt to write a readonly database")

    calls.clear()
    with pytest.raises(StoreUnavailable):
        read_retrying(broken, "read scope")
    assert len(calls) == 1  # not a transient: raised at once

    def never() -> str:
        raise ce.InternalError("Error creating hnsw segment reader: Nothing found on disk")

    with pytest.raises(StoreUnavailable, match="hnsw"):
        read_retrying(never, "read scope", attempts=2)  # a transient that lasts: raised in the end
