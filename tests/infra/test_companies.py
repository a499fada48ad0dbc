"""The company lookups in the synthesized stack: the route, the plan's timeout, table and secret grants."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cascade.settings import Settings
from cascade.waterfall.companies import BULK_LOOKUP_SECONDS
from infra.app import STACK_NAME, build_app

LOOKUP_HANDLERS = ("cascade.handlers.api.handler", "cascade.handlers.waterfall_plan.handler")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    dependencies = tmp_path_factory.mktemp("lambda-dependencies")
    (dependencies / "python").mkdir()
    outdir = tmp_path_factory.mktemp("cdk.out")
    build_app(dependencies_dir=dependencies, outdir=str(outdir)).synth()
    loaded: dict[str, Any] = json.loads((Path(outdir) / f"{STACK_NAME}.template.json").read_text())
    return loaded


def _resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in template["Resources"].items() if res["Type"] == resource_type}


def _function(template: dict[str, Any], handler: str) -> tuple[str, dict[str, Any]]:
    (found,) = (
        (name, function)
        for name, function in _resources(template, "AWS::Lambda::Function").items()
        if function["Properties"]["Handler"] == handler
    )
    return found


def _statements(template: dict[str, Any], handler: str) -> list[dict[str, Any]]:
    _, function = _function(template, handler)
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for policy in _resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _allows(statement: dict[str, Any], action: str) -> bool:
    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    return statement["Effect"] == "Allow" and action in actions


def _companies_table_id(template: dict[str, Any]) -> str:
    (name,) = (name for name in _resources(template, "AWS::DynamoDB::GlobalTable") if name.startswith("DataCompanies"))
    return name


@pytest.mark.parametrize("handler", LOOKUP_HANDLERS)
def test_lookup_functions_name_companies_table(template: dict[str, Any], handler: str) -> None:
    _, function = _function(template, handler)
    variables = function["Properties"]["Environment"]["Variables"]
    assert variables["CASCADE_COMPANIES_TABLE"] == {"Ref": _companies_table_id(template)}


@pytest.mark.parametrize("handler", LOOKUP_HANDLERS)
def test_lookup_functions_write_companies_table(template: dict[str, Any], handler: str) -> None:
    table = _companies_table_id(template)
    granted = [
        statement
        for statement in _statements(template, handler)
        if _allows(statement, "dynamodb:PutItem") and table in json.dumps(statement["Resource"])
    ]
    assert granted
    assert all(_allows(statement, "dynamodb:GetItem") for statement in granted)


@pytest.mark.parametrize("handler", LOOKUP_HANDLERS)
def test_lookup_functions_read_companies_house_secret(template: dict[str, Any], handler: str) -> None:
    resources = [
        json.dumps(statement["Resource"])
        for statement in _statements(template, handler)
        if _allows(statement, "secretsmanager:GetSecretValue")
    ]
    assert any("secret:cascade/providers/companies_house-??????" in resource for resource in resources)


def test_plan_timeout_covers_bulk_lookup(template: dict[str, Any]) -> None:
    # The budget is checked before each registry request, so one request may run past it.
    settings = Settings()
    longest_request = settings.provider_connect_timeout_seconds + settings.provider_read_timeout_seconds
    _, plan = _function(template, "cascade.handlers.waterfall_plan.handler")
    assert plan["Properties"]["Timeout"] > BULK_LOOKUP_SECONDS + longest_request


def test_companies_route_uses_key_authorizer(template: dict[str, Any]) -> None:
    resources = _resources(template, "AWS::ApiGateway::Resource")
    (companies,) = (name for name, res in resources.items() if res["Properties"]["PathPart"] == "companies")
    (enrich,) = (
        name
        for name, res in resources.items()
        if res["Properties"]["PathPart"] == "enrich" and res["Properties"]["ParentId"] == {"Ref": companies}
    )
    methods = [
        method["Properties"]
        for method in _resources(template, "AWS::ApiGateway::Method").values()
        if method["Properties"]["ResourceId"] == {"Ref": enrich}
    ]
    assert [method["HttpMethod"] for method in methods] == ["POST"]
    assert methods[0]["AuthorizationType"] == "CUSTOM"
