"""Synthesize the CDK app once per module, with cdk-nag attached, and check the template."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3

from cascade.providers.registry import contact_finder_names
from cascade.storage.schema import TABLES
from infra.app import STACK_NAME, build_app
from infra.stack import _ACKNOWLEDGED_FINDINGS

REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def dependencies_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("lambda-dependencies")
    (directory / "python").mkdir()
    return directory


@pytest.fixture(scope="module")
def template_path(dependencies_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    outdir = tmp_path_factory.mktemp("cdk.out")
    build_app(dependencies_dir=dependencies_dir, outdir=str(outdir)).synth()
    return outdir / f"{STACK_NAME}.template.json"


@pytest.fixture(scope="module")
def template(template_path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(template_path.read_text())
    return loaded


def _resources(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in template["Resources"].items() if res["Type"] == resource_type}


def test_every_function_built_the_same_way(template: dict[str, Any]) -> None:
    functions = _resources(template, "AWS::Lambda::Function")
    assert functions, "the stack defines no Lambda function"
    for name, function in functions.items():
        props = function["Properties"]
        assert props["Runtime"] == "python3.11", name
        assert props["Architectures"] == ["arm64"], name
        assert props["TracingConfig"] == {"Mode": "Active"}, name
        assert props["LoggingConfig"]["LogFormat"] == "JSON", name
        assert props["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"] == "cascade", name
        assert len(props["Layers"]) == 1, name


def test_function_log_groups_have_retention(template: dict[str, Any]) -> None:
    for name, log_group in _resources(template, "AWS::Logs::LogGroup").items():
        assert log_group["Properties"]["RetentionInDays"] == 30, name


def test_function_roles_use_no_managed_policy(template: dict[str, Any]) -> None:
    for name, role in _resources(template, "AWS::IAM::Role").items():
        principal = role["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
        if principal.get("Service") == "lambda.amazonaws.com":
            assert "ManagedPolicyArns" not in role["Properties"], name


def test_api_stage_traced_and_logged(template: dict[str, Any]) -> None:
    (stage,) = _resources(template, "AWS::ApiGateway::Stage").values()
    props = stage["Properties"]
    assert props["TracingEnabled"] is True
    assert "AccessLogSetting" in props
    assert props["MethodSettings"][0]["DataTraceEnabled"] is False


def test_api_url_output_is_stable(template: dict[str, Any]) -> None:
    assert "ApiUrl" in template["Outputs"]


def test_cfn_lint_finds_nothing(template_path: Path) -> None:
    result = subprocess.run(  # noqa: S603 - fixed arguments, our own template
        [str(Path(sys.executable).with_name("cfn-lint")), "-i", "W3005", "--", str(template_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_acknowledgment_has_reason() -> None:
    for rule_id, reason in _ACKNOWLEDGED_FINDINGS.items():
        assert rule_id.startswith("AwsSolutions::AwsSolutions-"), rule_id
        assert len(reason.split()) >= 8, rule_id


def test_cdk_nag_fails_synth_on_new_finding(dependencies_dir: Path, tmp_path: Path) -> None:
    app = build_app(dependencies_dir=dependencies_dir, outdir=str(tmp_path))
    stack = app.node.find_child(STACK_NAME)
    assert isinstance(stack, cdk.Stack)
    s3.Bucket(stack, "UnencryptedTransportBucket")  # no TLS-only policy, no access logs
    with pytest.raises(RuntimeError, match="AwsSolutions-S10"):
        app.synth()


def _state_machine(template: dict[str, Any]) -> dict[str, Any]:
    (machine,) = _resources(template, "AWS::StepFunctions::StateMachine").values()
    properties: dict[str, Any] = machine["Properties"]
    return properties


def test_waterfall_is_express_traced_without_execution_data(template: dict[str, Any]) -> None:
    machine = _state_machine(template)
    assert machine["StateMachineType"] == "EXPRESS"
    assert machine["TracingConfiguration"] == {"Enabled": True}
    assert machine["LoggingConfiguration"]["IncludeExecutionData"] is False


def test_waterfall_substitutions_name_state_functions(template: dict[str, Any]) -> None:
    machine = _state_machine(template)
    functions = _resources(template, "AWS::Lambda::Function")
    for placeholder, value in machine["DefinitionSubstitutions"].items():
        assert value["Fn::GetAtt"][0] in functions, placeholder
        assert f"${{{placeholder}}}" in machine["DefinitionString"]


def test_every_provider_state_has_timeout_retry_catch(template: dict[str, Any]) -> None:
    definition = json.loads(_state_machine(template)["DefinitionString"])
    provider_states = {name: state for name, state in definition["States"].items() if name.startswith("Provider_")}
    assert set(provider_states) == {f"Provider_{name}" for name in contact_finder_names()}
    for name, state in provider_states.items():
        assert state["Type"] == "Task", name
        assert state["TimeoutSeconds"] > 0, name
        (retry,) = state["Retry"]
        assert "ProviderThrottledError" in retry["ErrorEquals"], name
        assert retry["JitterStrategy"] == "FULL", name
        assert retry["MaxDelaySeconds"] > 0, name
        (catch,) = state["Catch"]
        assert catch["ErrorEquals"] == ["States.ALL"], name
        assert catch["Next"] == "RecordFailure", name


def test_state_functions_have_least_privilege(template: dict[str, Any]) -> None:
    policies = _resources(template, "AWS::IAM::Policy")
    step_policy = next(p for name, p in policies.items() if name.startswith("OrchestrationStepRole"))
    actions = {
        action
        for statement in step_policy["Properties"]["PolicyDocument"]["Statement"]
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }
    assert not any(action.startswith("dynamodb:") for action in actions)
    assert "secretsmanager:GetSecretValue" in actions


def test_tables_match_storage_schema(template: dict[str, Any]) -> None:
    tables = _resources(template, "AWS::DynamoDB::GlobalTable")
    assert len(tables) == len(TABLES)
    key_sets = sorted(
        tuple(sorted((key["AttributeName"], key["KeyType"]) for key in table["Properties"]["KeySchema"]))
        for table in tables.values()
    )
    expected = sorted(
        tuple(sorted([(spec.partition_key, "HASH")] + ([(spec.sort_key, "RANGE")] if spec.sort_key else [])))
        for spec in TABLES
    )
    assert key_sets == expected


def test_api_routes_use_key_authorizer(template: dict[str, Any]) -> None:
    methods = _resources(template, "AWS::ApiGateway::Method")
    resources = _resources(template, "AWS::ApiGateway::Resource")
    by_path = {
        (
            method["Properties"]["HttpMethod"],
            resources[method["Properties"]["ResourceId"]["Ref"]]["Properties"]["PathPart"],
        ): method["Properties"]
        for method in methods.values()
        if "Ref" in method["Properties"]["ResourceId"]
    }
    assert by_path[("GET", "openapi.json")]["AuthorizationType"] == "NONE"
    for route in (
        ("POST", "enrich"),
        ("GET", "{enrichment_id}"),
        ("GET", "usage"),
        ("GET", "export"),
        ("POST", "jobs"),
        ("GET", "{job_id}"),
        ("POST", "cancel"),
        ("POST", "bounce"),
    ):
        assert by_path[route]["AuthorizationType"] == "CUSTOM", route


def test_api_gateway_routes_match_openapi(template: dict[str, Any]) -> None:
    """Every operation of the generated OpenAPI document has an API Gateway method, and no other exists."""
    methods = _resources(template, "AWS::ApiGateway::Method")
    resources = _resources(template, "AWS::ApiGateway::Resource")

    def path_of(resource_id: str) -> str:
        properties = resources[resource_id]["Properties"]
        parent = properties["ParentId"]
        prefix = path_of(parent["Ref"]) if "Ref" in parent else ""
        return f"{prefix}/{properties['PathPart']}"

    deployed = {
        (method["Properties"]["HttpMethod"], path_of(method["Properties"]["ResourceId"]["Ref"]))
        for method in methods.values()
        if "Ref" in method["Properties"]["ResourceId"] and method["Properties"]["HttpMethod"] != "OPTIONS"
    }
    document = json.loads((REPOSITORY / "docs" / "openapi.json").read_text(encoding="utf-8"))
    documented = {(method.upper(), path) for path, operations in document["paths"].items() for method in operations}
    assert deployed == documented


def test_api_authorizer_cache_off_for_either_header(template: dict[str, Any]) -> None:
    (authorizer,) = _resources(template, "AWS::ApiGateway::Authorizer").values()
    assert authorizer["Properties"]["Type"] == "REQUEST"
    assert authorizer["Properties"]["AuthorizerResultTtlInSeconds"] == 0
    assert not authorizer["Properties"].get("IdentitySource")


def test_api_gateway_rejections_are_problem_documents(template: dict[str, Any]) -> None:
    responses = _resources(template, "AWS::ApiGateway::GatewayResponse")
    kinds = {response["Properties"]["ResponseType"] for response in responses.values()}
    assert kinds == {"UNAUTHORIZED", "ACCESS_DENIED", "REQUEST_TOO_LARGE"}
    for response in responses.values():
        body = json.loads(response["Properties"]["ResponseTemplates"]["application/problem+json"])
        assert body["status"] == int(response["Properties"]["StatusCode"])
