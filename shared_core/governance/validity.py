"""What counts as valid memory: keep it, send it to review, or drop it. Pure rules."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from ..models import Kind, MemoryRecord, Origin
from .policy import GovernancePolicy

Verdict = Literal["keep", "review", "drop"]


class Decision(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    verdict: Verdict
    reason: str
    topics: frozenset[str] = frozenset()


def judge(record: MemoryRecord, policy: GovernancePolicy) -> Decision:
    """Decide the fate of a new memory under the policy (raw episodes are always kept)."""
    if record.kind is Kind.EPISODE:
        return Decision(verdict="keep", reason="raw turn")
    from .topics import classify

    topics = frozenset(classify(record.text))
    inferred = record.provenance.origin is Origin.INFERRED
    if inferred and record.confidence < policy.drop_below_confidence:
        return Decision(
            verdict="drop",
            reason=f"inferred with confidence {record.confidence:.2f} < {policy.drop_below_confidence}",
        )
    if record.kind in policy.review_kinds:
        return Decision(
            verdict="review", reason=f"kind {record.kind.value} always needs review", topics=topics
        )
    if inferred and record.confidence < policy.min_confidence_inferred:
        return Decision(
            verdict="review",
            reason=f"inferred with confidence {record.confidence:.2f} < {policy.min_confidence_inferred}",
            topics=topics,
        )
    if inferred and topics and policy.sensitive_topics_review:
        return Decision(
            verdict="review",
            reason=f"inferred memory on sensitive topic: {', '.join(sorted(topics))}",
            topics=topics,
        )
    return Decision(verdict="keep", reason="policy allows", topics=topics)
