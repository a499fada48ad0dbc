"""Usage billing: the billing bucket, the monthly export function and its schedule, and the API's billing grants.

The export function runs at 03:00 UTC on the 1st of every month and writes each billed key's export
of the month that just closed to ``exports/<YYYY-MM>/`` in the billing bucket. The API function gets
what its billing routes need: the ledger and counters for refunds, the freshness store for bounced
values, and the provider secrets for the email verifiers.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, ArnFormat, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from cascade.settings import Settings
from cascade.storage.exports_bucket import EXPORTS_PREFIX
from cascade.storage.schema import BILLING
from infra.constructs.data import Data, index_grant_acknowledgment, logical_id
from infra.constructs.lambda_function import CascadeFunction, FunctionSpec

# 03:00 UTC on the 1st. Billing months are UTC months, so the month closed three hours earlier, and the
# ledger's eventually consistent index has caught up with its last lines by then.
MONTHLY_SCHEDULE = events.Schedule.expression("cron(0 3 1 * ? *)")
BILLING_BUCKET_VARIABLE = f"CASCADE_{BILLING.logical_name.upper()}_BUCKET"


class Billing(Construct):
    """The billing bucket, the scheduled export function, and the billing grants of the API function.

    The bucket blocks public access, requires TLS, encrypts with S3-managed keys, keeps every version of
    each export, logs access to ``access_logs`` and is retained when the stack is deleted.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        data: Data,
        settings: Settings,
        access_logs: s3.IBucket,
        api_function: CascadeFunction,
        dependencies: lambda_.ILayerVersion,
        shared_environment: dict[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            encryption=s3.BucketEncryption.S3_MANAGED,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="billing/",
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.export_function = CascadeFunction(
            self,
            "MonthlyExport",
            spec=FunctionSpec(
                handler="cascade.handlers.billing_export.handler",
                description="Writes each key's monthly usage export to the billing bucket",
                memory_mb=512,
                timeout=Duration.minutes(15),
                environment={BILLING_BUCKET_VARIABLE: self.bucket.bucket_name},
                # One run at a time: a re-run started while the schedule runs would write the same files.
                reserved_concurrency=1,
            ),
            dependencies=dependencies,
            shared_environment=shared_environment,
        )
        export = self.export_function.function
        tables = data.tables
        tables["ledger"].grant_read_data(export)
        tables["usage"].grant_read_data(export)
        self.bucket.grant_put(export, f"{EXPORTS_PREFIX}*")

        self.rule = events.Rule(
            self,
            "MonthlySchedule",
            description="Starts the monthly usage export for the month that just closed",
            schedule=MONTHLY_SCHEDULE,
        )
        self.rule.add_target(targets.LambdaFunction(export, retry_attempts=2))

        api = api_function.function
        tables["ledger"].grant_read_write_data(api)
        tables["usage"].grant_read_write_data(api)
        tables["freshness"].grant_read_write_data(api)
        provider_secrets = Stack.of(self).format_arn(
            service="secretsmanager",
            resource="secret",
            resource_name=f"{settings.provider_secret_prefix}*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        api.add_to_role_policy(
            iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[provider_secrets])
        )
        self._acknowledge_wildcards(data, api_function, provider_secrets_prefix=settings.provider_secret_prefix)

    def _acknowledge_wildcards(
        self, data: Data, api_function: CascadeFunction, *, provider_secrets_prefix: str
    ) -> None:
        """Acknowledge the wildcards that CDK's grants write, on this construct and on the API function."""
        bucket = logical_id(self.bucket)
        acknowledgments = [
            Acknowledgment(
                id=f"AwsSolutions::AwsSolutions-IAM5[Resource::<{bucket}.Arn>/{EXPORTS_PREFIX}*]",
                reason="The export function writes one file per billed key under the exports prefix; the keys "
                "are not known when the stack is deployed.",
            ),
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Action::s3:Abort*]",
                reason="CDK's put grant includes s3:AbortMultipartUpload, limited to the exports prefix.",
            ),
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:"
                f"<AWS::AccountId>:secret:{provider_secrets_prefix}*]",
                reason="Bounce reports re-verify emails with the verifiers, whose secrets live under this prefix; "
                "Secrets Manager appends a random suffix to every secret ARN, so the grant needs a wildcard.",
            ),
            index_grant_acknowledgment(data.tables["ledger"], "The export function and the API"),
            index_grant_acknowledgment(data.tables["usage"], "The export function and the API"),
            index_grant_acknowledgment(data.tables["freshness"], "The API"),
        ]
        Validations.of(self).acknowledge(*acknowledgments)
        Validations.of(api_function).acknowledge(*acknowledgments)
