"""Bulk jobs: the files bucket, the ingest, rows and webhooks queues, and the three functions that consume them.

``BulkStorage`` contains the bucket and the queues, so that every function of the stack can be given their
names before any function exists. ``Bulk`` adds the consuming functions, their grants and the dead-letter
alarms once the waterfall state machine and the API function exist.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Aws, Duration, Fn, RemovalPolicy, Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from cascade.settings import Settings
from cascade.storage.schema import FILES, INGEST, QUEUES, RESULTS_PREFIX, ROWS, UPLOADS_PREFIX, WEBHOOKS, QueueSpec
from infra.bulk_consumers import (
    DEFAULT_WORKER_MAX_CONCURRENCY,
    INGEST_CONSUMER,
    MAX_MAX_CONCURRENCY,
    MIN_MAX_CONCURRENCY,
    WEBHOOK_CONSUMER,
    WORKER_CONSUMER,
    QueueConsumer,
    bucket_variable,
    queue_url_variable,
)
from infra.constructs.data import Data, index_grant_acknowledgment, logical_id
from infra.constructs.lambda_function import CascadeFunction, FunctionSpec

# Uploaded input files are deleted this many days after upload; the results stay for the retention period.
UPLOADS_EXPIRE_DAYS = 30
ACCESS_LOGS_EXPIRE_DAYS = 90
SERVER_ACCESS_LOGS_USE_BUCKET_POLICY = "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy"
# A dead-letter queue keeps a failed message for SQS's maximum retention, so an operator can inspect it.
DEAD_LETTER_RETENTION = Duration.days(14)


class BulkStorage(Construct):
    """The files bucket, its access-log bucket, and each queue of ``schema.QUEUES`` with its dead-letter queue.

    The files bucket blocks public access, requires TLS, encrypts with S3-managed keys, keeps versions,
    logs access to ``access_logs`` and sends every ObjectCreated event under ``uploads/`` to the ingest queue.
    """

    def __init__(self, scope: Construct, construct_id: str, *, settings: Settings) -> None:
        super().__init__(scope, construct_id)
        # Grant the S3 logging service through the log bucket's policy instead of the legacy log-delivery ACL,
        # so both buckets can disable ACLs. Without this flag CDK would require ACLs on the log bucket.
        self.node.set_context(SERVER_ACCESS_LOGS_USE_BUCKET_POLICY, True)
        self.access_logs = s3.Bucket(
            self,
            "AccessLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            encryption=s3.BucketEncryption.S3_MANAGED,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            lifecycle_rules=[
                s3.LifecycleRule(id="ExpireAccessLogs", expiration=Duration.days(ACCESS_LOGS_EXPIRE_DAYS))
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        Validations.of(self.access_logs).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-S1",
                reason="This bucket receives the files bucket's server access logs; logging the log bucket "
                "into itself would only log its own log deliveries.",
            )
        )

        self.dead_letter_queues: dict[str, sqs.Queue] = {}
        self.queues: dict[str, sqs.Queue] = {}
        for spec in QUEUES:
            self._queue(spec)

        self.files_bucket = s3.Bucket(
            self,
            "Files",
            # The name is fixed before the bucket exists, so the ingest queue's policy can name the bucket
            # without depending on it: S3 checks that policy when the bucket's notification is created.
            bucket_name=self._files_bucket_name(),
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            encryption=s3.BucketEncryption.S3_MANAGED,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="files/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="ExpireUploads",
                    prefix=UPLOADS_PREFIX,
                    expiration=Duration.days(UPLOADS_EXPIRE_DAYS),
                    noncurrent_version_expiration=Duration.days(1),
                ),
                s3.LifecycleRule(
                    id="ExpireResults",
                    prefix=RESULTS_PREFIX,
                    expiration=Duration.days(settings.retention_days),
                    noncurrent_version_expiration=Duration.days(1),
                ),
                s3.LifecycleRule(id="AbortIncompleteUploads", abort_incomplete_multipart_upload_after=Duration.days(1)),
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        self._notify_ingest_queue()

    def environment(self) -> dict[str, str]:
        """Return the settings variables that name the files bucket and every queue, for every function."""
        variables = {bucket_variable(FILES.logical_name): self.files_bucket.bucket_name}
        for spec in QUEUES:
            variables[queue_url_variable(spec)] = self.queues[spec.logical_name].queue_url
        return variables

    def _queue(self, spec: QueueSpec) -> None:
        name = spec.logical_name.title()
        dead_letter_queue = sqs.Queue(
            self,
            f"{name}DeadLetter",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=DEAD_LETTER_RETENTION,
        )
        queue = sqs.Queue(
            self,
            f"{name}Queue",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(spec.visibility_timeout_seconds),
            dead_letter_queue=sqs.DeadLetterQueue(queue=dead_letter_queue, max_receive_count=spec.max_receive_count),
        )
        self.dead_letter_queues[spec.logical_name] = dead_letter_queue
        self.queues[spec.logical_name] = queue

    def _files_bucket_name(self) -> str:
        # The last part of the stack id is a lowercase UUID, so the name is unique per stack and valid for S3.
        stack_uuid = Fn.select(2, Fn.split("/", Aws.STACK_ID))
        return Fn.join("-", ["cascade-files", stack_uuid])

    def _notify_ingest_queue(self) -> None:
        """Send the bucket's ObjectCreated events under ``uploads/`` to the ingest queue.

        The notification is set on the bucket resource itself, not through CDK's notifications custom
        resource, which would add a Lambda function with an AWS-managed policy.
        """
        ingest_queue = self.queues[INGEST.logical_name]
        bucket_arn = Fn.join("", ["arn:", Aws.PARTITION, ":s3:::", self._files_bucket_name()])
        ingest_queue.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowFilesBucketNotifications",
                principals=[iam.ServicePrincipal("s3.amazonaws.com")],
                actions=["sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"],
                resources=[ingest_queue.queue_arn],
                conditions={
                    "ArnEquals": {"aws:SourceArn": bucket_arn},
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                },
            )
        )
        cfn_bucket = self.files_bucket.node.default_child
        if not isinstance(cfn_bucket, s3.CfnBucket):
            raise TypeError("the files bucket has no CfnBucket resource")
        cfn_bucket.notification_configuration = s3.CfnBucket.NotificationConfigurationProperty(
            queue_configurations=[
                s3.CfnBucket.QueueConfigurationProperty(
                    event="s3:ObjectCreated:*",
                    queue=ingest_queue.queue_arn,
                    filter=s3.CfnBucket.NotificationFilterProperty(
                        s3_key=s3.CfnBucket.S3KeyFilterProperty(
                            rules=[s3.CfnBucket.FilterRuleProperty(name="prefix", value=UPLOADS_PREFIX)]
                        )
                    ),
                )
            ]
        )
        # S3 validates the destination when it stores the notification, so the queue policy must exist first.
        self.files_bucket.node.add_dependency(ingest_queue)


class Bulk(Construct):
    """The ingest, worker and webhook functions on their queues, their grants and one alarm per dead-letter queue.

    ``worker_max_concurrency`` caps how many worker invocations run at once (2 to 1000). Every row runs a
    waterfall, so the cap, times the rows per invocation, bounds the bulk traffic that reaches the providers.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        storage: BulkStorage,
        data: Data,
        state_machine: sfn.IStateMachine,
        api_function: CascadeFunction,
        dependencies: lambda_.ILayerVersion,
        shared_environment: dict[str, str],
        worker_max_concurrency: int = DEFAULT_WORKER_MAX_CONCURRENCY,
    ) -> None:
        super().__init__(scope, construct_id)
        if not MIN_MAX_CONCURRENCY <= worker_max_concurrency <= MAX_MAX_CONCURRENCY:
            raise ValueError(
                f"worker_max_concurrency {worker_max_concurrency} is outside {MIN_MAX_CONCURRENCY} to "
                f"{MAX_MAX_CONCURRENCY}, the range SQS event sources accept; pass a value in that range"
            )
        self.storage = storage
        state_machine_environment = {"CASCADE_WATERFALL_STATE_MACHINE_ARN": state_machine.state_machine_arn}

        def function(name: str, consumer: QueueConsumer, environment: dict[str, str]) -> CascadeFunction:
            spec = FunctionSpec(
                handler=consumer.handler,
                description=consumer.description,
                memory_mb=consumer.memory_mb,
                timeout=Duration.seconds(consumer.timeout_seconds),
                environment=environment,
            )
            return CascadeFunction(
                self, name, spec=spec, dependencies=dependencies, shared_environment=shared_environment
            )

        def consume(function: CascadeFunction, consumer: QueueConsumer, max_concurrency: int | None = None) -> None:
            function.function.add_event_source(
                event_sources.SqsEventSource(
                    storage.queues[consumer.queue.logical_name],
                    batch_size=consumer.batch_size,
                    max_concurrency=max_concurrency,
                    report_batch_item_failures=True,
                )
            )

        self.ingest = function("Ingest", INGEST_CONSUMER, {})
        self.worker = function("Worker", WORKER_CONSUMER, state_machine_environment)
        self.webhook = function("Webhook", WEBHOOK_CONSUMER, {})
        consume(self.ingest, INGEST_CONSUMER)
        consume(self.worker, WORKER_CONSUMER, worker_max_concurrency)
        consume(self.webhook, WEBHOOK_CONSUMER)
        self._grant(data, state_machine, api_function)
        self.alarms = {
            spec.logical_name: self._dead_letter_alarm(spec, storage.dead_letter_queues[spec.logical_name])
            for spec in QUEUES
        }

    def _grant(self, data: Data, state_machine: sfn.IStateMachine, api_function: CascadeFunction) -> None:
        tables = data.tables
        bucket = self.storage.files_bucket
        queues = self.storage.queues
        uploads = f"{UPLOADS_PREFIX}*"
        results = f"{RESULTS_PREFIX}*"

        # Ingest finalizes a job whose rows are all invalid or duplicates itself, so it writes results too.
        ingest = self.ingest.function
        bucket.grant_read(ingest, uploads)
        bucket.grant_put(ingest, results)
        tables["api_keys"].grant_read_data(ingest)
        tables["jobs"].grant_read_write_data(ingest)
        tables["job_rows"].grant_read_write_data(ingest)
        queues[ROWS.logical_name].grant_send_messages(ingest)
        queues[WEBHOOKS.logical_name].grant_send_messages(ingest)

        # The worker runs the waterfall through the state machine as the API does, and the state machine's own
        # functions charge. The worker reads the key's plan and this month's usage for spending caps, and
        # requeues parked rows when a job on hold resumes.
        worker = self.worker.function
        state_machine.grant_start_sync_execution(worker)
        bucket.grant_read(worker, uploads)
        bucket.grant_read(worker, results)
        bucket.grant_put(worker, results)
        tables["api_keys"].grant_read_data(worker)
        tables["jobs"].grant_read_write_data(worker)
        tables["job_rows"].grant_read_write_data(worker)
        tables["usage"].grant_read_data(worker)
        queues[ROWS.logical_name].grant_send_messages(worker)
        queues[WEBHOOKS.logical_name].grant_send_messages(worker)

        webhook = self.webhook.function
        tables["jobs"].grant_read_write_data(webhook)

        # The API creates, reads and cancels jobs and signs the upload and result URLs with its own role. Resuming
        # a job on hold requeues its parked rows, and canceling one sends its webhook.
        api = api_function.function
        bucket.grant_put(api, uploads)
        bucket.grant_read(api, results)
        tables["jobs"].grant_read_write_data(api)
        tables["job_rows"].grant_read_write_data(api)
        queues[ROWS.logical_name].grant_send_messages(api)
        queues[WEBHOOKS.logical_name].grant_send_messages(api)
        self._acknowledge_wildcards(data, api_function)

    def _acknowledge_wildcards(self, data: Data, api_function: CascadeFunction) -> None:
        """Acknowledge the wildcards that CDK's bucket and table grants write, on this construct and the API."""
        bucket = logical_id(self.storage.files_bucket)
        prefix_reason = (
            "The grant covers the objects under one prefix of the files bucket (uploads or results); object "
            "keys contain the key and job ids, so the grant cannot name them in advance."
        )
        action_reason = (
            "CDK's bucket grants name S3 actions with wildcards such as s3:GetObject* (GetObject, "
            "GetObjectVersion, GetObjectTagging and similar reads of one object); they stay within one prefix."
        )
        acknowledgments = [
            Acknowledgment(
                id=f"AwsSolutions::AwsSolutions-IAM5[Resource::<{bucket}.Arn>/{UPLOADS_PREFIX}*]", reason=prefix_reason
            ),
            Acknowledgment(
                id=f"AwsSolutions::AwsSolutions-IAM5[Resource::<{bucket}.Arn>/{RESULTS_PREFIX}*]", reason=prefix_reason
            ),
            index_grant_acknowledgment(data.tables["api_keys"], "Ingest and the worker"),
            index_grant_acknowledgment(data.tables["jobs"], "Bulk functions and the API"),
        ]
        for action in ("s3:GetObject*", "s3:GetBucket*", "s3:List*", "s3:Abort*"):
            acknowledgments.append(
                Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM5[Action::{action}]", reason=action_reason)
            )
        Validations.of(self).acknowledge(*acknowledgments)
        Validations.of(api_function).acknowledge(*acknowledgments)

    def _dead_letter_alarm(self, spec: QueueSpec, dead_letter_queue: sqs.Queue) -> cloudwatch.Alarm:
        # NOTE: the alarm has no action, so it notifies nobody until one is attached (an SNS topic, for example).
        return cloudwatch.Alarm(
            self,
            f"{spec.logical_name.title()}DeadLetterAlarm",
            alarm_description=f"Messages of the {spec.logical_name} queue failed {spec.max_receive_count} times and "
            "wait in its dead-letter queue; inspect them and redrive or delete them.",
            metric=dead_letter_queue.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(1), statistic=cloudwatch.Stats.MAXIMUM
            ),
            threshold=0,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
