"""The public HTTP API: API Gateway REST API with access logs and tracing."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.constructs.lambda_function import LOG_RETENTION, CascadeFunction, FunctionSpec

# Bodies above this size are rejected by the handlers with 413; API Gateway's own cap is 10 MB.
THROTTLE_RATE_PER_SECOND = 100
THROTTLE_BURST = 200


class Api(Construct):
    """The REST API under ``/v1`` with its stage settings; routes are added by their concern."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        dependencies: lambda_.ILayerVersion,
        shared_environment: dict[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        access_logs = logs.LogGroup(self, "AccessLogs", retention=LOG_RETENTION, removal_policy=RemovalPolicy.DESTROY)
        self.rest_api = apigateway.RestApi(
            self,
            "RestApi",
            description="Cascade contact enrichment API",
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.DESTROY,
            deploy_options=apigateway.StageOptions(
                stage_name="prod",
                tracing_enabled=True,
                logging_level=apigateway.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,
                throttling_rate_limit=THROTTLE_RATE_PER_SECOND,
                throttling_burst_limit=THROTTLE_BURST,
                access_log_destination=apigateway.LogGroupLogDestination(access_logs),
                access_log_format=apigateway.AccessLogFormat.json_with_standard_fields(
                    caller=False,
                    http_method=True,
                    ip=False,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=False,
                ),
            ),
        )
        self.request_validator = self.rest_api.add_request_validator(
            "RequestValidator", validate_request_body=True, validate_request_parameters=True
        )
        self.v1 = self.rest_api.root.add_resource("v1")

        openapi = CascadeFunction(
            self,
            "OpenApi",
            spec=FunctionSpec(
                handler="cascade.handlers.openapi.handler",
                description="Serves GET /v1/openapi.json",
                memory_mb=256,
            ),
            dependencies=dependencies,
            shared_environment=shared_environment,
        )
        self.v1.add_resource("openapi.json").add_method(
            "GET",
            apigateway.LambdaIntegration(openapi.function),
            authorization_type=apigateway.AuthorizationType.NONE,
            request_validator=self.request_validator,
        )
