"""The bulk jobs resources of the synthesized stack: files bucket, queues, consumers, grants and alarms."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import aws_cdk as cdk
import pytest

from cascade.storage.schema import QUEUES, RESULTS_PREFIX, UPLOADS_PREFIX, QueueSpec
from infra.app import STACK_NAME, build_app
from infra.bulk_consumers import (
    CONSUMERS,
    DEFAULT_WORKER_MAX_CONCURRENCY,
    INGEST_CONSUMER,
    WEBHOOK_CONSUMER,
    WORKER_CONSUMER,
    QueueConsumer,
    queue_url_variable,
)
from infra.constructs.bulk import UPLOADS_EXPIRE_DAYS, Bulk

Resources = dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    dependencies = tmp_path_factory.mktemp("lambda-dependencies")
    (dependencies / "python").mkdir()
    outdir = tmp_path_factory.mktemp("cdk.out")
    build_app(dependencies_dir=dependencies, outdir=str(outdir)).synth()
    loaded: dict[str, Any] = json.loads((Path(outdir) / f"{STACK_NAME}.template.json").read_text())
    return loaded


def _resources(template: dict[str, Any], resource_type: str) -> Resources:
    return {name: res for name, res in template["Resources"].items() if res["Type"] == resource_type}


def _files_bucket(template: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    (name,) = (name for name in _resources(template, "AWS::S3::Bucket") if name.startswith("BulkStorageFiles"))
    return name, template["Resources"][name]


def _queue_id(template: dict[str, Any], spec: QueueSpec) -> str:
    """Return the logical id of the queue whose URL the functions get as ``CASCADE_<NAME>_QUEUE_URL``."""
    variable = queue_url_variable(spec)
    for function in _resources(template, "AWS::Lambda::Function").values():
        value = function["Properties"]["Environment"]["Variables"].get(variable)
        if value is not None:
            return cast(str, value["Ref"])
    raise AssertionError(f"no function has {variable}")


def _function_id(template: dict[str, Any], handler: str) -> str:
    (name,) = (
        name
        for name, function in _resources(template, "AWS::Lambda::Function").items()
        if function["Properties"]["Handler"] == handler
    )
    return name


def _statements(template: dict[str, Any], function_id: str) -> list[dict[str, Any]]:
    role = template["Resources"][function_id]["Properties"]["Role"]["Fn::GetAtt"][0]
    statements: list[dict[str, Any]] = []
    for policy in _resources(template, "AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"]["Roles"]:
            statements.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return statements


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def _granted(template: dict[str, Any], function_id: str, action: str, resource_text: str) -> bool:
    """Return whether the function's role allows ``action`` on a resource whose JSON contains ``resource_text``."""
    return any(
        statement["Effect"] == "Allow" and action in _actions(statement) and resource_text in json.dumps(statement)
        for statement in _statements(template, function_id)
    )


def test_files_bucket_blocks_public_access(template: dict[str, Any]) -> None:
    _, bucket = _files_bucket(template)
    block = bucket["Properties"]["PublicAccessBlockConfiguration"]
    assert block == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }


def test_files_bucket_encrypted_versioned_logged(template: dict[str, Any]) -> None:
    _, bucket = _files_bucket(template)
    properties = bucket["Properties"]
    (rule,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    log_bucket = properties["LoggingConfiguration"]["DestinationBucketName"]["Ref"]
    assert template["Resources"][log_bucket]["Type"] == "AWS::S3::Bucket"


def test_every_bucket_requires_tls(template: dict[str, Any]) -> None:
    policies = _resources(template, "AWS::S3::BucketPolicy")
    for name in _resources(template, "AWS::S3::Bucket"):
        (policy,) = (policy for policy in policies.values() if policy["Properties"]["Bucket"] == {"Ref": name})
        denies = [
            statement
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
            if statement["Effect"] == "Deny"
        ]
        assert any(statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}} for statement in denies), name


def test_files_bucket_lifecycle_expires_uploads(template: dict[str, Any]) -> None:
    _, bucket = _files_bucket(template)
    rules = {
        rule["Prefix"]: rule for rule in bucket["Properties"]["LifecycleConfiguration"]["Rules"] if "Prefix" in rule
    }
    assert rules[UPLOADS_PREFIX]["ExpirationInDays"] == UPLOADS_EXPIRE_DAYS
    assert rules[RESULTS_PREFIX]["ExpirationInDays"] == 180
    assert rules[UPLOADS_PREFIX]["NoncurrentVersionExpiration"]["NoncurrentDays"] >= 1


