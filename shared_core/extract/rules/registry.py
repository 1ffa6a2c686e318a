"""Finds the rules: every module of this package with a `RULES` tuple contributes its rules."""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from shared_core.extract.rules.hits import Rule, Stage


@lru_cache(maxsize=1)
def all_rules() -> tuple[Rule, ...]:
    """Every rule of the package, sorted by stage, order and name (module names sorted too)."""
    package = __name__.rpartition(".")[0]
    found: list[Rule] = []
    for info in sorted(pkgutil.iter_modules(importlib.import_module(package).__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{package}.{info.name}")
        found.extend(getattr(module, "RULES", ()))
    names = [r.name for r in found]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise RuntimeError(f"rule names must be unique: {dupes}")
    return tuple(sorted(found, key=lambda r: (r.stage, r.order, r.name)))


def rules_for(stage: Stage) -> tuple[Rule, ...]:
    return tuple(r for r in all_rules() if r.stage == stage)
