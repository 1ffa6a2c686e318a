"""The governance policy stored with the store: versioned, changed by an admin, audited, and the
same for every process that opens the store (the API, `memo sweep --apply`, a cron job).

Layout in the store's meta (`Store.get_meta/set_meta`):

* `governance_policy`      the current version (JSON of `StoredPolicy`)
* `governance_policy:v<N>` every version ever set, immutable (the policy's own history)

`hash_key` (the HMAC secret of PII hashing) is never persisted: each process brings its own from
its configuration (or, when that is None, uses the store's own key, `store.chroma_audit.pii_hash_key`),
and `effective` keeps it. A store without a stored policy uses the policy the
process was configured with, until an admin stores one.

`change` authorizes the principal (an unbound admin: the policy is deployment-wide), writes the new
version, reads it back, and returns the typed audit entries the caller appends to the audit log
(the engine owns the audit log; `change_and_audit` does both for callers holding an `AuditLog`).
The store offers no compare-and-set: `expected_version` and the read-back catch a concurrent change
(`PolicyConflict`), they do not prevent it; policy changes are rare, admin-only and audited.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..clock import ensure_utc
from ..errors import InvalidInput, PermissionDenied, PolicyConflict, StoreCorrupted
from ..models import Scope, check_id
from .access import Operation, Principal, Role, authorize
from .policy import GovernancePolicy

if TYPE_CHECKING:
    from ..config import MemoConfig

__all__ = [
    "KEY",
    "CHANGE_OPERATION",
    "MetaStore",
    "PolicyAuditEntry",
    "StoredPolicy",
    "apply_to_config",
    "change",
    "change_and_audit",
    "effective",
    "history",
    "load",
    "policy_digest",
]

KEY = "governance_policy"
CHANGE_OPERATION = Operation.SET_POLICY
"""The operation a policy change is authorized as: admin-only in the role table, and (with no
target scope) only for an unbound admin: the policy is deployment-wide."""

_SECRET_FIELDS = frozenset({"hash_key"})


class MetaStore(Protocol):
    """The part of the `Store` port this module uses."""

    def get_meta(self, key: str) -> str | None: ...

    def set_meta(self, key: str, value: str) -> None: ...


class StoredPolicy(BaseModel):
    """One version of the policy as stored: who set it, when, why, and its digest."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: int = Field(ge=1)
    policy: GovernancePolicy
    changed_at: datetime
    changed_by: str = Field(min_length=1)
    reason: str = ""
    digest: str = Field(pattern=r"^[0-9a-f]{64}$")


