"""`memo worker`: run extraction for the processes that share a Chroma server.

Those processes open the server with `extraction.external_worker=true` (their turns are acknowledged
and searchable at once; extraction jobs wait in the store's queue); any number of `memo worker`
processes, on any machine that reaches the server, take the jobs. SIGTERM or Ctrl-C stops after the
batch in hand (an interrupted batch is taken again after its lease).
"""

from __future__ import annotations

import argparse
import signal
import threading
from typing import Any

from ..config import ExtractionConfig, MemoConfig
from ..errors import InvalidInput
from . import common


def cmd_worker(ns: argparse.Namespace) -> int:
    from ..engine.external import ExternalWorker
    from ..memory import Memory

    if not ns.host:
        raise InvalidInput("memo worker serves a Chroma server: pass --host (and --port)")
    config = MemoConfig(collection_prefix=ns.prefix, extraction=ExtractionConfig(external_worker=True))
    mem = Memory.connect(ns.host, ns.port, config=config)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        worker = ExternalWorker(mem.engine, batch=ns.batch, timeout=ns.timeout, lease=ns.lease)
        print(f"memo worker {worker.owner}: serving {ns.host}:{ns.port}", flush=True)
        if ns.once:
            done = worker.run_once()
        else:
            done = worker.run(stop, poll=ns.poll, until_empty=ns.until_empty)
        print(
            f"memo worker {worker.owner}: {done} jobs, {int(worker.stats['memories'])} memories, "
            f"{int(worker.stats['jobs_failed'])} given up"
            + (f" (last error: {worker.last_error})" if worker.last_error else ""),
            flush=True,
        )
    finally:
        mem.close()
    return common.EXIT_OK


def register(sub: Any) -> None:
    s = sub.add_parser("worker", help="extraction for the processes sharing a Chroma server (--host)")
    s.add_argument(
        "--prefix", default="memo", help="the memory's collection prefix on the server (default memo)"
    )
    s.add_argument("--batch", type=int, default=32, help="jobs of one scope per extractor call (default 32)")
    s.add_argument("--timeout", type=float, default=60.0, help="seconds one batch may take (default 60)")
    s.add_argument(
        "--lease", type=float, default=None, help="seconds a claim holds (default 2 x timeout + 30)"
    )
    s.add_argument("--poll", type=float, default=1.0, help="seconds between looks at an empty queue")
    g = s.add_mutually_exclusive_group()
    g.add_argument("--once", action="store_true", help="run one batch and stop")
    g.add_argument("--until-empty", action="store_true", help="stop when no job is waiting")
    s.set_defaults(func=cmd_worker)
