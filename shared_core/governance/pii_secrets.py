"""Secrets in text: provider API keys, JWTs, private-key blocks, assigned credentials and long
random tokens (pure: no I/O, no state). `find(text)` yields the spans; `pii.detect` merges them
with the other detectors' findings. See `pii.py` for the decisions behind each rule.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections import Counter
from collections.abc import Iterator
from typing import NamedTuple

__all__ = ["Found", "find", "looks_random", "shannon_entropy", "ENTROPY_MIN_BITS", "TOKEN_MIN_CHARS"]


class Found(NamedTuple):
    """One secret span: `text[start:end]`, the rule that found it, and its tie-break bump."""

    start: int
    end: int
    rule: str
    bump: int = 0


_B = r"(?<![A-Za-z0-9_-])"  # token boundary (start)
_E = r"(?![A-Za-z0-9_-])"  # token boundary (end)
_PROVIDER_KEYS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("anthropic_key", re.compile(_B + r"sk-ant-[A-Za-z0-9_-]{20,}" + _E)),
    ("openai_key", re.compile(_B + r"sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}" + _E)),
    ("aws_access_key", re.compile(r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Za-z0-9])")),
    ("github_token", re.compile(_B + r"gh[pousr]_[A-Za-z0-9]{36,255}" + _E)),
    ("github_pat", re.compile(_B + r"github_pat_[A-Za-z0-9_]{22,255}" + _E)),
    ("slack_token", re.compile(_B + r"xox[baprs]-[A-Za-z0-9-]{10,}" + _E)),
    ("google_api_key", re.compile(_B + r"AIza[0-9A-Za-z_-]{35}" + _E)),
    ("stripe_key", re.compile(_B + r"[sr]k_(?:live|test)_[0-9A-Za-z]{16,}" + _E)),
    ("huggingface_token", re.compile(_B + r"hf_[A-Za-z0-9]{30,}" + _E)),
)
_JWT = re.compile(_B + r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*" + _E)
_PEM_BEGIN = re.compile(r"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----")
_PEM_BODY_LINE = re.compile(r"^(?:[A-Za-z0-9+/=]+|[A-Za-z-]+: .*|\s*)$")
_ASSIGNED = re.compile(
    r"(?i)(?:\b|_)(?:password|passwd|pwd|passphrase|passcode|secret|api[_ -]?key|apikey|"
    r"access[_-]?token|auth[_-]?token|refresh[_-]?token|token|client[_-]?secret)"
    r"(?:_[a-z]+)*\s*(?P<op>=|:|\bis\b)\s*"
    r"(?:(?P<q>[\"'])(?P<qv>[^\"'\n]{6,256})(?P=q)|(?P<v>[^\s\"'<>]{6,256}))"
)
_URL_CREDENTIALS = re.compile(r"(?i)\b[a-z][a-z0-9+.-]{0,31}://[^\s:/@]+:(?P<v>[^\s/@]{3,256})@")
_BASIC_AUTH = re.compile(r"\bBasic\s+(?P<v>[A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])")
_PEM_ANY = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----[\s\S]*?-----END \1-----")
_TOKEN = re.compile(r"(?<![A-Za-z0-9_+/-])[A-Za-z0-9_+/-]{32,}={0,2}(?![A-Za-z0-9_+/=-])")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_HEX = re.compile(r"^[0-9a-fA-F]+$")
_PLAIN_WORD = re.compile(r"^[a-z]{2,}$")
_WORD_SEGMENT = re.compile(r"^(?:[a-z]{3,}|[A-Z]{3,}|[A-Z][a-z]{2,})$")

ENTROPY_MIN_BITS = 3.6  # bits per character; random base62 of 32 chars averages ~4.6
TOKEN_MIN_CHARS = 32


def shannon_entropy(s: str) -> float:
    if not s:
        return 0.0
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values())


def _char_class(ch: str) -> int:
    if ch.islower():
        return 0
    if ch.isupper():
        return 1
    if ch.isdigit():
        return 2
    return 3


def looks_random(token: str) -> bool:
    """True for a long token that looks machine-generated rather than a word or an identifier."""
    tok = token.rstrip("=")
    if len(tok) < TOKEN_MIN_CHARS or _UUID.match(tok) or _HEX.match(tok.replace("-", "").replace("_", "")):
        return False
    alnum = "".join(ch for ch in tok if ch.isalnum())
    if not alnum:
        return False
    segments = re.split(r"[-_/+]", tok)
    if len(segments) > 1:
        wordy = sum(len(seg) for seg in segments if _WORD_SEGMENT.match(seg))
        if wordy >= len(alnum) / 2:
            return False  # "x86_64-unknown-linux-gnu", "test_user_can_update_profile_2"
    has_lower = any(ch.islower() for ch in alnum)
    has_upper = any(ch.isupper() for ch in alnum)
    digits = sum(ch.isdigit() for ch in alnum)
    if digits == 0 or not (has_lower or has_upper):
        return False
    mixed_case = has_lower and has_upper
    if not mixed_case and digits / len(alnum) < 0.12:
        return False  # "ORDERREFERENCEABCDEFGHIJKLMNOP2024"
    if shannon_entropy(tok) < ENTROPY_MIN_BITS:
        return False
    if _decodes_to_text(tok):
        return False  # base64 of readable text (JSON, a sentence) is encoded data, not a key
    # words and camelCase have long runs of one character class; random text switches often
    runs = 1 + sum(_char_class(a) != _char_class(b) for a, b in zip(alnum, alnum[1:], strict=False))
    return len(alnum) / runs <= (2.2 if mixed_case else 3.5)


def _b64decode(token: str) -> bytes | None:
    padded = token + "=" * (-len(token) % 4)
    alphabet_ok = re.fullmatch(r"[A-Za-z0-9+/_-]+=*", padded) is not None
    if not alphabet_ok:
        return None
    try:
        if "-" in token or "_" in token:
            return base64.urlsafe_b64decode(padded)
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None


def _decodes_to_text(token: str) -> bool:
    raw = _b64decode(token.rstrip("="))
    if raw is None:
        return False
    try:
        decoded = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    printable = sum(ch.isprintable() or ch in "\n\r\t" for ch in decoded)
    return len(decoded) > 0 and printable / len(decoded) >= 0.95


def _jwt_header_ok(part: str) -> bool:
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        header = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return False
    return isinstance(header, dict) and isinstance(header.get("alg"), str)


def _pem_blocks(text: str) -> Iterator[Found]:
    for m in _PEM_BEGIN.finditer(text):
        end_marker = f"-----END {m.group(1)}PRIVATE KEY-----"
        end = text.find(end_marker, m.end())
        if end >= 0:
            yield Found(m.start(), end + len(end_marker), "private_key")
            continue
        # no END line (pasted partly): take the base64 body that follows
        pos = m.end()
        stop = pos
        for line in text[pos:].split("\n")[1:]:
            if not _PEM_BODY_LINE.match(line) or not line.strip():
                break
            pos += 1 + len(line)
            stop = pos
        stop = max(stop, m.end())
        yield Found(m.start(), stop, "private_key")


def find(text: str) -> Iterator[Found]:
    for rule, pattern in _PROVIDER_KEYS:
        for m in pattern.finditer(text):
            body = m.group()
            if rule == "openai_key" and not (re.search(r"\d", body[3:]) and re.search(r"[A-Za-z]", body[3:])):
                continue  # "sk-some-long-hyphenated-words"
            yield Found(m.start(), m.end(), rule)
    for m in _JWT.finditer(text):
        if _jwt_header_ok(m.group().split(".", 1)[0]):
            yield Found(m.start(), m.end(), "jwt")
    yield from _pem_blocks(text)
    for m in _ASSIGNED.finditer(text):
        if m.group("qv") is not None:  # quoted: the whole quoted string
            value, start = m.group("qv"), m.start("qv")
            if " " in value.strip() and len(value.split()) > 2:
                continue  # a quoted sentence, not a secret
        else:
            value, start = m.group("v"), m.start("v")
            if m.group("op") == "=":
                value = re.split(r"[&,;]", value, maxsplit=1)[0]  # "token=abc&page=2"
            value = value.rstrip(".,;:?)]}")  # a final "!" is more often part of a password
        classes = {_char_class(ch) for ch in value}
        if len(value) < 6 or len(classes) < 2:
            continue  # "password is weak", "password: reset"
        yield Found(start, start + len(value), "assigned_secret", bump=1)
    for m in _URL_CREDENTIALS.finditer(text):
        yield Found(m.start("v"), m.end("v"), "url_credentials", bump=1)
    for m in _BASIC_AUTH.finditer(text):
        raw = _b64decode(m.group("v").rstrip("="))
        if raw is not None and b":" in raw:
            yield Found(m.start("v"), m.end("v"), "basic_auth", bump=1)
    public_blocks = [
        (b.start(), b.end()) for b in _PEM_ANY.finditer(text) if not b.group(1).endswith("PRIVATE KEY")
    ]
    for m in _TOKEN.finditer(text):
        if any(a <= m.start() < b for a, b in public_blocks):
            continue  # certificate / public key armour is public data
        tok = m.group()
        lead = len(tok) - len(tok.lstrip("/+"))
        tok = tok[lead:]
        start = m.start() + lead
        segments = tok.split("/")
        if len(segments) > 1 and any(_PLAIN_WORD.match(s) for s in segments):
            # a path: judge each segment on its own
            offset = start
            for seg in segments:
                if looks_random(seg):
                    yield Found(offset, offset + len(seg), "high_entropy", bump=2)
                offset += len(seg) + 1
        elif looks_random(tok):
            yield Found(start, m.end(), "high_entropy", bump=2)
