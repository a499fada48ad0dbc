"""Cascade's one CloudFormation stack, composed of constructs by concern."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Acknowledgment, CfnOutput, Stack, Validations
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from cascade.settings import Settings
from infra.constructs.api import Api
from infra.constructs.billing import Billing
from infra.constructs.bulk import Bulk, BulkStorage
from infra.constructs.companies import CompanyLookups
from infra.constructs.data import Data
from infra.constructs.lambda_function import ARCHITECTURE, RUNTIME
from infra.constructs.orchestration import Orchestration


class CascadeStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        dependencies_dir: Path,
        settings: Settings,
        **kwargs: object,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        dependencies = lambda_.LayerVersion(
            self,
            "Dependencies",
            code=lambda_.Code.from_asset(str(dependencies_dir)),
            compatible_runtimes=[RUNTIME],
            compatible_architectures=[ARCHITECTURE],
            description="Third-party packages of the Cascade functions (the runtime dependency group)",
        )
        data = Data(self, "Data")
        bulk_storage = BulkStorage(self, "BulkStorage", settings=settings)
        shared_environment = {**data.environment(), **bulk_storage.environment()}
        orchestration = Orchestration(
            self,
            "Orchestration",
            data=data,
            settings=settings,
            dependencies=dependencies,
            shared_environment=shared_environment,
        )
        api = Api(
            self,
            "Api",
            data=data,
            state_machine=orchestration.state_machine,
            dependencies=dependencies,
            shared_environment=shared_environment,
        )
        CompanyLookups(
            self,
            "CompanyLookups",
            data=data,
            settings=settings,
            functions=(api.api_function, orchestration.plan),
        )
        Bulk(
            self,
            "Bulk",
            storage=bulk_storage,
            data=data,
            state_machine=orchestration.state_machine,
            api_function=api.api_function,
            dependencies=dependencies,
            shared_environment=shared_environment,
        )
        billing = Billing(
            self,
            "Billing",
            data=data,
            settings=settings,
            access_logs=bulk_storage.access_logs,
            api_function=api.api_function,
            dependencies=dependencies,
            shared_environment=shared_environment,
        )
        CfnOutput(
            self, "BillingBucketName", value=billing.bucket.bucket_name, export_name=f"{construct_id}-BillingBucketName"
        )
        CfnOutput(
            self,
            "FilesBucketName",
            value=bulk_storage.files_bucket.bucket_name,
            export_name=f"{construct_id}-FilesBucketName",
        )
        CfnOutput(
            self,
            "WaterfallStateMachineArn",
            value=orchestration.state_machine.state_machine_arn,
            export_name=f"{construct_id}-WaterfallStateMachineArn",
        )
        CfnOutput(self, "ApiUrl", value=api.rest_api.url, export_name=f"{construct_id}-ApiUrl")
        self._acknowledge_nag_findings()

    def _acknowledge_nag_findings(self) -> None:
        """Acknowledge the AWS Solutions findings that are accepted for the whole stack, each with its reason."""
        validations = Validations.of(self)
        for rule_id, reason in _ACKNOWLEDGED_FINDINGS.items():
            validations.acknowledge(Acknowledgment(id=rule_id, reason=reason))


_ACKNOWLEDGED_FINDINGS = {
    "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
    "AmazonAPIGatewayPushToCloudWatchLogs]": (
        "API Gateway's account-level CloudWatch role uses this AWS managed policy; it is the documented "
        "way to enable access logs, and no Cascade function uses a managed policy."
    ),
    "AwsSolutions::AwsSolutions-IAM5[Resource::*]": (
        "X-Ray PutTraceSegments and PutTelemetryRecords accept no resource scoping; CDK grants them on "
        "Resource '*' when active tracing is on."
    ),
    "AwsSolutions::AwsSolutions-L1": (
        "The code targets Python 3.11, the version the project pins and tests; moving the runtime is a "
        "deliberate upgrade, not an automatic one."
    ),
    "AwsSolutions::AwsSolutions-APIG3": (
        "No WAF web ACL: every route except the OpenAPI document is authorised by API key and the stage "
        "is throttled; attaching a WAF is an operator choice per account."
    ),
    "AwsSolutions::AwsSolutions-APIG4": (
        "GET /v1/openapi.json is public on purpose; the enrichment routes use the API-key Lambda authorizer."
    ),
    "AwsSolutions::AwsSolutions-COG4": (
        "Customers authenticate with Cascade API keys through a Lambda authorizer, not Cognito user pools."
    ),
}
