"""`memo demo`: a scripted two-session conversation, then what MeMo remembered and why."""

from __future__ import annotations

import tempfile
from datetime import datetime, timezone

from rich.console import Console

from ..clock import ManualClock
from ..models import Scope
from . import output

SESSION_1 = [
    ("user", "Hi! I'm Dana, I work as a backend engineer at Acme."),
    ("assistant", "Nice to meet you, Dana. What are you working on?"),
    ("user", "Deploys keep failing at the OAuth step. I prefer strict typing and test-first patches."),
    ("user", "I live in Paris, and next week I'm going to give a talk on our release process."),
]
SESSION_2 = [
    ("user", "Quick update: I moved to Berlin last month."),
    ("user", "My email is dana@example.com if you need it, and I love green tea."),
]
QUESTIONS = [
    "Where does Dana live now?",
    "What kind of patches does she like?",
    "What went wrong with deploys?",
    "What is Dana planning to do?",
]


def run_demo(path: str | None = None, as_json: bool = False) -> int:
    from ..memory import Memory

    console = Console(width=140)
    tmp = None
    if path is None:
        tmp = tempfile.TemporaryDirectory(prefix="memo-demo-")
        path = tmp.name
    dana = Scope(tenant="demo", user="dana")
    clock = ManualClock(datetime(2024, 5, 6, 9, 30, tzinfo=timezone.utc))
    try:
        console.rule("[bold]session 1[/bold] (2024-05-06)")
        with Memory.open(path, clock=clock) as mem:
            msgs = [
                {"role": r, "content": c, "id": f"s1-{i}", "name": "Dana" if r == "user" else "assistant"}
                for i, (r, c) in enumerate(SESSION_1, 1)
            ]
            res = mem.add_messages(msgs, scope=dana, session_id="s1")
            for r, c in SESSION_1:
                console.print(f"[cyan]{r}[/cyan]: {c}")
            console.print(f"-> kept {len(res.episodes)} turns, extracted {len(res.added)} memories")
        clock.set(datetime(2024, 6, 12, 18, 0, tzinfo=timezone.utc))
        console.rule("[bold]session 2[/bold] (2024-06-12, a new process: the store is reopened)")
        with Memory.open(path, clock=clock) as mem:
            msgs = [
                {"role": r, "content": c, "id": f"s2-{i}", "name": "Dana"}
                for i, (r, c) in enumerate(SESSION_2, 1)
            ]
            res = mem.add_messages(msgs, scope=dana, session_id="s2")
            for r, c in SESSION_2:
                console.print(f"[cyan]{r}[/cyan]: {c}")
            console.print(
                f"-> kept {len(res.episodes)} turns, extracted {len(res.added)}, superseded {len(res.superseded)}, "
                f"redacted {res.redactions} PII value(s) before storing"
            )
            console.rule("[bold]what MeMo remembers about Dana[/bold] (facts, preferences, events, plans)")
            output.records(
                mem.records(dana, kinds=["fact", "preference", "event", "commitment"]), as_json=as_json
            )
            for q in QUESTIONS:
                console.rule(f"[bold]search[/bold]: {q}")
                output.hits(mem.search(q, scope=dana, k=3), as_json=as_json)
            console.rule("[bold]the context block an adapter injects[/bold] (budget 160 tokens)")
            ctx = mem.context("Where does Dana live and what does she prefer?", scope=dana, token_budget=160)
            console.print(ctx.text, markup=False)
            console.print(f"({ctx.tokens} tokens, {len(ctx.hits)} memories, every line cited)")
            superseded = mem.records(dana, statuses=["superseded"])
            if superseded:
                console.rule("[bold]history kept[/bold]: a superseded memory")
                output.history(mem.history(superseded[0].id, dana), as_json=as_json)
    finally:
        if tmp is not None:
            tmp.cleanup()
    return 0
