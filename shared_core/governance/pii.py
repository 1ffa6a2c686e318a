"""Detect and neutralise personal data and secrets in text (pure: no I/O, no state).

`detect(text)` finds e-mail addresses, phone numbers, payment cards, IBANs, US SSNs, IP
addresses and secrets, and returns non-overlapping `PIIMatch`es (the longest candidate wins
an overlap; equal lengths go to the more specific detector). `apply(text, policy)` rewrites
the text according to the `GovernancePolicy`: redact, mask, hash, allow, or reject.

Decisions worth knowing (each is covered by a test and by `benchmarks/pii_corpus.jsonl`):

* Phones: `+` international numbers (8-15 digits), `00` international numbers, national
  numbers with a trunk `0` (10-12 digits), and North-American `(415) 555-0132` /
  `415-555-0132` shapes. A run of digits with no separators counts only when a phone word
  (call, phone, mobile, tel, ...) comes shortly before it. Dates inside a candidate reject it.
* Cards: 13-19 digits, unseparated or in the usual groups (4-4-4-4[-1..3], 4-6-5, 4-6-4),
  Luhn-valid, AND a known network prefix/length (Visa, Mastercard, Amex, Discover, Diners,
  JCB, UnionPay, Maestro, Mir). That rejects EAN barcodes and ISBNs that happen to be
  Luhn-valid.
* IBANs: upper-case, with or without spaces, the registry length for the country, mod-97.
* SSNs: `AAA-GG-SSSS` (area 000, 666 and 9xx, group 00 and serial 0000 are never issued);
  the space-separated or bare forms only after "SSN" / "social security".
* IPs: IPv4 with four valid octets not glued to more dotted numbers and not right after
  "version", "build", "section" and similar words; IPv6 as validated by `ipaddress`, needing a
  hex group of 3+ characters or 3+ groups so `arr[1::2]` is not an address.
* Secrets: provider keys (OpenAI, Anthropic, AWS, GitHub, Slack, Google, Stripe), JWTs whose
  header decodes to JSON with "alg", PEM *private* key blocks (public keys and certificates are
  not secrets), values assigned to password/secret/token/api-key names, and long random
  tokens (>= 32 characters, high Shannon entropy, short character-class runs, mixing letters
  and digits). Hex strings (git SHAs of 7 or 40 characters, sha256 digests, ETags) and UUIDs
  are deliberately NOT secrets: they are identifiers, and treating them as secrets would
  redact every commit hash a user mentions. Hex API keys are therefore only caught by a
  provider prefix or a `key=`/`token:` assignment.
"""

from __future__ import annotations

import bisect
import hashlib
import hmac
import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from ..errors import ConfigError, InvalidInput, PolicyViolation
from . import pii_secrets as secrets
from .pii_finance import CARD_SHAPES as _CARD_SHAPES
from .pii_finance import IBAN_LENGTHS as _IBAN_LENGTHS
from .pii_finance import card_network as _card_network
from .pii_finance import iban_ok, luhn_ok
from .pii_secrets import ENTROPY_MIN_BITS, TOKEN_MIN_CHARS, looks_random, shannon_entropy
from .policy import GovernancePolicy, PIIAction, PIIType

__all__ = [
    "PIIMatch",
    "RedactionResult",
    "detect",
    "apply",
    "placeholder",
    "mask",
    "hash_token",
    "normalise",
    "luhn_ok",
    "iban_ok",
    "looks_random",
    "shannon_entropy",
    "ENTROPY_MIN_BITS",
    "TOKEN_MIN_CHARS",
]


class PIIMatch(BaseModel):
    """One finding: `text[start:end] == value`. `value` is kept out of `repr` (it is the PII)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: PIIType
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    value: str = Field(repr=False)
    rule: str = Field(default="", description="Which detector found it (for debugging and metrics).")


class RedactionResult(BaseModel):
    """The rewritten text, what was found, and the action taken for each match (same order).

    `matches` hold the ORIGINAL values: use them in memory only; persist `summary()` instead.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    matches: tuple[PIIMatch, ...] = ()
    actions: tuple[PIIAction, ...] = ()

    @property
    def changed(self) -> bool:
        return any(a is not PIIAction.ALLOW for a in self.actions)

    def summary(self) -> dict[str, int]:
        """Counts such as {"email:redact": 2}: safe to log or put in an audit payload."""
        out: dict[str, int] = {}
        for m, a in zip(self.matches, self.actions, strict=True):
            key = f"{m.type.value}:{a.value}"
            out[key] = out.get(key, 0) + 1
        return out


