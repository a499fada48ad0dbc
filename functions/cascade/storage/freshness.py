"""The freshness store: the last verified value per API key, contact and field.

Enriching the same contact again with the same key within the freshness window returns the
stored value, unbilled. A contact is addressed by ``contact_identity``, a SHA-256 hash of its
LinkedIn profile or of its name and company domain, so the key of an item contains no
personal data. The stored value itself is contact data and expires after the retention period
through the table's TTL attribute ``expires_at``.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from cascade.domain.models import NormalisedPerson, RequestedField
from cascade.normalise.linkedin import parse_linkedin_url
from cascade.storage.dynamo import LazyClient, require_aware, storage_error

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

    from cascade.storage.dynamo import ClientSource


@dataclasses.dataclass(frozen=True, slots=True)
class FreshValue:
    """A verified field value as it was returned, with when and by which provider it was verified.

    ``match_id`` is the charge that billed it, when it was billed. ``extra`` contains field-specific
    details as text, such as a phone's line type or an email's flags.
    """

    field: RequestedField
    value: str
    verdict: str
    provider: str
    verified_at: datetime
    match_id: str | None = None
    extra: Mapping[str, str] = dataclasses.field(default_factory=dict)


def linkedin_slug(person: NormalisedPerson) -> str | None:
    """Return the public-profile slug of ``person.linkedin_url``, or ``None`` when it has none."""
    if not person.linkedin_url:
        return None
    return parse_linkedin_url(person.linkedin_url).slug


def name_domain_key(person: NormalisedPerson) -> str | None:
    """Return ``"<ascii first>|<ascii last>|<company domain>"``, or ``None`` when any part is missing."""
    first = person.ascii_first.strip().lower()
    last = person.ascii_last.strip().lower()
    domain = (person.company_domain or "").strip().lower()
    if not (first and last and domain):
        return None
    return f"{first}|{last}|{domain}"


def contact_identity(person: NormalisedPerson) -> str | None:
    """Return the SHA-256 hex hash of the best identity of ``person``, or ``None`` when it has none.

    A LinkedIn profile (``"li:<slug>"``) wins over name and company domain
    (``"nd:<first>|<last>|<domain>"``), because one profile is one person while two people at
    one company may share a name.
    """
    slug = linkedin_slug(person)
    if slug:
        return _sha256(f"li:{slug}")
    name_domain = name_domain_key(person)
    if name_domain is not None:
        return _sha256(f"nd:{name_domain}")
    return None


class FreshnessStore:
    """Reads and writes last verified values. ``retention_days`` sets when each item expires."""

    def __init__(self, client: ClientSource, *, table: str, retention_days: int) -> None:
        if retention_days < 1:
            raise ValueError(f"retention_days is {retention_days}; send at least 1")
        self._client = LazyClient(client)
        self._table = table
        self._retention = timedelta(days=retention_days)

    def get(
        self, key_id: str, identity: str, field: RequestedField, *, max_age_days: int, now: datetime
    ) -> FreshValue | None:
        """Return the stored value if it was verified within ``max_age_days`` of ``now``, else ``None``.

        A value marked bounced is never returned. Neither is one past its ``expires_at``, because
        DynamoDB deletes expired items only some time after they expire. ``max_age_days=0`` always
        returns ``None``, and a negative ``max_age_days`` raises ``ValueError``.
        """
        if max_age_days < 0:
            raise ValueError(f"max_age_days is {max_age_days}; send 0 or more")
        require_aware(now, "now")
        if max_age_days == 0:
            return None
        client = self._client.get()
        try:
            reply = client.get_item(TableName=self._table, Key=_key(key_id, identity, field), ConsistentRead=True)
        except client.exceptions.ClientError as error:
            raise storage_error(error, operation=f"reading the stored {field.value} of {key_id}") from error
        item = reply.get("Item")
        if item is None or item.get("bounced", {}).get("BOOL", False):
            return None
        if int(item["expires_at"]["N"]) <= now.timestamp():
            return None
        value = _value_from_item(field, item)
        if now - value.verified_at > timedelta(days=max_age_days):
            return None
        return value

    def put(self, key_id: str, identity: str, value: FreshValue, *, now: datetime) -> None:
        """Store ``value`` in place of the contact's previous value for its field, bounce mark included.

        The item expires ``retention_days`` after ``now``.
        """
        require_aware(now, "now")
        require_aware(value.verified_at, "verified_at")
        item: dict[str, AttributeValueTypeDef] = {
            **_key(key_id, identity, value.field),
            "value": {"S": value.value},
            "verdict": {"S": value.verdict},
            "provider": {"S": value.provider},
            "verified_at": {"S": value.verified_at.astimezone(UTC).isoformat()},
            "expires_at": {"N": str(int((now + self._retention).timestamp()))},
        }
        if value.match_id is not None:
            item["match_id"] = {"S": value.match_id}
        if value.extra:
            item["extra"] = {"M": {name: {"S": text} for name, text in value.extra.items()}}
        client = self._client.get()
        try:
            client.put_item(TableName=self._table, Item=item)
        except client.exceptions.ClientError as error:
            raise storage_error(error, operation=f"storing the {value.field.value} of {key_id}") from error

    def mark_bounced(self, key_id: str, identity: str, field: RequestedField, value: str) -> bool:
        """Mark the stored value as bounced so that it is not served again.

        Returns ``False`` when nothing is stored or the stored value is no longer ``value``,
        because a newer value must not be hidden by a bounce report about an older one.
        """
        client = self._client.get()
        try:
            client.update_item(
                TableName=self._table,
                Key=_key(key_id, identity, field),
                UpdateExpression="SET bounced = :bounced",
                ConditionExpression="attribute_exists(pk) AND #value = :value",
                ExpressionAttributeNames={"#value": "value"},
                ExpressionAttributeValues={":bounced": {"BOOL": True}, ":value": {"S": value}},
            )
        except client.exceptions.ConditionalCheckFailedException:
            return False
        except client.exceptions.ClientError as error:
            raise storage_error(error, operation=f"marking the {field.value} of {key_id} bounced") from error
        return True


def _key(key_id: str, identity: str, field: RequestedField) -> dict[str, AttributeValueTypeDef]:
    if not key_id:
        raise ValueError("key_id is empty; send the API key id that owns the stored value")
    if not identity:
        raise ValueError("identity is empty; send the hash that contact_identity returns")
    return {"pk": {"S": f"{key_id}#{identity}"}, "sk": {"S": field.value}}


def _value_from_item(field: RequestedField, item: Mapping[str, AttributeValueTypeDef]) -> FreshValue:
    match_id = item.get("match_id")
    extra = item.get("extra", {}).get("M", {})
    return FreshValue(
        field=field,
        value=item["value"]["S"],
        verdict=item["verdict"]["S"],
        provider=item["provider"]["S"],
        verified_at=datetime.fromisoformat(item["verified_at"]["S"]),
        match_id=None if match_id is None else match_id["S"],
        extra={name: text["S"] for name, text in extra.items()},
    )


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
