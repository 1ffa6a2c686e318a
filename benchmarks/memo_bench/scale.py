"""The cost curve: ingest rate, search latency, peak RSS and bytes on disk against N memories.

Synthetic but realistic memories for many users (facts, preferences, events, commitments about
each user and the people around them, from templates with a seeded RNG; about 50 per user). Each
size runs in a fresh subprocess (`scale-worker`), so peak RSS (`ru_maxrss`) is per size. Searches
are scoped to one user, ask a paraphrased question about one of that user's memories, and also
record whether that memory came back in the top 10 (a sanity check, not a quality benchmark).
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .locomo import percentile

MEMORIES_PER_USER = 50
SEARCH_K = 10

# --------------------------------------------------------------------------- synthetic data

FIRST = [
    "Alice",
    "Bruno",
    "Chen",
    "Dana",
    "Emeka",
    "Farah",
    "Gustav",
    "Hana",
    "Ibrahim",
    "Jonas",
    "Keiko",
    "Liam",
    "Maya",
    "Nikolai",
    "Olga",
    "Priya",
    "Quentin",
    "Rosa",
    "Samir",
    "Tara",
    "Umar",
    "Vera",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Aaron",
    "Bianca",
    "Carlos",
    "Dmitri",
    "Elena",
    "Felix",
    "Greta",
    "Hugo",
    "Ines",
    "Jamal",
    "Kofi",
    "Lena",
    "Mateo",
    "Nadia",
    "Oscar",
    "Paula",
    "Rafael",
    "Sofia",
    "Tomas",
    "Ursula",
    "Victor",
    "Wanda",
    "Yara",
    "Zane",
]
CITIES = [
    "Berlin",
    "Lisbon",
    "Toronto",
    "Nairobi",
    "Osaka",
    "Austin",
    "Lyon",
    "Krakow",
    "Melbourne",
    "Seattle",
    "Porto",
    "Dublin",
    "Oslo",
    "Bogota",
    "Hanoi",
    "Denver",
    "Glasgow",
    "Seville",
    "Utrecht",
    "Montreal",
    "Auckland",
    "Valencia",
    "Tallinn",
    "Boston",
    "Kyoto",
    "Cape Town",
    "Vienna",
    "Prague",
]
JOBS = [
    "nurse",
    "software engineer",
    "teacher",
    "architect",
    "pharmacist",
    "chef",
    "accountant",
    "paramedic",
    "data analyst",
    "carpenter",
    "journalist",
    "graphic designer",
    "electrician",
    "lawyer",
    "veterinarian",
    "librarian",
    "pilot",
    "physiotherapist",
    "product manager",
    "translator",
]
COMPANIES = [
    "a small bakery",
    "the city hospital",
    "a logistics startup",
    "the public library",
    "a solar company",
    "a law firm",
    "the local school",
    "an airline",
    "a game studio",
    "a bike shop",
    "a museum",
    "a bank",
]
FOODS = [
    "peanuts",
    "shellfish",
    "gluten",
    "lactose",
    "eggs",
    "soy",
    "sesame",
    "strawberries",
    "kiwi",
    "mustard",
]
DRINKS = [
    "green tea",
    "black coffee",
    "oat milk lattes",
    "sparkling water",
    "chai",
    "espresso",
    "hot chocolate",
]
HOBBIES = [
    "bouldering",
    "watercolour painting",
    "trail running",
    "chess",
    "pottery",
    "salsa dancing",
    "birdwatching",
    "baking sourdough",
    "sailing",
    "knitting",
    "photography",
    "playing the cello",
    "gardening",
    "kayaking",
    "woodworking",
    "learning Japanese",
    "cycling",
    "board games",
    "yoga",
    "stand-up comedy",
]
PETS = ["dog", "cat", "parrot", "rabbit", "tortoise", "hamster", "ferret"]
PET_NAMES = [
    "Biscuit",
    "Luna",
    "Pepper",
    "Milo",
    "Olive",
    "Rocket",
    "Mochi",
    "Ziggy",
    "Pumpkin",
    "Nala",
    "Toast",
    "Waffles",
    "Juniper",
    "Pickles",
]
RELATIONS = ["sister", "brother", "mother", "father", "best friend", "partner", "cousin", "daughter", "son"]
EVENTS = [
    ("ran a half marathon", "run a half marathon"),
    ("moved into a new flat", "move into a new flat"),
    ("started a new job", "start a new job"),
    ("adopted a puppy", "adopt a puppy"),
    ("went to a jazz festival", "go to a jazz festival"),
    ("graduated from a nursing course", "graduate"),
    ("had knee surgery", "have knee surgery"),
    ("hosted a dinner party", "host a dinner party"),
    ("visited the grandparents", "visit the grandparents"),
    ("passed the driving test", "pass the driving test"),
]
TASKS = [
    "send the quarterly report",
    "book the flights",
    "call the landlord",
    "renew the passport",
    "return the borrowed tent",
    "pay the electricity bill",
    "fix the garden fence",
    "plan the team offsite",
]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
SEASON_WORDS = ["last weekend", "two weeks ago", "last month", "in the spring", "over the summer", "recently"]

# (kind, statements, question); statements get the user's name or "I"-voice variants
TEMPLATES: list[tuple[str, tuple[str, ...], str]] = [
    (
        "fact",
        ("{who} lives in {city}.", "{who} moved to {city} a few years ago and lives there now."),
        "Where does {who} live?",
    ),
    (
        "fact",
        ("{who} works as a {job} at {company}.", "{who} is a {job}; the employer is {company}."),
        "What is {who}'s job?",
    ),
    (
        "fact",
        ("{who}'s {relation} is called {other}.", "{other} is {who}'s {relation}."),
        "Who is {who}'s {relation}?",
    ),
    (
        "fact",
        ("{who} has a {pet} named {petname}.", "{who}'s {pet}, {petname}, is {age} years old."),
        "What pet does {who} have?",
    ),
    (
        "fact",
        ("{who} speaks {language} fluently.", "{who} grew up speaking {language} at home."),
        "Which languages does {who} speak?",
    ),
    (
        "preference",
        ("{who} prefers {drink} in the morning.", "{who} always orders {drink}."),
        "What does {who} like to drink?",
    ),
    (
        "preference",
        ("{who} is allergic to {food}.", "{who} cannot eat {food} because of an allergy."),
        "What is {who} allergic to?",
    ),
    (
        "preference",
        ("{who} loves {hobby} at the weekend.", "{who}'s favourite pastime is {hobby}."),
        "What does {who} do for fun?",
    ),
    (
        "preference",
        (
            "{who} hates long phone calls and prefers messages after {hour} pm.",
            "{who} would rather text than call before {hour} am.",
        ),
        "How does {who} like to be contacted?",
    ),
    (
        "event",
        ("{who} {event} on {day} {month} {year}.", "{who} {event} {season}."),
        "When did {who} {event_inf}?",
    ),
    (
        "event",
        ("{who} travelled to {city} for a conference on {day} {month} {year}.",),
        "When was {who}'s trip to {city}?",
    ),
    (
        "commitment",
        ("{who} promised to {task} by {day} {month}.", "{who} still needs to {task} before {month}."),
        "What does {who} need to do before {month}?",
    ),
]
LANGUAGES = [
    "Spanish",
    "Portuguese",
    "Mandarin",
    "Swahili",
    "Polish",
    "French",
    "Arabic",
    "Hindi",
    "Korean",
    "Dutch",
]


@dataclass(frozen=True)
class SynthMemory:
    user: str
    kind: str
    text: str
    question: str


def generate(n: int, seed: int = 7, per_user: int = MEMORIES_PER_USER) -> list[SynthMemory]:
    """N memories for ceil(N / per_user) users, deterministic for a seed."""
    rng = random.Random(seed)
    out: list[SynthMemory] = []
    users = max(1, -(-n // per_user))
    for u in range(users):
        user = f"user-{u:06d}"
        name = f"{rng.choice(FIRST)} {chr(65 + rng.randrange(26))}."
        family = {rel: rng.choice(FIRST) for rel in RELATIONS}
        count = min(per_user, n - len(out))
        for _ in range(count):
            kind, statements, question = rng.choice(TEMPLATES)
            relation = rng.choice(RELATIONS)
            # a third of the memories are about someone close to the user
            who = name if rng.random() < 0.67 else f"{name.split()[0]}'s {relation} {family[relation]}"
            ev = rng.choice(EVENTS)
            slots = {
                "who": who,
                "city": rng.choice(CITIES),
                "job": rng.choice(JOBS),
                "company": rng.choice(COMPANIES),
                "relation": rng.choice(RELATIONS),
                "other": rng.choice(FIRST),
                "pet": rng.choice(PETS),
                "petname": rng.choice(PET_NAMES),
                "age": rng.randint(1, 14),
                "language": rng.choice(LANGUAGES),
                "drink": rng.choice(DRINKS),
                "food": rng.choice(FOODS),
                "hobby": rng.choice(HOBBIES),
                "event": ev[0],
                "event_inf": ev[1],
                "day": rng.randint(1, 28),
                "month": rng.choice(MONTHS),
                "year": rng.choice((2022, 2023, 2024, 2025)),
                "season": rng.choice(SEASON_WORDS),
                "task": rng.choice(TASKS),
                "hour": rng.randint(5, 11),
            }
            text = rng.choice(statements).format(**slots)
            out.append(SynthMemory(user, kind, text, question.format(**slots)))
    return out


# --------------------------------------------------------------------------- systems under test


class ScaleSystem(Protocol):
    name: str
    persistent: bool

    def add(self, user: str, memories: Sequence[SynthMemory]) -> None: ...

    def search(self, user: str, query: str, k: int) -> list[str]: ...

    def close(self) -> None: ...


class MemoScale:
    """MeMo: `remember_many` once per user and kind; `consolidate` is MeMo's default (on)."""

    name = "memo"
    persistent = True

    def __init__(self, path: Path, embedder: Any, consolidate: bool = True) -> None:
        from shared_core import MemoConfig, Memory, Scope

        self._scope = Scope
        self.consolidate = consolidate
        self.mem = Memory.open(str(path), embedder=embedder, config=MemoConfig())

    def add(self, user: str, memories: Sequence[SynthMemory]) -> None:
        scope = self._scope(tenant="bench", user=user)
        by_kind: dict[str, list[str]] = defaultdict(list)
        for m in memories:
            by_kind[m.kind].append(m.text)
        for kind, texts in by_kind.items():
            if self.consolidate:
                self.mem.remember_many(texts, scope=scope, kind=kind)
            else:
                self.mem.remember_many(texts, scope=scope, kind=kind, consolidate=False)

    def search(self, user: str, query: str, k: int) -> list[str]:
        hits = self.mem.search(query, scope=self._scope(tenant="bench", user=user), k=k)
        return [h.record.text for h in hits]

    def close(self) -> None:
        self.mem.close()


