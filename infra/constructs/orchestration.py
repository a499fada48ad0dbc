"""The waterfall state machine (Express) and the Lambda function behind each of its states."""

from __future__ import annotations

import json
import math

from aws_cdk import Acknowledgment, ArnFormat, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from cascade.settings import Settings
from cascade.waterfall.companies import BULK_LOOKUP_SECONDS
from infra.constructs.data import Data, index_grant_acknowledgment, logical_id
from infra.constructs.lambda_function import LOG_RETENTION, CascadeFunction, FunctionSpec
from infra.waterfall_definition import default_definition

# Express workflows run for at most 5 minutes; a synchronous enrichment has its own ~25 s deadline.
EXECUTION_TIMEOUT = Duration.minutes(5)
# Time the plan function allows on top of its company lookup, for the suppression and freshness reads.
PLAN_MARGIN_SECONDS = 5


class Orchestration(Construct):
    """One Express state machine whose every provider is its own Task state, from the generated definition."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        data: Data,
        settings: Settings,
        dependencies: lambda_.ILayerVersion,
        shared_environment: dict[str, str],
    ) -> None:
        super().__init__(scope, construct_id)

        def function(name: str, handler: str, description: str, timeout_seconds: int) -> CascadeFunction:
            return CascadeFunction(
                self,
                name,
                spec=FunctionSpec(
                    handler=handler,
                    description=description,
                    timeout=Duration.seconds(timeout_seconds),
                ),
                dependencies=dependencies,
                shared_environment=shared_environment,
            )

        # Timeouts nest: provider HTTP (connect + read) < step Lambda < its Task state (one second more, set by the
        # definition) < the execution < API Gateway's 29 s.
        http_seconds = settings.provider_connect_timeout_seconds + settings.provider_read_timeout_seconds
        step_timeout = math.ceil(http_seconds) + 1
        # The plan looks up the person's company in the registries. The lookup's budget is checked before each
        # registry request, so the last request may overrun it by one HTTP connect and read timeout.
        plan_timeout = math.ceil(BULK_LOOKUP_SECONDS + http_seconds) + PLAN_MARGIN_SECONDS
        self.plan = function("Plan", "cascade.handlers.waterfall_plan.handler", "Plans a waterfall run", plan_timeout)
        self.step = function(
            "Step", "cascade.handlers.waterfall_step.handler", "Calls one provider of a waterfall", step_timeout
        )
        self.record_failure = function(
            "RecordFailure", "cascade.handlers.waterfall_failure.handler", "Records a failed provider step", 10
        )
        self.settle = function("Settle", "cascade.handlers.waterfall_settle.handler", "Charges and stores a result", 15)

        tables = data.tables
        tables["freshness"].grant_read_data(self.plan.function)
        tables["suppressions"].grant_read_data(self.plan.function)
        tables["ledger"].grant_read_write_data(self.settle.function)
        tables["usage"].grant_read_write_data(self.settle.function)
        tables["freshness"].grant_read_write_data(self.settle.function)
        provider_secrets = Stack.of(self).format_arn(
            service="secretsmanager",
            resource="secret",
            resource_name=f"{settings.provider_secret_prefix}*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        for state_function in (self.plan, self.step):
            state_function.function.add_to_role_policy(
                iam.PolicyStatement(actions=["secretsmanager:GetSecretValue"], resources=[provider_secrets])
            )

        log_group = logs.LogGroup(self, "Logs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY)
        definition = default_definition(settings)
        self.state_machine = sfn.StateMachine(
            self,
            "Waterfall",
            state_machine_type=sfn.StateMachineType.EXPRESS,
            definition_body=sfn.DefinitionBody.from_string(json.dumps(definition)),
            definition_substitutions={
                "PlanFunctionArn": self.plan.function.function_arn,
                "StepFunctionArn": self.step.function.function_arn,
                "RecordFailureFunctionArn": self.record_failure.function.function_arn,
                "SettleFunctionArn": self.settle.function.function_arn,
            },
            timeout=EXECUTION_TIMEOUT,
            tracing_enabled=True,
            logs=sfn.LogOptions(destination=log_group, level=sfn.LogLevel.ALL, include_execution_data=False),
        )
        for state_function in (self.plan, self.step, self.record_failure, self.settle):
            state_function.function.grant_invoke(self.state_machine)
        self._acknowledge_wildcards(data, provider_secrets_prefix=settings.provider_secret_prefix)

    def _acknowledge_wildcards(self, data: Data, *, provider_secrets_prefix: str) -> None:
        """Acknowledge the three wildcard grants that cannot be narrowed, each on this construct only."""
        acknowledgments = [
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:"
                f"<AWS::AccountId>:secret:{provider_secrets_prefix}*]",
                reason="One secret per provider lives under this prefix; Secrets Manager appends a random suffix "
                "to every secret ARN, so the grant needs a trailing wildcard.",
            ),
            index_grant_acknowledgment(data.tables["ledger"], "Settle"),
        ]
        for state_function in (self.plan, self.step, self.record_failure, self.settle):
            acknowledgments.append(
                Acknowledgment(
                    id=f"AwsSolutions::AwsSolutions-IAM5[Resource::<{logical_id(state_function.function)}.Arn>:*]",
                    reason="The state machine may invoke any version or alias of this one function; grant_invoke "
                    "writes that as the function ARN followed by ':*'.",
                )
            )
        Validations.of(self).acknowledge(*acknowledgments)
