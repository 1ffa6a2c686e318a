"""The hostile-input corpus (#18), run on every path: the `Memory` API, `AsyncMemory`, the LangChain
and LlamaIndex adapters' public classes, and the `memo` CLI in a real subprocess.

Each case either round-trips faithfully (read back equal, or redacted as the policy says) or raises
a named `MemoError` subclass, and a rejected call writes nothing (the scope is counted before and
after). Stored text is data on every output: the context block, retrievers, legacy string memory
and the CLI never let it start a line, forge a role label or reach the terminal as a control.

A case that fails because of code guard does not own is marked `xfail(strict=True)` with the owner
and what is missing (`KNOWN`, below): the lead sees exactly what remains, and the mark fails the
run as soon as the owner's fix lands, so it cannot go stale.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hostile_corpus import CASES, METADATA, PARAMS, SCOPES, TEXTS

from shared_core import AsyncMemory, Memory, MemoryRecord, Scope, Status, errors
from shared_core.embed import HashingEmbedder
from shared_core.errors import InvalidInput, MemoError, ScopeError
from shared_core.governance import pii
from shared_core.render import CLOSE, OPEN, as_data

# ------------------------------------------------------------------------------ helpers

LINE_BREAKS = re.compile("[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")
ROLE_LINE = re.compile(r"^\W{0,8}(system|assistant|user|human|ai|tool|developer)\s*:", re.IGNORECASE)
# a line of the context block: a numbered memory, a year or a day header
BLOCK_LINE = re.compile(r"\d+\. .*|\d{4}:|\d{1,2} [A-Z][a-z]+:")
ALL_STATUSES = list(Status)
ENV = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "ORT_DISABLE_TELEMETRY": "1", "HF_HUB_OFFLINE": "1"}
MEMO = str(Path(sys.executable).parent / "memo")


def _breaks_lines(text: str) -> bool:
    return bool(LINE_BREAKS.search(text)) or bool(ROLE_LINE.match(text))


def _unsafe(text: str) -> bool:
    return bool(UNSAFE.search(text)) or _breaks_lines(text)


def redacted(text: str, mem: Memory) -> str:
    return pii.apply(text, mem.config.policy).text


def redacted_meta(meta: dict[str, Any] | None, mem: Memory) -> dict[str, Any]:
    return {k: redacted(v, mem) if isinstance(v, str) and v else v for k, v in (meta or {}).items()}


def run(result: Any) -> Any:
    """A sync result as is; an `AsyncMemory` coroutine run to completion."""
    return asyncio.run(result) if inspect.isawaitable(result) else result


def count(mem: Memory, scope: Scope) -> int:
    return len(mem.records(scope, statuses=ALL_STATUSES))


def scope_for(path: str, case: str) -> Scope:
    return Scope(tenant="hostile", user=f"{path}-{case}")


def raises_named(fn: Callable[[], Any], expected: str) -> MemoError:
    """`fn()` raises the named `MemoError` subclass (never a foreign exception)."""
    cls = getattr(errors, expected)
    with pytest.raises(MemoError) as info:
        run(fn())
    assert isinstance(info.value, cls), f"{type(info.value).__name__} is not {expected}: {info.value}"
    return info.value


# Failures in code guard does not own: (path, case id) -> "owner: <helper> — <what>".
_RAW_OUT = [
    "lf_system",
    "lf_assistant",
    "crlf_user",
    "cr_system",
    "u2028_system",
    "u2029_assistant",
    "vt_system",
    "ff_system",
    "nel_system",
    "fs_gs_rs",
    "close_block",
    "ansi_color",
    "ansi_osc_title",
    "ansi_clear",
    "c1_csi",
    "bell",
    "backspace",
    "del_char",
    "bidi_rlo",
    "bidi_isolates",
    "bom",
    "markdown_fence",
    "many_lines",
]
_LEADING_LABEL = [
    "leading_system",
    "leading_ai",
    "leading_human",
    "leading_assistant_spaced",
    "hash_system",
    "chatml",
]
KNOWN: dict[tuple[str, str], str] = {}


def known(path: str, case: str) -> list[Any]:
    reason = KNOWN.get((path, case))
    return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []


def params(
    path: str, rows: list[dict[str, Any]], keep: Callable[[dict[str, Any]], bool] = lambda r: True
) -> Any:
    return [pytest.param(r, id=r["id"], marks=known(path, r["id"])) for r in rows if keep(r)]


def str_text(r: dict[str, Any]) -> bool:
    return isinstance(r["text"], str)


def ok_str_text(r: dict[str, Any]) -> bool:
    return isinstance(r["text"], str) and r["expect"] == "ok"


def message_expect(r: dict[str, Any]) -> str:
    return str(r.get("expect_message", r["expect"]))


# A message with no text is refused by the API, but LangChain and LlamaIndex accept one (an empty
# AIMessage carrying tool calls, an empty assistant answer), so their adapters store it and give it
# back unchanged (a deliberate difference, docs/adapters.md).
BLANK_MESSAGES = frozenset({"empty", "whitespace", "only_separators"})


def adapter_message_expect(r: dict[str, Any]) -> str:
    return "ok" if r["id"] in BLANK_MESSAGES else message_expect(r)


@pytest.fixture(scope="module")
def mem(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Memory]:
    m = Memory.open(tmp_path_factory.mktemp("hostile") / "store", embedder=HashingEmbedder())
    yield m
    m.close()


@pytest.fixture(scope="module")
def fast() -> Iterator[Memory]:
    """The same engine over MeMo's in-memory store: the paths above the facade (async, adapters,
    rendering) run here; persistence through Chroma is what the `api_*` and CLI paths prove."""
    m = Memory.in_memory(embedder=HashingEmbedder())
    yield m
    m.close()


@pytest.fixture(scope="module")
def amem(fast: Memory) -> AsyncMemory:
    return AsyncMemory(fast)


def test_the_corpus_is_big_enough() -> None:
    assert CASES >= 150, CASES
    for rows in (TEXTS, METADATA, SCOPES, PARAMS):
        ids = [r["id"] for r in rows]
        assert len(ids) == len(set(ids))


# ------------------------------------------------------------------------- text: facades


def _text_roundtrip_remember(facade: Any, mem: Memory, r: dict[str, Any], path: str) -> None:
    sc = scope_for(path, r["id"])
    before = count(mem, sc)
    if r["expect"] == "ok":
        rec = run(facade.remember(r["text"], sc))
        assert run(facade.get(rec.id, sc)).text == redacted(r["text"], mem)
    else:
        raises_named(lambda: facade.remember(r["text"], sc), r["expect"])
        assert count(mem, sc) == before


def _text_roundtrip_message(facade: Any, mem: Memory, r: dict[str, Any], path: str) -> None:
    sc = scope_for(path, r["id"])
    before = count(mem, sc)
    messages = [{"role": "user", "content": r["text"]}]
    if message_expect(r) == "ok":
        run(facade.add_messages(messages, sc, session_id="s"))
        turns = run(facade.recent_turns(sc, "s"))
        assert [t.text for t in turns] == [redacted(r["text"], mem)]
    else:
        raises_named(lambda: facade.add_messages(messages, sc, session_id="s"), message_expect(r))
        assert count(mem, sc) == before


@pytest.mark.parametrize("r", params("api_remember", TEXTS))
def test_api_remember_text(mem: Memory, r: dict[str, Any]) -> None:
    _text_roundtrip_remember(mem, mem, r, "api_remember")


@pytest.mark.parametrize("r", params("api_message", TEXTS))
def test_api_message_text(mem: Memory, r: dict[str, Any]) -> None:
    _text_roundtrip_message(mem, mem, r, "api_message")


@pytest.mark.parametrize("r", params("async_remember", TEXTS))
def test_async_remember_text(fast: Memory, amem: AsyncMemory, r: dict[str, Any]) -> None:
    _text_roundtrip_remember(amem, fast, r, "async_remember")


@pytest.mark.parametrize("r", params("async_message", TEXTS))
def test_async_message_text(fast: Memory, amem: AsyncMemory, r: dict[str, Any]) -> None:
    _text_roundtrip_message(amem, fast, r, "async_message")


# ------------------------------------------------------------------------ text: adapters
# A LangChain / LlamaIndex message holds text only: the non-str cases cannot be expressed there.


@pytest.mark.parametrize("r", params("langchain_history", TEXTS, str_text))
def test_langchain_history_text(fast: Memory, r: dict[str, Any]) -> None:
    mem = fast
    from langchain_core.messages import HumanMessage

    from langchain_memo import MemoChatMessageHistory

    sc = scope_for("langchain_history", r["id"])
    history = MemoChatMessageHistory(mem, sc, "s")
    if adapter_message_expect(r) == "ok":
        history.add_messages([HumanMessage(content=r["text"])])
        assert [m.content for m in history.messages] == [redacted(r["text"], mem)]
    else:
        raises_named(
            lambda: history.add_messages([HumanMessage(content=r["text"])]), adapter_message_expect(r)
        )
        assert count(mem, sc) == 0


@pytest.mark.parametrize("r", params("llamaindex_memory", TEXTS, str_text))
def test_llamaindex_memory_text(fast: Memory, r: dict[str, Any]) -> None:
    mem = fast
    from llama_index.core.base.llms.types import ChatMessage

    from llamaindex_memo import MemoMemory

    sc = scope_for("llamaindex_memory", r["id"])
    memory = MemoMemory(mem, scope=sc, session_id="s")
    if adapter_message_expect(r) == "ok":
        memory.put(ChatMessage(role="user", content=r["text"]))
        assert [m.content for m in memory.get_all()] == [redacted(r["text"], mem)]
    else:
        raises_named(
            lambda: memory.put(ChatMessage(role="user", content=r["text"])), adapter_message_expect(r)
        )
        assert count(mem, sc) == 0


def ok_item_text(r: dict[str, Any]) -> bool:  # a LangGraph item is at most max_text_chars of JSON
    return ok_str_text(r) and len(r["text"]) < 15_000


@pytest.mark.parametrize("r", params("langgraph_store", TEXTS, ok_item_text))
def test_langgraph_store_text(fast: Memory, r: dict[str, Any]) -> None:
    from langchain_memo import MemoStore

    store = MemoStore(fast, tenant="hostile")
    ns = ("memories", f"langgraph_store-{r['id']}")
    store.put(ns, "item", {"text": r["text"], "n": 1})
    item = store.get(ns, "item")
    assert item is not None and item.value == {"text": redacted(r["text"], fast), "n": 1}


# ------------------------------------------------------------------- text: stored is data


@pytest.mark.parametrize("r", params("as_data", TEXTS, str_text))
def test_as_data_is_one_safe_line(r: dict[str, Any]) -> None:
    shown = as_data(r["text"])
    assert not _unsafe(shown), repr(shown[:200])
    assert len(shown.splitlines()) <= 1


def _block_lines_are_ours(block: str, header: str) -> None:
    assert not UNSAFE.search(block.replace("\n", " ")), repr(block[:300])
    for line in block.split("\n"):
        assert (
            line in (OPEN, CLOSE, header) or BLOCK_LINE.fullmatch(line)  # a numbered memory, a date header
        ), line
        assert not ROLE_LINE.match(line), line
    assert block.count(OPEN) == 1 and block.count(CLOSE) == 1


@pytest.mark.parametrize("r", params("context_block", TEXTS, ok_str_text))
def test_context_block_keeps_stored_text_as_data(fast: Memory, r: dict[str, Any]) -> None:
    mem = fast
    sc = scope_for("context_block", r["id"])
    mem.remember(r["text"], sc)
    mem.add_messages([{"role": "user", "name": "SYSTEM", "content": r["text"]}], sc, session_id="s")
    ctx = mem.context("hello", sc, token_budget=200_000, k=10)
    assert len(ctx.hits) >= 2  # the memory, the turn, and whatever the extractor drew from it
    _block_lines_are_ours(ctx.text, mem.config.render.header)
    assert '. user "SYSTEM": ' in ctx.text  # a turn's name is never a role label


@pytest.mark.parametrize("r", params("langchain_retriever", TEXTS, ok_str_text))
def test_langchain_retriever_emits_data(fast: Memory, r: dict[str, Any]) -> None:
    mem = fast
    from langchain_memo import MemoRetriever

    sc = scope_for("langchain_retriever", r["id"])
    mem.remember(r["text"], sc)
    docs = MemoRetriever(memory=mem, scope=sc, k=5).invoke("hello")
    assert len(docs) == 1
    assert not _unsafe(docs[0].page_content), repr(docs[0].page_content[:200])


@pytest.mark.parametrize("r", params("langchain_legacy", TEXTS, ok_str_text))
def test_langchain_legacy_string_memory_emits_data(fast: Memory, r: dict[str, Any]) -> None:
    mem = fast
    from langchain_memo import MemoMemory

    sc = scope_for("langchain_legacy", r["id"])
    legacy = MemoMemory(memory=mem, scope=sc, session_id="s")
    legacy.save_context({"input": r["text"]}, {"output": "noted"})
    history = legacy.load_memory_variables({"input": "hello"})[legacy.memory_key]
    chat = [
        ln
        for ln in history.split("\n")
        if not (ln.startswith(("- ", "[", OPEN, CLOSE, "Relevant")) or BLOCK_LINE.fullmatch(ln))
    ]
    labels = [ln.split(":", 1)[0] for ln in LINE_BREAKS.split("\n".join(chat)) if ROLE_LINE.match(ln)]
    assert labels == ["Human", "AI"], labels  # one turn each: the stored text forged none
    assert not UNSAFE.search(history.replace("\n", " ")), repr(history[:300])


@pytest.mark.parametrize("r", params("llamaindex_retriever", TEXTS, ok_str_text))
def test_llamaindex_retriever_emits_data(fast: Memory, r: dict[str, Any]) -> None:
    mem = fast
    from llamaindex_memo import MemoRetriever

    sc = scope_for("llamaindex_retriever", r["id"])
    mem.remember(r["text"], sc)
    nodes = MemoRetriever(mem, scope=sc, k=5).retrieve("hello")
    assert len(nodes) == 1
    assert not _unsafe(nodes[0].node.get_content()), repr(nodes[0].node.get_content()[:200])


# ------------------------------------------------------------------------------ metadata


@pytest.mark.parametrize("r", params("api_metadata", METADATA))
def test_api_remember_metadata(mem: Memory, r: dict[str, Any]) -> None:
    sc = scope_for("api_metadata", r["id"])
    if r["expect"] == "ok":
        rec = mem.remember("metadata carrier", sc, metadata=r["metadata"])
        assert mem.get(rec.id, sc).metadata == redacted_meta(r["metadata"], mem)
    else:
        raises_named(lambda: mem.remember("metadata carrier", sc, metadata=r["metadata"]), r["expect"])
        assert count(mem, sc) == 0


@pytest.mark.parametrize("r", params("api_update_metadata", METADATA))
def test_api_update_metadata(mem: Memory, r: dict[str, Any]) -> None:
    sc = scope_for("api_update_metadata", r["id"])
    rec = mem.remember("metadata carrier", sc, metadata={"keep": "me"})
    if r["expect"] == "ok":
        mem.update(rec.id, sc, metadata=r["metadata"])
        assert mem.get(rec.id, sc).metadata == {"keep": "me", **redacted_meta(r["metadata"], mem)}
    else:
        raises_named(lambda: mem.update(rec.id, sc, metadata=r["metadata"]), r["expect"])
        assert mem.get(rec.id, sc) == rec  # unchanged


@pytest.mark.parametrize("r", params("async_metadata", METADATA))
def test_async_remember_metadata(fast: Memory, amem: AsyncMemory, r: dict[str, Any]) -> None:
    mem = fast
    sc = scope_for("async_metadata", r["id"])
    if r["expect"] == "ok":
        rec = run(amem.remember("metadata carrier", sc, metadata=r["metadata"]))
        assert run(amem.get(rec.id, sc)).metadata == redacted_meta(r["metadata"], mem)
    else:
        raises_named(lambda: amem.remember("metadata carrier", sc, metadata=r["metadata"]), r["expect"])
        assert count(mem, sc) == 0


@pytest.mark.parametrize("r", params("api_turn_metadata", METADATA))
def test_api_turn_metadata(mem: Memory, r: dict[str, Any]) -> None:
    """core's spec: `Turn.metadata` is stored on the raw turn next to `role`, redacted like metadata."""
    sc = scope_for("api_turn_metadata", r["id"])
    turn = {"role": "user", "content": "metadata carrier", "metadata": r["metadata"]}
    # a turn's metadata strings may be as long as a message (adapters keep the serialized message there)
    expect = "ok" if r["id"] == "long_value" else r["expect"]
    if expect == "ok":
        mem.add_messages([turn], sc, session_id="s")
        (got,) = mem.recent_turns(sc, "s")
        assert got.metadata == {"role": "user", **redacted_meta(r["metadata"], mem)}
    else:
        raises_named(lambda: mem.add_messages([turn], sc, session_id="s"), expect)
        assert count(mem, sc) == 0


