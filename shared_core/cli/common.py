"""What every `memo` command shares: opening the store, who acts (the principal), progress bars,
and the exit codes."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import (
    ConfigError,
    InvalidInput,
    MemoError,
    NotFound,
    PermissionDenied,
    PolicyViolation,
    StoreCorrupted,
    StoreUnavailable,
)
from ..governance.access import Principal
from ..inspect import Inspector, parse_principal
from ..models import Scope

if TYPE_CHECKING:
    from ..memory import Memory

T = TypeVar("T")

EXIT_OK = 0
EXIT_FAILED = 1  # the command ran and its answer is "no": residue found, chain broken, problems found
EXIT_USAGE = 2  # bad arguments or invalid input
EXIT_NOT_FOUND = 3  # no such memory / file
EXIT_PERMISSION = 4  # the role table, a legal hold or the policy refuses it; or no principal given
EXIT_STORE = 5  # the store is missing, unreachable, locked or damaged
EXIT_ERROR = 6  # any other MeMo error
EXIT_PIPE = 141  # the reader of our output went away (e.g. `| head`)

EXIT_CODES_HELP = f"""exit codes:
  {EXIT_OK}    success
  {EXIT_FAILED}    the check ran and failed (erasure residue, broken audit chain, store problems)
  {EXIT_USAGE}    usage error or invalid input
  {EXIT_NOT_FOUND}    not found (memory id, file)
  {EXIT_PERMISSION}    permission denied (role table, binding, legal hold, policy; or no --as principal)
  {EXIT_STORE}    store error (no store at --path without --create, unreachable, locked, corrupted)
  {EXIT_ERROR}    any other MeMo error
  {EXIT_PIPE}  output pipe closed by the reader

who acts: --as ROLE:NAME[@TENANT] (or $MEMO_PRINCIPAL, or {{"principal": "..."}} in $MEMO_CONFIG,
default ~/.config/memo/config.json). Roles: subject, agent, reviewer, auditor, admin; a subject is
bound to user NAME, an agent to agent NAME. There is no implicit admin. Every read of memory
content is written to the audit log."""


def _store_lock_errors() -> tuple[type[BaseException], ...]:
    from .. import errors

    extra = [getattr(errors, n) for n in ("StoreLocked",) if hasattr(errors, n)]
    return (StoreUnavailable, StoreCorrupted, *extra)


def exit_code_for(exc: BaseException) -> int:
    if isinstance(exc, NotFound | FileNotFoundError):
        return EXIT_NOT_FOUND
    if isinstance(exc, PermissionDenied | PolicyViolation):
        return EXIT_PERMISSION
    if isinstance(exc, _store_lock_errors()):
        return EXIT_STORE
    if isinstance(exc, InvalidInput | ConfigError | json.JSONDecodeError | ValueError | OSError):
        return EXIT_USAGE
    if isinstance(exc, MemoError):
        return EXIT_ERROR
    return EXIT_ERROR


class NoStore(StoreUnavailable):
    """--path names a directory that holds no store, and --create was not given."""


# ---------------------------------------------------------------------------------- store
def store_exists(path: str | os.PathLike[str]) -> bool:
    return (Path(path) / "chroma.sqlite3").is_file()


def open_memory(ns: argparse.Namespace) -> Memory:
    """Open the store with the embedder it was written with. A path without a store is refused
    unless `--create` is given (then a note says that one was created)."""
    from ..memory import Memory

    if ns.host:
        return Memory.connect(ns.host, ns.port)
    if not store_exists(ns.path):
        if not getattr(ns, "create", False):
            raise NoStore(f"no MeMo store at {ns.path!r} (pass --create to make a new one there)")
        from .output import note

        note(f"created a new, empty store at {ns.path}", ns.json)
    return Memory.open(ns.path)


# ------------------------------------------------------------------------------ principal
def _config_principal() -> str | None:
    cfg = os.environ.get("MEMO_CONFIG")
    if cfg is None:
        base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
        cfg = os.path.join(base, "memo", "config.json")
    try:
        with open(cfg, encoding="utf-8") as f:
            data = json.load(f)
    except FileNotFoundError:
        return None
    except (OSError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read the memo config file {cfg}: {exc}") from None
    value = data.get("principal") if isinstance(data, dict) else None
    return str(value) if value else None


def principal_spec(ns: argparse.Namespace) -> str | None:
    return getattr(ns, "as_", None) or os.environ.get("MEMO_PRINCIPAL") or _config_principal()


def principal(ns: argparse.Namespace) -> Principal:
    """Who acts: --as, $MEMO_PRINCIPAL or the config file. No principal, no access."""
    spec = principal_spec(ns)
    if not spec:
        raise PermissionDenied(
            "who is acting? pass --as ROLE:NAME (e.g. --as admin:dpo or --as reviewer:kim), "
            "or set MEMO_PRINCIPAL"
        )
    return parse_principal(spec, getattr(ns, "tenant", None))


def inspector(ns: argparse.Namespace, mem: Memory) -> Inspector:
    return Inspector(mem, principal(ns), path=None if ns.host else ns.path)


def scope_of(ns: argparse.Namespace) -> Scope:
    return Scope(
        tenant=ns.tenant,
        user=getattr(ns, "user", None),
        agent=getattr(ns, "agent", None),
        session=getattr(ns, "session", None),
    )


# ------------------------------------------------------------------------------- progress
def progress_enabled(ns: argparse.Namespace) -> bool:
    if getattr(ns, "json", False):
        return False
    forced = os.environ.get("MEMO_PROGRESS", "").lower()
    if forced in ("always", "1", "yes"):
        return True
    return forced not in ("never", "0", "no") and sys.stderr.isatty()


def progress(
    ns: argparse.Namespace, items: Iterable[T], desc: str, total: int | None = None, unit: str = "it"
) -> Iterator[T]:
    """A progress bar on stderr, only for people (a tty, no --json)."""
    from tqdm import tqdm

    yield from tqdm(
        items, desc=desc, total=total, unit=unit, file=sys.stderr, disable=not progress_enabled(ns)
    )


def as_dict(value: Any) -> Any:
    return value.model_dump(mode="json") if hasattr(value, "model_dump") else value
