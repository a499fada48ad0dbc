"""The public HTTP API: API Gateway REST API with access logs and tracing."""

from __future__ import annotations

import json

from aws_cdk import Duration, RemovalPolicy, Validations
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from infra.constructs.data import Data, index_grant_acknowledgment
from infra.constructs.lambda_function import LOG_RETENTION, CascadeFunction, FunctionSpec

# Bodies above this size are rejected by the handlers with 413; API Gateway's own cap is 10 MB.
THROTTLE_RATE_PER_SECOND = 100
THROTTLE_BURST = 200


OPENAPI_PART = "openapi.json"


def api_routes() -> list[tuple[str, tuple[str, ...]]]:
    """Return (method, path parts below ``/v1``) of every authenticated route the API handler serves.

    The routes come from the OpenAPI document that the handler generates, so API Gateway, the local
    gateway and the document cannot disagree. ``/v1/openapi.json`` is left out: it is public.
    """
    from cascade.api.app import create_app  # noqa: PLC0415 - the API package loads only at synthesis
    from cascade.api.routes.openapi import openapi_document  # noqa: PLC0415
    from cascade.settings import Settings  # noqa: PLC0415

    document = json.loads(openapi_document(create_app(Settings()).resolver))
    routes: list[tuple[str, tuple[str, ...]]] = []
    for path, operations in sorted(document["paths"].items()):
        parts = tuple(path.removeprefix("/v1/").split("/"))
        if parts == (OPENAPI_PART,):
            continue
        routes.extend((method.upper(), parts) for method in sorted(operations))
    return routes


class Api(Construct):
    """The REST API under ``/v1`` with its stage settings; routes are added by their concern."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        data: Data,
        state_machine: sfn.IStateMachine,
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

        self.api_function = CascadeFunction(
            self,
            "Handler",
            spec=FunctionSpec(
                handler="cascade.handlers.api.handler",
                description="Serves the /v1 HTTP API",
                memory_mb=1024,
                # Under the idempotency claim's 60 s takeover time and above the 25 s synchronous deadline.
                timeout=Duration.seconds(29),
                environment={"CASCADE_WATERFALL_STATE_MACHINE_ARN": state_machine.state_machine_arn},
            ),
            dependencies=dependencies,
            shared_environment=shared_environment,
        )
        tables = data.tables
        tables["enrichments"].grant_read_write_data(self.api_function.function)
        tables["idempotency"].grant_read_write_data(self.api_function.function)
        tables["usage"].grant_read_data(self.api_function.function)
        state_machine.grant_start_sync_execution(self.api_function.function)

        self.authorizer_function = CascadeFunction(
            self,
            "Authorizer",
            spec=FunctionSpec(
                handler="cascade.handlers.authorizer.handler",
                description="Resolves Cascade API keys for API Gateway",
                memory_mb=256,
                timeout=Duration.seconds(5),
            ),
            dependencies=dependencies,
            shared_environment=shared_environment,
        )
        tables["api_keys"].grant_read_data(self.authorizer_function.function)
        Validations.of(self).acknowledge(index_grant_acknowledgment(tables["api_keys"], "The authorizer"))
        # API Gateway's result cache is off: it would call the authorizer only when every identity source
        # is present, and the key may come in either Authorization or x-api-key. The authorizer caches
        # key lookups itself for 60 seconds.
        authorizer = apigateway.RequestAuthorizer(
            self,
            "ApiKeyAuthorizer",
            handler=self.authorizer_function.function,
            identity_sources=[],
            results_cache_ttl=Duration.seconds(0),
        )
        self._add_problem_responses()

        integration = apigateway.LambdaIntegration(self.api_function.function)
        routes = api_routes()
        for method, path in routes:
            resource: apigateway.IResource = self.v1
            for part in path:
                resource = resource.get_resource(part) or resource.add_resource(part)
            resource.add_method(
                method,
                integration,
                authorizer=authorizer,
                authorization_type=apigateway.AuthorizationType.CUSTOM,
                request_validator=self.request_validator,
            )
        self.v1.add_resource(OPENAPI_PART).add_method(
            "GET",
            integration,
            authorization_type=apigateway.AuthorizationType.NONE,
            request_validator=self.request_validator,
        )

    def _add_problem_responses(self) -> None:
        """Make API Gateway's own rejections RFC 9457 problem documents, like the handlers' errors."""
        for response_type, status, slug, title, detail in _GATEWAY_PROBLEMS:
            body = {
                "type": f"urn:cascade:problem:{slug}",
                "title": title,
                "status": int(status),
                "detail": detail,
                "request_id": "$context.requestId",
            }
            self.rest_api.add_gateway_response(
                f"{slug.title().replace('-', '')}Response",
                type=response_type,
                status_code=status,
                templates={"application/problem+json": json.dumps(body)},
                response_headers={"Content-Type": "'application/problem+json'"},
            )


_GATEWAY_PROBLEMS = (
    (
        apigateway.ResponseType.UNAUTHORIZED,
        "401",
        "unauthenticated",
        "Missing or unknown API key",
        "Send your API key as 'Authorization: Bearer <key>' or in the x-api-key header.",
    ),
    (
        apigateway.ResponseType.ACCESS_DENIED,
        "403",
        "forbidden",
        "API key revoked",
        "This API key has been revoked; create a new key.",
    ),
    (
        apigateway.ResponseType.REQUEST_TOO_LARGE,
        "413",
        "request-too-large",
        "Request too large",
        "The request body is larger than API Gateway accepts; send a smaller body.",
    ),
)