# -------------------------------------------------------------------------------- scopes


ALICE = Scope(tenant="hostile", user="alice-isolation")


@pytest.fixture(scope="module")
def alice_record(mem: Memory) -> MemoryRecord:
    return mem.remember("alice's own isolated secret", ALICE)


@pytest.mark.parametrize("r", params("api_scope", SCOPES))
def test_api_scope(mem: Memory, alice_record: MemoryRecord, r: dict[str, Any]) -> None:
    if r["expect"] != "ok":
        raises_named(lambda: mem.remember("scoped", r["scope"]), r["expect"])
        raises_named(lambda: mem.search("scoped", r["scope"]), r["expect"])
        raises_named(lambda: mem.records(r["scope"]), r["expect"])
        return
    sc = Scope(**r["scope"])
    before = {x.id for x in mem.records(sc, statuses=ALL_STATUSES)}
    rec = mem.remember(f"hostile scope {r['id']}", r["scope"])
    assert rec.scope == sc and mem.get(rec.id, sc).scope == sc
    assert {x.id for x in mem.records(sc, statuses=ALL_STATUSES)} == before | {rec.id}
    # ids are data: neither side sees the other
    assert alice_record.id not in {x.id for x in mem.records(sc, statuses=ALL_STATUSES)}
    assert alice_record.id not in {h.id for h in mem.search("alice's own isolated secret", sc, k=50)}
    assert rec.id not in {x.id for x in mem.records(ALICE, statuses=ALL_STATUSES)}