class TurnScale:
    """The raw-turn baselines, in memory: one index per user (BM25, cosine, or both fused)."""

    persistent = False

    def __init__(self, mode: str, embedder: Any) -> None:
        from .systems import TurnIndexSystem

        self.mode = mode
        self.name = f"{mode}-turns"
        self._make: Callable[[], TurnIndexSystem] = lambda: TurnIndexSystem(mode, embedder)
        self._users: dict[str, Any] = {}

    def add(self, user: str, memories: Sequence[SynthMemory]) -> None:
        from .locomo_data import LocomoConversation, LocomoSession, LocomoTurn

        turns = tuple(LocomoTurn(f"D1:{i + 1}", "memory", m.text, 1, None) for i, m in enumerate(memories))
        conv = LocomoConversation(user, "", "", (LocomoSession(1, None, None, turns),), ())
        sys_ = self._make()
        sys_.ingest(conv)
        self._users[user] = sys_

    def search(self, user: str, query: str, k: int) -> list[str]:
        items = self._users[user].rank(query, k)
        return [it.text.split(": ", 1)[-1] for it in items]

    def close(self) -> None:
        self._users.clear()


def make_scale_system(name: str, path: Path, embedder: Any, consolidate: bool = True) -> ScaleSystem:
    if name == "memo":
        return MemoScale(path, embedder, consolidate)
    if name in ("bm25-turns", "dense-turns", "fused-turns"):
        return TurnScale(name.split("-")[0], embedder)
    import importlib

    module = importlib.import_module(f"memo_bench.peers.{name.replace('-', '_')}")
    make = getattr(module, "make_scale", None)
    if make is None:
        raise ValueError(f"system {name!r} has no scale adapter")
    system: ScaleSystem = make(path, embedder)
    return system


