"""The local stack's tables against the storage schema and against the tables that the CDK app synthesizes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from cascade.storage.dynamo import table_names
from cascade.storage.schema import TABLES, TableSpec
from infra.app import STACK_NAME, build_app
from infra.local.stack import LocalStack

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

# (key schema, {index name: key schema}, TTL attribute). A key schema is ((attribute, key type), ...).
TableShape = tuple[tuple[tuple[str, str], ...], dict[str, tuple[tuple[str, str], ...]], str | None]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    dependencies = tmp_path_factory.mktemp("lambda-dependencies")
    (dependencies / "python").mkdir()
    outdir = tmp_path_factory.mktemp("cdk.out")
    build_app(dependencies_dir=dependencies, outdir=str(outdir)).synth()
    loaded: dict[str, Any] = json.loads((Path(outdir) / f"{STACK_NAME}.template.json").read_text())
    return loaded


def _key_schema(elements: list[dict[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((element["AttributeName"], element["KeyType"]) for element in elements))


def _spec_shape(spec: TableSpec) -> TableShape:
    keys = [{"AttributeName": spec.partition_key, "KeyType": "HASH"}]
    if spec.sort_key is not None:
        keys.append({"AttributeName": spec.sort_key, "KeyType": "RANGE"})
    indexes = {
        index.name: _key_schema(
            [
                {"AttributeName": index.partition_key, "KeyType": "HASH"},
                {"AttributeName": index.sort_key, "KeyType": "RANGE"},
            ]
        )
        for index in spec.indexes
    }
    return _key_schema(keys), indexes, spec.ttl_attribute


def _local_shape(stack: LocalStack, table: str) -> TableShape:
    client = boto3.client(
        "dynamodb",
        endpoint_url=stack.endpoints.aws_endpoint_url,
        region_name=stack.endpoints.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    described = client.describe_table(TableName=table)["Table"]
    ttl = client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    indexes = {
        index["IndexName"]: _key_schema(index["KeySchema"])  # type: ignore[arg-type]
        for index in described.get("GlobalSecondaryIndexes", [])
    }
    ttl_attribute = ttl.get("AttributeName") if ttl.get("TimeToLiveStatus") in {"ENABLED", "ENABLING"} else None
    return _key_schema(described["KeySchema"]), indexes, ttl_attribute  # type: ignore[arg-type]


def _template_shapes(template: dict[str, Any]) -> dict[str, TableShape]:
    """Map each ``CASCADE_<NAME>_TABLE`` variable of the functions to the shape of the table it names."""
    resources: dict[str, Any] = template["Resources"]
    shapes: dict[str, TableShape] = {}
    for resource in resources.values():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        variables = resource["Properties"].get("Environment", {}).get("Variables", {})
        for name, value in variables.items():
            if not (name.startswith("CASCADE_") and name.endswith("_TABLE")):
                continue
            table = resources[value["Ref"]]["Properties"]
            indexes = {
                index["IndexName"]: _key_schema(index["KeySchema"]) for index in table.get("GlobalSecondaryIndexes", [])
            }
            ttl = table.get("TimeToLiveSpecification") or {}
            shapes[name] = (
                _key_schema(table["KeySchema"]),
                indexes,
                ttl.get("AttributeName") if ttl.get("Enabled") else None,
            )
    return shapes


def test_local_tables_match_schema(local_stack: LocalStack) -> None:
    names = table_names(local_stack.settings)
    for spec in TABLES:
        assert _local_shape(local_stack, names[spec.logical_name]) == _spec_shape(spec), spec.logical_name


def test_local_tables_match_synthesized_template(template: dict[str, Any], local_stack: LocalStack) -> None:
    shapes = _template_shapes(template)
    names = table_names(local_stack.settings)
    assert set(shapes) == {f"CASCADE_{spec.logical_name.upper()}_TABLE" for spec in TABLES}
    for spec in TABLES:
        variable = f"CASCADE_{spec.logical_name.upper()}_TABLE"
        assert _local_shape(local_stack, names[spec.logical_name]) == shapes[variable], variable