@pytest.mark.parametrize("r", params("async_scope", SCOPES))
def test_async_scope(amem: AsyncMemory, r: dict[str, Any]) -> None:
    if r["expect"] != "ok":
        raises_named(lambda: amem.remember("scoped", r["scope"]), r["expect"])
        raises_named(lambda: amem.records(r["scope"]), r["expect"])
        return
    rec = run(amem.remember(f"async hostile scope {r['id']}", r["scope"]))
    assert run(amem.get(rec.id, r["scope"])).id == rec.id


@pytest.mark.parametrize("r", params("langchain_scope", SCOPES))
def test_langchain_scope(fast: Memory, r: dict[str, Any]) -> None:
    mem = fast
    from langchain_core.messages import HumanMessage

    from langchain_memo import MemoChatMessageHistory, MemoRetriever

    if r["expect"] != "ok":
        raises_named(lambda: MemoChatMessageHistory(mem, r["scope"], "s"), r["expect"])
        raises_named(lambda: MemoRetriever(memory=mem, scope=r["scope"]), r["expect"])
        return
    history = MemoChatMessageHistory(mem, Scope(**r["scope"]), "lc")
    history.add_messages([HumanMessage(content=f"langchain scope {r['id']}")])
    assert [m.content for m in history.messages] == [f"langchain scope {r['id']}"]


