"""The sensitive-topic classifier of shared_core.governance.topics."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared_core.governance.topics import TOPICS, classify, explain, is_sensitive

POSITIVES = [
    # health
    ("I was diagnosed with type 2 diabetes last year", "health"),
    ("My therapist says my anxiety is getting better", "health"),
    ("I've been depressed for months", "health"),
    ("She's on antidepressants since the miscarriage", "health"),
    ("I'm allergic to penicillin", "health"),
    ("My dad had a stroke in March", "health"),
    ("I'm pregnant with our second child", "health"),
    ("I have an appointment with my GP on Friday", "health"),
    ("He's in rehab for alcoholism", "health"),
    ("she went into labour at 3am", "health"),
    ("I’m autistic and I prefer written instructions", "health"),
    # religion
    ("I'm Muslim so I don't eat pork", "religion"),
    ("We go to church every Sunday", "religion"),
    ("I fast during Ramadan", "religion"),
    ("I'm an atheist", "religion"),
    ("My son's bar mitzvah is in June", "religion"),
    ("I gave up sweets for Lent", "religion"),
    ("I pray before every exam", "religion"),
    ("I'm a devout Christian", "religion"),
    # politics
    ("I voted for the Republicans in the midterms", "politics"),
    ("I'm a member of the Labour Party", "politics"),
    ("I always vote Labour", "politics"),
    ("I think Brexit was a mistake", "politics"),
    ("My uncle is very right-wing", "politics"),
    ("I campaigned for Obama in 2008", "politics"),
    ("I'm pro-choice", "politics"),
    ("I'm a progressive", "politics"),
    # sexuality
    ("I'm gay and my partner is called Tom", "sexuality"),
    ("She came out as bisexual last year", "sexuality"),
    ("My sister is a trans woman", "sexuality"),
    ("I'm bi", "sexuality"),
    ("I identify as non-binary", "sexuality"),
    ("we met on Grindr", "sexuality"),
    # finances
    ("My salary is 85k", "finances"),
    ("I'm drowning in credit card debt", "finances"),
    ("We just got a mortgage approved", "finances"),
    ("I can't afford the rent this month", "finances"),
    ("I earn $4,000 a month", "finances"),
    ("I got laid off in January", "finances"),
    ("I put my savings into bitcoin", "finances"),
    ("Here's my bank account for the refund", "finances"),
    ("I maxed out my 401(k)", "finances"),
]


@pytest.mark.parametrize(("text", "topic"), POSITIVES)
def test_detects_topic(text: str, topic: str) -> None:
    assert topic in classify(text), explain(text)


NEGATIVES = [
    "We're throwing a party on Saturday",  # "party" alone is not politics
    "Is Monday a bank holiday?",  # not finances
    "We had a picnic on the river bank",
    "I booked a budget airline to Rome",
    "I'm so depressed about the game last night",  # a mood about an event: decided NOT health
    "That result was depressing",
    "A bit of retail therapy at the mall",
    "The Great Depression started in 1929",
    "A tropical depression is forming",
    "Oh my god, that's hilarious",
    "Thank god it's Friday",
    "I disabled the feature flag",
    "Christian said the build is green",
    "I converted the file to PDF",
    "We have a lot of technical debt",
    "Labour costs went up this quarter",
    "He played his trump card",
    "Lent him my car for the weekend",
    "Let's work out the kinks in the process",
    "That saves time: time savings of 20%",
    "The office politics here are exhausting",
    "We hit the bonus round in the game",
    "I live on Church Street",
    "I prefer dark roast coffee and my cat is called Miso",
    "The marketing campaign for the product launch",
    "Avoid trans fats in your diet",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_everyday_text_is_not_sensitive(text: str) -> None:
    assert classify(text) == frozenset(), explain(text)
    assert not is_sensitive(text)


def test_several_topics_at_once() -> None:
    text = "After my cancer diagnosis I lost my job and now I pray a lot"
    assert classify(text) == frozenset({"health", "finances", "religion"})


def test_explain_lists_phrases() -> None:
    got = explain("I voted Labour and my salary went up")
    assert set(got) == {"politics", "finances"}
    assert "Labour" in got["politics"]
    assert "salary" in got["finances"]


def test_abortion_counts_for_health_and_politics() -> None:
    assert classify("abortion rights are on the ballot") >= {"politics"}
    assert "health" in classify("I had an abortion in 2019")


def test_empty_and_case() -> None:
    assert classify("") == frozenset()
    assert classify("I HAVE DIABETES") == frozenset({"health"})


def test_topics_constant() -> None:
    assert set(TOPICS) == {"health", "religion", "politics", "sexuality", "finances"}


@given(st.text(max_size=400))
@settings(max_examples=200)
def test_total_and_within_vocabulary(text: str) -> None:
    assert classify(text) <= set(TOPICS)
