"""Who may do what, where: roles, operations and one `authorize` check (deny by default).

Allowed operations per role (`ALLOWED`; anything not listed is denied):

    operation        subject  agent  reviewer  auditor  admin
    read_memory         x       x                         x
    search              x       x                         x
    write_memory        x       x                         x
    delete_memory       x       x                         x
    review                              x                 x
    read_pending                        x                 x
    read_audit                                   x        x
    export_audit                                 x        x
    export_subject      x                                 x
    erase               x                                 x
    sweep                                                 x
    verify_erasure      x                        x        x
    legal_hold                                            x
    check                                        x        x
    repair                                                x
    set_policy                                            x

On top of the table, the principal's binding must contain the target scope:

* subject: bound to a scope that sets `user` (their own); acts only on target scopes of the
  same tenant and user (sub-scopes such as one agent or session included).
* agent: bound to a scope that sets `agent`; acts only inside that tenant/agent (and user or
  session, if the binding sets them).
* reviewer, auditor, admin: bound to a scope (usually a tenant) or to None, which means the
  whole deployment. A target of None ("everything", e.g. the whole audit log) is only
  allowed to an unbound principal.

The auditor never reads memory content (no read_memory, search, read_pending or
export_subject); the reviewer sees pending items only (read_pending, review).
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from ..errors import PermissionDenied
from ..models import Scope, check_id

__all__ = ["Role", "Operation", "Principal", "ALLOWED", "authorize", "is_allowed", "allowed_operations"]


class Role(str, Enum):
    SUBJECT = "subject"  # the person the memories are about
    AGENT = "agent"  # an application / assistant acting for users
    REVIEWER = "reviewer"  # approves, edits or rejects pending memories
    AUDITOR = "auditor"  # reads and exports the audit log; never memory content
    ADMIN = "admin"  # everything, within its binding


class Operation(str, Enum):
    READ_MEMORY = "read_memory"
    SEARCH = "search"
    WRITE_MEMORY = "write_memory"
    DELETE_MEMORY = "delete_memory"
    REVIEW = "review"
    READ_PENDING = "read_pending"
    READ_AUDIT = "read_audit"
    EXPORT_AUDIT = "export_audit"
    EXPORT_SUBJECT = "export_subject"
    ERASE = "erase"
    SWEEP = "sweep"
    VERIFY_ERASURE = "verify_erasure"
    LEGAL_HOLD = "legal_hold"
    CHECK = "check"  # report what `Governor.check` finds (counts and ids, no content)
    REPAIR = "repair"  # `Governor.check(repair=True)`
    SET_POLICY = "set_policy"  # store a new governance policy (`governance.policy_store.change`)


_MEMORY_OPS = frozenset(
    {Operation.READ_MEMORY, Operation.SEARCH, Operation.WRITE_MEMORY, Operation.DELETE_MEMORY}
)

ALLOWED: dict[Role, frozenset[Operation]] = {
    Role.SUBJECT: _MEMORY_OPS | {Operation.EXPORT_SUBJECT, Operation.ERASE, Operation.VERIFY_ERASURE},
    Role.AGENT: _MEMORY_OPS,
    Role.REVIEWER: frozenset({Operation.REVIEW, Operation.READ_PENDING}),
    Role.AUDITOR: frozenset(
        {Operation.READ_AUDIT, Operation.EXPORT_AUDIT, Operation.VERIFY_ERASURE, Operation.CHECK}
    ),
    Role.ADMIN: frozenset(Operation),
}


class Principal(BaseModel):
    """Someone acting on MeMo: an id (for the audit log), a role and the scope it is bound to."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    role: Role
    scope: Scope | None = None

    @field_validator("id")
    @classmethod
    def _valid_id(cls, v: Any) -> str:
        return check_id(v, "principal.id")


def allowed_operations(role: Role) -> frozenset[Operation]:
    return ALLOWED.get(role, frozenset())


def _binding_problem(principal: Principal, target: Scope | None) -> str | None:
    """Why `principal` may not act on `target`, or None when its binding contains it."""
    bound = principal.scope
    if principal.role is Role.SUBJECT and (bound is None or bound.user is None):
        return "a subject must be bound to their own user scope"
    if principal.role is Role.AGENT and (bound is None or bound.agent is None):
        return "an agent must be bound to an agent scope"
    if bound is None:
        return None  # an unbound reviewer / auditor / admin: the whole deployment
    if target is None:
        return "a principal bound to a scope cannot act on every scope"
    if not bound.contains(target):
        return "the target scope is outside the principal's scope"
    return None


def _operation(operation: Operation | str) -> Operation | None:
    if isinstance(operation, Operation):
        return operation
    try:
        return Operation(operation)
    except ValueError:
        return None


def is_allowed(principal: Principal, operation: Operation | str, target_scope: Scope | None) -> bool:
    op = _operation(operation)
    return (
        op is not None
        and op in allowed_operations(principal.role)
        and _binding_problem(principal, target_scope) is None
    )


def authorize(principal: Principal, operation: Operation | str, target_scope: Scope | None) -> None:
    """Return quietly when allowed; raise PermissionDenied otherwise (unknown operations too)."""
    op = _operation(operation)
    if op is None:
        raise PermissionDenied(f"unknown operation {str(operation)!r}: denied")
    if op not in allowed_operations(principal.role):
        raise PermissionDenied(
            f"role {principal.role.value!r} may not {op.value} (principal {principal.id!r})"
        )
    problem = _binding_problem(principal, target_scope)
    if problem is not None:
        raise PermissionDenied(f"{op.value} denied for principal {principal.id!r}: {problem}")