def _langgraph_namespace(r: dict[str, Any]) -> bool:  # LangGraph itself refuses labels with a period
    return r["expect"] == "ok" and "user" in r["scope"] and "." not in r["scope"]["user"]


@pytest.mark.parametrize("r", params("langgraph_store_scope", SCOPES, _langgraph_namespace))
def test_langgraph_store_scope(fast: Memory, r: dict[str, Any]) -> None:
    from langchain_memo import MemoStore

    # the tenant is given at construction, the user comes from LangMem's ("memories", user_id)
    store = MemoStore(fast, tenant=r["scope"]["tenant"])
    ns = ("memories", r["scope"]["user"])
    store.put(ns, "item", {"text": f"langgraph scope {r['id']}"})
    item = store.get(ns, "item")
    assert item is not None and item.value == {"text": f"langgraph scope {r['id']}"}
    assert store.get(("memories", "alice-isolation"), "item") is None
    assert MemoStore(fast, tenant="hostile-other").get(ns, "item") is None


@pytest.mark.parametrize("r", params("llamaindex_scope", SCOPES))
def test_llamaindex_scope(fast: Memory, r: dict[str, Any]) -> None:
    mem = fast
    from llama_index.core.base.llms.types import ChatMessage

    from llamaindex_memo import MemoMemory

    if r["expect"] != "ok":
        raises_named(lambda: MemoMemory(mem, scope=r["scope"], session_id="s"), r["expect"])
        return
    memory = MemoMemory(mem, scope=r["scope"], session_id="li")
    memory.put(ChatMessage(role="user", content=f"llamaindex scope {r['id']}"))
    assert [m.content for m in memory.get_all()] == [f"llamaindex scope {r['id']}"]


