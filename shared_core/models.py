"""The records MeMo keeps and the values it hands back (pydantic v2)."""

from __future__ import annotations

import math
import random
import re
from datetime import datetime
from enum import Enum
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .clock import ensure_utc

ROLE_WORDS = ("system", "assistant", "user", "human", "ai", "tool", "function", "developer", "bot", "model")
"""Words that name a role in a conversation, never a person: a speaker or subject of that name is
not a name to read in a question, and a name that looks like one is quoted when rendered."""

MAX_ID_CHARS = 128
_BAD_ID_CHARS = re.compile(r"[\x00-\x1f\x7f]")

MetaValue = Union[str, int, float, bool]


def new_id() -> str:
    """A random 128-bit id (unique, not secret: the `random` module is reseeded in forked children)."""
    return f"{random.getrandbits(128):032x}"


def check_id(value: str, what: str) -> str:
    """An id is opaque data: any printable text up to 128 characters, never empty.

    Characters such as `*`, `$`, `{` are allowed and matched literally: ids are never
    interpreted as patterns or operators anywhere in MeMo.
    """
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a string, got {type(value).__name__}")
    if not value.strip():
        raise ValueError(f"{what} must not be empty or whitespace")
    if len(value) > MAX_ID_CHARS:
        raise ValueError(f"{what} is longer than {MAX_ID_CHARS} characters")
    if _BAD_ID_CHARS.search(value):
        raise ValueError(f"{what} must not contain control characters or NUL")
    return value


class Kind(str, Enum):
    EPISODE = "episode"  # a raw conversation turn
    FACT = "fact"
    PREFERENCE = "preference"
    EVENT = "event"
    COMMITMENT = "commitment"


class Status(str, Enum):
    ACTIVE = "active"
    PENDING_REVIEW = "pending_review"
    SUPERSEDED = "superseded"
    EXPIRED = "expired"
    DELETED = "deleted"


class Origin(str, Enum):
    STATED = "stated"  # the user said it (a raw turn, or a rule match on their words)
    INFERRED = "inferred"  # a model concluded it


