"""The suppression list against moto: each identity kind matches, and accounts are kept apart."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from cascade.domain.models import NormalisedPerson
from cascade.storage.dynamo import RetryableStorageError
from cascade.storage.suppressions import SuppressionStore, suppression_identities

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ADA = NormalisedPerson(
    first_name="Ada",
    last_name="Quill",
    company_domain="quill.example",
    linkedin_url="https://www.linkedin.com/in/ada-quill",
    ascii_first="ada",
    ascii_last="quill",
)
ADA_PROFILE_ONLY = NormalisedPerson(linkedin_url="https://www.linkedin.com/in/ada-quill")
ADA_BY_NAME = NormalisedPerson(
    first_name="Ada", last_name="Quill", company_domain="quill.example", ascii_first="ada", ascii_last="quill"
)
NOBODY = NormalisedPerson()


@pytest.fixture
def store(client: DynamoDBClient, tables: dict[str, str], sleeps: list[float]) -> SuppressionStore:
    return SuppressionStore(client, table=tables["suppressions"], sleep=sleeps.append)


@pytest.mark.parametrize(
    ("suppressed", "checked"),
    [
        (suppression_identities(ADA_PROFILE_ONLY), suppression_identities(ADA)),
        (suppression_identities(ADA_BY_NAME), suppression_identities(ADA)),
        (
            suppression_identities(NOBODY, email="Ada.Quill@Acme-Corp.com"),
            suppression_identities(ADA_BY_NAME, email="ada.quill@acme-corp.com"),
        ),
        (
            suppression_identities(NOBODY, email="ada.quill+news@gmail.com"),
            suppression_identities(NOBODY, email="AdaQuill@gmail.com"),
        ),
    ],
    ids=["linkedin", "name_domain", "email", "email_match_key"],
)
def test_suppression_matches_each_kind(
    store: SuppressionStore, suppressed: tuple[str, ...], checked: tuple[str, ...]
) -> None:
    assert len(suppressed) == 1
    store.add("acct_1", suppressed)
    assert store.is_suppressed("acct_1", checked) is True


def test_suppression_other_account_unaffected(store: SuppressionStore) -> None:
    store.add("acct_1", suppression_identities(ADA, email="ada@acme-corp.com"))
    assert store.is_suppressed("acct_2", suppression_identities(ADA, email="ada@acme-corp.com")) is False


def test_suppression_other_person_unaffected(store: SuppressionStore) -> None:
    store.add("acct_1", suppression_identities(ADA))
    other = NormalisedPerson(
        linkedin_url="https://www.linkedin.com/in/bea-quill",
        company_domain="quill.example",
        ascii_first="bea",
        ascii_last="quill",
    )
    assert store.is_suppressed("acct_1", suppression_identities(other, email="bea@acme-corp.com")) is False


def test_suppression_empty_identities(store: SuppressionStore) -> None:
    store.add("acct_1", ())
    assert store.is_suppressed("acct_1", ()) is False
    assert store.is_suppressed("acct_1", suppression_identities(NOBODY)) is False


def test_suppression_add_twice_and_repeats(
    store: SuppressionStore, client: DynamoDBClient, tables: dict[str, str]
) -> None:
    identities = suppression_identities(ADA)
    store.add("acct_1", identities + identities)
    store.add("acct_1", identities)
    assert client.scan(TableName=tables["suppressions"])["Count"] == len(identities)


def test_suppression_many_identities(store: SuppressionStore) -> None:
    # More than one BatchWriteItem (25) and one BatchGetItem (100) request each.
    people = [
        NormalisedPerson(company_domain="quill.example", ascii_first=f"ada{number}", ascii_last="quill")
        for number in range(130)
    ]
    identities = [identity for person in people for identity in suppression_identities(person)]
    store.add("acct_1", identities)
    assert store.is_suppressed("acct_1", identities[-1:]) is True
    unknown = [
        identity
        for number in range(130)
        for identity in suppression_identities(
            NormalisedPerson(company_domain="other.example", ascii_first=f"ada{number}", ascii_last="quill")
        )
    ]
    assert store.is_suppressed("acct_1", unknown) is False
    assert store.is_suppressed("acct_1", [*unknown, identities[0]]) is True


def test_suppression_retries_unprocessed(
    store: SuppressionStore, client: DynamoDBClient, sleeps: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = client.batch_write_item
    real_get = client.batch_get_item
    calls = {"write": 0, "get": 0}

    def write_later(**request: Any) -> Any:
        calls["write"] += 1
        if calls["write"] == 1:
            return {"UnprocessedItems": request["RequestItems"]}
        return real_write(**request)

    def get_later(**request: Any) -> Any:
        calls["get"] += 1
        if calls["get"] == 1:
            return {"Responses": {}, "UnprocessedKeys": request["RequestItems"]}
        return real_get(**request)

    monkeypatch.setattr(client, "batch_write_item", write_later)
    monkeypatch.setattr(client, "batch_get_item", get_later)
    store.add("acct_1", suppression_identities(ADA))
    assert store.is_suppressed("acct_1", suppression_identities(ADA)) is True
    assert calls == {"write": 2, "get": 2}
    assert len(sleeps) == 2


def test_suppression_gives_up_on_unprocessed(
    store: SuppressionStore, client: DynamoDBClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client, "batch_write_item", lambda **request: {"UnprocessedItems": request["RequestItems"]})
    with pytest.raises(RetryableStorageError, match="unwritten"):
        store.add("acct_1", suppression_identities(ADA))


@pytest.mark.parametrize("identity", ["ada@acme-corp.com", "li#abc", "xx#" + "0" * 64, "LI#" + "0" * 64])
def test_suppression_rejects_raw_identity(store: SuppressionStore, identity: str) -> None:
    with pytest.raises(ValueError, match="suppression_identities") as caught:
        store.add("acct_1", [identity])
    assert identity not in str(caught.value)


def test_suppression_rejects_empty_account(store: SuppressionStore) -> None:
    with pytest.raises(ValueError, match="account_id is empty"):
        store.is_suppressed("", suppression_identities(ADA))
