"""Roles, operations and scope bindings of shared_core.governance.access."""

from __future__ import annotations

import pytest

from shared_core.errors import MemoError, PermissionDenied
from shared_core.governance.access import ALLOWED, Operation, Principal, Role, authorize, is_allowed
from shared_core.models import Scope

ACME = Scope(tenant="acme")
ALICE = Scope(tenant="acme", user="alice")
BOB = Scope(tenant="acme", user="bob")
BOT = Scope(tenant="acme", agent="helper")

# the expected matrix, written out independently of the module's table
EXPECTED: dict[str, set[str]] = {
    "subject": {
        "read_memory",
        "search",
        "write_memory",
        "delete_memory",
        "export_subject",
        "erase",
        "verify_erasure",
    },
    "agent": {"read_memory", "search", "write_memory", "delete_memory"},
    "reviewer": {"review", "read_pending"},
    "auditor": {"read_audit", "export_audit", "verify_erasure", "check"},
    "admin": {op.value for op in Operation},
}

# each role, bound the usual way, acting on a scope inside its binding
PRINCIPALS = {
    Role.SUBJECT: Principal(id="alice", role=Role.SUBJECT, scope=ALICE),
    Role.AGENT: Principal(id="helper-bot", role=Role.AGENT, scope=BOT),
    Role.REVIEWER: Principal(id="rita", role=Role.REVIEWER, scope=ACME),
    Role.AUDITOR: Principal(id="audrey", role=Role.AUDITOR, scope=ACME),
    Role.ADMIN: Principal(id="root", role=Role.ADMIN, scope=ACME),
}
TARGETS = {
    Role.SUBJECT: ALICE,
    Role.AGENT: Scope(tenant="acme", user="alice", agent="helper"),
    Role.REVIEWER: ALICE,
    Role.AUDITOR: ALICE,
    Role.ADMIN: ALICE,
}


@pytest.mark.parametrize("operation", list(Operation), ids=lambda o: o.value)
@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_matrix(role: Role, operation: Operation) -> None:
    principal, target = PRINCIPALS[role], TARGETS[role]
    allowed = operation.value in EXPECTED[role.value]
    assert is_allowed(principal, operation, target) is allowed
    if allowed:
        authorize(principal, operation, target)
        authorize(principal, operation.value, target)  # plain strings work too
    else:
        with pytest.raises(PermissionDenied):
            authorize(principal, operation, target)


def test_table_matches_expectation() -> None:
    assert {r.value: {o.value for o in ops} for r, ops in ALLOWED.items()} == EXPECTED


def test_auditor_never_reads_memory_content() -> None:
    auditor = PRINCIPALS[Role.AUDITOR]
    for op in ("read_memory", "search", "read_pending", "export_subject", "review"):
        assert not is_allowed(auditor, op, ALICE)


def test_subject_only_on_own_scope() -> None:
    alice = PRINCIPALS[Role.SUBJECT]
    authorize(alice, "erase", ALICE)
    authorize(alice, "search", Scope(tenant="acme", user="alice", session="s1"))
    authorize(alice, "read_memory", Scope(tenant="acme", user="alice", agent="helper"))
    for target in (
        BOB,
        ACME,
        Scope(tenant="other", user="alice"),
        Scope(tenant="acme", agent="helper"),
        None,
    ):
        with pytest.raises(PermissionDenied):
            authorize(alice, "read_memory", target)


def test_subject_must_be_bound_to_a_user() -> None:
    for scope in (None, ACME, BOT):
        p = Principal(id="x", role=Role.SUBJECT, scope=scope)
        with pytest.raises(PermissionDenied):
            authorize(p, "read_memory", ALICE)


def test_agent_within_its_binding() -> None:
    bot = PRINCIPALS[Role.AGENT]
    authorize(bot, "write_memory", Scope(tenant="acme", user="bob", agent="helper", session="s9"))
    for target in (
        ALICE,  # no agent set: the user's memory across agents
        Scope(tenant="acme", user="alice", agent="other-bot"),
        Scope(tenant="globex", user="alice", agent="helper"),
        None,
    ):
        with pytest.raises(PermissionDenied):
            authorize(bot, "read_memory", target)
    unbound = Principal(id="bot", role=Role.AGENT, scope=Scope(tenant="acme"))
    with pytest.raises(PermissionDenied):
        authorize(unbound, "read_memory", BOT)


def test_agent_bound_to_user_and_agent() -> None:
    bot = Principal(id="bot", role=Role.AGENT, scope=Scope(tenant="acme", user="alice", agent="helper"))
    authorize(bot, "search", Scope(tenant="acme", user="alice", agent="helper", session="s1"))
    with pytest.raises(PermissionDenied):
        authorize(bot, "search", Scope(tenant="acme", user="bob", agent="helper"))


def test_tenant_bound_staff_stay_in_their_tenant() -> None:
    for role in (Role.ADMIN, Role.REVIEWER, Role.AUDITOR):
        p = PRINCIPALS[role]
        op = {Role.ADMIN: "sweep", Role.REVIEWER: "review", Role.AUDITOR: "verify_erasure"}[role]
        authorize(p, op, ALICE)
        with pytest.raises(PermissionDenied):
            authorize(p, op, Scope(tenant="globex", user="alice"))
        with pytest.raises(PermissionDenied):
            authorize(p, op, None)  # "everything" needs an unbound principal


def test_unbound_staff_act_everywhere() -> None:
    admin = Principal(id="root", role=Role.ADMIN)
    auditor = Principal(id="audrey", role=Role.AUDITOR)
    authorize(admin, "legal_hold", Scope(tenant="globex", user="x"))
    authorize(admin, "export_audit", None)
    authorize(auditor, "read_audit", None)
    authorize(auditor, "export_audit", None)
    with pytest.raises(PermissionDenied):
        authorize(auditor, "read_memory", ALICE)


def test_unknown_operation_is_denied() -> None:
    admin = Principal(id="root", role=Role.ADMIN)
    with pytest.raises(PermissionDenied, match="unknown operation"):
        authorize(admin, "drop_database", None)
    assert not is_allowed(admin, "drop_database", None)


def test_error_is_a_memo_error_and_names_the_operation() -> None:
    with pytest.raises(PermissionDenied) as info:
        authorize(PRINCIPALS[Role.REVIEWER], "erase", ALICE)
    assert isinstance(info.value, MemoError)
    assert "erase" in str(info.value) and "reviewer" in str(info.value)


def test_principal_validation() -> None:
    with pytest.raises(ValueError):
        Principal(id="", role=Role.ADMIN)
    with pytest.raises(ValueError):
        Principal(id="x", role="king")  # type: ignore[arg-type]
    p = Principal(id="x", role="auditor")  # type: ignore[arg-type]
    assert p.role is Role.AUDITOR
