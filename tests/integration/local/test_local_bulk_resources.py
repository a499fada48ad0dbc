"""The local stack's buckets and queues against the storage schema and against the synthesized CDK template."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from cascade.storage.schema import BUCKETS, FILES, INGEST, QUEUES, UPLOADS_PREFIX
from infra.app import STACK_NAME, build_app
from infra.bulk_consumers import bucket_variable, queue_url_variable
from infra.local.bulk_resources import bucket_names
from infra.local.stack import LocalStack

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    dependencies = tmp_path_factory.mktemp("lambda-dependencies")
    (dependencies / "python").mkdir()
    outdir = tmp_path_factory.mktemp("cdk.out")
    build_app(dependencies_dir=dependencies, outdir=str(outdir)).synth()
    loaded: dict[str, Any] = json.loads((Path(outdir) / f"{STACK_NAME}.template.json").read_text())
    return loaded


def _client(local_stack: LocalStack, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=local_stack.endpoints.aws_endpoint_url,
        region_name=local_stack.endpoints.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _template_variables(template: dict[str, Any]) -> dict[str, str]:
    """Map each CASCADE_* variable of the functions that is a Ref to the logical id of the resource it names."""
    variables: dict[str, str] = {}
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        for name, value in resource["Properties"]["Environment"]["Variables"].items():
            if name.startswith("CASCADE_") and isinstance(value, dict) and "Ref" in value:
                variables[name] = value["Ref"]
    return variables


def _local_queue(local_stack: LocalStack, url: str) -> dict[str, str]:
    attributes: dict[str, str] = _client(local_stack, "sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])[
        "Attributes"
    ]
    return attributes


def test_local_queues_match_template(template: dict[str, Any], local_stack: LocalStack) -> None:
    variables = _template_variables(template)
    settings = local_stack.settings
    for spec in QUEUES:
        deployed = template["Resources"][variables[queue_url_variable(spec)]]["Properties"]
        url = getattr(settings, f"{spec.logical_name}_queue_url")
        assert url is not None, spec.logical_name
        local = _local_queue(local_stack, url)
        assert int(local["VisibilityTimeout"]) == deployed["VisibilityTimeout"] == spec.visibility_timeout_seconds
        redrive = json.loads(local["RedrivePolicy"])
        assert redrive["maxReceiveCount"] == deployed["RedrivePolicy"]["maxReceiveCount"] == spec.max_receive_count
        dead_letter_name = redrive["deadLetterTargetArn"].rsplit(":", 1)[1]
        dead_letter_url = _client(local_stack, "sqs").get_queue_url(QueueName=dead_letter_name)["QueueUrl"]
        assert "RedrivePolicy" not in _local_queue(local_stack, dead_letter_url)


def test_local_queue_urls_cover_template(template: dict[str, Any], local_stack: LocalStack) -> None:
    deployed = {name for name in _template_variables(template) if name.endswith("_QUEUE_URL")}
    assert deployed == {queue_url_variable(spec) for spec in QUEUES}


def test_local_buckets_cover_template(template: dict[str, Any], local_stack: LocalStack) -> None:
    names = bucket_names(local_stack.settings)
    existing = {bucket["Name"] for bucket in _client(local_stack, "s3").list_buckets()["Buckets"]}
    assert set(names.values()) <= existing
    assert set(names) == {spec.logical_name for spec in BUCKETS}
    deployed = {name for name in _template_variables(template) if name.endswith("_BUCKET")}
    # Every bucket named in the deployed functions' environment exists locally under its settings name.
    assert deployed <= {bucket_variable(spec.logical_name) for spec in BUCKETS}
    assert bucket_variable(FILES.logical_name) in deployed


def test_local_files_bucket_matches_template(template: dict[str, Any], local_stack: LocalStack) -> None:
    deployed = template["Resources"][_template_variables(template)[bucket_variable(FILES.logical_name)]]
    s3 = _client(local_stack, "s3")
    bucket = local_stack.settings.files_bucket
    assert (
        s3.get_bucket_versioning(Bucket=bucket)["Status"] == deployed["Properties"]["VersioningConfiguration"]["Status"]
    )
    (local,) = s3.get_bucket_notification_configuration(Bucket=bucket)["QueueConfigurations"]
    (remote,) = deployed["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
    assert local["Events"] == [remote["Event"]]
    local_rules = [(rule["Name"].lower(), rule["Value"]) for rule in local["Filter"]["Key"]["FilterRules"]]
    remote_rules = [(rule["Name"].lower(), rule["Value"]) for rule in remote["Filter"]["S3Key"]["Rules"]]
    assert local_rules == remote_rules == [("prefix", UPLOADS_PREFIX)]
    ingest_url = local_stack.settings.ingest_queue_url
    assert ingest_url is not None
    assert local["QueueArn"] == _local_queue(local_stack, ingest_url)["QueueArn"]
    assert remote["Queue"]["Fn::GetAtt"][0] == _template_variables(template)[queue_url_variable(INGEST)]
