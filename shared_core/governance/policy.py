"""The governance policy: one frozen pydantic object with safe defaults."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from ..models import Kind


class PIIAction(str, Enum):
    REDACT = "redact"  # replaced by a typed placeholder: [EMAIL]
    MASK = "mask"  # partly hidden: j***@***.com, **** **** **** 4242
    HASH = "hash"  # keyed hash: the same value gives the same token, [EMAIL:3f2a9c1d]
    REJECT = "reject"  # the write fails with PolicyViolation; nothing is stored
    ALLOW = "allow"  # kept as is


class PIIType(str, Enum):
    EMAIL = "email"
    PHONE = "phone"
    CARD = "card"
    IBAN = "iban"
    SSN = "ssn"
    IP = "ip"
    SECRET = "secret"


def _default_pii() -> dict[PIIType, PIIAction]:
    return {t: PIIAction.REDACT for t in PIIType} | {PIIType.SECRET: PIIAction.REDACT}


Days = Annotated[float, Field(gt=0, allow_inf_nan=False)]
"""A positive, finite number of days (a NaN or infinite TTL would never compare as expired)."""


class GovernancePolicy(BaseModel):
    """What MeMo keeps, for how long, and how it treats personal data.

    Persisted with the store by `governance.policy_store` (versioned, changed by an admin), so
    every process that opens the store applies the same policy. `hash_key` is a secret and is
    never persisted: each process brings its own (from its configuration), or leaves it None and
    the store's own generated key is used (`store.chroma_audit.pii_hash_key`).
    """

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    pii: dict[PIIType, PIIAction] = Field(
        default_factory=_default_pii, description="What to do with each PII type."
    )
    hash_key: str | None = Field(
        default=None,
        min_length=1,
        description="Secret for keyed hashing of PII. None: the store's own generated key "
        "(`store.chroma_audit.pii_hash_key`), never a public default.",
    )
    min_confidence_inferred: float = Field(
        default=0.6, ge=0, le=1, description="Inferred memories below go to review."
    )
    drop_below_confidence: float = Field(
        default=0.2, ge=0, le=1, description="Inferred memories below are dropped."
    )
    review_kinds: frozenset[Kind] = Field(default=frozenset(), description="Kinds that always need review.")
    sensitive_topics_review: bool = Field(
        default=True, description="Inferred memories on sensitive topics go to review."
    )
    ttl_days: dict[Kind, Days] = Field(
        default_factory=dict, description="Age after which a memory expires, per kind."
    )
    inactivity_days: dict[Kind, Days] = Field(
        default_factory=dict, description="Expire when unused this long, per kind."
    )
    capacity_per_scope: int | None = Field(
        default=None, gt=0, description="Most active memories one scope keeps (the strongest stay)."
    )
