from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cascade.api.problems import InvalidIdempotencyKeyError
from cascade.api.routes.people import enrichment_id_for, idempotent_request_id, parse_idempotency_key, request_hash
from cascade.domain.models import PersonEnrichmentRequest
from cascade.storage.enrichments import ENRICHMENT_ID_PATTERN


@pytest.mark.parametrize(
    "key", [None, "a", "k" * 255, "550e8400-e29b-41d4-a716-446655440000", " ~!#$%&'()*+,-./:;<=>?@[]^_`{|}"]
)
def test_parse_idempotency_key_accepts(key: str | None) -> None:
    assert parse_idempotency_key(key) == key


@pytest.mark.parametrize("key", ["", "k" * 256, "\u00e9", "a\x00b", "a\nb", "\x7f"])
def test_parse_idempotency_key_rejects(key: str) -> None:
    with pytest.raises(InvalidIdempotencyKeyError):
        parse_idempotency_key(key)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_parse_idempotency_key_total(value: str) -> None:
    printable = 1 <= len(value) <= 255 and all(32 <= ord(character) <= 126 for character in value)
    if printable:
        assert parse_idempotency_key(value) == value
    else:
        with pytest.raises(InvalidIdempotencyKeyError):
            parse_idempotency_key(value)


def test_idempotent_request_id_stable() -> None:
    first = idempotent_request_id("key_5f1e2d3c4b5a6978", "order-1")
    assert first == idempotent_request_id("key_5f1e2d3c4b5a6978", "order-1")
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", first)


def test_idempotent_request_id_per_key_and_value() -> None:
    base = idempotent_request_id("key_5f1e2d3c4b5a6978", "order-1")
    assert base != idempotent_request_id("key_0000000000000000", "order-1")
    assert base != idempotent_request_id("key_5f1e2d3c4b5a6978", "order-2")


def test_enrichment_id_format() -> None:
    enrichment_id = enrichment_id_for("550e8400-e29b-41d4-a716-446655440000")
    assert re.fullmatch(ENRICHMENT_ID_PATTERN, enrichment_id)
    assert enrichment_id == enrichment_id_for("550e8400-e29b-41d4-a716-446655440000")


def test_request_hash_ignores_formatting() -> None:
    first = PersonEnrichmentRequest.model_validate_json(
        '{"first_name": "Ada", "last_name": "Quill", "company_domain": "example.com"}'
    )
    second = PersonEnrichmentRequest.model_validate_json(
        '{"company_domain":" example.com ","last_name":"Quill","first_name":"Ada","fields":["email"],"country":""}'
    )
    assert request_hash(first) == request_hash(second)


def test_request_hash_differs_by_content() -> None:
    first = PersonEnrichmentRequest(first_name="Ada", last_name="Quill", company_domain="example.com")
    second = PersonEnrichmentRequest(first_name="Ada", last_name="Quill", company_domain="example.org")
    assert request_hash(first) != request_hash(second)
