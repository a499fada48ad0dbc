"""Test support: give moto's DynamoDB transactions the isolation that DynamoDB has."""

from __future__ import annotations

import threading
from typing import Any

from mypy_boto3_dynamodb import DynamoDBClient


def serialise_transactions(client: DynamoDBClient, lock: threading.Lock) -> None:
    """Let one ``TransactWriteItems`` call at a time reach moto through ``client``.

    moto 5.2 copies every table a transaction names before applying it and puts the copies back when
    the transaction is cancelled, which undoes writes that a concurrent transaction made meanwhile.
    DynamoDB isolates transactions, and the shared lock gives moto the same isolation; every other
    call still runs concurrently.
    """
    real = client.transact_write_items

    def transact(**request: Any) -> Any:
        with lock:
            return real(**request)

    client.transact_write_items = transact  # type: ignore[method-assign]
