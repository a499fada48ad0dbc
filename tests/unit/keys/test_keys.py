"""API key format, hashing, presented-key parsing and the stored record."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from cascade.domain.keys import (
    ApiKey,
    KeyMode,
    KeyStatus,
    generate_key,
    hash_key,
    new_key_id,
    parse_presented_key,
    validate_account_id,
)
from cascade.domain.plans import KeyPlan

LIVE_KEY = "cas_live_" + "A" * 43
TEST_KEY = "cas_test_" + "b-_9" * 10 + "xyz"
CREATED = datetime(2026, 12, 4, 15, 30, tzinfo=UTC)


@pytest.mark.parametrize("mode", list(KeyMode))
def test_generate_key_format(mode: KeyMode) -> None:
    plaintext, _, _ = generate_key(mode)
    assert re.fullmatch(rf"cas_{mode.value}_[A-Za-z0-9_-]{{43}}", plaintext)


def test_generate_key_hash_is_sha256() -> None:
    plaintext, key_hash, _ = generate_key(KeyMode.LIVE)
    assert key_hash == hashlib.sha256(plaintext.encode()).hexdigest()


def test_generate_key_prefix_first_12() -> None:
    plaintext, _, prefix = generate_key(KeyMode.TEST)
    assert prefix == plaintext[:12]
    assert prefix.startswith("cas_test_")


def test_generate_key_is_random() -> None:
    keys = {generate_key(KeyMode.LIVE)[0] for _ in range(50)}
    assert len(keys) == 50


def test_generate_key_parses_back() -> None:
    plaintext, _, _ = generate_key(KeyMode.LIVE)
    assert parse_presented_key(f"Bearer {plaintext}") == plaintext


def test_hash_key_lowercase_hex() -> None:
    assert re.fullmatch(r"[0-9a-f]{64}", hash_key(LIVE_KEY))


def test_hash_key_differs_per_key() -> None:
    assert hash_key(LIVE_KEY) != hash_key(LIVE_KEY[:-1] + "B")


def test_new_key_id_format() -> None:
    assert re.fullmatch(r"key_[0-9a-f]{16}", new_key_id())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"Bearer {LIVE_KEY}", LIVE_KEY),
        (f"bearer {LIVE_KEY}", LIVE_KEY),
        (f"BEARER {TEST_KEY}", TEST_KEY),
        (f"bEaReR {LIVE_KEY}", LIVE_KEY),
        (f"Bearer    {LIVE_KEY}", LIVE_KEY),
        (f"  Bearer {LIVE_KEY}  ", LIVE_KEY),
        (f"Bearer\t{LIVE_KEY}", LIVE_KEY),
        (LIVE_KEY, LIVE_KEY),
        (f"  {TEST_KEY}\t", TEST_KEY),
        ("cas_live_" + "a" * 32, "cas_live_" + "a" * 32),
        ("cas_live_" + "a" * 128, "cas_live_" + "a" * 128),
    ],
)
def test_parse_presented_key_accepts(text: str, expected: str) -> None:
    assert parse_presented_key(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "   ",
        "Bearer",
        "Bearer ",
        f"Basic {LIVE_KEY}",
        f"Token {LIVE_KEY}",
        f"Bearer {LIVE_KEY} extra",
        f"Bearer Bearer {LIVE_KEY}",
        f"{LIVE_KEY} Bearer",
        f"Bearer{LIVE_KEY}",
        "cas_prod_" + "A" * 43,
        "CAS_LIVE_" + "A" * 43,
        "sk_live_" + "A" * 43,
        "cas_live" + "A" * 43,
        "cas_live_" + "A" * 31,
        "cas_live_",
        "cas_live_" + "A" * 129,
        "cas_live_" + "A" * 42 + "=",
        "cas_live_" + "A" * 42 + "+",
        "cas_live_" + "A" * 42 + "é",
        "cas_live_" + "\uff21" * 43,
        "cas_live_" + "A" * 42 + "\u00a0",
        f"Bearer\u00a0{LIVE_KEY}",
        f"Bearer {LIVE_KEY}\n",
        f"Bearer {LIVE_KEY[:20]}\x00{LIVE_KEY[20:]}",
        "Bearer " + "cas_live_" + "A" * 600,
    ],
)
def test_parse_presented_key_rejects(text: str | None) -> None:
    assert parse_presented_key(text) is None


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_parse_presented_key_never_raises(text: str) -> None:
    result = parse_presented_key(text)
    assert result is None or result in text


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(list(KeyMode)), st.sampled_from(["", "Bearer ", "bearer  ", "BEARER\t"]), st.text(" \t"))
def test_parse_presented_key_idempotent(mode: KeyMode, scheme: str, padding: str) -> None:
    plaintext, _, _ = generate_key(mode)
    parsed = parse_presented_key(f"{padding}{scheme}{plaintext}{padding}")
    assert parsed == plaintext
    assert parse_presented_key(parsed) == parsed


def _record(**changes: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "key_id": "key_0123456789abcdef",
        "account_id": "acct_1",
        "mode": KeyMode.LIVE,
        "plan": KeyPlan(),
        "status": KeyStatus.ACTIVE,
        "created_at": CREATED,
        "prefix": "cas_live_AbC",
        "name": "CRM sync",
    }
    fields.update(changes)
    return fields


def test_api_key_valid_record() -> None:
    key = ApiKey.model_validate(_record())
    assert key.active
    assert key.revoked_at is None


def test_api_key_revoked_record() -> None:
    key = ApiKey.model_validate(
        _record(status=KeyStatus.REVOKED, revoked_at=CREATED + timedelta(days=1)),
    )
    assert not key.active


@pytest.mark.parametrize(
    "changes",
    [
        {"key_id": "key_0123"},
        {"key_id": "KEY_0123456789ABCDEF"},
        {"account_id": ""},
        {"account_id": "acct#1"},
        {"account_id": "acct 1"},
        {"prefix": "cas_test_AbC"},
        {"prefix": "cas_live_AbCd"},
        {"status": KeyStatus.REVOKED},
        {"revoked_at": CREATED},
        {"status": KeyStatus.REVOKED, "revoked_at": CREATED - timedelta(seconds=1)},
        {"created_at": datetime(2026, 12, 4, 15, 30)},  # noqa: DTZ001 - the naive time under test
        {"name": ""},
        {"name": "x" * 101},
        {"name": "line\nbreak"},
        {"name": " padded"},
        {"key_hash": "0" * 64},
    ],
)
def test_api_key_rejects_invalid(changes: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ApiKey.model_validate(_record(**changes))


def test_api_key_has_no_key_field() -> None:
    assert not {"api_key", "key", "plaintext", "key_hash"} & set(ApiKey.model_fields)


@pytest.mark.parametrize("account_id", ["acct_1", "a", "Acme.Corp:eu@2026-x", "9" * 128])
def test_validate_account_id_accepts(account_id: str) -> None:
    assert validate_account_id(account_id) == account_id


@pytest.mark.parametrize("account_id", ["", "_acct", "acct#1", "acct 1", "a" * 129, "äcct"])
def test_validate_account_id_rejects(account_id: str) -> None:
    with pytest.raises(ValueError, match="account id"):
        validate_account_id(account_id)
