"""Serialise moto's DynamoDB requests, and make its transactions roll back item by item.

moto 5.2's ``TransactWriteItems`` deep-copies each table it writes, to roll back on a failed condition,
and its server handles every request on a thread of its own. A put or update that lands while another
thread copies the same table makes the copy raise ``RuntimeError: dictionary changed size during
iteration``, which reaches the client as HTTP 500. DynamoDB itself has no such limit. The local stack
therefore lets one DynamoDB request at a time into moto, which costs little because every request
holds the interpreter lock for most of its time anyway.

The table copy also makes every transaction cost time in proportion to the table's size: a bulk job
writes one transaction per row into a table that grows by one item per row, so a 10,000-row job slowed
to a few rows per second. While the block runs, ``transact_write_items`` copies only the items the
transaction names, and restores exactly those when it fails. This is safe only because the requests
are serialised: no other request can see or change those items in between.

The patches replace ``moto.dynamodb.responses.DynamoHandler.call_action(self)`` and wrap
``moto.dynamodb.models.DynamoDBBackend.transact_write_items``, pinned to moto 5.2 like the Lambda
bridge; ``serialization_problems`` checks that both still look as they did.
"""

from __future__ import annotations

import copy
import inspect
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler

_CALL_ACTION_PARAMETERS = ("self",)
_TRANSACT_PARAMETERS = ("self", "transact_items")
# The statements of moto's transact_write_items that the item-level rollback relies on.
_TRANSACT_SOURCE_MARKERS = (
    "copy.deepcopy(\n                    self.tables[table_name]",
    "self.tables[table_name] = original_table_state[table_name]",
)


class _TableCopyShim(ModuleType):
    """The ``copy`` module as moto's DynamoDB models see it, except that a ``Table`` is not deep-copied."""

    def __init__(self) -> None:
        super().__init__("copy")

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _item_key(backend: DynamoDBBackend, operation: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    table_name = operation.get("TableName")
    if not isinstance(table_name, str) or table_name not in backend.tables:
        return None
    table = backend.tables[table_name]
    if "Key" in operation:
        return table_name, dict(operation["Key"])
    attributes = operation.get("Item", {})
    key = {table.hash_key_attr: attributes.get(table.hash_key_attr)}
    if table.range_key_attr is not None:
        key[table.range_key_attr] = attributes.get(table.range_key_attr)
    if any(value is None for value in key.values()):
        return None
    return table_name, key


def _itemwise_transactions(original: Callable[..., None]) -> Callable[..., None]:
    def transact_write_items(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        saved: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
        for entry in transact_items:
            if len(entry) != 1:
                continue
            found = _item_key(backend, next(iter(entry.values())))
            if found is None:
                continue
            table_name, key = found
            current = backend.get_item(table_name, key)
            saved.append((table_name, key, copy.deepcopy(current.to_json()["Attributes"]) if current else None))
        try:
            original(backend, transact_items)
        except Exception:
            for table_name, key, attributes in reversed(saved):
                if attributes is None:
                    if backend.get_item(table_name, key) is not None:
                        backend.delete_item(table_name, key)
                else:
                    backend.put_item(table_name, attributes)
            raise

    return transact_write_items


@contextmanager
def serialized_dynamodb() -> Iterator[None]:
    """Handle moto's DynamoDB requests one at a time in this process until the block exits.

    NOTE: nested blocks must exit in reverse order of entry, because each restores what it replaced.
    """
    original: Callable[[Any], Any] = DynamoHandler.__dict__["call_action"]
    original_transact: Callable[..., None] = DynamoDBBackend.__dict__["transact_write_items"]
    original_copy = getattr(dynamodb_models, "copy")  # noqa: B009 - moto's own import of the copy module
    lock = threading.RLock()

    def call_action(handler: DynamoHandler) -> Any:
        with lock:
            return original(handler)

    setattr(DynamoHandler, "call_action", call_action)  # noqa: B010 - replaces a method on a class
    setattr(DynamoDBBackend, "transact_write_items", _itemwise_transactions(original_transact))  # noqa: B010
    setattr(dynamodb_models, "copy", _TableCopyShim())  # noqa: B010 - seen only by moto's models module
    try:
        yield
    finally:
        setattr(dynamodb_models, "copy", original_copy)  # noqa: B010 - restores moto's import
        setattr(DynamoDBBackend, "transact_write_items", original_transact)  # noqa: B010 - restores it
        setattr(DynamoHandler, "call_action", original)  # noqa: B010 - restores the method replaced above


def serialization_problems() -> list[str]:
    """List what changed in the moto internal that ``serialized_dynamodb`` replaces, or nothing."""
    call_action = DynamoHandler.__dict__.get("call_action")
    if call_action is None:
        return ["moto.dynamodb.responses.DynamoHandler no longer defines call_action"]
    problems: list[str] = []
    parameters = tuple(inspect.signature(call_action).parameters)
    if parameters != _CALL_ACTION_PARAMETERS:
        problems.append(f"DynamoHandler.call_action takes {parameters}, expected {_CALL_ACTION_PARAMETERS}")
    transact = DynamoDBBackend.__dict__.get("transact_write_items")
    if transact is None:
        return [*problems, "moto's DynamoDBBackend no longer defines transact_write_items"]
    parameters = tuple(inspect.signature(transact).parameters)
    if parameters != _TRANSACT_PARAMETERS:
        problems.append(f"DynamoDBBackend.transact_write_items takes {parameters}, expected {_TRANSACT_PARAMETERS}")
    source = inspect.getsource(transact)
    problems.extend(
        f"transact_write_items no longer contains {marker!r}"
        for marker in _TRANSACT_SOURCE_MARKERS
        if marker not in source
    )
    if getattr(dynamodb_models, "copy", None) is not copy:
        problems.append("moto.dynamodb.models no longer imports the copy module as copy")
    return problems