# ------------------------------------------------------------------------ call parameters


def call(facade: Any, op: str, sc: Scope, kwargs: dict[str, Any], record_id: str) -> Any:
    kw = dict(kwargs)
    if op == "list":
        return facade.records(sc, **kw)
    if op in ("search", "context"):
        return getattr(facade, op)(kw.pop("query", "hello"), sc, **kw)
    if op == "update":
        return facade.update(kw.pop("record_id", record_id), sc, **kw)
    if op == "delete":
        return facade.delete(kw.pop("record_ids"), sc, **kw)
    if op == "remember":
        return facade.remember("a memory with hostile parameters", sc, **kw)
    if op == "remember_many":
        return facade.remember_many(kw.pop("texts"), sc, **kw)
    if op == "recent_turns":
        return facade.recent_turns(sc, **kw)
    if op == "get":
        return facade.get(kw.pop("record_id"), sc)
    if op == "add_messages":
        return facade.add_messages(kw.pop("messages"), sc, **kw)
    raise AssertionError(op)


def _field_named(exc: MemoError, kwargs: dict[str, Any]) -> bool:
    msg = str(exc).lower()
    names = [k for k in kwargs if k not in ("query",)] or list(kwargs)
    aliases = {a for n in names for a in (n, n.rstrip("s"))}
    return any(a in msg or a.replace("_", " ") in msg for a in aliases)


