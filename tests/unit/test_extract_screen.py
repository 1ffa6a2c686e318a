"""Extracted statements that say nothing ("Melanie loves to") are never written, whoever the
extractor is; real statements ending on an ordinary word are kept."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import pytest

from shared_core import Kind, Memory, Scope
from shared_core.embed import HashingEmbedder
from shared_core.extract.base import Candidate, ExtractInput, says_something


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Melanie loves to", False),
        ("Caroline loves them", False),
        ("Alice likes it", False),
        ("User is allergic to", False),
        ("Bob plays the", False),
        ("pottery", False),
        ("Likes sushi", True),  # an LLM's terse statement
        ("Dana works in IT", True),  # only lower-case words are function words
        ("User's blood type is A", True),
        ("Caroline wants a dog to play with", True),  # a long one may end on a preposition
        ("Melanie has a friend she looks up to", True),
        ("ຜູ້ໃຊ້ແພ້ຖົ່ວ", True),  # Lao
        ("អ្នកប្រើប្រាស់មានអាឡែស៊ី", True),  # Khmer
        ("Melanie loves pottery", True),
        ("Caroline moved to Berlin in May 2023", True),
        ("Maria gave a few talks at the shelter she volunteers at", True),
        ("John made an apple pie for the kids too", True),
        ("Evan enjoys the taste of these", True),  # long enough to say what it is about
        ("User is allergic to peanuts.", True),
        ("用户对花生过敏", True),  # no spaces between words: never judged by counting them
        ("ユーザーは東京に住んでいる", True),
        ("ผู้ใช้แพ้ถั่ว", True),
        ("사용자는 땅콩 알레르기가 있다", True),
        ("Marie aime le chocolat", True),
    ],
)
def test_says_something(text: str, kept: bool) -> None:
    assert says_something(text) is kept


class Scripted:
    """An extractor (as an LLM might be) that cuts one statement short."""

    name, version = "scripted", "1"

    def extract(self, turns: Sequence[ExtractInput], *, now: datetime) -> list[Candidate]:
        ids = [t.message_id for t in turns if t.message_id]
        return [
            Candidate(kind=Kind.PREFERENCE, text="Alice loves to", attribute="likes", source_message_ids=ids),
            Candidate(
                kind=Kind.PREFERENCE, text="Alice loves pottery", attribute="likes", source_message_ids=ids
            ),
        ]


def test_a_fragment_from_any_extractor_is_dropped() -> None:
    mem = Memory.in_memory(embedder=HashingEmbedder(), extractor=Scripted())
    alice = Scope(tenant="t", user="alice")
    res = mem.add_messages(
        [{"role": "user", "content": "I love to do pottery", "id": "m1"}], scope=alice, wait=True
    )
    assert "Alice loves to" in res.dropped
    assert [r.text for r in mem.records(alice, kinds=["preference"])] == ["Alice loves pottery"]
    mem.close()