# --------------------------------------------------------------------------- candidates


@dataclass(frozen=True)
class _Cand:
    start: int
    end: int
    type: PIIType
    rule: str
    priority: int  # lower wins a tie on length


# equal-length ties: the more specific detector wins
_PRIORITY = {
    PIIType.SECRET: 0,
    PIIType.CARD: 1,
    PIIType.IBAN: 2,
    PIIType.SSN: 3,
    PIIType.EMAIL: 4,
    PIIType.IP: 5,
    PIIType.PHONE: 6,
}


def _cand(start: int, end: int, type_: PIIType, rule: str, bump: int = 0) -> _Cand:
    return _Cand(start, end, type_, rule, _PRIORITY[type_] * 10 + bump)


def _context_before(text: str, start: int, pattern: re.Pattern[str], window: int = 32) -> bool:
    return pattern.search(text[max(0, start - window) : start]) is not None


# --------------------------------------------------------------------------- e-mail

_EMAIL = re.compile(
    r"(?<![\w.+%-])"
    r"[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*"
    r"@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,24}"
    r"(?![\w-]|\.[A-Za-z0-9])"
)
# "logo@2x.png": retina image names look like addresses
_RETINA = re.compile(r"@\d+(?:\.\d+)?x\.(?:png|jpe?g|gif|webp|svg|avif)$", re.IGNORECASE)


_URL_USERINFO = re.compile(r"://[^\s/@]*$")


def _emails(text: str) -> Iterator[_Cand]:
    for m in _EMAIL.finditer(text):
        if _RETINA.search(m.group()):
            continue
        if _URL_USERINFO.search(text[max(0, m.start() - 256) : m.start()]):
            continue  # "https://user:token@host": credentials in a URL, not an address
        yield _cand(m.start(), m.end(), PIIType.EMAIL, "email")


# --------------------------------------------------------------------------- phone

_PHONE_WORDS = re.compile(
    r"(?i)\b(?:call|calling|phone|tel|telephone|mobile|cell|ring|text|whatsapp|sms|fax|landline|dial)\b"
)
_INTL = re.compile(r"(?<![\w+])\+[1-9][\d() .-]{5,26}\d")
_NATIONAL = re.compile(r"(?<![\w+./-])(?<!\d[ .-])\(?0[\d() .-]{7,26}\d")
_NANP = re.compile(
    r"(?<![\w+./-])(?<!\d[ .-])(?:1[ .-]?)?(?:\((?!\d11)[2-9][0-8]\d\)[ .-]?|(?!\d11)[2-9][0-8]\d[ .-])[2-9]\d\d[ .-]\d{4}(?![\w]|[.-]\d)"
)
_BARE_DIGITS = re.compile(r"(?<![\w+./-])(?<!\d[ .-])\d{10,11}(?![\w]|[.-]\d)")
_GOOD_SEP = re.compile(r"^\)?[ .-]?\(?$")
_DATE = re.compile(
    r"(?<!\d)(?:"
    r"(?:19|20)\d\d[./-](?:0?[1-9]|1[0-2])[./-](?:0?[1-9]|[12]\d|3[01])"
    r"|(?:0?[1-9]|[12]\d|3[01])[./-](?:0?[1-9]|1[0-2])[./-](?:19|20)\d\d"
    r"|(?:0?[1-9]|1[0-2])[./-](?:0?[1-9]|[12]\d|3[01])[./-](?:19|20)\d\d"
    r")(?!\d)"
)


