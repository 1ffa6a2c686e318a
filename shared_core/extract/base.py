"""The extractor port: what goes in (`ExtractInput`), what comes out (`Candidate`), and the protocol.

An extractor turns conversation turns into candidate memories. It is pure: no I/O of its own
(an LLM extractor calls only the `chat` callable it was given), and time comes from the turns'
timestamps and the injected `now`, never from the system clock.

Negation is modelled with `Candidate.negated`: "I don't live in Paris anymore" becomes
subject="caroline", attribute="lives_in", value="Paris", negated=True. `value=None` with
`negated=True` means "no value of this attribute holds any more" ("I quit my job" ->
works_at=None, negated). Consolidation uses it to end (supersede) the matching old record;
when nothing matches, the negated statement is stored as a memory of its own. On a
`MemoryRecord` the flag lives in `metadata["negated"] = True` (see `Candidate.to_record`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..clock import ensure_utc
from ..models import Kind, MemoryRecord, MetaValue, Origin, Provenance, Scope, check_id

NEGATED_KEY = "negated"
"""`MemoryRecord.metadata` key that marks a record stating that something no longer holds."""

TIME_EXPRESSION_KEY = "time_expression"
"""`MemoryRecord.metadata` key holding the original time expression ("last weekend"), if any."""

EXTRACTABLE_KINDS = frozenset({Kind.FACT, Kind.PREFERENCE, Kind.EVENT, Kind.COMMITMENT})


class ExtractInput(BaseModel):
    """One conversation turn as an extractor sees it. `timestamp` is when it was said (UTC-aware)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    message_id: str
    role: Literal["user", "assistant", "system", "tool"] = "user"
    speaker: str | None = None
    text: str
    timestamp: datetime
    session_id: str | None = None

    @field_validator("message_id")
    @classmethod
    def _valid_id(cls, v: str) -> str:
        return check_id(v, "message_id")

    @field_validator("timestamp")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        return ensure_utc(v)

    @field_validator("speaker")
    @classmethod
    def _speaker(cls, v: str | None) -> str | None:
        if v is None:
            return None
        v = v.strip()
        return v or None


def normalise_subject(value: str | None) -> str:
    """`"  Caroline "` -> `"caroline"`; missing -> `"user"`."""
    if value is None:
        return "user"
    out = " ".join(value.split()).lower()
    return out or "user"


class Candidate(BaseModel):
    """A memory proposed by an extractor, before governance and consolidation.

    `text` is a compact, self-contained third-person statement ("Caroline lives in Berlin"): it
    is what gets embedded and shown to an LLM. `subject`/`attribute`/`value` are the structured
    handle consolidation uses (`"caroline"`, `"lives_in"`, `"Berlin"`).
    """

    model_config = ConfigDict(extra="forbid")

    kind: Kind
    text: str = Field(min_length=1)
    subject: str = "user"
    attribute: str = Field(min_length=1)
    value: str | None = None
    negated: bool = False
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    importance: float = Field(default=0.5, ge=0.0, le=1.0)
    confidence: float = Field(default=0.9, ge=0.0, le=1.0)
    origin: Origin = Origin.STATED
    source_message_ids: list[str] = Field(default_factory=list)
    speaker: str | None = None
    observed_at: datetime | None = None  # timestamp of the (latest) source turn
    session_id: str | None = None
    time_expression: str | None = None  # the original words ("last weekend"), if any

    @field_validator("kind")
    @classmethod
    def _not_episode(cls, v: Kind) -> Kind:
        if v not in EXTRACTABLE_KINDS:
            raise ValueError(
                "extractors produce fact/preference/event/commitment; episodes come from the engine"
            )
        return v

    @field_validator("subject")
    @classmethod
    def _subject(cls, v: str) -> str:
        return normalise_subject(v)

    @field_validator("attribute")
    @classmethod
    def _attribute(cls, v: str) -> str:
        out = "_".join(v.strip().lower().replace("-", " ").split())
        if not out:
            raise ValueError("attribute must not be empty")
        return out

    @field_validator("valid_from", "valid_to", "observed_at")
    @classmethod
    def _utc(cls, v: datetime | None) -> datetime | None:
        return None if v is None else ensure_utc(v)

    @model_validator(mode="after")
    def _interval(self) -> Candidate:
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        return self

    def to_record(
        self,
        scope: Scope,
        *,
        now: datetime,
        extractor: str,
        extractor_version: str,
        turn_timestamps: Sequence[datetime] = (),
    ) -> MemoryRecord:
        """The `MemoryRecord` for this candidate (status ACTIVE; governance may change that).

        `turn_timestamps` defaults to `[observed_at]` when that is known.
        """
        stamps = list(turn_timestamps) or ([self.observed_at] if self.observed_at else [])
        metadata: dict[str, MetaValue] = {}
        if self.negated:
            metadata[NEGATED_KEY] = True
        if self.time_expression:
            metadata[TIME_EXPRESSION_KEY] = self.time_expression
        return MemoryRecord(
            scope=scope,
            kind=self.kind,
            text=self.text,
            created_at=now,
            updated_at=now,
            valid_from=self.valid_from,
            valid_to=self.valid_to,
            importance=self.importance,
            confidence=self.confidence,
            provenance=Provenance(
                source_message_ids=list(self.source_message_ids),
                session_id=self.session_id,
                turn_timestamps=stamps,
                speaker=self.speaker,
                extractor=extractor,
                extractor_version=extractor_version,
                origin=self.origin,
            ),
            subject=self.subject,
            attribute=self.attribute,
            value=self.value,
            metadata=metadata,
        )


@runtime_checkable
class Extractor(Protocol):
    """Turns conversation turns into candidate memories. Pure: same input, same output."""

    name: str
    version: str

    def extract(self, turns: Sequence[ExtractInput], *, now: datetime) -> list[Candidate]:
        """Candidates from `turns`; relative times resolve against each turn's timestamp."""
        ...


def is_negated(record: MemoryRecord) -> bool:
    """True when the record states that something no longer holds (`metadata["negated"]`)."""
    return record.metadata.get(NEGATED_KEY) is True


# A statement that ends on an article or conjunction broke off before saying anything; a short
# one (four words or fewer) ending on a preposition or a bare pronoun too ("Melanie loves to",
# "Caroline loves them"); a longer one may end on a preposition ("a dog to play with"). Only
# lower-case words count: "Dana works in IT" and "User's blood type is A" say something.
_CUT_OFF = frozenset(["the", "a", "an", "and", "or", "but"])
_SHORT_CUT_OFF = frozenset(
    [
        "to",
        "of",
        "with",
        "for",
        "from",
        "by",
        "into",
        "it",
        "them",
        "this",
        "that",
        "these",
        "those",
        "him",
        "her",
        "there",
    ]
)
# scripts written without spaces between words, where counting words by spaces means nothing
_UNSPACED = re.compile(
    "[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
)


def says_something(text: str) -> bool:
    """Whether an extracted statement is more than a fragment: two words at least, not ending on an
    article or conjunction, and, when it has four words or fewer, not ending on a preposition or a
    bare pronoun. Extractors of every kind are screened with it (the rules and an LLM both cut
    sentences short at times); `tests/unit/test_extract_screen.py`."""
    if _UNSPACED.search(text):  # Chinese, Japanese, Thai, Lao, Khmer, Burmese: no spaces to count
        return bool(text.strip())
    words = [w.strip(".,;:!?\"'()[]") for w in text.split()]
    words = [w for w in words if w]
    if len(words) < 2 or words[-1] in _CUT_OFF:
        return False
    return not (len(words) <= 4 and words[-1] in _SHORT_CUT_OFF)
