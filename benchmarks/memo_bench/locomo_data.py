"""LoCoMo data: the conversation types, LoCoMo's JSON format read into them, evidence ids, stamps.

The data is read at run time from a file in LoCoMo's own JSON format (a list of conversations,
as in `locomo10.json`); nothing of it is stored in the repository (the data is CC BY-NC 4.0).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

CATEGORIES: dict[int, str] = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
ADVERSARIAL = 5

_EVIDENCE_ID = re.compile(r"D:?(\d+):(\d+)")
_SESSION_KEY = re.compile(r"^session_(\d+)$")
_LOCOMO_DT = re.compile(
    r"^\s*(\d{1,2}):(\d{2})\s*([ap])\.?\s*m\.?\s+on\s+(\d{1,2})\s+([A-Za-z]+),?\s+(\d{4})\s*$", re.IGNORECASE
)
_LOCOMO_DAY = re.compile(r"^\s*(\d{1,2})\s+([A-Za-z]+),?\s+(\d{4})\s*$")
_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class LocomoTurn:
    dia_id: str
    speaker: str
    text: str
    session: int
    timestamp: datetime | None
    caption: str | None = None

    @property
    def content(self) -> str:
        """The message content: the text, plus the image caption for an image turn."""
        return turn_content(self.text, self.caption)

    @property
    def line(self) -> str:
        """`Speaker: text [image: caption]`: how raw-turn peers index and show a turn."""
        return f"{self.speaker}: {self.content}"


@dataclass(frozen=True)
class LocomoSession:
    number: int
    date_time: str | None
    timestamp: datetime | None
    turns: tuple[LocomoTurn, ...]


@dataclass(frozen=True)
class LocomoQuestion:
    index: int  # position in the conversation's `qa` list
    question: str
    category: int
    evidence: tuple[str, ...]  # normalised, resolvable ids
    raw_evidence: Any = None
    answer: Any = None

    @property
    def usable(self) -> bool:
        return self.category in CATEGORIES and bool(self.evidence)


@dataclass(frozen=True)
class LocomoConversation:
    sample_id: str
    speaker_a: str
    speaker_b: str
    sessions: tuple[LocomoSession, ...]
    questions: tuple[LocomoQuestion, ...]

    @property
    def turns(self) -> list[LocomoTurn]:
        return [t for s in self.sessions for t in s.turns]

    @property
    def usable_questions(self) -> list[LocomoQuestion]:
        return [q for q in self.questions if q.usable]

    def full_text(self) -> str:
        """The whole conversation as one context, one turn per line."""
        return "\n".join(t.line for t in self.turns)


def turn_content(text: str, caption: str | None) -> str:
    text = text or ""
    if caption:
        return f"{text} [image: {caption}]" if text else f"[image: {caption}]"
    return text


def parse_locomo_datetime(value: str) -> datetime | None:
    """LoCoMo's session stamp `"1:56 pm on 8 May, 2023"` (or a bare `"8 May, 2023"`) as an aware
    UTC datetime; None when `value` is not such a stamp."""
    if not isinstance(value, str):
        return None
    m = _LOCOMO_DT.match(value)
    if m:
        hour, minute, ampm, day, month_name, year = m.groups()
        h = int(hour)
        if not 1 <= h <= 12 or int(minute) > 59:
            return None
        h = h % 12 + (12 if ampm.lower() == "p" else 0)
    else:
        m = _LOCOMO_DAY.match(value)
        if not m:
            return None
        day, month_name, year = m.groups()
        h, minute = 0, "0"
    month = _MONTHS.get(month_name[:3].lower())
    if month is None:
        return None
    try:
        return datetime(int(year), month, int(day), h, int(minute), tzinfo=timezone.utc)
    except ValueError:
        return None


def normalise_evidence(raw: Any, valid_ids: Iterable[str] | None = None) -> list[str]:
    """The README's rule: list or nothing; drop parentheses; every `D:?n:m` match is an id written
    `D<int>:<int>`; first occurrence wins; keep only ids of turns that exist (when `valid_ids` given)."""
    if not isinstance(raw, list):
        return []
    valid = None if valid_ids is None else set(valid_ids)
    out: list[str] = []
    seen: set[str] = set()
    for item in raw:
        if not isinstance(item, str):
            continue
        cleaned = item.replace("(", "").replace(")", "")
        for sess, turn in _EVIDENCE_ID.findall(cleaned):
            dia = f"D{int(sess)}:{int(turn)}"
            if dia in seen or (valid is not None and dia not in valid):
                continue
            seen.add(dia)
            out.append(dia)
    return out


def parse_conversation(obj: Mapping[str, Any]) -> LocomoConversation:
    conv = obj.get("conversation") or {}
    numbers = sorted(
        int(m.group(1)) for k in conv if (m := _SESSION_KEY.match(k)) and isinstance(conv[k], list)
    )
    sessions: list[LocomoSession] = []
    for n in numbers:
        date_time = conv.get(f"session_{n}_date_time")
        ts = parse_locomo_datetime(date_time) if isinstance(date_time, str) else None
        turns = tuple(
            LocomoTurn(
                dia_id=str(t["dia_id"]),
                speaker=str(t.get("speaker") or "unknown"),
                text=str(t.get("text") or ""),
                session=n,
                timestamp=ts,
                caption=(str(t["blip_caption"]) if t.get("blip_caption") else None),
            )
            for t in conv[f"session_{n}"]
            if isinstance(t, Mapping) and t.get("dia_id")
        )
        sessions.append(LocomoSession(n, date_time if isinstance(date_time, str) else None, ts, turns))
    ids = {t.dia_id for s in sessions for t in s.turns}
    questions = tuple(
        LocomoQuestion(
            index=i,
            question=str(qa.get("question") or ""),
            category=int(qa.get("category") or 0),
            evidence=tuple(normalise_evidence(qa.get("evidence"), ids)),
            raw_evidence=qa.get("evidence"),
            answer=qa.get("answer", qa.get("adversarial_answer")),
        )
        for i, qa in enumerate(obj.get("qa") or [])
        if isinstance(qa, Mapping)
    )
    return LocomoConversation(
        sample_id=str(obj.get("sample_id") or "conv"),
        speaker_a=str(conv.get("speaker_a") or ""),
        speaker_b=str(conv.get("speaker_b") or ""),
        sessions=tuple(sessions),
        questions=questions,
    )


def load_locomo(path: str | Path) -> list[LocomoConversation]:
    with Path(path).open(encoding="utf-8") as f:
        data = json.load(f)
    if isinstance(data, Mapping):  # a single conversation object is accepted too
        data = [data]
    if not isinstance(data, list):
        raise ValueError(f"{path}: expected a JSON list of LoCoMo conversations")
    return [parse_conversation(obj) for obj in data if isinstance(obj, Mapping)]