def _phone_shape(cand: str) -> str | None:
    """Trim a loose phone candidate to a plausible number, or None.

    Cuts at the first odd separator run (" - ", ".."), drops trailing one-digit groups
    ("... 0132 2"), and requires balanced parentheses.
    """
    parts = re.split(r"(\d+)", cand)  # ['', '+'?... separators and digit runs alternate]
    out = parts[0]
    i = 1
    while i < len(parts):
        digits = parts[i]
        sep = parts[i + 1] if i + 1 < len(parts) else ""
        out += digits
        if not sep or i + 2 >= len(parts):
            break
        if not _GOOD_SEP.match(sep):
            break
        out += sep
        i += 2
    out = out.rstrip(" .-(")
    # drop trailing one-digit groups
    while True:
        m = re.search(r"[ .-](\d)$", out)
        if not m:
            break
        out = out[: m.start()].rstrip(" .-(")
    if out.count("(") != out.count(")"):
        return None  # "(ping +1 415 ...": a parenthesis that is prose, not part of the number
    if not out or not out[-1].isdigit():
        return None
    return out


def _digits(s: str) -> str:
    return "".join(ch for ch in s if ch.isdigit())


def _phones(text: str) -> Iterator[_Cand]:
    for m in _INTL.finditer(text):
        shaped = _phone_shape(m.group())
        if shaped is None or _DATE.search(shaped):
            continue
        n = len(_digits(shaped))
        if 8 <= n <= 15:
            yield _cand(m.start(), m.start() + len(shaped), PIIType.PHONE, "phone_intl")
    for m in _NATIONAL.finditer(text):
        shaped = _phone_shape(m.group())
        if shaped is None or _DATE.search(shaped):
            continue
        digits = _digits(shaped)
        separated = any(not ch.isdigit() for ch in shaped.lstrip("("))
        first_group = re.match(r"\(?(\d+)", shaped)
        if first_group is None or len(first_group.group(1)) < 2:
            continue  # "0-306-40615-2" (an ISBN), "0 12 ..."
        if digits.startswith("00"):
            if digits[2] == "0" or not 8 <= len(digits) - 2 <= 15:
                continue  # "0000 0000 ...": no country code starts with 0
        elif digits[1] == "0" or not 10 <= len(digits) <= 12:
            continue
        if not separated and not _context_before(text, m.start(), _PHONE_WORDS):
            continue
        groups = re.findall(r"\d+", shaped)
        if len(groups) > 2 and all(len(g) == 2 for g in groups) and len(digits) != 10:
            continue  # pairs of digits are French-style numbers (10 digits), else a list: "05 12 23 34 41 49"
        yield _cand(m.start(), m.start() + len(shaped), PIIType.PHONE, "phone_national")
    for m in _NANP.finditer(text):
        if _DATE.search(m.group()):
            continue
        yield _cand(m.start(), m.end(), PIIType.PHONE, "phone_nanp")
    for m in _BARE_DIGITS.finditer(text):
        if _context_before(text, m.start(), _PHONE_WORDS):
            yield _cand(m.start(), m.end(), PIIType.PHONE, "phone_bare", bump=1)


# --------------------------------------------------------------------------- payment card

_CARD = re.compile(r"(?<![\w.+-])(?<!\d[ -])[2-6][\d -]{11,28}\d")


def _cards(text: str) -> Iterator[_Cand]:
    for m in _CARD.finditer(text):
        raw = m.group()
        # cut at the first separator run that is not a single space or dash
        cut = re.search(r"[ -]{2,}", raw)
        if cut:
            raw = raw[: cut.start()]
        seps = set(re.findall(r"[ -]", raw))
        if len(seps) > 1:
            continue
        groups = tuple(len(g) for g in re.split(r"[ -]", raw))
        if len(groups) > 1 and groups not in _CARD_SHAPES:
            continue
        d = _digits(raw)
        if not 13 <= len(d) <= 19 or not luhn_ok(d) or _card_network(d) is None:
            continue
        end = m.start() + len(raw)
        if end < len(text) and (text[end].isalnum() or text[end] == "_"):
            continue
        yield _cand(m.start(), end, PIIType.CARD, "card")


# --------------------------------------------------------------------------- IBAN

_IBAN = re.compile(r"(?<![A-Za-z0-9])([A-Z]{2})(\d{2})((?: ?[A-Z0-9]){11,30})")


