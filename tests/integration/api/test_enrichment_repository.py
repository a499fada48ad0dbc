"""EnrichmentRepository against moto: results are read back only by their own key, until they expire."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from cascade.domain.models import EnrichmentResult, EnrichmentStatus, NormalisedPerson
from cascade.storage.dynamo import StorageError
from cascade.storage.enrichments import EnrichmentRepository
from tests.integration.api.conftest import NOW, TABLE_NAMES

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

KEY_ID = "key_5f1e2d3c4b5a6978"
ACCOUNT_ID = "acct_1f2e3d4c5b6a7988"
ENRICHMENT_ID = "enr_0123456789abcdef01234567"


def _result(
    enrichment_id: str = ENRICHMENT_ID, status: EnrichmentStatus = EnrichmentStatus.NOT_FOUND
) -> EnrichmentResult:
    return EnrichmentResult(
        id=enrichment_id,
        status=status,
        person=NormalisedPerson(first_name="Zo\u00eb", last_name="Quill", company_domain="example.com"),
        created_at=NOW,
    )


def _put(repository: EnrichmentRepository, result: EnrichmentResult, *, key_id: str = KEY_ID) -> None:
    repository.put(result, key_id=key_id, account_id=ACCOUNT_ID, expires_at=NOW + timedelta(days=180))


def test_put_then_get(enrichments: EnrichmentRepository) -> None:
    _put(enrichments, _result())
    assert enrichments.get(ENRICHMENT_ID, KEY_ID) == _result()


def test_get_other_key_none(enrichments: EnrichmentRepository) -> None:
    _put(enrichments, _result())
    assert enrichments.get(ENRICHMENT_ID, "key_0123456789abcdef") is None


def test_get_unknown_none(enrichments: EnrichmentRepository) -> None:
    assert enrichments.get(ENRICHMENT_ID, KEY_ID) is None


@pytest.mark.parametrize("enrichment_id", ["", "enr_", "enr_0123456789ABCDEF01234567", "x" * 3000, "enr_1#"])
def test_get_malformed_id_none(enrichments: EnrichmentRepository, enrichment_id: str) -> None:
    assert enrichments.get(enrichment_id, KEY_ID) is None


def test_get_expired_none(dynamodb: DynamoDBClient) -> None:
    later = EnrichmentRepository(dynamodb, table=TABLE_NAMES["enrichments"], clock=lambda: NOW + timedelta(days=181))
    _put(later, _result())
    assert later.get(ENRICHMENT_ID, KEY_ID) is None


def test_put_same_key_replaces(enrichments: EnrichmentRepository) -> None:
    _put(enrichments, _result())
    _put(enrichments, _result(status=EnrichmentStatus.SUPPRESSED))
    stored = enrichments.get(ENRICHMENT_ID, KEY_ID)
    assert stored is not None
    assert stored.status is EnrichmentStatus.SUPPRESSED


def test_put_other_keys_id_fails(enrichments: EnrichmentRepository) -> None:
    _put(enrichments, _result())
    with pytest.raises(StorageError) as raised:
        _put(enrichments, _result(), key_id="key_0123456789abcdef")
    assert raised.value.code == "ConditionalCheckFailedException"
    assert enrichments.get(ENRICHMENT_ID, KEY_ID) == _result()


def test_put_rejects_malformed_id(enrichments: EnrichmentRepository) -> None:
    with pytest.raises(ValueError, match="enr_"):
        _put(enrichments, _result("enr_short"))


def test_put_stores_owner_and_expiry(enrichments: EnrichmentRepository, dynamodb: DynamoDBClient) -> None:
    _put(enrichments, _result())
    item = dynamodb.get_item(TableName=TABLE_NAMES["enrichments"], Key={"pk": {"S": ENRICHMENT_ID}})["Item"]
    assert item["key_id"] == {"S": KEY_ID}
    assert item["account_id"] == {"S": ACCOUNT_ID}
    assert int(item["expires_at"]["N"]) == int((NOW + timedelta(days=180)).timestamp())