class PolicyAuditEntry(BaseModel):
    """A typed audit event of a policy change; `as_kwargs()` is what `AuditLog.append` takes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    actor: str
    action: str = "policy"
    scope: Scope | None = None
    record_id: str | None = None
    decision: str = "change"
    reason: str = ""
    payload: dict[str, str | int | float | bool | None] = Field(default_factory=dict)

    def as_kwargs(self) -> dict[str, Any]:
        return {
            "actor": self.actor,
            "action": self.action,
            "scope": self.scope,
            "record_id": self.record_id,
            "decision": self.decision,
            "reason": self.reason,
            "payload": dict(self.payload),
        }


def _public(policy: GovernancePolicy) -> dict[str, Any]:
    """The policy as JSON-able data, without its secret."""
    data: dict[str, Any] = policy.model_dump(mode="json", exclude=set(_SECRET_FIELDS))
    for name in ("review_kinds",):  # sets have no order: store them sorted (stable digests)
        data[name] = sorted(data[name])
    return data


def policy_digest(policy: GovernancePolicy) -> str:
    """SHA-256 of the policy's canonical JSON, secret excluded: equal policies, equal digests."""
    raw = json.dumps(_public(policy), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _key(version: int) -> str:
    return f"{KEY}:v{version}"


def _dump(stored: StoredPolicy) -> str:
    return json.dumps(
        {
            "version": stored.version,
            "policy": _public(stored.policy),
            "changed_at": stored.changed_at.isoformat(),
            "changed_by": stored.changed_by,
            "reason": stored.reason,
            "digest": stored.digest,
        },
        sort_keys=True,
    )


def _parse(raw: str, where: str) -> StoredPolicy:
    try:
        stored = StoredPolicy.model_validate_json(raw)
    except (ValidationError, ValueError) as exc:
        raise StoreCorrupted(f"the stored governance policy ({where}) cannot be read: {exc}") from None
    if policy_digest(stored.policy) != stored.digest:
        raise StoreCorrupted(f"the stored governance policy ({where}) does not match its digest")
    return stored


def load(store: MetaStore) -> StoredPolicy | None:
    """The current stored policy (its `hash_key` is None: the secret is never stored), or None."""
    raw = store.get_meta(KEY)
    return _parse(raw, KEY) if raw else None


def history(store: MetaStore) -> list[StoredPolicy]:
    """Every stored version, oldest first."""
    current = load(store)
    if current is None:
        return []
    out = []
    for v in range(1, current.version + 1):
        raw = store.get_meta(_key(v))
        if raw:
            out.append(_parse(raw, _key(v)))
    return out


def effective(store: MetaStore, configured: GovernancePolicy) -> GovernancePolicy:
    """The policy a process must apply: the stored one (with the process's own `hash_key`), else
    the configured one."""
    stored = load(store)
    if stored is None:
        return configured
    return stored.policy.model_copy(update={"hash_key": configured.hash_key})


def apply_to_config(store: MetaStore, config: MemoConfig) -> MemoConfig:
    """`config` with its policy replaced by the stored one (for `Memory.open`/`connect`)."""
    policy = effective(store, config.policy)
    return config if policy == config.policy else config.model_copy(update={"policy": policy})


def _as_policy(policy: Any) -> GovernancePolicy:
    if isinstance(policy, GovernancePolicy):
        return policy
    if isinstance(policy, Mapping):
        try:
            return GovernancePolicy.model_validate(dict(policy))
        except ValidationError as exc:
            problems = "; ".join(
                ".".join(str(p) for p in e.get("loc", ())) + ": " + e.get("msg", "invalid")
                for e in exc.errors(include_url=False, include_input=False)
            )
            raise InvalidInput(f"policy is invalid: {problems}", field="policy") from None
    raise InvalidInput(
        f"policy must be a GovernancePolicy or a dict, got {type(policy).__name__}", field="policy"
    )


def change(
    store: MetaStore,
    principal: Principal,
    policy: GovernancePolicy | Mapping[str, Any],
    *,
    reason: str,
    now: datetime,
    expected_version: int | None = None,
) -> tuple[StoredPolicy, list[PolicyAuditEntry]]:
    """Store `policy` as the next version. Returns the stored version and the audit entries to
    append (none when the policy is unchanged: no new version either).

    Raises `PermissionDenied` unless `principal` is an unbound admin, `InvalidInput` for a bad
    policy or reason, `PolicyConflict` when `expected_version` is not the current version or a
    concurrent change won the write.
    """
    if not isinstance(principal, Principal):
        raise InvalidInput(
            f"principal must be a Principal, got {type(principal).__name__}", field="principal"
        )
    if principal.role is not Role.ADMIN:
        raise PermissionDenied(f"only an admin may change the governance policy (principal {principal.id!r})")
    authorize(principal, CHANGE_OPERATION, None)
    if not isinstance(reason, str) or not reason.strip() or "\x00" in reason or len(reason) > 2000:
        raise InvalidInput("reason must be a non-empty string of at most 2000 characters", field="reason")
    if expected_version is not None and (
        isinstance(expected_version, bool) or not isinstance(expected_version, int)
    ):
        raise InvalidInput("expected_version must be an int", field="expected_version")
    new_policy = _as_policy(policy)
    at = ensure_utc(now)
    current = load(store)
    version = current.version if current else 0
    if expected_version is not None and expected_version != version:
        raise PolicyConflict(f"the stored policy is at version {version}, not {expected_version}")
    digest = policy_digest(new_policy)
    if current is not None and current.digest == digest:
        return current, []
    stored = StoredPolicy(
        version=version + 1,
        policy=new_policy.model_copy(update={"hash_key": None}),  # the secret is never stored
        changed_at=at,
        changed_by=check_id(principal.id, "principal.id"),
        reason=reason,
        digest=digest,
    )
    raw = _dump(stored)
    store.set_meta(_key(stored.version), raw)  # the immutable version first, then the pointer
    store.set_meta(KEY, raw)
    after = load(store)
    if after is None or after.version != stored.version or after.digest != stored.digest:
        raise PolicyConflict(
            "another process changed the governance policy at the same time; reload and retry"
        )
    entry = PolicyAuditEntry(
        actor=principal.id,
        reason=reason,
        payload={
            "version": stored.version,
            "previous_version": version,
            "digest": digest,
            "previous_digest": current.digest if current else "",
        },
    )
    return stored, [entry]


def change_and_audit(
    store: MetaStore,
    audit: Any,
    principal: Principal,
    policy: GovernancePolicy | Mapping[str, Any],
    *,
    reason: str,
    now: datetime,
    expected_version: int | None = None,
) -> StoredPolicy:
    """`change`, then each returned entry appended to `audit` (an `AuditLog`, or None for no log)."""
    stored, entries = change(
        store, principal, policy, reason=reason, now=now, expected_version=expected_version
    )
    if audit is not None:
        for entry in entries:
            audit.append(**entry.as_kwargs())
    return stored
