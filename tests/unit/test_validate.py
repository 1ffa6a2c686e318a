"""The boundary validators: canonical value or `InvalidInput` naming the field, never a silent default."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from shared_core import validate
from shared_core.config import Limits
from shared_core.errors import InvalidInput, MemoError, ScopeError
from shared_core.models import Kind, Scope, Status

LIMITS = Limits()


def bad(fn: Any, *args: Any, field: str, **kw: Any) -> InvalidInput:
    with pytest.raises(InvalidInput) as info:
        fn(*args, **kw)
    assert isinstance(info.value, MemoError)
    assert info.value.field == field, info.value.field
    assert str(info.value).startswith(field) or field in str(info.value)
    return info.value


@pytest.mark.parametrize("value", [-1, -2, True, False, "5", 1.5, None.__class__])
def test_limit_rejects_negative_bool_and_non_int(value: Any) -> None:
    bad(validate.limit, value, field="limit")


def test_limit_and_offset_accept_none_zero_and_positive() -> None:
    assert validate.limit(None) is None and validate.limit(0) == 0 and validate.limit(7) == 7
    assert validate.offset(None) == 0 and validate.offset(3) == 3
    for v in (-2, True, "1", 2.0):
        bad(validate.offset, v, field="offset")


@pytest.mark.parametrize("value", [0, -1, True, "100", 10.0])
def test_token_budget_zero_is_an_error_not_the_default(value: Any) -> None:
    bad(validate.token_budget, value, field="token_budget")


def test_token_budget_none_means_default() -> None:
    assert validate.token_budget(None) is None and validate.token_budget(1) == 1


@pytest.mark.parametrize("value", [0, -1, True, "5", 1.0, 10**6])
def test_k(value: Any) -> None:
    bad(validate.k, value, LIMITS, field="k")


def test_kind_and_status() -> None:
    assert validate.kind("fact") is Kind.FACT and validate.kind(Kind.EVENT) is Kind.EVENT
    assert validate.status("expired") is Status.EXPIRED
    for v in ("bogus", "FACT", 1, None, b"fact"):
        bad(validate.kind, v, field="kind")
    for v in ("bogus", 5, None):
        bad(validate.status, v, field="status")


def test_kinds_and_statuses_name_the_item() -> None:
    assert validate.kinds(None) is None
    assert validate.kinds(["fact", Kind.EPISODE]) == frozenset({Kind.FACT, Kind.EPISODE})
    bad(validate.kinds, ["fact", "bogus"], field="kinds[1]")
    bad(validate.kinds, "fact", field="kinds")  # a string is not a list of kinds
    bad(validate.kinds, [], field="kinds")
    bad(validate.statuses, ["bogus"], field="statuses[0]")
    assert validate.statuses(["active"]) == frozenset({Status.ACTIVE})


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf"), True, "0.5", None, -0.01, 1.01])
def test_importance(value: Any) -> None:
    bad(validate.importance, value, field="importance")


def test_importance_accepts_ints_and_floats_in_range() -> None:
    assert (
        validate.importance(0) == 0.0 and validate.importance(1) == 1.0 and validate.importance(0.25) == 0.25
    )


def test_flag_is_a_real_bool() -> None:
    assert validate.flag(True, "pinned") is True
    for v in ("yes", 1, 0, None):
        bad(validate.flag, v, "pinned", field="pinned")


def test_naive_datetimes_are_utc_and_other_types_are_errors() -> None:
    naive = datetime(2026, 1, 1, 12)
    assert validate.when(naive, "since") == naive.replace(tzinfo=timezone.utc)
    other = datetime(2026, 1, 1, 12, tzinfo=timezone(timedelta(hours=2)))
    assert validate.when(other, "since") == other
    for v in ("2026-01-01", date(2026, 1, 1), 1767225600, None):
        bad(validate.when, v, "since", field="since")
    assert validate.window(None, None) == (None, None)
    bad(validate.window, datetime(2026, 1, 2), datetime(2026, 1, 1), field="until")


@pytest.mark.parametrize(
    ("meta", "field"),
    [
        ({"s": float("nan")}, "metadata['s']"),
        ({"s": float("inf")}, "metadata['s']"),
        ({"s": -float("inf")}, "metadata['s']"),
        ({"d": {"x": 1}}, "metadata['d']"),
        ({"l": [1]}, "metadata['l']"),
        ({"n": None}, "metadata['n']"),
        ({"b": b"x"}, "metadata['b']"),
        ({"i": 2**63}, "metadata['i']"),
        ({"v": "a\x00b"}, "metadata['v']"),
        ({"": 1}, "metadata key"),
        ({1: 1}, "metadata key"),
        ({f"k{i}": i for i in range(33)}, "metadata"),
        ("k=v", "metadata"),
    ],
)
def test_metadata_is_flat_finite_and_named(meta: Any, field: str) -> None:
    bad(validate.metadata, meta, LIMITS, field=field)


def test_metadata_keeps_good_values_exactly() -> None:
    good = {"s": "", "i": -(2**63), "f": 5e-324, "b": False, "$ne": "x", "u": "\u2028"}
    assert validate.metadata(good, LIMITS) == good
    assert validate.metadata(None, LIMITS) == {}
    assert validate.metadata_filter(None, LIMITS) is None
    bad(validate.metadata_filter, {}, LIMITS, field="metadata")
    assert all(not isinstance(v, float) or math.isfinite(v) for v in validate.metadata(good, LIMITS).values())


def test_ids_none_is_an_error_and_duplicates_collapse() -> None:
    bad(validate.ids, None, "record_ids", field="record_ids")
    bad(validate.record_ids, [None], field="record_ids[0]")
    bad(validate.record_ids, 5, field="record_ids")
    bad(validate.record_ids, b"id", field="record_ids")
    assert validate.record_ids("a") == ["a"]
    assert validate.record_ids(["a", "*", "a"]) == ["a", "*"]
    assert validate.record_ids([]) == []


def test_scope_errors_name_the_field() -> None:
    for value in (
        None,
        "alice",
        {"tenant": "t"},
        {"user": {"$ne": ""}},
        {"user": "u", "$where": 1},
        {1: "u"},
    ):
        with pytest.raises(ScopeError) as info:
            validate.scope(value)
        assert info.value.field == "scope"
    assert validate.scope({"tenant": "t", "user": "*"}) == Scope(tenant="t", user="*")


def test_text_limits_and_messages_limit() -> None:
    bad(validate.text, "x" * (LIMITS.max_text_chars + 1), LIMITS, field="text")
    bad(validate.text, "\ud800", LIMITS, field="text")
    bad(validate.text, b"x", LIMITS, field="text")
    long = "y" * (LIMITS.max_text_chars + 1)
    assert validate.turns([{"role": "user", "content": long}], LIMITS)[0].content == long
    bad(validate.turns, [{"role": "user", "content": "z" * (LIMITS.max_message_chars + 1)}], LIMITS,
        field="messages[0].content")  # fmt: skip


def test_turn_errors_name_the_message() -> None:
    bad(validate.turns, [{"role": "user", "content": "ok"}, {"role": "robot", "content": "x"}], LIMITS,
        field="messages[1]")  # fmt: skip
    bad(validate.turns, [{"role": "user", "content": "x", 1: 2}], LIMITS, field="messages[0]")
    bad(validate.turns, "hello", LIMITS, field="messages")
    bad(validate.texts, "hello", LIMITS, field="texts")
    bad(validate.texts, ["a", ""], LIMITS, field="texts[1]")