# --------------------------------------------------------------------------- measuring


def dir_bytes(path: Path) -> int:
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total


def peak_rss_bytes() -> int:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss if sys.platform == "darwin" else rss * 1024)


def measure(
    system_name: str,
    n: int,
    workdir: Path,
    *,
    embedder_name: str = "minilm",
    queries: int = 200,
    seed: int = 7,
    show_progress: bool = True,
    consolidate: bool = True,
) -> dict[str, Any]:
    """One size, in this process: generate, ingest (timed), search (timed), RSS, disk."""
    from tqdm import tqdm

    from .systems import make_embedder

    memories = generate(n, seed)
    by_user: dict[str, list[SynthMemory]] = defaultdict(list)
    for m in memories:
        by_user[m.user].append(m)
    embedder = make_embedder(embedder_name)
    store = workdir / "store"
    store.mkdir(parents=True, exist_ok=True)
    system = make_scale_system(system_name, store, embedder, consolidate)
    rss_before = peak_rss_bytes()
    bar = tqdm(
        total=n, desc=f"scale {system_name} N={n}", unit="mem", disable=not show_progress, dynamic_ncols=True
    )
    t0 = time.perf_counter()
    for user, mems in by_user.items():
        system.add(user, mems)
        bar.update(len(mems))
    if isinstance(system, MemoScale):  # writes are applied in the background: ingest includes it
        system.mem.flush()
    ingest_s = time.perf_counter() - t0
    bar.close()

    rng = random.Random(seed + 1)
    targets = [rng.choice(memories) for _ in range(queries)]
    for m in targets[:3]:  # warm caches outside the timed loop
        system.search(m.user, m.question, SEARCH_K)
    lat: list[float] = []
    found = 0
    for m in tqdm(targets, desc="search", disable=not show_progress, leave=False):
        t = time.perf_counter()
        texts = system.search(m.user, m.question, SEARCH_K)
        lat.append((time.perf_counter() - t) * 1000.0)
        found += any(m.text in x for x in texts)
    system.close()
    disk = dir_bytes(store) if system.persistent else 0
    return {
        "n": n,
        "status": "ok",
        "users": len(by_user),
        "ingest_s": round(ingest_s, 3),
        "ingest_per_s": round(n / ingest_s, 1) if ingest_s > 0 else 0.0,
        "search_ms": {
            "p50": round(percentile(lat, 50), 3),
            "p95": round(percentile(lat, 95), 3),
            "mean": round(float(np.mean(lat)), 3) if lat else 0.0,
        },
        "queries": len(lat),
        "target_in_top10": round(found / len(lat), 4) if lat else 0.0,
        "peak_rss_bytes": peak_rss_bytes(),
        "rss_before_ingest_bytes": rss_before,
        "disk_bytes": disk,
        "persistent": system.persistent,
    }


