"""`memo policy show|set`: the governance policy stored with the store (`governance.policy_store`).

`show` prints the stored policy and its versions (or says that none is stored and shows the one
this process is configured with); `set FILE --reason R` stores the policy in FILE (JSON) as the
next version: admin only (`Operation.SET_POLICY`), versioned, audited. `hash_key` is a secret and
is never stored: a file that names it is refused.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..errors import InvalidInput
from ..governance import policy_store
from ..governance.policy import GovernancePolicy
from . import common, output
from .common import EXIT_OK


def _public(policy: GovernancePolicy) -> dict[str, Any]:
    data: dict[str, Any] = policy.model_dump(mode="json", exclude={"hash_key"})
    data["review_kinds"] = sorted(data["review_kinds"])
    return data


def _version(stored: policy_store.StoredPolicy) -> dict[str, Any]:
    return {
        "version": stored.version,
        "changed_at": stored.changed_at.isoformat(),
        "changed_by": stored.changed_by,
        "reason": stored.reason,
        "digest": stored.digest,
    }


def cmd_policy_show(ns: argparse.Namespace) -> int:
    with common.open_memory(ns) as mem:
        common.principal(ns)  # no anonymous reads: who asks is named (the policy holds no content)
        stored = policy_store.load(mem.store)
        versions = policy_store.history(mem.store)
        policy = stored.policy if stored else mem.config.policy
        data: dict[str, Any] = {
            "stored": stored is not None,
            "current": _version(stored) if stored else None,
            "policy": _public(policy),
            "history": [_version(v) for v in versions],
        }
        if ns.json:
            output.emit_json(data)
            return EXIT_OK
        if stored is None:
            title = "no policy is stored: this process applies its configured policy"
        else:
            title = (
                f"stored policy v{stored.version} by {stored.changed_by} at {data['current']['changed_at']}"
            )
        output.rows(
            title,
            ["setting", "value"],
            [(k, json.dumps(v, sort_keys=True)) for k, v in data["policy"].items()],
        )
        if versions:
            output.rows(
                f"{len(versions)} versions",
                ["version", "changed_at", "changed_by", "reason", "digest"],
                [
                    (v["version"], v["changed_at"], v["changed_by"], v["reason"], v["digest"][:16])
                    for v in data["history"]
                ],
            )
    return EXIT_OK


def _read_policy_file(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"{path}: not JSON: {exc}", field="policy") from None
    if isinstance(data, dict) and "hash_key" in data:
        raise InvalidInput(
            f"{path}: hash_key is a secret and is never stored; give it to each process's configuration",
            field="policy",
        )
    return data


def cmd_policy_set(ns: argparse.Namespace) -> int:
    data = _read_policy_file(ns.file)
    with common.open_memory(ns) as mem:
        stored = policy_store.change_and_audit(
            mem.store,
            mem.engine.audit,
            common.principal(ns),
            data,
            reason=ns.reason,
            now=mem.clock.now(),
            expected_version=ns.expected_version,
        )
        output.message(
            {**_version(stored), "policy": _public(stored.policy)},
            f"policy v{stored.version} stored (digest {stored.digest[:16]})",
            as_json=ns.json,
        )
    return EXIT_OK


def register(sub: Any) -> None:
    s = sub.add_parser("policy", help="the governance policy stored with the store: show, or set (admin)")
    acts = s.add_subparsers(dest="policy_action", required=True, metavar="{show,set}")
    p = acts.add_parser("show", help="the stored policy and its versions", parents=sub._parents)
    p.set_defaults(func=cmd_policy_show)
    p = acts.add_parser(
        "set", help="store the policy of a JSON file as the next version (admin)", parents=sub._parents
    )
    p.add_argument("file", help="a JSON object of GovernancePolicy settings (never hash_key)")
    p.add_argument("--reason", required=True, help="why (kept with the version and in the audit log)")
    p.add_argument("--expected-version", type=int, help="refuse unless the stored policy is at this version")
    p.set_defaults(func=cmd_policy_set)