def _params_case(facade: Any, mem: Memory, r: dict[str, Any], path: str) -> None:
    sc = scope_for(path, r["id"])
    base = mem.remember("hello base memory", sc)
    if r["op"] == "recent_turns":
        mem.add_messages([{"role": "user", "content": "hello base turn"}], sc, session_id="s")
    before = sorted((x.id, x.version) for x in mem.records(sc, statuses=ALL_STATUSES))
    if r["expect"] == "ok":
        out = run(call(facade, r["op"], sc, r["kwargs"], base.id))
        if r["id"] == "remember_valid_from_naive_ok":
            assert out.valid_from == datetime(2026, 1, 1, 12, tzinfo=timezone.utc)  # naive is UTC
        return
    exc = raises_named(lambda: call(facade, r["op"], sc, r["kwargs"], base.id), r["expect"])
    # nothing written
    assert sorted((x.id, x.version) for x in mem.records(sc, statuses=ALL_STATUSES)) == before
    if isinstance(exc, InvalidInput) and not isinstance(exc, ScopeError):
        assert _field_named(exc, r["kwargs"]), f"{exc} does not name {sorted(r['kwargs'])}"


@pytest.mark.parametrize("r", params("api_params", PARAMS))
def test_api_params(mem: Memory, r: dict[str, Any]) -> None:
    _params_case(mem, mem, r, "api_params")