def _ibans(text: str) -> Iterator[_Cand]:
    for m in _IBAN.finditer(text):
        length = _IBAN_LENGTHS.get(m.group(1))
        if length is None:
            continue
        need = length - 4
        body = m.group(3)
        count = 0
        end_in_body = -1
        for idx, ch in enumerate(body):
            if ch != " ":
                count += 1
                if count == need:
                    end_in_body = idx + 1
                    break
        if end_in_body < 0:
            continue
        end = m.start(3) + end_in_body
        if end < len(text) and (text[end].isalnum() or text[end] == "_"):
            continue
        compact = text[m.start() : end].replace(" ", "")
        if iban_ok(compact):
            yield _cand(m.start(), end, PIIType.IBAN, "iban")


# --------------------------------------------------------------------------- SSN

_SSN = re.compile(r"(?<![\w-])(?!000|666|9\d\d)\d{3}([- ]?)(?!00)\d{2}\1(?!0000)\d{4}(?![\w]|-\w)")
_SSN_WORDS = re.compile(r"(?i)\b(?:ssn|ss#|social security|soc\.? sec\.?)")


def _ssns(text: str) -> Iterator[_Cand]:
    for m in _SSN.finditer(text):
        if m.group(1) != "-" and not _context_before(text, m.start(), _SSN_WORDS, window=40):
            continue
        yield _cand(m.start(), m.end(), PIIType.SSN, "ssn")


# --------------------------------------------------------------------------- IP addresses

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_IPV4 = re.compile(rf"(?<![\w.]){_OCTET}(?:\.{_OCTET}){{3}}(?![\w]|\.\d)")
_NOT_IP_WORDS = re.compile(
    r"(?i)\b(?:version|ver|v|build|release|rel|firmware|fw|bios|driver|kernel|patch|sdk|update|upgrade|"
    r"upgraded to|updated to|section|sec|chapter|ch|clause|paragraph|para|figure|fig|"
    r"table|step|rule|item|article|art|§)\.?\s*$"
)
_IPV6 = re.compile(
    r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|\d{1,3}(?:\.\d{1,3}){3})?(?![\w:]|\.\w)"
)


def _ips(text: str) -> Iterator[_Cand]:
    for m in _IPV4.finditer(text):
        if _NOT_IP_WORDS.search(text[max(0, m.start() - 16) : m.start()]):
            continue
        yield _cand(m.start(), m.end(), PIIType.IP, "ipv4")
    for m in _IPV6.finditer(text):
        value = m.group()
        try:
            ipaddress.IPv6Address(value)
        except ValueError:
            continue
        groups = [g for g in re.split(r"[:.]", value) if g]
        if value != "::1" and len(groups) < 3 and not any(len(g) >= 3 for g in groups):
            continue  # "1::2" in a slice, "a::b"
        if not any(ch.isdigit() for ch in value):
            continue  # "dead::beef"-style words
        yield _cand(m.start(), m.end(), PIIType.IP, "ipv6")


# --------------------------------------------------------------------------- secrets


def _secrets(text: str) -> Iterator[_Cand]:
    for f in secrets.find(text):
        yield _cand(f.start, f.end, PIIType.SECRET, f.rule, bump=f.bump)


# --------------------------------------------------------------------------- detect

_DETECTORS = (_secrets, _cards, _ibans, _ssns, _emails, _ips, _phones)


def detect(text: str) -> list[PIIMatch]:
    """Every PII finding in `text`, sorted by position, non-overlapping (longest wins)."""
    if not isinstance(text, str):
        raise InvalidInput(f"text must be a string, got {type(text).__name__}")
    cands = [c for detector in _DETECTORS for c in detector(text) if c.end > c.start]
    cands.sort(key=lambda c: (-(c.end - c.start), c.priority, c.start))
    starts: list[int] = []  # kept sorted; `taken` is parallel and never overlaps itself
    taken: list[_Cand] = []
    for c in cands:
        i = bisect.bisect_left(starts, c.start)
        if i > 0 and taken[i - 1].end > c.start:
            continue
        if i < len(taken) and taken[i].start < c.end:
            continue
        starts.insert(i, c.start)
        taken.insert(i, c)
    return [
        PIIMatch(type=c.type, start=c.start, end=c.end, value=text[c.start : c.end], rule=c.rule)
        for c in taken
    ]


# --------------------------------------------------------------------------- actions