def test_uploads_notify_ingest_queue(template: dict[str, Any]) -> None:
    _, bucket = _files_bucket(template)
    ingest_queue = _queue_id(template, QUEUES[0])
    (configuration,) = bucket["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
    assert configuration["Event"] == "s3:ObjectCreated:*"
    assert configuration["Queue"] == {"Fn::GetAtt": [ingest_queue, "Arn"]}
    assert configuration["Filter"]["S3Key"]["Rules"] == [{"Name": "prefix", "Value": UPLOADS_PREFIX}]
    # S3 checks the queue policy when it stores the notification, so the bucket must be created after it.
    (policy_id,) = (
        policy_id
        for policy_id, policy in _resources(template, "AWS::SQS::QueuePolicy").items()
        if policy["Properties"]["Queues"] == [{"Ref": ingest_queue}]
    )
    assert policy_id in bucket["DependsOn"]
    policy = template["Resources"][policy_id]["Properties"]["PolicyDocument"]
    (allow,) = (statement for statement in policy["Statement"] if statement["Effect"] == "Allow")
    assert allow["Principal"] == {"Service": "s3.amazonaws.com"}
    assert "sqs:SendMessage" in _actions(allow)
    assert json.dumps(bucket["Properties"]["BucketName"]) in json.dumps(allow["Condition"]["ArnEquals"])
    assert "aws:SourceAccount" in allow["Condition"]["StringEquals"]


@pytest.mark.parametrize("spec", QUEUES, ids=[spec.logical_name for spec in QUEUES])
def test_queue_matches_spec_with_dead_letter(template: dict[str, Any], spec: QueueSpec) -> None:
    queue_id = _queue_id(template, spec)
    properties = template["Resources"][queue_id]["Properties"]
    assert properties["VisibilityTimeout"] == spec.visibility_timeout_seconds
    assert properties["SqsManagedSseEnabled"] is True
    redrive = properties["RedrivePolicy"]
    assert redrive["maxReceiveCount"] == spec.max_receive_count
    dead_letter_id = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
    assert template["Resources"][dead_letter_id]["Properties"]["SqsManagedSseEnabled"] is True


def test_every_queue_requires_tls(template: dict[str, Any]) -> None:
    policies = _resources(template, "AWS::SQS::QueuePolicy")
    for name in _resources(template, "AWS::SQS::Queue"):
        (policy,) = (policy for policy in policies.values() if policy["Properties"]["Queues"] == [{"Ref": name}])
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for statement in statements
        ), name