@pytest.mark.parametrize("r", params("async_params", PARAMS))
def test_async_params(fast: Memory, amem: AsyncMemory, r: dict[str, Any]) -> None:
    _params_case(amem, fast, r, "async_params")


# ------------------------------------------------------------------------------------ CLI


def memo(store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MEMO, "--path", str(store), *args, "--as", "admin:hostile"], env=ENV, capture_output=True, text=True, timeout=300,
        encoding="utf-8", errors="surrogateescape",
    )  # fmt: skip


def _record(rid: str, text: str, user: str, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    now = "2026-01-01T00:00:00+00:00"
    return {
        "id": rid, "scope": {"tenant": "hostile", "user": user}, "kind": "fact", "text": text,
        "created_at": now, "updated_at": now, "metadata": metadata or {},
    }  # fmt: skip


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=True) + "\n" for r in rows), encoding="utf-8")
    return path


CLI_TEXTS = [r for r in TEXTS if ok_str_text(r)]
CLI_META = [r for r in METADATA if r["expect"] == "ok" and r["metadata"]]


@pytest.fixture(scope="module")
def cli_store(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One `memo import` of every valid text and metadata case, then `memo --json list` of each scope."""
    root = tmp_path_factory.mktemp("cli")
    store = root / "store"
    Memory.open(store, embedder=HashingEmbedder()).close()  # the CLI reopens it with this embedder
    rows = [_record(f"t-{r['id']}", r["text"], "cli-texts") for r in CLI_TEXTS]
    rows += [_record(f"m-{r['id']}", "metadata carrier", "cli-meta", r["metadata"]) for r in CLI_META]
    done = memo(store, "--json", "import", str(_write_jsonl(root / "good.jsonl", rows)))
    listed: dict[str, Any] = {}
    for user in ("cli-texts", "cli-meta"):
        got = memo(store, "--json", "list", "--tenant", "hostile", "--user", user, "--limit", "1000")
        listed[user] = got
    table = memo(store, "list", "--tenant", "hostile", "--user", "cli-texts", "--limit", "1000")
    return {"store": store, "import": done, "listed": listed, "table": table}


def _cli_rows(cli_store: dict[str, Any], user: str) -> dict[str, Any]:
    done = cli_store["listed"][user]
    assert cli_store["import"].returncode == 0, cli_store["import"].stderr[-2000:]
    assert done.returncode == 0, done.stderr[-2000:]
    data = json.loads(done.stdout)
    rows = data if isinstance(data, list) else data.get("records", data)
    return {r["id"]: r for r in rows}


@pytest.mark.parametrize("r", params("cli_import", CLI_TEXTS))
def test_cli_import_text(cli_store: dict[str, Any], mem: Memory, r: dict[str, Any]) -> None:
    rows = _cli_rows(cli_store, "cli-texts")
    assert rows[f"t-{r['id']}"]["text"] == redacted(r["text"], mem)


@pytest.mark.parametrize("r", params("cli_import_metadata", CLI_META))
def test_cli_import_metadata(cli_store: dict[str, Any], mem: Memory, r: dict[str, Any]) -> None:
    rows = _cli_rows(cli_store, "cli-meta")
    assert rows[f"m-{r['id']}"]["metadata"] == redacted_meta(r["metadata"], mem)


def test_cli_table_shows_stored_text_as_data(cli_store: dict[str, Any]) -> None:
    table = cli_store["table"]
    assert table.returncode == 0, table.stderr[-2000:]
    assert "Traceback" not in table.stderr
    assert not UNSAFE.search(table.stdout.replace("\n", " ")), "a control character reached the terminal"
    assert "\u2028" not in table.stdout and "\x1b" not in table.stdout


BAD_ROWS = {
    "nan_metadata": {"metadata": {"s": float("nan")}},
    "bogus_kind": {"kind": "bogus"},
    "nul_text": {"text": "a\x00b"},
    "operator_scope": {"scope": {"tenant": "hostile", "user": {"$ne": ""}}},
}


@pytest.mark.parametrize("bad", list(BAD_ROWS))
def test_cli_import_is_all_or_nothing(tmp_path: Path, bad: str) -> None:
    store = tmp_path / "store"
    Memory.open(store, embedder=HashingEmbedder()).close()
    rows = [_record(f"ok-{i}", f"imported memory number {i}", "cli-batch") for i in range(300)]
    rows.append({**_record("bad", "the bad row", "cli-batch"), **BAD_ROWS[bad]})
    path = tmp_path / "bad.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")  # NaN as JSON allows
    done = memo(store, "import", str(path))
    assert done.returncode != 0 and "Traceback" not in done.stderr, done.stderr[-1500:]
    assert "301" in done.stderr  # the line is named
    with Memory.open(store, embedder=HashingEmbedder()) as after:
        assert after.records(Scope(tenant="hostile", user="cli-batch"), statuses=ALL_STATUSES) == []


CLI_BAD_ARGS = {
    "list_limit_negative": ["list", "--user", "u", "--limit", "-1"],
    "list_kind_bogus": ["list", "--user", "u", "--kind", "bogus"],
    "list_status_bogus": ["list", "--user", "u", "--status", "bogus"],
    "search_k_zero": ["search", "hello", "--user", "u", "-k", "0"],
    "search_budget_zero": ["search", "hello", "--user", "u", "--budget", "0"],
    "search_operator_user": ["search", "hello", "--user", "a\nb"],
    "search_nul_query": ["search", "a\x01\x1b[2J", "--user", ""],
}
CLI_KNOWN: dict[str, str] = {}


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            k, id=k, marks=[pytest.mark.xfail(strict=True, reason=CLI_KNOWN[k])] if k in CLI_KNOWN else []
        )
        for k in CLI_BAD_ARGS
    ],
)
def test_cli_rejects_bad_arguments_with_a_named_error(tmp_path: Path, case: str) -> None:
    store = tmp_path / "store"
    Memory.open(store, embedder=HashingEmbedder()).close()
    done = memo(store, *CLI_BAD_ARGS[case])
    assert done.returncode != 0, done.stdout[-500:]
    assert "Traceback" not in done.stderr, done.stderr[-1500:]
    assert done.stderr.strip(), "the error is said"
