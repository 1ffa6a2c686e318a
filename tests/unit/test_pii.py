"""PII / secret detection and the policy actions of shared_core.governance.pii."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared_core.errors import InvalidInput, MemoError, PolicyViolation
from shared_core.governance import pii
from shared_core.governance.pii import PIIMatch, apply, detect, hash_token, luhn_ok, mask, normalise
from shared_core.governance.policy import GovernancePolicy, PIIAction, PIIType

ROOT = Path(__file__).resolve().parents[2]

# secrets are assembled at run time so that this file does not itself look like a leak
OPENAI = "sk-" + "proj-" + "Zk3mQ9pLx7VbN2cR8tYw4HfJ1sD6gA0eK5uI"
ANTHROPIC = "sk-" + "ant-api03-" + "WY1jzIRlNQb0prFmbh7-wy5yq1XoY1BaIMcAxYmf"
AWS = "AKIA" + "IOSFODNN7EXAMPLE"
GITHUB = "ghp_" + "R2d2C3po4BB8k2so9Luke1Leia7Han5Solo0X"
GITHUB_PAT = "github_pat_" + "11F0DGGC6QPZQ05S7LEIO4_JP2NNern66nVberACpdclsxHKifxi5C"
SLACK = "xoxb-" + "211785025517-1607909669091-FAKEq4AUvy7VSLDCD1IfHWGb"
GOOGLE = "AIza" + "Esgo5nVjzz8Gwb8ewCISuYCl0Xq56zaWR7P"
STRIPE = "sk_" + "live_" + "FAKE1UJOkHG16JqtQy9235Nnt2j9"
STRIPE_RK = "rk_" + "live_" + "FAKEIHrKFmAIhGaMybIcH6zIZKhF"
RANDOM_TOKEN = "57mnXm4gi4piUfqygB18AIYTimzORZbgmKRw609x"


def _b64url(obj: object) -> str:
    raw = json.dumps(obj, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


JWT = (
    _b64url({"alg": "HS256", "typ": "JWT"})
    + "."
    + _b64url({"sub": "42", "iat": 1516239022})
    + ".c2lnbmF0dXJlX3ZhbHVl"
)
NOT_JWT = _b64url({"typ": "note"}) + "." + _b64url({"sub": "42", "iat": 1516239022}) + ".c2lnbmF0dXJlX3ZhbHVl"
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB\n"
    "aFDrBz9vFqU4yY2y5Dw5Y9QwH5cUd0pTxj1l8mVnQ2o7ZQ6ZyQk1xq5s8s0M6w==\n"
    "-----END RSA PRIVATE KEY-----"
)


def _found(text: str) -> list[tuple[str, str]]:
    return [(m.type.value, m.value) for m in detect(text)]


# ----------------------------------------------------------------------------- detection

POSITIVES = [
    ("mail jane.doe@example.com today", "email", "jane.doe@example.com"),
    ("J.Smith+news@mail.acme-corp.co.uk.", "email", "J.Smith+news@mail.acme-corp.co.uk"),
    ("call +44 20 7946 0958 now", "phone", "+44 20 7946 0958"),
    ("cell (415) 555-0132", "phone", "(415) 555-0132"),
    ("office 212-555-0187 ext 4", "phone", "212-555-0187"),
    ("toll free 1-800-555-0199", "phone", "1-800-555-0199"),
    ("her number is 07700 900123.", "phone", "07700 900123"),
    ("numéro 01 42 68 53 00", "phone", "01 42 68 53 00"),
    ("mobile +33 6 12 34 56 78", "phone", "+33 6 12 34 56 78"),
    ("call me at 6465550123", "phone", "6465550123"),
    ("contact +49 (0)30 901820", "phone", "+49 (0)30 901820"),
    ("card 4242 4242 4242 4242 exp", "card", "4242 4242 4242 4242"),
    ("card 5555-5555-5555-4444 exp", "card", "5555-5555-5555-4444"),
    ("amex 3782 822463 10005", "card", "3782 822463 10005"),
    ("visa 4111111111111111", "card", "4111111111111111"),
    ("IBAN DE89 3704 0044 0532 0130 00.", "iban", "DE89 3704 0044 0532 0130 00"),
    ("iban GB82WEST12345698765432", "iban", "GB82WEST12345698765432"),
    ("IBAN: FR14 2004 1010 0505 0001 3M02 606", "iban", "FR14 2004 1010 0505 0001 3M02 606"),
    ("SSN 123-45-6789", "ssn", "123-45-6789"),
    ("my SSN is 536 22 1234", "ssn", "536 22 1234"),
    ("host 192.168.1.10:22", "ip", "192.168.1.10"),
    ("v6 2001:db8:85a3::8a2e:370:7334 ok", "ip", "2001:db8:85a3::8a2e:370:7334"),
    ("loopback ::1 only", "ip", "::1"),
    (f"key {OPENAI} ok", "secret", OPENAI),
    (f"key {ANTHROPIC}", "secret", ANTHROPIC),
    (f"id={AWS}", "secret", AWS),
    (f"token {GITHUB}", "secret", GITHUB),
    (f"pat {GITHUB_PAT}", "secret", GITHUB_PAT),
    (f"slack {SLACK}", "secret", SLACK),
    (f"maps {GOOGLE} here", "secret", GOOGLE),
    (f"stripe {STRIPE}", "secret", STRIPE),
    (f"restricted {STRIPE_RK}", "secret", STRIPE_RK),
    (f"Authorization: Bearer {JWT}", "secret", JWT),
    (f"deploy key:\n{PEM}\nthanks", "secret", PEM),
    (f"session token {RANDOM_TOKEN} expires", "secret", RANDOM_TOKEN),
    ("my wifi password is Tr0ub4dor&3 ok", "secret", "Tr0ub4dor&3"),
    ("DB_PASSWORD=hunter2hunter2X", "secret", "hunter2hunter2X"),
    ("postgres://app:Zq8#vLm2@db.internal:5432/prod", "secret", "Zq8#vLm2"),
    (
        "SECRET_KEY = 'django-insecure-7x#k2@p!m9w$z3q&v8r*t1y^u6i'",
        "secret",
        "django-insecure-7x#k2@p!m9w$z3q&v8r*t1y^u6i",
    ),
    (f"Set-Cookie: session={RANDOM_TOKEN}; HttpOnly", "secret", RANDOM_TOKEN),
    (
        "GET /cb?access_token=NgVpqCzGdWmPyagqqr5vJIGA9HK2gOCZ&page=2",
        "secret",
        "NgVpqCzGdWmPyagqqr5vJIGA9HK2gOCZ",
    ),
]


@pytest.mark.parametrize(("text", "type_", "value"), POSITIVES)
def test_detects(text: str, type_: str, value: str) -> None:
    assert (type_, value) in _found(text)


NEGATIVES = [
    "The meeting is on 2024-03-15 at 14:30.",
    "Born 15.03.1987, invoice 03/15/2024.",
    "Order #100234567 and order number 4500123456.",
    "Zoom meeting ID: 845 2231 9087",
    "dial-in code 998 231 4470",
    "ISBN 978-0-306-40615-7 and 0-306-40615-2 and 9780306406157",
    "Tracking 9400 1000 0000 0000 0000 00 and 1Z999AA10123456784",
    "That card number 4242 4242 4242 4241 fails Luhn.",
    "The barcode is 5901234123457.",
    "That IBAN DE89 3704 0044 0532 0130 01 is wrong.",
    "000-12-3456, 666-12-3456, 912-34-5678, 123-00-4567, 123-45-0000",
    "Upgrade to version 1.2.3 or 10.0.1; Python 3.11.4",
    "release v2.4.1.0 and firmware 2.14.0.33 and section 4.2.1.3",
    "999.10.10.10 and 256.1.2.3 are not addresses",
    "MAC 00:1A:2B:3C:4D:5E, time 10:30:00, ratio 16:9, arr[1::2], std::vector",
    "Request 550e8400-e29b-41d4-a716-446655440000 failed.",
    "commit 9fceb02d0ae598e95dc970b74767f19372d61af8 and 9fceb02",
    "AbstractSingletonProxyFactoryBeanImpl and getUserAccountSettingsForTenant2024",
    "The password is weak; reset your password: click the link.",
    "icon logo@2x.png and npm i lodash@4.17.21",
    f"The JSON was {NOT_JWT} in the log",
    "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEVs/o5+uQbTjL3chynL4wXgUg2R9\n-----END PUBLIC KEY-----",
    "Total $1,299.99 plus €4.500,00; postcode SW1A 1AA; zip 90210",
    "The lottery numbers 05 12 23 34 41 49 didn't win",
    "Customer ID 0012345678 and timestamp 1700000000",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_hard_negatives(text: str) -> None:
    assert _found(text) == []


def test_matches_are_sorted_non_overlapping_and_exact() -> None:
    text = (
        "Sarah: sarah.lee@protonmail.com, +1 415 555 0172, NL91ABNA0417164300, "
        f"4242-4242-4242-4242, 203.0.113.9, {AWS}"
    )
    matches = detect(text)
    assert [m.type for m in matches] == [
        PIIType.EMAIL,
        PIIType.PHONE,
        PIIType.IBAN,
        PIIType.CARD,
        PIIType.IP,
        PIIType.SECRET,
    ]
    for a, b in zip(matches, matches[1:], strict=False):
        assert a.end <= b.start
    for m in matches:
        assert text[m.start : m.end] == m.value


def test_longest_match_wins() -> None:
    # the whole URL-embedded token is one secret, not an e-mail "token@github.com"
    text = f"git remote add origin https://{GITHUB}@github.com/acme/app.git"
    assert _found(text) == [("secret", GITHUB)]


def test_match_repr_hides_value() -> None:
    m = detect("write to jane.doe@example.com")[0]
    assert "jane.doe" not in repr(m)
    assert isinstance(m, PIIMatch)


def test_detect_rejects_non_text() -> None:
    with pytest.raises(InvalidInput):
        detect(b"bytes")  # type: ignore[arg-type]


def test_luhn() -> None:
    assert luhn_ok("4242424242424242")
    assert not luhn_ok("4242424242424241")


# ----------------------------------------------------------------------------- actions


def _policy(**actions: PIIAction) -> GovernancePolicy:
    pii_map = {t: PIIAction.REDACT for t in PIIType}
    pii_map.update({PIIType(k): v for k, v in actions.items()})
    return GovernancePolicy(pii=pii_map, hash_key="test-key")


def test_redact_placeholders() -> None:
    text = "mail a.b@example.com or call (415) 555-0132, card 4242 4242 4242 4242, SSN 123-45-6789"
    res = apply(text, _policy())
    assert res.text == "mail [EMAIL] or call [PHONE], card [CARD], SSN [SSN]"
    assert res.actions == (PIIAction.REDACT,) * 4
    assert res.changed
    assert res.summary() == {"email:redact": 1, "phone:redact": 1, "card:redact": 1, "ssn:redact": 1}


def test_mask_shapes() -> None:
    text = "john@example.com / 4242 4242 4242 4242 / +44 20 7946 0958 / 123-45-6789 / 10.0.0.12"
    res = apply(
        text,
        _policy(
            email=PIIAction.MASK,
            card=PIIAction.MASK,
            phone=PIIAction.MASK,
            ssn=PIIAction.MASK,
            ip=PIIAction.MASK,
        ),
    )
    assert res.text == "j***@e***.com / **** **** **** 4242 / *** *** **58 / ***-**-6789 / *.*.*.12"


def test_mask_iban_and_secret() -> None:
    assert mask(PIIType.IBAN, "DE89 3704 0044 0532 0130 00") == "DE** **** **** 3000"
    assert mask(PIIType.SECRET, AWS) == "****MPLE"
    assert mask(PIIType.SECRET, PEM) == "[SECRET]"


def test_hash_is_keyed_stable_and_normalised() -> None:
    policy = _policy(email=PIIAction.HASH, card=PIIAction.HASH, phone=PIIAction.HASH)
    a = apply("write to Jane.Doe@Example.com", policy).text
    b = apply("write to jane.doe@example.com", policy).text
    assert a == b
    assert a.startswith("write to [EMAIL:") and len(a) == len("write to [EMAIL:") + 11
    assert apply("4242 4242 4242 4242", policy).text == apply("4242-4242-4242-4242", policy).text
    assert apply("(415) 555-0132", policy).text == apply("415.555.0132", policy).text
    other = GovernancePolicy(pii=policy.pii, hash_key="another-key")
    assert apply("jane.doe@example.com", other).text != b.removeprefix("write to ")
    assert normalise(PIIType.EMAIL, "A@B.COM") == "a@b.com"
    token = hash_token(PIIType.EMAIL, "a@b.com", "k")
    assert token.startswith("[EMAIL:") and token.endswith("]") and len(token) == len("[EMAIL:]") + 10


def test_allow_keeps_text() -> None:
    text = "mail a.b@example.com"
    res = apply(text, _policy(email=PIIAction.ALLOW))
    assert res.text == text
    assert not res.changed
    assert res.actions == (PIIAction.ALLOW,)


def test_reject_names_type_not_value() -> None:
    text = "SSN 123-45-6789 and mail a.b@example.com"
    with pytest.raises(PolicyViolation) as info:
        apply(text, _policy(ssn=PIIAction.REJECT))
    msg = str(info.value)
    assert "ssn" in msg
    assert "123-45-6789" not in msg and "6789" not in msg
    assert isinstance(info.value, MemoError)


def test_type_missing_from_policy_is_redacted() -> None:
    policy = GovernancePolicy(pii={PIIType.EMAIL: PIIAction.ALLOW})
    assert apply("a.b@example.com 123-45-6789", policy).text == "a.b@example.com [SSN]"


def test_default_policy_redacts_everything() -> None:
    res = apply(f"key {AWS} from 10.1.2.3", GovernancePolicy())
    assert res.text == "key [SECRET] from [IP]"


def test_apply_is_idempotent_on_its_output() -> None:
    policy = _policy(email=PIIAction.HASH)
    once = apply("mail a.b@example.com, card 4242 4242 4242 4242", policy).text
    assert apply(once, policy).text == once


# ----------------------------------------------------------------------------- properties


def _luhn_complete(body: str) -> str:
    for d in "0123456789":
        if luhn_ok(body + d):
            return body + d
    raise AssertionError("unreachable")


@st.composite
def card_numbers(draw: st.DrawFn) -> str:
    prefix = draw(st.sampled_from(["4", "51", "52", "53", "54", "55", "6011"]))
    body = prefix + draw(st.text(alphabet="0123456789", min_size=15 - len(prefix), max_size=15 - len(prefix)))
    digits = _luhn_complete(body)
    sep = draw(st.sampled_from(["", " ", "-"]))
    return sep.join(digits[i : i + 4] for i in range(0, 16, 4))


_WORDS = st.sampled_from(
    ["pay", "with", "my", "card", "please", "thanks", "the", "is", "ok", "—", "(", ")", ":"]
)


@given(card=card_numbers(), before=st.lists(_WORDS, max_size=4), after=st.lists(_WORDS, max_size=4))
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
def test_luhn_valid_cards_are_detected(card: str, before: list[str], after: list[str]) -> None:
    text = " ".join([*before, card, *after])
    assert ("card", card) in _found(text)


@given(body=st.text(alphabet="0123456789", min_size=15, max_size=15))
def test_luhn_invalid_cards_are_not_cards(body: str) -> None:
    good = _luhn_complete("4" + body)
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    assert all(m.type is not PIIType.CARD for m in detect(f"card {bad} exp"))


@st.composite
def ibans(draw: st.DrawFn) -> str:
    bban = draw(st.text(alphabet="0123456789", min_size=18, max_size=18))
    n = int("".join(str(int(c, 36)) for c in bban + "DE00"))
    compact = f"DE{98 - n % 97:02d}{bban}"
    if draw(st.booleans()):
        return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
    return compact


@st.composite
def pii_values(draw: st.DrawFn) -> tuple[str, str]:
    kind = draw(st.sampled_from(["email", "card", "iban", "ssn", "ipv4"]))
    if kind == "email":
        local = draw(st.from_regex(r"[a-z][a-z0-9]{1,10}(?:\.[a-z0-9]{1,8})?", fullmatch=True))
        domain = draw(st.from_regex(r"[a-z][a-z0-9]{1,10}", fullmatch=True))
        tld = draw(st.sampled_from(["com", "org", "de", "io", "co.uk"]))
        return "email", f"{local}@{domain}.{tld}"
    if kind == "card":
        return "card", draw(card_numbers())
    if kind == "iban":
        return "iban", draw(ibans())
    if kind == "ssn":
        area = draw(st.integers(1, 899).filter(lambda a: a != 666))
        group = draw(st.integers(1, 99))
        serial = draw(st.integers(1, 9999))
        return "ssn", f"{area:03d}-{group:02d}-{serial:04d}"
    octets = draw(st.lists(st.integers(0, 255), min_size=4, max_size=4))
    return "ip", ".".join(str(o) for o in octets)


@given(
    item=pii_values(),
    before=st.lists(_WORDS, max_size=3),
    after=st.lists(_WORDS, max_size=3),
    action=st.sampled_from([PIIAction.REDACT, PIIAction.HASH, PIIAction.MASK]),
)
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_output_never_contains_the_value(
    item: tuple[str, str], before: list[str], after: list[str], action: PIIAction
) -> None:
    type_, value = item
    text = " ".join([*before, value, *after])
    assert (type_, value) in _found(text)
    out = apply(text, GovernancePolicy(pii={t: action for t in PIIType}, hash_key="k")).text
    assert value not in out


@given(st.text(max_size=300))
@settings(max_examples=300)
def test_detect_is_total_and_consistent(text: str) -> None:
    matches = detect(text)
    for a, b in zip(matches, matches[1:], strict=False):
        assert a.end <= b.start
    for m in matches:
        assert text[m.start : m.end] == m.value
    out = apply(text, GovernancePolicy()).text
    assert isinstance(out, str)


def test_adversarial_input_is_fast() -> None:
    nasty = [
        "a." * 8000 + "@",
        "1-::" * 4000,
        "+1 " * 5000,
        "0" * 16000,
        "1 " * 8000,
        "a@" * 8000,
        "eyJ" + "a" * 16000,
        "password: " * 1600,
        "https://" + "a:" * 8000,
        "-----BEGIN PRIVATE KEY-----\n" + "QUJD\n" * 3000,
    ]
    for text in nasty:
        t0 = time.perf_counter()
        detect(text)
        assert time.perf_counter() - t0 < 1.5, text[:20]


# ----------------------------------------------------------------------------- benchmark corpus


def test_corpus_meets_targets() -> None:
    from memo_bench.pii_eval import evaluate

    result = evaluate(ROOT / "benchmarks" / "pii_corpus.jsonl")
    assert result["lines"] >= 150
    assert result["overall"]["precision"] >= 0.95
    assert result["overall"]["recall"] >= 0.95


def test_eval_main_writes_reports(tmp_path: Path) -> None:
    from memo_bench import pii_eval

    corpus = tmp_path / "c.jsonl"
    corpus.write_text(
        json.dumps({"text": "mail a@b.com", "spans": [{"type": "email", "value": "a@b.com"}]})
        + "\n"
        + json.dumps({"text": "nothing 1.2.3", "spans": []})
        + "\n",
        encoding="utf-8",
    )
    assert pii_eval.main(["--corpus", str(corpus), "--out-dir", str(tmp_path / "out")]) == 0
    data = json.loads((tmp_path / "out" / "pii.json").read_text(encoding="utf-8"))
    assert data["overall"]["tp"] == 1 and data["overall"]["fp"] == 0
    md = (tmp_path / "out" / "pii.md").read_text(encoding="utf-8")
    assert "| email |" in md and "Platform:" in md and "python -m memo_bench.pii_eval" in md


def test_module_has_no_state() -> None:
    # detection is pure: the same input gives the same output, twice
    text = f"a@b.com {AWS} 4242 4242 4242 4242"
    assert detect(text) == detect(text)
    assert pii.__all__


def test_no_public_default_hash_key() -> None:
    from shared_core.errors import ConfigError

    assert GovernancePolicy().hash_key is None
    keyless = GovernancePolicy(pii={**GovernancePolicy().pii, PIIType.EMAIL: PIIAction.HASH})
    with pytest.raises(ConfigError, match="hash_key"):
        apply("write to ann@example.com", keyless)
    assert apply("no personal data here", keyless).text == "no personal data here"
    keyed = keyless.model_copy(update={"hash_key": "k"})
    assert apply("write to ann@example.com", keyed).text.startswith("write to [EMAIL:")