_LABELS = {
    PIIType.EMAIL: "EMAIL",
    PIIType.PHONE: "PHONE",
    PIIType.CARD: "CARD",
    PIIType.IBAN: "IBAN",
    PIIType.SSN: "SSN",
    PIIType.IP: "IP",
    PIIType.SECRET: "SECRET",
}


def placeholder(type_: PIIType) -> str:
    """The REDACT replacement: `[EMAIL]`, `[PHONE]`, ..."""
    return f"[{_LABELS[type_]}]"


def normalise(type_: PIIType, value: str) -> str:
    """The canonical form hashed by HASH, so that formatting does not change the token."""
    if type_ is PIIType.EMAIL:
        return value.strip().lower()
    if type_ in (PIIType.CARD, PIIType.PHONE, PIIType.SSN):
        return _digits(value)
    if type_ is PIIType.IBAN:
        return value.replace(" ", "").upper()
    if type_ is PIIType.IP:
        try:
            return ipaddress.ip_address(value).compressed
        except ValueError:
            return value.lower()
    return value


def hash_token(type_: PIIType, value: str, key: str) -> str:
    """The HASH replacement: `[EMAIL:<first 10 hex of HMAC-SHA256(key, normalised value)>]`."""
    digest = hmac.new(
        key.encode("utf-8"), normalise(type_, value).encode("utf-8"), hashlib.sha256
    ).hexdigest()
    return f"[{_LABELS[type_]}:{digest[:10]}]"


def mask(type_: PIIType, value: str) -> str:
    """The MASK replacement: a fixed shape that keeps only a small tail of the value."""
    if type_ is PIIType.EMAIL:
        local, _, domain = value.rpartition("@")
        labels = domain.split(".")
        return f"{local[:1]}***@{labels[0][:1]}***.{labels[-1]}"
    if type_ is PIIType.CARD:
        return f"**** **** **** {_digits(value)[-4:]}"
    if type_ is PIIType.PHONE:
        return f"*** *** **{_digits(value)[-2:]}"
    if type_ is PIIType.IBAN:
        compact = value.replace(" ", "")
        return f"{compact[:2]}** **** **** {compact[-4:]}"
    if type_ is PIIType.SSN:
        return f"***-**-{_digits(value)[-4:]}"
    if type_ is PIIType.IP:
        if ":" in value:
            return f"****::{value.rsplit(':', 1)[-1]}"
        return f"*.*.*.{value.rsplit('.', 1)[-1]}"
    if "\n" in value or len(value) > 200:
        return placeholder(type_)
    return f"****{value[-4:]}"


def _action_for(policy: GovernancePolicy, type_: PIIType) -> PIIAction:
    return policy.pii.get(type_, PIIAction.REDACT)  # a type the policy omits is redacted


def apply(text: str, policy: GovernancePolicy) -> RedactionResult:
    """Rewrite `text` as the policy says.

    Raises `PolicyViolation` (naming the types, never the values) when a type configured as
    REJECT is present; nothing else happens in that case.
    """
    matches = detect(text)
    actions = tuple(_action_for(policy, m.type) for m in matches)
    rejected = sorted({m.type.value for m, a in zip(matches, actions, strict=True) if a is PIIAction.REJECT})
    if rejected:
        raise PolicyViolation(
            f"text contains {', '.join(rejected)} data, which the governance policy rejects"
        )
    if policy.hash_key is None and PIIAction.HASH in actions:  # never hash with a public default
        raise ConfigError(
            "the policy hashes PII but has no hash_key: set GovernancePolicy.hash_key, or let "
            "Memory.open/connect use the store's own key (store.chroma_audit.pii_hash_key)"
        )
    out: list[str] = []
    pos = 0
    for m, action in zip(matches, actions, strict=True):
        out.append(text[pos : m.start])
        if action is PIIAction.REDACT:
            out.append(placeholder(m.type))
        elif action is PIIAction.MASK:
            out.append(mask(m.type, m.value))
        elif action is PIIAction.HASH:
            out.append(hash_token(m.type, m.value, policy.hash_key or ""))
        else:
            out.append(m.value)
        pos = m.end
    out.append(text[pos:])
    return RedactionResult(text="".join(out), matches=tuple(matches), actions=actions)