class Scope(BaseModel):
    """Whose memory: tenant, user, agent, session. Every value is data, never an operator.

    `tenant` defaults to "default". A record is written with the exact scope given; a read
    with a scope matches the records whose fields equal every field the read scope sets.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    tenant: str = "default"
    user: str | None = None
    agent: str | None = None
    session: str | None = None

    @field_validator("tenant", "user", "agent", "session", mode="before")
    @classmethod
    def _valid_id(cls, v: Any, info: Any) -> Any:
        if v is None and info.field_name != "tenant":
            return None
        return check_id(v, f"scope.{info.field_name}")

    def fields(self) -> dict[str, str]:
        """The fields this scope sets (the ones a read filters on)."""
        return {k: v for k, v in self.model_dump().items() if v is not None}

    def is_readable(self) -> bool:
        """A read needs more than a tenant: a user, an agent or a session."""
        return any(v is not None for v in (self.user, self.agent, self.session))

    def key(self) -> str:
        """A stable string naming this exact scope (used for caches and revisions)."""
        parts = [self.tenant, self.user or "", self.agent or "", self.session or ""]
        return "\x1f".join(parts)

    def contains(self, other: Scope) -> bool:
        """True when every field set here equals the same field of `other`."""
        theirs = other.model_dump()
        return all(theirs.get(k) == v for k, v in self.fields().items())


class Provenance(BaseModel):
    """Where a memory came from: which messages, which session, which extractor, when."""

    model_config = ConfigDict(extra="forbid")

    source_message_ids: list[str] = Field(default_factory=list)
    session_id: str | None = None
    turn_timestamps: list[datetime] = Field(default_factory=list)
    speaker: str | None = None
    extractor: str = "manual"
    extractor_version: str = "1"
    origin: Origin = Origin.STATED
    actor: str | None = None  # who wrote it (a principal or the application); set on every write
    tool_call_id: str | None = None  # the tool call that saved it (agents' save-memory tools)

    @field_validator("turn_timestamps")
    @classmethod
    def _utc(cls, v: list[datetime]) -> list[datetime]:
        return [ensure_utc(t) for t in v]


class MemoryRecord(BaseModel):
    """One memory. `episode` records are raw turns; the other kinds are extracted from them.

    Time is bi-temporal: `created_at`/`updated_at` are when MeMo learned or changed it;
    `valid_from`/`valid_to` are when it was true in the world (None: unknown / still true).
    """

    # frozen: search indexes cache records and hand them out; derive a changed one with model_copy
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(default_factory=new_id)
    scope: Scope
    kind: Kind = Kind.FACT
    text: str
    status: Status = Status.ACTIVE
    created_at: datetime
    updated_at: datetime
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    expires_at: datetime | None = None
    importance: float = Field(default=0.5, ge=0.0, le=1.0)
    confidence: float = Field(default=1.0, ge=0.0, le=1.0)
    pinned: bool = False
    access_count: int = Field(default=0, ge=0)
    last_accessed_at: datetime | None = None
    provenance: Provenance = Field(default_factory=Provenance)
    # structured handle used by consolidation: "alice" / "lives_in" / "Berlin"
    subject: str | None = None
    attribute: str | None = None
    value: str | None = None
    supersedes: list[str] = Field(default_factory=list)
    superseded_by: str | None = None
    version: int = Field(default=1, ge=1)
    metadata: dict[str, MetaValue] = Field(default_factory=dict)

    @field_validator("created_at", "updated_at", "valid_from", "valid_to", "expires_at", "last_accessed_at")
    @classmethod
    def _utc(cls, v: datetime | None) -> datetime | None:
        return None if v is None else ensure_utc(v)

    @field_validator("metadata", mode="before")
    @classmethod
    def _readable_metadata(cls, v: Any) -> Any:
        """A value stored as null (a non-finite number written by an older version) is dropped
        on read, so one damaged row never makes a store unreadable."""
        if isinstance(v, dict):
            return {k: x for k, x in v.items() if x is not None}
        return v

    @field_validator("metadata")
    @classmethod
    def _finite_metadata(cls, v: dict[str, MetaValue]) -> dict[str, MetaValue]:
        for k, x in v.items():
            if isinstance(x, float) and not math.isfinite(x):
                raise ValueError(f"metadata[{k!r}] is not a finite number")
        return v

    @model_validator(mode="after")
    def _valid_interval(self) -> MemoryRecord:
        if self.valid_from and self.valid_to and self.valid_to < self.valid_from:
            raise ValueError("valid_to is before valid_from")
        return self

    @property
    def event_time(self) -> datetime:
        """When it happened or was said: the validity start, else the first turn, else creation."""
        if self.valid_from is not None:
            return self.valid_from
        if self.provenance.turn_timestamps:
            return self.provenance.turn_timestamps[0]
        return self.created_at

    def index_text(self) -> str:
        """The text that is embedded and indexed (the speaker helps both)."""
        if self.kind is Kind.EPISODE and self.provenance.speaker:
            return f"{self.provenance.speaker}: {self.text}"
        return self.text


class Hit(BaseModel):
    """A search result: the record, its score in [0, 1], and how the score was made."""

    model_config = ConfigDict(extra="forbid")

    record: MemoryRecord
    score: float = Field(ge=0.0, le=1.0)
    components: dict[str, float] = Field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def text(self) -> str:
        return self.record.text

    @property
    def provenance(self) -> Provenance:
        return self.record.provenance


HistoryOp = Literal[
    "add", "update", "merge", "supersede", "superseded", "delete", "expire", "review", "restore", "access"
]


class HistoryEntry(BaseModel):
    """One change of one record; `snapshot` is the record as it was after the change."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(default_factory=new_id)
    record_id: str
    scope: Scope
    version: int
    op: HistoryOp
    at: datetime
    actor: str = "system"
    reason: str = ""
    snapshot: MemoryRecord | None = None

    @field_validator("at")
    @classmethod
    def _utc(cls, v: datetime) -> datetime:
        return ensure_utc(v)


class Turn(BaseModel):
    """One conversation message as given to `add_messages`."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    role: Literal["user", "assistant", "system", "tool"] = "user"
    content: str
    id: str | None = None
    name: str | None = None
    timestamp: datetime | None = None
    # stored on the raw turn's metadata next to `role` (redacted, not embedded): adapters keep a
    # serialized framework message here for exact round-trips
    metadata: dict[str, MetaValue] | None = None

    @field_validator("metadata")
    @classmethod
    def _finite(cls, v: dict[str, MetaValue] | None) -> dict[str, MetaValue] | None:
        for k, x in (v or {}).items():
            if isinstance(x, float) and not math.isfinite(x):
                raise ValueError(f"metadata[{k!r}] is not a finite number")
        return v

    @field_validator("id", "name")
    @classmethod
    def _valid_id(cls, v: str | None, info: Any) -> str | None:
        return None if v is None else check_id(v, f"message.{info.field_name}")

    @field_validator("timestamp")
    @classmethod
    def _utc(cls, v: datetime | None) -> datetime | None:
        return None if v is None else ensure_utc(v)