@pytest.mark.parametrize("consumer", CONSUMERS, ids=[consumer.queue.logical_name for consumer in CONSUMERS])
def test_consumer_reports_batch_item_failures(template: dict[str, Any], consumer: QueueConsumer) -> None:
    spec = consumer.queue
    queue_id = _queue_id(template, spec)
    function_id = _function_id(template, consumer.handler)
    (mapping,) = (
        mapping["Properties"]
        for mapping in _resources(template, "AWS::Lambda::EventSourceMapping").values()
        if mapping["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    )
    assert mapping["FunctionName"] == {"Ref": function_id}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] == consumer.batch_size
    assert template["Resources"][function_id]["Properties"]["Timeout"] == consumer.timeout_seconds


def test_worker_concurrency_capped(template: dict[str, Any]) -> None:
    worker = _function_id(template, WORKER_CONSUMER.handler)
    (mapping,) = (
        mapping["Properties"]
        for mapping in _resources(template, "AWS::Lambda::EventSourceMapping").values()
        if mapping["Properties"]["FunctionName"] == {"Ref": worker}
    )
    assert mapping["ScalingConfig"] == {"MaximumConcurrency": DEFAULT_WORKER_MAX_CONCURRENCY}


def test_consumer_timeout_must_undercut_visibility() -> None:
    with pytest.raises(ValueError, match="not below the queue's visibility timeout of 360 s"):
        QueueConsumer(
            queue=QUEUES[1], handler="h.handler", description="d", batch_size=1, timeout_seconds=360, memory_mb=128
        )


def test_worker_concurrency_out_of_range(tmp_path: Path) -> None:
    stack = cdk.Stack(cdk.App(outdir=str(tmp_path)), "Probe")
    with pytest.raises(ValueError, match="worker_max_concurrency 1 is outside 2 to 1000"):
        Bulk(
            stack,
            "Bulk",
            storage=cast(Any, None),
            data=cast(Any, None),
            state_machine=cast(Any, None),
            api_function=cast(Any, None),
            dependencies=cast(Any, None),
            shared_environment={},
            worker_max_concurrency=1,
        )


def test_dead_letter_queues_alarm_on_any_message(template: dict[str, Any]) -> None:
    alarms = _resources(template, "AWS::CloudWatch::Alarm")
    alarmed = {
        alarm["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for alarm in alarms.values()
        if alarm["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
        and alarm["Properties"]["Threshold"] == 0
        and alarm["Properties"]["ComparisonOperator"] == "GreaterThanThreshold"
    }
    dead_letter_queues = {
        template["Resources"][_queue_id(template, spec)]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"][
            "Fn::GetAtt"
        ][0]
        for spec in QUEUES
    }
    assert alarmed == dead_letter_queues


def test_every_function_names_bucket_and_queues(template: dict[str, Any]) -> None:
    expected = {"CASCADE_FILES_BUCKET", *(queue_url_variable(spec) for spec in QUEUES)}
    for name, function in _resources(template, "AWS::Lambda::Function").items():
        variables = set(function["Properties"]["Environment"]["Variables"])
        assert expected <= variables, name


def test_ingest_grants(template: dict[str, Any]) -> None:
    ingest = _function_id(template, INGEST_CONSUMER.handler)
    rows_queue = _queue_id(template, QUEUES[1])
    assert _granted(template, ingest, "s3:GetObject*", f"/{UPLOADS_PREFIX}*")
    assert not _granted(template, ingest, "s3:GetObject*", f"/{RESULTS_PREFIX}*")
    assert _granted(template, ingest, "s3:PutObject", f"/{RESULTS_PREFIX}*")
    assert not _granted(template, ingest, "s3:PutObject", f"/{UPLOADS_PREFIX}*")
    assert _granted(template, ingest, "sqs:SendMessage", rows_queue)
    assert _granted(template, ingest, "dynamodb:PutItem", "DataJobRows")
    assert not _granted(template, ingest, "dynamodb:PutItem", "DataLedger")


def test_worker_grants(template: dict[str, Any]) -> None:
    worker = _function_id(template, WORKER_CONSUMER.handler)
    webhooks_queue = _queue_id(template, QUEUES[2])
    assert _granted(template, worker, "states:StartSyncExecution", "OrchestrationWaterfall")
    assert _granted(template, worker, "s3:PutObject", f"/{RESULTS_PREFIX}*")
    assert not _granted(template, worker, "s3:PutObject", f"/{UPLOADS_PREFIX}*")
    assert _granted(template, worker, "sqs:SendMessage", webhooks_queue)
    assert not _granted(template, worker, "dynamodb:PutItem", "DataLedger")
    assert not _granted(template, worker, "dynamodb:PutItem", "DataUsage")
    variables = template["Resources"][worker]["Properties"]["Environment"]["Variables"]
    assert "CASCADE_WATERFALL_STATE_MACHINE_ARN" in variables


def test_webhook_grants(template: dict[str, Any]) -> None:
    webhook = _function_id(template, WEBHOOK_CONSUMER.handler)
    assert _granted(template, webhook, "dynamodb:UpdateItem", "DataJobs")
    assert not any(action.startswith("s3:") for s in _statements(template, webhook) for action in _actions(s))
    assert not _granted(template, webhook, "states:StartSyncExecution", "OrchestrationWaterfall")


def test_api_grants_for_jobs(template: dict[str, Any]) -> None:
    api = _function_id(template, "cascade.handlers.api.handler")
    assert _granted(template, api, "s3:PutObject", f"/{UPLOADS_PREFIX}*")
    assert _granted(template, api, "s3:GetObject*", f"/{RESULTS_PREFIX}*")
    assert not _granted(template, api, "s3:GetObject*", f"/{UPLOADS_PREFIX}*")
    assert _granted(template, api, "dynamodb:PutItem", "DataJobs")
    assert not _granted(template, api, "sqs:ReceiveMessage", _queue_id(template, QUEUES[1]))


def test_files_bucket_name_output(template: dict[str, Any]) -> None:
    name, _ = _files_bucket(template)
    assert template["Outputs"]["FilesBucketName"]["Value"] == {"Ref": name}