def worker_main(args: Any) -> int:
    """`scale-worker`: one size in a fresh process; writes its row as JSON to `args.out`."""
    row = measure(
        args.system,
        args.n,
        Path(args.dir),
        embedder_name=args.embedder,
        queries=args.queries,
        seed=args.seed,
        show_progress=not args.no_progress,
        consolidate=args.memo_consolidate == "on",
    )
    Path(args.out).write_text(json.dumps(row), encoding="utf-8")
    return 0


def run_scale(
    system_name: str,
    sizes: Sequence[int],
    *,
    embedder: str = "minilm",
    queries: int = 200,
    seed: int = 7,
    show_progress: bool = True,
    timeout_s: float | None = 1800.0,
    runner: Callable[[list[str], float | None], int] | None = None,
    consolidate: bool = True,
) -> dict[str, Any]:
    """Every size in its own subprocess (so peak RSS is per size); a size over `timeout_s` is recorded
    as `timeout` and the larger sizes are skipped."""
    rows: list[dict[str, Any]] = []
    run = runner or _run_subprocess
    stop = False
    for n in sizes:
        if stop:
            rows.append({"n": n, "status": "skipped (a smaller size timed out)"})
            continue
        tmp = Path(tempfile.mkdtemp(prefix=f"memo-scale-{n}-"))
        try:
            out = tmp / "row.json"
            cmd = [
                sys.executable,
                "-m",
                "memo_bench",
                "scale-worker",
                "--system",
                system_name,
                "--n",
                str(n),
            ]
            cmd += ["--embedder", embedder, "--queries", str(queries), "--seed", str(seed)]
            cmd += [
                "--dir",
                str(tmp / "work"),
                "--out",
                str(out),
                "--memo-consolidate",
                "on" if consolidate else "off",
            ]
            if not show_progress:
                cmd.append("--no-progress")
            code = run(cmd, timeout_s)
            if code == 0 and out.is_file():
                rows.append(json.loads(out.read_text(encoding="utf-8")))
            elif code == -9:
                rows.append({"n": n, "status": f"timeout (> {timeout_s:.0f} s)"})
                stop = True
            else:
                rows.append({"n": n, "status": f"failed (exit {code})"})
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    variant = None if system_name != "memo" or consolidate else "no consolidation"
    return {
        "system": system_name,
        "variant": variant,
        "sizes": rows,
        "config": {
            "memo_consolidate": consolidate if system_name == "memo" else None,
            "memories_per_user": MEMORIES_PER_USER,
            "search_k": SEARCH_K,
            "queries": queries,
            "seed": seed,
            "embedder": embedder,
            "timeout_s": timeout_s,
            "generator": "memo_bench.scale.generate (templates: fact, preference, event, commitment)",
        },
    }


def _run_subprocess(cmd: list[str], timeout_s: float | None) -> int:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    proc = subprocess.Popen(cmd, env=env, start_new_session=True)
    try:
        return proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)  # the worker's own process group, started above
        proc.wait()
        return -9
